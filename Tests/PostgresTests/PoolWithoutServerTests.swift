import Logging
import Postgres
import Testing

@Suite struct PoolWithoutServerTests {
    @Test func unreachableServerFailsEachBorrowerWithoutLeakingThePassword() async throws {
        let configuration = PostgresConfiguration(
            conninfo: "postgresql://someone:sekrit-pw@127.0.0.1:1/nothing", maxConnections: 1, connectTimeoutSeconds: 2)
        let pool = PostgresPool(configuration: configuration, logger: Logger(label: "test"))
        defer { pool.close() }
        // Twice: a failed connect must give its slot back, or the second call would wait forever.
        for _ in 0..<2 {
            let error = await #expect(throws: PostgresError.self) { try await pool.ping() }
            #expect(error?.kind == .connectFailed)
            #expect(error.map { "\($0)".contains("sekrit-pw") } == false)
        }
    }

    @Test func listenerRejectsChannelNamesThatAreNotPlainIdentifiers() async throws {
        let configuration = PostgresConfiguration(conninfo: "postgresql://127.0.0.1:1/nothing")
        for channel in ["Upper", "with space", "semi;colon", "\"quoted\"", "", "1starts_with_digit"] {
            let error = await #expect(throws: PostgresError.self) {
                _ = try await PostgresListener(
                    configuration: configuration, channels: [channel], logger: Logger(label: "test"))
            }
            #expect(error?.kind == .invalidArgument)
        }
    }

    @Test(arguments: [
        ("postgresql://user:pw@127.0.0.1:5433/db", "postgresql://user:***@127.0.0.1:5433/db"),
        ("postgres://user:p%40ss@host/db?sslmode=disable", "postgres://user:***@host/db?sslmode=disable"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
        (
            "postgresql://host/db?user=u&password=secret&sslmode=require",
            "postgresql://host/db?user=u&password=***&sslmode=require"
        ),
        ("host=localhost password=secret dbname=x", "host=localhost password=*** dbname=x"),
        ("host=localhost password = 'it\\'s secret' dbname=x", "host=localhost password =*** dbname=x"),
        ("host=localhost PASSWORD=secret", "host=localhost PASSWORD=***"),
        ("dbname=passwords", "dbname=passwords"),
    ])
    func redactsConninfoPasswords(conninfo: String, expected: String) {
        #expect(PostgresConfiguration.redact(conninfo) == expected)
    }
}
