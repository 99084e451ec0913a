import ContractCoding
import HTTPClient
import Hummingbird
import OCI
import OpenAPIHummingbird
import OpenAPIRuntime
import Prometheus
import RewriteAPI
import ServiceKit

/// The rewrite-service application; tests build it in process with their own configuration.
public func buildApplication(
    configuration: RewriteConfiguration, registry: PrometheusCollectorRegistry? = nil
) async throws -> some ApplicationProtocol {
    let service = ServiceApplication(name: "rewrite-service", configuration: configuration.common, registry: registry)
    let credentials = try configuration.registryAuthFile.map { try RegistryCredentials(configFile: $0) } ?? .none
    let registryClient = RegistryClient(
        http: HTTPClient(logger: service.logger), credentials: credentials,
        configuration: .init(insecureRegistries: configuration.insecureRegistries), logger: service.logger)
    return try await service.makeApplication { router in
        router.middlewares.add(try RequestValidationMiddleware(spec: OpenAPIDocument.json))
        try RewriteHandlers(defaultProxies: configuration.proxies, pinner: ReferencePinner(registry: registryClient))
            .registerHandlers(on: router, configuration: .buildchain, middlewares: service.contractMiddlewares)
        return []
    }
}
