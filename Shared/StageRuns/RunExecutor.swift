import Foundation
import Logging
import Postgres
import Records
import ServiceKit
import ServiceLifecycle
import StageClients
import Synchronization

/// Runs a service's long operations (checkouts, builds, pushes) as recorded
/// runs: each is a `stage_runs` row with its request (redacted), state,
/// result or failure, and log events.
///
/// Every run ends, and its end is recorded:
/// - the heartbeat refreshes only the runs whose work is live in this process (running, or
///   its end still being written), never all runs of the owner; a run the database no longer
///   shows as this owner's and queued or running (cancelled from another replica, closed as
///   abandoned) has its work stopped here. Such an end is also notified on
///   `RunStore.stopChannel`, which stops the work within a notification's delay; the
///   heartbeat is the fallback when a notification is lost;
/// - writing a run's end is retried with backoff through a database outage, for at most
///   `Settings.endWriteLimit`; then the run is let go: its heartbeat stops, and it goes stale;
/// - runs of this service whose heartbeat is older than `Settings.staleAfter` by the database's
///   clock are ended as failed, retryable, `RUN_ABANDONED`, by whichever replica sweeps first.
public final class RunExecutor: Service, Sendable {
    /// Read with the other common settings (`CommonConfiguration.runs`), so it lives in ServiceKit.
    public typealias Settings = RunSettings

    let store: RunStore
    let service: String
    private let owner: String
    private let logger: Logger
    private let settings: Settings
    /// The runs whose work is live here: what the heartbeat refreshes.
    private let tasks = Mutex<[UUID: Task<Void, Never>]>([:])
    private let stopping = Mutex(false)

    public init(store: RunStore, service: String, owner: String, logger: Logger, settings: Settings = Settings()) {
        self.store = store
        self.service = service
        self.owner = owner
        self.logger = logger
        self.settings = settings
    }

    /// Records a run of `kind` and starts `work` in the background. `work`
    /// returns the result document or throws a `RunFailure` (anything else
    /// is recorded as INTERNAL, without its text).
    /// With a `limiter`, the run stays queued until the limiter admits it. `masker` masks the
    /// run's secret values in everything recorded of it: request, log lines, result, failure.
    /// With `leaseToken` (the `Buildchain-Lease-Token` of a gateway's call), nothing is recorded
    /// or run unless that claim still holds job `jobID`: 409 `LEASE_LOST` otherwise.
    public func start<Request: Encodable & Sendable, Result: Encodable & Sendable>(
        kind: String, jobID: UUID?, leaseToken: UUID? = nil, request: Request, masker: SecretMasker = .none,
        limiter: RunLimiter? = nil, work: @escaping @Sendable (RunLog) async throws -> Result
    ) async throws -> StageRun {
        let requestText = String(decoding: try JSONResponse<Request>.encoder.encode(request), as: UTF8.self)
        let redacted = try Redaction.redact(jsonText: try masker.mask(jsonText: requestText))
        if leaseToken != nil && jobID == nil {
            throw ServiceError.badRequest("a lease token needs the job_id it is a lease of", code: "INVALID_LEASE_TOKEN")
        }
        let run: StageRun
        do {
            run = try await store.createRun(
                service: service, kind: kind, jobID: jobID, request: redacted, owner: owner, leaseToken: leaseToken)
        } catch RunStoreError.leaseLost {
            throw ServiceError.conflict(
                "the gateway's claim of job \(jobID?.uuidString.lowercased() ?? "-") no longer holds it; nothing was started",
                code: "LEASE_LOST")
        }
        let log = RunLog(store: store, runID: run.id, logger: logger, masker: masker)
        let stops = store.stops(of: run.id)
        let task = Task { [store, owner] in
            let watcher = Task { await self.stopWhenEndedElsewhere(run.id, woken: stops) }
            defer { watcher.cancel() }
            await limiter?.acquire()
            let end: RunEnd
            do {
                try Task.checkCancellation()
                try await store.markRunning(run.id, owner: owner)
                let result = try await work(log)
                end = .succeeded(String(decoding: try JSONResponse<Result>.encoder.encode(result), as: UTF8.self))
            } catch {
                end = self.end(for: error, of: run.id)
            }
            await limiter?.release()
            // Written from a task of its own: this one may be cancelled, and a cancelled
            // task's database calls are refused.
            await Task { await self.write(end, of: run.id, masker: masker) }.value
            _ = self.tasks.withLock { $0.removeValue(forKey: run.id) }
        }
        tasks.withLock { $0[run.id] = task }
        return run
    }

    /// Cancels a run: stops its work when it runs here, and records it cancelled whatever its
    /// work's state (running here or elsewhere, stuck, or gone with a dead process). The
    /// replica running it learns it at its next heartbeat and stops the work.
    public func cancel(_ id: UUID) async throws {
        tasks.withLock { $0[id] }?.cancel()
        do {
            try await store.markCancelled(id)
        } catch RunStoreError.invalidTransition {
            // It ended meanwhile (its own cancellation may have recorded it first).
        }
    }

    /// Waits for a run started here to finish (tests and shutdown).
    public func wait(for id: UUID) async {
        await tasks.withLock { $0[id] }?.value
    }

    /// The heartbeat loop, which also ends abandoned runs of this service; at shutdown, runs
    /// still executing are cancelled and recorded as INTERRUPTED.
    public func run() async throws {
        await repeatUntilShutdown(every: settings.heartbeatInterval, logger: logger, failure: "heartbeat failed") { [self] in
            try await heartbeat()
            try await closeAbandonedRuns()
        }
        stopping.withLock { $0 = true }
        let running = tasks.withLock { Array($0.values) }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    private func heartbeat() async throws {
        let live = tasks.withLock { Array($0.keys) }
        let held = try await store.heartbeat(runs: live, owner: owner)
        for id in live where !held.contains(id) { stopWork(of: id) }
    }

    /// Re-reads the run each time `woken` is notified (or polled while the listener is down)
    /// and stops its work here once the records show it ended, or held by another owner.
    private func stopWhenEndedElsewhere(_ id: UUID, woken: NotificationSubscription) async {
        defer { woken.cancel() }
        while true {
            await woken.next()
            if Task.isCancelled { return }
            guard let run = try? await store.run(id) else { continue }
            if run.status.isTerminal || run.owner != owner {
                stopWork(of: id)
                return
            }
        }
    }

    private func stopWork(of id: UUID) {
        guard let task = tasks.withLock({ $0[id] }) else { return }
        logger.notice("run ended elsewhere; stopping its work", metadata: ["run.id": "\(id)"])
        task.cancel()
    }

    private func closeAbandonedRuns() async throws {
        let failure = RunFailure.abandoned(staleAfter: settings.staleAfter)
        let text = String(decoding: try JSONResponse<RunFailure>.encoder.encode(failure), as: UTF8.self)
        for run in try await store.closeStale(olderThan: settings.staleAfter, service: service, error: text) {
            logger.notice("abandoned run failed", metadata: ["run.id": "\(run.id)", "owner": "\(run.owner ?? "-")"])
        }
    }

    /// How a run whose work threw ends.
    private func end(for error: any Error, of id: UUID) -> RunEnd {
        let interrupted = stopping.withLock { $0 }
        switch error {
        case RunStoreError.invalidTransition:
            // Cancelled or closed elsewhere before it started here.
            return .endedElsewhere
        case let known as RunFailure where !interrupted:
            return known.code == RunFailure.cancelled().code ? .cancelled : .failed(known)
        case _ where interrupted:
            return .failed(RunFailure(code: "INTERRUPTED", message: "the service stopped during the run", retryable: true))
        case is CancellationError:
            return .cancelled
        default:
            logger.error("run failed", metadata: ["run.id": "\(id)", "error": "\(String(reflecting: type(of: error)))"])
            return .failed(RunFailure(code: "INTERNAL", message: "the service failed to run this", retryable: true))
        }
    }

    /// Writes the run's end, retrying through a database outage with backoff until
    /// `endWriteLimit`; an end the database refuses is replaced once by an INTERNAL failure.
    /// Returning lets the run go: the caller removes it from the heartbeat.
    private func write(_ end: RunEnd, of id: UUID, masker: SecretMasker) async {
        var end = end
        let deadline = ContinuousClock.now + settings.endWriteLimit
        var wait = Duration.milliseconds(250)
        while true {
            do {
                switch end {
                case .succeeded(let result): try await store.markSucceeded(id, result: try masker.mask(jsonText: result))
                case .failed(let failure):
                    let text = String(decoding: try JSONResponse<RunFailure>.encoder.encode(failure), as: UTF8.self)
                    try await store.markFailed(id, error: try masker.mask(jsonText: text))
                case .cancelled: try await store.markCancelled(id)
                case .endedElsewhere: return
                }
                return
            } catch RunStoreError.invalidTransition(_, let from, _) {
                logger.notice("the run had already ended", metadata: ["run.id": "\(id)", "status": "\(from.rawValue)"])
                return
            } catch let error as PostgresError where error.isTransient {
                let stopping = stopping.withLock { $0 }
                guard !stopping, ContinuousClock.now + wait < deadline else {
                    logger.error(
                        "could not record the end of a run; letting it go",
                        metadata: ["run.id": "\(id)", "error": "\(error)", "limit": "\(settings.endWriteLimit)"])
                    return
                }
                logger.warning("recording the end of a run failed; retrying", metadata: ["run.id": "\(id)", "error": "\(error)"])
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, settings.heartbeatInterval)
            } catch {
                let unrecordable = RunFailure(
                    code: "INTERNAL", message: "the end of this run could not be recorded", retryable: true)
                logger.error("the database refused the end of a run", metadata: ["run.id": "\(id)", "error": "\(error)"])
                guard end != .failed(unrecordable) else { return }
                end = .failed(unrecordable)
            }
        }
    }
}

/// How a run ended here, to be recorded.
private enum RunEnd: Equatable {
    case succeeded(String)
    case failed(RunFailure)
    case cancelled
    /// Already ended in the records by someone else: nothing to write.
    case endedElsewhere
}

/// Appends log lines to a run's events.
public struct RunLog: Sendable {
    let store: RunStore
    public let runID: UUID
    let logger: Logger
    var masker: SecretMasker = .none

    public func line(_ message: String, stream: String = "stdout") async {
        do {
            try await store.appendEvent(runID: runID, kind: .log, stream: stream, message: masker.mask(message))
        } catch {
            logger.warning("could not record a log line", metadata: ["run.id": "\(runID)"])
        }
    }
}
