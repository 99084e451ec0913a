import COpenSSL

/// OpenSSL's CSPRNG (`RAND_bytes`, seeded by the kernel): no system call a draw, where
/// `SystemRandomNumberGenerator` makes a `getrandom` call for each 8 bytes and a submit took
/// eight of them (its request id, trace and span ids, job id).
public struct CryptoRandom: RandomNumberGenerator, Sendable {
    public init() {}

    public mutating func next() -> UInt64 {
        var word: UInt64 = 0
        let drawn = withUnsafeMutableBytes(of: &word) { RAND_bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), 8) }
        // As the standard library's generator does when the kernel will not answer.
        guard drawn == 1 else { fatalError("RAND_bytes failed") }
        return word
    }
}
