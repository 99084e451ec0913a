import Foundation

/// A registry (or its token service) refused an operation. `code` is the
/// distribution API's error code (`DENIED`, `UNAUTHORIZED`, `BLOB_UNKNOWN`,
/// `MANIFEST_INVALID`, `NAME_UNKNOWN`…) or, when the answer carried none, one
/// derived from the status. Messages come from the registry and never hold credentials.
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: String
    /// HTTP status, nil when the failure was not an HTTP answer.
    public let status: Int?
    public let message: String
    /// What was being done: `HEAD blob sha256:…`, `PUT manifest v1`.
    public let operation: String

    public init(code: String, status: Int?, message: String, operation: String) {
        self.code = code
        self.status = status
        self.message = message
        self.operation = operation
    }

    public var description: String {
        let status = status.map { " (HTTP \($0))" } ?? ""
        return "\(operation): \(code)\(status): \(message)"
    }

    /// From an error answer: the first entry of `{"errors": [{code, message, detail}]}`, else the status.
    init(status: Int, body: [UInt8], operation: String) {
        let decoded = try? JSONDecoder().decode(ErrorBody.self, from: Data(body))
        if let first = decoded?.errors?.first, let code = first.code {
            var message = first.message ?? ""
            if let extra = decoded?.errors?.dropFirst().compactMap(\.code), !extra.isEmpty {
                message += " (also \(extra.joined(separator: ", ")))"
            }
            self.init(code: code, status: status, message: message, operation: operation)
        } else {
            let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            self.init(
                code: Self.code(forStatus: status), status: status,
                message: text.isEmpty ? "unexpected status \(status)" : text, operation: operation)
        }
    }

    static func code(forStatus status: Int) -> String {
        switch status {
        case 401: "UNAUTHORIZED"
        case 403: "DENIED"
        case 404: "NOT_FOUND"
        case 405: "UNSUPPORTED"
        case 429: "TOOMANYREQUESTS"
        default: "UNEXPECTED_STATUS"
        }
    }

    private struct ErrorBody: Decodable {
        struct Entry: Decodable {
            let code: String?
            let message: String?
        }
        let errors: [Entry]?
    }
}
