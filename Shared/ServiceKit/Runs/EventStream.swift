import Foundation
import Hummingbird

/// The answer of an `…/events` endpoint: the events recorded after `after`, then new ones
/// as they are recorded (polling), ending once `ended` says so and nothing is left to send.
/// One JSON object a line, or Server-Sent Events (`id:` is the seq) when the request accepts
/// `text/event-stream`.
public struct EventStream<Event: Encodable & Sendable>: Sendable {
    public var after: Int64
    public var pollInterval: Duration
    public var seq: @Sendable (Event) -> Int64
    public var ended: @Sendable () async throws -> Bool
    public var fetch: @Sendable (_ after: Int64) async throws -> [Event]

    public init(
        after: Int64, pollInterval: Duration, seq: @escaping @Sendable (Event) -> Int64,
        ended: @escaping @Sendable () async throws -> Bool, fetch: @escaping @Sendable (_ after: Int64) async throws -> [Event]
    ) {
        self.after = after
        self.pollInterval = pollInterval
        self.seq = seq
        self.ended = ended
        self.fetch = fetch
    }

    /// `after` from the request's query (0 when absent).
    public static func after(in request: Request) -> Int64 {
        request.uri.queryParameters.get("after").flatMap { Int64(String($0)) } ?? 0
    }

    public func response(to request: Request) -> Response {
        let sse = request.headers[.accept]?.contains("text/event-stream") == true
        return Response(
            status: .ok,
            headers: [.contentType: sse ? "text/event-stream" : "application/x-ndjson", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                try await follow { event in
                    let json = String(decoding: try JSONResponse<Event>.encoder.encode(event), as: UTF8.self)
                    let line = sse ? "id: \(seq(event))\ndata: \(json)\n\n" : json + "\n"
                    try await writer.write(ByteBuffer(string: line))
                }
                try await writer.finish(nil)
            })
    }

    private func follow(send: (Event) async throws -> Void) async throws {
        var last = after
        while !Task.isCancelled {
            // Read the state before the events: an end seen now means every event is already stored.
            let isOver = try await ended()
            let events = try await fetch(last)
            for event in events {
                try await send(event)
                last = seq(event)
            }
            if isOver && events.isEmpty { return }
            if events.isEmpty { try await Task.sleep(for: pollInterval) }
        }
    }
}
