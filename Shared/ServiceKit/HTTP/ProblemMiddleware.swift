import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime

/// Turns every error thrown below it, Hummingbird's own included (unknown
/// route, body too large, undecodable JSON), into a problem+json response.
/// A dependency away for a moment (`TransientDependencyError`) is a 503 with
/// `Retry-After`. Unexpected errors become a 500 whose body says nothing of the
/// cause; the cause is logged with the request id.
public struct ProblemMiddleware<Context: ServiceContextProtocol>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var problem = Self.problem(for: error, logger: context.logger)
            problem.instance = request.uri.path
            problem.requestID = context.requestID
            var response = Self.response(problem)
            if Self.transient(error) != nil { response.headers[.retryAfter] = "\(Self.retryAfterSeconds)" }
            return response
        }
    }

    /// How long a caller should wait before sending again a request a dependency's outage failed:
    /// a restarting PostgreSQL is back within a second or two, and the pool reconnects at once.
    static var retryAfterSeconds: Int { 1 }

    /// The error, or the one a generated handler wrapped, when it is a dependency away for a moment.
    static func transient(_ error: any Error) -> (any TransientDependencyError)? {
        let underlying = (error as? ServerError)?.underlyingError ?? error
        guard let transient = underlying as? any TransientDependencyError, transient.isTransient else { return nil }
        return transient
    }

    static func problem(for error: any Error, logger: Logger) -> ProblemDetails {
        if let transient = transient(error) {
            logger.warning("request failed: a dependency is unavailable", metadata: ["error": "\(transient)"])
            return ProblemDetails(
                status: 503, code: "UNAVAILABLE", title: "Service Unavailable",
                detail: "\(transient.dependency) is unavailable for the moment; send the request again after Retry-After seconds")
        }
        switch error {
        case let error as ServiceError:
            return error.problem
        case let error as ServerError:
            return contractProblem(error, logger: logger)
        case let error as HTTPError:
            let code = Self.code(for: error.status)
            if error.status.code >= 500 { logger.error("request failed", metadata: ["error": "\(error)"]) }
            return ProblemDetails(
                status: Int(error.status.code), code: code, title: error.status.reasonPhrase,
                detail: error.body ?? defaultDetail(for: error.status))
        case let error as any HTTPResponseError:
            // NIO's and Hummingbird's own, such as `NIOTooManyBytesError` from a body collected
            // past its limit: the status they carry, not a 500.
            if error.status.code >= 500 { logger.error("request failed", metadata: ["error": "\(error)"]) }
            return ProblemDetails(
                status: Int(error.status.code), code: Self.code(for: error.status), title: error.status.reasonPhrase,
                detail: defaultDetail(for: error.status))
        case is DecodingError:
            return ProblemDetails(
                status: 400, code: "INVALID_JSON", title: "Bad Request",
                detail: "the request body is not valid JSON for this endpoint")
        default:
            logger.error("request failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return ProblemDetails(
                status: 500, code: "INTERNAL", title: "Internal Server Error",
                detail: "the service failed to handle the request")
        }
    }

    /// A generated handler wraps what it throws: a handler's own `ServiceError` is shown as it is,
    /// a body that does not decode is `INVALID_JSON` naming the field, and the generated
    /// code's refusals (a missing body, another content type) keep the status it gives them.
    static func contractProblem(_ error: ServerError, logger: Logger) -> ProblemDetails {
        switch error.underlyingError {
        case let underlying as ServiceError:
            return underlying.problem
        case let underlying as DecodingError:
            return ProblemDetails(
                status: 400, code: "INVALID_JSON", title: "Bad Request", detail: Request.explain(underlying))
        case let underlying as any HTTPResponseError where underlying.status.code < 500:
            return problem(for: underlying, logger: logger)
        default:
            guard error.httpStatus.code < 500 else { return problem(for: error.underlyingError, logger: logger) }
            return ProblemDetails(
                status: Int(error.httpStatus.code), code: code(for: error.httpStatus), title: error.httpStatus.reasonPhrase,
                detail: error.causeDescription)
        }
    }

    static func response(_ problem: ProblemDetails) -> Response {
        let body = (try? JSONEncoder().encode(problem)) ?? Data()
        return Response(
            status: .init(code: problem.status),
            headers: [.contentType: ProblemDetails.mediaType],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "BAD_REQUEST"
        case 401: "UNAUTHORIZED"
        case 403: "FORBIDDEN"
        case 404: "NOT_FOUND"
        case 405: "METHOD_NOT_ALLOWED"
        case 409: "CONFLICT"
        case 413: "BODY_TOO_LARGE"
        case 415: "UNSUPPORTED_MEDIA_TYPE"
        case 416: "RANGE_NOT_SATISFIABLE"
        case 422: "UNPROCESSABLE"
        case 503: "UNAVAILABLE"
        default: status.code >= 500 ? "INTERNAL" : "REQUEST_REJECTED"
        }
    }

    private static func defaultDetail(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 404: "no such resource"
        case 413: "the request body is larger than this endpoint accepts"
        default: status.reasonPhrase
        }
    }
}
