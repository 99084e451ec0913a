import Foundation
import HTTPTypes
import Hummingbird
import Records
import RequestValidation
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

/// `GET {path}/{id}`, `GET {path}/{id}/events` (replayed then followed,
/// NDJSON or `text/event-stream`, ending when the run ends) and
/// `DELETE {path}/{id}` (cancel) for one kind of run of this service, on routes written by
/// hand (services whose handlers are generated use `RunResource` directly).
public struct RunRoutes<Context: BuildchainRequestContext>: Sendable {
    let runs: RunResource

    public init(
        path: String, service: String, kind: String, store: RunStore, executor: RunExecutor,
        pollInterval: Duration = .milliseconds(250)
    ) {
        runs = RunResource(
            path: path, service: service, kind: kind, store: store, executor: executor, pollInterval: pollInterval)
    }

    /// The `Buildchain-Lease-Token` of the `POST` that starts a run (see `LeaseTokenHeader`).
    public static func leaseToken(of request: Request) throws -> UUID? {
        try RunResource.leaseToken(HTTPField.Name(LeaseTokenHeader.name).flatMap { request.headers[$0] })
    }

    /// The answer to the `POST` that started `run`: 202, the run, and its Location.
    public static func accepted(_ run: StageRun, path: String) throws -> Response {
        var response = try JSONResponse(try RunBody(run, path: path)).response(status: .accepted)
        response.headers[.location] = "\(path)/\(run.id.uuidString.lowercased())"
        return response
    }

    public func register(on router: Router<Context>) {
        router.get(RouterPath("\(runs.path)/{id}")) { _, context in
            JSONResponse(try await runs.body(try Self.id(context)))
        }
        router.delete(RouterPath("\(runs.path)/{id}")) { _, context in
            JSONResponse(try await runs.cancel(try Self.id(context)), status: .accepted)
        }
        router.get(RouterPath("\(runs.path)/{id}/events")) { request, context in
            let sse = request.headers[.accept]?.contains("text/event-stream") == true
            let body = try await runs.events(
                try Self.id(context), after: EventStream<RunEventBody>.after(in: request), serverSentEvents: sse)
            return Response(
                status: .ok,
                headers: [.contentType: sse ? "text/event-stream" : "application/x-ndjson", .cacheControl: "no-cache"],
                body: ResponseBody(asyncSequence: body.map { ByteBuffer(bytes: $0) }))
        }
    }

    private static func id(_ context: Context) throws -> String {
        guard let text = context.parameters.get("id") else {
            throw ServiceError.badRequest("the run id must be a UUID", code: "INVALID_ID")
        }
        return text
    }
}
