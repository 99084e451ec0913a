import Foundation
import Migrations
import Postgres
import Records
import Synchronization
import Testing

extension DatabaseTests {
    /// Followers of a run woken by the process's one listener (`NotificationHub`), never by
    /// polling: each hub here polls only once a minute, so an event arrives through a
    /// notification or through the catch-up after the listener reconnects, or not at all.
    @Suite struct EventFollowingTests {
        let service = TestEnvironment.uniqueName("svc")

        private func withStore(_ body: (RunStore, PostgresPool) async throws -> Void) async throws {
            try await TestEnvironment.withPool { pool in
                try await Migrator.apply(BuildchainSchema.migrations, on: pool, logger: TestEnvironment.logger)
                try await TestEnvironment.cleaningUp(pool, "DELETE FROM stage_runs WHERE service = $1", [service]) {
                    try await body(RunStore(pool: pool), pool)
                }
            }
        }

        private func hub() throws -> NotificationHub {
            NotificationHub(
                configuration: try TestEnvironment.configuration(applicationName: TestEnvironment.uniqueName("listener")),
                channels: [RunStore.eventsChannel], fallbackInterval: .seconds(60), logger: TestEnvironment.logger)
        }

        /// Follows `run` until it ends, returning the seqs received in order.
        private func follow(_ run: StageRun, in store: RunStore, hub: NotificationHub) -> Task<[Int64], any Error> {
            let tail = EventTail<RunEvent>(
                after: 0, seq: \.seq, ended: { try await store.run(run.id)?.status.isTerminal ?? true },
                fetch: { try await store.events(runID: run.id, after: $0) },
                changes: hub.subscribe(channel: RunStore.eventsChannel, payload: run.id.uuidString.lowercased()))
            return Task {
                var seqs: [Int64] = []
                try await tail.follow { seqs.append($0.seq) }
                return seqs
            }
        }

        private struct NeverListened: Error {}

        private func waitUntilListening(_ hub: NotificationHub) async throws {
            let deadline = ContinuousClock.now + .seconds(10)
            while !hub.isListening {
                guard ContinuousClock.now < deadline else { throw NeverListened() }
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        @Test func aFollowerIsWokenByNotifications() async throws {
            try await withStore { store, _ in
                let hub = try hub()
                let run = try await store.createRun(service: service, kind: "build", request: "{}")
                let follower = follow(run, in: store, hub: hub)
                try await waitUntilListening(hub)
                let started = ContinuousClock.now
                for index in 0..<5 {
                    _ = try await store.appendEvent(runID: run.id, stream: "stdout", message: "line \(index)")
                }
                _ = try await store.markRunning(run.id, owner: service)
                _ = try await store.markSucceeded(run.id, result: nil)
                let seqs = try await follower.value
                #expect(seqs == Array(1...8))
                #expect(ContinuousClock.now - started < .seconds(30), "events came by polling, not by notification")
            }
        }

        /// The listener's backend is terminated and events are written at once, most of them
        /// while it reconnects: nothing polls (the hub's fallback is a minute), so those arrive
        /// through the catch-up after it listens again, each follower reading after its last seq.
        @Test func aFollowerKeepsEveryEventAcrossAListenerReconnect() async throws {
            try await withStore { store, pool in
                let hub = try hub()
                let run = try await store.createRun(service: service, kind: "build", request: "{}")
                _ = try await store.markRunning(run.id, owner: service)
                let received = Mutex<[Int64]>([])
                let tail = EventTail<RunEvent>(
                    after: 0, seq: \.seq, ended: { try await store.run(run.id)?.status.isTerminal ?? true },
                    fetch: { try await store.events(runID: run.id, after: $0) },
                    changes: hub.subscribe(channel: RunStore.eventsChannel, payload: run.id.uuidString.lowercased()))
                let follower = Task { try await tail.follow { event in received.withLock { $0.append(event.seq) } } }
                try await waitUntilListening(hub)
                for index in 0..<20 {
                    _ = try await store.appendEvent(runID: run.id, stream: "stdout", message: "before \(index)")
                }
                let terminated = try await pool.query(
                    """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name = $1 AND query LIKE 'LISTEN%'
                    """, [hub.configuration.applicationName]
                ).count
                for index in 0..<20 {
                    _ = try await store.appendEvent(runID: run.id, stream: "stdout", message: "after \(index)")
                }
                let deadline = ContinuousClock.now + .seconds(15)
                while received.withLock({ $0.count }) < 42, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(received.withLock { $0.count } == 42, "events written while the listener reconnected never came")
                _ = try await store.markSucceeded(run.id, result: nil)
                try await follower.value
                #expect(terminated == 1, "no listener backend was found to terminate")
                let stored = try await store.events(runID: run.id).map(\.seq)
                #expect(stored.count == 43)
                #expect(received.withLock { $0 } == stored)
            }
        }
    }
}
