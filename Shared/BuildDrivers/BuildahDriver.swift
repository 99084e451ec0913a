import Foundation
import Logging
import Processes
import Synchronization

/// Builds with Debian's `buildah` (1.28), daemonless, in storage of its own for each run:
///
/// ```
/// buildah --storage-driver vfs --root <run>/root --runroot <run>/runroot --registries-conf <run>/registries.conf \
///   bud <sandbox flags: BuildSandbox.budArguments> --layers --format docker -f <Dockerfile> -t <destination> \
///   [--build-arg K=V …] [--target <stage>] \
///   [--cache-to <cache registry>/kaniko-cache/<workload>-<service> --cache-from <same>] [--authfile <file>] <context>
/// buildah --storage-driver vfs --root … --runroot … push <destination> docker-archive:<output>:<destination>
/// ```
///
/// - Cache: buildah 1.28's `--cache-to/--cache-from` push each step's layer to the
///   per-service cache repository (tagged by the step's cache key) and pull it back on a
///   later run, so a run whose local storage is brand new still reuses steps, as Kaniko's
///   `--cache-repo` does. Cache off drops both flags; `--layers` stays so the image has one
///   layer per step whatever the cache setting.
/// - Mirrors and plain-HTTP registries: see `RegistriesConf` (written per run).
/// - Afterwards, whatever happened, `buildah rm --all` and the run folder (storage, runroot,
///   temporary files, registries.conf) are removed, and a Dockerfile written from text is deleted.
public final class BuildahDriver: BuildDriver {
    public struct Configuration: Sendable {
        /// `buildah`, looked up in `environment["PATH"]`, or a path.
        public var executable: String
        /// Each run gets a folder of its own under this one (created if missing).
        public var workDirectory: String
        /// `host[:port]` of the registry holding `kaniko-cache/<workload>-<service>`; nil: no cache.
        public var cacheRegistry: String?
        /// Where Docker Hub names are pulled from when the request has mirrors on, e.g. `harbor.example.com/dockerhub-proxy`.
        public var dockerHubMirror: String?
        /// Registries reached over plain HTTP besides loopback ones (which always are).
        public var insecureRegistries: Set<String>
        /// A containers-auth.json / docker config.json with the logins for pulls and cache pushes.
        public var authFile: String?
        /// The builder's whole environment (nothing is inherited); `TMPDIR` is set to the run folder
        /// and `HOME` to it when not given.
        public var environment: [String: String]
        /// Between SIGTERM and SIGKILL when a build is stopped.
        public var gracePeriod: Duration
        /// How `RUN` steps are isolated (by default: runc, a user namespace, the firewalled network).
        public var sandbox: BuildSandbox

        public init(
            executable: String = "buildah", workDirectory: String = NSTemporaryDirectory() + "buildchain-buildah",
            cacheRegistry: String? = nil, dockerHubMirror: String? = nil, insecureRegistries: Set<String> = [],
            authFile: String? = nil, environment: [String: String] = ChildProcess.minimalEnvironment,
            gracePeriod: Duration = .seconds(5), sandbox: BuildSandbox = BuildSandbox()
        ) {
            self.executable = executable
            self.workDirectory = workDirectory
            self.cacheRegistry = cacheRegistry
            self.dockerHubMirror = dockerHubMirror
            self.insecureRegistries = insecureRegistries
            self.authFile = authFile
            self.environment = environment
            self.gracePeriod = gracePeriod
            self.sandbox = sandbox
        }
    }

    /// The folders and files of one run.
    public struct RunPaths: Sendable, Equatable {
        public let directory: String
        public var root: String { directory + "/root" }
        public var runroot: String { directory + "/runroot" }
        public var registriesConf: String { directory + "/registries.conf" }
        public var temporary: String { directory + "/tmp" }
        /// The request's secret files, 0600 in a 0700 folder, gone with the run folder.
        public var secrets: String { directory + "/secrets" }

        public init(directory: String) { self.directory = directory }
    }

    public static let builderName = "buildah"
    public let configuration: Configuration
    private let logger: Logger
    private let cachedVersion = Mutex<String?>(nil)

    public init(configuration: Configuration, logger: Logger = Logger(label: "buildah-driver")) {
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: Command lines

    /// The storage options every buildah command of a run takes.
    public func storageArguments(run: RunPaths) -> [String] {
        ["--storage-driver", "vfs", "--root", run.root, "--runroot", run.runroot]
    }

    /// The `buildah … bud …` arguments for `request` (after the executable).
    public func budArguments(for request: BuildRequest, run: RunPaths) -> [String] {
        var arguments = storageArguments(run: run) + ["--registries-conf", run.registriesConf]
        arguments += ["bud"] + configuration.sandbox.budArguments
        arguments += ["--layers", "--format", "docker", "-f", request.dockerfilePath, "-t", request.destination]
        for argument in request.sortedBuildArguments { arguments += ["--build-arg", argument] }
        arguments += secretArguments(for: request, run: run)
        if let target = request.target { arguments += ["--target", target] }
        if let repository = cacheRepository(for: request) {
            arguments += ["--cache-to", repository, "--cache-from", repository]
        }
        if let authFile = configuration.authFile { arguments += ["--authfile", authFile] }
        arguments.append(request.contextDirectory)
        return arguments
    }

    /// Secret build args as `--build-arg NAME` (buildah reads the value from its environment,
    /// so it is not on a command line `ps` shows), secret files as `--secret id=<id>,src=<file>`,
    /// and then `--omit-history`: buildah writes every RUN step's build args, values included,
    /// into the image's history (`|1 NPM_TOKEN=… /bin/sh -c …`), in the image and in the cache
    /// images it pushes.
    func secretArguments(for request: BuildRequest, run: RunPaths) -> [String] {
        guard request.hasSecrets else { return [] }
        var arguments: [String] = []
        for name in request.secretBuildArguments.keys.sorted() { arguments += ["--build-arg", name] }
        for id in request.secretFiles.keys.sorted() { arguments += ["--secret", "id=\(id),src=\(run.secrets)/\(id)"] }
        return arguments + ["--omit-history"]
    }

    /// Whether a secret build arg's name would, as an environment variable of buildah, change
    /// what buildah does (or the environment it was given).
    func changesTheBuilder(_ name: String) -> Bool {
        configuration.environment[name] != nil || ["PATH", "HOME", "TMPDIR", "USER", "SHELL"].contains(name)
            || ["BUILDAH_", "CONTAINERS_", "STORAGE_", "REGISTRY_", "LD_", "XDG_", "_"].contains { name.hasPrefix($0) }
    }

    /// The `buildah … push …` arguments writing the docker-archive tarball.
    public func pushArguments(for request: BuildRequest, run: RunPaths) -> [String] {
        storageArguments(run: run) + [
            "push", request.destination, "docker-archive:\(request.outputPath):\(request.destination)",
        ]
    }

    /// The registries.conf of a run for `request`; `dockerfileRegistries` are the registries its
    /// FROM lines name (loopback ones are marked insecure).
    public func registriesConf(for request: BuildRequest, dockerfileRegistries: Set<String>) -> RegistriesConf {
        let mirror = request.mirrors ? configuration.dockerHubMirror : nil
        var hosts = dockerfileRegistries
        if let mirror { hosts.insert(RegistriesConf.host(of: mirror)) }
        if let repository = cacheRepository(for: request) { hosts.insert(RegistriesConf.host(of: repository)) }
        let insecure = hosts.filter(RegistriesConf.isLoopback).union(configuration.insecureRegistries)
        return RegistriesConf(dockerHubMirror: mirror, insecureRegistries: insecure)
    }

    func cacheRepository(for request: BuildRequest) -> String? {
        guard request.cache, let registry = configuration.cacheRegistry else { return nil }
        return request.cacheRepository(in: registry)
    }

    // MARK: Building

    public func build(_ request: BuildRequest, onLine: @escaping @Sendable (String) -> Void) async throws
        -> BuildOutcome
    {
        try request.validate()
        if let name = request.secretBuildArguments.keys.sorted().first(where: changesTheBuilder) {
            throw BuildRequestError(
                field: "secretBuildArguments", reason: "\"\(name)\" is reserved: buildah reads it from its environment")
        }
        let started = ContinuousClock.now
        let run: RunPaths
        do {
            run = try makeRunDirectory()
        } catch {
            throw BuildFailure(
                kind: .other, exitStatus: nil, message: "cannot make the run folder: \(error)", lastLines: [],
                builder: Self.builderName)
        }
        var environment = configuration.environment
        environment["TMPDIR"] = run.temporary
        if environment["HOME"] == nil { environment["HOME"] = run.directory }
        environment.merge(request.secretBuildArguments) { _, secret in secret }
        let process = BuilderProcess(
            builder: Self.builderName, environment: environment, gracePeriod: configuration.gracePeriod,
            deadline: request.timeout.map { started + $0 }, timeout: request.timeout)
        let log = BuildLog(BuildahOutput(), forward: onLine)
        logger.debug(
            "buildah build started",
            metadata: ["build.run": "\(run.directory)", "build.destination": "\(request.destination)"])
        do {
            let outcome = try await perform(request, run: run, process: process, log: log, started: started)
            await cleanUp(run, request: request, process: process, keepOutput: true)
            logger.debug(
                "buildah build finished",
                metadata: ["build.run": "\(run.directory)", "build.cachedSteps": "\(outcome.cachedSteps)"])
            return outcome
        } catch {
            await cleanUp(run, request: request, process: process, keepOutput: false)
            logger.debug("buildah build failed", metadata: ["build.run": "\(run.directory)", "error": "\(error)"])
            throw BuildFailure.wrapping(error, lastLines: log.lastLines, builder: Self.builderName)
        }
    }

    private func perform(
        _ request: BuildRequest, run: RunPaths, process: BuilderProcess, log: BuildLog<BuildahOutput>,
        started: ContinuousClock.Instant
    ) async throws -> BuildOutcome {
        let version = try await version(process, log: log)
        try request.prepareDockerfile(builder: Self.builderName)
        try writeSecretFiles(of: request, run: run)
        let registries = DockerfileRegistries.registries(
            in: request.dockerfileText() ?? "", buildArguments: request.buildArguments)
        try Data(registriesConf(for: request, dockerfileRegistries: registries).text.utf8)
            .write(to: URL(fileURLWithPath: run.registriesConf))
        try removeFileIfPresent(request.outputPath)

        try await process.run(configuration.executable, budArguments(for: request, run: run), log: log)
        let digests = await imageDigests(run: run, process: process)
        try await process.run(configuration.executable, pushArguments(for: request, run: run), log: log)
        guard FileManager.default.fileExists(atPath: request.outputPath) else {
            throw BuildFailure(
                kind: .other, exitStatus: 0, message: "buildah push wrote no tarball at \(request.outputPath)",
                lastLines: log.lastLines, builder: Self.builderName)
        }
        let parser = log.parser
        return BuildOutcome(
            tarballPath: request.outputPath, cachedSteps: parser.cachedSteps, totalSteps: parser.totalSteps,
            builder: BuilderInfo(name: Self.builderName, version: version),
            baseImages: parser.pulledImages.map { BaseImage(name: $0, digest: Self.digest(of: $0, in: digests)) },
            exitStatus: 0, elapsed: ContinuousClock.now - started)
    }

    /// `buildah --version` (`buildah version 1.28.2 (image-spec …)` → `1.28.2`), asked once per driver.
    private func version(_ process: BuilderProcess, log: BuildLog<BuildahOutput>) async throws -> String {
        if let version = cachedVersion.withLock({ $0 }) { return version }
        let (result, output, errors) = try await process.output(
            configuration.executable, ["--version"], limit: .seconds(30))
        if result.cancelled { throw process.cancelled(log) }
        guard result.succeeded else {
            throw BuildFailure(
                kind: .other, exitStatus: result.exitStatus, message: "buildah --version failed: \(errors)",
                lastLines: [],
                builder: Self.builderName)
        }
        let words = output.split(whereSeparator: \.isWhitespace)
        let version =
            words.count >= 3 && words[1] == "version"
            ? String(words[2]) : output.trimmingCharacters(in: .whitespacesAndNewlines)
        cachedVersion.withLock { $0 = version }
        return version
    }

    /// Image name → manifest digest of every named image in the run's storage (`buildah images --json`).
    private func imageDigests(run: RunPaths, process: BuilderProcess) async -> [String: String] {
        struct Image: Decodable {
            let names: [String]?
            let digest: String?
        }
        guard
            let (result, output, _) = try? await process.output(
                configuration.executable, storageArguments(run: run) + ["images", "--json"], limit: .seconds(60)),
            result.succeeded,
            let images = try? JSONDecoder().decode([Image].self, from: Data(output.utf8))
        else { return [:] }
        var digests: [String: String] = [:]
        for image in images {
            guard let digest = image.digest, digest.hasPrefix("sha256:") else { continue }
            for name in image.names ?? [] { digests[name] = digest }
        }
        return digests
    }

    static func digest(of name: String, in digests: [String: String]) -> String? {
        if let at = name.firstIndex(of: "@") { return String(name[name.index(after: at)...]) }
        return digests[name] ?? digests[name.hasPrefix("docker.io/") ? name : "docker.io/" + name]
    }

    private func writeSecretFiles(of request: BuildRequest, run: RunPaths) throws {
        guard !request.secretFiles.isEmpty else { return }
        try FileManager.default.createDirectory(
            atPath: run.secrets, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        for (id, content) in request.secretFiles {
            let path = "\(run.secrets)/\(id)"
            guard FileManager.default.createFile(atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw BuildFailure(
                    kind: .other, exitStatus: nil, message: "cannot write secret file \(id)", lastLines: [],
                    builder: Self.builderName)
            }
        }
    }

    private func makeRunDirectory() throws -> RunPaths {
        let base = configuration.workDirectory
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let run = RunPaths(directory: base + "/run-" + UUID().uuidString.lowercased())
        // The run folder and its tmp (where buildah mounts each step's root file system) are
        // traversable by others: runc starts a step as the user namespace's root, an unprivileged
        // host UID that must reach that mount. Nothing in them is listable by others.
        for (path, mode) in [(run.directory, 0o711), (run.root, 0o700), (run.runroot, 0o700), (run.temporary, 0o711)] {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: mode])
        }
        return run
    }

    /// Removes the run's containers and storage, the Dockerfile written from text and, unless the
    /// build succeeded, a partial tarball. Runs to its end even when the build's task is cancelled.
    private func cleanUp(_ run: RunPaths, request: BuildRequest, process: BuilderProcess, keepOutput: Bool) async {
        let executable = configuration.executable
        let storage = storageArguments(run: run)
        let logger = self.logger
        await Task {
            if let (result, _, errors) = try? await process.output(
                executable, storage + ["rm", "--all"], limit: .seconds(60)),
                !result.succeeded
            {
                logger.warning(
                    "buildah rm --all failed", metadata: ["build.run": "\(run.directory)", "error": "\(errors)"])
            }
            // --one-file-system: never follow a mount a killed builder might have left behind.
            let removal = try? await process.output(
                "rm", ["-rf", "--one-file-system", "--", run.directory], limit: .seconds(300))
            if removal?.0.succeeded != true {
                logger.error(
                    "could not remove a build's storage",
                    metadata: ["build.run": "\(run.directory)", "error": "\(removal?.2 ?? "rm did not run")"])
            }
            if case .text = request.dockerfile { try? removeFileIfPresent(request.dockerfilePath) }
            if !keepOutput { try? removeFileIfPresent(request.outputPath) }
        }.value
    }
}
