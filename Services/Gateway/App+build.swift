import Hummingbird
import Prometheus
import ServiceKit

/// The gateway application; tests build it in process with their own configuration.
public func buildApplication(
    configuration: GatewayConfiguration, registry: PrometheusCollectorRegistry? = nil
) async throws -> some ApplicationProtocol {
    let service = ServiceApplication(name: "gateway", configuration: configuration.common, registry: registry)
    return try await service.makeApplication { _, _ in [] }
}
