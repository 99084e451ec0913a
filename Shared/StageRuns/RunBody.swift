import Foundation
import Records
import RequestValidation
import ServiceKit

/// A run as callers see it (`GET /v1/<runs>/{id}`).
public struct RunBody: Codable, Sendable {
    /// Lowercase, as in every URL this service gives out.
    public var id: String
    public var service: String
    public var kind: String
    public var jobID: String?
    public var status: String
    public var attempt: Int
    public var request: JSONNode
    public var result: JSONNode?
    public var error: JSONNode?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var heartbeatAt: Date?
    public var links: [String: String]

    enum CodingKeys: String, CodingKey {
        case id, service, kind, status, attempt, request, result, error, links
        case jobID = "job_id"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case heartbeatAt = "heartbeat_at"
    }

    public init(_ run: StageRun, path: String) throws {
        id = run.id.uuidString.lowercased()
        service = run.service
        kind = run.kind
        jobID = run.jobID?.uuidString.lowercased()
        status = run.status.rawValue
        attempt = run.attempt
        request = try JSONNode(parsing: run.request)
        result = try run.result.map(JSONNode.init(parsing:))
        error = try run.error.map(JSONNode.init(parsing:))
        createdAt = run.createdAt
        startedAt = run.startedAt
        finishedAt = run.finishedAt
        heartbeatAt = run.heartbeatAt
        links = ["self": "\(path)/\(id)", "events": "\(path)/\(id)/events"]
    }
}

/// One event line of a run's log (`GET …/events`).
struct RunEventBody: Codable, Sendable {
    var seq: Int64
    var at: Date
    var kind: String
    var stream: String?
    var message: String
}
