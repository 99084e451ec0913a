import Foundation
import Processes
import Testing

/// What the build tests need from the machine:
/// - `BUILDCHAIN_TEST_REGISTRY` (`host:port` of a plain-HTTP registry without auth, e.g. `127.0.0.1:5000`)
///   and `BUILDCHAIN_TEST_BASE_IMAGE` (a busybox there, under `<registry>/dockerhub-proxy/library/busybox:1.36`,
///   as `deploy/local/up.sh --infra-only` seeds it);
/// - `buildah`, `skopeo`, `python3`, `tar`, `gzip`, `pgrep` on the PATH.
/// Without the variables the suites that build are skipped, except when `CI` is set: then they run and fail.
enum TestEnvironment {
    private static let environment = ProcessInfo.processInfo.environment

    static let registry = environment["BUILDCHAIN_TEST_REGISTRY"].flatMap { $0.isEmpty ? nil : $0 }
    static let baseImage = environment["BUILDCHAIN_TEST_BASE_IMAGE"].flatMap { $0.isEmpty ? nil : $0 }
    static let isCI = environment["CI"].map { !$0.isEmpty } ?? false
    static let hasStackOrCI = (registry != nil && baseImage != nil) || isCI
    static let stackReason: Comment =
        "needs BUILDCHAIN_TEST_REGISTRY and BUILDCHAIN_TEST_BASE_IMAGE (deploy/local/up.sh --infra-only; source .local/env)"

    static func requireStack() throws -> (registry: String, baseImage: String) {
        let registry = try #require(registry, "BUILDCHAIN_TEST_REGISTRY must be set when CI is set")
        let baseImage = try #require(baseImage, "BUILDCHAIN_TEST_BASE_IMAGE must be set when CI is set")
        return (registry, baseImage)
    }

    /// `prefix-` and 12 random hex digits: a valid repository path component.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))"
    }

    /// Runs `body` with a new empty directory, removed afterwards whatever happens.
    static func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
        let path = NSTemporaryDirectory() + uniqueName("build-test")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }

    /// The folder of this file, where `Fixtures/` is.
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

    static func fixture(_ name: String) -> String { testsDirectory + "/Fixtures/" + name }
}

struct CommandError: Error, CustomStringConvertible {
    let command: [String]
    let status: Int32?
    let output: String
    var description: String {
        "`\(command.joined(separator: " "))` ended with \(status.map(String.init) ?? "a signal"): \(output)"
    }
}

/// Runs the tools the tests check results with (skopeo, tar, pgrep, python3).
enum Command {
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = ChildProcess.minimalEnvironment) async throws
        -> String
    {
        let (result, output, errors) = try await ChildProcess.output(
            ProcessSpec(arguments[0], Array(arguments.dropFirst()), environment: environment, timeout: .seconds(120)))
        guard result.succeeded else {
            throw CommandError(command: arguments, status: result.exitStatus, output: errors + output)
        }
        return output
    }

    /// The exit status only (for `pgrep`, whose 1 means "none").
    static func status(_ arguments: [String]) async throws -> (Int32?, String) {
        let (result, output, _) = try await ChildProcess.output(ProcessSpec(arguments[0], Array(arguments.dropFirst())))
        return (result.exitStatus, output)
    }
}

extension TestEnvironment {
    /// `withTemporaryDirectory` for synchronous tests.
    static func withTemporaryDirectorySync<T>(_ body: (String) throws -> T) throws -> T {
        let path = NSTemporaryDirectory() + uniqueName("build-test")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }
}
