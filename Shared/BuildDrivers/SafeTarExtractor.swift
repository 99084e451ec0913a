import Foundation
import OCI
import PathBytes
import Processes

/// Unpacks a build-context tarball (gzip-compressed or plain tar) into a fresh folder so
/// that nothing lands outside it.
///
/// The archive is read with OCI's `TarReader` and written by this type itself, in two passes:
///
/// 1. Validation, before anything is written. Refused, with the entry named: absolute names,
///    `..` components, a symbolic link whose target is absolute or resolves (through the
///    archive's own links, checked again once all entries are known) outside the folder, any
///    entry whose path goes through a symbolic link, a hard link whose target is not an earlier
///    regular file of the archive (so never anything outside), device nodes, FIFOs and other
///    special types, an entry that replaces one of another type, more entries than
///    `Limits.maxEntries`, more file content than `Limits.maxTotalBytes`.
/// 2. Writing: directories `0755`; files with the archive's permission bits masked by `0755`
///    (executable bits kept, no group/other write, no setuid/setgid/sticky), created with
///    `O_EXCL|O_NOFOLLOW`; hard links; then, last of all, the symbolic links, so no write ever
///    goes through one. Modification times come from the archive; owners do not (files belong
///    to this process, like `tar --no-same-owner`).
///
/// A gzip archive is first decompressed to a temporary file by `gzip -dc`, cut off after
/// `Limits.maxArchiveBytes`, so a compression bomb fills neither the disk nor the folder.
/// Letting `tar -x` write after validating was not chosen: two tar parsers may disagree on
/// an archive crafted for it, and then what was checked is not what is written.
public struct SafeTarExtractor: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxEntries: Int
        /// Total size of the regular files' content.
        public var maxTotalBytes: Int64
        /// Size of the uncompressed tar stream (headers and padding included).
        public var maxArchiveBytes: Int64

        public init(maxEntries: Int = 100_000, maxTotalBytes: Int64 = 2 << 30, maxArchiveBytes: Int64? = nil) {
            self.maxEntries = maxEntries
            self.maxTotalBytes = maxTotalBytes
            // Room for each entry's header, a pax header and padding.
            self.maxArchiveBytes = maxArchiveBytes ?? (maxTotalBytes + Int64(maxEntries) * 2048 + (1 << 20))
        }
    }

    public struct Summary: Sendable, Equatable {
        public var directories = 0
        public var files = 0
        public var symbolicLinks = 0
        public var hardLinks = 0
        /// Bytes of file content written.
        public var totalBytes: Int64 = 0
    }

    public let limits: Limits
    /// Where the decompressed tar is kept while it is read (removed afterwards).
    public let temporaryDirectory: String
    /// Environment of `gzip` (nothing is inherited).
    public let environment: [String: String]

    public init(
        limits: Limits = Limits(), temporaryDirectory: String = NSTemporaryDirectory(),
        environment: [String: String] = ChildProcess.minimalEnvironment
    ) {
        self.limits = limits
        self.temporaryDirectory = temporaryDirectory
        self.environment = environment
    }

    /// Unpacks `archive` into `destination`, which must not exist or be an empty directory
    /// (it is created, parents included). On any error nothing is left in `destination`.
    @discardableResult
    public func extract(archive: String, into destination: String) async throws -> Summary {
        try Self.checkDestination(destination)
        var tarPath = archive
        var temporary: String?
        defer { if let temporary { try? removeFileIfPresent(temporary) } }
        if try Self.isGzip(archive) {
            let path = temporaryDirectory + "/context-" + UUID().uuidString.lowercased() + ".tar"
            temporary = path
            try await gunzip(archive, to: path)
            tarPath = path
        } else if let size = try? FileManager.default.attributesOfItem(atPath: archive)[.size] as? Int64,
            size > limits.maxArchiveBytes
        {
            throw TarExtractionError(
                .tooLarge, entry: nil, "the archive is larger than \(limits.maxArchiveBytes) bytes")
        }
        let limits = self.limits
        let source = tarPath
        return try await Blocking.run(name: "tar-extract") {
            let plan = try ExtractionPlan(tar: source, limits: limits)
            return try plan.materialize(tar: source, into: destination)
        }
    }

    /// `gzip -dc -- <archive> | head -c <limit+1> > <output>`, through `sh` with the paths as arguments.
    private func gunzip(_ archive: String, to output: String) async throws {
        let script = #"{ gzip -dc -- "$1" || echo "gzip: exit status $?" >&2; } | head -c "$3" > "$2""#
        let spec = ProcessSpec(
            "/bin/sh", ["-c", script, "sh", archive, output, String(limits.maxArchiveBytes + 1)],
            environment: environment)
        let (result, _, errors) = try await ChildProcess.output(spec)
        if result.cancelled { throw CancellationError() }
        let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int64) ?? 0
        if size > limits.maxArchiveBytes {
            throw TarExtractionError(
                .tooLarge, entry: nil, "the archive unpacks to more than \(limits.maxArchiveBytes) bytes")
        }
        guard result.succeeded, !errors.contains("gzip: exit status") else {
            throw TarExtractionError(
                .invalidArchive, entry: nil, "gzip: \(errors.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    private static func isGzip(_ path: String) throws -> Bool {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw TarExtractionError(.invalidArchive, entry: nil, "cannot open \(path)")
        }
        defer { try? file.close() }
        let magic = [UInt8]((try? file.read(upToCount: 2)) ?? Data())
        return magic == [0x1f, 0x8b]
    }

    private static func checkDestination(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue, (try? FileManager.default.contentsOfDirectory(atPath: path))?.isEmpty == true
        else {
            throw TarExtractionError(.destinationNotEmpty, entry: nil, "\(path) exists and is not an empty directory")
        }
    }
}

public struct TarExtractionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case absolutePath, parentReference, symbolicLinkOutside, throughSymbolicLink, hardLinkOutside
        case specialFile, conflictingEntry, invalidName, tooManyEntries, tooLarge, invalidArchive
        case destinationNotEmpty, writeFailed
    }

    public let kind: Kind
    /// The archive member at fault, as the archive names it.
    public let entry: String?
    public let detail: String

    init(_ kind: Kind, entry: String?, _ detail: String) {
        self.kind = kind
        self.entry = entry
        self.detail = detail
    }

    public var description: String {
        if let entry { return "refused archive entry \"\(entry)\": \(detail)" }
        return "cannot unpack the archive: \(detail)"
    }
}

/// The validated archive: what to write, in order.
private struct ExtractionPlan {
    enum Node: Equatable {
        case directory
        case file
        case symbolicLink(String)
    }

    enum Step {
        case directory(path: String, mtime: Int64?)
        case file(path: String, offset: Int64, size: Int64, mode: UInt32, mtime: Int64?)
        case hardLink(path: String, target: String)
        case symbolicLink(path: String, target: String, mtime: Int64?)
    }

    private(set) var steps: [Step] = []
    private var nodes: [String: Node] = [:]
    private var links: [(entry: String, path: [String], target: String)] = []

    init(tar path: String, limits: SafeTarExtractor.Limits) throws {
        let reader: TarReader
        do {
            reader = try TarReader(path: path)
        } catch {
            throw TarExtractionError(.invalidArchive, entry: nil, "\(error)")
        }
        let headers = try HeaderReader(path: path)
        var count = 0
        var total: Int64 = 0
        while true {
            let next: TarEntry?
            do {
                next = try reader.next()
            } catch {
                throw TarExtractionError(.invalidArchive, entry: nil, "\(error)")
            }
            guard let entry = next else { break }
            count += 1
            guard count <= limits.maxEntries else {
                throw TarExtractionError(.tooManyEntries, entry: entry.name, "more than \(limits.maxEntries) entries")
            }
            let header = try headers.header(before: entry.dataOffset)
            let components = try Self.components(of: entry.name, entry: entry.name)
            var kind = entry.kind
            if kind == .file && entry.name.bytesEnd(with: "/") { kind = .directory }
            if components.isEmpty {
                // `./`: the folder itself.
                guard kind == .directory else {
                    throw TarExtractionError(.invalidName, entry: entry.name, "names the destination folder itself")
                }
                continue
            }
            try addParents(components, entry: entry.name)
            let key = components.joined(separator: "/")
            switch kind {
            case .directory:
                switch nodes[key] {
                case nil: nodes[key] = .directory
                case .directory: break
                default: throw TarExtractionError(.conflictingEntry, entry: entry.name, "replaces a non-directory")
                }
                steps.append(.directory(path: key, mtime: header.mtime))
            case .file:
                switch nodes[key] {
                case nil, .file: nodes[key] = .file
                default: throw TarExtractionError(.conflictingEntry, entry: entry.name, "replaces a directory or link")
                }
                total += entry.size
                guard total <= limits.maxTotalBytes else {
                    throw TarExtractionError(
                        .tooLarge, entry: entry.name, "file content passes the limit of \(limits.maxTotalBytes) bytes")
                }
                steps.append(
                    .file(path: key, offset: entry.dataOffset, size: entry.size, mode: header.mode, mtime: header.mtime)
                )
            case .symbolicLink:
                guard nodes[key] == nil else {
                    throw TarExtractionError(.conflictingEntry, entry: entry.name, "a link replaces an earlier entry")
                }
                guard !entry.linkName.isEmpty, !entry.linkName.containsByte("\0") else {
                    throw TarExtractionError(.invalidName, entry: entry.name, "empty link target")
                }
                guard !entry.linkName.bytesStart(with: "/") else {
                    throw TarExtractionError(
                        .symbolicLinkOutside, entry: entry.name, "symbolic link to the absolute path \(entry.linkName)")
                }
                guard resolvesInside(Array(components.dropLast()), entry.linkName) else {
                    throw TarExtractionError(
                        .symbolicLinkOutside, entry: entry.name,
                        "symbolic link to \(entry.linkName) leads outside the folder")
                }
                nodes[key] = .symbolicLink(entry.linkName)
                links.append((entry.name, components, entry.linkName))
                steps.append(.symbolicLink(path: key, target: entry.linkName, mtime: header.mtime))
            case .hardLink:
                guard !entry.linkName.bytesStart(with: "/") else {
                    throw TarExtractionError(
                        .hardLinkOutside, entry: entry.name, "hard link to the absolute path \(entry.linkName)")
                }
                let target: [String]
                do {
                    target = try Self.components(of: entry.linkName, entry: entry.name)
                } catch {
                    throw TarExtractionError(
                        .hardLinkOutside, entry: entry.name, "hard link to \(entry.linkName) leads outside the folder")
                }
                let targetKey = target.joined(separator: "/")
                guard !target.isEmpty, nodes[targetKey] == .file, !passesThroughLink(target) else {
                    throw TarExtractionError(
                        .hardLinkOutside, entry: entry.name,
                        "hard link to \(entry.linkName), which is not an earlier file of the archive")
                }
                guard nodes[key] == nil else {
                    throw TarExtractionError(.conflictingEntry, entry: entry.name, "a link replaces an earlier entry")
                }
                nodes[key] = .file
                steps.append(.hardLink(path: key, target: targetKey))
            case .other(let type):
                throw TarExtractionError(.specialFile, entry: entry.name, Self.describe(type: type))
            }
        }
        // Links may point through links that came later in the archive: check them all again.
        for link in links where !resolvesInside(Array(link.path.dropLast()), link.target) {
            throw TarExtractionError(
                .symbolicLinkOutside, entry: link.entry, "symbolic link to \(link.target) leads outside the folder")
        }
    }

    /// The path's components, `.` and empty ones dropped; refuses absolute paths and `..`.
    /// Split on bytes: `\u{0600}/../../\u{0301}x` is two `Character` segments but four to the kernel.
    static func components(of name: String, entry: String) throws -> [String] {
        guard !name.containsByte("\0") else { throw TarExtractionError(.invalidName, entry: entry, "NUL in the name") }
        guard !name.bytesStart(with: "/") else { throw TarExtractionError(.absolutePath, entry: entry, "absolute path") }
        let components = name.slashSegments(omittingEmpty: true).filter { !$0.bytesEqual(".") }.map(String.init)
        guard !components.contains(where: { $0.bytesEqual("..") }) else {
            throw TarExtractionError(.parentReference, entry: entry, "'..' in the path")
        }
        return components
    }

    /// Every parent must be a directory (made implicitly when the archive did not list it), never a link.
    private mutating func addParents(_ components: [String], entry: String) throws {
        for end in 1..<components.count {
            let key = components[..<end].joined(separator: "/")
            switch nodes[key] {
            case nil: nodes[key] = .directory
            case .directory: break
            case .symbolicLink:
                throw TarExtractionError(
                    .throughSymbolicLink, entry: entry, "the path goes through the symbolic link \(key)")
            case .file:
                throw TarExtractionError(.conflictingEntry, entry: entry, "the path goes through the file \(key)")
            }
        }
    }

    private func passesThroughLink(_ components: [String]) -> Bool {
        (1..<max(components.count, 1)).contains { end in
            if case .symbolicLink = nodes[components[..<end].joined(separator: "/")] { return true }
            return false
        }
    }

    /// Resolves `target` from `directory` as the kernel would, following the archive's own links
    /// (at most 40), and says whether it stays inside the folder.
    func resolvesInside(_ directory: [String], _ target: String) -> Bool {
        var location = directory
        var pending = target.slashSegments(omittingEmpty: true).map(String.init)[...]
        var hops = 0
        while let component = pending.popFirst() {
            if component.bytesEqual(".") { continue }
            if component.bytesEqual("..") {
                guard !location.isEmpty else { return false }
                location.removeLast()
            } else if case .symbolicLink(let next) = nodes[(location + [component]).joined(separator: "/")] {
                hops += 1
                guard hops <= 40, !next.bytesStart(with: "/") else { return false }
                pending = (next.slashSegments(omittingEmpty: true).map(String.init) + pending)[...]
            } else {
                location.append(component)
            }
        }
        return true
    }

    static func describe(type: UInt8) -> String {
        switch type {
        case UInt8(ascii: "3"): "character device"
        case UInt8(ascii: "4"): "block device"
        case UInt8(ascii: "6"): "FIFO"
        case UInt8(ascii: "S"): "sparse file (unsupported)"
        default: "entry of unsupported type '\(Character(Unicode.Scalar(type)))'"
        }
    }

    // MARK: Writing

    func materialize(tar: String, into destination: String) throws -> SafeTarExtractor.Summary {
        let root = destination.bytesEnd(with: "/") ? String(decoding: destination.utf8.dropLast(), as: UTF8.self) : destination
        let existed = FileManager.default.fileExists(atPath: root)
        do {
            try FileManager.default.createDirectory(
                atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            return try writeSteps(tar: tar, root: root)
        } catch {
            // Leave nothing behind: the folder was created here or was empty.
            if existed {
                for item in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
                    try? FileManager.default.removeItem(atPath: root + "/" + item)
                }
            } else {
                try? FileManager.default.removeItem(atPath: root)
            }
            if error is TarExtractionError { throw error }
            throw TarExtractionError(.writeFailed, entry: nil, "\(error)")
        }
    }

    private func writeSteps(tar: String, root: String) throws -> SafeTarExtractor.Summary {
        let input = open(tar, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            throw TarExtractionError(.writeFailed, entry: nil, "cannot open \(tar): \(Self.errnoText())")
        }
        defer { close(input) }
        var summary = SafeTarExtractor.Summary()
        var made: Set<String> = []
        var directoryTimes: [(String, Int64)] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)

        func makeDirectory(_ relative: String) throws {
            guard !made.contains(relative) else { return }
            if let parent = relative.beforeLastSlash { try makeDirectory(String(parent)) }
            let path = root + "/" + relative
            if mkdir(path, 0o755) != 0 {
                var info = stat()
                guard errno == EEXIST, lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                    throw TarExtractionError(.writeFailed, entry: relative, "mkdir: \(Self.errnoText())")
                }
            }
            chmod(path, 0o755)
            made.insert(relative)
            summary.directories += 1
        }
        func makeParent(_ relative: String) throws {
            if let parent = relative.beforeLastSlash { try makeDirectory(String(parent)) }
        }

        for step in steps {
            switch step {
            case .directory(let path, let mtime):
                try makeDirectory(path)
                if let mtime { directoryTimes.append((path, mtime)) }
            case .file(let path, let offset, let size, let mode, let mtime):
                try makeParent(path)
                let target = root + "/" + path
                if unlink(target) != 0 && errno != ENOENT {
                    throw TarExtractionError(.writeFailed, entry: path, "unlink: \(Self.errnoText())")
                }
                let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                guard output >= 0 else {
                    throw TarExtractionError(.writeFailed, entry: path, "open: \(Self.errnoText())")
                }
                defer { close(output) }
                var copied: Int64 = 0
                while copied < size {
                    let want = Int(min(Int64(buffer.count), size - copied))
                    let count = buffer.withUnsafeMutableBytes {
                        pread(input, $0.baseAddress, want, off_t(offset + copied))
                    }
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else {
                        throw TarExtractionError(.invalidArchive, entry: path, "the archive ends inside this file")
                    }
                    var written = 0
                    while written < count {
                        let result = buffer.withUnsafeBytes {
                            write(output, $0.baseAddress! + written, count - written)
                        }
                        if result < 0 && errno == EINTR { continue }
                        guard result > 0 else {
                            throw TarExtractionError(.writeFailed, entry: path, "write: \(Self.errnoText())")
                        }
                        written += result
                    }
                    copied += Int64(count)
                }
                fchmod(output, mode_t(mode & 0o755))
                if let mtime { Self.setTime(output: output, mtime) }
                summary.files += 1
                summary.totalBytes += size
            case .hardLink(let path, let target):
                try makeParent(path)
                guard link(root + "/" + target, root + "/" + path) == 0 else {
                    throw TarExtractionError(.writeFailed, entry: path, "link: \(Self.errnoText())")
                }
                summary.hardLinks += 1
            case .symbolicLink:
                continue
            }
        }
        for case .symbolicLink(let path, let target, let mtime) in steps {
            try makeParent(path)
            guard symlink(target, root + "/" + path) == 0 else {
                throw TarExtractionError(.writeFailed, entry: path, "symlink: \(Self.errnoText())")
            }
            if let mtime { Self.setTime(path: root + "/" + path, mtime) }
            summary.symbolicLinks += 1
        }
        // Deepest first, after everything inside them is written.
        for (path, mtime) in directoryTimes.sorted(by: { $0.0.count > $1.0.count }) {
            Self.setTime(path: root + "/" + path, mtime)
        }
        return summary
    }

    private static func setTime(output: Int32, _ mtime: Int64) {
        var times = [timespec(tv_sec: Int(mtime), tv_nsec: 0), timespec(tv_sec: Int(mtime), tv_nsec: 0)]
        futimens(output, &times)
    }

    private static func setTime(path: String, _ mtime: Int64) {
        var times = [timespec(tv_sec: Int(mtime), tv_nsec: 0), timespec(tv_sec: Int(mtime), tv_nsec: 0)]
        utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// The raw 512-byte header of an entry (TarReader gives where the content starts;
/// the entry's own header is the block just before it), for its mode and time.
private final class HeaderReader {
    struct Header {
        let mode: UInt32
        let mtime: Int64?
    }

    private let file: FileHandle

    init(path: String) throws {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw TarExtractionError(.invalidArchive, entry: nil, "cannot open \(path)")
        }
        self.file = file
    }

    deinit { try? file.close() }

    func header(before dataOffset: Int64) throws -> Header {
        guard dataOffset >= 512 else {
            throw TarExtractionError(.invalidArchive, entry: nil, "header offset \(dataOffset)")
        }
        try file.seek(toOffset: UInt64(dataOffset - 512))
        let block = [UInt8]((try file.read(upToCount: 512)) ?? Data())
        guard block.count == 512 else { throw TarExtractionError(.invalidArchive, entry: nil, "truncated header") }
        return Header(
            mode: UInt32(truncatingIfNeeded: Self.octal(block[100..<108]) ?? 0o644), mtime: Self.octal(block[136..<148])
        )
    }

    /// A NUL/space-terminated octal field (nil for base-256 or garbage).
    static func octal(_ field: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        var digits = 0
        for byte in field {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                guard value < Int64.max >> 3 else { return nil }
                value = value * 8 + Int64(byte - UInt8(ascii: "0"))
                digits += 1
            case UInt8(ascii: " ") where digits == 0: continue
            case 0, UInt8(ascii: " "): return digits > 0 ? value : nil
            default: return nil
            }
        }
        return digits > 0 ? value : nil
    }
}
