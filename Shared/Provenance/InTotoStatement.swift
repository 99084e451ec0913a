import Digests
import Foundation

/// An in-toto Statement v1 (in-toto/attestation `spec/v1/statement.md`) with an SLSA
/// Provenance v1 predicate.
public struct InTotoStatement: Codable, Sendable, Equatable {
    public var type = "https://in-toto.io/Statement/v1"
    public var subject: [ResourceDescriptor]
    public var predicateType = SLSAProvenance.predicateType
    public var predicate: SLSAProvenance

    enum CodingKeys: String, CodingKey {
        case type = "_type"
        case subject, predicateType, predicate
    }

    public init(subject: [ResourceDescriptor], predicate: SLSAProvenance) {
        self.subject = subject
        self.predicate = predicate
    }

    /// The statement's bytes as signed: compact JSON with sorted keys.
    public func encoded() throws -> [UInt8] {
        Array(try ProvenanceJSON.encoder.encode(self))
    }

    /// Signs the statement as a DSSE envelope of type `application/vnd.in-toto+json`.
    public func signed(with key: SigningKey) throws -> DSSEEnvelope {
        try DSSEEnvelope.signing(try encoded(), type: DSSEEnvelope.inTotoPayloadType, with: key)
    }

    /// The statement inside `envelope` once its signature verifies with `key`.
    public static func verified(_ envelope: DSSEEnvelope, with key: VerifyingKey) throws -> InTotoStatement {
        guard envelope.payloadType == DSSEEnvelope.inTotoPayloadType else {
            throw ProvenanceError.malformed("payload type \(envelope.payloadType), not \(DSSEEnvelope.inTotoPayloadType)")
        }
        let payload = try envelope.verifiedPayload(with: key)
        let statement: InTotoStatement
        do {
            statement = try JSONDecoder().decode(InTotoStatement.self, from: Data(payload))
        } catch {
            throw ProvenanceError.malformed("the payload is not an in-toto statement with an SLSA v1 predicate")
        }
        guard statement.type == "https://in-toto.io/Statement/v1", statement.predicateType == SLSAProvenance.predicateType
        else { throw ProvenanceError.malformed("statement type \(statement.type), predicate \(statement.predicateType)") }
        return statement
    }

    /// Throws unless a subject carries `digest` (`sha256:<hex>` or bare hex).
    public func requireSubject(sha256 digest: String) throws(ProvenanceError) {
        let hex = digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : digest
        guard subject.contains(where: { $0.digest["sha256"] == hex }) else {
            throw .subjectMismatch("no subject has sha256 \(hex)")
        }
    }
}

/// An in-toto ResourceDescriptor: what a subject, dependency or byproduct is.
public struct ResourceDescriptor: Codable, Sendable, Equatable {
    public var name: String?
    public var uri: String?
    public var digest: [String: String]
    public var mediaType: String?
    public var annotations: [String: String]?

    public init(
        name: String? = nil, uri: String? = nil, digest: [String: String] = [:], mediaType: String? = nil,
        annotations: [String: String]? = nil
    ) {
        self.name = name
        self.uri = uri
        self.digest = digest
        self.mediaType = mediaType
        self.annotations = annotations
    }

    /// A `sha256:<hex>` digest as the descriptor's `{"sha256": "<hex>"}`.
    public static func sha256(_ digest: String) -> [String: String] {
        ["sha256": digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : digest]
    }
}
