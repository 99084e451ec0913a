import Digests
import Foundation
import PathBytes
import Processes

/// Packs a build context into a gzip tarball with `tar` and `gzip`: the entries a
/// `.dockerignore` keeps, symlinks as symlinks (never followed), owner 0:0, every
/// time stamp set to the commit's, modes normalized, names sorted, gzip without a
/// name or time, so one commit always gives the same bytes.
public struct ContextPacker: Sendable {
    public var timeout: Duration?
    public var gracePeriod: Duration

    public init(timeout: Duration? = .seconds(600), gracePeriod: Duration = .seconds(2)) {
        self.timeout = timeout
        self.gracePeriod = gracePeriod
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

    /// Writes the tarball of `context` to `output` and hashes it.
    public func pack(context: String, dockerfile: String, modificationTime: Int64, output: String) async throws
        -> PackedContext
    {
        let ignore = try Self.dockerIgnore(in: context)
        let entries = try await Blocking.run { [self] in
            try selectEntries(in: context, dockerfile: dockerfile, ignore: ignore)
        }
        let list = output + ".list"
        defer { unlink(list) }
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
        let spec = ProcessSpec(
            "tar",
            [
                "--create", "--file=\(output)", "--use-compress-program=gzip -n", "--format=gnu", "--owner=0",
                "--group=0", "--numeric-owner", "--mtime=@\(modificationTime)", "--mode=go-w,a+rX", "--no-recursion",
                "--null", "--verbatim-files-from", "--no-unquote", "--files-from=\(list)",
            ], environment: environment, workingDirectory: context, timeout: timeout, gracePeriod: gracePeriod)
        let (result, _, stderr) = try await ChildProcess.output(spec)
        if result.cancelled { throw CancellationError() }
        if result.timedOut { throw CheckoutError.timedOut(operation: "tar") }
        guard result.succeeded else {
            throw CheckoutError.packingFailed(
                String(stderr.trimmingCharacters(in: .whitespacesAndNewlines).prefix(2000)))
        }
        let (size, digest) = try await Blocking.run { try Self.digest(of: output) }
        return PackedContext(path: output, size: size, sha256: digest, entries: entries.count)
    }

    /// Size and SHA-256 of a file, read in 1 MiB pieces.
    static func digest(of path: String) throws -> (Int64, String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw CheckoutError.packingFailed("cannot read the tarball: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var size: Int64 = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw CheckoutError.packingFailed("cannot read the tarball: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            size += Int64(count)
        }
        return (size, hasher.finalize().hex)
    }
}
