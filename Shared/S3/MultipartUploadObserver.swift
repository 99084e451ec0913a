/// Told when a multipart upload starts and when it ends (completed or aborted), so a
/// process can keep a ledger of its open uploads: one it dies in the middle of is
/// left in S3, parts and all, until someone aborts it (see artifact-service's sweeper).
public protocol MultipartUploadObserver: Sendable {
    /// The upload exists in S3 from now on. An error is logged, not thrown to the upload.
    func started(key: String, uploadID: String) async throws
    /// The upload was completed or aborted.
    func ended(key: String, uploadID: String) async throws
}
