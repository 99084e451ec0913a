import Digests
import Foundation

/// A DSSE envelope (secure-systems-lab/dsse, protocol v1): a payload, its type, and signatures
/// over the pre-authentication encoding of both.
public struct DSSEEnvelope: Codable, Sendable, Equatable {
    public struct Signature: Codable, Sendable, Equatable {
        public var keyid: String
        /// Base64 of the signature bytes.
        public var sig: String
    }

    /// Base64 of the payload bytes.
    public var payload: String
    public var payloadType: String
    public var signatures: [Signature]

    /// The in-toto payload type.
    public static let inTotoPayloadType = "application/vnd.in-toto+json"
    /// The media type of an envelope stored as a blob (OCI layer, artifact store).
    public static let mediaType = "application/vnd.dsse.envelope.v1+json"

    /// Signs `payload` under `payloadType` with `key`.
    public static func signing(
        _ payload: [UInt8], type payloadType: String, with key: SigningKey
    ) throws(SigningKeyError) -> DSSEEnvelope {
        let signature = try key.sign(pae(type: payloadType, body: payload))
        return DSSEEnvelope(
            payload: Data(payload).base64EncodedString(), payloadType: payloadType,
            signatures: [Signature(keyid: key.verifyingKey.keyID, sig: Data(signature).base64EncodedString())])
    }

    /// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal.
    public static func pae(type: String, body: [UInt8]) -> [UInt8] {
        Array("DSSEv1 \(type.utf8.count) \(type) \(body.count) ".utf8) + body
    }

    /// The payload bytes when a signature verifies with `key`; throws otherwise.
    public func verifiedPayload(with key: VerifyingKey) throws(ProvenanceError) -> [UInt8] {
        guard let payload = Data(base64Encoded: payload).map(Array.init) else {
            throw .malformed("the envelope's payload is not base64")
        }
        let message = Self.pae(type: payloadType, body: payload)
        let verified = signatures.contains { signature in
            guard let bytes = Data(base64Encoded: signature.sig) else { return false }
            return key.isValidSignature(Array(bytes), for: message)
        }
        guard verified else { throw .badSignature(keyID: key.keyID) }
        return payload
    }

    /// The envelope as stored: compact JSON with sorted keys.
    public func encoded() throws -> [UInt8] {
        Array(try ProvenanceJSON.encoder.encode(self))
    }
}

public enum ProvenanceError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case badSignature(keyID: String)
    case subjectMismatch(String)

    public var description: String {
        switch self {
        case .malformed(let why): "the provenance is malformed: \(why)"
        case .badSignature(let keyID): "no signature of the envelope verifies with key \(keyID)"
        case .subjectMismatch(let why): "the provenance does not describe this artifact: \(why)"
        }
    }
}

enum ProvenanceJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
