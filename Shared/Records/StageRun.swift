import Foundation
import Postgres

/// Where a stage run is in its life.
public enum RunStatus: String, Sendable, CaseIterable, Codable {
    case queued, running, succeeded, failed, cancelled

    public var isTerminal: Bool {
        switch self {
        case .queued, .running: false
        case .succeeded, .failed, .cancelled: true
        }
    }

    /// The statuses a run may move to from this one. `running → queued` re-queues a run whose
    /// owner stopped heartbeating.
    public var successors: Set<RunStatus> {
        switch self {
        case .queued: [.running, .failed, .cancelled]
        case .running: [.succeeded, .failed, .cancelled, .queued]
        case .succeeded, .failed, .cancelled: []
        }
    }
}

/// One run of a stage (checkout, build, push…) as recorded by the service that performs it.
/// JSON columns are carried as JSON text, already redacted.
public struct StageRun: Sendable, Equatable, Identifiable {
    public var id: UUID
    public var service: String
    public var kind: String
    public var jobID: UUID?
    public var status: RunStatus
    public var attempt: Int
    public var request: String
    public var result: String?
    public var error: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var heartbeatAt: Date?
    /// The service instance running it.
    public var owner: String?
}

extension StageRun {
    static let columns = """
        id, service, kind, job_id, status, attempt, request, result, error,
        created_at, started_at, finished_at, heartbeat_at, owner
        """

    init(row: PostgresRow) throws {
        let statusText = try row.decode("status", as: String.self)
        guard let status = RunStatus(rawValue: statusText) else {
            throw PostgresError(.decoding, message: "unknown run status", column: "status")
        }
        self.init(
            id: try row.decode("id"), service: try row.decode("service"), kind: try row.decode("kind"),
            jobID: try row.decode("job_id"), status: status, attempt: try row.decode("attempt"),
            request: try row.decode("request"), result: try row.decode("result"), error: try row.decode("error"),
            createdAt: try row.decode("created_at"), startedAt: try row.decode("started_at"),
            finishedAt: try row.decode("finished_at"), heartbeatAt: try row.decode("heartbeat_at"),
            owner: try row.decode("owner"))
    }
}
