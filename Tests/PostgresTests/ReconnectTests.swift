import Postgres
import Testing

extension DatabaseTests {
    @Suite(.needsRestartCommand) struct ReconnectTests {
        @Test func poolRecoversFromAServerRestartWithoutAnError() async throws {
            try await TestEnvironment.withPool(maxConnections: 2) { pool in
                // Two idle connections, both stale once the server restarts.
                async let first = pool.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.1)")
                async let second = pool.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.1)")
                let before = Set(
                    try await [first[0].decode("pid", as: Int.self), second[0].decode("pid", as: Int.self)])
                #expect(before.count == 2)

                try await TestEnvironment.restartServer()

                let runs = Recorder<Int>()
                let pid = try await pool.withConnection { connection in
                    runs.append(1)
                    return try await connection.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)
                }
                #expect(!before.contains(pid))
                #expect(runs.all.count == 2)  // the first try met a dead connection, the retry a fresh one
                try await pool.transaction { connection in try await connection.execute("SELECT 1") }
                try await pool.ping()
            }
        }

        @Test func connectionLostAfterAStatementSurfacesTheError() async throws {
            try await TestEnvironment.withPool(maxConnections: 1) { pool in
                let runs = Recorder<Int>()
                let error = await #expect(throws: PostgresError.self) {
                    try await pool.withConnection { connection in
                        runs.append(1)
                        try await connection.query("SELECT 1")
                        try await TestEnvironment.restartServer()
                        try await connection.query("SELECT 2")
                    }
                }
                #expect(error?.isConnectionLost == true)
                #expect(runs.all.count == 1)
                try await pool.ping()
            }
        }
    }
}
