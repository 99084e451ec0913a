import Digests
import Foundation
import HTTPTypes
import OpenAPIRuntime

extension ServiceApplication {
    /// What every generated handler runs behind (see `VerbatimResponseHeaders`).
    public var contractMiddlewares: [any ServerMiddleware] { [VerbatimResponseHeaders()] }
}

/// The generated server writes every response header the spec declares as a URI component
/// (`Converter.setHeaderFieldAsURI`: `/v1/pushes/<id>` goes out as `%2Fv1%2Fpushes%2F<id>`, an
/// ETag's quotes as `%22`, `bytes 0-9/10` as `bytes%200-9%2F10`), which no client reads as a
/// path, a range, a cookie or a policy: the headers leave as the handlers wrote them.
/// Percent-decoding is the exact inverse of that encoding (every byte but the unreserved ones
/// is encoded, a `%` the handler wrote included). `Content-Type` and `Content-Length`, which the
/// generated code writes plainly, are left alone.
public struct VerbatimResponseHeaders: ServerMiddleware {
    public init() {}

    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, metadata)
        for index in response.headerFields.indices {
            let field = response.headerFields[index]
            guard field.name != .contentType, field.name != .contentLength,
                let value = Self.percentDecoded(field.value)
            else { continue }
            response.headerFields[index].value = value
        }
        return (response, responseBody)
    }

    /// `removingPercentEncoding` byte by byte (Foundation's, through CFString, was a fiftieth of
    /// a submit's CPU): nil for a `%` without two hex digits or bytes that are not UTF-8, the
    /// value itself when it holds no `%`.
    static func percentDecoded(_ value: String) -> String? {
        guard value.utf8.contains(UInt8(ascii: "%")) else { return value }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count)
        var iterator = value.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Hex.value), let low = iterator.next().flatMap(Hex.value) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
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
