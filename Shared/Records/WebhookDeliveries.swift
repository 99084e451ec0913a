import Foundation
import Postgres

/// The webhook deliveries the gateway acted on (`webhook_deliveries`), so a delivery id seen
/// before starts nothing, and a job can say which delivery started it.
public struct WebhookDeliveries: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    /// Records the delivery before its jobs are created; false when its id is already recorded.
    public func claim(
        _ deliveryID: String, source: String, event: String, repository: String, ref: String, commit: String
    ) async throws -> Bool {
        let rows = try await pool.query(
            """
            INSERT INTO webhook_deliveries (delivery_id, source, event, repository, ref, commit_sha)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (delivery_id) DO NOTHING
            RETURNING delivery_id
            """, [deliveryID, source, event, repository, ref, commit])
        return !rows.isEmpty
    }

    public func attach(_ jobIDs: [UUID], to deliveryID: String) async throws {
        let array = "{" + jobIDs.map { $0.uuidString.lowercased() }.joined(separator: ",") + "}"
        _ = try await pool.execute(
            "UPDATE webhook_deliveries SET job_ids = $2::uuid[] WHERE delivery_id = $1", [deliveryID, array])
    }

    /// Drops a claimed delivery whose jobs could not be created, so a redelivery can try again.
    public func release(_ deliveryID: String) async throws {
        _ = try await pool.execute(
            "DELETE FROM webhook_deliveries WHERE delivery_id = $1 AND cardinality(job_ids) = 0", [deliveryID])
    }

    /// The jobs a recorded delivery started.
    public func jobs(of deliveryID: String) async throws -> [UUID] {
        let rows = try await pool.query(
            "SELECT array_to_string(job_ids, ',') AS ids FROM webhook_deliveries WHERE delivery_id = $1", [deliveryID])
        return (rows.first?["ids"] ?? "").split(separator: ",").compactMap { UUID(uuidString: String($0)) }
    }

    /// The delivery that started `jobID`, if a webhook did.
    public func delivery(startedJob jobID: UUID) async throws -> String? {
        let rows = try await pool.query(
            "SELECT delivery_id FROM webhook_deliveries WHERE job_ids @> ARRAY[$1::uuid] LIMIT 1",
            [jobID.uuidString.lowercased()])
        return rows.first?["delivery_id"]
    }
}
