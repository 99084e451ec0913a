import Postgres
import Testing

extension DatabaseTests {
    /// Each test uses its own version table, tables and lock key, apart from the real schema.
    @Suite struct MigratorTests {
        let versions = TestEnvironment.uniqueName("schema_migrations")
        let table = TestEnvironment.uniqueName("t_migrated")
        let lockKey = Int64.random(in: 1...Int64.max)

        var migrations: [Migration] {
            [
                // The sleep keeps the lock long enough for the other migrator to queue behind it.
                Migration(
                    version: 1, name: "create", sql: "CREATE TABLE \(table) (n int NOT NULL); SELECT pg_sleep(0.3)"),
                Migration(version: 2, name: "seed", sql: "INSERT INTO \(table) (n) VALUES (2)"),
            ]
        }

        @Test func concurrentMigratorsApplyEachMigrationOnceAndBothSucceed() async throws {
            try await TestEnvironment.withPool { first in
                try await TestEnvironment.withPool { second in
                    try await TestEnvironment.cleaningUp(first, "DROP TABLE IF EXISTS \(table), \(versions)") {
                        async let a = Migrator.apply(
                            migrations, on: first, lockKey: lockKey, table: versions, logger: TestEnvironment.logger)
                        async let b = Migrator.apply(
                            migrations, on: second, lockKey: lockKey, table: versions, logger: TestEnvironment.logger)
                        let applied = try await [a, b]
                        #expect(applied.contains([1, 2]))
                        #expect(applied.contains([]))

                        let recorded = try await first.query("SELECT version, name FROM \(versions) ORDER BY version")
                        #expect(try recorded.map { try $0.decode("version", as: Int.self) } == [1, 2])
                        let seeded = try await first.query("SELECT count(*) AS n FROM \(table)")
                        #expect(try seeded[0].decode("n", as: Int.self) == 1)
                    }
                }
            }
        }

        @Test func applyingAgainIsANoOp() async throws {
            try await TestEnvironment.withPool { pool in
                try await TestEnvironment.cleaningUp(pool, "DROP TABLE IF EXISTS \(table), \(versions)") {
                    let apply = {
                        try await Migrator.apply(
                            migrations, on: pool, lockKey: lockKey, table: versions, logger: TestEnvironment.logger)
                    }
                    #expect(try await apply() == [1, 2])
                    #expect(try await apply() == [])
                    let seeded = try await pool.query("SELECT count(*) AS n FROM \(table)")
                    #expect(try seeded[0].decode("n", as: Int.self) == 1)
                }
            }
        }

        @Test func failedMigrationIsRolledBackAndReleasesTheLock() async throws {
            let broken = [
                migrations[0],
                Migration(version: 2, name: "broken", sql: "INSERT INTO \(table) (n) VALUES (2); SELEC 1"),
            ]
            try await TestEnvironment.withPool { pool in
                try await TestEnvironment.cleaningUp(pool, "DROP TABLE IF EXISTS \(table), \(versions)") {
                    await #expect(throws: PostgresError.self) {
                        try await Migrator.apply(
                            broken, on: pool, lockKey: lockKey, table: versions, logger: TestEnvironment.logger)
                    }
                    let rows = try await pool.query(
                        """
                        SELECT (SELECT count(*) FROM \(table)) AS seeded,
                               (SELECT array_agg(version)::text FROM \(versions)) AS versions
                        """)
                    #expect(try rows[0].decode("seeded", as: Int.self) == 0)
                    #expect(try rows[0].decode("versions", as: String.self) == "{1}")
                    let lockable = try await pool.withConnection { connection in
                        let locked = try await connection.query("SELECT pg_try_advisory_lock($1) AS ok", [lockKey])[0]
                            .decode("ok", as: Bool.self)
                        if locked { try await connection.query("SELECT pg_advisory_unlock($1)", [lockKey]) }
                        return locked
                    }
                    #expect(lockable)

                    #expect(
                        try await Migrator.apply(
                            migrations, on: pool, lockKey: lockKey, table: versions, logger: TestEnvironment.logger)
                            == [2])
                }
            }
        }

        @Test func duplicateVersionsAreRefused() async throws {
            let duplicated = [migrations[0], Migration(version: 1, name: "again", sql: "SELECT 1")]
            try await TestEnvironment.withPool { pool in
                let error = await #expect(throws: PostgresError.self) {
                    try await Migrator.apply(
                        duplicated, on: pool, lockKey: lockKey, table: versions, logger: TestEnvironment.logger)
                }
                #expect(error?.kind == .invalidArgument)
            }
        }
    }
}
