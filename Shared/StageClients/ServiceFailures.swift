import Foundation
import HTTPClient
import HTTPTypes
import OpenAPIRuntime
import ServiceKit

/// How a generated client's failures become the `RunFailure`s a stage records: a refusal or
/// failure status (read from its problem document), an unreachable service, an unreadable answer.
public struct ServiceFailures: Sendable {
    /// The failure for `status` answered to `operationID`, with the problem the body held.
    public typealias Refusal = @Sendable (_ status: Int, _ problem: ProblemDetails?, _ operationID: String) -> RunFailure
    /// The failure when no usable answer came (`detail` says why), and whether a retry may help.
    public typealias Unreachable = @Sendable (_ detail: String, _ transient: Bool) -> RunFailure

    public let refusal: Refusal
    public let unreachable: Unreachable
    /// Error statuses the caller reads itself (e.g. 404 of a delete), by operation id.
    let passed: @Sendable (_ status: Int, _ operationID: String) -> Bool

    public init(
        refusal: @escaping Refusal, unreachable: @escaping Unreachable,
        passing passed: @escaping @Sendable (_ status: Int, _ operationID: String) -> Bool = { _, _ in false }
    ) {
        self.refusal = refusal
        self.unreachable = unreachable
        self.passed = passed
    }

    /// The middleware that throws the refusal of every error status (HEAD answers, bodiless, are the caller's).
    public var middleware: some ClientMiddleware { Middleware(failures: self) }

    /// Runs one call of a client using `middleware`, rethrowing its failures as `RunFailure`s.
    /// Errors of reading a streamed body (outside the client) are mapped the same way.
    public func call<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ClientError {
            throw translated(error.underlyingError, operation)
        } catch {
            throw translated(error, operation)
        }
    }

    private func translated(_ error: any Error, _ operation: String) -> any Error {
        switch error {
        case let failure as RunFailure: failure
        case is CancellationError: CancellationError()
        case let failure as HTTPClientError: unreachable("\(failure)", failure.isTransient)
        case is DecodingError: unreachable("unreadable answer to \(operation)", true)
        // The generated outputs' accessors (`.ok`, `.json`) throw on an answer of another case.
        default: unexpected(operation)
        }
    }

    /// The failure of an answer the contract does not describe (a success status it lacks).
    public func unexpected(_ operation: String) -> RunFailure {
        unreachable("\(operation) answered outside its contract", false)
    }

    struct Middleware: ClientMiddleware {
        let failures: ServiceFailures

        func intercept(
            _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
            next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
        ) async throws -> (HTTPResponse, HTTPBody?) {
            let (response, responseBody) = try await next(request, body, baseURL)
            let status = response.status.code
            guard status >= 400, request.method != .head, !failures.passed(status, operationID) else {
                return (response, responseBody)
            }
            var problem: ProblemDetails?
            if let responseBody, let bytes = try? await Data(collecting: responseBody, upTo: 64 << 10) {
                problem = try? JSONDecoder().decode(ProblemDetails.self, from: bytes)
            }
            throw failures.refusal(status, problem, operationID)
        }
    }
}
