import Foundation
import HTTPClient

/// Turns an error answer of the gateway into a `CLIError` naming its problem's code and detail.
enum GatewayFailure {
    /// `application/problem+json` (RFC 9457) as the gateway's services write it.
    struct Problem: Decodable {
        var title: String?
        var status: Int?
        var detail: String?
        var code: String?
    }

    static func error(for response: BufferedClientResponse) -> CLIError {
        let problem = try? GatewayJSON.decode(Problem.self, from: response.body)
        let code = problem?.code ?? "HTTP_\(response.status)"
        var detail = problem?.detail ?? problem?.title ?? excerpt(of: response)
        if response.status == 401 { detail += " (is BUILDCHAIN_TOKEN set to a valid token?)" }
        return .gatewayProblem(status: response.status, code: code, detail: detail)
    }

    /// The start of a body that is no problem document (a proxy's error page, say).
    private static func excerpt(of response: BufferedClientResponse) -> String {
        let text = response.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return "no detail" }
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
