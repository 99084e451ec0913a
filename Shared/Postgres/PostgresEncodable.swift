import Foundation

/// A value that can be bound to a `$n` parameter, sent in PostgreSQL's text format.
///
/// Parameters are passed as `[(any PostgresEncodable)?]`, so call sites read
/// `["it's", 42, nil, UUID()]`; a `nil` (or an optional holding nil) binds SQL NULL.
/// The server infers each parameter's type from the statement; cast where it cannot
/// (`$1::uuid`, `$2::jsonb`).
public protocol PostgresEncodable: Sendable {
    /// The text form of the value, or nil for SQL NULL.
    var postgresText: String? { get }
}

extension String: PostgresEncodable {
    public var postgresText: String? { self }
}

extension Substring: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int64: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int32: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Bool: PostgresEncodable {
    public var postgresText: String? { self ? "true" : "false" }
}

extension Double: PostgresEncodable {
    /// Swift prints `inf`, `-inf` and `nan`, which PostgreSQL accepts for `float8`.
    public var postgresText: String? { String(self) }
}

extension UUID: PostgresEncodable {
    public var postgresText: String? { uuidString.lowercased() }
}

extension Date: PostgresEncodable {
    /// UTC, microsecond precision: `2025-01-31 12:34:56.123456+00`.
    public var postgresText: String? { PostgresTimestamp.format(self) }
}

extension Array: PostgresEncodable where Element == UInt8 {
    /// `bytea` in hex form: `\x0aff…`.
    public var postgresText: String? {
        let digits = [UInt8]("0123456789abcdef".utf8)
        var text: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        text.reserveCapacity(2 + count * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? { self?.postgresText }
}
