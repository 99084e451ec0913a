/// Follows the events of one run or job: those recorded after `after`, then new ones as they
/// are recorded, until `ended` says so and nothing is left to send.
///
/// With `changes` it reads again only when woken (a `NOTIFY` for this run or job, a listener
/// that is reconnecting, or one that reconnected and has everyone catch up from their last
/// event); without, it polls every `pollInterval`.
public struct EventTail<Event: Sendable>: Sendable {
    public var after: Int64
    public var seq: @Sendable (Event) -> Int64
    public var ended: @Sendable () async throws -> Bool
    public var fetch: @Sendable (_ after: Int64) async throws -> [Event]
    public var changes: NotificationSubscription?
    public var pollInterval: Duration

    public init(
        after: Int64, seq: @escaping @Sendable (Event) -> Int64, ended: @escaping @Sendable () async throws -> Bool,
        fetch: @escaping @Sendable (_ after: Int64) async throws -> [Event], changes: NotificationSubscription?,
        pollInterval: Duration = .milliseconds(250)
    ) {
        self.after = after
        self.seq = seq
        self.ended = ended
        self.fetch = fetch
        self.changes = changes
        self.pollInterval = pollInterval
    }

    public func follow(send: (Event) async throws -> Void) async throws {
        defer { changes?.cancel() }
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
            guard events.isEmpty else { continue }
            if let changes {
                await changes.next()
            } else {
                try await Task.sleep(for: pollInterval)
            }
        }
    }
}
