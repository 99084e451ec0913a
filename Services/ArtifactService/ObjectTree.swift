import Foundation
import PathBytes
import StageClients

/// The filesystem store's objects folder, reached without trusting a key's text.
///
/// A key's folders are opened one at a time from the objects folder (`openat` with
/// `O_NOFOLLOW | O_DIRECTORY`), so a symbolic link planted in the store is never followed,
/// and the folder reached is then resolved by the kernel (`/proc/self/fd`) and checked to
/// lie under the objects folder before anything in it is opened, created or renamed.
/// The key was checked by `ArtifactKeyRule`; this holds even if that check were wrong.
struct ObjectTree: Sendable {
    let path: String

    /// The folder holding `key`'s file, open, and the file's name in it.
    final class Place: Sendable {
        let folder: CInt
        let name: String

        init(folder: CInt, name: String) {
            self.folder = folder
            self.name = name
        }

        deinit { close(folder) }
    }

    /// Where `key`'s file goes; the folders on the way are made when `creating`.
    /// nil when a folder on the way is missing and not `creating`.
    func place(of key: ArtifactKey, creating: Bool) throws(ObjectTreeError) -> Place? {
        var segments = key.value.slashSegments()
        guard let name = segments.popLast(), Self.isPlainName(name) else { throw .outsideStore(key.value) }
        if creating { try Self.makeFolder(path) }
        var folder = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else {
            if errno == ENOENT, !creating { return nil }
            throw .system("open \(path)", errno)
        }
        for segment in segments {
            guard Self.isPlainName(segment) else {
                close(folder)
                throw .outsideStore(key.value)
            }
            if creating, mkdirat(folder, String(segment), 0o755) != 0, errno != EEXIST {
                let code = errno
                close(folder)
                throw code == ENOTDIR ? .occupied(key.value) : .system("mkdir \(segment)", code)
            }
            let next = openat(folder, String(segment), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let code = errno
            close(folder)
            guard next >= 0 else {
                if code == ENOENT, !creating { return nil }
                // A file or a symbolic link where a folder of the key should be.
                if code == ENOTDIR || code == ELOOP { throw .occupied(key.value) }
                throw .system("open \(segment)", code)
            }
            folder = next
        }
        let place = Place(folder: folder, name: String(name))
        try verify(place, key: key)
        return place
    }

    /// The folder reached, as the kernel resolves it, is the objects folder or inside it.
    private func verify(_ place: Place, key: ArtifactKey) throws(ObjectTreeError) {
        guard let resolved = Self.resolvedPath(of: place.folder), let objects = Self.realPath(path) else {
            throw .system("resolve \(key.value)", errno)
        }
        guard resolved.bytesEqual(objects) || resolved.bytesStart(with: objects + "/") else {
            throw .outsideStore(key.value)
        }
    }

    /// A name that is one entry of its folder: not empty, `.` or `..`, no `/` or NUL byte.
    private static func isPlainName(_ name: Substring) -> Bool {
        !name.isEmpty && !name.isDotSegment && !name.containsByte("/") && !name.containsByte("\0")
    }

    private static func makeFolder(_ path: String) throws(ObjectTreeError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .system("create \(path)", errno)
        }
    }

    private static func resolvedPath(of descriptor: CInt) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

enum ObjectTreeError: Error, CustomStringConvertible {
    /// The key would name something outside the objects folder.
    case outsideStore(String)
    /// A file (or a symbolic link) stands where the key needs a folder, or a folder where it needs a file.
    case occupied(String)
    case system(String, CInt)

    var description: String {
        switch self {
        case .outsideStore(let key): "the key \(key) leads outside the store"
        case .occupied(let key): "something else is stored where the key \(key) needs a folder or file"
        case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
        }
    }
}
