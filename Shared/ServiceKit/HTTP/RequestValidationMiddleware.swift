import Foundation
import HTTPTypes
import Hummingbird
import RequestValidation

/// Refuses a request that breaks its operation's limits in the service's spec (parameters,
/// and JSON bodies), with the operation's stable code, before any handler sees it. Only
/// bodies of operations whose spec takes `application/json` are read (whatever the request's
/// `Content-Type` says, as the routes decode them so; they are already bounded by
/// `BodyLimitMiddleware`); streamed uploads (`application/octet-stream`) pass untouched.
public struct RequestValidationMiddleware<Context: BuildchainRequestContext>: RouterMiddleware {
    let validator: RequestValidator

    /// `spec`: the service's bundled spec, `OpenAPIDocument.json` of its generated module.
    public init(spec: String) throws {
        validator = try RequestValidator(spec: spec)
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let (operation, pathParameters) = validator.operation(method: request.method.rawValue, path: request.uri.path)
        else { return try await next(request, context) }
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters where query[String(name)] == nil {
            query[String(name)] = String(value)
        }
        let headers = request.headers
        if let violation = validator.violation(
            of: operation, pathParameters: pathParameters, query: query,
            header: { HTTPField.Name($0).flatMap { headers[$0] } })
        {
            throw ServiceError(violation)
        }
        guard operation.body != nil else { return try await next(request, context) }
        var request = request
        let body = try await request.collectBody(limitedBy: context)
        request.body = RequestBody(buffer: body)
        let (violation, parsed) = validator.check(operation, body: body.readableBytesView)
        if let violation { throw ServiceError(violation) }
        return try await CheckedRequestBody.$operationID.withValue(operation.id) {
            try await CheckedRequestBody.$parsed.withValue(parsed) { try await next(request, context) }
        }
    }
}

extension ServiceError {
    /// The refusal of a request that breaks a limit of the spec: the limit's status and code,
    /// a detail naming the field and the limit (never the value), and `extensions.field`, `.limit`.
    public init(_ violation: Violation) {
        let known: [HTTPResponse.Status] = [.badRequest, .unauthorized, .forbidden, .notFound, .conflict, .unprocessableContent]
        let status = known.first { $0.code == violation.problem.status } ?? HTTPResponse.Status(code: violation.problem.status)
        self.init(status, code: violation.problem.code, detail: violation.description, extensions: violation.extensions)
    }
}
