import Foundation
import Postgres

/// Errors of `RunStore` beyond database errors.
public enum RunStoreError: Error, Sendable, Equatable {
    case runNotFound(UUID)
    case invalidTransition(run: UUID, from: RunStatus, to: RunStatus)
    /// The run was asked for under a claim of job `job` that no longer holds it: not recorded.
    case leaseLost(job: UUID)
}

/// Records stage runs and their events in PostgreSQL.
///
/// Every status change also appends a `state` event, and every event appended sends
/// `NOTIFY run_events, '<run id>'` (at commit), so followers can listen on `eventsChannel`
/// and read the events after the last seq they saw. A run ended by someone other than its
/// work (cancelled, possibly by another replica; closed as abandoned) is also notified on
/// `stopChannel`, so the replica whose process runs it stops the work at once.
public struct RunStore: Sendable {
    public static let eventsChannel = "run_events"
    public static let stopChannel = "run_stops"

    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Records a new queued run. `request` is JSON text, already redacted. With `owner`, the
    /// instance that will run it heartbeats it from now on, so a queued run of an instance
    /// that died shows up stale too. With `leaseToken` (of a gateway's claim of `jobID`), the
    /// run is recorded only while that claim holds the job: the job's row is share-locked in
    /// the same statement, so a claim taking the job over waits for this insert (and then
    /// finds the run to adopt) or comes first (and this throws `leaseLost`).
    public func createRun(
        id: UUID = UUID(), service: String, kind: String, jobID: UUID? = nil, request: String, owner: String? = nil,
        leaseToken: UUID? = nil
    ) async throws -> StageRun {
        try await pool.transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO stage_runs (id, service, kind, job_id, status, request, owner, heartbeat_at)
                SELECT $1, $2, $3, $4, 'queued', $5::jsonb, $6, CASE WHEN $6::text IS NULL THEN NULL ELSE now() END
                WHERE $7::uuid IS NULL OR EXISTS (
                    SELECT 1 FROM jobs WHERE id = $4 AND lease_token = $7 AND state = 'running' FOR SHARE
                )
                RETURNING \(StageRun.columns)
                """, [id, service, kind, jobID, request, owner, leaseToken])
            guard let row = rows.first else { throw RunStoreError.leaseLost(job: jobID ?? id) }
            let run = try StageRun(row: row)
            try await Self.append(runID: id, kind: .state, message: RunStatus.queued.rawValue, on: connection)
            return run
        }
    }

    /// `queued → running` for `owner` (an instance id); counts an attempt and starts the heartbeat.
    @discardableResult
    public func markRunning(_ id: UUID, owner: String) async throws -> StageRun {
        try await transition(
            id, to: .running,
            set: "owner = $3, attempt = attempt + 1, started_at = now(), heartbeat_at = now(), finished_at = NULL",
            [owner])
    }

    /// `running → succeeded` with the result JSON (redacted).
    @discardableResult
    public func markSucceeded(_ id: UUID, result: String?) async throws -> StageRun {
        try await transition(id, to: .succeeded, set: "result = $3::jsonb, finished_at = now()", [result])
    }

    /// `queued|running → failed` with the error JSON (redacted).
    @discardableResult
    public func markFailed(_ id: UUID, error: String) async throws -> StageRun {
        try await transition(id, to: .failed, set: "error = $3::jsonb, finished_at = now()", [error])
    }

    /// `queued|running → cancelled`.
    @discardableResult
    public func markCancelled(_ id: UUID) async throws -> StageRun {
        try await transition(id, to: .cancelled, set: "finished_at = now()", [])
    }

    /// `running → queued`, for a run found stale: it loses its owner and waits to be run again.
    @discardableResult
    public func requeue(_ id: UUID) async throws -> StageRun {
        try await transition(id, to: .queued, set: "owner = NULL, heartbeat_at = NULL", [])
    }

    /// Refreshes `heartbeat_at` of those of `runs` that `owner` still holds queued or running,
    /// and returns them: a run missing from the answer ended elsewhere (cancelled from another
    /// replica, closed as abandoned), so its work here must stop. Only runs whose work is live in
    /// the calling process are passed, never all of an owner's.
    public func heartbeat(runs: [UUID], owner: String) async throws -> Set<UUID> {
        guard !runs.isEmpty else { return [] }
        let rows = try await pool.query(
            """
            UPDATE stage_runs SET heartbeat_at = now()
            WHERE id = ANY (string_to_array($1, ',')::uuid[]) AND owner = $2 AND status IN ('queued', 'running')
            RETURNING id
            """, [runs.map { $0.uuidString.lowercased() }.joined(separator: ","), owner])
        return Set(try rows.map { try $0.decode("id", as: UUID.self) })
    }

    /// Queued or running runs whose last heartbeat is older than `age` (optionally of one service).
    public func staleRuns(olderThan age: Duration, service: String? = nil) async throws -> [StageRun] {
        let rows = try await pool.query(
            """
            SELECT \(StageRun.columns) FROM stage_runs
            WHERE status IN ('queued', 'running') AND heartbeat_at < now() - make_interval(secs => $1)
              AND ($2::text IS NULL OR service = $2)
            ORDER BY heartbeat_at
            """, [age.inSeconds, service])
        return try rows.map(StageRun.init(row:))
    }

    /// Ends as failed with `error` (JSON) every queued or running run whose heartbeat is older
    /// than `age` by the database's clock, of one service or just run `id`; returns those it
    /// ended. Staleness is decided in the same statement that ends the run, so a run whose
    /// owner heartbeated in the meantime is left alone, and of two replicas sweeping at once
    /// only one ends it.
    @discardableResult
    public func closeStale(
        olderThan age: Duration, service: String? = nil, id: UUID? = nil, error: String
    ) async throws -> [StageRun] {
        try await pool.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE stage_runs SET status = 'failed', error = $4::jsonb, finished_at = now()
                WHERE status IN ('queued', 'running') AND heartbeat_at < now() - make_interval(secs => $1)
                  AND ($2::text IS NULL OR service = $2) AND ($3::uuid IS NULL OR id = $3)
                RETURNING \(StageRun.columns)
                """, [age.inSeconds, service, id, error])
            let runs = try rows.map(StageRun.init(row:))
            for run in runs {
                try await Self.append(runID: run.id, kind: .state, message: RunStatus.failed.rawValue, on: connection)
                try await Self.notifyStop(of: run.id, on: connection)
            }
            return runs
        }
    }

    public func run(_ id: UUID) async throws -> StageRun? {
        let rows = try await pool.query("SELECT \(StageRun.columns) FROM stage_runs WHERE id = $1", [id])
        return try rows.first.map(StageRun.init(row:))
    }

    /// Appends a log (or state) event with the next seq of the run.
    @discardableResult
    public func appendEvent(
        runID: UUID, kind: RunEvent.Kind = .log, stream: String? = nil, message: String, data: String? = nil
    ) async throws -> RunEvent {
        try await pool.withConnection { connection in
            try await Self.append(
                runID: runID, kind: kind, stream: stream, message: message, data: data, on: connection)
        }
    }

    /// The run's events with a seq above `seq`, in order.
    public func events(runID: UUID, after seq: Int64 = 0, limit: Int = 1000) async throws -> [RunEvent] {
        let rows = try await pool.query(
            "SELECT \(RunEvent.columns) FROM run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            [runID, seq, limit])
        return try rows.map(RunEvent.init(row:))
    }

    /// Moves the run to `status` when its current status allows it; `assignments` may use
    /// `$3…` for `parameters`.
    private func transition(
        _ id: UUID, to status: RunStatus, set assignments: String, _ parameters: [(any PostgresEncodable)?]
    ) async throws -> StageRun {
        let allowedFrom = RunStatus.allCases.filter { $0.successors.contains(status) }.map(\.rawValue)
        return try await pool.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE stage_runs SET status = $2, \(assignments)
                WHERE id = $1 AND status = ANY (string_to_array($\(parameters.count + 3), ','))
                RETURNING \(StageRun.columns)
                """, [id, status.rawValue] + parameters + [allowedFrom.joined(separator: ",")])
            guard let row = rows.first else {
                let current = try await connection.query("SELECT status FROM stage_runs WHERE id = $1", [id])
                guard let text = try current.first?.decode("status", as: String.self),
                    let currentStatus = RunStatus(rawValue: text)
                else { throw RunStoreError.runNotFound(id) }
                throw RunStoreError.invalidTransition(run: id, from: currentStatus, to: status)
            }
            let run = try StageRun(row: row)
            try await Self.append(runID: id, kind: .state, message: status.rawValue, on: connection)
            if status == .cancelled { try await Self.notifyStop(of: id, on: connection) }
            return run
        }
    }

    /// Sent at commit: the run's work must stop wherever it runs.
    private static func notifyStop(of runID: UUID, on connection: PostgresConnection) async throws {
        try await connection.execute("SELECT pg_notify($1, $2::text)", [stopChannel, runID.uuidString.lowercased()])
    }

    /// One statement: take the run's next seq (the row lock orders concurrent appends), insert
    /// the event, and notify followers.
    @discardableResult
    private static func append(
        runID: UUID, kind: RunEvent.Kind, stream: String? = nil, message: String, data: String? = nil,
        on connection: PostgresConnection
    ) async throws -> RunEvent {
        let rows = try await connection.query(
            """
            WITH next AS (
                UPDATE stage_runs SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq
            ), event AS (
                INSERT INTO run_events (run_id, seq, kind, stream, message, data)
                SELECT $1, event_seq, $2, $3, $4, $5::jsonb FROM next
                RETURNING \(RunEvent.columns)
            )
            SELECT event.*, pg_notify($6, $1::text) FROM event
            """, [runID, kind.rawValue, stream, message, data, eventsChannel])
        guard let row = rows.first else { throw RunStoreError.runNotFound(runID) }
        return try RunEvent(row: row)
    }
}
