import Foundation
import Migrations
import Postgres
@testable import Records
import Testing

extension DatabaseTests {
    /// Each test gets a database of its own: claims take the oldest job of the whole table, so
    /// jobs of other tests (or of a local gateway) must not be in sight.
    @Suite struct JobStoreTests {
        func withStore(_ body: (JobStore, PostgresPool) async throws -> Void) async throws {
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

        @Test func aJobIsReadWithItsStagesInOneStatementAsItWasCreated() async throws {
            try await withStore { store, _ in
                let created = try await store.createWithStages(
                    workload: "w", service: "s", request: #"{"workload":"w"}"#, stages: [.checkout, .rewrite, .build, .push])
                #expect(created.stages.map(\.name) == [.checkout, .rewrite, .build, .push])
                #expect(created.stages.map(\.position) == [0, 1, 2, 3])
                #expect(created.stages == (try await store.stages(of: created.job.id)))
                let read = try #require(try await store.jobWithStages(created.job.id))
                #expect(read == created)
                #expect(read.job == (try await store.job(created.job.id)))
                #expect(try await store.jobWithStages(UUID()) == nil)
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
                #expect(try await store.renew(first.lease, for: .milliseconds(300)) == LeaseRenewal(cancelRequested: false, pastDeadline: false))
                #expect(try await store.claim(owner: "b", lease: .seconds(30), timeout: .seconds(600)) == nil)
                _ = try await store.startStage(.checkout, lease: first.lease)
                try await Task.sleep(for: .milliseconds(600))

                let second = try #require(try await store.claim(owner: "b", lease: .seconds(30), timeout: .seconds(600)))
                #expect(second.job.id == job.id && second.previousOwner == "a")
                #expect(second.job.deadlineAt == first.job.deadlineAt)
                #expect(try await store.renew(first.lease, for: .seconds(30)) == nil)
                await #expect(throws: JobStoreError.leaseLost(job.id)) {
                    try await store.finishStage(.checkout, lease: first.lease, status: .succeeded, result: "{}")
                }
                // The new holder sees the stage the old one left running.
                let stage = try #require(try await store.stages(of: job.id).first)
                #expect(stage.status == .running && stage.attempt == 1)
                try await store.finishStage(.checkout, lease: second.lease, status: .succeeded, result: #"{"commit":"c"}"#)
                let messages = try await store.events(of: job.id).map(\.message)
                #expect(messages.contains("taken over by b after the lease of a expired"))
            }
        }

        /// The same process claims the job again after its lease ran out (the database was away
        /// longer than the lease): the first claim's run is fenced out although its owner is the
        /// same, and it cannot renew.
        @Test func aClaimBySameOwnerAfterItsLeaseRanOutFencesOutTheEarlierClaim() async throws {
            try await withStore { store, pool in
                let job = try await submit(store)
                let first = try #require(try await store.claim(owner: "gw", lease: .milliseconds(200), timeout: .seconds(600)))
                _ = try await store.startStage(.checkout, lease: first.lease)
                try await Task.sleep(for: .milliseconds(400))
                let second = try #require(try await store.claim(owner: "gw", lease: .seconds(30), timeout: .seconds(600)))
                #expect(second.job.id == job.id && second.previousOwner == "gw")
                #expect(second.lease.owner == first.lease.owner && second.lease.token != first.lease.token)

                #expect(try await store.renew(first.lease, for: .seconds(30)) == nil, "the first claim's renewal finds its lease gone")
                for write in [
                    { try await store.recordRun(UUID(), stage: .checkout, lease: first.lease) },
                    { try await store.copyRunEvents([CopiedEvent(seq: 1, kind: .log, stream: nil, message: "late")], stage: .checkout, lease: first.lease) },
                    { try await store.finishStage(.checkout, lease: first.lease, status: .succeeded, result: "{}") },
                    { try await store.log("late", stage: nil, lease: first.lease) },
                    { try await store.setBuildKey("k", reusedFrom: nil, lease: first.lease) },
                    { _ = try await store.startStage(.rewrite, lease: first.lease) },
                    { try await store.finish(first.lease, state: .succeeded, result: "{}") },
                ] as [@Sendable () async throws -> Void] {
                    await #expect(throws: JobStoreError.leaseLost(job.id)) { try await write() }
                }
                // A stage service asked by the first claim records no run; asked by the second, it does.
                let runs = RunStore(pool: pool)
                await #expect(throws: RunStoreError.leaseLost(job: job.id)) {
                    try await runs.createRun(
                        service: "checkout-service", kind: "checkout", jobID: job.id, request: "{}", leaseToken: first.lease.token)
                }
                #expect(try await store.unrecordedRun(of: .checkout, jobID: job.id) == nil)
                let adopted = try await runs.createRun(
                    service: "checkout-service", kind: "checkout", jobID: job.id, request: "{}", leaseToken: second.lease.token)
                #expect(try await store.unrecordedRun(of: .checkout, jobID: job.id) == adopted.id)
                let row = try await pool.query(
                    "SELECT state, build_key, (lease_token = $2) AS second_holds FROM jobs WHERE id = $1", [job.id, second.lease.token])[0]
                #expect(try row.decode("state", as: String.self) == "running")
                #expect(try row.decode("build_key", as: String?.self) == nil)
                #expect(try row.decode("second_holds", as: Bool.self))
                let stages = try await store.stages(of: job.id)
                #expect(stages.map(\.status) == [.running, .pending, .pending] && stages[0].runID == nil)
                #expect(!(try await store.events(of: job.id).map(\.message)).contains("late"))
                #expect(try await store.renew(second.lease, for: .seconds(30)) != nil)
            }
        }

        /// A stage service's run started for the stage's current attempt whose id the claim
        /// could not record is found, so the next claim adopts it instead of starting another.
        @Test func aStageRunWhoseIdWasNotRecordedIsFoundForTheNextClaim() async throws {
            try await withStore { store, pool in
                let job = try await submit(store)
                let lease = try #require(try await store.claim(owner: "gw", lease: .seconds(30), timeout: .seconds(600))).lease
                let runs = RunStore(pool: pool)
                _ = try await runs.createRun(service: "checkout-service", kind: "checkout", jobID: job.id, request: "{}")
                #expect(try await store.unrecordedRun(of: .checkout, jobID: job.id) == nil, "a run of an earlier attempt")
                _ = try await store.startStage(.checkout, lease: lease)
                let failed = try await runs.createRun(service: "checkout-service", kind: "checkout", jobID: job.id, request: "{}")
                try await runs.markFailed(failed.id, error: "{}")
                let live = try await runs.createRun(service: "checkout-service", kind: "checkout", jobID: job.id, request: "{}")
                #expect(try await store.unrecordedRun(of: .checkout, jobID: job.id) == live.id)
                #expect(try await store.unrecordedRun(of: .build, jobID: job.id) == nil)
                try await store.recordRun(live.id, stage: .checkout, lease: lease)
                #expect(try await store.unrecordedRun(of: .checkout, jobID: job.id) == nil, "recorded: adopted by its id")
            }
        }

        @Test func cancellingAQueuedJobEndsItAndARunningOneIsFlaggedForItsHolder() async throws {
            try await withStore { store, pool in
                let queued = try await submit(store)
                let cancelled = try #require(try await store.requestCancel(queued.id))
                #expect(cancelled.state == .cancelled && cancelled.finishedAt != nil)
                #expect(cancelled.error?.contains("CANCELLED") == true)

                let running = try await submit(store)
                let claim = try #require(try await store.claim(owner: "a", lease: .seconds(30), timeout: .seconds(600)))
                let cancels = store.cancels(of: running.id)
                defer { cancels.cancel() }
                try await Wakes.settle(cancels, on: pool, channel: JobStore.cancelChannel)
                #expect(await !Wakes.woken(cancels, within: .milliseconds(200)), "not woken before the cancel")
                let flagged = try #require(try await store.requestCancel(running.id))
                #expect(flagged.state == .running && flagged.cancelRequested)
                #expect(await Wakes.woken(cancels, within: .seconds(2)), "the cancel is notified to the worker holding the job")
                #expect(try await store.renew(claim.lease, for: .seconds(30))?.cancelRequested == true)
                // An ended job stays as it is.
                #expect(try await store.requestCancel(queued.id)?.state == .cancelled)
                #expect(try await store.requestCancel(UUID()) == nil)
            }
        }

        @Test func aRetryQueuesTheJobAgainKeepingTheStagesThatSucceeded() async throws {
            try await withStore { store, _ in
                let job = try await submit(store)
                let lease = try #require(try await store.claim(owner: "a", lease: .seconds(30), timeout: .seconds(600))).lease
                _ = try await store.startStage(.checkout, lease: lease)
                try await store.finishStage(.checkout, lease: lease, status: .succeeded, result: #"{"commit":"c"}"#)
                _ = try await store.startStage(.rewrite, lease: lease)
                try await store.finishStage(.rewrite, lease: lease, status: .failed, error: #"{"code":"X"}"#)
                #expect(try await store.retry(job.id)?.state == .running)  // not ended: unchanged
                try await store.finish(lease, state: .failed, error: #"{"code":"X"}"#)

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
                let lease = try #require(try await store.claim(owner: "a", lease: .seconds(30), timeout: .seconds(600))).lease
                #expect(try await store.reusableBuild(key: "k", excluding: reuser.id) == nil)
                try await store.setBuildKey("k", reusedFrom: nil, lease: lease)
                _ = try await store.startStage(.build, lease: lease)
                #expect(try await store.reusableBuild(key: "k", excluding: reuser.id) == nil)  // not built yet
                try await store.finishStage(.build, lease: lease, status: .succeeded, result: #"{"image":{}}"#)

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
        func withStore(_ body: (JobStore, PostgresPool) async throws -> Void) async throws {
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
                try await store.finish(claim.lease, state: .failed, error: #"{"code":"X"}"#)
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
