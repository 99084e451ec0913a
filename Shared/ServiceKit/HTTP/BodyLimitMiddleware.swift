import HTTPTypes
import Hummingbird

/// Refuses bodies declared larger than the limit before reading them, and
/// sets the limit that JSON decoding enforces on undeclared (chunked) ones.
/// Paths under `streamingPrefixes` stream their bodies and are not limited.
public struct BodyLimitMiddleware<Context: BuildchainRequestContext>: RouterMiddleware {
    private let limit: Int
    private let streamingPrefixes: [String]

    public init(limit: Int, streamingPrefixes: [String] = []) {
        self.limit = limit
        self.streamingPrefixes = streamingPrefixes
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if streamingPrefixes.contains(where: { path.hasPrefix($0) }) {
            var context = context
            context.maxBodyBytes = Int.max
            return try await next(request, context)
        }
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw ServiceError(
                .contentTooLarge, code: "BODY_TOO_LARGE",
                detail: "the request body is \(declared) bytes; this endpoint accepts at most \(limit)")
        }
        var context = context
        context.maxBodyBytes = limit
        return try await next(request, context)
    }
}
