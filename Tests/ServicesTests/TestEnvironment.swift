import Foundation

/// The real servers `.ci/run` (or deploy/local/up.sh) starts, found through
/// environment variables. Absent on a developer machine: tests that need
/// them are skipped; under CI they must be present and tests fail if not.
enum TestEnvironment {
    static let variables = ProcessInfo.processInfo.environment
    static var isCI: Bool { variables["CI"] != nil }
    static var databaseURL: String? { variables["BUILDCHAIN_TEST_DATABASE_URL"] }

    /// Enabled where the database is known, and always in CI (where a missing one fails the test).
    static var hasDatabaseOrCI: Bool { databaseURL != nil || isCI }

    static func requireDatabaseURL() throws -> String {
        guard let url = databaseURL else { throw Missing(variable: "BUILDCHAIN_TEST_DATABASE_URL") }
        return url
    }

    static func require(_ variable: String) throws -> String {
        guard let value = variables[variable], !value.isEmpty else { throw Missing(variable: variable) }
        return value
    }

    struct Missing: Error, CustomStringConvertible {
        let variable: String
        var description: String { "\(variable) is not set; run deploy/local/up.sh --infra-only and source .local/env" }
    }
}
