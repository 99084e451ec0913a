import Foundation

/// A file opened for sequential reading; closed when released.
final class FileReader {
    let path: String
    private let descriptor: Int32

    /// Opened for reading from `offset` on.
    init(path: String, offset: Int64 = 0) throws(S3ClientError) {
        self.path = path
        let opened = open(path, O_RDONLY | O_CLOEXEC)
        if opened < 0 { throw .unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        if offset > 0 && lseek(opened, off_t(offset), SEEK_SET) < 0 {
            let reason = String(cString: strerror(errno))
            close(opened)
            throw .unreadableFile(path: path, reason: reason)
        }
        descriptor = opened
    }

    deinit { close(descriptor) }

    /// Up to `count` bytes; fewer only at the end of the file.
    func read(upTo count: Int) throws(S3ClientError) -> [UInt8] {
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var total = 0
            while total < count {
                let got = Foundation.read(descriptor, buffer.baseAddress! + total, count - total)
                if got > 0 {
                    total += got
                } else if got == 0 {
                    break
                } else if errno != EINTR {
                    failure = errno
                    break
                }
            }
            initialized = total
        }
        if failure != 0 { throw .unreadableFile(path: path, reason: String(cString: strerror(failure))) }
        return bytes
    }

    /// The next `length` bytes, handed to `body` in chunks of at most 1 MiB;
    /// throws if the file ends first.
    func read(_ length: Int64, chunks body: ([UInt8]) -> Void) throws(S3ClientError) {
        var left = length
        while left > 0 {
            let chunk = try read(upTo: Int(Swift.min(left, Int64(FileChunks.chunkSize))))
            guard !chunk.isEmpty else { throw .unreadableFile(path: path, reason: "file shrank while uploading") }
            body(chunk)
            left -= Int64(chunk.count)
        }
    }

    static func size(of path: String) throws(S3ClientError) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .unreadableFile(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadableFile(path: path, reason: "not a regular file")
        }
        return Int64(info.st_size)
    }
}

/// The first `length` bytes of a file as 1 MiB chunks, hashed as they are read.
struct FileChunks: AsyncSequence, Sendable {
    let path: String
    let length: Int64
    let digest: RunningDigest
    static let chunkSize = 1 << 20

    struct AsyncIterator: AsyncIteratorProtocol {
        let sequence: FileChunks
        var reader: FileReader?
        var remaining: Int64

        mutating func next() async throws -> [UInt8]? {
            guard remaining > 0 else { return nil }
            let reader = try self.reader ?? FileReader(path: sequence.path)
            self.reader = reader
            let chunk = try reader.read(upTo: Int(Swift.min(remaining, Int64(FileChunks.chunkSize))))
            guard !chunk.isEmpty else {
                throw S3ClientError.unreadableFile(path: sequence.path, reason: "file shrank while uploading")
            }
            remaining -= Int64(chunk.count)
            sequence.digest.update(chunk)
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(sequence: self, remaining: length) }
}
