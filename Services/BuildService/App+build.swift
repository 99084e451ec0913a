import BuildDrivers
import HTTPClient
import Hummingbird
import Prometheus
import Records
import ServiceKit

/// The build-service application; tests build it in process with their own configuration.
public func buildApplication(
    configuration: BuildConfiguration, registry: PrometheusCollectorRegistry? = nil
) async throws -> some ApplicationProtocol {
    let service = ServiceApplication(name: "build-service", configuration: configuration.common, registry: registry)
    let artifacts = ArtifactServiceClient(
        baseURL: configuration.artifactServiceURL, token: configuration.artifactServiceToken,
        http: HTTPClient(logger: service.logger))
    let kaniko = KanikoDriver.Configuration(
        executorPath: configuration.kanikoExecutor, cacheRegistry: configuration.cacheRegistry,
        registryMirror: configuration.registryMirror, insecureRegistries: configuration.insecureRegistries)
    let buildah = BuildahDriver.Configuration(
        workDirectory: "\(configuration.workDirectory)/buildah", cacheRegistry: configuration.cacheRegistry,
        dockerHubMirror: configuration.registryMirror, insecureRegistries: configuration.insecureRegistries,
        authFile: configuration.registryAuthFile)
    let drivers = BuildDriverSet(
        buildah: BuildahDriver(configuration: buildah, logger: service.logger),
        kaniko: KanikoDriver(configuration: kaniko, logger: service.logger),
        automatic: DefaultBuildDriver.make(kaniko: kaniko, buildah: buildah, logger: service.logger))
    let limiter = RunLimiter(limit: configuration.concurrency)
    return try await service.makeApplication { router, database in
        guard let database else { throw ConfigurationError.missing(variable: "DATABASE_URL") }
        let store = RunStore(pool: database.pool)
        let executor = RunExecutor(
            store: store, service: "build-service", owner: configuration.common.instanceID, logger: service.logger)
        BuildRoutes(
            configuration: configuration, drivers: drivers, artifacts: artifacts, executor: executor, store: store,
            limiter: limiter
        ).register(on: router)
        return [executor]
    }
}
