/// One versioned schema change. `sql` may hold several statements; it runs inside a
/// transaction, so statements that refuse one (`CREATE INDEX CONCURRENTLY`) cannot be used.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}
