import BuildAPI
import BuildDrivers
import ContractCoding
import HTTPClient
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime
import Prometheus
import Records
import ServiceKit
import StageClients
import StageRuns

/// The build-service application; tests build it in process with their own configuration.
public func buildApplication(
    configuration: BuildConfiguration, registry: PrometheusCollectorRegistry? = nil
) async throws -> some ApplicationProtocol {
    let service = ServiceApplication(name: "build-service", configuration: configuration.common, registry: registry)
    let artifacts = configuration.artifactService.client(logger: service.logger)
    let kaniko = KanikoDriver.Configuration(
        executorPath: configuration.kanikoExecutor, cacheRegistry: configuration.cacheRegistry,
        registryMirror: configuration.registryMirror, insecureRegistries: configuration.insecureRegistries)
    let buildah = BuildahDriver.Configuration(
        workDirectory: "\(configuration.workDirectory)/buildah", cacheRegistry: configuration.cacheRegistry,
        dockerHubMirror: configuration.registryMirror, insecureRegistries: configuration.insecureRegistries,
        authFile: configuration.registryAuthFile, sandbox: configuration.sandbox)
    var drivers = BuildDriverSet(
        buildah: BuildahDriver(configuration: buildah, logger: service.logger),
        kaniko: KanikoDriver(configuration: kaniko, logger: service.logger),
        automatic: DefaultBuildDriver.make(kaniko: kaniko, buildah: buildah, logger: service.logger))
    if let kubernetes = configuration.kubernetes {
        drivers.kanikoKubernetes = kanikoKubernetesDriver(kubernetes, configuration: configuration, artifacts: artifacts, service: service)
    }
    let limiter = RunLimiter(limit: configuration.concurrency)
    LeftoverBuildFolders.remove(in: configuration.workDirectory, logger: service.logger)
    return try await service.makeApplication { router, database in
        guard let database else { throw ConfigurationError.missing(variable: "DATABASE_URL") }
        router.middlewares.add(try RequestValidationMiddleware(spec: OpenAPIDocument.json))
        let runs = RunResource(
            path: "/v1/builds", kind: "build", executor: service.runExecutor(store: RunStore(pool: database.pool)),
            limiter: limiter)
        try BuildHandlers(configuration: configuration, drivers: drivers, artifacts: artifacts, runs: runs)
            .registerHandlers(on: router, configuration: .buildchain, middlewares: service.contractMiddlewares)
        return [runs.executor]
    }
}

/// The `kaniko-kubernetes` driver: Jobs through the API server (its CA trusted, the service
/// account's token presented), files through artifact-service.
private func kanikoKubernetesDriver(
    _ kubernetes: BuildConfiguration.KubernetesSettings, configuration: BuildConfiguration,
    artifacts: ArtifactServiceClient, service: ServiceApplication
) -> any BuildDriver {
    var http = HTTPClient.Configuration()
    http.caBundlePath = kubernetes.caFile
    let api = KubernetesAPI(
        baseURL: kubernetes.apiURL, namespace: kubernetes.namespace, tokenFile: kubernetes.tokenFile,
        http: HTTPClient(configuration: http, logger: service.logger))
    let podArtifacts = configuration.artifactService.client(logger: service.logger, url: kubernetes.artifactServiceURL)
    let transfer = ArtifactKanikoTransfer(
        artifacts: artifacts, podArtifacts: podArtifacts, workDirectory: configuration.workDirectory)
    let settings = KanikoJobManifest.Settings(
        namespace: kubernetes.namespace, kanikoImage: kubernetes.kanikoImage, uploaderImage: kubernetes.uploaderImage,
        contextImage: kubernetes.initImage,
        ttlSecondsAfterFinished: kubernetes.jobTTLSeconds, serviceAccount: kubernetes.serviceAccount,
        registryAuthSecret: kubernetes.registryAuthSecret, uploadTokenSecret: kubernetes.uploadTokenSecret)
    return KanikoKubernetesDriver(
        configuration: KanikoKubernetesDriver.Configuration(
            job: settings, cacheRegistry: configuration.cacheRegistry, registryMirror: configuration.registryMirror,
            insecureRegistries: configuration.insecureRegistries),
        api: api, transfer: transfer, logger: service.logger)
}
