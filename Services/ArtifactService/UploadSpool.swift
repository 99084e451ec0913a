import Digests
import Foundation

/// An upload written to a local temporary file, with its size and SHA-256.
struct SpooledFile: Sendable {
    let path: String
    let size: Int64
    let sha256: String

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

enum UploadSpool {
    /// Streams chunks into a new file in `directory`, hashing as it goes;
    /// memory holds one chunk at a time whatever the size. The file is
    /// removed when anything fails, and an error of `chunks` is rethrown as it is.
    static func spool(_ chunks: ChunkSequence, into directory: String) async throws -> SpooledFile {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/upload-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw CocoaError(.fileWriteUnknown) }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            for try await chunk in chunks {
                hasher.update(chunk)
                try handle.write(contentsOf: chunk)
                size += Int64(chunk.count)
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return SpooledFile(path: path, size: size, sha256: hasher.finalize().hex)
    }
}
