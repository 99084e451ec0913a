import Digests
import Foundation
import HTTPTypes
import Hummingbird
import ServiceKit

/// The login cookie and the CSRF token of the dashboard's forms.
struct DashboardSession: Sendable {
    static let browser = BrowserSession(pagesPrefix: "/ui/", loginPath: "/ui/login")

    /// The CSRF token of a session: derived from its API token, so it needs no storage, and a
    /// page of another site cannot know it.
    static func csrfToken(for token: String) -> String {
        HMACSHA256.authenticate("buildchain-dashboard-csrf", key: Array(token.utf8)).hex
    }

    /// Checks the `csrf` field of a posted form against the session's token.
    static func checkCSRF(_ form: [String: String], request: Request) throws {
        guard let token = browser.token(in: request), let sent = form["csrf"],
            BearerAuthMiddleware<ServiceRequestContext>.constantTimeEquals(
                Array(sent.utf8), Array(csrfToken(for: token).utf8))
        else {
            throw ServiceError(.forbidden, code: "CSRF_INVALID", detail: "the form's CSRF token is missing or wrong")
        }
    }

    /// `Set-Cookie` for a login: HttpOnly, SameSite=Strict, and Secure when the page came over TLS.
    static func cookie(token: String?, secure: Bool) -> String {
        let value = token.map { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" } ?? ""
        let expiry = token == nil ? "; Max-Age=0" : ""
        return "\(BrowserSession.cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict\(secure ? "; Secure" : "")\(expiry)"
    }

    /// Whether the request came over TLS (directly, or through a proxy saying so).
    static func isSecure(_ request: Request) -> Bool {
        request.uri.scheme?.rawValue == "https" || request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https"
    }

    /// An `application/x-www-form-urlencoded` body.
    static func form(_ request: Request, context: ServiceRequestContext) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 64 << 10)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }
}
