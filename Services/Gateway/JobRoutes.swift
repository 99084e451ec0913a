import Foundation
import HTTPTypes
import Hummingbird
import Records
import ServiceKit
import StageRuns

/// `GET /v1/jobs`, `GET /v1/jobs/{id}`, `GET /v1/jobs/{id}/events`,
/// `POST /v1/jobs/{id}/cancel`, `POST /v1/jobs/{id}/retry`.
struct JobRoutes: Sendable {
    let store: JobStore
    let secrets: JobSecretsGate
    var pollInterval: Duration = .milliseconds(250)

    func register(on router: Router<ServiceRequestContext>) {
        router.get("/v1/jobs") { request, _ in
            try await list(request)
        }
        router.get("/v1/jobs/{id}") { _, context in
            let read = try await store.jobWithStages(in: context)
            return try JobBody(read.job, stages: read.stages).response()
        }
        router.post("/v1/jobs/{id}/cancel") { _, context in
            let job = try await store.job(in: context)
            guard !job.state.isTerminal, let updated = try await store.requestCancel(job.id) else {
                throw ServiceError(.conflict, code: "JOB_ENDED", detail: "the job already ended (\(job.state.rawValue))")
            }
            return JSONResponse(try await body(of: updated), status: .accepted)
        }
        router.post("/v1/jobs/{id}/retry") { request, context in
            let job = try await store.job(in: context)
            var request = request
            let given =
                try await request.collectBody(upTo: context.maxBodyBytes).readableBytes == 0
                ? nil : try await request.decodeJSON(as: JobSecretsGate.RetryBody.self, context: context)
            guard job.state == .failed || job.state == .cancelled,
                let updated = try await store.retry(job.id, secrets: try secrets.sealForRetry(of: job, given: given)),
                updated.state == .queued
            else {
                throw ServiceError(
                    .conflict, code: "JOB_NOT_RETRYABLE",
                    detail: "only a failed or cancelled job can be retried; this one is \(job.state.rawValue)")
            }
            return JSONResponse(try await body(of: updated), status: .accepted)
        }
        router.get("/v1/jobs/{id}/events") { request, context in
            let id = try await store.job(in: context).id
            return EventStream(
                after: EventStream<JobEventBody>.after(in: request), pollInterval: pollInterval, seq: \.seq,
                ended: { [store] in try await store.job(id)?.state.isTerminal ?? true },
                fetch: { [store] after in try await store.events(of: id, after: after).map(JobEventBody.init) },
                changes: store.changes(of: id)
            ).response(to: request)
        }
    }

    private func list(_ request: Request) async throws -> JSONResponse<JobPage> {
        let query = request.uri.queryParameters
        let limitText = query.get("limit").map({ String($0) })
        guard let limit = limitText.map({ Int($0) }) ?? 50, (1...500).contains(limit) else {
            throw ServiceError.badRequest("limit must be a number from 1 to 500", code: "INVALID_LIMIT")
        }
        var state: JobState?
        if let text = query.get("state").map({ String($0) }) {
            guard let parsed = JobState(rawValue: text) else {
                throw ServiceError.badRequest(
                    "state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))", code: "INVALID_STATE")
            }
            state = parsed
        }
        var after: UUID?
        if let cursor = query.get("cursor").map({ String($0) }) {
            guard let id = UUID(uuidString: cursor) else {
                throw ServiceError.badRequest("cursor must be a next_cursor this API gave", code: "INVALID_CURSOR")
            }
            after = id
        }
        let jobs = try await store.list(
            workload: query.get("workload").map({ String($0) }), service: query.get("service").map({ String($0) }),
            state: state, limit: limit + 1, after: after)
        let page = Array(jobs.prefix(limit))
        let stages = try await store.stages(of: page.map(\.id))
        let bodies = try page.map { try JobBody($0, stages: stages[$0.id] ?? []) }
        return JSONResponse(
            JobPage(jobs: bodies, nextCursor: jobs.count > limit ? page.last?.id.uuidString.lowercased() : nil))
    }

    private func body(of job: Job) async throws -> JobBody {
        try JobBody(job, stages: try await store.stages(of: job.id))
    }
}
