import GatewayAPI
import Records
import ServiceKit

extension GatewayHandlers {
    /// `POST /v1/builds`: records a job and answers 202 with it; the workers run it.
    func submitBuild(_ input: Operations.SubmitBuild.Input) async throws -> Operations.SubmitBuild.Output {
        guard case .json(let body) = input.body else { throw ServiceError.badRequest("expected a JSON body") }
        let (created, recorded) = try await submission.submit(body)
        let job = try Components.Schemas.Job(created.job, stages: created.stages, written: recorded)
        return .accepted(.init(headers: .init(location: "/v1/jobs/\(job.id)"), body: .json(job)))
    }
}
