import COpenSSL

/// HMAC-SHA256 through libcrypto's one-shot `HMAC` function.
public enum HMACSHA256 {
    public static func authenticate(_ message: some Sequence<UInt8>, key: some Sequence<UInt8>) -> Digest {
        let key = Array(key)
        let message = Array(message)
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                HMAC(
                    EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                    messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count,
                    &out, &length)
            }
        }
        precondition(result != nil, "libcrypto HMAC failed")
        return Digest(bytes: Array(out.prefix(Int(length))))
    }

    public static func authenticate(_ message: String, key: some Sequence<UInt8>) -> Digest {
        authenticate(Array(message.utf8), key: key)
    }
}
