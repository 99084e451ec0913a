import Foundation
import Postgres

public enum JobStoreError: Error, Sendable, Equatable {
    /// This claim no longer holds the job's lease: another claim took it over (perhaps by the
    /// same gateway), or the job ended.
    case leaseLost(UUID)
    case jobNotFound(UUID)
}

/// A job claimed by a gateway, with the claim's lease, and who held it before when it was
/// taken over from a lost lease.
public struct JobClaim: Sendable {
    public var job: Job
    public var lease: JobLease
    public var previousOwner: String?
}

/// What a lease renewal learnt about the job.
public struct LeaseRenewal: Sendable, Equatable {
    public var cancelRequested: Bool
    public var pastDeadline: Bool
}

/// A stage run's event, copied into the job's log.
public struct CopiedEvent: Sendable {
    public var seq: Int64
    public var kind: RunEvent.Kind
    public var stream: String?
    public var message: String

    public init(seq: Int64, kind: RunEvent.Kind, stream: String?, message: String) {
        self.seq = seq
        self.kind = kind
        self.stream = stream
        self.message = message
    }
}

/// The gateway's job records. Workers claim queued jobs (and jobs whose lease expired) with
/// `FOR UPDATE SKIP LOCKED`, so replicas never claim the same job at once. Every claim gets a
/// fresh `lease_token`, and every write a worker makes while running a job locks the job row
/// and checks that token (`fenced`), so a run that lost its lease (it stalled, another claim
/// took over, even one by the same process) cannot overwrite the new claim's progress. Lease
/// times are the database's (`now()`), never a local clock.
public struct JobStore: Sendable {
    public static let eventsChannel = "job_events"
    /// Notified with a job's id when a cancel of it is recorded, so the gateway running it
    /// stops it at once (its lease renewal reads the flag too, as the fallback).
    public static let cancelChannel = "job_cancels"

    let pool: PostgresPool
    /// Submits recorded together when they arrive together (group commit).
    private let creations: JobCreationBatch

    public init(pool: PostgresPool) {
        self.pool = pool
        self.creations = JobCreationBatch(pool: pool)
    }

    /// The stage runs' records, in the same database: the gateway ends the abandoned runs it follows.
    public var runs: RunStore { RunStore(pool: pool) }

    // MARK: submitting and reading

    /// Records a queued job with its stages pending, before anyone is told its id. A dry run
    /// is recorded the same way and ended in the same transaction, so no worker ever claims it:
    /// `cancelled` with `DRY_RUN` (a retry runs it for real). `secrets` are stored with the job,
    /// before any worker can see it.
    @discardableResult
    public func create(
        id: UUID = UUID(), workload: String, service: String, request: String, stages: [StageName],
        dryRun: Bool = false, secrets: SealedSecrets? = nil
    ) async throws -> Job {
        try await createWithStages(
            id: id, workload: workload, service: service, request: request, stages: stages, dryRun: dryRun,
            secrets: secrets
        ).job
    }

    /// `create`, answering with the stages as inserted too: what a submit's response shows,
    /// without reading them again.
    public func createWithStages(
        id: UUID = UUID(), workload: String, service: String, request: String, stages: [StageName],
        dryRun: Bool = false, secrets: SealedSecrets? = nil
    ) async throws -> JobWithStages {
        // A dry run is recorded as a job that was queued and then cancelled without running.
        let creation = JobCreation(
            id: id, workload: workload, service: service, request: request,
            states: dryRun ? [.queued, .cancelled] : [.queued],
            error: dryRun ? Self.unrunError(code: "DRY_RUN", message: "recorded, not run: the request was a dry run") : nil,
            stages: stages)
        // A dry run has ended before it is recorded: like any ended job it keeps no secrets.
        guard let secrets, !dryRun else { return try await creations.create(creation) }
        return try await pool.transaction { connection in
            let created = try await JobCreationBatch.insert([creation], on: connection)[0]
            try await Self.store(secrets, of: id, on: connection)
            return created
        }
    }

    /// The error of a job ended before any stage ran; `code` and `message` are literals
    /// (nothing to escape).
    private static func unrunError(code: StaticString, message: StaticString) -> String {
        #"{"code":"\#(code)","message":"\#(message)","retryable":false,"stage":null}"#
    }

    public func job(_ id: UUID) async throws -> Job? {
        try await pool.query("SELECT \(Job.columns) FROM jobs WHERE id = $1", [id]).first.map(Job.init(row:))
    }

    /// The job and its stages in one statement (a status read: one round trip, not two).
    public func jobWithStages(_ id: UUID) async throws -> JobWithStages? {
        try JobWithStages(rows: try await pool.query(Self.jobWithStagesStatement, [id]))
    }

    private static let jobWithStagesStatement = """
        SELECT \(Job.columns(of: "j")), \(JobStage.prefixedColumns(of: "s"))
        FROM jobs j LEFT JOIN job_stages s ON s.job_id = j.id
        WHERE j.id = $1
        ORDER BY s.position
        """

    public func stages(of jobID: UUID) async throws -> [JobStage] {
        try await pool.query(
            "SELECT \(JobStage.columns) FROM job_stages WHERE job_id = $1 ORDER BY position", [jobID]
        ).map(JobStage.init(row:))
    }

    /// The stages of several jobs in one query (a page of the job list), by job id.
    public func stages(of jobIDs: [UUID]) async throws -> [UUID: [JobStage]] {
        guard !jobIDs.isEmpty else { return [:] }
        let ids = "{" + jobIDs.map { $0.uuidString.lowercased() }.joined(separator: ",") + "}"
        let stages = try await pool.query(
            "SELECT \(JobStage.columns) FROM job_stages WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, position", [ids]
        ).map(JobStage.init(row:))
        return Dictionary(grouping: stages, by: \.jobID)
    }

    /// Jobs newest first, optionally filtered; `after` is the last job of the previous page.
    public func list(
        workload: String? = nil, service: String? = nil, state: JobState? = nil, limit: Int, after: UUID? = nil
    ) async throws -> [Job] {
        try await pool.query(
            """
            SELECT \(Job.columns) FROM jobs
            WHERE ($1::text IS NULL OR workload = $1) AND ($2::text IS NULL OR service = $2)
              AND ($3::text IS NULL OR state = $3)
              AND ($4::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM jobs WHERE id = $4))
            ORDER BY created_at DESC, id DESC
            LIMIT $5
            """, [workload, service, state?.rawValue, after, limit]
        ).map(Job.init(row:))
    }

    /// The job's events with a seq above `seq`, in order.
    public func events(of jobID: UUID, after seq: Int64 = 0, limit: Int = 1000) async throws -> [JobEvent] {
        try await pool.query(
            "SELECT \(JobEvent.columns) FROM job_events WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            [jobID, seq, limit]
        ).map(JobEvent.init(row:))
    }

    // MARK: requests any replica serves

    /// Asks for the job to stop. A queued job is cancelled at once; a running one is flagged
    /// and its worker stops it. Nil when the job is unknown; the job unchanged when it ended.
    public func requestCancel(_ id: UUID) async throws -> Job? {
        try await pool.transaction { connection in
            guard let job = try await connection.query(
                "SELECT \(Job.columns) FROM jobs WHERE id = $1 FOR UPDATE", [id]
            ).first.map(Job.init(row:)) else { return nil }
            switch job.state {
            case .queued:
                try await connection.execute(
                    """
                    UPDATE jobs SET state = 'cancelled', cancel_requested = true, finished_at = now(), updated_at = now(),
                        error = $2::jsonb
                    WHERE id = $1
                    """, [id, Self.unrunError(code: "CANCELLED", message: "the job was cancelled before it started")])
                try await Self.append(jobID: id, stage: nil, kind: .state, message: JobState.cancelled.rawValue, on: connection)
            case .running:
                try await connection.execute(
                    "UPDATE jobs SET cancel_requested = true, updated_at = now() WHERE id = $1", [id])
                try await Self.append(jobID: id, stage: nil, kind: .log, message: "cancel requested", on: connection)
                try await connection.execute("SELECT pg_notify($1, $2::text)", [Self.cancelChannel, id.uuidString.lowercased()])
            case .succeeded, .failed, .cancelled:
                return job
            }
            return try await connection.query("SELECT \(Job.columns) FROM jobs WHERE id = $1", [id]).first.map(Job.init(row:))
        }
    }

    /// Queues a failed or cancelled job again: its stages that did not succeed go back to
    /// pending, the ones that did keep their results. Nil when unknown; unchanged when the
    /// job is not failed or cancelled. `secrets` (given again: they were deleted when the job
    /// ended) are stored in the same transaction.
    public func retry(_ id: UUID, secrets: SealedSecrets? = nil) async throws -> Job? {
        try await pool.transaction { connection in
            guard let job = try await connection.query(
                "SELECT \(Job.columns) FROM jobs WHERE id = $1 FOR UPDATE", [id]
            ).first.map(Job.init(row:)) else { return nil }
            guard job.state == .failed || job.state == .cancelled else { return job }
            try await connection.execute(
                """
                UPDATE jobs SET state = 'queued', attempt = attempt + 1, error = NULL, result = NULL,
                    finished_at = NULL, cancel_requested = false, deadline_at = NULL,
                    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
                WHERE id = $1
                """, [id])
            try await connection.execute(
                """
                UPDATE job_stages SET status = 'pending', run_id = NULL, run_events_seen = 0, error = NULL,
                    started_at = NULL, finished_at = NULL
                WHERE job_id = $1 AND status <> 'succeeded'
                """, [id])
            if let secrets { try await Self.store(secrets, of: id, on: connection) }
            try await Self.append(
                jobID: id, stage: nil, kind: .state, message: JobState.queued.rawValue, on: connection)
            return try await connection.query("SELECT \(Job.columns) FROM jobs WHERE id = $1", [id]).first.map(Job.init(row:))
        }
    }

    // MARK: workers

    /// Claims the oldest job that is queued or whose lease expired (by the database's clock),
    /// for `lease`, under a new lease token; the job's deadline is set at its first claim after
    /// being queued.
    public func claim(owner: String, lease: Duration, timeout: Duration) async throws -> JobClaim? {
        try await pool.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE jobs j SET state = 'running', lease_owner = $1, lease_token = gen_random_uuid(),
                    lease_expires_at = now() + make_interval(secs => $2),
                    started_at = coalesce(j.started_at, now()),
                    deadline_at = coalesce(j.deadline_at, now() + make_interval(secs => $3)),
                    updated_at = now()
                FROM (
                    SELECT id, lease_owner AS previous_owner FROM jobs
                    WHERE state = 'queued' OR (state = 'running' AND lease_expires_at < now())
                    ORDER BY created_at
                    FOR UPDATE SKIP LOCKED
                    LIMIT 1
                ) candidate
                WHERE j.id = candidate.id
                RETURNING \(Job.columns(of: "j")),
                    j.lease_token, candidate.previous_owner
                """, [owner, lease.inSeconds, timeout.inSeconds])
            guard let row = rows.first else { return nil }
            let job = try Job(row: row)
            let token: UUID = try row.decode("lease_token")
            let previous: String? = try row.decode("previous_owner")
            let message = previous.map { "taken over by \(owner) after the lease of \($0) expired" } ?? "claimed by \(owner)"
            try await Self.append(jobID: job.id, stage: nil, kind: .state, message: JobState.running.rawValue, on: connection)
            try await Self.append(jobID: job.id, stage: nil, kind: .log, message: message, on: connection)
            return JobClaim(job: job, lease: JobLease(jobID: job.id, owner: owner, token: token), previousOwner: previous)
        }
    }

    /// Extends the lease to `duration` from the database's now; nil when the claim no longer
    /// holds it (the job was claimed again, or ended).
    public func renew(_ lease: JobLease, for duration: Duration) async throws -> LeaseRenewal? {
        let rows = try await pool.query(
            """
            UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3)
            WHERE id = $1 AND lease_token = $2 AND state = 'running'
            RETURNING cancel_requested, deadline_at < now() AS past_deadline
            """, [lease.jobID, lease.token, duration.inSeconds])
        guard let row = rows.first else { return nil }
        return LeaseRenewal(cancelRequested: try row.decode("cancel_requested"), pastDeadline: try row.decode("past_deadline"))
    }

    /// Lets the leases of `owner` expire now, so another replica resumes its jobs at once
    /// (a gateway shutting down calls this).
    @discardableResult
    public func release(owner: String) async throws -> Int {
        try await pool.execute(
            "UPDATE jobs SET lease_expires_at = now() WHERE lease_owner = $1 AND state = 'running'", [owner])
    }

    /// Moves a stage to running for a new attempt.
    public func startStage(_ stage: StageName, lease: JobLease) async throws -> JobStage {
        let jobID = lease.jobID
        return try await fenced(lease) { connection in
            let rows = try await connection.query(
                """
                UPDATE job_stages SET status = 'running', attempt = attempt + 1, run_id = NULL, run_events_seen = 0,
                    started_at = now(), finished_at = NULL, result = NULL, error = NULL
                WHERE job_id = $1 AND name = $2
                RETURNING \(JobStage.columns)
                """, [jobID, stage.rawValue])
            guard let row = rows.first else { throw JobStoreError.jobNotFound(jobID) }
            let updated = try JobStage(row: row)
            try await Self.append(
                jobID: jobID, stage: stage, kind: .state, message: "running (attempt \(updated.attempt))", on: connection)
            return updated
        }
    }

    /// Notes the stage service's run the stage follows, so a gateway resuming the job adopts it.
    public func recordRun(_ runID: UUID, stage: StageName, lease: JobLease) async throws {
        let jobID = lease.jobID
        try await fenced(lease) { connection in
            try await connection.execute(
                "UPDATE job_stages SET run_id = $3 WHERE job_id = $1 AND name = $2", [jobID, stage.rawValue, runID])
        }
    }

    /// A stage service's run of this job's stage, started during the stage's current attempt
    /// and not failed or cancelled, whose id the stage does not record; the newest.
    public func unrecordedRun(of stage: StageName, jobID: UUID) async throws -> UUID? {
        try await pool.query(
            """
            SELECT r.id FROM job_stages s JOIN stage_runs r ON r.job_id = s.job_id AND r.kind = s.name
            WHERE s.job_id = $1 AND s.name = $2 AND s.status = 'running' AND s.run_id IS NULL
              AND r.created_at >= s.started_at AND r.status IN ('queued', 'running', 'succeeded')
            ORDER BY r.created_at DESC
            LIMIT 1
            """, [jobID, stage.rawValue]
        ).first.map { try $0.decode("id", as: UUID.self) }
    }

    /// Copies a run's events into the job's log and remembers the last seq copied.
    public func copyRunEvents(_ events: [CopiedEvent], stage: StageName, lease: JobLease) async throws {
        guard let last = events.last?.seq else { return }
        let jobID = lease.jobID
        try await fenced(lease) { connection in
            for event in events {
                try await Self.append(
                    jobID: jobID, stage: stage, kind: event.kind, stream: event.stream, message: event.message,
                    on: connection)
            }
            try await connection.execute(
                "UPDATE job_stages SET run_events_seen = greatest(run_events_seen, $3) WHERE job_id = $1 AND name = $2",
                [jobID, stage.rawValue, last])
        }
    }

    /// Ends the stage's attempt with its result or error (JSON text, redacted).
    public func finishStage(
        _ stage: StageName, lease: JobLease, status: StageStatus, result: String? = nil, error: String? = nil
    ) async throws {
        let jobID = lease.jobID
        try await fenced(lease) { connection in
            try await connection.execute(
                """
                UPDATE job_stages SET status = $3, result = $4::jsonb, error = $5::jsonb, finished_at = now()
                WHERE job_id = $1 AND name = $2
                """, [jobID, stage.rawValue, status.rawValue, result, error])
            try await Self.append(jobID: jobID, stage: stage, kind: .state, message: status.rawValue, on: connection)
        }
    }

    /// Ends the job and gives up its lease.
    public func finish(
        _ lease: JobLease, state: JobState, result: String? = nil, error: String? = nil
    ) async throws {
        let jobID = lease.jobID
        try await fenced(lease) { connection in
            try await connection.execute(
                """
                UPDATE jobs SET state = $2, result = $3::jsonb, error = $4::jsonb, finished_at = now(), updated_at = now(),
                    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
                WHERE id = $1
                """, [jobID, state.rawValue, result, error])
            try await Self.append(jobID: jobID, stage: nil, kind: .state, message: state.rawValue, on: connection)
        }
    }

    /// A line from the gateway itself in the job's log (retries, dedupe decisions…).
    public func log(_ message: String, stage: StageName?, lease: JobLease) async throws {
        try await fenced(lease) { connection in
            try await Self.append(jobID: lease.jobID, stage: stage, kind: .log, stream: "gateway", message: message, on: connection)
        }
    }

    /// Records the job's build key, and the job whose build it reused (if any).
    public func setBuildKey(_ key: String, reusedFrom: UUID?, lease: JobLease) async throws {
        try await fenced(lease) { connection in
            try await connection.execute(
                "UPDATE jobs SET build_key = $2, reused_from = $3 WHERE id = $1", [lease.jobID, key, reusedFrom])
        }
    }

    /// The newest job other than `jobID` that built (not reused) with this key, and its build result.
    public func reusableBuild(key: String, excluding jobID: UUID) async throws -> (jobID: UUID, result: String)? {
        let rows = try await pool.query(
            """
            SELECT j.id, s.result FROM jobs j JOIN job_stages s ON s.job_id = j.id AND s.name = 'build'
            WHERE j.build_key = $1 AND j.id <> $2 AND j.reused_from IS NULL
              AND s.status = 'succeeded' AND s.result IS NOT NULL
            ORDER BY s.finished_at DESC
            LIMIT 1
            """, [key, jobID])
        guard let row = rows.first else { return nil }
        return (try row.decode("id"), try row.decode("result"))
    }

    // MARK: internals

    /// Runs `body` in a transaction that first locks the job and checks the claim's token is
    /// still the job's: a claim (which sets a new token) waits for the lock, so nothing this
    /// transaction writes can land after the job was claimed again.
    @discardableResult
    private func fenced<T>(_ lease: JobLease, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await pool.transaction { connection in
            let held = try await connection.query(
                "SELECT 1 FROM jobs WHERE id = $1 AND lease_token = $2 AND state = 'running' FOR UPDATE",
                [lease.jobID, lease.token])
            guard !held.isEmpty else { throw JobStoreError.leaseLost(lease.jobID) }
            return try await body(connection)
        }
    }

    private static func append(
        jobID: UUID, stage: StageName?, kind: RunEvent.Kind, stream: String? = nil, message: String,
        on connection: PostgresConnection
    ) async throws {
        try await connection.execute(
            """
            WITH next AS (
                UPDATE jobs SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq
            )
            INSERT INTO job_events (job_id, seq, stage, kind, stream, message)
            SELECT $1, event_seq, $2, $3, $4, $5 FROM next
            """, [jobID, stage?.rawValue, kind.rawValue, stream, message])
        try await connection.execute("SELECT pg_notify($1, $2::text)", [eventsChannel, jobID.uuidString.lowercased()])
    }
}

extension Duration {
    /// Whole and fractional seconds, for `make_interval(secs => …)`.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
