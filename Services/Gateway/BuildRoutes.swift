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
            let text = String(decoding: try JSONResponse<BuildJobRequest>.encoder.encode(body), as: UTF8.self)
            let stages: [StageName] = [.checkout, .rewrite, .build] + (body.push == nil ? [] : [.push])
            let job = try await store.create(
                workload: body.workload, service: body.service, request: try Redaction.redact(jsonText: text),
                stages: stages, dryRun: dryRunAlways || body.dryRun == true)
            var response = try JSONResponse(try JobBody(job, stages: try await store.stages(of: job.id)))
                .response(status: .accepted)
            response.headers[.location] = "/v1/jobs/\(job.id.uuidString.lowercased())"
            return response
        }
    }
}
