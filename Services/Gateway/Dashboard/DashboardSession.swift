import Digests
import Foundation
import GatewayAPI
import HTTPTypes
import OpenAPIRuntime
import ServiceKit

/// The login cookie and the CSRF token of the dashboard's forms.
struct DashboardSession: Sendable {
    static let browser = BrowserSession(pagesPrefix: "/ui/", loginPath: "/ui/login")

    /// What a dashboard handler knows of the request beyond its generated input (the spec cannot
    /// declare a cookie): the session's token, and whether the page came over TLS.
    struct Request: Sendable {
        var token: String?
        var secure: Bool

        @TaskLocal static var current = Request(token: nil, secure: false)
    }

    /// Sets `Request.current` around the dashboard's operations.
    struct Middleware: ServerMiddleware {
        func intercept(
            _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
            next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
        ) async throws -> (HTTPResponse, HTTPBody?) {
            guard operationID.hasPrefix("dashboard") else { return try await next(request, body, metadata) }
            // Over TLS directly, or through a proxy saying so.
            let secure = request.scheme == "https" || request.headerFields[HTTPField.Name("X-Forwarded-Proto")!] == "https"
            return try await Request.$current.withValue(
                Request(token: browser.token(in: request.headerFields), secure: secure)
            ) {
                try await next(request, body, metadata)
            }
        }
    }

    /// The CSRF token of a session: derived from its API token, so it needs no storage, and a
    /// page of another site cannot know it.
    static func csrfToken(for token: String) -> String {
        HMACSHA256.authenticate("buildchain-dashboard-csrf", key: Array(token.utf8)).hex
    }

    /// Checks the `csrf` field of a posted form against the session's token.
    static func checkCSRF(_ sent: String?) throws {
        guard let token = Request.current.token, let sent,
            BearerAuthMiddleware<ServiceRequestContext>.constantTimeEquals(
                Array(sent.utf8), Array(csrfToken(for: token).utf8))
        else {
            throw ServiceError(.forbidden, code: "CSRF_INVALID", detail: "the form's CSRF token is missing or wrong")
        }
    }

    /// `Set-Cookie` for a login: HttpOnly, SameSite=Strict, and Secure when the page came over TLS.
    static func cookie(token: String?) -> String {
        let value = token.map { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" } ?? ""
        let expiry = token == nil ? "; Max-Age=0" : ""
        return "\(BrowserSession.cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict\(Request.current.secure ? "; Secure" : "")\(expiry)"
    }
}
