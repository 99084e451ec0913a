import Dockerfile
import Foundation
import ServiceKit

/// Settings of rewrite-service, read from the environment (see CommonConfiguration).
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `REWRITE_PROXIES` | registry=proxy target pairs, comma-separated, e.g. `docker.io=harbor.example.com/dockerhub-proxy,ghcr.io=harbor.example.com/ghcr-proxy` | none |
/// | `REGISTRY_AUTH_FILE` | docker `config.json` with the proxy registry's credentials, for pinning | none |
/// | `REGISTRY_INSECURE` | registries reached over plain HTTP besides loopback, comma-separated | none |
public struct RewriteConfiguration: Sendable {
    public static let defaultPort = 8082

    public var common: CommonConfiguration
    public var proxies: ProxyMap
    public var registryAuthFile: String?
    public var insecureRegistries: Set<String>

    public init(
        common: CommonConfiguration, proxies: ProxyMap, registryAuthFile: String? = nil, insecureRegistries: Set<String> = []
    ) {
        self.common = common
        self.proxies = proxies
        self.registryAuthFile = registryAuthFile
        self.insecureRegistries = insecureRegistries
    }

    public init(reading env: EnvironmentReader) throws {
        let proxies: ProxyMap
        do {
            proxies = try ProxyMap(parsing: env.string("REWRITE_PROXIES", default: ""))
        } catch {
            throw ConfigurationError.invalid(
                variable: "REWRITE_PROXIES", value: env.string("REWRITE_PROXIES", default: ""),
                expected: "REGISTRY=TARGET pairs separated by commas (\(error.reason))")
        }
        self.init(
            common: try CommonConfiguration(reading: env, defaultPort: Self.defaultPort, requiresDatabase: false),
            proxies: proxies, registryAuthFile: env.string("REGISTRY_AUTH_FILE"),
            insecureRegistries: Set(
                env.list("REGISTRY_INSECURE")))
    }
}
