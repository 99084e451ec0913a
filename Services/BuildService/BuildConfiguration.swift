import BuildDrivers
import Foundation
import ServiceKit
import StageClients

/// Settings of build-service, read from the environment (see CommonConfiguration).
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `BUILD_DRIVER` | `auto` (Kaniko where its executor exists, else buildah), `buildah`, `kaniko`, `kaniko-kubernetes` (a Kubernetes Job per build) | auto |
/// | `BUILD_WORK_DIR` | per-build folders and builder state (removed after each build); one per replica: folders a dead process left are removed at start | /tmp/buildchain-builds |
/// | `BUILD_CONCURRENCY` | builds at once; the others wait, queued, in order | 1 |
/// | `BUILD_TIMEOUT` | a build running longer is killed and fails with TIMEOUT | 30m |
/// | `CACHE_REGISTRY` | registry of the RUN-layer cache, `<it>/kaniko-cache/<workload>-<service>` | none (no cache) |
/// | `REGISTRY_MIRROR` | Docker Hub mirror, e.g. `harbor.example.com/dockerhub-proxy` | none |
/// | `REGISTRY_INSECURE` | registries reached over plain HTTP besides loopback, comma-separated | none |
/// | `REGISTRY_AUTH_FILE` | docker `config.json` for pulls and the cache repository | none |
/// | `BUILD_ISOLATION` | buildah's `RUN` steps: `oci` (runc, own user/PID/IPC/UTS/mount/network namespaces, limits below) or `chroot` (no sandbox: trusted Dockerfiles only) | oci |
/// | `BUILD_NETWORK` | the netavark network of `RUN` steps (deploy/local/build-network.sh makes it and closes the host's addresses to it) or `none` (loopback only) | buildchain-build |
/// | `BUILD_USERNS_RANGE` | host UIDs/GIDs `start:count` that a step's users map to (reserved in /etc/subuid) | 1000000000:65536 |
/// | `BUILD_PIDS_LIMIT` | processes per `RUN` step (RLIMIT_NPROC) | 1024 |
/// | `BUILD_MEMORY_LIMIT_MB` | memory per `RUN` step, MiB (cgroup, no swap) | 4096 |
/// | `BUILD_FILE_SIZE_LIMIT_MB` | largest file a `RUN` step writes, MiB (RLIMIT_FSIZE) | 8192 |
/// | `KANIKO_EXECUTOR` | Kaniko's executor | /kaniko/executor |
/// | `ARTIFACT_SERVICE_URL` | where contexts come from and image tarballs go | http://127.0.0.1:8084 |
/// | `ARTIFACT_SERVICE_TOKEN` | artifact-service's token | `API_TOKEN` |
///
/// With `kaniko-kubernetes` (see `KubernetesSettings`): `KUBERNETES_API_URL`
/// (https://kubernetes.default.svc), `KUBERNETES_NAMESPACE` (the pod's own, from the service
/// account), `KUBERNETES_TOKEN_FILE` and `KUBERNETES_CA_FILE` (the service account's),
/// `KANIKO_IMAGE` (gcr.io/kaniko-project/executor:v1.23.2), `KANIKO_UPLOADER_IMAGE`
/// (curlimages/curl:8.10.1), `KUBERNETES_INIT_IMAGE` (the init container that downloads and unpacks
/// the context: sh, curl, tar, gzip; curlimages/curl:8.10.1), `KANIKO_JOB_TTL_SECONDS` (600), `KANIKO_SERVICE_ACCOUNT`,
/// `KANIKO_REGISTRY_AUTH_SECRET` (a dockerconfigjson Secret for Kaniko), `KANIKO_UPLOAD_TOKEN_SECRET`
/// (the Secret whose `token` the pod presents to artifact-service; buildchain-kaniko-upload),
/// `KANIKO_ARTIFACT_SERVICE_URL` (artifact-service as the pods reach it; `ARTIFACT_SERVICE_URL`).
public struct BuildConfiguration: Sendable {
    public static let defaultPort = 8083

    public enum Driver: String, Sendable, Codable {
        case auto, buildah, kaniko
        case kanikoKubernetes = "kaniko-kubernetes"
    }

    /// Where and how `kaniko-kubernetes` runs its Jobs.
    public struct KubernetesSettings: Sendable {
        public var apiURL: String
        public var namespace: String
        public var tokenFile: String?
        public var caFile: String?
        public var kanikoImage: String
        public var uploaderImage: String
        public var initImage: String
        public var jobTTLSeconds: Int
        public var serviceAccount: String?
        public var registryAuthSecret: String?
        public var uploadTokenSecret: String
        public var artifactServiceURL: String?

        public init(
            apiURL: String, namespace: String, tokenFile: String? = nil, caFile: String? = nil,
            kanikoImage: String = "gcr.io/kaniko-project/executor:v1.23.2", uploaderImage: String = "curlimages/curl:8.10.1",
            initImage: String = "curlimages/curl:8.10.1", jobTTLSeconds: Int = 600, serviceAccount: String? = nil, registryAuthSecret: String? = nil,
            uploadTokenSecret: String = "buildchain-kaniko-upload", artifactServiceURL: String? = nil
        ) {
            self.apiURL = apiURL
            self.namespace = namespace
            self.tokenFile = tokenFile
            self.caFile = caFile
            self.kanikoImage = kanikoImage
            self.uploaderImage = uploaderImage
            self.initImage = initImage
            self.jobTTLSeconds = jobTTLSeconds
            self.serviceAccount = serviceAccount
            self.registryAuthSecret = registryAuthSecret
            self.uploadTokenSecret = uploadTokenSecret
            self.artifactServiceURL = artifactServiceURL
        }

        init(reading env: EnvironmentReader) throws {
            let account = "/var/run/secrets/kubernetes.io/serviceaccount"
            let namespace =
                env.string("KUBERNETES_NAMESPACE")
                ?? (try? String(contentsOfFile: "\(account)/namespace", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard let namespace, !namespace.isEmpty else {
                throw ConfigurationError.missing(variable: "KUBERNETES_NAMESPACE")
            }
            let inCluster = FileManager.default.fileExists(atPath: "\(account)/token")
            self.init(
                apiURL: env.string("KUBERNETES_API_URL", default: "https://kubernetes.default.svc"), namespace: namespace,
                tokenFile: env.string("KUBERNETES_TOKEN_FILE") ?? (inCluster ? "\(account)/token" : nil),
                caFile: env.string("KUBERNETES_CA_FILE") ?? (inCluster ? "\(account)/ca.crt" : nil),
                kanikoImage: env.string("KANIKO_IMAGE", default: "gcr.io/kaniko-project/executor:v1.23.2"),
                uploaderImage: env.string("KANIKO_UPLOADER_IMAGE", default: "curlimages/curl:8.10.1"),
                initImage: env.string("KUBERNETES_INIT_IMAGE", default: "curlimages/curl:8.10.1"),
                jobTTLSeconds: try env.int("KANIKO_JOB_TTL_SECONDS", default: 600, in: 0...604_800),
                serviceAccount: env.string("KANIKO_SERVICE_ACCOUNT"),
                registryAuthSecret: env.string("KANIKO_REGISTRY_AUTH_SECRET"),
                uploadTokenSecret: env.string("KANIKO_UPLOAD_TOKEN_SECRET", default: "buildchain-kaniko-upload"),
                artifactServiceURL: env.string("KANIKO_ARTIFACT_SERVICE_URL"))
        }
    }

    public var common: CommonConfiguration
    public var driver: Driver
    public var workDirectory: String
    public var concurrency: Int
    public var timeout: Duration
    public var cacheRegistry: String?
    public var registryMirror: String?
    public var insecureRegistries: Set<String>
    public var registryAuthFile: String?
    public var kanikoExecutor: String
    /// How the buildah driver isolates `RUN` steps.
    public var sandbox: BuildSandbox
    public var artifactService: ArtifactServiceEndpoint
    /// Set when `kaniko-kubernetes` can be used (the driver chosen, or `KUBERNETES_NAMESPACE` given).
    public var kubernetes: KubernetesSettings?

    public init(
        common: CommonConfiguration, driver: Driver = .auto, workDirectory: String, concurrency: Int = 1,
        timeout: Duration = .seconds(1800), cacheRegistry: String? = nil, registryMirror: String? = nil,
        insecureRegistries: Set<String> = [], registryAuthFile: String? = nil, kanikoExecutor: String = "/kaniko/executor",
        sandbox: BuildSandbox = BuildSandbox(), artifactService: ArtifactServiceEndpoint, kubernetes: KubernetesSettings? = nil
    ) {
        self.common = common
        self.driver = driver
        self.workDirectory = workDirectory
        self.concurrency = concurrency
        self.timeout = timeout
        self.cacheRegistry = cacheRegistry
        self.registryMirror = registryMirror
        self.insecureRegistries = insecureRegistries
        self.registryAuthFile = registryAuthFile
        self.kanikoExecutor = kanikoExecutor
        self.sandbox = sandbox
        self.artifactService = artifactService
        self.kubernetes = kubernetes
    }

    public init(reading env: EnvironmentReader) throws {
        let common = try CommonConfiguration(reading: env, defaultPort: Self.defaultPort, requiresDatabase: true)
        let driver = try env.enumeration("BUILD_DRIVER", default: Driver.auto)
        let usesKubernetes = driver == .kanikoKubernetes || env.string("KUBERNETES_NAMESPACE") != nil
        self.init(
            common: common, driver: driver,
            workDirectory: env.string("BUILD_WORK_DIR", default: "/tmp/buildchain-builds"),
            concurrency: try env.int("BUILD_CONCURRENCY", default: 1, in: 1...64),
            timeout: try env.duration("BUILD_TIMEOUT", default: .seconds(1800)),
            cacheRegistry: env.string("CACHE_REGISTRY"), registryMirror: env.string("REGISTRY_MIRROR"),
            insecureRegistries: Set(
                env.list("REGISTRY_INSECURE")),
            registryAuthFile: env.string("REGISTRY_AUTH_FILE"),
            kanikoExecutor: env.string("KANIKO_EXECUTOR", default: "/kaniko/executor"),
            sandbox: try Self.sandbox(reading: env),
            artifactService: ArtifactServiceEndpoint(reading: env, common: common),
            kubernetes: usesKubernetes ? try KubernetesSettings(reading: env) : nil)
    }

    /// The `BUILD_ISOLATION`, `BUILD_NETWORK`, `BUILD_USERNS_RANGE` and `BUILD_*_LIMIT*` settings.
    static func sandbox(reading env: EnvironmentReader) throws(ConfigurationError) -> BuildSandbox {
        let defaults = BuildSandbox()
        let network = env.string("BUILD_NETWORK", default: defaults.network)
        // `host` shares the host's network; buildah's `private` and netavark's `podman` are
        // bridges without build-network.sh's firewall: the host's addresses answer on them.
        guard !["host", "private", "podman"].contains(network) else {
            throw .invalid(
                variable: "BUILD_NETWORK", value: network,
                expected: "none or a network made like deploy/local/build-network.sh's")
        }
        let rangeText = env.string("BUILD_USERNS_RANGE")
        let range = rangeText.map { BuildSandbox.IDRange($0) } ?? defaults.userRange
        guard let range else {
            throw .invalid(
                variable: "BUILD_USERNS_RANGE", value: rangeText ?? "",
                expected: "start:count with start > 0 and count >= 65536")
        }
        return BuildSandbox(
            isolation: try env.enumeration("BUILD_ISOLATION", default: defaults.isolation), userRange: range,
            network: network, pidsLimit: try env.int("BUILD_PIDS_LIMIT", default: defaults.pidsLimit, in: 16...65536),
            memoryLimitMiB: try env.int("BUILD_MEMORY_LIMIT_MB", default: defaults.memoryLimitMiB, in: 64...1_048_576),
            fileSizeLimitMiB: try env.int(
                "BUILD_FILE_SIZE_LIMIT_MB", default: defaults.fileSizeLimitMiB, in: 1...16_777_216))
    }
}
