/// An error answer from the S3 service. Never carries credentials or
/// the request's `Authorization` header.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    /// S3's error code: `NoSuchKey`, `SignatureDoesNotMatch`, `AccessDenied`, `SlowDown`…
    /// For answers without a body (HEAD), derived from the status (`NotFound`, `Forbidden`…).
    public let code: String
    public let status: Int
    public let message: String
    public let requestID: String?
    /// The bucket or key the request was about.
    public let resource: String?

    public var description: String {
        var text = "S3 error \(code) (HTTP \(status))"
        if let resource { text += " on \(resource)" }
        if !message.isEmpty { text += ": \(message)" }
        if let requestID { text += " [request id \(requestID)]" }
        return text
    }

    /// Errors S3 documents as worth another try.
    var isTransient: Bool {
        [500, 502, 503, 504].contains(status) || Self.transientCodes.contains(code)
    }

    private static let transientCodes: Set<String> = [
        "InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout",
    ]

    static func codeForStatus(_ status: Int) -> String {
        switch status {
        case 301: "PermanentRedirect"
        case 304: "NotModified"
        case 400: "BadRequest"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 409: "Conflict"
        case 412: "PreconditionFailed"
        case 416: "InvalidRange"
        case 500: "InternalError"
        case 503: "ServiceUnavailable"
        default: "HTTP\(status)"
        }
    }
}

/// Failures on this side of the wire.
public enum S3ClientError: Error, Sendable, CustomStringConvertible {
    case invalidConfiguration(String)
    case invalidKey(String)
    case invalidArgument(String)
    /// The object needs more than 10,000 parts at the configured part size.
    case tooManyParts(partSize: Int)
    case unreadableFile(path: String, reason: String)
    case invalidResponse(String)
    /// The uploaded bytes are not the ones the caller expected; nothing was stored.
    case digestMismatch(expected: String, actual: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): "invalid S3 configuration: \(reason)"
        case .invalidKey(let reason): "invalid S3 key: \(reason)"
        case .invalidArgument(let reason): "invalid argument: \(reason)"
        case .tooManyParts(let partSize):
            "the object needs more than \(S3Configuration.maximumPartCount) parts of \(partSize) bytes"
        case .unreadableFile(let path, let reason): "cannot read \(path): \(reason)"
        case .invalidResponse(let reason): "unexpected S3 response: \(reason)"
        case .digestMismatch(let expected, let actual):
            "the upload's SHA-256 is \(actual), not the expected \(expected); nothing was stored"
        }
    }
}
