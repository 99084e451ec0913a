/// Why an exchange failed. Messages name the URL without its query and
/// never include header values.
public enum HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// Could not connect, or the connection broke before a response (retryable).
    case connectionFailed(url: String, reason: String)
    case timedOut(url: String)
    case invalidRequest(String)
    case bodyTooLarge(limit: Int)
    case bodySourceFailed(String)
    case transferFailed(url: String, code: Int, reason: String)
    case cancelled

    public var description: String {
        switch self {
        case .connectionFailed(let url, let reason): "connection to \(url) failed: \(reason)"
        case .timedOut(let url): "request to \(url) timed out"
        case .invalidRequest(let reason): "invalid request: \(reason)"
        case .bodyTooLarge(let limit): "response body larger than \(limit) bytes"
        case .bodySourceFailed(let reason): "request body could not be read: \(reason)"
        case .transferFailed(let url, let code, let reason): "transfer with \(url) failed (curl \(code)): \(reason)"
        case .cancelled: "request cancelled"
        }
    }

    /// Failures where a retry may succeed.
    public var isTransient: Bool {
        switch self {
        case .connectionFailed, .timedOut: true
        default: false
        }
    }
}
