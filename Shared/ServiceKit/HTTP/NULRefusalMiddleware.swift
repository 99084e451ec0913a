import Foundation
import Hummingbird

/// Refuses a URL carrying U+0000 (`%00`) with 400: no path or query value of ours can hold
/// it, and PostgreSQL's text cannot store it, so it would otherwise fail deep inside.
public struct NULRefusalMiddleware<Context: BuildchainRequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let raw = request.uri.string
        if raw.contains("\0") || raw.range(of: "%00", options: .caseInsensitive) != nil {
            throw ServiceError.badRequest("the URL must not contain U+0000 (%00)", code: "INVALID_URL")
        }
        return try await next(request, context)
    }
}
