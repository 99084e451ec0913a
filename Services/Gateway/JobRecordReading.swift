import Foundation
import Records
import RequestValidation
import ServiceKit

/// A job as callers see it (`GET /v1/jobs/{id}`).
struct JobBody: Encodable, Sendable {
    struct Stage: Encodable, Sendable {
        var name: String
        var status: String
        var attempt: Int
        var runID: String?
        var startedAt: Date?
        var finishedAt: Date?
        var durationMs: Int64?
        var result: JSONNode?
        var error: JSONNode?

        enum CodingKeys: String, CodingKey {
            case name, status, attempt, result, error
            case runID = "run_id"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case durationMs = "duration_ms"
        }
    }

    var id: String
    var workload: String
    var service: String
    var state: String
    var attempt: Int
    var request: JSONNode
    var result: JSONNode?
    var error: JSONNode?
    var reusedFrom: String?
    var buildKey: String?
    var cancelRequested: Bool
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var durationMs: Int64?
    var stages: [Stage]
    var links: [String: String]

    enum CodingKeys: String, CodingKey {
        case id, workload, service, state, attempt, request, result, error, stages, links
        case reusedFrom = "reused_from"
        case buildKey = "build_key"
        case cancelRequested = "cancel_requested"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationMs = "duration_ms"
    }

    init(_ job: Job, stages: [JobStage]) throws {
        let id = job.id.uuidString.lowercased()
        self.id = id
        workload = job.workload
        service = job.service
        state = job.state.rawValue
        attempt = job.attempt
        request = try Self.readable(request: job.request)
        result = try job.result.map(JSONNode.init(parsing:))
        error = try job.error.map(JSONNode.init(parsing:))
        reusedFrom = job.reusedFrom?.uuidString.lowercased()
        buildKey = job.buildKey
        cancelRequested = job.cancelRequested
        createdAt = job.createdAt
        startedAt = job.startedAt
        finishedAt = job.finishedAt
        durationMs = Self.milliseconds(from: job.startedAt, to: job.finishedAt)
        self.stages = try stages.map { stage in
            Stage(
                name: stage.name.rawValue, status: stage.status.rawValue, attempt: stage.attempt,
                runID: stage.runID?.uuidString.lowercased(), startedAt: stage.startedAt, finishedAt: stage.finishedAt,
                durationMs: Self.milliseconds(from: stage.startedAt, to: stage.finishedAt),
                result: try stage.result.map(JSONNode.init(parsing:)), error: try stage.error.map(JSONNode.init(parsing:)))
        }
        links = [
            "self": "/v1/jobs/\(id)", "events": "/v1/jobs/\(id)/events", "cancel": "/v1/jobs/\(id)/cancel",
            "retry": "/v1/jobs/\(id)/retry",
        ]
    }

    /// Undeclared secret-looking build args are recorded as given (the job runs from the
    /// record): the name heuristics still hide them from readers. Declared secrets are recorded
    /// with `***` values already, and keep their names visible.
    /// The record is parsed once and redacted as parsed (`Redaction`'s rules): going through
    /// `Redaction.redact(jsonText:)` parsed and wrote it twice more, a quarter of a status read's CPU.
    static func readable(request text: String) throws -> JSONNode {
        let recorded = try JSONNode(parsing: text)
        let redacted = redact(recorded)
        guard case .object(let fields) = recorded, case .object(var readable) = redacted else { return redacted }
        for key in ["secret_build_args", "secrets"] { readable[key] = fields[key] }
        return .object(readable)
    }

    /// `Redaction.redact(json:)` on a parsed value: secret-named keys masked (null stays null),
    /// URL userinfo masked in every string.
    static func redact(_ value: JSONNode) -> JSONNode {
        switch value {
        case .object(let fields):
            var redacted: [String: JSONNode] = [:]
            for (key, child) in fields {
                redacted[key] = Redaction.isSecretKey(key) && child != .null ? .string(Redaction.mask) : redact(child)
            }
            return .object(redacted)
        case .array(let elements): return .array(elements.map(redact))
        case .string(let string): return .string(Redaction.redactURLUserinfo(string))
        case .null, .bool, .number: return value
        }
    }

    private static func milliseconds(from start: Date?, to end: Date?) -> Int64? {
        guard let start, let end else { return nil }
        return Int64((end.timeIntervalSince(start) * 1000).rounded())
    }
}
