/// What a push did, for run records and build metadata.
public struct PushResult: Sendable, Equatable {
    /// The destination with the pushed manifest's digest added.
    public let reference: OCIReference
    /// `sha256:<hex>` of the manifest bytes pushed.
    public let manifestDigest: String
    public let manifestMediaType: String
    public let manifestSize: Int
    /// Blob bytes sent (skipped and mounted blobs cost none).
    public let bytesUploaded: Int64
    public let blobsUploaded: Int
    /// Blobs the repository already had (`HEAD` answered 200).
    public let blobsSkipped: Int
    /// Blobs mounted from another repository of the same registry.
    public let blobsMounted: Int
}

/// Progress of a push, in the order things happen for each blob. Events of
/// different blobs interleave when blobs go up concurrently.
public enum PushEvent: Sendable, Equatable {
    /// The repository already had the blob.
    case blobSkipped(digest: String, size: Int64)
    case blobMounted(digest: String, size: Int64, from: String)
    case blobUploadStarted(digest: String, size: Int64)
    /// After each chunk of a chunked upload.
    case blobUploadProgress(digest: String, sent: Int64, size: Int64)
    case blobUploaded(digest: String, size: Int64)
    case manifestPushed(digest: String, reference: String)
}
