import ArtifactAPI
import HTTPTypes
import OpenAPIRuntime

/// `middlewares` for every operation but `putArtifact`, whose body is the artifact's bytes
/// whatever its `Content-Type`: a JSON artifact is stored as sent, not collected and checked as
/// a JSON request (`ContractBodyGate`).
struct SkippingUploads: ServerMiddleware {
    let middlewares: [any ServerMiddleware]

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard operationID != Operations.PutArtifact.id else { return try await next(request, body, metadata) }
        return try await run(from: 0, request, body, metadata, operationID: operationID, next: next)
    }

    /// `middlewares[first...]`, the first outermost, then `next`.
    private func run(
        from first: Int, _ request: HTTPRequest, _ body: HTTPBody?, _ metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard first < middlewares.count else { return try await next(request, body, metadata) }
        return try await middlewares[first].intercept(request, body: body, metadata: metadata, operationID: operationID) {
            try await run(from: first + 1, $0, $1, $2, operationID: operationID, next: next)
        }
    }
}
