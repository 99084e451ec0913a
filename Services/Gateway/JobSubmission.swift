import Foundation
import GatewayAPI
import HTTPTypes
import Records
import RequestValidation
import ServiceKit

/// Validates a build request and records its job (what `POST /v1/builds` and the webhooks do).
struct JobSubmission: Sendable {
    let store: JobStore
    let secrets: JobSecretsGate
    var dryRunAlways = false

    /// The limits openapi/gateway.yaml writes on `POST /v1/builds`, for requests that do not
    /// arrive as its body (a webhook's mapped builds); the body itself is checked before the route.
    static let limits: (validator: RequestValidator, operation: SpecOperation) = {
        do {
            let validator = try RequestValidator(spec: OpenAPIDocument.json)
            guard let (operation, _) = validator.operation(method: "POST", path: "/v1/builds") else {
                preconditionFailure("openapi/gateway.yaml has no POST /v1/builds")
            }
            return (validator, operation)
        } catch {
            preconditionFailure("openapi/gateway.yaml does not compile: \(error)")
        }
    }()

    /// Throws the 400 `INVALID_BUILD` problem naming the field when `body` is not a valid request:
    /// one outside the spec's limits, or one the spec cannot call wrong (a path leaving the repository…).
    /// The spec's limits are checked here unless `body` is the `POST /v1/builds` body that
    /// `RequestValidationMiddleware` checked against them before the route (encoding it again
    /// to check it twice was a tenth of a submit's CPU).
    static func validate(_ body: BuildJobRequest) throws {
        if CheckedRequestBody.operationID != Self.limits.operation.id {
            let json = try JSONResponse<BuildJobRequest>.encoder.encode(body)
            if let violation = Self.limits.validator.violation(of: Self.limits.operation, body: json) {
                throw ServiceError(violation)
            }
        }
        do {
            try body.validate()
        } catch {
            throw ServiceError(
                .badRequest, code: "INVALID_BUILD", detail: "\(error.field) \(error.reason)",
                extensions: ["field": error.field])
        }
    }

    /// Records the job; answers it with its stages as inserted and the request as recorded
    /// (what the 202 shows).
    func submit(_ body: BuildJobRequest) async throws -> (created: JobWithStages, request: RecordedRequest) {
        try Self.validate(body)
        // The job runs from this record, so it holds the request as given, but for the
        // declared secrets: their values are sealed apart and recorded as `***`.
        let id = UUID.random()
        let dryRun = dryRunAlways || body.dryRun == true
        let sealed = try secrets.seal(body, for: id)
        let recorded = BuildSecrets.recorded(body)
        let text = BuildRequestJSON.text(of: recorded)
        let stages: [StageName] = [.checkout, .rewrite, .build] + (body.push == nil ? [] : [.push])
        let created = try await store.createWithStages(
            id: id, workload: body.workload, service: body.service, request: text, stages: stages, dryRun: dryRun,
            secrets: dryRun ? nil : sealed)
        return (created, RecordedRequest(value: recorded, json: text))
    }
}

/// A submit's request as its job records it: the value, and its JSON as the contract's
/// `JSONEncoder` writes it (`BuildRequestJSON`; the text in the job's row).
struct RecordedRequest: Sendable {
    let value: BuildJobRequest
    let json: String
}
