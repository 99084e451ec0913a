import Foundation
import PathBytes

/// Artifacts as files under a root folder. An upload is spooled to a
/// temporary file on the same filesystem, hashed, fsynced, then renamed into
/// place, so a reader never sees part of one. Objects are reached through
/// `ObjectTree`: never through a symbolic link, never outside `root/objects`.
struct FilesystemBackend: ArtifactBackend {
    let root: String

    var spoolDirectory: String { "\(root)/.spool" }

    private var objects: ObjectTree { ObjectTree(path: "\(root)/objects") }

    func store(
        _ chunks: ChunkSequence, as key: ArtifactKey, mediaType: String, expectedSHA256: String?
    ) async throws -> StoredContent {
        let file = try await UploadSpool.spool(chunks, into: spoolDirectory)
        defer { file.remove() }
        if let expectedSHA256, expectedSHA256 != file.sha256 {
            throw ArtifactUploadError.digestMismatch(expected: expectedSHA256, actual: file.sha256)
        }
        guard let place = try objects.place(of: key, creating: true) else { throw ObjectTreeError.outsideStore(key.value) }
        // The spool is on the same filesystem: rename is atomic, and it replaces a link, never follows it.
        guard renameat(AT_FDCWD, file.path, place.folder, place.name) == 0 else {
            let code = errno
            if code == EISDIR || code == ENOTEMPTY || code == EEXIST { throw ObjectTreeError.occupied(key.value) }
            throw ObjectTreeError.system("rename into \(key.value)", code)
        }
        fsync(place.folder)
        return StoredContent(size: file.size, sha256: file.sha256)
    }

    func read(_ key: ArtifactKey, range: ClosedRange<Int64>?) async throws -> ArtifactStream? {
        guard let handle = try openFile(key) else { return nil }
        let total = Int64(try handle.seekToEnd())
        let start = range?.lowerBound ?? 0
        let end = range.map { min($0.upperBound, total - 1) } ?? (total - 1)
        try handle.seek(toOffset: UInt64(start))
        let reader = RegionReader(handle: handle, remaining: max(0, end - start + 1))
        let chunks = ChunkSequence { { try reader.next() } }
        return ArtifactStream(totalSize: total, chunks: chunks)
    }

    func size(of key: ArtifactKey) async throws -> Int64? {
        guard let place = try objects.place(of: key, creating: false) else { return nil }
        return RegularFile.size(in: place.folder, named: place.name)
    }

    func delete(_ key: ArtifactKey) async throws {
        guard let place = try objects.place(of: key, creating: false) else { return }
        // unlinkat removes a link itself, never what it points to.
        guard unlinkat(place.folder, place.name, 0) == 0 || errno == ENOENT else {
            throw ObjectTreeError.system("delete \(key.value)", errno)
        }
    }

    func presignedURL(for key: ArtifactKey, expires: Duration) throws -> String? { nil }

    /// The key's regular file, opened without following a symbolic link; nil when there is none.
    private func openFile(_ key: ArtifactKey) throws -> FileHandle? {
        guard let place = try objects.place(of: key, creating: false) else { return nil }
        let descriptor = openat(place.folder, place.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            // ELOOP: a symbolic link stands there, which this store never wrote.
            if errno == ENOENT || errno == ELOOP || errno == ENOTDIR { return nil }
            throw ObjectTreeError.system("open \(key.value)", errno)
        }
        guard RegularFile.size(of: descriptor) != nil else {
            close(descriptor)
            return nil
        }
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }
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
