import Foundation
import Postgres

extension RunStore {
    /// Wakes a follower of the run when an event is appended to it (through the process's one
    /// listener on `eventsChannel`). Subscribe before reading the events.
    public func changes(of runID: UUID) -> NotificationSubscription {
        NotificationHub.shared(configuration: pool.configuration, channels: [Self.eventsChannel])
            .subscribe(channel: Self.eventsChannel, payload: runID.uuidString.lowercased())
    }
}

extension JobStore {
    /// Wakes a follower of the job when an event is appended to it (through the process's one
    /// listener on `eventsChannel`). Subscribe before reading the events.
    public func changes(of jobID: UUID) -> NotificationSubscription {
        NotificationHub.shared(configuration: pool.configuration, channels: [Self.eventsChannel])
            .subscribe(channel: Self.eventsChannel, payload: jobID.uuidString.lowercased())
    }
}
