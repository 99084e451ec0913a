import Digests
import Foundation
import HTTPClient
import Logging

/// Where an artifact attached to an image manifest went.
public struct AttachResult: Sendable, Equatable {
    /// `sha256:<hex>` of the referrer manifest (pushed by digest).
    public let manifestDigest: String
    /// The fallback tag (`sha256-<hex>.att`) when the registry did not take the `subject`
    /// into a referrers index (no `OCI-Subject` answer); nil when it did.
    public let fallbackTag: String?
}

extension RegistryClient {
    /// `application/vnd.oci.empty.v1+json`: the two bytes `{}`, the config of an artifact manifest.
    static let emptyConfig: [UInt8] = Array("{}".utf8)
    public static let emptyConfigMediaType = "application/vnd.oci.empty.v1+json"

    /// The tag the distribution spec's referrers tag schema gives `subject` (`sha256:<hex>`),
    /// with the `.att` suffix attestations carry.
    public static func attestationTag(of subject: String) -> String {
        subject.replacingOccurrences(of: ":", with: "-") + ".att"
    }

    /// Attaches `artifact` to the manifest `subject` names by digest, as an OCI 1.1 referrer: an
    /// image manifest of `artifactType` whose one layer is the artifact, with an empty config and
    /// the subject's descriptor, pushed by digest. When the registry does not answer `OCI-Subject`
    /// (it has no referrers API), the manifest is also tagged `sha256-<hex>.att`.
    public func attach(_ artifact: [UInt8], artifactType: String, to subject: OCIReference) async throws -> AttachResult {
        guard let subjectDigest = subject.digest else {
            throw RegistryError(
                code: "DIGEST_INVALID", status: nil, message: "the subject must name a manifest by digest",
                operation: "attach to \(subject)")
        }
        let target = Target(subject, client: self)
        let described = try await manifest(subjectDigest, at: target, scopes: target.pushScope)
        let upload = BlobUpload(target: target, scopes: target.pushScope, mountFrom: [], chunkSize: nil, progress: { _ in })
        let layer = ReferrerManifest.Descriptor(artifactType, bytes: artifact)
        let config = ReferrerManifest.Descriptor(Self.emptyConfigMediaType, bytes: Self.emptyConfig)
        for (descriptor, bytes) in [(layer, artifact), (config, Self.emptyConfig)] {
            _ = try await upload.push(.init(digest: descriptor.digest, size: descriptor.size, source: .bytes(bytes)))
        }
        let referrer = ReferrerManifest(
            artifactType: artifactType, config: config, layers: [layer],
            subject: .init(mediaType: described.mediaType, digest: subjectDigest, size: Int64(described.bytes.count)))
        let bytes = referrer.encoded()
        let digest = "sha256:" + SHA256.hash(bytes).hex
        let answer = try await putManifest(bytes, as: digest, at: target)
        var fallbackTag: String?
        if answer.headers["OCI-Subject"] == nil {
            fallbackTag = Self.attestationTag(of: subjectDigest)
            _ = try await putManifest(bytes, as: fallbackTag!, at: target)
        }
        logger.info(
            "artifact attached",
            metadata: ["subject": "\(subject)", "digest": "\(digest)", "fallback.tag": "\(fallbackTag ?? "-")"])
        return AttachResult(manifestDigest: digest, fallbackTag: fallbackTag)
    }

    /// The artifacts of `artifactType` attached to the manifest `subject` names by digest: found
    /// with the referrers API, else through the `sha256-<hex>.att` tag; each one's layer bytes.
    public func attachedArtifacts(of subject: OCIReference, artifactType: String) async throws -> [[UInt8]] {
        guard let subjectDigest = subject.digest else {
            throw RegistryError(
                code: "DIGEST_INVALID", status: nil, message: "the subject must name a manifest by digest",
                operation: "referrers of \(subject)")
        }
        let target = Target(subject, client: self)
        let operation = "referrers of \(subjectDigest)"
        let query = RegistryAuth.formEncode([("artifactType", artifactType)])
        let listed = try await target.send(
            "GET", "/referrers/\(subjectDigest)?\(query)", headers: ["Accept": MediaType.ociIndex], scopes: target.pullScope,
            operation: operation)
        var manifests: [String] = []
        switch listed.status {
        case 200:
            let index = try Self.decode(ReferrersIndex.self, listed.body, operation: operation)
            manifests = index.manifests.filter { $0.artifactType == artifactType }.map(\.digest)
        case 404:
            manifests = [Self.attestationTag(of: subjectDigest)]
        default:
            throw target.failure(listed, operation: operation)
        }
        var artifacts: [[UInt8]] = []
        for reference in manifests {
            let fetched: (mediaType: String, bytes: [UInt8])
            do {
                fetched = try await manifest(reference, at: target, scopes: target.pullScope)
            } catch let error as RegistryError where error.code == "MANIFEST_UNKNOWN" {
                continue
            }
            let referrer = try Self.decode(ReferrerManifest.self, fetched.bytes, operation: operation)
            guard referrer.artifactType == artifactType || referrer.layers.first?.mediaType == artifactType,
                referrer.subject?.digest == subjectDigest
            else { continue }
            for layer in referrer.layers where layer.mediaType == artifactType {
                artifacts.append(try await blob(layer, at: target))
            }
        }
        return artifacts
    }

    /// A manifest's media type and bytes, checked against `reference` when that is a digest.
    private func manifest(_ reference: String, at target: Target, scopes: [String]) async throws
        -> (mediaType: String, bytes: [UInt8])
    {
        let operation = "GET manifest \(reference)"
        let response = try await target.send(
            "GET", "/manifests/\(reference)", headers: ["Accept": MediaType.anyManifest.joined(separator: ", ")],
            scopes: scopes, operation: operation)
        guard response.status == 200 else {
            throw target.failure(response, operation: operation, notFound: "MANIFEST_UNKNOWN")
        }
        if reference.hasPrefix("sha256:"), "sha256:" + SHA256.hash(response.body).hex != reference {
            throw RegistryError(
                code: "DIGEST_INVALID", status: 200, message: "the registry's manifest bytes are not \(reference)",
                operation: operation)
        }
        let mediaType = response.headers["Content-Type"] ?? MediaType.ociManifest
        return (mediaType, response.body)
    }

    private func putManifest(_ bytes: [UInt8], as reference: String, at target: Target) async throws
        -> BufferedClientResponse
    {
        let operation = "PUT manifest \(reference)"
        let response = try await target.send(
            "PUT", "/manifests/\(reference)", headers: ["Content-Type": MediaType.ociManifest], body: .bytes(bytes),
            scopes: target.pushScope, operation: operation)
        guard response.status == 201 || response.status == 200 else { throw target.failure(response, operation: operation) }
        return response
    }

    /// A blob's bytes, checked against its descriptor's digest.
    private func blob(_ descriptor: ReferrerManifest.Descriptor, at target: Target) async throws -> [UInt8] {
        let operation = "GET blob \(descriptor.digest)"
        let response = try await target.send("GET", "/blobs/\(descriptor.digest)", scopes: target.pullScope, operation: operation)
        guard response.status == 200 else { throw target.failure(response, operation: operation, notFound: "BLOB_UNKNOWN") }
        guard "sha256:" + SHA256.hash(response.body).hex == descriptor.digest else {
            throw RegistryError(
                code: "DIGEST_INVALID", status: 200, message: "the registry's blob bytes are not \(descriptor.digest)",
                operation: operation)
        }
        return response.body
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], operation: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw RegistryError(code: "MANIFEST_INVALID", status: 200, message: "unreadable JSON", operation: operation)
        }
    }
}

/// An OCI 1.1 artifact manifest: an image manifest with `artifactType` and `subject`.
struct ReferrerManifest: Codable {
    struct Descriptor: Codable {
        var mediaType: String
        var digest: String
        var size: Int64
        var artifactType: String?

        init(mediaType: String, digest: String, size: Int64) {
            self.mediaType = mediaType
            self.digest = digest
            self.size = size
        }

        init(_ mediaType: String, bytes: [UInt8]) {
            self.init(mediaType: mediaType, digest: "sha256:" + SHA256.hash(bytes).hex, size: Int64(bytes.count))
        }
    }

    var schemaVersion = 2
    var mediaType = MediaType.ociManifest
    var artifactType: String?
    var config: Descriptor
    var layers: [Descriptor]
    var subject: Descriptor?

    /// The bytes pushed, once: the registry names the manifest by their SHA-256.
    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Plain strings and integers cannot fail to encode.
        return Array(try! encoder.encode(self))
    }
}

/// The referrers API's answer: an image index of the referrers' descriptors.
struct ReferrersIndex: Decodable {
    var manifests: [ReferrerManifest.Descriptor]
}
