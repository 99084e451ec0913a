import Records
import S3

/// The S3 client's observer: writes this process's open multipart uploads into the ledger
/// (removed again when they complete or abort), where `UploadSweeper` heartbeats them.
struct UploadLedgerObserver: MultipartUploadObserver {
    let ledger: MultipartUploadLedger
    /// This process (`CommonConfiguration.processOwner`).
    let owner: String

    func started(key: String, uploadID: String) async throws {
        try await ledger.opened(key: key, uploadID: uploadID, owner: owner)
    }

    func ended(key: String, uploadID: String) async throws {
        try await ledger.closed(uploadID: uploadID)
    }
}
