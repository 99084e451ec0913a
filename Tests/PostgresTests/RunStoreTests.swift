import Foundation
import Migrations
import Postgres
import Records
import Testing

extension DatabaseTests {
    /// Runs against the real schema; each test uses its own service name and deletes its runs.
    @Suite struct RunStoreTests {
        let service = TestEnvironment.uniqueName("svc")
        let owner = TestEnvironment.uniqueName("instance")

        private func withStore(_ body: (RunStore, PostgresPool) async throws -> Void) async throws {
            try await TestEnvironment.withPool { pool in
                try await Migrator.apply(BuildchainSchema.migrations, on: pool, logger: TestEnvironment.logger)
                try await TestEnvironment.cleaningUp(pool, "DELETE FROM stage_runs WHERE service = $1", [service]) {
                    try await body(RunStore(pool: pool), pool)
                }
            }
        }

        @Test func createdRunReadsBackQueuedWithAStateEvent() async throws {
            try await withStore { store, _ in
                let jobID = UUID()
                let created = try await store.createRun(
                    service: service, kind: "checkout", jobID: jobID, request: #"{"repo": "https://***@git.example/x"}"#
                )
                let run = try #require(try await store.run(created.id))
                #expect(run == created)
                #expect(run.status == .queued)
                #expect(run.jobID == jobID)
                #expect(run.attempt == 0)
                #expect(run.request == #"{"repo": "https://***@git.example/x"}"#)
                #expect(run.startedAt == nil && run.owner == nil)
                let events = try await store.events(runID: run.id)
                #expect(events.map(\.seq) == [1])
                #expect(events.first?.kind == .state && events.first?.message == "queued")
                #expect(try await store.run(UUID()) == nil)
            }
        }

        @Test func statusMovesThroughItsLifecycleAndRefusesInvalidTransitions() async throws {
            try await withStore { store, _ in
                let run = try await store.createRun(service: service, kind: "build", request: "{}")
                let running = try await store.markRunning(run.id, owner: owner)
                #expect(running.status == .running && running.attempt == 1 && running.owner == owner)
                #expect(running.startedAt != nil && running.heartbeatAt != nil)
                let succeeded = try await store.markSucceeded(run.id, result: #"{"image": "sha256:abc"}"#)
                #expect(succeeded.status == .succeeded && succeeded.result == #"{"image": "sha256:abc"}"#)
                #expect(succeeded.finishedAt != nil)

                await #expect(throws: RunStoreError.invalidTransition(run: run.id, from: .succeeded, to: .failed)) {
                    try await store.markFailed(run.id, error: #"{"code": "late"}"#)
                }
                let missing = UUID()
                await #expect(throws: RunStoreError.runNotFound(missing)) {
                    try await store.markRunning(missing, owner: owner)
                }

                let states = try await store.events(runID: run.id).filter { $0.kind == .state }.map(\.message)
                #expect(states == ["queued", "running", "succeeded"])

                let cancelled = try await store.createRun(service: service, kind: "build", request: "{}")
                #expect(try await store.markCancelled(cancelled.id).status == .cancelled)
                let failed = try await store.createRun(service: service, kind: "build", request: "{}")
                try await store.markRunning(failed.id, owner: owner)
                #expect(
                    try await store.markFailed(failed.id, error: #"{"code": "exit 1"}"#).error == #"{"code": "exit 1"}"#
                )
            }
        }

        @Test func concurrentAppendsGetDistinctConsecutiveSeqs() async throws {
            try await withStore { store, _ in
                let run = try await store.createRun(service: service, kind: "build", request: "{}")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        group.addTask {
                            for line in 0..<25 {
                                try await store.appendEvent(
                                    runID: run.id, stream: "stdout", message: "writer \(writer) line \(line)")
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let events = try await store.events(runID: run.id, limit: 500)
                #expect(events.map(\.seq) == Array(1...101))
                #expect(Set(events.dropFirst().map(\.message)).count == 100)
                let tail = try await store.events(runID: run.id, after: 99)
                #expect(tail.map(\.seq) == [100, 101])
            }
        }

        @Test func appendingAnEventNotifiesFollowers() async throws {
            try await withStore { store, _ in
                let run = try await store.createRun(service: service, kind: "build", request: "{}")
                let listener = try await PostgresListener(
                    configuration: try TestEnvironment.configuration(), channels: [RunStore.eventsChannel],
                    logger: TestEnvironment.logger)
                defer { listener.stop() }
                let event = try await store.appendEvent(
                    runID: run.id, stream: "stderr", message: "step 1/3", data: #"{"step": 1}"#)
                #expect(event.seq == 2 && event.stream == "stderr" && event.data == #"{"step": 1}"#)
                let notification = await first(of: listener.notifications, within: 10) {
                    $0.payload == run.id.uuidString.lowercased()
                }
                #expect(notification != nil)
            }
        }

        /// A run cancelled (from any replica) or closed as abandoned is notified on
        /// `stopChannel` for the process running it; a run's own success is not.
        @Test func aCancelOrAnAbandonedCloseIsNotifiedToTheProcessRunningTheRun() async throws {
            try await withStore { store, pool in
                let cancelled = try await store.createRun(service: service, kind: "build", request: "{}", owner: owner)
                let abandoned = try await store.createRun(service: service, kind: "build", request: "{}", owner: owner)
                let succeeded = try await store.createRun(service: service, kind: "build", request: "{}", owner: owner)
                let stops = [cancelled, abandoned, succeeded].map { store.stops(of: $0.id) }
                defer { for stop in stops { stop.cancel() } }
                for stop in stops { try await Wakes.settle(stop, on: pool, channel: RunStore.stopChannel) }
                for run in [abandoned, succeeded] { try await store.markRunning(run.id, owner: owner) }

                try await store.markCancelled(cancelled.id)
                #expect(await Wakes.woken(stops[0], within: .seconds(2)), "the cancel is notified")
                try await Task.sleep(for: .milliseconds(400))
                try await store.markSucceeded(succeeded.id, result: "{}")
                _ = try await store.closeStale(olderThan: .milliseconds(300), id: abandoned.id, error: #"{"code":"RUN_ABANDONED"}"#)
                #expect(await Wakes.woken(stops[1], within: .seconds(2)), "the abandoned close is notified")
                #expect(await !Wakes.woken(stops[2], within: .milliseconds(300)), "a run's own success is not a stop")
            }
        }

        @Test func heartbeatKeepsARunFromGoingStale() async throws {
            try await withStore { store, _ in
                let run = try await store.createRun(service: service, kind: "build", request: "{}")
                let other = try await store.createRun(service: service, kind: "build", request: "{}", owner: owner)
                try await store.markRunning(run.id, owner: owner)
                try await Task.sleep(for: .milliseconds(400))

                #expect(
                    try await Set(store.staleRuns(olderThan: .milliseconds(300), service: service).map(\.id)) == [run.id, other.id])
                #expect(try await store.staleRuns(olderThan: .seconds(60), service: service).isEmpty)

                // Only the runs named are refreshed, not every run of the owner.
                #expect(try await store.heartbeat(runs: [run.id], owner: owner) == [run.id])
                #expect(try await store.staleRuns(olderThan: .milliseconds(300), service: service).map(\.id) == [other.id])
                #expect(try await store.heartbeat(runs: [run.id], owner: "someone-else").isEmpty)

                try await Task.sleep(for: .milliseconds(400))
                let requeued = try await store.requeue(run.id)
                #expect(requeued.status == .queued && requeued.owner == nil)
                #expect(try await store.heartbeat(runs: [run.id], owner: owner).isEmpty)
                #expect(try await store.markRunning(run.id, owner: owner).attempt == 2)
            }
        }

        /// Staleness by the database's clock, decided in the statement that ends the run: a
        /// fresh heartbeat keeps it, an old one ends it once (two sweepers, one end).
        @Test func closeStaleEndsOnlyRunsWhoseHeartbeatIsOld() async throws {
            try await withStore { store, _ in
                let stale = try await store.createRun(service: service, kind: "build", request: "{}")
                let fresh = try await store.createRun(service: service, kind: "build", request: "{}")
                try await store.markRunning(stale.id, owner: owner)
                try await store.markRunning(fresh.id, owner: owner)
                try await Task.sleep(for: .milliseconds(600))
                #expect(try await store.heartbeat(runs: [fresh.id], owner: owner) == [fresh.id])

                let error = #"{"code":"RUN_ABANDONED","message":"gone","retryable":true}"#
                async let first = store.closeStale(olderThan: .milliseconds(500), service: service, error: error)
                async let second = store.closeStale(olderThan: .milliseconds(500), service: service, error: error)
                let closed = try await first + second
                #expect(closed.map(\.id) == [stale.id])
                let ended = try #require(try await store.run(stale.id))
                #expect(ended.status == .failed && ended.error?.contains("RUN_ABANDONED") == true && ended.finishedAt != nil)
                #expect(try await store.events(runID: stale.id).last?.message == "failed")
                #expect(try await store.run(fresh.id)?.status == .running)
                #expect(try await store.closeStale(olderThan: .milliseconds(500), id: fresh.id, error: error).isEmpty)
                // No longer held: the owner's heartbeat leaves it out, so its work there stops.
                #expect(try await store.heartbeat(runs: [stale.id, fresh.id], owner: owner) == [fresh.id])
            }
        }
    }
}
