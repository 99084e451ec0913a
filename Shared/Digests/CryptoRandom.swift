import COpenSSL

/// OpenSSL's CSPRNG (`RAND_bytes`, seeded by the kernel). `SystemRandomNumberGenerator` makes a
/// `getrandom` call for each 8 bytes, and a submit took eight of them (its request id, trace
/// and span ids, job id); here an id is one call, and no system call but OpenSSL's fork check.
public enum CryptoRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let drawn = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        // As the standard library's generator does when the kernel will not answer.
        guard drawn == 1 else { fatalError("RAND_bytes failed") }
        return bytes
    }
}
