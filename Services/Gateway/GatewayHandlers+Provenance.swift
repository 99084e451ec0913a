import Foundation
import GatewayAPI
import HTTPTypes
import Records
import ServiceKit
import StageClients

/// `GET /v1/jobs/{id}/provenance`: the job's DSSE envelope (in-toto/SLSA statement) as stored
/// beside its image.
extension GatewayHandlers {
    /// Envelopes are small (a few kB); anything larger is not one.
    static let maxEnvelopeBytes = 1 << 20

    func getJobProvenance(_ input: Operations.GetJobProvenance.Input) async throws -> Operations.GetJobProvenance.Output {
        let job = try await store.job(named: input.path.id)
        guard job.state == .succeeded, let key = Self.provenanceKey(of: job) else {
            throw ServiceError.notFound(
                "job \(job.id.uuidString.lowercased()) has no provenance (it has not succeeded, or the gateway has no PROVENANCE_SIGNING_KEY_FILE)",
                code: "PROVENANCE_NOT_FOUND")
        }
        let path = NSTemporaryDirectory() + "/gateway-provenance-\(UUID().uuidString.lowercased()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            try await artifacts.download(key, to: path)
        } catch let failure as RunFailure where failure.code == "ARTIFACT_NOT_FOUND" {
            throw ServiceError.notFound("the provenance of this job is no longer stored", code: "PROVENANCE_NOT_FOUND")
        } catch let failure as RunFailure {
            throw ServiceError(.serviceUnavailable, code: "STORE_UNAVAILABLE", detail: failure.message)
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        guard bytes.count <= Self.maxEnvelopeBytes else {
            throw ServiceError(.internalServerError, code: "PROVENANCE_INVALID", detail: "the stored provenance is too large")
        }
        guard let envelope = try? JSONDecoder().decode(Components.Schemas.DSSEEnvelope.self, from: bytes) else {
            throw ServiceError(.internalServerError, code: "PROVENANCE_INVALID", detail: "the stored provenance is not a DSSE envelope")
        }
        return .ok(.init(body: .json(envelope)))
    }

    /// `result.provenance.key` of a job's result.
    static func provenanceKey(of job: Job) -> String? {
        struct Result: Decodable {
            struct Provenance: Decodable { var key: String }
            var provenance: Provenance?
        }
        return job.result.flatMap { try? JSONDecoder().decode(Result.self, from: Data($0.utf8)) }?.provenance?.key
    }
}
