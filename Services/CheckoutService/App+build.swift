import CheckoutAPI
import ContractCoding
import GitCheckout
import HTTPClient
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime
import Prometheus
import Records
import ServiceKit
import StageClients
import StageRuns

/// The checkout-service application; tests build it in process with their own configuration.
public func buildApplication(
    configuration: CheckoutConfiguration, registry: PrometheusCollectorRegistry? = nil
) async throws -> some ApplicationProtocol {
    let service = ServiceApplication(name: "checkout-service", configuration: configuration.common, registry: registry)
    let artifacts = configuration.artifactService.client(logger: service.logger)
    let checkout = ContextCheckout(configuration: configuration.checkout, logger: service.logger)
    return try await service.makeApplication { router, database in
        guard let database else { throw ConfigurationError.missing(variable: "DATABASE_URL") }
        router.middlewares.add(try RequestValidationMiddleware(spec: OpenAPIDocument.json))
        let runs = RunResource(
            path: "/v1/checkouts", kind: "checkout", executor: service.runExecutor(store: RunStore(pool: database.pool)))
        try CheckoutHandlers(checkout: checkout, artifacts: artifacts, runs: runs)
            .registerHandlers(on: router, configuration: .buildchain, middlewares: service.contractMiddlewares)
        return [runs.executor]
    }
}
