import ArtifactAPI
import Digests
import Foundation
import GatewayAPI
import Provenance
import Records
import ServiceKit
import StageClients

/// Where a job's signed provenance is, as the job's result records it.
public struct ProvenanceRecord: Codable, Sendable, Equatable {
    /// The DSSE envelope's key in the artifact store, beside the image tarball.
    public var key: String
    public var sha256: String
    /// The signing key's id (SHA-256 of its public key's DER), as the envelope names it.
    public var keyID: String
    /// The envelope in the registry beside the pushed image, when the job pushed.
    public var attestation: PushedAttestation?

    enum CodingKeys: String, CodingKey {
        case key, sha256, attestation
        case keyID = "key_id"
    }
}

/// The envelope attached to the pushed manifest, as artifact-service's `POST /v1/attestations` answers.
public struct PushedAttestation: Codable, Sendable, Equatable {
    public var manifestDigest: String
    public var reference: String
    public var fallbackTag: String?

    enum CodingKeys: String, CodingKey {
        case reference
        case manifestDigest = "manifest_digest"
        case fallbackTag = "fallback_tag"
    }
}

/// Signs a finished job's provenance and stores the envelope beside the image tarball.
struct ProvenanceRecorder: Sendable {
    let key: SigningKey
    let builderID: String
    let services: StageServices

    func record(
        jobID: UUID, request: BuildJobRequest, progress: JobProgress, stages: [JobStage], driver: String,
        masker: SecretMasker
    ) async throws -> ProvenanceRecord {
        let build = try progress.required(\.build, "build")
        var metadata: BuildMetadata?
        if let metadataKey = build.metadataKey {
            metadata = try await download(metadataKey, as: BuildMetadata.self)
        }
        let builder = ProvenanceStatementBuilder(
            jobID: jobID, request: request, checkout: try progress.required(\.checkout, "checkout"),
            rewrite: try progress.required(\.rewrite, "rewrite"), build: build, push: progress.push,
            reusedFrom: progress.reusedFrom, stages: stages, metadata: metadata, driver: driver, builderID: builderID)
        // The request as recorded holds no secret value; masking is the second line all the same.
        let statement = try masker.mask(jsonText: String(decoding: try builder.statement().encoded(), as: UTF8.self))
        let envelope: [UInt8]
        do {
            envelope = try DSSEEnvelope.signing(
                Array(statement.utf8), type: DSSEEnvelope.inTotoPayloadType, with: key
            ).encoded()
        } catch {
            throw RunFailure(code: "PROVENANCE_FAILED", message: "the provenance could not be signed: \(error)", retryable: false)
        }
        let stored = try await upload(envelope, as: Self.key(of: jobID, request: request), jobID: jobID)
        var record = ProvenanceRecord(key: stored.key, sha256: stored.sha256, keyID: key.verifyingKey.keyID)
        if let push = progress.push {
            let attached = try await services.artifact.call("attachAttestation") {
                try await $0.attachAttestation(body: .json(.init(artifactKey: stored.key, subject: push.reference))).created.body.json
            }
            record.attestation = PushedAttestation(
                manifestDigest: attached.manifestDigest, reference: attached.reference, fallbackTag: attached.fallbackTag)
        }
        return record
    }

    /// `images/<workload>/<service>/<job id>.intoto.json`: beside the tarball a fresh build
    /// writes, and the job's own even when it reused another job's image.
    static func key(of jobID: UUID, request: BuildJobRequest) -> String {
        "images/\(request.workload)/\(request.service)/\(jobID.uuidString.lowercased()).intoto.json"
    }

    private func upload(_ bytes: [UInt8], as key: String, jobID: UUID) async throws -> ArtifactRef {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try await services.store.upload(file: path, as: key, contentType: "application/json", jobID: jobID)
    }

    private func download<T: Decodable>(_ key: String, as type: T.Type) async throws -> T {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await services.store.download(key, to: path)
        do {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw RunFailure(code: "PROVENANCE_FAILED", message: "the build's metadata \(key) is unreadable", retryable: false)
        }
    }

    private func temporaryPath() -> String {
        NSTemporaryDirectory() + "/buildchain-provenance-\(UUID().uuidString.lowercased()).json"
    }
}
