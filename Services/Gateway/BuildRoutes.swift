import Foundation
import HTTPTypes
import Hummingbird
import Records
import ServiceKit

/// `POST /v1/builds`: records a job and answers 202 with it; the workers run it. A dry run
/// (asked for, or every request when `dryRunAlways`) is recorded and ended, never run.
struct BuildRoutes: Sendable {
    let store: JobStore
    let secrets: JobSecretsGate
    var dryRunAlways = false

    func register(on router: Router<ServiceRequestContext>) {
        router.post("/v1/builds") { request, context in
            let body = try await request.decodeJSON(as: BuildJobRequest.self, context: context)
            let created = try await JobSubmission(store: store, secrets: secrets, dryRunAlways: dryRunAlways).submit(body)
            var response = try JobBody(created.job, stages: created.stages).response(status: .accepted)
            response.headers[.location] = "/v1/jobs/\(created.job.id.uuidString.lowercased())"
            return response
        }
    }
}
