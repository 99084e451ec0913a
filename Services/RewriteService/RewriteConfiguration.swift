import Dockerfile
import ServiceKit

/// Settings of rewrite-service, read from the environment (see CommonConfiguration).
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `REWRITE_PROXIES` | registry=proxy target pairs, comma-separated, e.g. `docker.io=harbor.example.com/dockerhub-proxy,ghcr.io=harbor.example.com/ghcr-proxy` | none |
public struct RewriteConfiguration: Sendable {
    public static let defaultPort = 8082

    public var common: CommonConfiguration
    public var proxies: ProxyMap

    public init(common: CommonConfiguration, proxies: ProxyMap) {
        self.common = common
        self.proxies = proxies
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
            proxies: proxies)
    }
}
