import Foundation
import HTTPTypes
import OpenAPIRuntime

extension ServiceApplication {
    /// What every generated handler runs behind (see `VerbatimResponseHeaders`).
    public var contractMiddlewares: [any ServerMiddleware] { [VerbatimResponseHeaders()] }
}

/// The generated server writes every response header the spec declares as a URI component
/// (`Converter.setHeaderFieldAsURI`: `/` becomes `%2F`, a space `%20`, `;` `%3B`), which no
/// client reads as a path, a range, a cookie or a policy: the headers leave as the handlers
/// wrote them (decoding undoes that encoding exactly, a `%` the handler wrote included).
/// Within this middleware a response holds only what the generated code set.
public struct VerbatimResponseHeaders: ServerMiddleware {
    public init() {}

    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, metadata)
        response.headerFields = HTTPFields(
            response.headerFields.map { field in
                guard field.value.contains("%"), let decoded = field.value.removingPercentEncoding else { return field }
                return HTTPField(name: field.name, value: decoded)
            })
        return (response, responseBody)
    }
}

extension HTTPBody {
    /// The whole body, at most `maxBodyBytes` (else 413 `BODY_TOO_LARGE`).
    public func collect(upTo maxBodyBytes: Int) async throws -> ArraySlice<UInt8> {
        var bytes = ArraySlice<UInt8>()
        for try await chunk in self {
            guard bytes.count + chunk.count <= maxBodyBytes else {
                throw ServiceError(
                    .contentTooLarge, code: "BODY_TOO_LARGE", detail: "the request body is larger than \(maxBodyBytes) bytes")
            }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }
}
