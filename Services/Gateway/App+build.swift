import ContractCoding
import GatewayAPI
import HTTPClient
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime
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
    return try await service.makeApplication(
        browser: DashboardSession.browser, openPaths: [GatewayHandlers.githubWebhookPath]
    ) { router, database in
        guard let database else { throw ConfigurationError.missing(variable: "DATABASE_URL") }
        router.middlewares.add(try RequestValidationMiddleware(spec: OpenAPIDocument.json))
        let store = JobStore(pool: database.pool)
        let secrets = JobSecretsGate(settings: configuration.orchestration)
        let artifact = configuration.endpoints.artifact
        let handlers = GatewayHandlers(
            store: store, secrets: secrets,
            submission: JobSubmission(store: store, secrets: secrets, dryRunAlways: configuration.dryRun),
            webhook: configuration.githubWebhook, deliveries: WebhookDeliveries(pool: database.pool),
            artifacts: ArtifactServiceClient(
                baseURL: artifact.baseURL, token: artifact.token, http: HTTPClient(logger: service.logger)),
            accepted: configuration.common.acceptedTokens)
        router.middlewares.add(SubmitFastPath(handlers: handlers))
        let maxBodyBytes = configuration.common.maxBodyBytes
        try handlers.registerHandlers(
            on: router, configuration: .buildchain,
            middlewares: service.contractMiddlewares + [
                GitHubSignatureGate(secret: configuration.githubWebhook?.secret, maxBodyBytes: maxBodyBytes),
                OptionalBodyGate(maxBodyBytes: maxBodyBytes), DashboardSession.Middleware(),
            ])
        guard configuration.orchestration.workers > 0 else { return [] }
        let services = StageServices(endpoints: configuration.endpoints, http: HTTPClient(logger: service.logger))
        return [
            JobWorkers(
                store: store, services: services, settings: configuration.orchestration,
                owner: configuration.common.instanceID, logger: service.logger)
        ]
    }
}
