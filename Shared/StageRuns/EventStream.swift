import Foundation
import Hummingbird
import OpenAPIRuntime
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

    /// The stream as a generated handler's body. Following stops when the client goes away
    /// (the body's consumer is cancelled).
    public func httpBody(serverSentEvents sse: Bool) -> HTTPBody {
        let (lines, continuation) = AsyncThrowingStream<ArraySlice<UInt8>, any Error>.makeStream()
        let follower = Task { [tail] in
            do {
                try await tail.follow { event in
                    continuation.yield(ArraySlice(try Self.line(event, seq: tail.seq, sse: sse).utf8))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in follower.cancel() }
        return HTTPBody(lines, length: .unknown, iterationBehavior: .single)
    }

    static func line(_ event: Event, seq: (Event) -> Int64, sse: Bool) throws -> String {
        let json = String(decoding: try JSONResponse<Event>.encoder.encode(event), as: UTF8.self)
        return sse ? "id: \(seq(event))\ndata: \(json)\n\n" : json + "\n"
    }
}
