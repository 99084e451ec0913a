import Hummingbird
import Prometheus
import ServiceKit

/// The checkout-service application; tests build it in process with their own configuration.
public func buildApplication(
    configuration: CheckoutConfiguration, registry: PrometheusCollectorRegistry? = nil
) async throws -> some ApplicationProtocol {
    let service = ServiceApplication(name: "checkout-service", configuration: configuration.common, registry: registry)
    return try await service.makeApplication { _, _ in [] }
}
