/// An error from the PostgreSQL client.
///
/// The text never contains parameter values or connection passwords: only the SQLSTATE, the
/// server's primary message (with quoted values masked for data errors, which echo their input)
/// and the names of the constraint/table/column involved.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server rejected a statement (see `sqlState`).
        case server
        /// A connection could not be opened.
        case connectFailed
        /// An open connection broke (server restarted, network failure, backend terminated).
        case connectionLost
        /// The pool was closed.
        case poolClosed
        /// A column could not be decoded as the requested type.
        case decoding
        /// A name or setting given by the caller is unusable (invalid identifier, duplicate migration).
        case invalidArgument
    }

    public var kind: Kind
    /// The five-character SQLSTATE code, when the server sent one (`23505`, `57P01`, …).
    public var sqlState: String?
    public var message: String
    public var constraint: String?
    public var table: String?
    public var column: String?

    public init(
        _ kind: Kind, sqlState: String? = nil, message: String,
        constraint: String? = nil, table: String? = nil, column: String? = nil
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.constraint = constraint
        self.table = table
        self.column = column
    }

    public var isConnectionLost: Bool { kind == .connectionLost }
    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// The database was unreachable or busy, not refusing the statement: the same statement may
    /// succeed later (connection failures, class 08, server shutting down or starting up 57P0x,
    /// out of resources class 53, serialization failure or deadlock).
    public var isTransient: Bool {
        switch kind {
        case .connectFailed, .connectionLost: return true
        case .server:
            guard let sqlState else { return false }
            return sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") || sqlState.hasPrefix("53")
                || sqlState == "40001" || sqlState == "40P01"
        case .poolClosed, .decoding, .invalidArgument: return false
        }
    }

    public var description: String {
        var text = "PostgresError(\(kind)"
        if let sqlState { text += ", \(sqlState)" }
        text += "): \(message)"
        if let constraint { text += " [constraint \(constraint)]" }
        return text
    }
}

extension PostgresError {
    /// Masks `"…"` quoted text in messages of SQLSTATE class 22 (data exception), whose primary
    /// messages quote the offending input, e.g. `invalid input syntax for type uuid: "…"`.
    static func sanitizedMessage(_ message: String, sqlState: String?) -> String {
        guard let sqlState, sqlState.hasPrefix("22") else { return message }
        var result = ""
        var inQuotes = false
        for character in message {
            if character == "\"" {
                result.append(inQuotes ? "***\"" : "\"")
                inQuotes.toggle()
            } else if !inQuotes {
                result.append(character)
            }
        }
        return result
    }
}
