import Foundation
import GatewayAPI
import HTTPTypes
import OpenAPIRuntime
import ServiceKit

/// Checks a GitHub delivery's `X-Hub-Signature-256` (HMAC-SHA256 of the raw body) before the
/// generated server decodes it, and hands the same bytes on: the webhook's authentication, as
/// it takes no bearer token. Other operations pass untouched.
struct GitHubSignatureGate: ServerMiddleware {
    let secret: Secret?
    let maxBodyBytes: Int

    static let notConfigured = ServiceError.notFound(
        "this gateway has no GitHub webhook configured", code: "WEBHOOK_NOT_CONFIGURED")
    static let signature = HTTPField.Name("X-Hub-Signature-256")!

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard operationID == Operations.GithubWebhook.id else { return try await next(request, body, metadata) }
        guard let secret else { throw Self.notConfigured }
        var bytes: ArraySlice<UInt8> = []
        if let body { bytes = try await body.collect(upTo: maxBodyBytes) }
        guard GitHubSignature.isValid(request.headerFields[Self.signature], body: Array(bytes), secret: secret) else {
            throw ServiceError(.unauthorized, code: "BAD_SIGNATURE", detail: "X-Hub-Signature-256 does not match the body")
        }
        guard (try? JSONSerialization.jsonObject(with: Data(bytes))) is [String: Any] else {
            throw ServiceError.badRequest("the payload is not a JSON object", code: "INVALID_PAYLOAD")
        }
        return try await next(request, HTTPBody(bytes), metadata)
    }
}
