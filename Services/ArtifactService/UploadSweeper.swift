import Foundation
import Logging
import Records
import S3
import ServiceKit
import ServiceLifecycle
import Synchronization

/// Keeps this process's open S3 multipart uploads in the ledger, heartbeats them, and
/// aborts the uploads of processes that died mid-upload (a kill -9, a lost node): their
/// parts would otherwise stay in the bucket, unseen and paid for, until a lifecycle rule.
final class UploadSweeper: MultipartUploadObserver, Service {
    private let ledger: MultipartUploadLedger
    private let owner: String
    private let staleAfter: Duration
    private let logger: Logger
    /// Set once the S3 client exists (it is made with this as its observer).
    private let client = Mutex<S3Client?>(nil)

    init(ledger: MultipartUploadLedger, owner: String, staleAfter: Duration, logger: Logger) {
        self.ledger = ledger
        self.owner = "\(owner)#\(UUID().uuidString.prefix(8).lowercased())"
        self.staleAfter = staleAfter
        self.logger = logger
    }

    func attach(_ client: S3Client) { self.client.withLock { $0 = client } }

    func started(key: String, uploadID: String) async throws {
        try await ledger.opened(key: key, uploadID: uploadID, owner: owner)
    }

    func ended(key: String, uploadID: String) async throws {
        try await ledger.closed(uploadID: uploadID)
    }

    /// Heartbeats and sweeps every third of the stale age, from start-up on.
    func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                do {
                    try await ledger.heartbeat(owner: owner)
                    try await sweep()
                } catch {
                    logger.warning("upload sweep failed", metadata: ["error": "\(type(of: error))"])
                }
                try? await Task.sleep(for: staleAfter / 3)
            }
        }
    }

    func sweep() async throws {
        guard let client = client.withLock({ $0 }) else { return }
        for entry in try await ledger.abandoned(olderThan: staleAfter) {
            do {
                try await client.abortMultipartUpload(key: entry.key, uploadID: entry.uploadID)
            } catch let error as S3Error where error.status == 404 {
                // Already completed or aborted (another replica swept it first).
            }
            try await ledger.closed(uploadID: entry.uploadID)
            logger.notice("aborted an abandoned multipart upload", metadata: ["s3.key": "\(entry.key)"])
        }
    }
}
