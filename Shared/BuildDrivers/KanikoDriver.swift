import Foundation
import Logging
import OCI
import Processes
import Synchronization

/// Builds with Kaniko's executor, with the command line the original chain ran
/// (see `arguments(for:dockerfileRegistries:)`). Where build-service runs in Kaniko's
/// image the executor is `/kaniko/executor`; one build per container, since the executor
/// owns the container's root filesystem.
public final class KanikoDriver: BuildDriver {
    public struct Configuration: Sendable {
        public var executorPath: String
        /// `host[:port]` of the registry holding `kaniko-cache/<workload>-<service>`; nil: no cache.
        /// Kaniko checks it is writable at the start of every cached run, even with `--no-push`.
        public var cacheRegistry: String?
        /// `--registry-mirror` when the request has mirrors on, e.g. `harbor.example.com/dockerhub-proxy`
        /// (a project path needs Kaniko ≥ 1.21). It applies to Docker Hub names only.
        public var registryMirror: String?
        /// `--force`: needed when the executor does not run in a container.
        public var force: Bool
        /// Registries reached over plain HTTP besides loopback ones (which always are):
        /// each becomes `--insecure-registry=<host>`.
        public var insecureRegistries: Set<String>
        /// The executor's whole environment; the default is that of Kaniko's image.
        public var environment: [String: String]
        /// Between SIGTERM and SIGKILL when a build is stopped.
        public var gracePeriod: Duration
        /// Resolves the pulled base images' digests after a build (Kaniko's log names them
        /// without one), e.g. `RegistryClient.resolveDigest`. Docker Hub names are resolved
        /// through the mirror when the request has mirrors on. Nil: digests are not reported.
        public var resolveDigest: (@Sendable (OCIReference) async throws -> String)?

        public init(
            executorPath: String = "/kaniko/executor", cacheRegistry: String? = nil, registryMirror: String? = nil,
            force: Bool = !KanikoDriver.runningInContainer(), insecureRegistries: Set<String> = [],
            environment: [String: String] = KanikoDriver.imageEnvironment, gracePeriod: Duration = .seconds(5),
            resolveDigest: (@Sendable (OCIReference) async throws -> String)? = nil
        ) {
            self.executorPath = executorPath
            self.cacheRegistry = cacheRegistry
            self.registryMirror = registryMirror
            self.force = force
            self.insecureRegistries = insecureRegistries
            self.environment = environment
            self.gracePeriod = gracePeriod
            self.resolveDigest = resolveDigest
        }
    }

    /// The environment Kaniko's image (`gcr.io/kaniko-project/executor`) sets.
    public static let imageEnvironment = [
        "PATH": "/usr/local/bin:/kaniko", "HOME": "/root", "USER": "root", "SSL_CERT_DIR": "/kaniko/ssl/certs",
        "DOCKER_CONFIG": "/kaniko/.docker/",
        "DOCKER_CREDENTIAL_GCR_CONFIG": "/kaniko/.config/gcloud/docker_credential_gcr_config.json",
    ]

    public static let builderName = "kaniko"
    public let configuration: Configuration
    private let logger: Logger
    private let cachedVersion = Mutex<String?>(nil)

    public init(configuration: Configuration, logger: Logger = Logger(label: "kaniko-driver")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The executor's arguments for `request`, in this order:
    ///
    /// ```
    /// --dockerfile=<context>/<Dockerfile> --context=dir://<context> --no-push --tar-path=<output>
    /// --destination=<destination> [--registry-mirror=<mirror>] --snapshot-mode=time --use-new-run
    /// --compressed-caching=false --cache=true --cache-run-layers --cache-repo=<cache registry>/kaniko-cache/<workload>-<service>
    /// [--build-arg K=V …, sorted by name] [--target <stage>] [--insecure-registry=<host> …] [--force]
    /// ```
    ///
    /// Mirrors off (or no mirror configured): no `--registry-mirror`. Cache off (or no cache
    /// registry configured): `--cache=false` and neither `--cache-run-layers` nor `--cache-repo`.
    /// `--insecure-registry` (not in the original chain, whose registry spoke HTTPS) is added, sorted,
    /// for each plain-HTTP registry the build talks to: loopback ones among the mirror, the cache
    /// registry and `dockerfileRegistries`, plus `configuration.insecureRegistries`.
    public func arguments(for request: BuildRequest, dockerfileRegistries: Set<String> = []) -> [String] {
        Self.executorArguments(
            for: request, context: "dir://\(request.contextDirectory)", dockerfile: request.dockerfilePath,
            tarPath: request.outputPath, registryMirror: configuration.registryMirror,
            cacheRegistry: configuration.cacheRegistry, insecureRegistries: configuration.insecureRegistries,
            dockerfileRegistries: dockerfileRegistries, force: configuration.force)
    }

    /// The same command line with the context, Dockerfile and tarball where they are for the
    /// executor: a local folder here, a URL and paths inside a pod for `KanikoKubernetesDriver`.
    static func executorArguments(
        for request: BuildRequest, context: String, dockerfile: String, tarPath: String, registryMirror: String?,
        cacheRegistry: String?, insecureRegistries: Set<String>, dockerfileRegistries: Set<String>, force: Bool
    ) -> [String] {
        var arguments = [
            "--dockerfile=\(dockerfile)", "--context=\(context)", "--no-push", "--tar-path=\(tarPath)",
            "--destination=\(request.destination)",
        ]
        let mirror = request.mirrors ? registryMirror : nil
        if let mirror { arguments.append("--registry-mirror=\(mirror)") }
        arguments += ["--snapshot-mode=time", "--use-new-run", "--compressed-caching=false"]
        let cacheRepository = request.cache ? cacheRegistry.map(request.cacheRepository(in:)) : nil
        if let cacheRepository {
            arguments += ["--cache=true", "--cache-run-layers", "--cache-repo=\(cacheRepository)"]
        } else {
            arguments.append("--cache=false")
        }
        for argument in request.sortedBuildArguments { arguments += ["--build-arg", argument] }
        // Kaniko has no other way in for a value; it never writes build args into the image history.
        for (name, value) in request.secretBuildArguments.sorted(by: { $0.key < $1.key }) {
            arguments += ["--build-arg", "\(name)=\(value)"]
        }
        if let target = request.target { arguments += ["--target", target] }
        var hosts = dockerfileRegistries
        if let mirror { hosts.insert(RegistriesConf.host(of: mirror)) }
        if let cacheRepository { hosts.insert(RegistriesConf.host(of: cacheRepository)) }
        let insecure = hosts.filter(RegistriesConf.isLoopback).union(insecureRegistries)
        arguments += insecure.sorted().map { "--insecure-registry=\($0)" }
        if force { arguments.append("--force") }
        return arguments
    }

    public func build(_ request: BuildRequest, onLine: @escaping @Sendable (String) -> Void) async throws
        -> BuildOutcome
    {
        try request.validate()
        guard request.secretFiles.isEmpty else { throw BuildRequestError.secretFilesUnsupported(by: Self.builderName) }
        let started = ContinuousClock.now
        let process = BuilderProcess(
            builder: Self.builderName, environment: configuration.environment, gracePeriod: configuration.gracePeriod,
            deadline: request.timeout.map { started + $0 }, timeout: request.timeout)
        let log = BuildLog(KanikoOutput(), forward: onLine)
        defer {
            if case .text = request.dockerfile { try? removeFileIfPresent(request.dockerfilePath) }
        }
        do {
            let version = try await version(process, log: log)
            try request.prepareDockerfile(builder: Self.builderName)
            try removeFileIfPresent(request.outputPath)
            let registries = DockerfileRegistries.registries(
                in: request.dockerfileText() ?? "", buildArguments: request.buildArguments)
            try await process.run(
                configuration.executorPath, arguments(for: request, dockerfileRegistries: registries), log: log)
            guard FileManager.default.fileExists(atPath: request.outputPath) else {
                throw BuildFailure(
                    kind: .other, exitStatus: 0, message: "the executor wrote no tarball at \(request.outputPath)",
                    lastLines: log.lastLines, builder: Self.builderName)
            }
            let parser = log.parser
            let baseImages = await resolve(parser.pulledImages, mirrors: request.mirrors)
            return BuildOutcome(
                tarballPath: request.outputPath, cachedSteps: parser.cachedSteps, totalSteps: parser.totalSteps,
                builder: BuilderInfo(name: Self.builderName, version: version), baseImages: baseImages,
                exitStatus: 0, elapsed: ContinuousClock.now - started)
        } catch {
            try? removeFileIfPresent(request.outputPath)
            logger.debug(
                "kaniko build failed", metadata: ["build.destination": "\(request.destination)", "error": "\(error)"])
            throw BuildFailure.wrapping(error, lastLines: log.lastLines, builder: Self.builderName)
        }
    }

    /// `<executor> version` (`Kaniko version : v1.23.2` → `v1.23.2`), asked once per driver.
    private func version(_ process: BuilderProcess, log: BuildLog<KanikoOutput>) async throws -> String {
        if let version = cachedVersion.withLock({ $0 }) { return version }
        let (result, output, errors) = try await process.output(
            configuration.executorPath, ["version"], limit: .seconds(30))
        if result.cancelled { throw process.cancelled(log) }
        guard result.succeeded else {
            throw BuildFailure(
                kind: .other, exitStatus: result.exitStatus,
                message: "\(configuration.executorPath) version failed: \(errors)",
                lastLines: [], builder: Self.builderName)
        }
        let line = output.split(separator: "\n").first { $0.contains("ersion") }.map(String.init) ?? output
        let version = (line.split(separator: ":", maxSplits: 1).last.map(String.init) ?? line)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        cachedVersion.withLock { $0 = version }
        return version
    }

    /// Names as Kaniko logged them, with the digest `resolveDigest` gives for each (asked through
    /// the mirror for Docker Hub names when mirrors are on); nil digests when it fails or is not set.
    private func resolve(_ names: [String], mirrors: Bool) async -> [BaseImage] {
        guard let resolveDigest = configuration.resolveDigest else {
            return names.map { BaseImage(name: $0, digest: nil) }
        }
        var images: [BaseImage] = []
        for name in names {
            guard var reference = try? OCIReference(parsing: name) else {
                images.append(BaseImage(name: name, digest: nil))
                continue
            }
            if let digest = reference.digest {
                images.append(BaseImage(name: name, digest: digest))
                continue
            }
            if mirrors, reference.registry == OCIReference.dockerHub, let mirror = configuration.registryMirror,
                let mirrored = try? OCIReference(parsing: "\(mirror)/\(reference.repository):\(reference.reference)")
            {
                reference = mirrored
            }
            images.append(BaseImage(name: name, digest: try? await resolveDigest(reference)))
        }
        return images
    }

    /// Whether this process seems to run in a container: `/.dockerenv` or `/run/.containerenv`
    /// exists, or PID 1's cgroup names a container runtime (cgroup v1). Decides `--force`'s default.
    public static func runningInContainer() -> Bool {
        let files = FileManager.default
        if files.fileExists(atPath: "/.dockerenv") || files.fileExists(atPath: "/run/.containerenv") { return true }
        guard let cgroup = try? String(contentsOfFile: "/proc/1/cgroup", encoding: .utf8) else { return false }
        return ["docker", "kubepods", "containerd", "libpod", "lxc"].contains(where: cgroup.contains)
    }
}

/// The driver to use where nothing says otherwise: Kaniko where its executor is
/// present (build-service running in Kaniko's image), buildah everywhere else.
public enum DefaultBuildDriver {
    public static func make(
        kaniko: KanikoDriver.Configuration, buildah: BuildahDriver.Configuration, logger: Logger
    ) -> any BuildDriver {
        if FileManager.default.isExecutableFile(atPath: kaniko.executorPath) {
            return KanikoDriver(configuration: kaniko, logger: logger)
        }
        return BuildahDriver(configuration: buildah, logger: logger)
    }
}
