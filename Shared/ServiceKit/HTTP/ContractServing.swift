import Foundation
import HTTPTypes
import OpenAPIRuntime

extension Configuration {
    /// How the services' generated handlers encode: keys sorted, so bodies are stable, and dates
    /// in ISO 8601, as the hand-written `JSONResponse` did.
    public static let serving = Configuration(jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])
}

extension ServiceApplication {
    /// What every generated handler runs behind (see `ContractBodyGate`).
    public var contractMiddlewares: [any ServerMiddleware] { contractMiddlewares(foreignJSON: []) }

    /// `contractMiddlewares`, but the bodies of `foreignJSON` (operation ids) pass the body gate
    /// untouched: JSON another system writes (a GitHub delivery has `null`s and commit messages).
    public func contractMiddlewares(foreignJSON: Set<String>) -> [any ServerMiddleware] {
        [ContractBodyGate(maxBodyBytes: configuration.maxBodyBytes, passing: foreignJSON)]
    }
}

/// Collects a JSON request body for a generated handler (at most `maxBodyBytes`, else 413
/// `BODY_TOO_LARGE`) and refuses with 400 `INVALID_JSON` what the generated decoders let
/// through: a `\u0000` escape (PostgreSQL's text cannot hold it, and no field of ours needs
/// it) and `null` members (no request member is nullable in the specs; a decoder reads a
/// null as "absent"). Other bodies (streamed uploads) pass untouched.
public struct ContractBodyGate: ServerMiddleware {
    let maxBodyBytes: Int
    /// Operations whose bodies pass untouched.
    let passing: Set<String>

    public init(maxBodyBytes: Int, passing: Set<String> = []) {
        self.maxBodyBytes = maxBodyBytes
        self.passing = passing
    }

    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard !passing.contains(operationID), let body, let type = request.headerFields[.contentType],
            type.lowercased().hasPrefix("application/json")
        else { return try await next(request, body, metadata) }
        let bytes = try await Self.collect(body, upTo: maxBodyBytes)
        let scan = JSONTextScan(bytes)
        if scan.escapesNUL {
            throw ServiceError.badRequest("strings must not contain U+0000", code: "INVALID_JSON")
        }
        if scan.hasNullLiteral {
            guard (try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) != nil else {
                throw ServiceError.badRequest("the body is not valid JSON", code: "INVALID_JSON")
            }
            throw ServiceError.badRequest("members must not be null: leave an optional member out", code: "INVALID_JSON")
        }
        return try await next(request, HTTPBody(bytes), metadata)
    }

    /// The whole body, at most `maxBodyBytes` (else 413 `BODY_TOO_LARGE`).
    public static func collect(_ body: HTTPBody, upTo maxBodyBytes: Int) async throws -> ArraySlice<UInt8> {
        var bytes = ArraySlice<UInt8>()
        for try await chunk in body {
            guard bytes.count + chunk.count <= maxBodyBytes else {
                throw ServiceError(
                    .contentTooLarge, code: "BODY_TOO_LARGE", detail: "the request body is larger than \(maxBodyBytes) bytes")
            }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }
}
