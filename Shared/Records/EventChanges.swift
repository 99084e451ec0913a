import Foundation
import Postgres

/// A subscription to notifications on `channel` whose payload is `id`, through the process's
/// one listener on that channel. Subscribe before reading the rows; while the listener is
/// down every subscriber is woken every second, so it polls.
private func subscription(on pool: PostgresPool, channel: String, id: UUID) -> NotificationSubscription {
    NotificationHub.shared(configuration: pool.configuration, channels: [channel])
        .subscribe(channel: channel, payload: id.uuidString.lowercased())
}

extension RunStore {
    /// Wakes a follower of the run when an event is appended to it (`eventsChannel`).
    public func changes(of runID: UUID) -> NotificationSubscription {
        subscription(on: pool, channel: Self.eventsChannel, id: runID)
    }

    /// Wakes the process running the run when it is cancelled or closed elsewhere (`stopChannel`).
    public func stops(of runID: UUID) -> NotificationSubscription {
        subscription(on: pool, channel: Self.stopChannel, id: runID)
    }
}

extension JobStore {
    /// Wakes a follower of the job when an event is appended to it (`eventsChannel`).
    public func changes(of jobID: UUID) -> NotificationSubscription {
        subscription(on: pool, channel: Self.eventsChannel, id: jobID)
    }

    /// Wakes the worker running the job when a cancel of it is recorded (`cancelChannel`).
    public func cancels(of jobID: UUID) -> NotificationSubscription {
        subscription(on: pool, channel: Self.cancelChannel, id: jobID)
    }
}
