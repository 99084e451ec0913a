import ArtifactAPI
import BuildAPI
import CheckoutAPI
import ContractCoding
import Foundation
import HTTPClient
import OpenAPIRuntime
import OpenAPITransport
import Records
import RequestValidation
import ServiceKit
import StageClients

/// A run on a stage service, as its `GET /v1/<runs>/{id}` shows it (the generated `Run` of
/// runs.yaml, which each service's module has a copy of), with what the gateway reads of it.
struct RemoteRun: Decodable, Sendable {
    var id: UUID
    var status: RunStatus
    var result: JSONNode?
    var error: RunFailure?

    /// Reads one service module's `Components.Schemas.Run`.
    init(_ run: some Encodable) throws {
        self = try JSONDecoder().decode(RemoteRun.self, from: JSONEncoder().encode(run))
    }
}

/// Every stage's events are runs.yaml's `RunEvent`, one JSON object a line.
typealias RunEventLine = CheckoutAPI.Components.Schemas.RunEvent

/// The calls that read, follow and cancel the runs of one stage service.
struct StageRunCalls: Sendable {
    let name: String
    let run: @Sendable (UUID) async throws -> RemoteRun
    let requestCancel: @Sendable (UUID) async throws -> Void
    /// The NDJSON stream of the run's events after a seq.
    let events: @Sendable (UUID, Int64) async throws -> HTTPBody

    /// Asks the service to cancel the run; errors are ignored (the run may have ended, or the
    /// service may be gone, in which case there is nothing left to stop).
    func cancel(_ id: UUID) async {
        try? await requestCancel(id)
    }

    /// Reads the run's events after `after` as they come and hands them over in batches;
    /// returns when the service ends the stream (the run ended) or throws when the connection breaks.
    func followEvents(_ id: UUID, after: Int64, deliver: ([CopiedEvent]) async throws -> Void) async throws {
        let body = try await events(id, after)
        var lines = LineSplitter()
        let decoder = JSONDecoder.buildchain()
        do {
            for try await chunk in body {
                let events = lines.append(chunk).compactMap { try? decoder.decode(RunEventLine.self, from: Data($0)) }
                    .map(Self.copied)
                if !events.isEmpty { try await deliver(events) }
            }
        } catch let error as HTTPClientError {
            throw RunFailure(code: "SERVICE_UNAVAILABLE", message: "\(name): \(error)", retryable: true)
        }
    }

    /// The run's own state changes become log lines of the stage (stream `run`): the stage's
    /// state events are the gateway's.
    private static func copied(_ event: RunEventLine) -> CopiedEvent {
        if event.kind == .state {
            return CopiedEvent(seq: Int64(event.seq), kind: .log, stream: "run", message: "run \(event.message)")
        }
        return CopiedEvent(seq: Int64(event.seq), kind: .log, stream: event.stream, message: event.message)
    }
}

extension StageRunCalls {
    static func checkout(_ service: StageService<CheckoutAPI.Client>) -> StageRunCalls {
        StageRunCalls(
            name: service.name,
            run: { id in
                try await service.call("getCheckout") { try RemoteRun(try await $0.getCheckout(path: .init(id: id.lowercased)).ok.body.json) }
            },
            requestCancel: { id in _ = try await service.call("cancelCheckout") { try await $0.cancelCheckout(path: .init(id: id.lowercased)) } },
            events: { id, after in
                try await service.call("getCheckoutEvents") {
                    try await $0.getCheckoutEvents(
                        path: .init(id: id.lowercased), query: .init(after: Int(after)),
                        headers: .init(accept: [.init(contentType: .applicationXNdjson)])
                    ).ok.body.applicationXNdjson
                }
            })
    }

    static func build(_ service: StageService<BuildAPI.Client>) -> StageRunCalls {
        StageRunCalls(
            name: service.name,
            run: { id in
                try await service.call("getBuild") { try RemoteRun(try await $0.getBuild(path: .init(id: id.lowercased)).ok.body.json) }
            },
            requestCancel: { id in _ = try await service.call("cancelBuild") { try await $0.cancelBuild(path: .init(id: id.lowercased)) } },
            events: { id, after in
                try await service.call("getBuildEvents") {
                    try await $0.getBuildEvents(
                        path: .init(id: id.lowercased), query: .init(after: Int(after)),
                        headers: .init(accept: [.init(contentType: .applicationXNdjson)])
                    ).ok.body.applicationXNdjson
                }
            })
    }

    static func push(_ service: StageService<ArtifactAPI.Client>) -> StageRunCalls {
        StageRunCalls(
            name: service.name,
            run: { id in
                try await service.call("getPush") { try RemoteRun(try await $0.getPush(path: .init(id: id.lowercased)).ok.body.json) }
            },
            requestCancel: { id in _ = try await service.call("cancelPush") { try await $0.cancelPush(path: .init(id: id.lowercased)) } },
            events: { id, after in
                try await service.call("getPushEvents") {
                    try await $0.getPushEvents(
                        path: .init(id: id.lowercased), query: .init(after: Int(after)),
                        headers: .init(accept: [.init(contentType: .applicationXNdjson)])
                    ).ok.body.applicationXNdjson
                }
            })
    }
}

extension UUID {
    /// As every URL of the services spells it.
    var lowercased: String { uuidString.lowercased() }
}
