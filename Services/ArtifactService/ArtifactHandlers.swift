import ArtifactAPI
import Foundation
import HTTPTypes
import Logging
import OCI
import Records
import ServiceKit
import StageRuns

/// artifact-service's operations of openapi/artifact.yaml: the artifact store over HTTP (bytes
/// stream in and out, every artifact is recorded in PostgreSQL, SHA-256 and size computed on the
/// way in), presigned URLs, pushes of image tarballs to registries as runs, and attestations.
/// One file per concern: `+Uploads`, `+Downloads`, `+Artifacts`, `+Pushes`, `+Attestations`.
struct ArtifactHandlers: APIProtocol {
    let backend: any ArtifactBackend
    let index: ArtifactIndex
    let registry: RegistryClient
    /// `/v1/pushes`.
    let pushes: RunResource
    let presignMaxSeconds: Int
    let logger: Logger

    /// The logger of the request being handled (with its `request.id`).
    var requestLogger: Logger { RequestLogger.current ?? logger }

    /// The record of `key`, or 404.
    func record(of key: ArtifactKey) async throws -> ArtifactRecord {
        guard let record = try await index.find(key.value) else { throw ServiceError.notFound("no artifact \(key)") }
        return record
    }

    /// A backend call whose filesystem errors are answered as the client should hear them.
    func answeringStoreErrors<T>(_ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch let error as ObjectTreeError {
            throw error.serviceError(logger: requestLogger)
        }
    }
}

extension ArtifactRecord {
    /// The record as openapi/artifact.yaml's `Artifact` (the job id as the index's `UUID` writes it).
    var typed: Components.Schemas.Artifact {
        Components.Schemas.Artifact(
            key: key, size: Int(size), sha256: sha256, mediaType: mediaType, jobId: jobID?.uuidString, createdAt: createdAt)
    }
}
