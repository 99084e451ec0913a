import Hummingbird
import Prometheus
import ServiceKit

/// The build-service application; tests build it in process with their own configuration.
public func buildApplication(
    configuration: BuildConfiguration, registry: PrometheusCollectorRegistry? = nil
) async throws -> some ApplicationProtocol {
    let service = ServiceApplication(name: "build-service", configuration: configuration.common, registry: registry)
    return try await service.makeApplication { _, _ in [] }
}
