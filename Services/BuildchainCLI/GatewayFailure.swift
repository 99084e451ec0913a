import ContractCoding
import Foundation
import GatewayAPI

/// Turns an error answer of the gateway into a `CLIError` naming its problem's code and detail.
enum GatewayFailure {
    static func error(status: Int, body: [UInt8]) -> CLIError {
        let problem = try? JSONDecoder.buildchain().decode(Components.Schemas.Problem.self, from: Data(body))
        let code = problem?.code ?? "HTTP_\(status)"
        var detail = problem.map { $0.detail ?? $0.title } ?? excerpt(of: body)
        if status == 401 { detail += " (is BUILDCHAIN_TOKEN set to a valid token?)" }
        return .gatewayProblem(status: status, code: code, detail: detail)
    }

    /// The start of a body that is no problem document (a proxy's error page, say).
    private static func excerpt(of body: [UInt8]) -> String {
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return "no detail" }
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
