import Foundation
import OpenAPIRuntime

extension HTTPBody {
    /// The file at `path`, read in chunks as the body is sent (never whole in memory).
    public static func file(at path: String, chunkSize: Int = 256 << 10) throws -> HTTPBody {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileReadNoSuchFile) }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        let chunks = AsyncThrowingStream<ArraySlice<UInt8>, any Error> { () async throws -> ArraySlice<UInt8>? in
            guard let data = try handle.read(upToCount: chunkSize), !data.isEmpty else {
                try? handle.close()
                return nil
            }
            return ArraySlice(data)
        }
        return HTTPBody(chunks, length: .known(Int64(size)), iterationBehavior: .single)
    }

    /// Writes the body into a new file at `path` as it arrives; returns the bytes written.
    public func write(toFile path: String) async throws -> Int64 {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let file = FileHandle(forWritingAtPath: path)
        else { throw CocoaError(.fileWriteUnknown) }
        defer { try? file.close() }
        var written: Int64 = 0
        for try await chunk in self {
            try file.write(contentsOf: chunk)
            written += Int64(chunk.count)
        }
        return written
    }
}
