import Foundation
import Postgres

/// A stored artifact as recorded in PostgreSQL.
public struct ArtifactRecord: Sendable, Equatable, Codable {
    public var key: String
    public var size: Int64
    public var sha256: String
    public var mediaType: String
    public var jobID: UUID?
    public var createdAt: Date

    public init(key: String, size: Int64, sha256: String, mediaType: String, jobID: UUID?, createdAt: Date = Date()) {
        self.key = key
        self.size = size
        self.sha256 = sha256
        self.mediaType = mediaType
        self.jobID = jobID
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case key, size, sha256
        case mediaType = "media_type"
        case jobID = "job_id"
        case createdAt = "created_at"
    }
}

/// The `artifacts` table: what the store holds, listable in key order.
public struct ArtifactIndex: Sendable {
    private let pool: PostgresPool
    static let columns = "key, size, sha256, media_type, job_id, created_at"

    public init(pool: PostgresPool) { self.pool = pool }

    /// Records (or replaces: a stage re-run writes the same key) an artifact.
    @discardableResult
    public func record(_ artifact: ArtifactRecord) async throws -> ArtifactRecord {
        let rows = try await pool.query(
            """
            INSERT INTO artifacts (key, size, sha256, media_type, job_id)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (key) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256,
                media_type = excluded.media_type, job_id = excluded.job_id, created_at = now()
            RETURNING \(Self.columns)
            """, [artifact.key, artifact.size, artifact.sha256, artifact.mediaType, artifact.jobID])
        return try Self.decode(rows[0])
    }

    public func find(_ key: String) async throws -> ArtifactRecord? {
        try await pool.query("SELECT \(Self.columns) FROM artifacts WHERE key = $1", [key]).first.map(Self.decode)
    }

    @discardableResult
    public func remove(_ key: String) async throws -> Bool {
        try await pool.execute("DELETE FROM artifacts WHERE key = $1", [key]) > 0
    }

    /// Keys starting with `prefix`, after `cursor` (the last key of the previous page), in order.
    public func list(prefix: String, after cursor: String?, limit: Int) async throws -> [ArtifactRecord] {
        let rows = try await pool.query(
            """
            SELECT \(Self.columns) FROM artifacts
            WHERE starts_with(key, $1) AND ($2::text IS NULL OR key COLLATE "C" > $2)
            ORDER BY key COLLATE "C" LIMIT $3
            """, [prefix, cursor, limit])
        return try rows.map(Self.decode)
    }

    private static func decode(_ row: PostgresRow) throws -> ArtifactRecord {
        ArtifactRecord(
            key: try row.decode("key", as: String.self), size: try row.decode("size", as: Int64.self),
            sha256: try row.decode("sha256", as: String.self), mediaType: try row.decode("media_type", as: String.self),
            jobID: try row.decode("job_id", as: UUID?.self), createdAt: try row.decode("created_at", as: Date.self))
    }
}
