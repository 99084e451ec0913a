import Foundation
import Postgres
import Testing

/// Waiting on a `NotificationSubscription` in tests of the stop and cancel notifications.
enum Wakes {
    private struct NeverListened: Error {}

    /// Waits until the process's listener for `subscription`'s channel listens, then takes the
    /// catch-up wake it gives every subscriber then, so the next wake is a notification.
    static func settle(_ subscription: NotificationSubscription, on pool: PostgresPool, channel: String) async throws {
        let hub = NotificationHub.shared(configuration: pool.configuration, channels: [channel])
        let deadline = ContinuousClock.now + .seconds(10)
        while !hub.isListening {
            guard ContinuousClock.now < deadline else { throw NeverListened() }
            try await Task.sleep(for: .milliseconds(20))
        }
        _ = await woken(subscription, within: .milliseconds(300))
    }

    /// Whether `subscription` was woken within `limit`.
    static func woken(_ subscription: NotificationSubscription, within limit: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await subscription.next()
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
