import Foundation

/// Reads typed settings from environment variables, once, at start-up.
/// Every failure names the variable; a secret's value is never echoed.
public struct EnvironmentReader: Sendable {
    private let values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    /// The process environment; only `main` should use this.
    public static var process: EnvironmentReader { EnvironmentReader(ProcessInfo.processInfo.environment) }

    public func string(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    public func string(_ name: String, default fallback: String) -> String {
        string(name) ?? fallback
    }

    public func requiredString(_ name: String) throws(ConfigurationError) -> String {
        guard let value = string(name) else { throw .missing(variable: name) }
        return value
    }

    /// A comma-separated list, items trimmed, empty items dropped; empty when unset.
    public func list(_ name: String) -> [String] {
        (string(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public func secret(_ name: String) -> Secret? { string(name).map(Secret.init) }

    public func requiredSecret(_ name: String) throws(ConfigurationError) -> Secret {
        Secret(try requiredString(name))
    }

    public func int(_ name: String, default fallback: Int, in range: ClosedRange<Int> = Int.min...Int.max)
        throws(ConfigurationError) -> Int
    {
        guard let text = string(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw .invalid(variable: name, value: text, expected: "an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    public func bool(_ name: String, default fallback: Bool) throws(ConfigurationError) -> Bool {
        guard let text = string(name) else { return fallback }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw .invalid(variable: name, value: text, expected: "true or false")
        }
    }

    /// A duration written as `30s`, `5m`, `2h`, `250ms` or plain seconds.
    public func duration(_ name: String, default fallback: Duration) throws(ConfigurationError) -> Duration {
        guard let text = string(name) else { return fallback }
        let units: [(String, (Int64) -> Duration)] = [
            ("ms", { .milliseconds($0) }), ("s", { .seconds($0) }), ("m", { .seconds($0 * 60) }),
            ("h", { .seconds($0 * 3600) }), ("", { .seconds($0) }),
        ]
        for (suffix, make) in units where text.hasSuffix(suffix) {
            if let number = Int64(text.dropLast(suffix.count)), number >= 0 { return make(number) }
        }
        throw .invalid(variable: name, value: text, expected: "a duration such as 30s, 5m or 250ms")
    }

    public func enumeration<T: RawRepresentable>(_ name: String, default fallback: T) throws(ConfigurationError) -> T
    where T.RawValue == String {
        guard let text = string(name) else { return fallback }
        guard let value = T(rawValue: text) else {
            throw .invalid(variable: name, value: text, expected: "a known value")
        }
        return value
    }
}

public enum ConfigurationError: Error, Sendable, CustomStringConvertible {
    case missing(variable: String)
    case invalid(variable: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .missing(let variable): "configuration: \(variable) is required but not set"
        case .invalid(let variable, let value, let expected):
            "configuration: \(variable)=\"\(value)\" is not valid; expected \(expected)"
        }
    }
}
