import Foundation
import GatewayAPI
import HTTPTypes
import OpenAPIRuntime
import Records
import ServiceKit
import StageRuns

/// `GET /v1/jobs`, `GET /v1/jobs/{id}`, `GET /v1/jobs/{id}/events`, `POST /v1/jobs/{id}/cancel`,
/// `POST /v1/jobs/{id}/retry`.
extension GatewayHandlers {
    func listJobs(_ input: Operations.ListJobs.Input) async throws -> Operations.ListJobs.Output {
        let query = input.query
        let limit = query.limit ?? 50
        guard (1...500).contains(limit) else {
            throw ServiceError.badRequest("limit must be a number from 1 to 500", code: "INVALID_LIMIT")
        }
        var after: UUID?
        if let cursor = query.cursor {
            guard let id = UUID(uuidString: cursor) else {
                throw ServiceError.badRequest("cursor must be a next_cursor this API gave", code: "INVALID_CURSOR")
            }
            after = id
        }
        let jobs = try await store.list(
            workload: query.workload, service: query.service, state: try query.state.map(Self.state), limit: limit + 1,
            after: after)
        let page = Array(jobs.prefix(limit))
        let stages = try await store.stages(of: page.map(\.id))
        let bodies = try page.map { try Components.Schemas.Job($0, stages: stages[$0.id] ?? []) }
        let next = jobs.count > limit ? page.last?.id.uuidString.lowercased() : nil
        return .ok(.init(body: .json(.init(jobs: bodies, nextCursor: next))))
    }

    func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        let read = try await store.jobWithStages(named: input.path.id)
        return .ok(.init(body: .json(try Components.Schemas.Job(read.job, stages: read.stages))))
    }

    func cancelJob(_ input: Operations.CancelJob.Input) async throws -> Operations.CancelJob.Output {
        let job = try await store.job(named: input.path.id)
        guard !job.state.isTerminal, let updated = try await store.requestCancel(job.id) else {
            throw ServiceError(.conflict, code: "JOB_ENDED", detail: "the job already ended (\(job.state.rawValue))")
        }
        return .accepted(.init(body: .json(try await body(of: updated))))
    }

    func retryJob(_ input: Operations.RetryJob.Input) async throws -> Operations.RetryJob.Output {
        let job = try await store.job(named: input.path.id)
        var given = BuildSecrets()
        if case .json(let body) = input.body {
            given = BuildSecrets(buildArgs: body.secretBuildArgs?.additionalProperties ?? [:], files: body.secrets?.additionalProperties ?? [:])
        }
        guard job.state == .failed || job.state == .cancelled,
            let updated = try await store.retry(job.id, secrets: try secrets.sealForRetry(of: job, given: given)),
            updated.state == .queued
        else {
            throw ServiceError(
                .conflict, code: "JOB_NOT_RETRYABLE",
                detail: "only a failed or cancelled job can be retried; this one is \(job.state.rawValue)")
        }
        return .accepted(.init(body: .json(try await body(of: updated))))
    }

    /// The log, replayed after `after` (or an `EventSource`'s `Last-Event-ID`), then followed
    /// until the job ends: NDJSON, or Server-Sent Events when the request accepts them.
    func getJobEvents(_ input: Operations.GetJobEvents.Input) async throws -> Operations.GetJobEvents.Output {
        let id = try await store.job(named: input.path.id).id
        let sse = input.headers.accept.contains { $0.contentType == .textEventStream }
        let body = EventStream(
            after: Int64(input.query.after ?? input.headers.lastEventID ?? 0), pollInterval: pollInterval,
            seq: { Int64($0.seq) },
            ended: { [store] in try await store.job(id)?.state.isTerminal ?? true },
            fetch: { [store] after in try await store.events(of: id, after: after).map(Components.Schemas.JobEvent.init) },
            changes: store.changes(of: id)
        ).httpBody(serverSentEvents: sse)
        return .ok(
            .init(headers: .init(cacheControl: "no-cache"), body: sse ? .textEventStream(body) : .applicationXNdjson(body)))
    }

    private func body(of job: Job) async throws -> Components.Schemas.Job {
        try Components.Schemas.Job(job, stages: try await store.stages(of: job.id))
    }

    private static func state(_ state: Components.Schemas.JobState) throws -> JobState {
        guard let parsed = JobState(rawValue: state.rawValue) else {
            throw ServiceError.badRequest(
                "state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))", code: "INVALID_STATE")
        }
        return parsed
    }
}

extension Components.Schemas.JobEvent {
    /// One line of `GET /v1/jobs/{id}/events` (the record's kinds and stage names are the spec's).
    init(_ event: Records.JobEvent) {
        self.init(
            seq: Int(event.seq), at: event.at, kind: KindPayload(rawValue: event.kind.rawValue) ?? .log,
            stage: event.stage.flatMap { StagePayload(rawValue: $0.rawValue) }, stream: event.stream, message: event.message)
    }
}
