import Foundation

/// The keys secrets are sealed with at rest: the current key seals, the current and the
/// previous ones open (so keys can be rotated while sealed records remain). Each box records
/// the id of the key that sealed it; the id is authenticated along with the caller's context.
public struct SealingKeyring: Sendable {
    public struct Key: Sendable {
        public let id: String
        let bytes: [UInt8]

        /// A key from its id (`[A-Za-z0-9._-]`, at most 64) and 32 bytes in base64.
        public init(id: String, base64: String) throws(SealingError) {
            guard let bytes = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw .invalidKey
            }
            try self.init(id: id, bytes: Array(bytes))
        }

        public init(id: String, bytes: [UInt8]) throws(SealingError) {
            guard bytes.count == AES256GCM.keySize else { throw .invalidKey }
            guard Self.isValidID(id) else { throw .unknownKey(id) }
            self.id = id
            self.bytes = bytes
        }

        public static func isValidID(_ id: String) -> Bool {
            !id.isEmpty && id.utf8.count <= 64
                && id.utf8.allSatisfy { b in
                    (48...57).contains(b) || (65...90).contains(b) || (97...122).contains(b) || b == 0x2E || b == 0x5F
                        || b == 0x2D
                }
        }
    }

    public let current: Key
    private let keys: [String: Key]

    public init(current: Key, previous: [Key] = []) {
        self.current = current
        var keys: [String: Key] = [:]
        for key in previous { keys[key.id] = key }
        keys[current.id] = current
        self.keys = keys
    }

    /// Seals `plaintext` with the current key for `context` (e.g. the record's id); the box is base64.
    public func seal(_ plaintext: [UInt8], context: String) throws(SealingError) -> (keyID: String, box: String) {
        let box = try AES256GCM.seal(plaintext, key: current.bytes, context: Self.context(context, keyID: current.id))
        return (current.id, Data(box).base64EncodedString())
    }

    /// Opens a box sealed by `seal` with the key `keyID`, for the same `context`.
    public func open(keyID: String, box: String, context: String) throws(SealingError) -> [UInt8] {
        guard let key = keys[keyID] else { throw .unknownKey(keyID) }
        guard let bytes = Data(base64Encoded: box) else { throw .tampered }
        return try AES256GCM.open(Array(bytes), key: key.bytes, context: Self.context(context, keyID: keyID))
    }

    /// HMAC-SHA256 of `text` under a key derived from the current key (not the sealing key
    /// itself): equal texts give equal MACs under one key, and nothing can be learnt or
    /// guessed from a MAC without the key, unlike a plain hash of a short secret.
    public func mac(_ text: String) -> String {
        let derived = HMACSHA256.authenticate("buildchain secret mac v1", key: current.bytes).bytes
        return HMACSHA256.authenticate(text, key: derived).hex
    }

    private static func context(_ context: String, keyID: String) -> [UInt8] {
        Array("buildchain sealed v1\n\(keyID)\n\(context)".utf8)
    }
}
