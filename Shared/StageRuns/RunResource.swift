import Foundation
import OpenAPIRuntime
import Records
import ServiceKit
import StageClients

/// One kind of run of a service, as its generated handlers serve it: `POST {path}` starts one,
/// `GET {path}/{id}`, `DELETE {path}/{id}` and `GET {path}/{id}/events` read, cancel and
/// follow it. Each service's spec has its own copy of runs.yaml's `Run`, so a run is handed
/// over as any `Decodable` of that shape (`typed`).
public struct RunResource: Sendable {
    public let path: String
    let kind: String
    /// Records and performs the runs; its store and service name are what they are read under.
    public let executor: RunExecutor
    /// Keeps runs queued until it admits them; nil: each starts at once.
    let limiter: RunLimiter?

    /// How often an event stream looks for new events when no notification came.
    static let pollInterval: Duration = .milliseconds(250)

    public init(path: String, kind: String, executor: RunExecutor, limiter: RunLimiter? = nil) {
        self.path = path
        self.kind = kind
        self.executor = executor
        self.limiter = limiter
    }

    /// Records a run of this kind and starts `work` (see `RunExecutor.start`), under the lease
    /// token of the gateway's call (`Buildchain-Lease-Token`; 400 `INVALID_LEASE_TOKEN` if it is
    /// not a UUID).
    public func start<Request: Encodable & Sendable, Result: Encodable & Sendable>(
        jobID: UUID?, leaseToken: String?, request: Request, masker: SecretMasker = .none,
        work: @escaping @Sendable (RunLog) async throws -> Result
    ) async throws -> StageRun {
        try await executor.start(
            kind: kind, jobID: jobID, leaseToken: try Self.leaseToken(leaseToken), request: request, masker: masker,
            limiter: limiter, work: work)
    }

    /// The run with that id, of this service and kind; 400 `INVALID_ID` or 404 otherwise.
    public func run(_ text: String) async throws -> StageRun {
        guard let id = UUID(uuidString: text) else {
            throw ServiceError.badRequest("the run id must be a UUID", code: "INVALID_ID")
        }
        guard let run = try await executor.store.run(id), run.service == executor.service, run.kind == kind else {
            throw ServiceError.notFound("no \(kind) run \(text)")
        }
        return run
    }

    public func body(_ id: String) async throws -> RunBody {
        try RunBody(try await run(id), path: path)
    }

    /// Cancels the run unless it has ended, and answers it as it is now.
    public func cancel(_ id: String) async throws -> RunBody {
        let run = try await run(id)
        if !run.status.isTerminal { try await executor.cancel(run.id) }
        return try await body(id)
    }

    /// The run's events after `after`, then new ones until it ends: NDJSON, or Server-Sent Events.
    private func events(_ id: String, after: Int64?, serverSentEvents: Bool) async throws -> HTTPBody {
        let runID = try await run(id).id
        let store = executor.store
        return EventStream(
            after: after ?? 0, pollInterval: Self.pollInterval, seq: \RunEventBody.seq,
            ended: { try await store.run(runID)?.status.isTerminal ?? true },
            fetch: { after in
                try await store.events(runID: runID, after: after).map {
                    RunEventBody(seq: $0.seq, at: $0.at, kind: $0.kind.rawValue, stream: $0.stream, message: $0.message)
                }
            },
            changes: store.changes(of: runID)
        ).httpBody(serverSentEvents: serverSentEvents)
    }

    /// The events as a generated `GET {path}/{id}/events` answers them: Server-Sent Events when
    /// the request accepts `text/event-stream`, NDJSON otherwise. `answer` puts the body in the
    /// operation's output, told which of the two it is.
    public func events<Accepted: AcceptableProtocol, Output>(
        _ id: String, after: Int?, accepting accept: [AcceptHeaderContentType<Accepted>],
        answer: (_ body: HTTPBody, _ serverSentEvents: Bool) -> Output
    ) async throws -> Output {
        let serverSentEvents = accept.contains { $0.contentType.rawValue == "text/event-stream" }
        return answer(try await events(id, after: after.map(Int64.init), serverSentEvents: serverSentEvents), serverSentEvents)
    }

    /// The URL of a run the `POST` started, for its `Location`.
    public func location(of run: StageRun) -> String { "\(path)/\(run.id.uuidString.lowercased())" }

    /// The lease token a gateway started a run with (`Buildchain-Lease-Token`); 400 if not a UUID.
    private static func leaseToken(_ text: String?) throws -> UUID? {
        guard let text else { return nil }
        guard let token = UUID(uuidString: text) else {
            throw ServiceError.badRequest("\(LeaseTokenHeader.name) must be a UUID", code: "INVALID_LEASE_TOKEN")
        }
        return token
    }
}

extension RunBody {
    /// The run as the generated `Run` type of a service's spec (the same JSON).
    public func typed<T: Decodable>(as type: T.Type = T.self) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(T.self, from: try JSONResponse<RunBody>.encoder.encode(self))
    }
}
