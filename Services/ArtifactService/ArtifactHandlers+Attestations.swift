import ArtifactAPI
import HTTPClient
import HTTPTypes
import OCI
import ServiceKit

extension ArtifactHandlers {
    /// An envelope is a few kilobytes; the bound keeps a wrong key from pulling a tarball into memory.
    static let maxEnvelopeBytes: Int64 = 1 << 20
    static let attestationType = "application/vnd.dsse.envelope.v1+json"

    /// Attaches a stored signed envelope to a pushed image manifest in its registry, as an OCI 1.1
    /// referrer (with the `sha256-<hex>.att` tag on registries without the referrers API). Here
    /// because only this service holds registry credentials.
    func attachAttestation(_ input: Operations.AttachAttestation.Input) async throws -> Operations.AttachAttestation.Output {
        guard case .json(let body) = input.body else { throw ServiceError.badRequest("expected a JSON body") }
        let key = try ArtifactKey(body.artifactKey)
        let subject = try OCIReference(requestField: "subject", body.subject, code: "INVALID_SUBJECT")
        guard let digest = subject.digest else {
            throw ServiceError.badRequest("subject must name a manifest by digest (…@sha256:<hex>)", code: "INVALID_SUBJECT")
        }
        let envelope = try await envelope(key)
        let attached: AttachResult
        do {
            attached = try await registry.attach(envelope, artifactType: Self.attestationType, to: subject)
        } catch let error as RegistryError {
            if ["MANIFEST_UNKNOWN", "NAME_UNKNOWN", "NOT_FOUND"].contains(error.code) {
                throw ServiceError(.notFound, code: "SUBJECT_NOT_FOUND", detail: error.description)
            }
            throw ServiceError(.badGateway, code: "REGISTRY_FAILED", detail: error.description)
        } catch let error as HTTPClientError {
            throw ServiceError(.badGateway, code: "REGISTRY_UNAVAILABLE", detail: error.description)
        }
        return .created(
            .init(
                body: .json(
                    .init(
                        subject: "\(subject.registry)/\(subject.repository)@\(digest)", artifactType: Self.attestationType,
                        manifestDigest: attached.manifestDigest,
                        reference: "\(subject.registry)/\(subject.repository)@\(attached.manifestDigest)",
                        fallbackTag: attached.fallbackTag))))
    }

    private func envelope(_ key: ArtifactKey) async throws -> [UInt8] {
        guard let stream = try await backend.read(key, range: nil) else {
            throw ServiceError.notFound("no artifact \(key)", code: "ARTIFACT_NOT_FOUND")
        }
        guard stream.totalSize <= Self.maxEnvelopeBytes else {
            throw ServiceError.badRequest(
                "\(key) holds \(stream.totalSize) bytes, more than an envelope's \(Self.maxEnvelopeBytes)", code: "ARTIFACT_TOO_LARGE")
        }
        var bytes: [UInt8] = []
        for try await chunk in stream.chunks { bytes.append(contentsOf: chunk) }
        return bytes
    }
}
