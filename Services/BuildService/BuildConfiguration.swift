import Foundation
import ServiceKit

/// Settings of build-service, read from the environment (see CommonConfiguration).
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `BUILD_DRIVER` | `auto` (Kaniko where its executor exists, else buildah), `buildah`, `kaniko` | auto |
/// | `BUILD_WORK_DIR` | per-build folders and builder state (removed after each build) | /tmp/buildchain-builds |
/// | `BUILD_CONCURRENCY` | builds at once; the others wait, queued, in order | 1 |
/// | `BUILD_TIMEOUT` | a build running longer is killed and fails with TIMEOUT | 30m |
/// | `CACHE_REGISTRY` | registry of the RUN-layer cache, `<it>/kaniko-cache/<workload>-<service>` | none (no cache) |
/// | `REGISTRY_MIRROR` | Docker Hub mirror, e.g. `harbor.example.com/dockerhub-proxy` | none |
/// | `REGISTRY_INSECURE` | registries reached over plain HTTP besides loopback, comma-separated | none |
/// | `REGISTRY_AUTH_FILE` | docker `config.json` for pulls and the cache repository | none |
/// | `KANIKO_EXECUTOR` | Kaniko's executor | /kaniko/executor |
/// | `ARTIFACT_SERVICE_URL` | where contexts come from and image tarballs go | http://127.0.0.1:8084 |
/// | `ARTIFACT_SERVICE_TOKEN` | artifact-service's token | `API_TOKEN` |
public struct BuildConfiguration: Sendable {
    public static let defaultPort = 8083

    public enum Driver: String, Sendable, Codable {
        case auto, buildah, kaniko
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
    public var artifactServiceURL: String
    public var artifactServiceToken: Secret

    public init(
        common: CommonConfiguration, driver: Driver = .auto, workDirectory: String, concurrency: Int = 1,
        timeout: Duration = .seconds(1800), cacheRegistry: String? = nil, registryMirror: String? = nil,
        insecureRegistries: Set<String> = [], registryAuthFile: String? = nil, kanikoExecutor: String = "/kaniko/executor",
        artifactServiceURL: String, artifactServiceToken: Secret
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
        self.artifactServiceURL = artifactServiceURL
        self.artifactServiceToken = artifactServiceToken
    }

    public init(reading env: EnvironmentReader) throws {
        let common = try CommonConfiguration(reading: env, defaultPort: Self.defaultPort, requiresDatabase: true)
        self.init(
            common: common, driver: try env.enumeration("BUILD_DRIVER", default: Driver.auto),
            workDirectory: env.string("BUILD_WORK_DIR", default: "/tmp/buildchain-builds"),
            concurrency: try env.int("BUILD_CONCURRENCY", default: 1, in: 1...64),
            timeout: try env.duration("BUILD_TIMEOUT", default: .seconds(1800)),
            cacheRegistry: env.string("CACHE_REGISTRY"), registryMirror: env.string("REGISTRY_MIRROR"),
            insecureRegistries: Set(
                env.list("REGISTRY_INSECURE")),
            registryAuthFile: env.string("REGISTRY_AUTH_FILE"),
            kanikoExecutor: env.string("KANIKO_EXECUTOR", default: "/kaniko/executor"),
            artifactServiceURL: env.string("ARTIFACT_SERVICE_URL", default: "http://127.0.0.1:8084"),
            artifactServiceToken: env.secret("ARTIFACT_SERVICE_TOKEN") ?? common.apiToken)
    }
}
