import Foundation
import Digests
import Logging

/// Settings every service reads.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `HOST` | address to listen on | 127.0.0.1 |
/// | `PORT` | port to listen on (0 picks a free one) | the service's own |
/// | `API_TOKEN` | bearer token callers must present | required |
/// | `API_TOKEN_SHA256` | where a service takes hashed tokens (the gateway): the hex SHA-256 of each accepted token, comma-separated | required there, instead of `API_TOKEN` |
/// | `DATABASE_URL` | libpq connection URI for the job records | required where the service records runs |
/// | `DATABASE_POOL_SIZE` | connections kept at most | twice the cores the process may run on (at least 2) |
/// | `LOG_LEVEL` | trace, debug, info, notice, warning, error, critical | info |
/// | `MAX_BODY_BYTES` | largest JSON request body | 1048576 |
/// | `INSTANCE_ID` | this replica's name in run records | host name + pid |
/// | `RUN_HEARTBEAT_INTERVAL` | how often a service heartbeats its live runs and sweeps abandoned ones | `RUN_STALE_AFTER` / 6 |
/// | `RUN_STALE_AFTER` | a run without heartbeat this long (database clock) is ended as `RUN_ABANDONED` | 30s |
/// | `RUN_END_WRITE_LIMIT` | how long writing a run's end is retried through a database outage | 60s |
public struct CommonConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var apiToken: Secret
    public var databaseURL: Secret?
    public var databasePoolSize: Int
    public var logLevel: Logger.Level
    public var maxBodyBytes: Int
    public var instanceID: String
    /// Heartbeat, staleness and end-write settings of the runs this service records.
    public var runs = RunSettings()
    /// What the bearer-auth middleware accepts: `apiToken` unless hashes were configured.
    public var acceptedTokens: AcceptedTokens

    public init(
        host: String = "127.0.0.1", port: Int, apiToken: Secret, databaseURL: Secret? = nil,
        databasePoolSize: Int = 8, logLevel: Logger.Level = .info, maxBodyBytes: Int = 1 << 20,
        instanceID: String = CommonConfiguration.defaultInstanceID
    ) {
        self.host = host
        self.port = port
        self.apiToken = apiToken
        self.databaseURL = databaseURL
        self.databasePoolSize = databasePoolSize
        self.logLevel = logLevel
        self.maxBodyBytes = maxBodyBytes
        self.instanceID = instanceID
        self.acceptedTokens = .token(apiToken)
    }

    /// Each pooled connection has its own thread and its own PostgreSQL backend: more of them
    /// than twice the cores only adds threads waiting for a core (bench/load on 2 cores: the
    /// status read's p99 was 62–92 ms with 16 connections, 15–19 ms with 2 to 4).
    public static var defaultPoolSize: Int { max(2, 2 * ProcessInfo.processInfo.activeProcessorCount) }

    /// With `hashedTokens`, callers' tokens are checked against `API_TOKEN_SHA256` and
    /// `API_TOKEN` is not read.
    public init(
        reading env: EnvironmentReader, defaultPort: Int, requiresDatabase: Bool, hashedTokens: Bool = false
    ) throws(ConfigurationError) {
        self.init(
            host: env.string("HOST", default: "127.0.0.1"),
            port: try env.int("PORT", default: defaultPort, in: 0...65535),
            apiToken: hashedTokens ? Secret("") : try env.requiredSecret("API_TOKEN"),
            databaseURL: requiresDatabase ? try env.requiredSecret("DATABASE_URL") : env.secret("DATABASE_URL"),
            databasePoolSize: try env.int("DATABASE_POOL_SIZE", default: Self.defaultPoolSize, in: 1...256),
            logLevel: try env.enumeration("LOG_LEVEL", default: Logger.Level.info),
            maxBodyBytes: try env.int("MAX_BODY_BYTES", default: 1 << 20, in: 1024...(1 << 30)),
            instanceID: env.string("INSTANCE_ID", default: CommonConfiguration.defaultInstanceID))
        runs.staleAfter = try env.duration("RUN_STALE_AFTER", default: runs.staleAfter)
        runs.heartbeatInterval = try env.duration("RUN_HEARTBEAT_INTERVAL", default: runs.staleAfter / 6)
        runs.endWriteLimit = try env.duration("RUN_END_WRITE_LIMIT", default: runs.endWriteLimit)
        guard runs.heartbeatInterval > .zero, runs.staleAfter > runs.heartbeatInterval * 2 else {
            throw .invalid(
                variable: "RUN_STALE_AFTER", value: env.string("RUN_STALE_AFTER") ?? "",
                expected: "more than twice RUN_HEARTBEAT_INTERVAL (and that above 0)")
        }
        if hashedTokens {
            let text = try env.requiredString("API_TOKEN_SHA256")
            let hashes = env.list("API_TOKEN_SHA256")
            let digests = hashes.compactMap { $0.count == 64 ? Hex.decode($0) : nil }
            guard !digests.isEmpty, digests.count == hashes.count else {
                throw .invalid(
                    variable: "API_TOKEN_SHA256", value: text, expected: "comma-separated hex SHA-256 digests of the tokens")
            }
            acceptedTokens = .sha256(digests)
        }
    }

    public static var defaultInstanceID: String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// This process as the owner of records it heartbeats (runs, open uploads): the instance's
    /// name and a token drawn at start, so a process restarted under the same INSTANCE_ID (a
    /// container restarted in its pod) never keeps its predecessor's records alive.
    public var processOwner: String { "\(instanceID)#\(Self.processToken)" }
    private static let processToken = UUID().uuidString.prefix(8).lowercased()
}
