import Digests
import Foundation
import HTTPTypes
import ServiceKit

/// The SHA-256 a client says its upload has: `x-checksum-sha256: <hex>` or
/// RFC 3230 `Digest: sha-256=<base64>`.
struct ExpectedDigest: Sendable, Equatable {
    let hex: String

    /// From the values of those two headers (nil: absent).
    init?(checksum: String?, digest: String?) throws {
        if let hex = checksum {
            guard hex.utf8.count == 64, let bytes = Hex.decode(hex) else {
                throw ServiceError.badRequest("x-checksum-sha256 must be 64 hex digits", code: "INVALID_DIGEST")
            }
            self.hex = Hex.encode(bytes)
            return
        }
        guard let header = digest else { return nil }
        for part in header.split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            guard pair.lowercased().hasPrefix("sha-256=") else { continue }
            guard let data = Data(base64Encoded: String(pair.dropFirst("sha-256=".count))), data.count == 32 else {
                throw ServiceError.badRequest("Digest sha-256 must be base64 of 32 bytes", code: "INVALID_DIGEST")
            }
            self.hex = Hex.encode(data)
            return
        }
        return nil
    }
}

/// A single `Range: bytes=…` range resolved against the artifact's size.
struct ByteRange: Sendable, Equatable {
    let first: Int64
    let last: Int64
    var length: Int64 { last - first + 1 }

    /// nil for a header this service ignores (another unit); a 416 for one it cannot satisfy.
    init?(header: String, size: Int64) throws {
        guard header.hasPrefix("bytes=") else { return nil }
        let spec = header.dropFirst("bytes=".count)
        func unsatisfiable() -> ServiceError {
            ServiceError(.rangeNotSatisfiable, code: "RANGE_NOT_SATISFIABLE", detail: "cannot serve \(header) of \(size) bytes")
        }
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { throw unsatisfiable() }
        let start = spec[..<dash]
        let end = spec[spec.index(after: dash)...]
        if start.isEmpty {
            guard let suffix = Int64(end), suffix > 0, size > 0 else { throw unsatisfiable() }
            first = max(0, size - suffix)
            last = size - 1
        } else {
            guard let from = Int64(start), from < size else { throw unsatisfiable() }
            let to = end.isEmpty ? size - 1 : (Int64(end) ?? -1)
            guard to >= from else { throw unsatisfiable() }
            first = from
            last = min(to, size - 1)
        }
    }
}
