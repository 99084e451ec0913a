import Foundation
import HTTPTypes
import Hummingbird
import Orchestration
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
            do {
                try body.validate()
            } catch let error as InvalidBuildRequest {
                throw ServiceError(
                    .badRequest, code: "INVALID_BUILD", detail: "\(error.field) \(error.reason)",
                    extensions: ["field": error.field])
            }
            // The job runs from this record, so it holds the request as given, but for the
            // declared secrets: their values are sealed apart and recorded as `***`.
            let id = UUID()
            let dryRun = dryRunAlways || body.dryRun == true
            let sealed = try secrets.seal(body, for: id)
            let text = String(decoding: try JSONResponse<BuildJobRequest>.encoder.encode(BuildSecrets.recorded(body)), as: UTF8.self)
            let stages: [StageName] = [.checkout, .rewrite, .build] + (body.push == nil ? [] : [.push])
            let job = try await store.create(
                id: id, workload: body.workload, service: body.service, request: text, stages: stages, dryRun: dryRun,
                secrets: dryRun ? nil : sealed)
            var response = try JSONResponse(try JobBody(job, stages: try await store.stages(of: job.id)))
                .response(status: .accepted)
            response.headers[.location] = "/v1/jobs/\(job.id.uuidString.lowercased())"
            return response
        }
    }
}
