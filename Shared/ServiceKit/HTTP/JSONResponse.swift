import Foundation
import HTTPTypes
import Hummingbird

/// An Encodable value as an `application/json` response with a chosen
/// status; dates in ISO 8601, keys sorted so bodies are stable.
public struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator, Sendable {
    public var value: Value
    public var status: HTTPResponse.Status

    public init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.value = value
        self.status = status
    }

    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public func response(status: HTTPResponse.Status) throws -> Response {
        let data = try Self.encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try response(status: status)
    }
}
