import ArtifactAPI
import BuildAPI
import CheckoutAPI
import Digests
import Foundation
import GatewayAPI
import HTTPClient
import Logging
import Records
import RequestValidation
import RewriteAPI
import ServiceKit
import StageClients
import Synchronization

/// Why a worker stopped a job before its stages finished.
public enum JobStopReason: Sendable, Equatable {
    /// Someone asked (`POST /v1/jobs/{id}/cancel`): the running stage is cancelled on its service.
    case cancelled
    /// The job ran past its deadline: as cancelled, but it fails with TIMEOUT.
    case timedOut
    /// Another gateway holds the job now, or this one is shutting down: the stage's run is left
    /// running for whoever resumes the job to adopt.
    case handedOver
}

/// One claimed job, run stage by stage by the gateway that holds its lease.
///
/// A stage already succeeded is not run again: its recorded result feeds the next stages.
/// A stage found running with a run id (its gateway died) is adopted: its run is followed
/// to the end instead of starting a second one.
final class JobRun: Sendable {
    let job: Job
    /// This claim of the job: every write of the run is fenced on its token.
    private let lease: JobLease
    private let store: JobStore
    private let services: StageServices
    private let settings: OrchestrationSettings
    private let logger: Logger
    private let stopReason = Mutex<JobStopReason?>(nil)
    /// Masks the job's secret values in all it writes; set once they are opened.
    private let masker = Mutex(SecretMasker.none)

    init(
        job: Job, lease: JobLease, store: JobStore, services: StageServices, settings: OrchestrationSettings,
        logger: Logger
    ) {
        self.job = job
        self.lease = lease
        self.store = store
        self.services = services
        self.settings = settings
        var logger = logger
        logger[metadataKey: "job.id"] = "\(job.id.uuidString.lowercased())"
        self.logger = logger
    }

    /// Marks why the job's task is about to be cancelled; the first reason given wins.
    func stop(_ reason: JobStopReason) {
        stopReason.withLock { if $0 == nil { $0 = reason } }
    }

    func execute() async {
        do {
            let request = try JSONDecoder().decode(BuildJobRequest.self, from: Data(job.request.utf8))
            let secrets = try await openSecrets(declaredBy: request)
            masker.withLock { $0 = secrets.masker }
            var progress = JobProgress()
            for stage in try await store.stages(of: job.id) {
                if stage.status == .succeeded {
                    try progress.absorb(stage.name, result: try JSONNode(parsing: stage.result ?? "null"))
                    continue
                }
                try Task.checkCancellation()
                let result = try await run(stage, request: request, secrets: secrets, progress: progress)
                try progress.absorb(stage.name, result: result)
            }
            if let key = settings.provenanceKey {
                progress.provenance = try await ProvenanceRecorder(key: key, builderID: settings.provenanceBuilderID, services: services)
                    .record(jobID: job.id, request: request, progress: progress, stages: try await store.stages(of: job.id),
                            driver: settings.builder, masker: masker.withLock { $0 })
            }
            let result = try masked(json: progress.jobResult().text())
            try await shielded { [self] in
                try await store.finish(lease, state: .succeeded, result: result)
            }
            logger.info("job succeeded")
        } catch {
            if Task.isCancelled || error is CancellationError {
                await endStopped()
                return
            }
            switch error {
            case let failure as StageFailure:
                await end(failing: failure)
            case let failure as RunFailure:
                await end(failing: StageFailure(stage: nil, failure: failure))
            case JobStoreError.leaseLost:
                logger.notice("job lease lost; another gateway resumes it")
            case is DecodingError:
                await end(
                    failing: StageFailure(
                        stage: nil, failure: RunFailure(code: "INTERNAL", message: "the job's record is unreadable", retryable: false)))
            default:
                // The database went away or the like: the lease runs out and a gateway resumes the job.
                logger.error("job run interrupted", metadata: ["error": "\(masked("\(error)"))"])
            }
        }
    }

    // MARK: one stage

    /// Runs the stage to success, retrying transient failures with backoff; throws
    /// `StageFailure` when it fails for good.
    private func run(
        _ stage: JobStage, request: BuildJobRequest, secrets: BuildSecrets, progress: JobProgress
    ) async throws -> JSONNode {
        var retries = 0
        var pending = try await leftRun(of: stage)
        while true {
            let failure: RunFailure
            do {
                if case let (runID, seen)? = pending {
                    pending = nil
                    try await store.log("adopting run \(runID.uuidString.lowercased()) left by the previous holder", stage: stage.name, lease: lease)
                    try await store.recordRun(runID, stage: stage.name, lease: lease)
                    let result = try await follow(runID, of: stage.name, seen: seen)
                    try await store.finishStage(
                        stage.name, lease: lease, status: .succeeded, result: try masked(json: result.text()))
                    return result
                }
                _ = try await store.startStage(stage.name, lease: lease)
                let result = try await perform(stage.name, request: request, secrets: secrets, progress: progress)
                try await store.finishStage(
                    stage.name, lease: lease, status: .succeeded, result: try masked(json: result.text()))
                return result
            } catch let caught as RunFailure {
                failure = caught
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as JobStoreError {
                throw error
            }
            // A call cut short by cancellation can surface as a failure of the call.
            if Task.isCancelled { throw CancellationError() }
            let final = !failure.retryable || retries >= settings.stageRetries
            try await store.finishStage(
                stage.name, lease: lease, status: .failed, error: try masked(json: JSONNode.encoding(failure).text()))
            if final { throw StageFailure(stage: stage.name, failure: failure) }
            retries += 1
            let wait = backoff(retry: retries)
            try await store.log(
                masked("\(failure.code): \(failure.message)") + "; retry \(retries) of \(settings.stageRetries) in \(wait.wholeMilliseconds) ms",
                stage: stage.name, lease: lease)
            try await Task.sleep(for: wait)
        }
    }

    /// The stage service's run a previous claim left for this stage (and how many of its
    /// events were copied): the one it recorded, or one started for this attempt whose id it
    /// could not record (the database went away between the call and the write).
    private func leftRun(of stage: JobStage) async throws -> (UUID, Int64)? {
        guard stage.status == .running else { return nil }
        if let runID = stage.runID { return (runID, stage.runEventsSeen) }
        return try await store.unrecordedRun(of: stage.name, jobID: job.id).map { ($0, 0) }
    }

    private func perform(
        _ stage: StageName, request: BuildJobRequest, secrets: BuildSecrets, progress: JobProgress
    ) async throws -> JSONNode {
        let lease = lease.token.uuidString.lowercased()
        let jobID = job.id.uuidString.lowercased()
        switch stage {
        case .checkout:
            return try await follow(.checkout) {
                try await services.checkout.call("startCheckout") {
                    try RemoteRun(
                        try await $0.startCheckout(
                            headers: .init(buildchainLeaseToken: lease),
                            body: .json(
                                .init(
                                    repository: request.repository.url, ref: request.repository.ref,
                                    contextPath: request.contextPath, dockerfilePath: request.dockerfilePath, jobId: jobID))
                        ).accepted.body.json)
                }
            }
        case .rewrite:
            let checkout = try progress.required(\.checkout, "checkout")
            let rewritten = try await services.rewrite.call("rewriteDockerfile") {
                try await $0.rewriteDockerfile(
                    body: .json(.init(dockerfile: checkout.dockerfile, buildArgs: .init(additionalProperties: request.buildArgs?.additionalProperties ?? [:])))
                ).ok.body.json
            }
            return try JSONNode.encoding(rewritten)
        case .build:
            return try await build(request: request, secrets: secrets, progress: progress)
        case .push:
            let build = try progress.required(\.build, "build")
            guard let destination = request.push?.destination else {
                throw RunFailure(code: "INVALID_BUILD", message: "the job has a push stage but no destination", retryable: false)
            }
            return try await follow(.push) {
                try await services.artifact.call("startPush") {
                    try RemoteRun(
                        try await $0.startPush(
                            headers: .init(buildchainLeaseToken: lease),
                            body: .json(.init(artifactKey: build.image.key, destination: destination, jobId: jobID))
                        ).accepted.body.json)
                }
            }
        }
    }

    /// Reuses the image of an earlier build with the same key when it is still stored (unless
    /// the request asks for a fresh build); builds otherwise.
    private func build(request: BuildJobRequest, secrets: BuildSecrets, progress: JobProgress) async throws -> JSONNode {
        let checkout = try progress.required(\.checkout, "checkout")
        let rewrite = try progress.required(\.rewrite, "rewrite")
        let key = BuildKey(
            commit: checkout.commit, contextPath: request.contextPath ?? ".", dockerfile: rewrite.dockerfile,
            buildArgs: rewrite.buildArgs, target: request.target, builder: settings.builder,
            secrets: settings.secretsKeyring.flatMap(secrets.mac(with:)))
        if request.fresh != true, let earlier = try await store.reusableBuild(key: key.value, excluding: job.id),
            let result = try? JSONNode(parsing: earlier.result),
            let image = try? result.decode(as: BuildOutcome.self).image,
            try await services.artifactExists(image.key)
        {
            try await store.setBuildKey(key.value, reusedFrom: earlier.jobID, lease: lease)
            try await store.log(
                "reusing the image of job \(earlier.jobID.uuidString.lowercased()) (same build key \(key.value))",
                stage: .build, lease: lease)
            return result.merging(["reused_from": .string(earlier.jobID.uuidString.lowercased())])
        }
        try await store.setBuildKey(key.value, reusedFrom: nil, lease: lease)
        guard let driver = BuildAPI.Operations.StartBuild.Input.Body.JsonPayload.DriverPayload(rawValue: settings.builder) else {
            throw RunFailure(code: "INVALID_BUILD", message: "the gateway's builder \(settings.builder) is no build driver", retryable: false)
        }
        let body = BuildAPI.Operations.StartBuild.Input.Body.JsonPayload(
            contextKey: checkout.context.key, dockerfile: rewrite.dockerfile, target: request.target,
            buildArgs: .init(additionalProperties: rewrite.buildArgs),
            secretBuildArgs: secrets.buildArgs.isEmpty ? nil : .init(additionalProperties: secrets.buildArgs),
            secrets: secrets.files.isEmpty ? nil : .init(additionalProperties: secrets.files),
            workload: request.workload, service: request.service, cache: request.cache ?? true,
            mirrors: request.mirrors ?? true, driver: driver, destination: request.push?.destination,
            imageKey: "images/\(request.workload)/\(request.service)/\(job.id.uuidString.lowercased()).tar",
            commit: checkout.commit, jobId: job.id.uuidString.lowercased())
        let lease = lease.token.uuidString.lowercased()
        return try await follow(.build) {
            try await services.build.call("startBuild") {
                try RemoteRun(try await $0.startBuild(headers: .init(buildchainLeaseToken: lease), body: .json(body)).accepted.body.json)
            }
        }
    }

    // MARK: runs on stage services

    /// Starts a run on the stage's service under this claim's lease token (the service records
    /// it only while the claim holds the job), records its id, and follows it to the end.
    private func follow(_ stage: StageName, startedBy start: () async throws -> RemoteRun) async throws -> JSONNode {
        let run = try await start()
        try await store.recordRun(run.id, stage: stage, lease: lease)
        return try await follow(run.id, of: stage, seen: 0)
    }

    /// Follows the run's events into the job's log until it ends; its result when it
    /// succeeded, its failure otherwise. A run whose heartbeat stops (its service died) is
    /// ended as abandoned: a retryable RUN_ABANDONED failure. Cancelling the task cancels the run on its
    /// service unless the job is being handed over.
    private func follow(_ runID: UUID, of stage: StageName, seen: Int64) async throws -> JSONNode {
        let client = try services.runs(of: stage)
        var seen = seen
        var unreachableSince: ContinuousClock.Instant?
        do {
            while true {
                do {
                    try await client.followEvents(runID, after: seen) { events in
                        let events = events.map { CopiedEvent(seq: $0.seq, kind: $0.kind, stream: $0.stream, message: masked($0.message)) }
                        try await store.copyRunEvents(events, stage: stage, lease: lease)
                        seen = events.last?.seq ?? seen
                    }
                    let run = try await client.run(runID)
                    unreachableSince = nil
                    switch run.status {
                    case .succeeded: return run.result ?? .null
                    case .failed, .cancelled:
                        throw run.error ?? RunFailure(code: "STAGE_FAILED", message: "\(client.name) run \(run.status.rawValue)", retryable: false)
                    case .queued, .running:
                        try await closeIfAbandoned(runID)
                    }
                } catch let failure as RunFailure where failure.code == "SERVICE_UNAVAILABLE" {
                    try await closeIfAbandoned(runID)
                    let since = unreachableSince ?? .now
                    unreachableSince = since
                    if ContinuousClock.now - since > settings.runStaleAfter { throw failure }
                }
                try await Task.sleep(for: .seconds(1))
            }
        } catch {
            // A call cut short by cancellation may surface as any failure of that call.
            guard Task.isCancelled || error is CancellationError else { throw error }
            if stopReason.withLock({ $0 }) != .handedOver {
                await shielded { await client.cancel(runID) }
            }
            throw CancellationError()
        }
    }

    /// Ends the run as `RUN_ABANDONED` when its heartbeat is older than `runStaleAfter` by the
    /// database's clock (its service died, or could not record the run's end), and throws that
    /// failure, which retries the stage. The service's own replicas sweep such runs too; whoever
    /// comes first ends it.
    private func closeIfAbandoned(_ runID: UUID) async throws {
        let failure = RunFailure.abandoned(staleAfter: settings.runStaleAfter)
        let closed = try await store.runs.closeStale(
            olderThan: settings.runStaleAfter, id: runID, error: try JSONNode.encoding(failure).text())
        if !closed.isEmpty { throw failure }
    }

    // MARK: endings

    private func end(failing failure: StageFailure) async {
        logger.notice("job failed", metadata: ["code": "\(failure.failure.code)", "stage": "\(failure.stage?.rawValue ?? "-")"])
        try? await shielded { [self] in
            try await store.finish(lease, state: .failed, error: try masked(json: failure.document().text()))
        }
    }

    /// Records how a stopped job ended: cancelled, timed out, or (handed over) nothing at all.
    private func endStopped() async {
        let reason = stopReason.withLock { $0 } ?? .handedOver
        guard reason != .handedOver else { return }
        let failure =
            reason == .timedOut
            ? RunFailure(code: "TIMEOUT", message: "the job ran longer than \(settings.jobTimeout)", retryable: false)
            : RunFailure.cancelled()
        try? await shielded { [self] in
            let running = try await store.stages(of: job.id).filter { $0.status == .running }
            for stage in running {
                try await store.finishStage(
                    stage.name, lease: lease, status: .cancelled, error: try JSONNode.encoding(failure).text())
            }
            let document = try StageFailure(stage: running.first?.name, failure: failure).document()
            try await store.finish(
                lease, state: reason == .timedOut ? .failed : .cancelled, error: try document.text())
        }
    }

    // MARK: secrets

    /// The secret values the request declared (its record holds `***` for each), opened from
    /// their sealed copy; a job that declared none has none. Fails the job when they are gone
    /// or cannot be opened (the key was removed, the record altered).
    private func openSecrets(declaredBy request: BuildJobRequest) async throws -> BuildSecrets {
        let declared = BuildSecrets(of: request)
        guard !declared.isEmpty else { return declared }
        func unavailable(_ why: String) -> RunFailure {
            RunFailure(code: "SECRETS_UNAVAILABLE", message: "the job's secrets \(why)", retryable: false)
        }
        guard let keyring = settings.secretsKeyring else { throw unavailable("cannot be opened: this gateway has no SECRETS_KEY") }
        guard let sealed = try await store.sealedSecrets(of: job.id) else {
            throw unavailable("are gone (they are deleted when a job ends; a retry must give them again)")
        }
        let secrets: BuildSecrets
        do {
            secrets = try BuildSecrets(opening: sealed, with: keyring, for: job.id)
        } catch let error as SealingError {
            throw unavailable("cannot be opened: \(error)")
        }
        guard secrets.declaresTheSame(as: declared) else { throw unavailable("do not match the names the request declared") }
        return secrets
    }

    private func masked(_ text: String) -> String {
        masker.withLock { $0 }.mask(text)
    }

    private func masked(json text: String) throws -> String {
        try masker.withLock { $0 }.mask(jsonText: text)
    }

    private func backoff(retry: Int) -> Duration {
        let doubled = settings.retryBackoff * (1 << min(retry - 1, 16))
        return min(doubled, settings.maxRetryBackoff)
    }
}

/// Runs `body` outside the caller's cancellation, for the writes and calls that must happen
/// when a job is being stopped.
func shielded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await Task { try await body() }.value
}

func shielded(_ body: @escaping @Sendable () async -> Void) async {
    await Task { await body() }.value
}

/// A stage that failed for good, and the job error it becomes.
struct StageFailure: Error {
    var stage: StageName?
    var failure: RunFailure

    func document() throws -> JSONNode {
        try JSONNode.encoding(failure).merging(["stage": stage.map { .string($0.rawValue) } ?? .null])
    }
}
