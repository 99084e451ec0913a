import Hummingbird
import ServiceKit
import ServiceLifecycle

extension ServiceApplication {
    /// The standard application of a service that records runs: when the configuration names
    /// a database, a connection pool whose health `/readyz` reports, migrations applied
    /// before the server starts, and the pool closed at shutdown.
    /// `routes` registers the service's own endpoints and returns the background services they
    /// need (started before the server, stopped after it).
    public func makeApplication(
        streamingPathPrefixes: [String] = [], readiness: [ReadinessCheck] = [], browser: BrowserSession? = nil,
        openPaths: Set<String> = [],
        routes: (Router<ServiceRequestContext>, ServiceDatabase?) async throws -> [any Service]
    ) async throws -> some ApplicationProtocol {
        let database = configuration.databaseURL.map {
            ServiceDatabase(url: $0, poolSize: configuration.databasePoolSize, applicationName: name, logger: logger)
        }
        return try await makeApplication(
            streamingPathPrefixes: streamingPathPrefixes, readiness: readiness + (database.map { [$0.readiness] } ?? []),
            browser: browser, openPaths: openPaths, services: database.map { [$0] } ?? [],
            beforeStart: database.map { [$0.migrate] } ?? []
        ) { router in try await routes(router, database) }
    }
}
