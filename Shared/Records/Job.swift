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

    init(row: PostgresRow) throws {
        guard let name = StageName(rawValue: try row.decode("name", as: String.self)),
            let status = StageStatus(rawValue: try row.decode("status", as: String.self))
        else { throw PostgresError(.decoding, message: "unknown stage name or status", column: "name") }
        self.init(
            jobID: try row.decode("job_id"), position: try row.decode("position"), name: name, status: status,
            attempt: try row.decode("attempt"), runID: try row.decode("run_id"),
            runEventsSeen: try row.decode("run_events_seen"), startedAt: try row.decode("started_at"),
            finishedAt: try row.decode("finished_at"), result: try row.decode("result"), error: try row.decode("error"))
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
