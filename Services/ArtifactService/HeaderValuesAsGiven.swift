import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Response headers as the handlers gave them. The generated code writes a documented header's
/// value URI-encoded, as the `simple` style encodes a path parameter (`/v1/pushes/<id>` goes out
/// as `%2Fv1%2Fpushes%2F<id>`, an ETag's quotes as `%22`, `bytes 0-9/10` as `bytes%200-9%2F10`);
/// HTTP carries such values as they are, as the hand-written routes sent them. Percent-decoding
/// is the exact inverse of that encoding (every byte but the unreserved ones is encoded).
/// `Content-Type` and `Content-Length`, which the generated code writes plainly, are left alone.
struct HeaderValuesAsGiven: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, metadata)
        for index in response.headerFields.indices {
            let field = response.headerFields[index]
            guard field.name != .contentType, field.name != .contentLength,
                let value = field.value.removingPercentEncoding
            else { continue }
            response.headerFields[index].value = value
        }
        return (response, responseBody)
    }
}
