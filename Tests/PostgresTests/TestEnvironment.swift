import Foundation
import Logging
import Postgres
import Synchronization
import TestSupport
import Testing

/// The real PostgreSQL the tests use, found through environment variables:
/// - `BUILDCHAIN_TEST_DATABASE_URL`: a libpq URI of a database the tests may create tables in;
/// - `BUILDCHAIN_TEST_PG_RESTART`: a shell command that restarts that server (`pg_ctl restart`).
/// Without them the suites are skipped, except when `CI` is set: then they run and fail.
enum TestEnvironment {
    private static let environment = ProcessInfo.processInfo.environment

    static let databaseURL = environment["BUILDCHAIN_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let restartCommand = environment["BUILDCHAIN_TEST_PG_RESTART"].flatMap { $0.isEmpty ? nil : $0 }
    static let isCI = environment["CI"].map { !$0.isEmpty } ?? false

    static let logger: Logger = {
        var logger = Logger(label: "PostgresTests")
        logger.logLevel = .warning
        return logger
    }()

    static func requireDatabaseURL() throws -> String {
        try #require(databaseURL, "BUILDCHAIN_TEST_DATABASE_URL must be set when CI is set")
    }

    static func configuration(maxConnections: Int = 4, applicationName: String? = nil) throws -> PostgresConfiguration {
        PostgresConfiguration(
            conninfo: try requireDatabaseURL(), maxConnections: maxConnections,
            applicationName: applicationName ?? uniqueName("pgtest"))
    }

    /// Runs `body` with a new pool and closes the pool afterwards.
    static func withPool<T>(
        maxConnections: Int = 4, applicationName: String? = nil, _ body: (PostgresPool) async throws -> T
    ) async throws -> T {
        let pool = PostgresPool(
            configuration: try configuration(maxConnections: maxConnections, applicationName: applicationName),
            logger: logger)
        defer { pool.close() }
        return try await body(pool)
    }

    /// Runs `body` with a pool on a new, empty database, dropped afterwards.
    static func withScratchDatabase<T>(_ body: (PostgresPool) async throws -> T) async throws -> T {
        let name = uniqueName("scratch")
        _ = try await withPool { try await $0.execute("CREATE DATABASE \(name)") }
        let url = try requireDatabaseURL()
        let query = url.firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        let base = url.prefix { $0 != "?" }
        let scratchURL = base[..<(base.lastIndex(of: "/") ?? base.endIndex)] + "/\(name)" + query
        let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: String(scratchURL), maxConnections: 4), logger: logger)
        do {
            let value = try await body(pool)
            pool.close()
            try await withPool { _ = try await $0.execute("DROP DATABASE \(name) WITH (FORCE)") }
            return value
        } catch {
            pool.close()
            _ = try? await withPool { try await $0.execute("DROP DATABASE \(name) WITH (FORCE)") }
            throw error
        }
    }

    /// `prefix_` and 12 random hex digits: a valid identifier, unique per test.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))"
    }

    /// Runs `body`, then the `cleanup` statement whether or not `body` threw.
    static func cleaningUp<T>(
        _ pool: PostgresPool, _ cleanup: String, _ parameters: [(any PostgresEncodable)?] = [],
        _ body: () async throws -> T
    ) async throws -> T {
        do {
            let value = try await body()
            try await pool.execute(cleanup, parameters)
            return value
        } catch {
            _ = try? await pool.execute(cleanup, parameters)
            throw error
        }
    }

    static func restartServer() async throws {
        let command = try #require(restartCommand, "BUILDCHAIN_TEST_PG_RESTART must be set when CI is set")
        let status = try await WaitedShell.run(command)
        try #require(status == 0, "the restart command exited with status \(status)")
    }
}

/// Every suite that talks to the server is nested here: `.serialized` because the restart tests
/// take the server away from everyone else.
@Suite(
    .serialized,
    .enabled(
        if: TestEnvironment.databaseURL != nil || TestEnvironment.isCI,
        "set BUILDCHAIN_TEST_DATABASE_URL to a libpq URI of a scratch database to run the PostgreSQL tests"))
struct DatabaseTests {}

extension Trait where Self == ConditionTrait {
    /// For tests that restart the server.
    static var needsRestartCommand: Self {
        .enabled(
            if: TestEnvironment.restartCommand != nil || TestEnvironment.isCI,
            "set BUILDCHAIN_TEST_PG_RESTART to a shell command restarting the test server to run this test")
    }
}

/// The first element of `stream` that satisfies `predicate`, or nil after `seconds`.
func first<Element: Sendable>(
    of stream: AsyncStream<Element>, within seconds: Double, where predicate: @escaping @Sendable (Element) -> Bool
) async -> Element? {
    await withTaskGroup(of: Element?.self) { group in
        group.addTask {
            for await element in stream where predicate(element) { return element }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: .seconds(seconds))
            return nil
        }
        let result = await group.next() ?? nil
        group.cancelAll()
        return result
    }
}

/// Counts how many holders are inside at once and the most there ever were.
final class Gauge: Sendable {
    private let state = Mutex((current: 0, peak: 0))

    func enter() {
        state.withLock {
            $0.current += 1
            $0.peak = max($0.peak, $0.current)
        }
    }
    func leave() { state.withLock { $0.current -= 1 } }
    var peak: Int { state.withLock { $0.peak } }
}

/// A list appended to from several tasks.
final class Recorder<Element: Sendable>: Sendable {
    private let elements = Mutex<[Element]>([])

    func append(_ element: Element) { elements.withLock { $0.append(element) } }
    var all: [Element] { elements.withLock { $0 } }
}

/// A one-way switch shared between tasks.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
