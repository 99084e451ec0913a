import Digests
import Foundation
import HTTPClient

/// One part of a multipart upload: bytes in memory, or a region of a file
/// that libcurl reads as it sends (and can read again for a retry).
enum PartData: Sendable {
    case bytes([UInt8])
    case fileRegion(path: String, offset: Int64, length: Int64)

    var count: Int {
        switch self {
        case .bytes(let bytes): bytes.count
        case .fileRegion(_, _, let length): Int(length)
        }
    }

    var body: ClientRequestBody {
        switch self {
        case .bytes(let bytes): .bytes(bytes)
        case .fileRegion(let path, let offset, let length): .file(path: path, offset: offset, length: length)
        }
    }

    func sha256() throws(S3ClientError) -> Digest {
        switch self {
        case .bytes(let bytes):
            return SHA256.hash(bytes)
        case .fileRegion(let path, let offset, let length):
            var hasher = SHA256()
            try FileReader(path: path, offset: offset).read(length) { hasher.update($0) }
            return hasher.finalize()
        }
    }
}

/// Reads an upload's source in order, one part at a time, hashing every byte.
protocol PartReader: AnyObject {
    var digest: RunningDigest { get }
    /// The next part (`partSize` bytes, the last one possibly fewer); nil at the end.
    func nextPart() async throws -> PartData?
}

/// Hashes each part's region of the file in 1 MiB reads and hands out the
/// region itself: parts of a file never sit in memory, and libcurl's second
/// read of a region just hashed is served from the page cache. The file must
/// not change while it uploads.
final class FilePartReader: PartReader {
    let digest = RunningDigest()
    private let reader: FileReader
    private let partSize: Int64
    private var offset: Int64 = 0
    private let size: Int64

    init(path: String, size: Int64, partSize: Int) throws(S3ClientError) {
        reader = try FileReader(path: path)
        self.partSize = Int64(partSize)
        self.size = size
    }

    func nextPart() async throws -> PartData? {
        guard offset < size else { return nil }
        let length = min(partSize, size - offset)
        try reader.read(length) { digest.update($0) }
        defer { offset += length }
        return .fileRegion(path: reader.path, offset: offset, length: length)
    }
}

final class BytesPartReader: PartReader {
    let digest = RunningDigest()
    private let bytes: [UInt8]
    private let partSize: Int
    private var offset = 0

    init(bytes: [UInt8], partSize: Int) {
        self.bytes = bytes
        self.partSize = partSize
    }

    func nextPart() async throws -> PartData? {
        guard offset < bytes.count else { return nil }
        let end = min(bytes.count, offset + partSize)
        let part = Array(bytes[offset..<end])
        offset = end
        digest.update(part)
        return .bytes(part)
    }
}

/// Cuts an async sequence of chunks of any sizes into parts.
final class StreamPartReader<Chunks: AsyncIteratorProtocol>: PartReader where Chunks.Element == [UInt8] {
    let digest = RunningDigest()
    private var chunks: Chunks
    private let partSize: Int
    /// What is left of the last chunk after the part it ended.
    private var carry: ArraySlice<UInt8> = []
    /// Parts read (and hashed) already, to hand out before reading on.
    private var unreadParts: [[UInt8]] = []
    private(set) var isFinished = false

    init(_ chunks: Chunks, partSize: Int) {
        self.chunks = chunks
        self.partSize = partSize
    }

    func nextPart() async throws -> PartData? {
        if !unreadParts.isEmpty { return .bytes(unreadParts.removeFirst()) }
        return try await nextBytes().map { .bytes($0) }
    }

    /// Puts back parts this reader returned, in order.
    func unread(_ parts: [[UInt8]]) {
        unreadParts = parts + unreadParts
    }

    func nextBytes() async throws -> [UInt8]? {
        var part: [UInt8] = []
        part.reserveCapacity(partSize)
        take(from: &carry, into: &part)
        while part.count < partSize && !isFinished {
            try Task.checkCancellation()
            guard let chunk = try await chunks.next() else {
                isFinished = true
                break
            }
            digest.update(chunk)
            var rest = chunk[...]
            take(from: &rest, into: &part)
            carry = rest
        }
        return part.isEmpty ? nil : part
    }

    private func take(from source: inout ArraySlice<UInt8>, into part: inout [UInt8]) {
        let count = min(source.count, partSize - part.count)
        part.append(contentsOf: source.prefix(count))
        source = source.dropFirst(count)
    }
}

/// Bytes already in memory, handed out in 1 MiB chunks (a request body
/// stream copies each chunk it is given).
struct BufferedChunks: AsyncSequence, Sendable {
    let parts: [[UInt8]]
    var length: Int64 { parts.reduce(0) { $0 + Int64($1.count) } }

    struct AsyncIterator: AsyncIteratorProtocol {
        let parts: [[UInt8]]
        var part = 0
        var offset = 0

        mutating func next() async -> [UInt8]? {
            while part < parts.count {
                let bytes = parts[part]
                if offset < bytes.count {
                    let end = Swift.min(bytes.count, offset + FileChunks.chunkSize)
                    defer { offset = end }
                    return Array(bytes[offset..<end])
                }
                part += 1
                offset = 0
            }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(parts: parts) }
}
