import Foundation
import HTTPClient
import Logging
import Testing

/// What the registry tests need from the machine:
/// - `BUILDCHAIN_TEST_REGISTRY`: `host:port` of a plain-HTTP registry without auth;
/// - `buildah`, `skopeo`, `docker-registry`, `openssl`, `python3` on the PATH.
/// Without the variable the registry suites are skipped, except when `CI` is set: then they run and fail.
enum TestEnvironment {
    private static let environment = ProcessInfo.processInfo.environment

    static let registry = environment["BUILDCHAIN_TEST_REGISTRY"].flatMap { $0.isEmpty ? nil : $0 }
    static let isCI = environment["CI"].map { !$0.isEmpty } ?? false
    static let hasRegistryOrCI = registry != nil || isCI
    static let hasBuildahOrCI = isCI || Shell.which("buildah") != nil

    static func requireRegistry() throws -> String {
        try #require(registry, "BUILDCHAIN_TEST_REGISTRY must be set when CI is set")
    }

    static let logger: Logger = {
        var logger = Logger(label: "OCITests")
        logger.logLevel = .warning
        return logger
    }()

    static let http = HTTPClient(logger: logger)

    /// `prefix-` and 12 random hex digits: a valid repository path component.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))"
    }

    /// Runs `body` with a new empty directory, removed afterwards whatever happens.
    static func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
        let path = NSTemporaryDirectory() + "/" + uniqueName("oci-test")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }
}
