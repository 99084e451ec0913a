import Foundation
import HTTPTypes
import OpenAPIRuntime

/// The generated server writes every response header the spec declares as a URI component
/// (`Converter.setHeaderFieldAsURI`: `/` becomes `%2F`, a space `%20`, `;` `%3B`), which no
/// browser reads as a path, a cookie or a policy: these leave as the handlers wrote them (the
/// decoding undoes that encoding exactly, a `%` the handler wrote included).
struct VerbatimResponseHeaders: ServerMiddleware {
    static let names: [HTTPField.Name] = [
        .location, .setCookie, .cacheControl, HTTPField.Name("Content-Security-Policy")!, HTTPField.Name("X-Frame-Options")!,
    ]

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, metadata)
        for name in Self.names {
            if let value = response.headerFields[name] { response.headerFields[name] = value.removingPercentEncoding ?? value }
        }
        return (response, responseBody)
    }
}
