import Foundation
import OpenAPIRuntime
import Records
import ServiceKit
import StageClients

/// One kind of run of a service, as its generated handlers serve it: `GET {path}/{id}`,
/// `DELETE {path}/{id}` and `GET {path}/{id}/events`. Each service's spec has its own copy of
/// runs.yaml's `Run`, so a run is handed over as any `Decodable` of that shape (`typed`).
public struct RunResource: Sendable {
    public let path: String
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

    /// The run with that id, of this service and kind; 400 `INVALID_ID` or 404 otherwise.
    public func run(_ text: String) async throws -> StageRun {
        guard let id = UUID(uuidString: text) else {
            throw ServiceError.badRequest("the run id must be a UUID", code: "INVALID_ID")
        }
        guard let run = try await store.run(id), run.service == service, run.kind == kind else {
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
    public func events(_ id: String, after: Int64?, serverSentEvents: Bool) async throws -> HTTPBody {
        let runID = try await run(id).id
        return EventStream(
            after: after ?? 0, pollInterval: pollInterval, seq: \RunEventBody.seq,
            ended: { [store] in try await store.run(runID)?.status.isTerminal ?? true },
            fetch: { [store] after in
                try await store.events(runID: runID, after: after).map {
                    RunEventBody(seq: $0.seq, at: $0.at, kind: $0.kind.rawValue, stream: $0.stream, message: $0.message)
                }
            },
            changes: store.changes(of: runID)
        ).httpBody(serverSentEvents: serverSentEvents)
    }

    /// The URL of a run the `POST` started, for its `Location`.
    public func location(of run: StageRun) -> String { "\(path)/\(run.id.uuidString.lowercased())" }

    /// The lease token a gateway started a run with (`Buildchain-Lease-Token`); 400 if not a UUID.
    public static func leaseToken(_ text: String?) throws -> UUID? {
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
