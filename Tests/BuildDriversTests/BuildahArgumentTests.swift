import Foundation
import Testing

@testable import BuildDrivers

struct BuildahArgumentTests {
    static let run = BuildahDriver.RunPaths(directory: "/var/buildchain/run-1")

    static func request(cache: Bool, mirrors: Bool) -> BuildRequest {
        BuildRequest(
            contextDirectory: "/work/ctx", dockerfile: .path("docker/Dockerfile"), target: "release",
            buildArguments: ["VERSION": "1.2.3", "APP_ENV": "prod"], workload: "shop", service: "web", cache: cache,
            mirrors: mirrors, destination: "harbor.example.com/shop/web:1.0", outputPath: "/work/out/image.tar")
    }

    static let driver = BuildahDriver(
        configuration: .init(
            workDirectory: "/var/buildchain", cacheRegistry: "harbor.example.com",
            dockerHubMirror: "harbor.example.com/dockerhub-proxy"))

    static let storage = [
        "--storage-driver", "vfs", "--root", "/var/buildchain/run-1/root", "--runroot", "/var/buildchain/run-1/runroot",
    ]

    /// The default sandbox: runc, root mapped to the reserved range, the firewalled network, limits.
    static let sandboxFlags = [
        "--isolation", "oci", "--runtime", "runc", "--userns-uid-map", "0:1000000000:65536",
        "--userns-gid-map", "0:1000000000:65536", "--cgroupns", "private", "--network", "buildchain-build",
        "--ulimit", "nproc=1024:1024", "--ulimit", "fsize=8589934592:8589934592", "--memory", "4096m",
        "--memory-swap", "4096m",
    ]

    @Test func chrootIsolationIsBuildahsPlainChroot() {
        #expect(BuildSandbox.chroot.budArguments == ["--isolation", "chroot"])
    }

    @Test func sandboxSettingsBecomeFlags() {
        let sandbox = BuildSandbox(
            runtime: "crun", userRange: BuildSandbox.IDRange(start: 200_000, count: 65536), network: "none",
            pidsLimit: 64, memoryLimitMiB: 256, fileSizeLimitMiB: 16)
        #expect(
            sandbox.budArguments == [
                "--isolation", "oci", "--runtime", "crun", "--userns-uid-map", "0:200000:65536",
                "--userns-gid-map", "0:200000:65536", "--cgroupns", "private", "--network", "none",
                "--ulimit", "nproc=64:64", "--ulimit", "fsize=16777216:16777216", "--memory", "256m",
                "--memory-swap", "256m",
            ])
    }

    @Test(arguments: ["0:65536", "1000:100", "x:65536", "100000", "100000:65536:1", "-5:65536", "4294967295:65536"])
    func userRangesThatMapToRootOrAreTooSmallAreRefused(_ text: String) {
        #expect(BuildSandbox.IDRange(text) == nil)
    }

    @Test func userRangeParses() {
        #expect(BuildSandbox.IDRange("1000000000:65536") == BuildSandbox.IDRange(start: 1_000_000_000, count: 65536))
    }

    @Test func budWithCache() {
        #expect(
            Self.driver.budArguments(for: Self.request(cache: true, mirrors: true), run: Self.run)
                == Self.storage + [
                    "--registries-conf", "/var/buildchain/run-1/registries.conf", "bud",
                ] + Self.sandboxFlags + [
                    "--layers",
                    "--format", "docker", "-f", "/work/ctx/docker/Dockerfile", "-t", "harbor.example.com/shop/web:1.0",
                    "--build-arg", "APP_ENV=prod", "--build-arg", "VERSION=1.2.3", "--target", "release",
                    "--cache-to", "harbor.example.com/kaniko-cache/shop-web",
                    "--cache-from", "harbor.example.com/kaniko-cache/shop-web", "/work/ctx",
                ])
    }

    @Test func budWithoutCacheKeepsLayers() {
        #expect(
            Self.driver.budArguments(for: Self.request(cache: false, mirrors: true), run: Self.run)
                == Self.storage + [
                    "--registries-conf", "/var/buildchain/run-1/registries.conf", "bud",
                ] + Self.sandboxFlags + [
                    "--layers",
                    "--format", "docker", "-f", "/work/ctx/docker/Dockerfile", "-t", "harbor.example.com/shop/web:1.0",
                    "--build-arg", "APP_ENV=prod", "--build-arg", "VERSION=1.2.3", "--target", "release", "/work/ctx",
                ])
    }

    @Test func pushWritesTheDockerArchive() {
        #expect(
            Self.driver.pushArguments(for: Self.request(cache: true, mirrors: true), run: Self.run)
                == Self.storage + [
                    "push", "harbor.example.com/shop/web:1.0",
                    "docker-archive:/work/out/image.tar:harbor.example.com/shop/web:1.0",
                ])
    }

    @Test func registriesConfWithMirrorOverHTTPS() {
        let conf = Self.driver.registriesConf(for: Self.request(cache: true, mirrors: true), dockerfileRegistries: [])
        #expect(
            conf.text == """
                # Written by buildchain for one build.
                unqualified-search-registries = ["docker.io"]
                short-name-mode = "permissive"

                [[registry]]
                prefix = "docker.io"
                location = "harbor.example.com/dockerhub-proxy"

                """)
    }

    @Test func registriesConfMarksLoopbackRegistriesInsecure() {
        let driver = BuildahDriver(
            configuration: .init(
                cacheRegistry: "127.0.0.1:5000", dockerHubMirror: "127.0.0.1:5000/dockerhub-proxy",
                insecureRegistries: ["registry.lan"]))
        let conf = driver.registriesConf(
            for: Self.request(cache: true, mirrors: true), dockerfileRegistries: ["localhost:5001", "quay.io"])
        #expect(
            conf.text == """
                # Written by buildchain for one build.
                unqualified-search-registries = ["docker.io"]
                short-name-mode = "permissive"

                [[registry]]
                prefix = "docker.io"
                location = "127.0.0.1:5000/dockerhub-proxy"
                insecure = true

                [[registry]]
                location = "127.0.0.1:5000"
                insecure = true

                [[registry]]
                location = "localhost:5001"
                insecure = true

                [[registry]]
                location = "registry.lan"
                insecure = true

                """)
        // Mirrors off: no docker.io entry, and the mirror's host is not needed.
        let off = driver.registriesConf(for: Self.request(cache: false, mirrors: false), dockerfileRegistries: [])
        #expect(!off.text.contains("docker.io\"\nlocation"))
        #expect(off.insecureRegistries == ["registry.lan"])
    }

    @Test(arguments: [
        ("127.0.0.1:5000", true), ("127.1.2.3", true), ("localhost:5000", true), ("[::1]:5000", true), ("::1", true),
        ("harbor.example.com", false), ("10.0.0.1:5000", false), ("127.0.0.1.example.com", false),
    ])
    func loopbackHosts(_ host: String, _ loopback: Bool) {
        #expect(RegistriesConf.isLoopback(host) == loopback)
    }

    @Test func dockerfileRegistriesFollowArgumentsAndCopyFrom() {
        let dockerfile = """
            # syntax=docker/dockerfile:1
            ARG REGISTRY=127.0.0.1:5000
            ARG TAG="1.36"
            FROM ${REGISTRY}/library/busybox:$TAG AS build
            FROM --platform=linux/amd64 \\
                localhost:5001/base:1
            COPY --from=registry.example.com/tools/x:1 /x /x
            COPY --from=build /a /a
            FROM busybox
            FROM build
            """
        #expect(
            DockerfileRegistries.registries(in: dockerfile, buildArguments: [:])
                == ["127.0.0.1:5000", "localhost:5001", "registry.example.com"])
        #expect(
            DockerfileRegistries.registries(in: dockerfile, buildArguments: ["REGISTRY": "127.0.0.1:5002"])
                == ["127.0.0.1:5002", "localhost:5001", "registry.example.com"])
    }

    @Test func requestValidationNamesTheField() throws {
        try TestEnvironment.withTemporaryDirectorySync { directory in
            let good = BuildRequest(
                contextDirectory: directory, workload: "shop", service: "web", destination: "r.example.com/shop/web:1",
                outputPath: directory + "/out.tar")
            try good.validate()
            var cases: [(String, (inout BuildRequest) -> Void)] = [
                ("destination", { $0.destination = "Not A Name" }),
                ("destination", { $0.destination = "r.example.com/a@sha256:" + String(repeating: "0", count: 64) }),
                ("workload", { $0.workload = "Shop" }),
                ("service", { $0.service = "" }),
                ("target", { $0.target = "--force" }),
                ("buildArguments", { $0.buildArguments = ["A=B": "x"] }),
                ("outputPath", { $0.outputPath = directory + "/a:b.tar" }),
                ("dockerfile", { $0.dockerfile = .path("../Dockerfile") }),
                ("dockerfile", { $0.dockerfile = .path("/etc/passwd") }),
                ("contextDirectory", { $0.contextDirectory = directory + "/missing" }),
            ]
            // A Dockerfile path through a link that leaves the context.
            try FileManager.default.createSymbolicLink(atPath: directory + "/outside", withDestinationPath: "/etc")
            cases.append(("dockerfile", { $0.dockerfile = .path("outside/passwd") }))
            for (field, change) in cases {
                var request = good
                change(&request)
                let error = #expect(throws: BuildRequestError.self) { try request.validate() }
                #expect(error?.field == field, "\(error?.description ?? "no error")")
            }
        }
    }
}

/// Secrets reach buildah without a command line showing them or the image history keeping them.
struct BuildahSecretArgumentTests {
    @Test func secretArgsComeFromTheEnvironmentFilesFromTheRunFolderAndHistoryIsOmitted() {
        var request = BuildahArgumentTests.request(cache: false, mirrors: false)
        request.secretBuildArguments = ["NPM_TOKEN": "npm_x", "DB_PASS": "pw"]
        request.secretFiles = ["npmrc": "t"]
        let arguments = BuildahArgumentTests.driver.budArguments(for: request, run: BuildahArgumentTests.run)
        let joined = arguments.joined(separator: " ")
        #expect(
            joined.contains(
                "--build-arg DB_PASS --build-arg NPM_TOKEN --secret id=npmrc,src=/var/buildchain/run-1/secrets/npmrc --omit-history"))
        #expect(!joined.contains("npm_x") && !joined.contains("pw "))
        let plain = BuildahArgumentTests.driver.budArguments(
            for: BuildahArgumentTests.request(cache: false, mirrors: false), run: BuildahArgumentTests.run)
        #expect(!plain.contains("--omit-history"), "a build without secrets keeps its history")
    }

    @Test(arguments: ["PATH", "HOME", "TMPDIR", "BUILDAH_ISOLATION", "CONTAINERS_CONF", "STORAGE_DRIVER", "LD_PRELOAD"])
    func namesBuildahReadsFromItsEnvironmentAreRefused(name: String) async throws {
        let context = FileManager.default.temporaryDirectory.appendingPathComponent("ctx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: context, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: context) }
        var request = BuildRequest(
            contextDirectory: context.path, workload: "w", service: "s", destination: "example.com/w/s:1",
            outputPath: context.path + "/image.tar")
        request.secretBuildArguments = [name: "x"]
        await #expect(throws: BuildRequestError.self) { _ = try await BuildahArgumentTests.driver.build(request) { _ in } }
    }

    @Test func kanikoRefusesSecretFiles() async throws {
        var request = BuildahArgumentTests.request(cache: false, mirrors: false)
        request.secretFiles = ["npmrc": "t"]
        request.contextDirectory = FileManager.default.temporaryDirectory.path
        let kaniko = KanikoDriver(configuration: .init(executorPath: "/nonexistent/executor"))
        await #expect(throws: BuildRequestError.secretFilesUnsupported(by: "kaniko")) { _ = try await kaniko.build(request) { _ in } }
    }
}
