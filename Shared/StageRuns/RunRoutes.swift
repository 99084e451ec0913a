import Foundation
import HTTPTypes
import Hummingbird
import Records
import ServiceKit
import StageClients

/// A run as callers see it (`GET /v1/<runs>/{id}`).
public struct RunBody: Codable, Sendable {
    /// Lowercase, as in every URL this service gives out.
    public var id: String
    public var service: String
    public var kind: String
    public var jobID: String?
    public var status: String
    public var attempt: Int
    public var request: JSONValue
    public var result: JSONValue?
    public var error: JSONValue?
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
        request = try JSONValue(parsing: run.request)
        result = try run.result.map(JSONValue.init(parsing:))
        error = try run.error.map(JSONValue.init(parsing:))
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

/// `GET {path}/{id}`, `GET {path}/{id}/events` (replayed then followed,
/// NDJSON or `text/event-stream`, ending when the run ends) and
/// `DELETE {path}/{id}` (cancel) for one kind of run of this service.
public struct RunRoutes<Context: BuildchainRequestContext>: Sendable {
    let path: String
    let service: String
    let kind: String
    let store: RunStore
    let executor: RunExecutor
    let pollInterval: Duration

    public init(
        path: String, service: String, kind: String, store: RunStore, executor: RunExecutor,
        pollInterval: Duration = .milliseconds(250)
    ) {
        self.path = path
        self.service = service
        self.kind = kind
        self.store = store
        self.executor = executor
        self.pollInterval = pollInterval
    }

    /// The `Buildchain-Lease-Token` of the `POST` that starts a run (see `LeaseTokenHeader`).
    public static func leaseToken(of request: Request) throws -> UUID? {
        guard let name = HTTPField.Name(LeaseTokenHeader.name), let text = request.headers[name] else { return nil }
        guard let token = UUID(uuidString: text) else {
            throw ServiceError.badRequest("\(LeaseTokenHeader.name) must be a UUID", code: "INVALID_LEASE_TOKEN")
        }
        return token
    }

    /// The answer to the `POST` that started `run`: 202, the run, and its Location.
    public static func accepted(_ run: StageRun, path: String) throws -> Response {
        var response = try JSONResponse(try RunBody(run, path: path)).response(status: .accepted)
        response.headers[.location] = "\(path)/\(run.id.uuidString.lowercased())"
        return response
    }

    public func register(on router: Router<Context>) {
        router.get(RouterPath("\(path)/{id}")) { _, context in
            JSONResponse(try RunBody(try await run(context), path: path))
        }
        router.delete(RouterPath("\(path)/{id}")) { _, context in
            let run = try await run(context)
            if !run.status.isTerminal { try await executor.cancel(run.id) }
            return JSONResponse(try RunBody(try await self.run(context), path: path), status: .accepted)
        }
        router.get(RouterPath("\(path)/{id}/events")) { request, context in
            let id = try await run(context).id
            return EventStream(
                after: EventStream<RunEventBody>.after(in: request), pollInterval: pollInterval, seq: \.seq,
                ended: { [store] in try await store.run(id)?.status.isTerminal ?? true },
                fetch: { [store] after in
                    try await store.events(runID: id, after: after).map {
                        RunEventBody(seq: $0.seq, at: $0.at, kind: $0.kind.rawValue, stream: $0.stream, message: $0.message)
                    }
                },
                changes: store.changes(of: id)
            ).response(to: request)
        }
    }

    private func run(_ context: Context) async throws -> StageRun {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw ServiceError.badRequest("the run id must be a UUID", code: "INVALID_ID")
        }
        guard let run = try await store.run(id), run.service == service, run.kind == kind else {
            throw ServiceError.notFound("no \(kind) run \(text)")
        }
        return run
    }
}
