import COpenSSL

/// Why a key cannot be read or used. Never carries key material.
public enum SigningKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a PEM private (or public) key libcrypto can read.
    case unreadable
    /// A key of another kind than ECDSA P-256 or Ed25519.
    case unsupportedAlgorithm
    case signingFailed

    public var description: String {
        switch self {
        case .unreadable: "the key is not a PEM key libcrypto can read"
        case .unsupportedAlgorithm: "the key is neither ECDSA P-256 nor Ed25519"
        case .signingFailed: "libcrypto could not sign"
        }
    }
}

/// The signature algorithms provenance is signed with, named as securesystemslib names its schemes.
public enum SignatureAlgorithm: String, Sendable, Codable {
    case ecdsaP256 = "ecdsa-sha2-nistp256"
    case ed25519 = "ed25519"

    /// The key type securesystemslib records with the scheme.
    public var keyType: String {
        switch self {
        case .ecdsaP256: "ecdsa"
        case .ed25519: "ed25519"
        }
    }
}

/// An `EVP_PKEY`, freed with its owner.
///
/// `@unchecked Sendable`: the key is never mutated after loading, and libcrypto allows
/// concurrent signing and verifying with one `EVP_PKEY` (each call makes its own `EVP_MD_CTX`).
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer
    let algorithm: SignatureAlgorithm

    init(pointer: OpaquePointer) throws(SigningKeyError) {
        self.pointer = pointer
        switch EVP_PKEY_get_base_id(pointer) {
        case EVP_PKEY_ED25519:
            algorithm = .ed25519
        case EVP_PKEY_EC where EVPKey.isP256(pointer):
            algorithm = .ecdsaP256
        default:
            EVP_PKEY_free(pointer)
            throw .unsupportedAlgorithm
        }
    }

    deinit { EVP_PKEY_free(pointer) }

    /// Reads a PEM key with `read` (a `PEM_read_bio_*` function) from `pem`.
    static func reading(
        _ pem: [UInt8], with read: (OpaquePointer?) -> OpaquePointer?
    ) throws(SigningKeyError) -> EVPKey {
        let key: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return read(bio)
        }
        guard let key else {
            ERR_clear_error()
            throw .unreadable
        }
        return try EVPKey(pointer: key)
    }

    /// The DER SubjectPublicKeyInfo of the public half.
    var publicKeyDER: [UInt8] {
        let length = i2d_PUBKEY(pointer, nil)
        guard length > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: Int(length))
        out.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_PUBKEY(pointer, &cursor)
        }
        return out
    }

    /// The public half as a `-----BEGIN PUBLIC KEY-----` PEM.
    var publicKeyPEM: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PUBKEY(bio, pointer) == 1 else { return "" }
        var data: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data)
        guard let data, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// ECDSA hashes with SHA-256; Ed25519 signs the message itself (no digest).
    var digest: OpaquePointer? { algorithm == .ecdsaP256 ? EVP_sha256() : nil }

    private static func isP256(_ key: OpaquePointer) -> Bool {
        var name = [CChar](repeating: 0, count: 64)
        var length = 0
        guard EVP_PKEY_get_group_name(key, &name, name.count, &length) == 1 else { return false }
        let group = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return group == "prime256v1" || group == "P-256"
    }
}

/// A private key that signs: ECDSA P-256 (DER signatures over SHA-256) or Ed25519, read
/// from a PEM file's bytes. Its description never shows the key.
public struct SigningKey: Sendable, CustomStringConvertible {
    let key: EVPKey

    /// Reads a PEM private key (PKCS#8 `PRIVATE KEY` or `EC PRIVATE KEY`).
    public init(pem: [UInt8]) throws(SigningKeyError) {
        key = try EVPKey.reading(pem) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
    }

    public var algorithm: SignatureAlgorithm { key.algorithm }
    public var verifyingKey: VerifyingKey { VerifyingKey(key: key) }
    public var description: String { "SigningKey(\(algorithm.rawValue), keyid \(verifyingKey.keyID))" }

    public func sign(_ message: [UInt8]) throws(SigningKeyError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw .signingFailed }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, key.digest, nil, key.pointer) == 1 else { throw .signingFailed }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else { throw .signingFailed }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            ERR_clear_error()
            throw .signingFailed
        }
        return Array(signature.prefix(length))
    }
}

/// A public key that checks signatures made by a `SigningKey`.
public struct VerifyingKey: Sendable {
    let key: EVPKey

    init(key: EVPKey) { self.key = key }

    /// Reads a PEM public key (`-----BEGIN PUBLIC KEY-----`).
    public init(pem: [UInt8]) throws(SigningKeyError) {
        key = try EVPKey.reading(pem) { PEM_read_bio_PUBKEY($0, nil, nil, nil) }
    }

    public var algorithm: SignatureAlgorithm { key.algorithm }
    public var pem: String { key.publicKeyPEM }
    /// The SHA-256 of the DER SubjectPublicKeyInfo, in hex: names the key in signatures.
    public var keyID: String { SHA256.hash(key.publicKeyDER).hex }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, key.digest, nil, key.pointer) == 1 else { return false }
        let valid = EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
        ERR_clear_error()
        return valid
    }
}
