import GatewayAPI
import HTTPClient
import Hummingbird
import Prometheus
import Records
import ServiceKit
import StageClients
import StageRuns

/// The gateway application; tests build it in process with their own configuration.
public func buildApplication(
    configuration: GatewayConfiguration, registry: PrometheusCollectorRegistry? = nil
) async throws -> some ApplicationProtocol {
    let service = ServiceApplication(name: "gateway", configuration: configuration.common, registry: registry)
    return try await service.makeApplication(browser: DashboardSession.browser, openPaths: [WebhookRoutes.githubPath]) {
        router, database in
        guard let database else { throw ConfigurationError.missing(variable: "DATABASE_URL") }
        router.middlewares.add(try RequestValidationMiddleware(spec: OpenAPIDocument.json))
        let store = JobStore(pool: database.pool)
        let secrets = JobSecretsGate(settings: configuration.orchestration)
        let deliveries = WebhookDeliveries(pool: database.pool)
        BuildRoutes(store: store, secrets: secrets, dryRunAlways: configuration.dryRun).register(on: router)
        WebhookRoutes(
            settings: configuration.githubWebhook, deliveries: deliveries,
            submission: JobSubmission(store: store, secrets: secrets, dryRunAlways: configuration.dryRun)
        ).register(on: router)
        JobRoutes(store: store, secrets: secrets).register(on: router)
        let artifact = configuration.endpoints.artifact
        let artifacts = ArtifactServiceClient(baseURL: artifact.baseURL, token: artifact.token, http: HTTPClient(logger: service.logger))
        DashboardRoutes(
            store: store, secrets: secrets, accepted: configuration.common.acceptedTokens, artifacts: artifacts,
            deliveries: deliveries
        ).register(on: router)
        ProvenanceRoutes(store: store, artifacts: artifacts).register(on: router)
        guard configuration.orchestration.workers > 0 else { return [] }
        let services = StageServices(endpoints: configuration.endpoints, http: HTTPClient(logger: service.logger))
        return [
            JobWorkers(
                store: store, services: services, settings: configuration.orchestration,
                owner: configuration.common.instanceID, logger: service.logger)
        ]
    }
}
