import Digests
import Foundation
import PathBytes
import Processes

/// A `docker save`-style image tarball, as Kaniko's `--tar-path` and
/// `buildah push docker-archive:` write it: `manifest.json`, a config blob and
/// one file per layer. Blobs stay in the file; only their places are kept.
public struct DockerArchive: Sendable {
    public struct Config: Sendable, Equatable {
        public let bytes: [UInt8]
        /// `sha256:<hex>` of `bytes`.
        public let digest: String
        /// The uncompressed layer digests (`rootfs.diff_ids`), when the config lists them.
        public let diffIDs: [String]
    }

    public struct Layer: Sendable, Equatable {
        /// The member name `manifest.json` lists (before links are followed).
        public let name: String
        /// Where the layer's bytes start in the archive file.
        public let offset: Int64
        public let size: Int64
        /// `sha256:<hex>` of the layer exactly as stored: the blob digest a registry sees.
        public let digest: String
        public let compression: Compression
    }

    public enum Compression: Sendable, Equatable {
        case none
        case gzip
        case zstd
    }

    public let path: String
    public let config: Config
    public let layers: [Layer]
    /// The names the archive was saved under (`RepoTags`), possibly empty.
    public let repoTags: [String]

    /// Reads the archive's table of contents and hashes each layer, reading
    /// the file once from start to end. This blocks; from async code use `open(path:)`.
    public init(path: String) throws {
        let entries = try TarReader.entries(at: path)
        var byName: [String: TarEntry] = [:]
        for entry in entries { byName[Self.normalize(entry.name)] = entry }
        guard let manifestEntry = byName["manifest.json"] else { throw DockerArchiveError.missingManifest }
        let reader = try FileRegionReader(path: path)
        let manifests: [ArchiveManifest]
        do {
            manifests = try JSONDecoder().decode(
                [ArchiveManifest].self, from: Data(try reader.read(manifestEntry, limit: 4 << 20)))
        } catch let error as DockerArchiveError {
            throw error
        } catch {
            throw DockerArchiveError.invalidManifest("\(error)")
        }
        guard let manifest = manifests.first else { throw DockerArchiveError.invalidManifest("no image listed") }

        let configEntry = try Self.resolve(manifest.config, in: byName)
        let configBytes = try reader.read(configEntry, limit: 16 << 20)
        self.path = path
        self.repoTags = manifest.repoTags ?? []
        self.config = Config(
            bytes: configBytes, digest: "sha256:" + SHA256.hash(configBytes).hex,
            diffIDs: (try? JSONDecoder().decode(ImageConfigRootFS.self, from: Data(configBytes)))?.rootfs?.diffIDs ?? []
        )
        self.layers = try manifest.layers.map { name in
            let entry = try Self.resolve(name, in: byName)
            let (digest, magic) = try reader.hash(entry)
            return Layer(
                name: name, offset: entry.dataOffset, size: entry.size, digest: "sha256:" + digest.hex,
                compression: Self.compression(magic: magic))
        }
    }

    /// `init(path:)` on a thread of its own, so hashing large layers does not hold a cooperative thread.
    public static func open(path: String) async throws -> DockerArchive {
        try await Blocking.run(name: "docker-archive") { try DockerArchive(path: path) }
    }

    /// Follows symbolic and hard links (docker save's `<id>/layer.tar` often points at a sibling).
    private static func resolve(_ name: String, in byName: [String: TarEntry]) throws -> TarEntry {
        var current = normalize(name)
        for _ in 0..<16 {
            guard let entry = byName[current] else { throw DockerArchiveError.missingMember(name) }
            switch entry.kind {
            case .file:
                return entry
            case .symbolicLink:
                let directory = current.slashSegments(omittingEmpty: true).dropLast().joined(separator: "/")
                current = normalize(entry.linkName.bytesStart(with: "/") ? entry.linkName : directory + "/" + entry.linkName)
            case .hardLink:
                current = normalize(entry.linkName)
            default:
                throw DockerArchiveError.missingMember(name)
            }
        }
        throw DockerArchiveError.missingMember(name)
    }

    /// `./a/../b//c` → `b/c`.
    static func normalize(_ name: String) -> String {
        var parts: [Substring] = []
        for part in name.slashSegments(omittingEmpty: true) {
            if part.bytesEqual("..") {
                _ = parts.popLast()
            } else if !part.bytesEqual(".") {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    private static func compression(magic: [UInt8]) -> Compression {
        if magic.starts(with: [0x1f, 0x8b]) { return .gzip }
        if magic.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        return .none
    }
}

public enum DockerArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingManifest
    case invalidManifest(String)
    case missingMember(String)
    case memberTooLarge(String, limit: Int)

    public var description: String {
        switch self {
        case .missingManifest: "the archive has no manifest.json (not a docker-archive tarball?)"
        case .invalidManifest(let reason): "manifest.json is not a docker-archive manifest: \(reason)"
        case .missingMember(let name): "the archive has no file \(name)"
        case .memberTooLarge(let name, let limit): "\(name) is larger than \(limit) bytes"
        }
    }
}

private struct ArchiveManifest: Decodable {
    let config: String
    let repoTags: [String]?
    let layers: [String]

    enum CodingKeys: String, CodingKey {
        case config = "Config"
        case repoTags = "RepoTags"
        case layers = "Layers"
    }
}

private struct ImageConfigRootFS: Decodable {
    struct RootFS: Decodable {
        let diffIDs: [String]?
        enum CodingKeys: String, CodingKey { case diffIDs = "diff_ids" }
    }
    let rootfs: RootFS?
}

/// Positional reads of archive members.
private final class FileRegionReader {
    private let file: FileHandle

    init(path: String) throws {
        guard let file = FileHandle(forReadingAtPath: path) else { throw TarError.cannotOpen(path) }
        self.file = file
    }

    deinit { try? file.close() }

    func read(_ entry: TarEntry, limit: Int) throws -> [UInt8] {
        guard entry.size <= Int64(limit) else { throw DockerArchiveError.memberTooLarge(entry.name, limit: limit) }
        try file.seek(toOffset: UInt64(entry.dataOffset))
        let bytes = [UInt8](try file.read(upToCount: Int(entry.size)) ?? Data())
        guard bytes.count == Int(entry.size) else { throw TarError.truncated(offset: entry.dataOffset) }
        return bytes
    }

    /// SHA-256 of the member's bytes, read in 1 MiB pieces, and its first four bytes.
    func hash(_ entry: TarEntry) throws -> (Digest, [UInt8]) {
        try file.seek(toOffset: UInt64(entry.dataOffset))
        var hasher = SHA256()
        var magic: [UInt8] = []
        var remaining = entry.size
        while remaining > 0 {
            guard let data = try file.read(upToCount: Int(min(remaining, 1 << 20))), !data.isEmpty else {
                throw TarError.truncated(offset: entry.dataOffset + entry.size - remaining)
            }
            if magic.count < 4 { magic.append(contentsOf: data.prefix(4 - magic.count)) }
            data.withUnsafeBytes { hasher.update($0) }
            remaining -= Int64(data.count)
        }
        return (hasher.finalize(), magic)
    }
}
