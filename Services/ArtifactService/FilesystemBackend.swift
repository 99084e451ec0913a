import Foundation

/// Artifacts as files under a root folder. An upload is spooled to a
/// temporary file on the same filesystem, hashed, fsynced, then renamed into
/// place, so a reader never sees part of one.
struct FilesystemBackend: ArtifactBackend {
    let root: String

    var spoolDirectory: String { "\(root)/.spool" }

    private func path(_ key: ArtifactKey) -> String { "\(root)/objects/\(key.value)" }

    func store(
        _ chunks: ChunkSequence, as key: ArtifactKey, mediaType: String, expectedSHA256: String?
    ) async throws -> StoredContent {
        let file = try await UploadSpool.spool(chunks, into: spoolDirectory)
        defer { file.remove() }
        if let expectedSHA256, expectedSHA256 != file.sha256 {
            throw ArtifactUploadError.digestMismatch(expected: expectedSHA256, actual: file.sha256)
        }
        let target = path(key)
        let folder = (target as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // The spool is on the same filesystem: rename is atomic.
        guard rename(file.path, target) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: key.value])
        }
        let directory = open(folder, O_RDONLY)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return StoredContent(size: file.size, sha256: file.sha256)
    }

    func read(_ key: ArtifactKey, range: ClosedRange<Int64>?) async throws -> ArtifactStream? {
        guard let handle = FileHandle(forReadingAtPath: path(key)) else { return nil }
        let total = Int64(try handle.seekToEnd())
        let start = range?.lowerBound ?? 0
        let end = range.map { min($0.upperBound, total - 1) } ?? (total - 1)
        try handle.seek(toOffset: UInt64(start))
        let reader = RegionReader(handle: handle, remaining: max(0, end - start + 1))
        let chunks = ChunkSequence { { try reader.next() } }
        return ArtifactStream(totalSize: total, chunks: chunks)
    }

    func size(of key: ArtifactKey) async throws -> Int64? {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path(key))
        return (attributes?[.size] as? NSNumber)?.int64Value
    }

    func delete(_ key: ArtifactKey) async throws {
        let target = path(key)
        if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
    }

    func presignedURL(for key: ArtifactKey, expires: Duration) throws -> String? { nil }
}

/// Reads a region of an open file in 256 KiB chunks; closes it at the end.
final class RegionReader: @unchecked Sendable {
    // Used by the one response that reads it, one chunk at a time.
    private let handle: FileHandle
    private var remaining: Int64

    init(handle: FileHandle, remaining: Int64) {
        self.handle = handle
        self.remaining = remaining
    }

    func next() throws -> [UInt8]? {
        guard remaining > 0, let data = try handle.read(upToCount: Int(min(remaining, 256 * 1024))), !data.isEmpty else {
            try? handle.close()
            return nil
        }
        remaining -= Int64(data.count)
        return Array(data)
    }

    deinit { try? handle.close() }
}
