import Digests
import Foundation
import Processes

/// Recently packed contexts of one repository. `ContextPacker` is reproducible,
/// so a commit, context folder, Dockerfile and submodule choice always give the
/// same tarball: a checkout of an unchanged ref (a retried or resumed stage)
/// links the earlier tarball instead of writing the tree and packing it again.
/// Keeps the `limit` most recently used entries.
struct ContextCache: Sendable {
    /// Bump when the packer's output changes, so older tarballs are never reused.
    static let formatVersion = "2"

    struct Entry: Sendable, Codable {
        let size: Int64
        let sha256: String
        let entries: Int
        let dockerfile: String
        let submodules: [String]
    }

    let folder: String
    let limit: Int

    static func key(commit: String, plan: ValidatedRequest) -> String {
        SHA256.hash(
            [formatVersion, commit, plan.contextPath, plan.dockerfilePath, "\(plan.submodules)"].joined(separator: "\0")
        ).hex
    }

    /// Links (or copies) the cached tarball to `output` and checks it is intact; nil when there is none.
    func take(_ key: String, to output: String) async -> (PackedContext, Entry)? {
        guard limit > 0, let data = FileManager.default.contents(atPath: "\(folder)/\(key).json"),
            let entry = try? JSONDecoder().decode(Entry.self, from: data)
        else { return nil }
        let tarball = "\(folder)/\(key).tar.gz"
        guard link(tarball, output) == 0 || (try? FileManager.default.copyItem(atPath: tarball, toPath: output)) != nil
        else { return nil }
        guard let (size, digest) = try? await Blocking.run({ try ContextPacker.digest(of: output) }),
            size == entry.size, digest == entry.sha256
        else {
            unlink(output)
            return nil
        }
        // The metadata file's modification time orders entries for eviction.
        utimes("\(folder)/\(key).json", nil)
        return (PackedContext(path: output, size: size, sha256: digest, entries: entry.entries), entry)
    }

    /// Keeps `packed` under `key`; failures only mean a later miss.
    func store(_ key: String, packed: PackedContext, entry: Entry) {
        guard limit > 0 else { return }
        let temporary = "\(folder)/\(key).tmp-\(UUID().uuidString.lowercased())"
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if link(packed.path, temporary) != 0 {
                try FileManager.default.copyItem(atPath: packed.path, toPath: temporary)
            }
            guard rename(temporary, "\(folder)/\(key).tar.gz") == 0 else { throw CocoaError(.fileWriteUnknown) }
            try JSONEncoder().encode(entry).write(to: URL(fileURLWithPath: "\(folder)/\(key).json"), options: .atomic)
        } catch {
            unlink(temporary)
            return
        }
        evictBeyondLimit()
    }

    private func evictBeyondLimit() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let entries = names.filter { $0.hasSuffix(".json") }.map { name -> (key: String, used: Date) in
            let used =
                (try? FileManager.default.attributesOfItem(atPath: "\(folder)/\(name)")[.modificationDate]) as? Date
            return (String(name.dropLast(5)), used ?? .distantPast)
        }
        for stale in entries.sorted(by: { $0.used > $1.used }).dropFirst(limit) {
            unlink("\(folder)/\(stale.key).json")
            unlink("\(folder)/\(stale.key).tar.gz")
        }
    }
}
