import Foundation

/// The filters and page of `GET /v1/jobs`.
struct JobQuery: Sendable, Equatable {
    var workload: String?
    var service: String?
    var state: String?
    var limit: Int?
    var cursor: String?

    /// `?name=value&…` of the filters that are set, or "" when none is.
    var queryString: String {
        let pairs: [(String, String?)] = [
            ("workload", workload), ("service", service), ("state", state), ("limit", limit.map(String.init)),
            ("cursor", cursor),
        ]
        let items = pairs.compactMap { name, value in value.map { "\(name)=\(Self.escape($0))" } }
        return items.isEmpty ? "" : "?" + items.joined(separator: "&")
    }

    private static let valueCharacters = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+?#"))

    private static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: valueCharacters) ?? value
    }
}
