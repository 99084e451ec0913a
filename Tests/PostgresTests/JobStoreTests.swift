import Foundation
import Postgres
import Records
import Testing

extension DatabaseTests {
    /// Each test gets a database of its own: claims take the oldest job of the whole table, so
    /// jobs of other tests (or of a local gateway) must not be in sight.
    @Suite struct JobStoreTests {
        private func withStore(_ body: (JobStore, PostgresPool) async throws -> Void) async throws {
            try await TestEnvironment.withScratchDatabase { pool in
                try await Migrator.apply(BuildchainSchema.migrations, on: pool, logger: TestEnvironment.logger)
                try await body(JobStore(pool: pool), pool)
            }
        }

        private func submit(_ store: JobStore, stages: [StageName] = [.checkout, .rewrite, .build]) async throws -> Job {
            try await store.create(
                workload: "w", service: "s", request: #"{"workload":"w","service":"s"}"#, stages: stages)
        }

        @Test func aSubmittedJobIsQueuedWithItsStagesPending() async throws {
            try await withStore { store, _ in
                let job = try await submit(store, stages: [.checkout, .rewrite, .build, .push])
                #expect(job.state == .queued && job.attempt == 1 && job.leaseOwner == nil)
                let stages = try await store.stages(of: job.id)
                #expect(stages.map(\.name) == [.checkout, .rewrite, .build, .push])
                #expect(stages.allSatisfy { $0.status == .pending && $0.attempt == 0 })
                let events = try await store.events(of: job.id)
                #expect(events.map(\.message) == ["queued"] && events.first?.kind == .state)
            }
        }

        @Test func aPageOfJobsHasItsStagesReadAtOnce() async throws {
            try await withStore { store, _ in
                let full = try await submit(store, stages: [.checkout, .rewrite, .build, .push])
                let short = try await submit(store, stages: [.checkout])
                let stages = try await store.stages(of: [full.id, short.id, UUID()])
                #expect(stages[full.id]?.map(\.name) == [.checkout, .rewrite, .build, .push])
                #expect(stages[short.id]?.map(\.name) == [.checkout])
                #expect(stages.count == 2)
                #expect(try await store.stages(of: [UUID]()).isEmpty)
            }
        }

        @Test func aDryRunIsEndedInTheTransactionThatRecordsIt() async throws {
            try await withStore { store, _ in
                let job = try await store.create(
                    workload: "w", service: "s", request: "{}", stages: [.checkout], dryRun: true)
                #expect(job.state == .cancelled && job.error?.contains("DRY_RUN") == true)
                let claimed = try await store.claim(owner: "worker", lease: .seconds(30), timeout: .seconds(60))
                #expect(claimed == nil, "no worker takes a dry run")
                let events = try await store.events(of: job.id)
                #expect(events.map(\.message) == ["queued", "cancelled"])
            }
        }

        @Test func twoClaimersTakeEveryJobExactlyOnce() async throws {
            try await withStore { store, _ in
                var created: Set<UUID> = []
                for _ in 0..<20 { created.insert(try await submit(store).id) }
                let claimed = try await withThrowingTaskGroup(of: [UUID].self) { group in
                    for owner in ["gateway-a", "gateway-b"] {
                        group.addTask {
                            var mine: [UUID] = []
                            while let claim = try await store.claim(owner: owner, lease: .seconds(30), timeout: .seconds(600)) {
                                #expect(claim.job.leaseOwner == owner && claim.job.state == .running)
                                #expect(claim.previousOwner == nil)
                                mine.append(claim.job.id)
                            }
                            return mine
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let all = claimed.flatMap { $0 }
                #expect(all.count == 20)
                #expect(Set(all) == created)
                #expect(try await store.claim(owner: "gateway-c", lease: .seconds(30), timeout: .seconds(600)) == nil)
            }
        }

        @Test func anExpiredLeaseIsTakenOverAndTheOldHolderIsFencedOut() async throws {
            try await withStore { store, _ in
                let job = try await submit(store)
                let first = try #require(try await store.claim(owner: "a", lease: .milliseconds(300), timeout: .seconds(600)))
                #expect(first.job.id == job.id)
                #expect(try await store.renew(job.id, owner: "a", lease: .milliseconds(300)) == LeaseRenewal(cancelRequested: false, pastDeadline: false))
                #expect(try await store.claim(owner: "b", lease: .seconds(30), timeout: .seconds(600)) == nil)
                _ = try await store.startStage(.checkout, of: job.id, owner: "a")
                try await Task.sleep(for: .milliseconds(600))

                let second = try #require(try await store.claim(owner: "b", lease: .seconds(30), timeout: .seconds(600)))
                #expect(second.job.id == job.id && second.previousOwner == "a")
                #expect(second.job.deadlineAt == first.job.deadlineAt)
                #expect(try await store.renew(job.id, owner: "a", lease: .seconds(30)) == nil)
                await #expect(throws: JobStoreError.leaseLost(job.id)) {
                    try await store.finishStage(.checkout, of: job.id, owner: "a", status: .succeeded, result: "{}")
                }
                // The new holder sees the stage the old one left running.
                let stage = try #require(try await store.stages(of: job.id).first)
                #expect(stage.status == .running && stage.attempt == 1)
                try await store.finishStage(.checkout, of: job.id, owner: "b", status: .succeeded, result: #"{"commit":"c"}"#)
                let messages = try await store.events(of: job.id).map(\.message)
                #expect(messages.contains("taken over by b after the lease of a expired"))
            }
        }

        @Test func cancellingAQueuedJobEndsItAndARunningOneIsFlaggedForItsHolder() async throws {
            try await withStore { store, _ in
                let queued = try await submit(store)
                let cancelled = try #require(try await store.requestCancel(queued.id))
                #expect(cancelled.state == .cancelled && cancelled.finishedAt != nil)
                #expect(cancelled.error?.contains("CANCELLED") == true)

                let running = try await submit(store)
                _ = try #require(try await store.claim(owner: "a", lease: .seconds(30), timeout: .seconds(600)))
                let flagged = try #require(try await store.requestCancel(running.id))
                #expect(flagged.state == .running && flagged.cancelRequested)
                #expect(try await store.renew(running.id, owner: "a", lease: .seconds(30))?.cancelRequested == true)
                // An ended job stays as it is.
                #expect(try await store.requestCancel(queued.id)?.state == .cancelled)
                #expect(try await store.requestCancel(UUID()) == nil)
            }
        }

        @Test func aRetryQueuesTheJobAgainKeepingTheStagesThatSucceeded() async throws {
            try await withStore { store, _ in
                let job = try await submit(store)
                _ = try #require(try await store.claim(owner: "a", lease: .seconds(30), timeout: .seconds(600)))
                _ = try await store.startStage(.checkout, of: job.id, owner: "a")
                try await store.finishStage(.checkout, of: job.id, owner: "a", status: .succeeded, result: #"{"commit":"c"}"#)
                _ = try await store.startStage(.rewrite, of: job.id, owner: "a")
                try await store.finishStage(.rewrite, of: job.id, owner: "a", status: .failed, error: #"{"code":"X"}"#)
                #expect(try await store.retry(job.id)?.state == .running)  // not ended: unchanged
                try await store.finish(job.id, owner: "a", state: .failed, error: #"{"code":"X"}"#)

                let retried = try #require(try await store.retry(job.id))
                #expect(retried.state == .queued && retried.attempt == 2 && retried.error == nil && retried.leaseOwner == nil)
                let stages = try await store.stages(of: job.id)
                #expect(stages.map(\.status) == [.succeeded, .pending, .pending])
                #expect(stages[0].result == #"{"commit": "c"}"# && stages[0].attempt == 1)
                #expect(stages[1].error == nil)
            }
        }

        @Test func aBuildKeyFindsTheNewestJobThatBuiltIt() async throws {
            try await withStore { store, _ in
                let builder = try await submit(store)
                let reuser = try await submit(store)
                _ = try #require(try await store.claim(owner: "a", lease: .seconds(30), timeout: .seconds(600)))
                #expect(try await store.reusableBuild(key: "k", excluding: reuser.id) == nil)
                try await store.setBuildKey("k", reusedFrom: nil, of: builder.id, owner: "a")
                _ = try await store.startStage(.build, of: builder.id, owner: "a")
                #expect(try await store.reusableBuild(key: "k", excluding: reuser.id) == nil)  // not built yet
                try await store.finishStage(.build, of: builder.id, owner: "a", status: .succeeded, result: #"{"image":{}}"#)

                let found = try #require(try await store.reusableBuild(key: "k", excluding: reuser.id))
                #expect(found.jobID == builder.id)
                #expect(try await store.reusableBuild(key: "k", excluding: builder.id) == nil)
                #expect(try await store.reusableBuild(key: "other", excluding: reuser.id) == nil)
            }
        }

        @Test func jobsListNewestFirstWithFiltersAndACursor() async throws {
            try await withStore { store, _ in
                var ids: [UUID] = []
                for _ in 0..<5 { ids.append(try await submit(store).id) }
                let other = try await store.create(workload: "x", service: "s", request: "{}", stages: [.checkout])
                let firstPage = try await store.list(workload: "w", limit: 3)
                #expect(firstPage.map(\.id) == ids.reversed().prefix(3).map { $0 })
                let secondPage = try await store.list(workload: "w", limit: 3, after: firstPage.last?.id)
                #expect(secondPage.map(\.id) == [ids[1], ids[0]])
                #expect(try await store.list(state: .queued, limit: 10).count == 6)
                #expect(try await store.list(workload: "x", limit: 10).map(\.id) == [other.id])
                #expect(try await store.list(state: .succeeded, limit: 10).isEmpty)
            }
        }
    }
}

extension DatabaseTests {
    /// The sealed secrets a job keeps while it may run (`job_secrets`, migration 5).
    @Suite struct JobSecretsRecordTests {
        private func withStore(_ body: (JobStore, PostgresPool) async throws -> Void) async throws {
            try await TestEnvironment.withScratchDatabase { pool in
                try await Migrator.apply(BuildchainSchema.migrations, on: pool, logger: TestEnvironment.logger)
                try await body(JobStore(pool: pool), pool)
            }
        }

        private func rows(_ pool: PostgresPool) async throws -> Int {
            try await pool.query("SELECT count(*)::int AS n FROM job_secrets")[0].decode("n")
        }

        @Test func secretsStayWhileTheJobMayRunAndGoWhenItEndsHoweverItEnds() async throws {
            try await withStore { store, pool in
                let sealed = SealedSecrets(keyID: "k1", box: "Ym94")
                let job = try await store.create(workload: "w", service: "s", request: "{}", stages: [.build], secrets: sealed)
                #expect(try await store.sealedSecrets(of: job.id) == sealed)
                let claim = try #require(try await store.claim(owner: "o", lease: .seconds(30), timeout: .seconds(60)))
                #expect(try await store.sealedSecrets(of: claim.job.id) == sealed, "a running job keeps them")
                try await store.finish(job.id, owner: "o", state: .failed, error: #"{"code":"X"}"#)
                #expect(try await store.sealedSecrets(of: job.id) == nil, "deleted when the job failed")

                let again = SealedSecrets(keyID: "k2", box: "YWdhaW4=")
                _ = try await store.retry(job.id, secrets: again)
                #expect(try await store.sealedSecrets(of: job.id) == again, "a retry stores those it was given")

                let queued = try await store.create(workload: "w", service: "s", request: "{}", stages: [.build], secrets: sealed)
                _ = try await store.requestCancel(queued.id)
                let dry = try await store.create(
                    workload: "w", service: "s", request: "{}", stages: [.build], dryRun: true, secrets: sealed)
                #expect(try await store.sealedSecrets(of: dry.id) == nil)
                #expect(try await rows(pool) == 1, "only the retried job's remain")
            }
        }
    }
}
