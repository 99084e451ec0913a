import HTTPTypes
import Hummingbird

/// Requires `Authorization: Bearer <token>` on every path except the open
/// probes. The comparison takes the same time wherever the tokens differ.
public struct BearerAuthMiddleware<Context: BuildchainRequestContext>: RouterMiddleware {
    private let token: [UInt8]
    private let openPaths: Set<String>

    public init(token: Secret, openPaths: Set<String> = ["/healthz", "/readyz"]) {
        self.token = Array(token.value.utf8)
        self.openPaths = openPaths
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if openPaths.contains(request.uri.path) { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw Self.unauthorized("a bearer token is required")
        }
        let presented = Array(header.utf8.dropFirst("bearer ".utf8.count))
        guard Self.constantTimeEquals(presented, token) else {
            throw Self.unauthorized("the bearer token is not valid")
        }
        return try await next(request, context)
    }

    static func unauthorized(_ detail: String) -> ServiceError {
        ServiceError(.unauthorized, code: "UNAUTHORIZED", detail: detail)
    }

    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
        for index in 0..<max(lhs.count, rhs.count) {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}
