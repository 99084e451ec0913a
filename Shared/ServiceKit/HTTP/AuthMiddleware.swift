import Digests
import Foundation
import HTTPTypes
import Hummingbird

/// Requires `Authorization: Bearer <token>` on every path except the open
/// probes. The comparison takes the same time wherever the tokens differ.
/// With `AcceptedTokens.sha256`, the service holds only the tokens' hashes and
/// compares the hash of the one presented.
public struct BearerAuthMiddleware<Context: BuildchainRequestContext>: RouterMiddleware {
    private let accepted: AcceptedTokens
    private let openPaths: Set<String>
    private let browser: BrowserSession?

    public init(token: Secret, openPaths: Set<String> = ["/healthz", "/readyz"]) {
        self.init(accepting: .token(token), openPaths: openPaths)
    }

    /// With `browser`, a browser's session cookie stands for the bearer token on reads (GET,
    /// HEAD) and on the browser pages' own forms (which check a CSRF token), and an
    /// unauthenticated page request is sent to the login page instead of answered 401.
    public init(
        accepting accepted: AcceptedTokens, openPaths: Set<String> = ["/healthz", "/readyz"], browser: BrowserSession? = nil
    ) {
        self.accepted = accepted
        self.openPaths = openPaths.union(browser.map { [$0.loginPath] } ?? [])
        self.browser = browser
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if openPaths.contains(request.uri.path) { return try await next(request, context) }
        if let header = request.headers[.authorization] {
            guard header.lowercased().hasPrefix("bearer ") else { throw Self.unauthorized("a bearer token is required") }
            guard accepted.accepts(Array(header.utf8.dropFirst("bearer ".utf8.count))) else {
                throw Self.unauthorized("the bearer token is not valid")
            }
            return try await next(request, context)
        }
        if let browser {
            let isPage = request.uri.path.hasPrefix(browser.pagesPrefix)
            let isRead = request.method == .get || request.method == .head
            if isPage || isRead, let token = browser.token(in: request), accepted.accepts(Array(token.utf8)) {
                return try await next(request, context)
            }
            if isPage && isRead {
                return Response(status: .seeOther, headers: [.location: browser.loginPath])
            }
        }
        throw Self.unauthorized("a bearer token is required")
    }

    static func unauthorized(_ detail: String) -> ServiceError {
        ServiceError(.unauthorized, code: "UNAUTHORIZED", detail: detail)
    }

    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
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

    public func accepts(_ presented: [UInt8]) -> Bool {
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

/// The browser side of the authentication: the API token kept in an HttpOnly cookie.
public struct BrowserSession: Sendable {
    public static let cookieName = "buildchain_token"
    /// Paths of the pages (their forms may post with the cookie).
    public let pagesPrefix: String
    public let loginPath: String

    public init(pagesPrefix: String, loginPath: String) {
        self.pagesPrefix = pagesPrefix
        self.loginPath = loginPath
    }

    /// The token in the request's session cookie.
    public func token(in request: Request) -> String? { token(in: request.headers) }

    /// The token in the session cookie of these request headers.
    public func token(in headers: HTTPFields) -> String? {
        guard let header = headers[.cookie] else { return nil }
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == Self.cookieName {
                return String(parts[1]).removingPercentEncoding
            }
        }
        return nil
    }
}
