import BuildDrivers
import BuildService
import ServiceKit
import Testing

/// build-service's `BUILD_ISOLATION`, `BUILD_NETWORK`, `BUILD_USERNS_RANGE` and `BUILD_*_LIMIT*`.
struct BuildSandboxSettingsTests {
    static let required = ["API_TOKEN": "t", "DATABASE_URL": "postgresql://u:p@127.0.0.1:1/d"]

    static func configuration(_ values: [String: String]) throws -> BuildConfiguration {
        try BuildConfiguration(reading: EnvironmentReader(required.merging(values) { $1 }))
    }

    @Test func theSandboxIsOnByDefault() throws {
        #expect(try Self.configuration([:]).sandbox == BuildSandbox())
        #expect(BuildSandbox().isolation == .oci)
    }

    @Test func settingsReachTheSandbox() throws {
        let sandbox = try Self.configuration([
            "BUILD_ISOLATION": "oci", "BUILD_NETWORK": "none", "BUILD_USERNS_RANGE": "300000:65536",
            "BUILD_PIDS_LIMIT": "200", "BUILD_MEMORY_LIMIT_MB": "512", "BUILD_FILE_SIZE_LIMIT_MB": "100",
        ]).sandbox
        #expect(
            sandbox
                == BuildSandbox(
                    userRange: BuildSandbox.IDRange(start: 300_000, count: 65536), network: "none", pidsLimit: 200,
                    memoryLimitMiB: 512, fileSizeLimitMiB: 100))
        #expect(try Self.configuration(["BUILD_ISOLATION": "chroot"]).sandbox.isolation == .chroot)
    }

    @Test(arguments: [
        ("BUILD_NETWORK", "host"), ("BUILD_NETWORK", "private"), ("BUILD_NETWORK", "podman"),
        ("BUILD_USERNS_RANGE", "0:65536"), ("BUILD_USERNS_RANGE", "100000:10"), ("BUILD_ISOLATION", "rootless"),
        ("BUILD_PIDS_LIMIT", "0"), ("BUILD_MEMORY_LIMIT_MB", "1"), ("BUILD_FILE_SIZE_LIMIT_MB", "lots"),
    ])
    func unsafeOrMalformedSettingsStopTheStartNamingTheVariable(_ variable: String, _ value: String) {
        #expect {
            try Self.configuration([variable: value])
        } throws: { error in
            "\(error)".contains(variable)
        }
    }
}
