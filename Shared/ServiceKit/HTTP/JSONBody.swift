import Foundation
import Hummingbird

extension Request {
    /// The body, at most the context's `maxBodyBytes`; a larger one is a 413 `BODY_TOO_LARGE`.
    public func collectBody<Context: BuildchainRequestContext>(limitedBy context: Context) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: context.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // A body without Content-Length is cut off here, by NIO's `NIOTooManyBytesError`.
            throw ServiceError(
                .contentTooLarge, code: "BODY_TOO_LARGE",
                detail: "the request body is larger than \(context.maxBodyBytes) bytes")
        }
    }

    static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "the body" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "missing field \"\(key.stringValue)\"\(parent)"
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(Self.name(of: type))"
        case .valueNotFound(let type, let context): return "\(path(context)): expected \(Self.name(of: type)), got null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(context)): \(context.debugDescription)"
        @unknown default: return "the body does not match the expected JSON"
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default: type is any Collection.Type ? "an array or object" : "a value of another type"
        }
    }
}
