import Digests
import Foundation
import PathBytes
import Processes

/// Bare mirrors of repositories, one folder per normalized URL (named by its
/// SHA-256), cloned once and then only fetched. Fetches of one repository take
/// turns: in this process through `MirrorLocks`, across processes through a
/// `flock` on the folder's `lock` file. Copies of a value share its locks.
///
/// A mirror holds branches and tags (`+refs/heads/*`, `+refs/tags/*`, pruned on
/// every fetch), plus exactly the other refs and commits checkouts asked for.
/// It is always complete: a shallow request is served from the full history.
public struct MirrorCache: Sendable {
    public let directory: String
    private let locks = MirrorLocks()

    public init(directory: String) {
        self.directory = directory
    }

    /// The folder holding `url`'s mirror (`mirror.git`), its lock file and its URL.
    public func folder(for url: RepositoryURL) -> String {
        "\(directory)/\(SHA256.hash(url.text).hex)"
    }

    struct Prepared: Sendable {
        let mirror: String
        let resolution: RefResolver.Resolution
        let outcome: MirrorOutcome
    }

    /// Brings the mirror of `url` up to date and resolves `ref` in it.
    func prepare(_ url: RepositoryURL, ref: String, git: GitCommand) async throws -> Prepared {
        let folder = folder(for: url)
        let mirror = "\(folder)/mirror.git"
        // A commit named by its full SHA never changes: when the mirror has it, there is nothing to fetch.
        if RefResolver.isFullSHA(ref), FileManager.default.fileExists(atPath: mirror),
            let resolution = try await RefResolver(git: git, mirror: mirror).resolve(ref)
        {
            return Prepared(mirror: mirror, resolution: resolution, outcome: .reusedWithoutFetch)
        }
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CheckoutError.storageFailed("cannot create the mirror folder: \(error)")
        }
        return try await locks.withLock(folder) {
            let fileLock = try await FileLock.acquire(path: "\(folder)/lock")
            defer { fileLock.release() }
            let outcome: MirrorOutcome
            if FileManager.default.fileExists(atPath: mirror) {
                try await fetch(url, into: mirror, git: git)
                outcome = .fetched
            } else {
                try await create(url, at: mirror, in: folder, git: git)
                outcome = .created
            }
            if let refspec = Self.exactRefspec(for: ref) {
                try await fetchExact(refspec, ref: ref, url: url, into: mirror, git: git)
            }
            let resolver = RefResolver(git: git, mirror: mirror)
            if let resolution = try await resolver.resolve(ref) {
                return Prepared(mirror: mirror, resolution: resolution, outcome: outcome)
            }
            // A commit no branch or tag reaches (any more): ask for it by name.
            if RefResolver.isFullSHA(ref) {
                let sha = ref.lowercased()
                try await fetchExact(
                    "+\(sha):refs/buildchain/commits/\(sha)", ref: ref, url: url, into: mirror, git: git)
                if let resolution = try await resolver.resolve(sha) {
                    return Prepared(mirror: mirror, resolution: resolution, outcome: outcome)
                }
            }
            throw CheckoutError.refNotFound(ref)
        }
    }

    /// A clone into a temporary folder renamed into place once complete, so a
    /// mirror that exists is never half-made.
    private func create(_ url: RepositoryURL, at mirror: String, in folder: String, git: GitCommand) async throws {
        for leftover in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        where leftover.hasPrefix("mirror.tmp-") {
            await Blocking.remove("\(folder)/\(leftover)")
        }
        let temporary = "\(folder)/mirror.tmp-\(UUID().uuidString.lowercased())"
        do {
            try await git.run("init", ["-c", "init.defaultBranch=main", "init", "--quiet", "--bare", temporary])
            try await fetch(url, into: temporary, git: git)
            guard rename(temporary, mirror) == 0 else {
                throw CheckoutError.storageFailed(
                    "cannot move the new mirror into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            await Blocking.remove(temporary)
            throw error
        }
        try? Data("\(url.text)\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/url"))
    }

    /// Received packs are kept as they come, as a clone keeps them: git would otherwise explode a
    /// small fetch into loose objects, compressing every object (large blobs too) once more.
    private static let keepPacks = ["-c", "fetch.unpackLimit=1"]

    private func fetch(_ url: RepositoryURL, into mirror: String, git: GitCommand) async throws {
        try await git.run(
            "fetch",
            Self.keepPacks + [
                "fetch", "--prune", "--no-tags", "--no-write-fetch-head", "--progress", "--end-of-options", url.text,
                "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*",
            ], gitDir: mirror, stage: .fetch)
    }

    /// Fetches one ref or commit; the server not having it is `refNotFound`.
    private func fetchExact(_ refspec: String, ref: String, url: RepositoryURL, into mirror: String, git: GitCommand)
        async throws
    {
        let output = try await git.run(
            "fetch",
            Self.keepPacks + [
                "fetch", "--no-tags", "--no-write-fetch-head", "--progress", "--end-of-options", url.text, refspec,
            ],
            gitDir: mirror, stage: .fetch, check: false)
        guard !output.succeeded else { return }
        let error = git.failure("fetch", output: output)
        let stderr = output.stderr.lowercased()
        let unknown = ["couldn't find remote ref", "not our ref", "unadvertised object", "no such remote ref"]
        if case .gitFailed = error, unknown.contains(where: stderr.contains) { throw CheckoutError.refNotFound(ref) }
        throw error
    }

    /// The refspec for a ref outside branches and tags (`refs/pull/1/head`, `HEAD`), fetched on demand.
    static func exactRefspec(for ref: String) -> String? {
        if ref == "HEAD" { return "+HEAD:\(RefResolver.remoteHead)" }
        guard ref.bytesStart(with: "refs/"), !ref.bytesStart(with: "refs/heads/"), !ref.bytesStart(with: "refs/tags/") else { return nil }
        return "+\(ref):\(ref)"
    }
}
