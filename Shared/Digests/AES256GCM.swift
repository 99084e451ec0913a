import COpenSSL

/// Why sealed bytes could not be opened (or a key not used).
public enum SealingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key is not 32 bytes.
    case invalidKey
    /// The box is too short, or its tag does not match: altered, or sealed with another key or context.
    case tampered
    /// The box names a key id this keyring does not hold.
    case unknownKey(String)
    /// libcrypto failed (no randomness, cipher unavailable).
    case cryptoFailure(String)

    public var description: String {
        switch self {
        case .invalidKey: "the key is not 32 bytes"
        case .tampered: "the sealed data was altered, or sealed with another key or for another record"
        case .unknownKey(let id): "sealed with key \"\(id)\", which is not configured"
        case .cryptoFailure(let step): "libcrypto failed: \(step)"
        }
    }
}

/// AES-256-GCM through libcrypto's EVP interface. A box is `nonce (12) ‖ ciphertext ‖ tag (16)`;
/// the nonce is random per seal. `context` is authenticated, not encrypted: opening with another
/// context fails, so a box cannot be moved to another record.
public enum AES256GCM {
    public static let keySize = 32
    static let nonceSize = 12
    static let tagSize = 16

    public static func seal(_ plaintext: [UInt8], key: [UInt8], context: [UInt8]) throws(SealingError) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: nonceSize)
        guard RAND_bytes(&nonce, Int32(nonceSize)) == 1 else { throw .cryptoFailure("RAND_bytes") }
        return try seal(plaintext, key: key, nonce: nonce, context: context)
    }

    /// `seal` with a given nonce, for known-answer tests only: a nonce must never be reused with a key.
    package static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], context: [UInt8]) throws(SealingError)
        -> [UInt8]
    {
        guard key.count == keySize else { throw .invalidKey }
        guard nonce.count == nonceSize else { throw .cryptoFailure("nonce size") }
        let cipher = try CipherContext(encrypting: true, key: key, nonce: nonce)
        try cipher.authenticate(context)
        let ciphertext = try cipher.update(plaintext)
        try cipher.finish()
        var tag = [UInt8](repeating: 0, count: tagSize)
        guard EVP_CIPHER_CTX_ctrl(cipher.handle, EVP_CTRL_GCM_GET_TAG, Int32(tagSize), &tag) == 1 else {
            throw .cryptoFailure("EVP_CTRL_GCM_GET_TAG")
        }
        return nonce + ciphertext + tag
    }

    public static func open(_ box: [UInt8], key: [UInt8], context: [UInt8]) throws(SealingError) -> [UInt8] {
        guard key.count == keySize else { throw .invalidKey }
        guard box.count >= nonceSize + tagSize else { throw .tampered }
        let nonce = Array(box.prefix(nonceSize))
        var tag = Array(box.suffix(tagSize))
        let ciphertext = Array(box[nonceSize..<(box.count - tagSize)])
        let cipher = try CipherContext(encrypting: false, key: key, nonce: nonce)
        try cipher.authenticate(context)
        let plaintext = try cipher.update(ciphertext)
        guard EVP_CIPHER_CTX_ctrl(cipher.handle, EVP_CTRL_GCM_SET_TAG, Int32(tagSize), &tag) == 1 else {
            throw .cryptoFailure("EVP_CTRL_GCM_SET_TAG")
        }
        // The tag is checked here: a mismatch is the only way a well-formed box fails to open.
        do throws(SealingError) { try cipher.finish() } catch { throw .tampered }
        return plaintext
    }
}

/// One EVP_CIPHER_CTX set up for AES-256-GCM with a 12-byte nonce; freed in deinit.
private final class CipherContext {
    let handle: OpaquePointer
    private let encrypting: Bool

    init(encrypting: Bool, key: [UInt8], nonce: [UInt8]) throws(SealingError) {
        guard let handle = EVP_CIPHER_CTX_new() else { throw .cryptoFailure("EVP_CIPHER_CTX_new") }
        self.handle = handle
        self.encrypting = encrypting
        let initialised =
            encrypting
            ? EVP_EncryptInit_ex(handle, EVP_aes_256_gcm(), nil, key, nonce)
            : EVP_DecryptInit_ex(handle, EVP_aes_256_gcm(), nil, key, nonce)
        guard initialised == 1 else { throw .cryptoFailure("init") }
    }

    deinit { EVP_CIPHER_CTX_free(handle) }

    func authenticate(_ data: [UInt8]) throws(SealingError) {
        guard !data.isEmpty else { return }
        var length: Int32 = 0
        let ok =
            encrypting
            ? EVP_EncryptUpdate(handle, nil, &length, data, Int32(data.count))
            : EVP_DecryptUpdate(handle, nil, &length, data, Int32(data.count))
        guard ok == 1 else { throw .cryptoFailure("additional data") }
    }

    func update(_ input: [UInt8]) throws(SealingError) -> [UInt8] {
        guard !input.isEmpty else { return [] }
        var output = [UInt8](repeating: 0, count: input.count + AES256GCM.tagSize)
        var length: Int32 = 0
        let ok =
            encrypting
            ? EVP_EncryptUpdate(handle, &output, &length, input, Int32(input.count))
            : EVP_DecryptUpdate(handle, &output, &length, input, Int32(input.count))
        guard ok == 1 else { throw .cryptoFailure("update") }
        return Array(output.prefix(Int(length)))
    }

    func finish() throws(SealingError) {
        var output = [UInt8](repeating: 0, count: AES256GCM.tagSize)
        var length: Int32 = 0
        let ok = encrypting ? EVP_EncryptFinal_ex(handle, &output, &length) : EVP_DecryptFinal_ex(handle, &output, &length)
        guard ok == 1 else { throw .cryptoFailure("final") }
    }
}
