import Foundation
import Postgres

/// Where a job is in its life. `running` means some gateway holds its lease.
public enum JobState: String, Sendable, CaseIterable, Codable {
    case queued, running, succeeded, failed, cancelled

    public var isTerminal: Bool {
        switch self {
        case .queued, .running: false
        case .succeeded, .failed, .cancelled: true
        }
    }
}

/// A build job as the gateway records it. JSON columns are carried as JSON text, already redacted.
public struct Job: Sendable, Equatable, Identifiable {
    public var id: UUID
    public var workload: String
    public var service: String
    public var state: JobState
    public var request: String
    public var result: String?
    public var error: String?
    /// 1 when submitted, one more for every retry.
    public var attempt: Int
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var buildKey: String?
    public var reusedFrom: UUID?
    public var cancelRequested: Bool
    public var deadlineAt: Date?
}

extension Job {
    static let columns = """
        id, workload, service, state, request, result, error, attempt, created_at, started_at, finished_at,
        lease_owner, lease_expires_at, build_key, reused_from, cancel_requested, deadline_at
        """

    /// `columns`, each qualified with `table` (an alias in the query), for joins.
    static func columns(of table: String) -> String {
        columns.split(separator: ",").map { "\(table)." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .joined(separator: ", ")
    }

    init(row: PostgresRow) throws {
        guard let state = JobState(rawValue: try row.decode("state", as: String.self)) else {
            throw PostgresError(.decoding, message: "unknown job state", column: "state")
        }
        self.init(
            id: try row.decode("id"), workload: try row.decode("workload"), service: try row.decode("service"),
            state: state, request: try row.decode("request"), result: try row.decode("result"),
            error: try row.decode("error"), attempt: try row.decode("attempt"), createdAt: try row.decode("created_at"),
            startedAt: try row.decode("started_at"), finishedAt: try row.decode("finished_at"),
            leaseOwner: try row.decode("lease_owner"), leaseExpiresAt: try row.decode("lease_expires_at"),
            buildKey: try row.decode("build_key"), reusedFrom: try row.decode("reused_from"),
            cancelRequested: try row.decode("cancel_requested"), deadlineAt: try row.decode("deadline_at"))
    }
}

/// The stages of a job, in the order they run.
public enum StageName: String, Sendable, CaseIterable, Codable {
    case checkout, rewrite, build, push
}

public enum StageStatus: String, Sendable, CaseIterable, Codable {
    case pending, running, succeeded, failed, cancelled
}

/// One stage of a job: its current attempt, the stage service's run it follows, and its outcome.
public struct JobStage: Sendable, Equatable {
    public var jobID: UUID
    public var position: Int
    public var name: StageName
    public var status: StageStatus
    public var attempt: Int
    /// The run on the stage's service (nil for rewrite, which answers at once).
    public var runID: UUID?
    /// The last seq of the run's events already copied into the job's events.
    public var runEventsSeen: Int64
    public var startedAt: Date?
    public var finishedAt: Date?
    public var result: String?
    public var error: String?
}

extension JobStage {
    static let columns = """
        job_id, position, name, status, attempt, run_id, run_events_seen, started_at, finished_at, result, error
        """

    /// The columns of `table` (an alias in the query), each named `stage_<column>`: for a row
    /// that carries its job's columns too (`Job.columns(of:)`), so the names do not collide.
    static func prefixedColumns(of table: String) -> String {
        columns.split(separator: ",").map { column in
            let name = column.trimmingCharacters(in: .whitespacesAndNewlines)
            return "\(table).\(name) AS \(prefix)\(name)"
        }.joined(separator: ", ")
    }

    static let prefix = "stage_"

    init(row: PostgresRow) throws {
        try self.init(row: row, names: .plain)
    }

    /// The column names a row carries a stage's values under: as in `columns`, or prefixed
    /// (`prefixedColumns(of:)`); made once, not per row.
    struct ColumnNames: Sendable {
        let jobID, position, name, status, attempt, runID, runEventsSeen, startedAt, finishedAt, result, error: String

        init(prefix: String) {
            (jobID, position, name, status) = (prefix + "job_id", prefix + "position", prefix + "name", prefix + "status")
            (attempt, runID, runEventsSeen) = (prefix + "attempt", prefix + "run_id", prefix + "run_events_seen")
            (startedAt, finishedAt) = (prefix + "started_at", prefix + "finished_at")
            (result, error) = (prefix + "result", prefix + "error")
        }

        static let plain = ColumnNames(prefix: "")
        static let prefixed = ColumnNames(prefix: JobStage.prefix)
    }

    init(row: PostgresRow, names: ColumnNames) throws {
        guard let name = StageName(rawValue: try row.decode(names.name, as: String.self)),
            let status = StageStatus(rawValue: try row.decode(names.status, as: String.self))
        else { throw PostgresError(.decoding, message: "unknown stage name or status", column: names.name) }
        self.init(
            jobID: try row.decode(names.jobID), position: try row.decode(names.position), name: name, status: status,
            attempt: try row.decode(names.attempt), runID: try row.decode(names.runID),
            runEventsSeen: try row.decode(names.runEventsSeen), startedAt: try row.decode(names.startedAt),
            finishedAt: try row.decode(names.finishedAt), result: try row.decode(names.result),
            error: try row.decode(names.error))
    }
}

/// A line of a job's event log: a state change of the job (`stage` nil) or of a stage, or a
/// log line of a stage's run.
public struct JobEvent: Sendable, Equatable {
    public var jobID: UUID
    public var seq: Int64
    public var at: Date
    public var stage: StageName?
    public var kind: RunEvent.Kind
    public var stream: String?
    public var message: String
}

extension JobEvent {
    static let columns = "job_id, seq, at, stage, kind, stream, message"

    init(row: PostgresRow) throws {
        guard let kind = RunEvent.Kind(rawValue: try row.decode("kind", as: String.self)) else {
            throw PostgresError(.decoding, message: "unknown event kind", column: "kind")
        }
        let stage: String? = try row.decode("stage")
        self.init(
            jobID: try row.decode("job_id"), seq: try row.decode("seq"), at: try row.decode("at"),
            stage: stage.flatMap(StageName.init(rawValue:)), kind: kind, stream: try row.decode("stream"),
            message: try row.decode("message"))
    }
}

/// A job and its stages in their order, read (or inserted) in one statement.
public struct JobWithStages: Sendable, Equatable {
    public var job: Job
    public var stages: [JobStage]

    init(job: Job, stages: [JobStage]) {
        self.job = job
        self.stages = stages
    }

    /// Rows of the job's columns beside its stage's `JobStage.prefixedColumns(of:)`, one a stage
    /// (a job without stages: one row, the stage's columns NULL); nil for no rows.
    init?<Rows: Collection<PostgresRow>>(rows: Rows) throws {
        guard let first = rows.first else { return nil }
        job = try Job(row: first)
        stages = try rows.compactMap { row in
            row[JobStage.ColumnNames.prefixed.name] == nil ? nil : try JobStage(row: row, names: .prefixed)
        }
    }
}
