import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// The answer of an `…/events` endpoint: the events recorded after `after`, then new ones
/// as they are recorded (read when `changes` is notified, see `EventTail`), ending once `ended`
/// says so and nothing is left to send. One JSON object a line, or Server-Sent Events (`id:` is
/// the seq) when the request accepts `text/event-stream`.
public struct EventStream<Event: Encodable & Sendable>: Sendable {
    public var tail: EventTail<Event>

    public init(
        after: Int64, pollInterval: Duration, seq: @escaping @Sendable (Event) -> Int64,
        ended: @escaping @Sendable () async throws -> Bool, fetch: @escaping @Sendable (_ after: Int64) async throws -> [Event],
        changes: NotificationSubscription? = nil
    ) {
        tail = EventTail(after: after, seq: seq, ended: ended, fetch: fetch, changes: changes, pollInterval: pollInterval)
    }

    /// `after` from the request's query (0 when absent).
    public static func after(in request: Request) -> Int64 {
        request.uri.queryParameters.get("after").flatMap { Int64(String($0)) } ?? 0
    }

    public func response(to request: Request) -> Response {
        let sse = request.headers[.accept]?.contains("text/event-stream") == true
        let seq = tail.seq
        return Response(
            status: .ok,
            headers: [.contentType: sse ? "text/event-stream" : "application/x-ndjson", .cacheControl: "no-cache"],
            body: ResponseBody { [tail] writer in
                try await tail.follow { event in
                    let json = String(decoding: try JSONResponse<Event>.encoder.encode(event), as: UTF8.self)
                    let line = sse ? "id: \(seq(event))\ndata: \(json)\n\n" : json + "\n"
                    try await writer.write(ByteBuffer(string: line))
                }
                try await writer.finish(nil)
            })
    }
}
