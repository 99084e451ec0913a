import Foundation
import Logging
import Postgres
import Records
import ServiceLifecycle
import Synchronization

/// The gateway's workers: up to `settings.workers` jobs at once, each claimed from
/// PostgreSQL under a lease token of its own and held by renewing that claim while it runs.
/// The renewal (every second, and at once when a cancel of the job is notified on
/// `JobStore.cancelChannel`) also reads the job's cancel flag and deadline, so a cancel sent
/// to any replica, or a timeout, reaches the worker running the job. A renewal that finds the
/// claim gone (the job was claimed again, perhaps by this process after an outage), or that
/// cannot reach the database for a whole lease, stops the run at once: its in-flight stage
/// call is cancelled and its stage run left for the new claim to adopt. On shutdown the
/// workers stop, leave their stage runs running, and release their leases so another replica
/// resumes at once.
public final class JobWorkers: Service, Sendable {
    private let store: JobStore
    private let services: StageServices
    private let settings: OrchestrationSettings
    private let owner: String
    private let logger: Logger
    private let active = Atomic<Int>(0)

    public init(store: JobStore, services: StageServices, settings: OrchestrationSettings, owner: String, logger: Logger) {
        self.store = store
        self.services = services
        self.settings = settings
        self.owner = owner
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    guard active.load(ordering: .relaxed) < settings.workers, let claim = await claimNext() else {
                        try? await Task.sleep(for: settings.pollInterval)
                        continue
                    }
                    active.add(1, ordering: .relaxed)
                    group.addTask { [self] in
                        await hold(claim)
                        active.subtract(1, ordering: .relaxed)
                    }
                }
            }
        }
        _ = try? await store.release(owner: owner)
        logger.info("job workers stopped; leases released")
    }

    private func claimNext() async -> JobClaim? {
        do {
            return try await store.claim(owner: owner, lease: settings.lease, timeout: settings.jobTimeout)
        } catch {
            logger.warning("claiming a job failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Runs the claimed job while renewing its lease; stops it when the lease is lost,
    /// a cancel is requested, or its deadline passes.
    private func hold(_ claim: JobClaim) async {
        let run = JobRun(job: claim.job, lease: claim.lease, store: store, services: services, settings: settings, logger: logger)
        logger.info(
            "job claimed",
            metadata: ["job.id": "\(claim.job.id.uuidString.lowercased())", "previous_owner": "\(claim.previousOwner ?? "-")"])
        await withTaskGroup(of: Void.self) { group in
            let work = Task { await run.execute() }
            group.addTask { await work.value }
            group.addTask { [self] in
                await watch(claim.lease, run: run, work: work)
            }
            await group.next()
            group.cancelAll()
            work.cancel()
        }
    }

    private func watch(_ lease: JobLease, run: JobRun, work: Task<Void, Never>) async {
        let interval = min(Duration.seconds(1), settings.lease / 3)
        let cancels = store.cancels(of: lease.jobID)
        defer { cancels.cancel() }
        // Measured on this process's monotonic clock from a renewal it saw succeed: the
        // database's lease (set by its own clock) ran out no later than that.
        var lastRenewed = ContinuousClock.now
        while !Task.isCancelled {
            await Self.sleep(for: interval, orUntil: cancels)
            if Task.isCancelled {
                // Shutting down: the job is handed over to another replica.
                run.stop(.handedOver)
                work.cancel()
                return
            }
            let renewal: LeaseRenewal?
            do {
                renewal = try await store.renew(lease, for: settings.lease)
                lastRenewed = .now
            } catch {
                if ContinuousClock.now - lastRenewed < settings.lease { continue }
                renewal = nil
            }
            guard let renewal else {
                run.stop(.handedOver)
                work.cancel()
                return
            }
            if renewal.cancelRequested || renewal.pastDeadline {
                run.stop(renewal.cancelRequested ? .cancelled : .timedOut)
                work.cancel()
                return
            }
        }
    }

    /// Returns after `interval`, or sooner when `subscription` is woken.
    private static func sleep(for interval: Duration, orUntil subscription: NotificationSubscription) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: interval) }
            group.addTask { await subscription.next() }
            await group.next()
            group.cancelAll()
        }
    }
}
