import GatewayAPI
import Records
import ServiceKit

extension GatewayHandlers {
    /// `POST /v1/builds`: records a job and answers 202 with it; the workers run it.
    /// `SubmitFastPath` answers the plain form of it without the generated server, from `submitted`.
    func submitBuild(_ input: Operations.SubmitBuild.Input) async throws -> Operations.SubmitBuild.Output {
        guard case .json(let body) = input.body else { throw ServiceError.badRequest("expected a JSON body") }
        let (job, _) = try await submitted(body)
        return .accepted(.init(headers: .init(location: Self.location(of: job)), body: .json(job)))
    }

    /// The job a submit recorded, as its 202 shows it, and the JSON its request was recorded as
    /// (`JobSubmission.submit`).
    func submitted(_ body: BuildJobRequest) async throws -> (job: Components.Schemas.Job, recorded: RecordedRequest) {
        let (created, recorded) = try await submission.submit(body)
        return (try Components.Schemas.Job(created.job, stages: created.stages, written: recorded.value), recorded)
    }

    static func location(of job: Components.Schemas.Job) -> String { "/v1/jobs/\(job.id)" }
}
