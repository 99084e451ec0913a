import Hummingbird
import Prometheus
import ServiceKit

/// The rewrite-service application; tests build it in process with their own configuration.
public func buildApplication(
    configuration: RewriteConfiguration, registry: PrometheusCollectorRegistry? = nil
) async throws -> some ApplicationProtocol {
    let service = ServiceApplication(name: "rewrite-service", configuration: configuration.common, registry: registry)
    return try await service.makeApplication { router, _ in
        RewriteController(defaultProxies: configuration.proxies).register(on: router)
        return []
    }
}
