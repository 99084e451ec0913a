import Foundation
import RequestValidation
import ServiceKit
import StageClients

/// The parts of each stage's result the next stages use. The whole result is recorded
/// on the job as the service answered it.
struct CheckoutOutcome: Decodable {
    var commit: String
    var context: ArtifactRef
    var dockerfile: String
}

struct RewriteOutcome: Codable {
    struct Change: Codable {
        var line: Int
        var instruction: String
        var from: String
        var to: String
        /// Where the rewrite was written (`reference`, `prefix`, `arg_default`, `resolved`);
        /// absent in results recorded before it was reported.
        var form: String?
    }

    struct PulledImage: Codable {
        var line: Int
        var instruction: String
        var reference: String
    }

    var dockerfile: String
    var changes: [Change]
    var buildArgs: [String: String]
    var pulledImages: [PulledImage]

    enum CodingKeys: String, CodingKey {
        case dockerfile, changes
        case buildArgs = "build_args"
        case pulledImages = "pulled_images"
    }
}

struct BuildOutcome: Decodable {
    struct Builder: Decodable {
        var name: String
        var version: String
    }

    var image: ArtifactRef
    /// Where build-service put the build's metadata (base images as pulled); absent in older results.
    var metadataKey: String?
    var builder: Builder?

    enum CodingKeys: String, CodingKey {
        case image, builder
        case metadataKey = "metadata_key"
    }
}

struct PushOutcome: Decodable {
    var manifestDigest: String
    var reference: String

    enum CodingKeys: String, CodingKey {
        case reference
        case manifestDigest = "manifest_digest"
    }
}

/// The job's own result: where the image is, and where it was pushed.
struct JobOutcome: Encodable {
    var commit: String
    var image: ArtifactRef
    var manifestDigest: String?
    var reference: String?
    var reusedFrom: String?
    var provenance: ProvenanceRecord?

    enum CodingKeys: String, CodingKey {
        case commit, image, reference, provenance
        case manifestDigest = "manifest_digest"
        case reusedFrom = "reused_from"
    }
}

extension JSONNode {
    /// Decodes this value as `T` (through its JSON text).
    func decode<T: Decodable>(as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONResponse<JSONNode>.encoder.encode(self))
    }

    func text() throws -> String {
        String(decoding: try JSONResponse<JSONNode>.encoder.encode(self), as: UTF8.self)
    }
}

extension JSONNode {
    static func encoding(_ value: some Encodable) throws -> JSONNode {
        try JSONDecoder().decode(JSONNode.self, from: JSONResponse<JSONNode>.encoder.encode(value))
    }

    /// An object with `fields` added (or replaced); other values unchanged.
    func merging(_ fields: [String: JSONNode]) -> JSONNode {
        guard case .object(var object) = self else { return self }
        object.merge(fields) { _, new in new }
        return .object(object)
    }
}
