import Hummingbird
import HummingbirdCore
import Logging
import Prometheus
import ServiceLifecycle

/// The parts every buildchain service assembles the same way: middleware
/// order, operational routes, server configuration, start-up hooks.
public struct ServiceApplication: Sendable {
    public let name: String
    public let configuration: CommonConfiguration
    public let registry: PrometheusCollectorRegistry
    public let logger: Logger

    public init(name: String, configuration: CommonConfiguration, registry: PrometheusCollectorRegistry? = nil) {
        self.name = name
        self.configuration = configuration
        self.registry = registry ?? PrometheusCollectorRegistry()
        var logger = Logger(label: name)
        logger.logLevel = configuration.logLevel
        logger[metadataKey: "service"] = "\(name)"
        self.logger = logger
    }

    /// A router with the standard middleware (outermost first: request
    /// tracing, problem+json errors, metrics, bearer auth, body limits) and
    /// `/healthz`, `/readyz`, `/metrics`.
    public func makeRouter(
        readiness: [ReadinessCheck] = [], streamingPathPrefixes: [String] = [], browser: BrowserSession? = nil,
        openPaths: Set<String> = []
    ) -> Router<ServiceRequestContext> {
        let router = Router(context: ServiceRequestContext.self)
        router.middlewares.add(RequestTraceMiddleware())
        router.middlewares.add(ProblemMiddleware())
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(NULRefusalMiddleware())
        router.middlewares.add(
            BearerAuthMiddleware(
                accepting: configuration.acceptedTokens, openPaths: openPaths.union(["/healthz", "/readyz"]), browser: browser))
        router.middlewares.add(
            BodyLimitMiddleware(limit: configuration.maxBodyBytes, streamingPrefixes: streamingPathPrefixes))
        OperationalRoutes(service: name, checks: readiness, registry: registry, checkTimeout: .seconds(3))
            .register(on: router)
        return router
    }

    /// The application: the server on HOST:PORT plus `services` (started
    /// before the server, shut down after it on SIGTERM/SIGINT) and
    /// `beforeStart` hooks such as migrations.
    public func makeApplication(
        router: Router<ServiceRequestContext>, services: [any Service] = [],
        beforeStart: [@Sendable () async throws -> Void] = []
    ) -> some ApplicationProtocol {
        let logger = self.logger
        var app = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: name),
            services: services,
            onServerRunning: { channel in
                logger.info("listening", metadata: ["port": "\(channel.localAddress?.port ?? -1)"])
            },
            logger: logger)
        for hook in beforeStart { app.beforeServerStarts(perform: hook) }
        return app
    }
}

extension ServiceApplication {
    /// The standard application: a router with the standard middleware, `routes` registering
    /// the service's own endpoints and returning the background services they need, started
    /// before the server (after `services`) and stopped after it; `beforeStart` hooks run
    /// before the server starts. A database, when the service has one, comes in through
    /// `readiness`, `services` and `beforeStart` (StageRuns' `makeApplication` does that).
    public func makeApplication(
        streamingPathPrefixes: [String] = [], readiness: [ReadinessCheck] = [], browser: BrowserSession? = nil,
        openPaths: Set<String> = [], services: [any Service] = [], beforeStart: [@Sendable () async throws -> Void] = [],
        routes: (Router<ServiceRequestContext>) async throws -> [any Service]
    ) async throws -> some ApplicationProtocol {
        let router = makeRouter(
            readiness: readiness, streamingPathPrefixes: streamingPathPrefixes, browser: browser, openPaths: openPaths)
        let own = try await routes(router)
        return makeApplication(router: router, services: services + own, beforeStart: beforeStart)
    }
}
