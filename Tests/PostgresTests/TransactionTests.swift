import Postgres
import Testing

extension DatabaseTests {
    @Suite struct TransactionTests {
        struct Abort: Error {}

        @Test func commitKeepsRowsAndAThrownErrorRollsThemBack() async throws {
            let table = TestEnvironment.uniqueName("t_tx")
            try await TestEnvironment.withPool(maxConnections: 1) { pool in
                try await pool.execute("CREATE TABLE \(table) (id int PRIMARY KEY)")
                try await TestEnvironment.cleaningUp(pool, "DROP TABLE IF EXISTS \(table)") {
                    try await pool.transaction { connection in
                        try await connection.execute("INSERT INTO \(table) VALUES ($1)", [1])
                    }
                    await #expect(throws: Abort.self) {
                        try await pool.transaction { connection in
                            try await connection.execute("INSERT INTO \(table) VALUES ($1)", [2])
                            throw Abort()
                        }
                    }
                    // A server error inside the transaction rolls back the same way.
                    await #expect(throws: PostgresError.self) {
                        try await pool.transaction { connection in
                            try await connection.execute("INSERT INTO \(table) VALUES ($1)", [3])
                            try await connection.execute("INSERT INTO \(table) VALUES ($1)", [1])
                        }
                    }
                    let rows = try await pool.query("SELECT id FROM \(table) ORDER BY id")
                    #expect(try rows.map { try $0.decode("id", as: Int.self) } == [1])
                }
            }
        }

        @Test func connectionLeftInATransactionIsNotReused() async throws {
            try await TestEnvironment.withPool(maxConnections: 1) { pool in
                let first = try await pool.withConnection { connection in
                    try await connection.execute("BEGIN")
                    return try await connection.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)
                }
                let second = try await pool.query("SELECT pg_backend_pid() AS pid")
                #expect(try second[0].decode("pid", as: Int.self) != first)
            }
        }
    }
}
