import Digests
import Foundation
import PathBytes
import Processes

/// Packs a build context into a gzip tarball with `tar` and `gzip`: the entries a
/// `.dockerignore` keeps, symlinks as symlinks (never followed), owner 0:0, every
/// time stamp set to the commit's, modes normalized, names sorted, gzip members of
/// fixed-size pieces without a name or time, so one commit always gives the same bytes.
public struct ContextPacker: Sendable {
    public var timeout: Duration?
    public var gracePeriod: Duration
    /// Uncompressed MiB per gzip member. Fixed (not the machine's cores), so the tarball of a
    /// commit is the same everywhere; changing it changes every tarball (`ContextCache.formatVersion`).
    public var pieceMegabytes: Int

    public init(timeout: Duration? = .seconds(600), gracePeriod: Duration = .seconds(2), pieceMegabytes: Int = 32) {
        self.timeout = timeout
        self.gracePeriod = gracePeriod
        self.pieceMegabytes = max(1, pieceMegabytes)
    }

    /// Reads `<context>/.dockerignore`; no file means no patterns. A symlink leading
    /// out of the context is refused rather than read.
    public static func dockerIgnore(in context: String) throws(CheckoutError) -> DockerIgnore {
        let path = "\(context)/.dockerignore"
        var info = stat()
        guard lstat(path, &info) == 0 else { return try DockerIgnore(patterns: []) }
        if info.st_mode & S_IFMT == S_IFLNK {
            guard let real = PathGuard.realPath(path) else { return try DockerIgnore(patterns: []) }
            guard let root = PathGuard.realPath(context), real.bytesStart(with: root + "/") else {
                throw .pathOutsideRepository(field: ".dockerignore", path: ".dockerignore")
            }
        }
        guard let data = FileManager.default.contents(atPath: path) else { return try DockerIgnore(patterns: []) }
        return try DockerIgnore(contents: String(decoding: data, as: UTF8.self))
    }

    /// The entries (folders, files, symlinks) of `context` Docker would send, as
    /// sorted relative paths. The Dockerfile and `.dockerignore` are always kept;
    /// git's `.git` entries never are.
    public func selectEntries(in context: String, dockerfile: String, ignore: DockerIgnore) throws -> [String] {
        let alwaysKept: Set<String> = [dockerfile, ".dockerignore"]
        var aboveKept: Set<String> = []
        for path in alwaysKept {
            var components = path.slashSegments(omittingEmpty: true).dropLast()
            while !components.isEmpty {
                aboveKept.insert(components.joined(separator: "/"))
                components = components.dropLast()
            }
        }
        var entries: [String] = []
        func walk(_ folder: String, relative: String) throws {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where name != ".git" {
                let path = relative.isEmpty ? name : "\(relative)/\(name)"
                let absolute = "\(folder)/\(name)"
                var info = stat()
                guard lstat(absolute, &info) == 0 else { continue }
                let type = info.st_mode & S_IFMT
                let excluded = !alwaysKept.contains(path) && ignore.excludes(path)
                if type == S_IFDIR {
                    if !excluded {
                        entries.append(path)
                        try walk(absolute, relative: path)
                    } else if ignore.hasExceptions || aboveKept.contains(path) {
                        // An exception may keep something below; the folder comes along if it does.
                        let before = entries.count
                        try walk(absolute, relative: path)
                        if entries.count > before { entries.append(path) }
                    }
                } else if (type == S_IFREG || type == S_IFLNK) && !excluded {
                    entries.append(path)
                }
            }
        }
        try walk(context, relative: "")
        return entries.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Writes the tarball of `context` to `output` and hashes it: `tar` writes the plain archive,
    /// its pieces (32 MiB by default) are compressed at once (`gzip -1`, as many at a time as there are cores)
    /// into gzip members, and the members are joined. A gzip file of several members is one
    /// stream to every reader (`gzip -d`, Go's and Python's gzip). Level 1 because the tarball
    /// crosses a loopback hop to artifact-service: level 6 took three times the CPU for 11% less.
    public func pack(context: String, dockerfile: String, modificationTime: Int64, output: String) async throws
        -> PackedContext
    {
        let ignore = try Self.dockerIgnore(in: context)
        let entries = try await Blocking.run { [self] in
            try selectEntries(in: context, dockerfile: dockerfile, ignore: ignore)
        }
        let list = output + ".list"
        let plain = output + ".tar"
        defer { unlink(list); unlink(plain) }
        var names = Data()
        for entry in entries {
            names.append(contentsOf: entry.utf8)
            names.append(0)
        }
        do {
            try names.write(to: URL(fileURLWithPath: list))
        } catch {
            throw CheckoutError.storageFailed("cannot write the file list: \(error)")
        }
        var environment = ChildProcess.minimalEnvironment
        environment["LC_ALL"] = "C"
        try await runPacking(
            "tar",
            [
                "--create", "--file=\(plain)", "--format=gnu", "--owner=0",
                "--group=0", "--numeric-owner", "--mtime=@\(modificationTime)", "--mode=go-w,a+rX", "--no-recursion",
                "--null", "--verbatim-files-from", "--no-unquote", "--files-from=\(list)",
            ], environment: environment, workingDirectory: context, operation: "tar")
        let plainSize = try Self.size(of: plain)
        let pieceBytes = Int64(pieceMegabytes) << 20
        let pieces = max(1, Int((plainSize + pieceBytes - 1) / pieceBytes))
        let members = (0..<pieces).map { "\(output).\($0).gz" }
        defer { members.forEach { unlink($0) } }
        try await compress(plain, into: members)
        let (size, digest) = try await Blocking.run { try Self.join(members, into: output) }
        return PackedContext(path: output, size: size, sha256: digest, entries: entries.count)
    }

    /// Piece i of `plain` to `members[i]`, at most as many gzips at a time as there are cores.
    private func compress(_ plain: String, into members: [String]) async throws {
        // dd's failure would otherwise be hidden behind gzip's exit status.
        let script = #"{ dd if="$1" bs=1048576 skip="$3" count="$4" status=none || echo "dd: exit status $?" >&2; } | gzip -n -1 > "$2""#
        let megabytes = pieceMegabytes
        let width = max(1, min(members.count, ProcessInfo.processInfo.activeProcessorCount))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, member) in members.enumerated() {
                if index >= width { try await group.next() }
                group.addTask {
                    try await runPacking(
                        "sh", ["-c", script, "sh", plain, member, "\(index * megabytes)", "\(megabytes)"],
                        environment: ChildProcess.minimalEnvironment, workingDirectory: nil, operation: "gzip")
                }
            }
            try await group.waitForAll()
        }
    }

    private func runPacking(
        _ executable: String, _ arguments: [String], environment: [String: String], workingDirectory: String?,
        operation: String
    ) async throws {
        let spec = ProcessSpec(
            executable, arguments, environment: environment, workingDirectory: workingDirectory, timeout: timeout,
            gracePeriod: gracePeriod)
        let (result, _, stderr) = try await ChildProcess.output(spec)
        if result.cancelled { throw CancellationError() }
        if result.timedOut { throw CheckoutError.timedOut(operation: operation) }
        let errors = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.succeeded, !errors.contains("dd: exit status") else {
            throw CheckoutError.packingFailed(String(errors.prefix(2000)))
        }
    }

    private static func size(of path: String) throws -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CheckoutError.packingFailed("cannot read the tarball: \(String(cString: strerror(errno)))")
        }
        return Int64(info.st_size)
    }

    /// Appends the members to `output` in order, hashing what is written.
    static func join(_ members: [String], into output: String) throws -> (Int64, String) {
        let target = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard target >= 0 else {
            throw CheckoutError.storageFailed("cannot write the tarball: \(String(cString: strerror(errno)))")
        }
        defer { close(target) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var size: Int64 = 0
        for member in members {
            try forEachPiece(of: member, into: &buffer) { piece in
                var written = 0
                while written < piece.count {
                    let count = write(target, piece.baseAddress! + written, piece.count - written)
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else {
                        throw CheckoutError.storageFailed("cannot write the tarball: \(String(cString: strerror(errno)))")
                    }
                    written += count
                }
                hasher.update(piece)
                size += Int64(piece.count)
            }
        }
        return (size, hasher.finalize().hex)
    }

    /// Size and SHA-256 of a file, read in 1 MiB pieces.
    static func digest(of path: String) throws -> (Int64, String) {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var size: Int64 = 0
        try forEachPiece(of: path, into: &buffer) { piece in
            hasher.update(piece)
            size += Int64(piece.count)
        }
        return (size, hasher.finalize().hex)
    }

    /// Reads the file at `path` through `buffer`, handing each piece read to `body`.
    private static func forEachPiece(
        of path: String, into buffer: inout [UInt8], _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw CheckoutError.packingFailed("cannot read the tarball: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw CheckoutError.packingFailed("cannot read the tarball: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }
}
