import Logging
import Migrations
import Postgres
import ServiceKit
import ServiceLifecycle

/// A service's connection to the shared job-records database: the pool,
/// the migrations every service applies at start (serialised by an advisory
/// lock, so replicas starting together do not race), and a lifecycle that
/// closes the pool after the server has drained.
public struct ServiceDatabase: Service {
    public let pool: PostgresPool
    private let logger: Logger

    public init(url: Secret, poolSize: Int, applicationName: String, logger: Logger) {
        self.pool = PostgresPool(
            configuration: PostgresConfiguration(
                conninfo: url.value, maxConnections: poolSize, applicationName: applicationName),
            logger: logger)
        self.logger = logger
    }

    public var readiness: ReadinessCheck {
        ReadinessCheck("postgres") { [pool] in try await pool.ping() }
    }

    public var migrate: @Sendable () async throws -> Void {
        { [pool, logger] in
            let applied = try await Migrator.apply(BuildchainSchema.migrations, on: pool, logger: logger)
            if !applied.isEmpty { logger.info("migrations applied", metadata: ["versions": "\(applied)"]) }
        }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        pool.close()
    }
}
