import Digests
import HTTPTypes
import Hummingbird

/// Requires `Authorization: Bearer <token>` on every path except the open
/// probes. The comparison takes the same time wherever the tokens differ.
/// With `AcceptedTokens.sha256`, the service holds only the tokens' hashes and
/// compares the hash of the one presented.
public struct BearerAuthMiddleware<Context: BuildchainRequestContext>: RouterMiddleware {
    private let accepted: AcceptedTokens
    private let openPaths: Set<String>

    public init(token: Secret, openPaths: Set<String> = ["/healthz", "/readyz"]) {
        self.init(accepting: .token(token), openPaths: openPaths)
    }

    public init(accepting accepted: AcceptedTokens, openPaths: Set<String> = ["/healthz", "/readyz"]) {
        self.accepted = accepted
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
        guard accepted.accepts(presented) else {
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

/// The bearer tokens a service accepts: one token, or the SHA-256 digests of several.
public enum AcceptedTokens: Sendable {
    case token(Secret)
    case sha256([[UInt8]])

    func accepts(_ presented: [UInt8]) -> Bool {
        switch self {
        case .token(let token):
            return BearerAuthMiddleware<ServiceRequestContext>.constantTimeEquals(presented, Array(token.value.utf8))
        case .sha256(let digests):
            let digest = SHA256.hash(presented).bytes
            // Every digest is compared, so the time taken does not say which one matched.
            return digests.reduce(false) { matched, candidate in
                BearerAuthMiddleware<ServiceRequestContext>.constantTimeEquals(digest, candidate) || matched
            }
        }
    }
}
