import Foundation

/// The environment variables the CLI reads, read in one place. Switches accept
/// true/false, 1/0, yes/no, on/off; anything else is a usage error (exit 2) naming
/// the variable.
struct CLIEnvironment: Sendable, Equatable {
    var gatewayURL: String?
    var token: String?
    /// `BUILDCHAIN_CACHE`: false turns the build cache off, as `--no-cache` does.
    var cache = true
    /// `BUILDCHAIN_MIRRORS`: false turns the registry mirrors off, as `--no-mirrors` does.
    var mirrors = true
    /// Every variable, for the secrets given by name only (`--secret-build-arg NAME`).
    var variables: [String: String] = [:]

    static let defaultGatewayURL = "http://127.0.0.1:8080"

    init(_ variables: [String: String]) throws {
        gatewayURL = Self.nonEmpty(variables["BUILDCHAIN_URL"])
        token = Self.nonEmpty(variables["BUILDCHAIN_TOKEN"])
        cache = try Self.switchValue(variables, "BUILDCHAIN_CACHE") ?? true
        mirrors = try Self.switchValue(variables, "BUILDCHAIN_MIRRORS") ?? true
        self.variables = variables
    }

    static func current() throws -> CLIEnvironment {
        try CLIEnvironment(ProcessInfo.processInfo.environment)
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    private static func switchValue(_ variables: [String: String], _ name: String) throws -> Bool? {
        guard let value = nonEmpty(variables[name]) else { return nil }
        switch value.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw CLIError(exitStatus: ExitStatus.usage, message: "\(name) must be true or false, not '\(value)'")
        }
    }
}
