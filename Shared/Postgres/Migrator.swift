import Logging

/// Applies `Migration`s at start-up, once each, even when several services start together.
///
/// One connection takes a session-level advisory lock; under it the migrator creates the
/// version table if needed, reads the applied versions and applies each missing migration in
/// its own transaction together with its version row. A second migrator blocks on the lock and
/// then finds nothing left to do.
public enum Migrator {
    /// The advisory lock key every buildchain service uses ("bchain" + "mg" as ASCII).
    public static let defaultLockKey: Int64 = 0x6263_6861_696E_6D67

    /// Returns the versions this call applied (empty when the schema was up to date).
    @discardableResult
    public static func apply(
        _ migrations: [Migration], on pool: PostgresPool, lockKey: Int64 = defaultLockKey,
        table: String = "schema_migrations", logger: Logger
    ) async throws -> [Int] {
        let table = try PostgresIdentifier.validated(table, as: "table")
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw PostgresError(.invalidArgument, message: "two migrations have version \(next.version)")
        }
        return try await pool.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock($1)", [lockKey])
            let outcome: Result<[Int], any Error>
            do {
                outcome = .success(try await applyMissing(sorted, on: connection, table: table, logger: logger))
            } catch {
                outcome = .failure(error)
            }
            do {
                try await unlock(lockKey, on: connection)
            } catch {
                // Closing the session releases the lock too.
                logger.warning("could not release the migration lock; closing the connection")
                connection.invalidate()
            }
            return try outcome.get()
        }
    }

    private static func applyMissing(
        _ migrations: [Migration], on connection: PostgresConnection, table: String, logger: Logger
    ) async throws -> [Int] {
        try await connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS \(table) (
                version int PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let rows = try await connection.query("SELECT version FROM \(table)")
        let done = Set(try rows.map { row throws(PostgresError) in try row.decode("version", as: Int.self) })
        var applied: [Int] = []
        for migration in migrations where !done.contains(migration.version) {
            try await connection.execute("BEGIN")
            do {
                try await connection.executeScript(migration.sql)
                try await connection.execute(
                    "INSERT INTO \(table) (version, name) VALUES ($1, $2)", [migration.version, migration.name])
                try await connection.execute("COMMIT")
            } catch {
                _ = try? await connection.execute("ROLLBACK")
                logger.error(
                    "migration failed",
                    metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"])
                throw error
            }
            logger.info(
                "applied migration",
                metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }

    private static func unlock(_ key: Int64, on connection: PostgresConnection) async throws {
        let rows = try await connection.query("SELECT pg_advisory_unlock($1) AS released", [key])
        guard try rows.first?.decode("released", as: Bool.self) == true else {
            throw PostgresError(.server, message: "the migration lock was not held at unlock")
        }
    }
}
