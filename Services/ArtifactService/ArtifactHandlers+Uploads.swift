import ArtifactAPI
import Foundation
import HTTPTypes
import Logging
import OpenAPIRuntime
import Records
import ServiceKit

extension ArtifactHandlers {
    /// Streams the body into the store whatever its type, which is recorded as the media type.
    func putArtifact(_ input: Operations.PutArtifact.Input) async throws -> Operations.PutArtifact.Output {
        let key = try ArtifactKey(input.path.key)
        let expected = try ExpectedDigest(checksum: input.headers.xChecksumSha256, digest: input.headers.digest)
        let jobID = try input.query.jobId.map { text in
            guard let id = UUID(uuidString: text) else {
                throw ServiceError.badRequest("job_id must be a UUID", code: "INVALID_JOB_ID")
            }
            return id
        }
        let mediaType = ArtifactMediaType.received ?? "application/octet-stream"
        let body =
            switch input.body {
            case .binary(let body), .any(let body): body
            }
        let stored: StoredContent
        do {
            stored = try await backend.store(
                ChunkSequence(requestBody: body), as: key, mediaType: mediaType, expectedSHA256: expected?.hex)
        } catch let failure as RequestBodyFailure {
            // The client's side (it went away, the body was malformed): answered as any error is.
            throw failure.underlying
        } catch ArtifactUploadError.digestMismatch(let expected, let actual) {
            throw ServiceError(
                .badRequest, code: "DIGEST_MISMATCH",
                detail: "the body's SHA-256 is \(actual), the request said \(expected); nothing was stored")
        } catch let error as ObjectTreeError {
            throw error.serviceError(logger: requestLogger)
        } catch {
            requestLogger.error("store failed", metadata: ["key": "\(key)", "error": "\(error)"])
            throw ServiceError(.serviceUnavailable, code: "STORE_UNAVAILABLE", detail: "the artifact store did not take the upload")
        }
        let record = try await index.record(
            ArtifactRecord(key: key.value, size: stored.size, sha256: stored.sha256, mediaType: mediaType, jobID: jobID))
        return .created(.init(headers: .init(location: key.path), body: .json(record.typed)))
    }
}
