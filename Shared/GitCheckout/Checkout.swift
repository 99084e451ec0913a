import Foundation
import Logging
import Processes

/// Checks out a repository at a ref through the mirror cache and packs its build
/// context: validate → fetch (or clone) and resolve → write the work tree
/// (submodules) → check the paths → pack; a commit packed before reuses its
/// tarball (`ContextCache`). Without submodules the repository's kept work tree is moved to the
/// commit (`KeptWorkTree`) when no other checkout holds it; otherwise a fresh tree is written and
/// removed afterwards. The tarball is
/// the caller's to upload and delete, and must not be modified in place (it may
/// be a hard link to the cached copy).
public struct ContextCheckout: Sendable {
    public struct Configuration: Sendable {
        /// Where the mirrors live; kept between runs and shared with other processes.
        public var cacheDirectory: String
        /// Where work trees and tarballs are written.
        public var workDirectory: String
        public var policy: RepositoryPolicy
        public var credentials: GitCredentials
        /// Longest any one git (or tar) run may take.
        public var gitTimeout: Duration
        /// Between SIGTERM and SIGKILL when a run is stopped.
        public var stopGracePeriod: Duration
        public var maxDockerfileBytes: Int
        /// Packed contexts kept per repository for reuse by checkouts of the same commit; 0 turns reuse off.
        public var contextCacheLimit: Int
        public var gitExecutable: String
        /// Keep one work tree per repository and move it to each new commit (`KeptWorkTree`)
        /// instead of writing every file into a fresh folder.
        public var keepWorkTrees: Bool

        public init(
            cacheDirectory: String, workDirectory: String, policy: RepositoryPolicy = RepositoryPolicy(),
            credentials: GitCredentials = GitCredentials(), gitTimeout: Duration = .seconds(600),
            stopGracePeriod: Duration = .seconds(2), maxDockerfileBytes: Int = 1 << 20, contextCacheLimit: Int = 4,
            gitExecutable: String = "git", keepWorkTrees: Bool = true
        ) {
            self.cacheDirectory = cacheDirectory
            self.workDirectory = workDirectory
            self.policy = policy
            self.credentials = credentials
            self.gitTimeout = gitTimeout
            self.stopGracePeriod = stopGracePeriod
            self.maxDockerfileBytes = maxDockerfileBytes
            self.contextCacheLimit = contextCacheLimit
            self.gitExecutable = gitExecutable
            self.keepWorkTrees = keepWorkTrees
        }
    }

    public let configuration: Configuration
    public let mirrors: MirrorCache
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "buildchain.git-checkout")) {
        self.configuration = configuration
        self.mirrors = MirrorCache(directory: configuration.cacheDirectory)
        self.logger = logger
    }

    /// Runs one checkout. `onEvent` receives git's output lines (credentials
    /// scrubbed) and a line per step. Cancelling the task stops the running git.
    public func run(_ request: CheckoutRequest, onEvent: @escaping @Sendable (CheckoutEvent) -> Void = { _ in })
        async throws -> CheckoutResult
    {
        let started = ContinuousClock.now
        let plan = try configuration.policy.validate(request)
        let id = UUID().uuidString.lowercased()
        let folder = "\(configuration.workDirectory)/checkout-\(id)"
        let output = "\(configuration.workDirectory)/context-\(id).tar.gz"
        do {
            let result = try await run(plan, folder: folder, output: output, started: started, onEvent: onEvent)
            await Blocking.remove(folder)
            logger.info(
                "checkout finished",
                metadata: [
                    "repository": "\(result.repository)", "commit": "\(result.commit)",
                    "mirror": "\(result.mirror.rawValue)", "context.bytes": "\(result.context.size)",
                ])
            return result
        } catch {
            await Blocking.remove(folder)
            unlink(output)
            throw error
        }
    }

    private func run(
        _ plan: ValidatedRequest, folder: String, output: String, started: ContinuousClock.Instant,
        onEvent: @escaping @Sendable (CheckoutEvent) -> Void
    ) async throws -> CheckoutResult {
        let home = "\(folder)/home"
        do {
            for directory in [configuration.cacheDirectory, configuration.workDirectory, folder] {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            try GitCommand.prepareHome(
                at: home, credentials: configuration.credentials,
                knownHostsFile: "\(configuration.cacheDirectory)/ssh_known_hosts")
        } catch let error as CheckoutError {
            throw error
        } catch {
            throw CheckoutError.storageFailed("cannot prepare the work folder: \(error)")
        }
        let setup = GitCommand.Setup(
            executable: configuration.gitExecutable, home: home, transports: configuration.policy.allowedTransports,
            credentials: configuration.credentials, timeout: configuration.gitTimeout,
            gracePeriod: configuration.stopGracePeriod)
        let git = GitCommand(setup: setup, repository: plan.repository, events: onEvent, logger: logger)

        let prepared = try await mirrors.prepare(plan.repository, ref: plan.ref, git: git)
        let commit = prepared.resolution.commit
        onEvent(CheckoutEvent(stage: .fetch, message: "mirror \(prepared.outcome.rawValue); \(plan.ref) is \(commit)"))
        let fetched = ContinuousClock.now

        let contexts = ContextCache(
            folder: "\(mirrors.folder(for: plan.repository))/contexts", limit: configuration.contextCacheLimit)
        let key = ContextCache.key(commit: commit, plan: plan)
        if let (packed, entry) = await contexts.take(key, to: output) {
            onEvent(CheckoutEvent(stage: .pack, message: "reused the context packed earlier for \(commit)"))
            let finished = ContinuousClock.now
            return CheckoutResult(
                repository: plan.repository.text, commit: commit, resolvedRef: prepared.resolution.refName,
                context: packed, contextReused: true, dockerfile: entry.dockerfile,
                dockerfilePath: plan.dockerfilePathInRepository, contextPath: plan.contextPath,
                mirror: prepared.outcome, workTreeKept: false,
                submodules: entry.submodules,
                timings: CheckoutTimings(
                    fetch: fetched - started, checkout: .zero, pack: finished - fetched, total: finished - started))
        }

        let kept = try await keptWorkTree(plan, commit: commit, mirror: prepared.mirror, git: git)
        // Held until the tarball is written: the next checkout of this repository moves the tree.
        defer { kept?.release() }
        let tree: WorkTree
        if let kept {
            tree = kept.tree
        } else {
            tree = try await WorkTree.materialize(commit: commit, mirror: prepared.mirror, in: folder, git: git)
        }
        var submodules: [String] = []
        if plan.submodules {
            // SubmoduleUpdater gives git every submodule URL resolved; should git resolve one
            // itself, it does so against the repository's URL, not the mirror's folder.
            try await git.run("config", ["config", "remote.origin.url", plan.repository.text], gitDir: tree.gitDir)
            submodules = try await SubmoduleUpdater(policy: configuration.policy, git: git).update(
                in: tree.root, relativePath: "", superproject: plan.repository, gitDir: tree.gitDir,
                workTree: tree.root)
        }
        let checkedOut = ContinuousClock.now

        let context = try PathGuard.resolve(
            plan.contextPath, from: tree.root, inside: tree.root, kind: .directory, field: "contextPath")
        let dockerfile: String
        do {
            dockerfile = try PathGuard.resolve(
                plan.dockerfilePath, from: context, inside: tree.root, kind: .file, field: "dockerfilePath",
                shown: plan.dockerfilePathInRepository)
        } catch .pathNotFound(let field, let path, _) {
            throw CheckoutError.pathNotFound(field: field, path: path, hint: Self.rootRelativeHint(plan, root: tree.root))
        }
        let dockerfileText = try readDockerfile(dockerfile, shown: plan.dockerfilePathInRepository)
        try Task.checkCancellation()
        let packer = ContextPacker(timeout: configuration.gitTimeout, gracePeriod: configuration.stopGracePeriod)
        let packed = try await packer.pack(
            context: context, dockerfile: plan.dockerfilePath, modificationTime: prepared.resolution.commitTime,
            output: output)
        onEvent(
            CheckoutEvent(
                stage: .pack, message: "packed \(packed.entries) entries, \(packed.size) bytes, sha256 \(packed.sha256)"
            ))
        contexts.store(
            key, packed: packed,
            entry: .init(
                size: packed.size, sha256: packed.sha256, entries: packed.entries, dockerfile: dockerfileText,
                submodules: submodules))
        let finished = ContinuousClock.now

        return CheckoutResult(
            repository: plan.repository.text, commit: commit, resolvedRef: prepared.resolution.refName, context: packed,
            contextReused: false, dockerfile: dockerfileText, dockerfilePath: plan.dockerfilePathInRepository,
            contextPath: plan.contextPath,
            mirror: prepared.outcome, workTreeKept: kept != nil, submodules: submodules,
            timings: CheckoutTimings(
                fetch: fetched - started, checkout: checkedOut - fetched, pack: finished - checkedOut,
                total: finished - started))
    }

    /// The repository's kept work tree at `commit`; nil with submodules (their trees are written
    /// fresh), when turned off, or while another checkout holds it.
    private func keptWorkTree(_ plan: ValidatedRequest, commit: String, mirror: String, git: GitCommand) async throws
        -> KeptWorkTree?
    {
        guard configuration.keepWorkTrees, !plan.submodules else { return nil }
        return try await KeptWorkTree.borrow(
            commit: commit, mirror: mirror, folder: mirrors.folder(for: plan.repository), git: git)
    }

    /// When the Dockerfile is missing from the context but `dockerfilePath` names a file from
    /// the repository root (`--context sub --dockerfile sub/Dockerfile`): says so, without
    /// building something else than what was asked.
    static func rootRelativeHint(_ plan: ValidatedRequest, root: String) -> String? {
        guard plan.contextPath != ".",
            (try? PathGuard.resolve(plan.dockerfilePath, from: root, inside: root, kind: .file, field: "")) != nil
        else { return nil }
        let relativeToContext = "dockerfile_path is relative to the context (\(plan.contextPath))"
        let prefix = "\(plan.contextPath)/"
        guard plan.dockerfilePath.hasPrefix(prefix) else {
            return "\(relativeToContext); \(plan.dockerfilePath) exists from the repository root, outside the context"
        }
        let inContext = plan.dockerfilePath.dropFirst(prefix.count)
        return "\(relativeToContext); \(plan.dockerfilePath) from the repository root is dockerfile_path \(inContext)"
    }

    private func readDockerfile(_ path: String, shown: String) throws -> String {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= configuration.maxDockerfileBytes else {
            throw CheckoutError.invalidRequest(
                field: "dockerfilePath",
                reason: "the Dockerfile is larger than \(configuration.maxDockerfileBytes) bytes")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckoutError.pathNotFound(field: "dockerfilePath", path: shown)
        }
        return String(decoding: data, as: UTF8.self)
    }
}
