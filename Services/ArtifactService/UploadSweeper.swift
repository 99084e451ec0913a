import Logging
import Records
import S3
import ServiceKit
import ServiceLifecycle

/// Heartbeats this process's open S3 multipart uploads in the ledger and aborts the uploads
/// of processes that died mid-upload (a kill -9, a lost node): their parts would otherwise
/// stay in the bucket, unseen and paid for, until a lifecycle rule.
struct UploadSweeper: Service {
    let client: S3Client
    let uploads: UploadLedgerObserver
    let staleAfter: Duration
    let logger: Logger

    /// Heartbeats and sweeps every third of the stale age, from start-up on.
    func run() async throws {
        await repeatUntilShutdown(every: staleAfter / 3, logger: logger, failure: "upload sweep failed") {
            try await uploads.ledger.heartbeat(owner: uploads.owner)
            try await sweep()
        }
    }

    func sweep() async throws {
        for entry in try await uploads.ledger.abandoned(olderThan: staleAfter) {
            do {
                try await client.abortMultipartUpload(key: entry.key, uploadID: entry.uploadID)
            } catch let error as S3Error where error.status == 404 {
                // Already completed or aborted (another replica swept it first).
            }
            try await uploads.ledger.closed(uploadID: entry.uploadID)
            logger.notice("aborted an abandoned multipart upload", metadata: ["s3.key": "\(entry.key)"])
        }
    }
}
