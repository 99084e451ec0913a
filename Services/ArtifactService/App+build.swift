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
        let sweeper = configuration.s3.flatMap { settings in
            (backend as? S3Backend).map {
                UploadSweeper(client: $0.client, uploads: uploads, staleAfter: settings.uploadStaleAfter, logger: service.logger)
            }
        }
        let store = RunStore(pool: database.pool)
        let runs = service.runExecutor(store: store)
        try ArtifactHandlers(
            backend: backend, index: ArtifactIndex(pool: database.pool), registry: registryClient, executor: runs, store: store,
            presignMaxSeconds: configuration.presignMaxSeconds, logger: service.logger
        ).registerHandlers(
            on: ArtifactKeyRouting(router: router), configuration: .buildchain,
            middlewares: service.contractMiddlewares + [ArtifactMediaType()])
        return [runs] + (sweeper.map { [$0] } ?? [])
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
        guard let settings = configuration.s3 else { throw ConfigurationError.missing(variable: "S3_ENDPOINT") }
        let partSize = settings.partSizeMB << 20
        // Uploads are streamed: one smaller than a part goes up as one PUT from
        // memory, a larger one starts its multipart upload once its first part is full.
        let client = try S3Client(
            configuration: S3Configuration(
                endpoint: settings.endpoint, region: settings.region, bucket: settings.bucket,
                accessKeyID: settings.accessKeyID, secretAccessKey: settings.secretAccessKey.value,
                sessionToken: settings.sessionToken?.value,
                addressingStyle: settings.virtualHostAddressing ? .virtualHost : .path,
                multipartThreshold: Int64(partSize), partSize: partSize, maxPartsInFlight: settings.partsInFlight),
            httpClient: http, logger: logger, observer: observer)
        return S3Backend(client: client, spoolDirectory: "\(configuration.root)/.spool")
    }
}
