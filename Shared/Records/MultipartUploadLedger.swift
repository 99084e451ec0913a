import Postgres

/// The `multipart_uploads` table: S3 multipart uploads a process has open. The process
/// heartbeats its own rows; rows whose heartbeat is older than the stale age belong to a
/// process that died mid-upload, and the sweeper aborts those uploads.
public struct MultipartUploadLedger: Sendable {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var uploadID: String
    }

    private let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    public func opened(key: String, uploadID: String, owner: String) async throws {
        try await pool.execute(
            "INSERT INTO multipart_uploads (upload_id, key, owner) VALUES ($1, $2, $3) ON CONFLICT (upload_id) DO NOTHING",
            [uploadID, key, owner])
    }

    public func closed(uploadID: String) async throws {
        try await pool.execute("DELETE FROM multipart_uploads WHERE upload_id = $1", [uploadID])
    }

    /// Marks `owner`'s open uploads alive.
    public func heartbeat(owner: String) async throws {
        try await pool.execute("UPDATE multipart_uploads SET heartbeat_at = now() WHERE owner = $1", [owner])
    }

    /// Uploads whose process stopped heartbeating `age` ago, oldest first.
    public func abandoned(olderThan age: Duration) async throws -> [Entry] {
        try await pool.query(
            """
            SELECT key, upload_id FROM multipart_uploads
            WHERE heartbeat_at < now() - make_interval(secs => $1) ORDER BY heartbeat_at
            """, [age.inSeconds]
        ).map { Entry(key: try $0.decode("key", as: String.self), uploadID: try $0.decode("upload_id", as: String.self)) }
    }
}
