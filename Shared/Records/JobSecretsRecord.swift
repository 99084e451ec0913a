import Foundation
import Postgres

/// A job's secrets as stored: sealed by the gateway, opaque to the database.
public struct SealedSecrets: Sendable, Equatable {
    /// The id of the key that sealed them.
    public var keyID: String
    /// The base64 AES-256-GCM box.
    public var box: String

    public init(keyID: String, box: String) {
        self.keyID = keyID
        self.box = box
    }
}

extension JobStore {
    /// The job's sealed secrets; nil when it declared none, or it ended (they are deleted then).
    public func sealedSecrets(of jobID: UUID) async throws -> SealedSecrets? {
        let rows = try await pool.query("SELECT key_id, sealed FROM job_secrets WHERE job_id = $1", [jobID])
        guard let row = rows.first else { return nil }
        return SealedSecrets(keyID: try row.decode("key_id"), box: try row.decode("sealed"))
    }

    static func store(_ secrets: SealedSecrets, of jobID: UUID, on connection: PostgresConnection) async throws {
        try await connection.execute(
            """
            INSERT INTO job_secrets (job_id, key_id, sealed) VALUES ($1, $2, $3)
            ON CONFLICT (job_id) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed, created_at = now()
            """, [jobID, secrets.keyID, secrets.box])
    }
}
