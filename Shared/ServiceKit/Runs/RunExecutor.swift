import Foundation
import Logging
import Records
import ServiceLifecycle
import Synchronization

/// Runs a service's long operations (checkouts, builds, pushes) as recorded
/// runs: each is a `stage_runs` row with its request (redacted), state,
/// result or failure, and log events; a heartbeat marks the runs this
/// instance holds, so a crashed instance's runs show up stale.
public final class RunExecutor: Service, Sendable {
    private let store: RunStore
    private let service: String
    private let owner: String
    private let logger: Logger
    private let heartbeatInterval: Duration
    private let tasks = Mutex<[UUID: Task<Void, Never>]>([:])
    private let stopping = Mutex(false)

    public init(
        store: RunStore, service: String, owner: String, logger: Logger, heartbeatInterval: Duration = .seconds(5)
    ) {
        self.store = store
        self.service = service
        self.owner = owner
        self.logger = logger
        self.heartbeatInterval = heartbeatInterval
    }

    /// Records a run of `kind` and starts `work` in the background. `work`
    /// returns the result document or throws a `RunFailure` (anything else
    /// is recorded as INTERNAL, without its text).
    /// With a `limiter`, the run stays queued until the limiter admits it. `masker` masks the
    /// run's secret values in everything recorded of it: request, log lines, result, failure.
    public func start<Request: Encodable & Sendable, Result: Encodable & Sendable>(
        kind: String, jobID: UUID?, request: Request, masker: SecretMasker = .none, limiter: RunLimiter? = nil,
        work: @escaping @Sendable (RunLog) async throws -> Result
    ) async throws -> StageRun {
        let requestText = String(decoding: try JSONResponse<Request>.encoder.encode(request), as: UTF8.self)
        let redacted = try Redaction.redact(jsonText: try masker.mask(jsonText: requestText))
        let run = try await store.createRun(
            service: service, kind: kind, jobID: jobID, request: redacted, owner: owner)
        let log = RunLog(store: store, runID: run.id, logger: logger, masker: masker)
        let task = Task { [store, owner] in
            await limiter?.acquire()
            do {
                try Task.checkCancellation()
                try await store.markRunning(run.id, owner: owner)
                let result = try await work(log)
                let text = String(decoding: try JSONResponse<Result>.encoder.encode(result), as: UTF8.self)
                try await store.markSucceeded(run.id, result: try masker.mask(jsonText: text))
            } catch {
                // Recorded from a task of its own: this one may be cancelled, and a cancelled
                // task's database calls are refused.
                await Task { await self.recordFailure(error, of: run.id, masker: masker) }.value
            }
            await limiter?.release()
            _ = self.tasks.withLock { $0.removeValue(forKey: run.id) }
        }
        tasks.withLock { $0[run.id] = task }
        return run
    }

    /// Cancels a run this instance is executing. Returns false when it is not running here.
    public func cancel(_ id: UUID) -> Bool {
        guard let task = tasks.withLock({ $0[id] }) else { return false }
        task.cancel()
        return true
    }

    /// Waits for a run started here to finish (tests and shutdown).
    public func wait(for id: UUID) async {
        await tasks.withLock { $0[id] }?.value
    }

    /// The heartbeat loop, which also fails the runs of this service whose instance died
    /// (no heartbeat for six intervals) with a retryable INTERRUPTED; at shutdown, runs still
    /// executing are cancelled and recorded the same way.
    public func run() async throws {
        await repeatUntilShutdown(every: heartbeatInterval, logger: logger, failure: "heartbeat failed") { [self] in
            try await store.heartbeat(owner: owner)
            try await failAbandonedRuns()
        }
        stopping.withLock { $0 = true }
        let running = tasks.withLock { Array($0.values) }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    private func failAbandonedRuns() async throws {
        for run in try await store.staleRuns(olderThan: heartbeatInterval * 6, service: service) {
            let failure = RunFailure(
                code: "INTERRUPTED", message: "the instance running this (\(run.owner ?? "unknown")) stopped", retryable: true)
            let text = String(decoding: try JSONResponse<RunFailure>.encoder.encode(failure), as: UTF8.self)
            // Another replica may sweep the same run first; losing that race is fine.
            _ = try? await store.markFailed(run.id, error: text)
            logger.notice("abandoned run failed", metadata: ["run.id": "\(run.id)", "owner": "\(run.owner ?? "-")"])
        }
    }

    private func recordFailure(_ error: any Error, of id: UUID, masker: SecretMasker) async {
        do {
            let failure: RunFailure
            let interrupted = stopping.withLock { $0 }
            switch error {
            case let known as RunFailure where !interrupted: failure = known
            case _ where interrupted:
                failure = RunFailure(code: "INTERRUPTED", message: "the service stopped during the run", retryable: true)
            case is CancellationError: failure = .cancelled()
            default:
                logger.error("run failed", metadata: ["run.id": "\(id)", "error": "\(String(reflecting: type(of: error)))"])
                failure = RunFailure(code: "INTERNAL", message: "the service failed to run this", retryable: true)
            }
            if failure.code == "CANCELLED" {
                try await store.markCancelled(id)
            } else {
                let text = String(decoding: try JSONResponse<RunFailure>.encoder.encode(failure), as: UTF8.self)
                try await store.markFailed(id, error: try masker.mask(jsonText: text))
            }
        } catch {
            logger.error("could not record the end of a run", metadata: ["run.id": "\(id)", "error": "\(error)"])
        }
    }
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
