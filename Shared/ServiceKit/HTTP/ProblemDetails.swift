import Foundation
import HTTPTypes
import Hummingbird

/// RFC 9457 problem details, the body of every error response
/// (`application/problem+json`). `code` is a stable machine-readable name.
public struct ProblemDetails: Codable, Sendable, Equatable {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String?
    public var code: String
    public var instance: String?
    public var requestID: String?
    /// Problem-specific fields (e.g. the failing field or readiness checks).
    public var extensions: [String: String]?

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, code, instance, extensions
        case requestID = "request_id"
    }

    public init(
        status: Int, code: String, title: String, detail: String? = nil, extensions: [String: String]? = nil
    ) {
        self.type = "https://buildchain.dev/problems/\(code.lowercased().replacingOccurrences(of: "_", with: "-"))"
        self.title = title
        self.status = status
        self.detail = detail
        self.code = code
        self.extensions = extensions
    }

    public static let mediaType = "application/problem+json"
}

/// A failure the client should see as it is: status, stable code, a
/// human-readable detail. Domain errors are mapped to this at the boundary.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var detail: String
    public var extensions: [String: String]?

    public init(_ status: HTTPResponse.Status, code: String, detail: String, extensions: [String: String]? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.extensions = extensions
    }

    public var description: String { "\(status.code) \(code): \(detail)" }

    public static func badRequest(_ detail: String, code: String = "BAD_REQUEST") -> ServiceError {
        ServiceError(.badRequest, code: code, detail: detail)
    }

    public static func notFound(_ detail: String, code: String = "NOT_FOUND") -> ServiceError {
        ServiceError(.notFound, code: code, detail: detail)
    }

    public static func conflict(_ detail: String, code: String = "CONFLICT") -> ServiceError {
        ServiceError(.conflict, code: code, detail: detail)
    }

    var problem: ProblemDetails {
        ProblemDetails(
            status: Int(status.code), code: code, title: status.reasonPhrase, detail: detail, extensions: extensions)
    }
}
