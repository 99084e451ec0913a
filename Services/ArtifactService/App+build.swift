import ArtifactAPI
import ContractCoding
import Foundation
import HTTPClient
import Hummingbird
import Logging
import OCI
import OpenAPIHummingbird
import OpenAPIRuntime
import Prometheus
import Records
import S3
import ServiceKit
import StageRuns

/// The artifact-service application; tests build it in process with their own configuration.
public func buildApplication(
    configuration: ArtifactConfiguration, registry: PrometheusCollectorRegistry? = nil
) async throws -> some ApplicationProtocol {
    let service = ServiceApplication(name: "artifact-service", configuration: configuration.common, registry: registry)
    let http = HTTPClient(logger: service.logger)
    let credentials = try configuration.registryAuthFile.map { try RegistryCredentials(configFile: $0) } ?? .none
    let registryClient = RegistryClient(
        http: http, credentials: credentials,
        configuration: .init(insecureRegistries: configuration.insecureRegistries), logger: service.logger)
    return try await service.makeApplication(streamingPathPrefixes: [ArtifactKey.pathPrefix]) { router, database in
        guard let database else { throw ConfigurationError.missing(variable: "DATABASE_URL") }
        router.middlewares.add(try RequestValidationMiddleware(spec: OpenAPIDocument.json))
        router.middlewares.add(RequestLoggerMiddleware())
        let uploads = UploadLedgerObserver(
            ledger: MultipartUploadLedger(pool: database.pool), owner: configuration.common.processOwner)
        let backend = try makeBackend(configuration, http: http, logger: service.logger, observer: uploads)
        let sweeper = (backend as? S3Backend).map {
            UploadSweeper(client: $0.client, uploads: uploads, staleAfter: configuration.uploadStaleAfter, logger: service.logger)
        }
        let pushes = RunResource(
            path: "/v1/pushes", kind: "push", executor: service.runExecutor(store: RunStore(pool: database.pool)))
        try ArtifactHandlers(
            backend: backend, index: ArtifactIndex(pool: database.pool), registry: registryClient, pushes: pushes,
            presignMaxSeconds: configuration.presignMaxSeconds, logger: service.logger
        ).registerHandlers(
            on: ArtifactKeyRouting(router: router), configuration: .buildchain,
            middlewares: service.contractMiddlewares + [ArtifactMediaType()])
        return [pushes.executor] + (sweeper.map { [$0] } ?? [])
    }
}

func makeBackend(
    _ configuration: ArtifactConfiguration, http: HTTPClient, logger: Logger,
    observer: (any MultipartUploadObserver)? = nil
) throws -> any ArtifactBackend {
    switch configuration.backend {
    case .filesystem:
        return FilesystemBackend(root: configuration.root)
    case .s3:
        guard let s3 = configuration.s3 else { throw ConfigurationError.missing(variable: "S3_ENDPOINT") }
        let client = try S3Client(configuration: s3, httpClient: http, logger: logger, observer: observer)
        return S3Backend(client: client, spoolDirectory: "\(configuration.root)/.spool")
    }
}
