import GatewayAPI
import HTTPTypes
import OpenAPIRuntime
import ServiceKit

/// An empty body is no body, for the operations whose body is optional (a retry that gives no
/// secrets, a form posted empty): the generated decoders would read an empty one as bad JSON.
struct OptionalBodyGate: ServerMiddleware {
    let maxBodyBytes: Int

    static let operations: Set<String> = [
        Operations.RetryJob.id, Operations.DashboardLogin.id, Operations.DashboardCancel.id, Operations.DashboardRetry.id,
    ]

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard Self.operations.contains(operationID), let body else { return try await next(request, body, metadata) }
        let bytes = try await body.collect(upTo: maxBodyBytes)
        return try await next(request, bytes.isEmpty ? nil : HTTPBody(bytes), metadata)
    }
}
