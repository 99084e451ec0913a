import Foundation

/// Where and how a `PostgresPool` connects.
public struct PostgresConfiguration: Sendable {
    /// A libpq connection string (`host=… dbname=…`) or URI (`postgresql://user:pw@host:5433/db`).
    public var conninfo: String
    /// The most server connections the pool holds at once (busy and idle together).
    public var maxConnections: Int
    /// Shown in `pg_stat_activity`; overrides an `application_name` inside `conninfo`.
    public var applicationName: String?
    /// Seconds to wait for a connection to open (libpq's `connect_timeout`).
    public var connectTimeoutSeconds: Int

    public init(
        conninfo: String, maxConnections: Int = 10, applicationName: String? = nil,
        connectTimeoutSeconds: Int = 10
    ) {
        precondition(maxConnections > 0, "maxConnections must be positive")
        self.conninfo = conninfo
        self.maxConnections = maxConnections
        self.applicationName = applicationName
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    /// `conninfo` with passwords masked, for logs.
    public var redactedConninfo: String { Self.redact(conninfo) }

    /// Masks the password of a URI's userinfo (`scheme://user:***@host`) and the value of every
    /// `password=` parameter, in key/value form or a URI's query.
    public static func redact(_ conninfo: String) -> String {
        var text = conninfo
        // URI userinfo: "://user:secret@" → "://user:***@"
        if let scheme = text.range(of: "://") {
            let rest = text[scheme.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@"),
                let colon = rest[..<at].firstIndex(of: ":")
            {
                text.replaceSubrange(text.index(after: colon)..<at, with: "***")
            }
        }
        return maskPasswordParameters(text)
    }

    private static func maskPasswordParameters(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let match = rest.range(of: "password", options: .caseInsensitive) {
            result += rest[..<match.upperBound]
            rest = rest[match.upperBound...]
            let spaces = rest.prefix(while: { $0 == " " })
            guard rest.dropFirst(spaces.count).first == "=" else { continue }
            rest = rest.dropFirst(spaces.count + 1).drop(while: { $0 == " " })
            result += "\(spaces)=***"
            rest = rest.dropFirst(valueLength(rest))
        }
        return result + rest
    }

    /// Length of a conninfo value: `'quoted with \' escapes'` or up to whitespace or `&`.
    private static func valueLength(_ value: Substring) -> Int {
        guard value.first == "'" else {
            return value.prefix(while: { !$0.isWhitespace && $0 != "&" }).count
        }
        var count = 1
        var escaped = false
        for character in value.dropFirst() {
            count += 1
            if escaped {
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "'" {
                break
            }
        }
        return count
    }
}
