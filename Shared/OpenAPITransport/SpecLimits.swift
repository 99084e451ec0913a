import Foundation
import HTTPTypes
import OpenAPIRuntime
import RequestValidation

/// Checks each request of a generated client against the limits of the service's spec before
/// sending it (lengths, patterns, enums, required and unknown members of parameters and JSON
/// bodies): a request the service would refuse for breaking a written limit fails here with
/// the same field and limit, a `Violation` as the `ClientError`'s underlying error, and nothing
/// is sent. The spec is the service's `OpenAPIDocument.json` (e.g. `GatewayAPI.OpenAPIDocument.json`).
public struct SpecLimits: ClientMiddleware {
    private let validator: RequestValidator
    /// JSON bodies are collected to be checked; one larger than this is sent unchecked.
    private let maxCheckedBodyBytes: Int

    public init(spec: String, maxCheckedBodyBytes: Int = 1 << 20) throws {
        validator = try RequestValidator(spec: spec)
        self.maxCheckedBodyBytes = maxCheckedBodyBytes
    }

    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let target = URLComponents(string: request.path ?? "/")
        guard let target,
            let (operation, pathParameters) = validator.operation(
                method: request.method.rawValue, path: target.percentEncodedPath)
        else { return try await next(request, body, baseURL) }
        var query: [String: String] = [:]
        for item in target.queryItems ?? [] where query[item.name] == nil { query[item.name] = item.value ?? "" }
        if let violation = validator.violation(
            of: operation, pathParameters: pathParameters, query: query,
            header: { HTTPField.Name($0).flatMap { request.headerFields[$0] } })
        {
            throw violation
        }
        guard operation.body != nil, let body, case .known(let length) = body.length, length <= Int64(maxCheckedBodyBytes)
        else { return try await next(request, body, baseURL) }
        let bytes = try await [UInt8](collecting: body, upTo: maxCheckedBodyBytes)
        if let violation = validator.violation(of: operation, body: bytes) { throw violation }
        return try await next(request, HTTPBody(bytes), baseURL)
    }
}
