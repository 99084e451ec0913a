import Digests
import Foundation

extension UUID {
    /// A random (version 4) UUID from OpenSSL's generator. `UUID()` on Linux opens, reads and
    /// closes /dev/urandom each time: three system calls, on every request and every submit.
    public static func random() -> UUID {
        let bytes = CryptoRandom.bytes(16)
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { $0.copyBytes(from: bytes) }
        uuid.6 = uuid.6 & 0x0F | 0x40  // version 4
        uuid.8 = uuid.8 & 0x3F | 0x80  // RFC 4122 variant
        return UUID(uuid: uuid)
    }
}
