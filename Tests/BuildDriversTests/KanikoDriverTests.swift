import BuildDrivers
import Foundation
import OCI
import Processes
import Synchronization
import Testing

struct KanikoArgumentTests {
    static let request = BuildRequest(
        contextDirectory: "/work/ctx", dockerfile: .path("docker/Dockerfile"), target: "release",
        buildArguments: ["VERSION": "1.2.3", "APP_ENV": "prod"], workload: "shop", service: "web", cache: true,
        mirrors: true, destination: "harbor.example.com/shop/web:1.0", outputPath: "/work/out/image.tar")

    static func driver(force: Bool = true) -> KanikoDriver {
        KanikoDriver(
            configuration: .init(
                cacheRegistry: "harbor.example.com", registryMirror: "harbor.example.com/dockerhub-proxy", force: force)
        )
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let cache: Bool
        let mirrors: Bool
        let expected: [String]
        var testDescription: String { "cache \(cache ? "on" : "off"), mirrors \(mirrors ? "on" : "off")" }
    }

    static let head = [
        "--dockerfile=/work/ctx/docker/Dockerfile", "--context=dir:///work/ctx", "--no-push",
        "--tar-path=/work/out/image.tar", "--destination=harbor.example.com/shop/web:1.0",
    ]
    static let mirror = ["--registry-mirror=harbor.example.com/dockerhub-proxy"]
    static let snapshot = ["--snapshot-mode=time", "--use-new-run", "--compressed-caching=false"]
    static let cacheOn = [
        "--cache=true", "--cache-run-layers", "--cache-repo=harbor.example.com/kaniko-cache/shop-web",
    ]
    static let tail = ["--build-arg", "APP_ENV=prod", "--build-arg", "VERSION=1.2.3", "--target", "release", "--force"]

    @Test(arguments: [
        Case(cache: true, mirrors: true, expected: head + mirror + snapshot + cacheOn + tail),
        Case(cache: true, mirrors: false, expected: head + snapshot + cacheOn + tail),
        Case(cache: false, mirrors: true, expected: head + mirror + snapshot + ["--cache=false"] + tail),
        Case(cache: false, mirrors: false, expected: head + snapshot + ["--cache=false"] + tail),
    ])
    func argumentsAreTheOriginalChainsCommand(_ testCase: Case) {
        var request = Self.request
        request.cache = testCase.cache
        request.mirrors = testCase.mirrors
        #expect(Self.driver().arguments(for: request) == testCase.expected)
    }

    @Test func exactCommandLineWithEverythingOn() {
        // The whole line, written out once, as the original Argo step had it.
        #expect(
            Self.driver().arguments(for: Self.request).joined(separator: " ")
                == """
                --dockerfile=/work/ctx/docker/Dockerfile --context=dir:///work/ctx --no-push \
                --tar-path=/work/out/image.tar --destination=harbor.example.com/shop/web:1.0 \
                --registry-mirror=harbor.example.com/dockerhub-proxy --snapshot-mode=time --use-new-run \
                --compressed-caching=false --cache=true --cache-run-layers \
                --cache-repo=harbor.example.com/kaniko-cache/shop-web --build-arg APP_ENV=prod \
                --build-arg VERSION=1.2.3 --target release --force
                """)
    }

    @Test func noForceInAContainerNoTargetNoArguments() {
        var request = Self.request
        request.target = nil
        request.buildArguments = [:]
        #expect(
            Self.driver(force: false).arguments(for: request)
                == Self.head + Self.mirror + Self.snapshot + Self.cacheOn)
    }

    @Test func noCacheRegistryMeansNoCache() {
        let driver = KanikoDriver(configuration: .init(cacheRegistry: nil, registryMirror: nil, force: false))
        #expect(
            driver.arguments(for: Self.request) == Self.head + Self.snapshot + ["--cache=false"] + Self.tail.dropLast())
    }

    @Test func plainHTTPRegistriesAreMarkedInsecure() {
        let driver = KanikoDriver(
            configuration: .init(
                cacheRegistry: "127.0.0.1:5000", registryMirror: "127.0.0.1:5000/dockerhub-proxy", force: true,
                insecureRegistries: ["registry.lan:5000"]))
        let arguments = driver.arguments(for: Self.request, dockerfileRegistries: ["localhost:5001", "quay.io"])
        #expect(
            Array(arguments.suffix(4)) == [
                "--insecure-registry=127.0.0.1:5000", "--insecure-registry=localhost:5001",
                "--insecure-registry=registry.lan:5000", "--force",
            ])
        #expect(arguments.contains("--cache-repo=127.0.0.1:5000/kaniko-cache/shop-web"))
    }
}

/// `KanikoDriver` end to end against `Fixtures/fake-kaniko-executor`, which records its
/// arguments, logs like Kaniko and writes a docker-archive to `--tar-path`.
@Suite(.enabled(if: TestEnvironment.isCI || FileManager.default.isExecutableFile(atPath: "/usr/bin/tar"), "needs tar"))
struct KanikoStandInTests {
    struct Setup {
        let directory: String
        let context: String
        let executor: String
        let argumentsFile: String
        let image: MinimalImage
        let output: String
        let destination = "127.0.0.1:5000/shop/web:1.0"

        func driver(
            mode: String = "ok", sleep: String = "300",
            resolveDigest: (@Sendable (OCIReference) async throws -> String)? = nil
        )
            -> KanikoDriver
        {
            var environment = ChildProcess.minimalEnvironment
            environment["FAKE_KANIKO_ARGS"] = argumentsFile
            environment["FAKE_KANIKO_TARBALL"] = image.path
            environment["FAKE_KANIKO_MODE"] = mode
            environment["FAKE_KANIKO_SLEEP"] = sleep
            return KanikoDriver(
                configuration: .init(
                    executorPath: executor, cacheRegistry: "127.0.0.1:5000",
                    registryMirror: "127.0.0.1:5000/dockerhub-proxy",
                    force: true, environment: environment, gracePeriod: .seconds(2), resolveDigest: resolveDigest))
        }

        func request(dockerfile: BuildRequest.Dockerfile = .path("Dockerfile"), timeout: Duration? = nil)
            -> BuildRequest
        {
            BuildRequest(
                contextDirectory: context, dockerfile: dockerfile, buildArguments: ["B": "2", "A": "1"],
                workload: "shop",
                service: "web", destination: destination, outputPath: output, timeout: timeout)
        }

        func recordedArguments() throws -> [String] {
            try String(contentsOfFile: argumentsFile, encoding: .utf8).split(separator: "\n").map(String.init)
        }
    }

    static let dockerfile = """
        FROM 127.0.0.1:5000/library/busybox:1.36
        RUN sleep 2 && echo one > /one.txt
        RUN echo two > /two.txt
        COPY app.txt /app.txt
        """

    static func withSetup(_ body: (Setup) async throws -> Void) async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let context = directory + "/context"
            try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
            try Data(dockerfile.utf8).write(to: URL(fileURLWithPath: context + "/Dockerfile"))
            try Data("app\n".utf8).write(to: URL(fileURLWithPath: context + "/app.txt"))
            let executor = directory + "/executor"
            try FileManager.default.copyItem(atPath: TestEnvironment.fixture("fake-kaniko-executor"), toPath: executor)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executor)
            let setup = Setup(
                directory: directory, context: context, executor: executor, argumentsFile: directory + "/arguments",
                image: try await MinimalImage.make(in: directory, repoTag: "127.0.0.1:5000/shop/web:1.0"),
                output: directory + "/out/image.tar")
            try FileManager.default.createDirectory(atPath: directory + "/out", withIntermediateDirectories: true)
            try await body(setup)
        }
    }

    @Test func buildRunsTheExecutorAndReadsItsLog() async throws {
        try await Self.withSetup { setup in
            let driver = setup.driver()
            let lines = Mutex<[String]>([])
            let outcome = try await driver.build(setup.request()) { line in lines.withLock { $0.append(line) } }

            // The executor got exactly the golden argument list (loopback registries marked insecure).
            let recorded = try setup.recordedArguments()
            #expect(recorded == driver.arguments(for: setup.request(), dockerfileRegistries: ["127.0.0.1:5000"]))
            #expect(recorded.contains("--cache-repo=127.0.0.1:5000/kaniko-cache/shop-web"))
            #expect(
                Array(recorded.suffix(6)) == [
                    "--build-arg", "A=1", "--build-arg", "B=2", "--insecure-registry=127.0.0.1:5000", "--force",
                ])

            #expect(outcome.cachedSteps == 2)
            // FROM (the stage) + RUN + RUN + COPY; the build's own "COPY …" output line is not a step.
            #expect(outcome.totalSteps == 4)
            #expect(outcome.builder == BuilderInfo(name: "kaniko", version: "v1.23.2-standin"))
            #expect(
                outcome.baseImages == [
                    BaseImage(name: "127.0.0.1:5000/library/busybox:1.36", digest: nil),
                    BaseImage(name: "busybox:1.36", digest: nil),
                ])
            #expect(outcome.exitStatus == 0)
            #expect(outcome.tarballPath == setup.output)
            #expect(lines.withLock { $0.contains("COPY this line is build output, not a step") })

            let archive = try await DockerArchive.open(path: outcome.tarballPath)
            #expect(archive.repoTags == [setup.destination])
            #expect(archive.config.digest == setup.image.configDigest)
            #expect(archive.layers.map(\.digest) == [setup.image.layerDigest])
        }
    }

    @Test func dockerfileTextIsWrittenIntoTheContextAndRemoved() async throws {
        try await Self.withSetup { setup in
            let request = setup.request(dockerfile: .text(Self.dockerfile))
            _ = try await setup.driver().build(request) { _ in }
            let written = setup.context + "/" + BuildRequest.writtenDockerfileName
            let recorded = try setup.recordedArguments()
            #expect(recorded.first == "--dockerfile=\(written)")
            #expect(!FileManager.default.fileExists(atPath: written))
        }
    }

    @Test func baseImageDigestsAreResolvedThroughTheMirror() async throws {
        try await Self.withSetup { setup in
            let asked = Mutex<[String]>([])
            let driver = setup.driver { reference in
                asked.withLock { $0.append(reference.description) }
                return "sha256:" + String(repeating: "ab", count: 32)
            }
            let outcome = try await driver.build(setup.request()) { _ in }
            #expect(
                outcome.baseImages.map(\.digest)
                    == Array(repeating: "sha256:" + String(repeating: "ab", count: 32), count: 2))
            // A fully qualified name is asked as it is, a Docker Hub name through the mirror.
            #expect(
                asked.withLock { $0 } == [
                    "127.0.0.1:5000/library/busybox:1.36", "127.0.0.1:5000/dockerhub-proxy/library/busybox:1.36",
                ])
        }
    }

    @Test func failingStepIsReportedWithItsOutput() async throws {
        try await Self.withSetup { setup in
            let failure = await #expect(throws: BuildFailure.self) {
                try await setup.driver(mode: "fail-step").build(setup.request()) { _ in }
            }
            #expect(failure?.kind == .stepFailed)
            #expect(failure?.exitStatus == 1)
            #expect(failure?.message.contains("exit status 3") == true)
            #expect(failure?.lastLines.contains { $0.contains("INFO[0001] RUN exit 3") } == true)
            #expect(failure?.builder == "kaniko")
            #expect(!FileManager.default.fileExists(atPath: setup.output))
        }
    }

    @Test func cancellationStopsTheExecutor() async throws {
        try await Self.withSetup { setup in
            let sleep = "300.\(Int.random(in: 100_000...999_999))"
            let started = AsyncStream<Void>.makeStream()
            let driver = setup.driver(mode: "hang", sleep: sleep)
            let task = Task {
                try await driver.build(setup.request()) { line in
                    if line.hasPrefix("COPY this line") { started.continuation.yield() }
                }
            }
            for await _ in started.stream { break }
            try await Task.sleep(for: .milliseconds(300))
            let running = try await Command.status(["pgrep", "-f", "sleep \(sleep)"]).0
            #expect(running == 0)
            task.cancel()
            let failure = await #expect(throws: BuildFailure.self) { try await task.value }
            #expect(failure?.kind == .cancelled)
            let left = try await Command.status(["pgrep", "-f", "sleep \(sleep)"]).0
            #expect(left == 1, "the executor's sleep is still running")
        }
    }

    @Test func timeoutStopsTheExecutor() async throws {
        try await Self.withSetup { setup in
            let sleep = "300.\(Int.random(in: 100_000...999_999))"
            let clock = ContinuousClock()
            let started = clock.now
            let failure = await #expect(throws: BuildFailure.self) {
                try await setup.driver(mode: "hang", sleep: sleep).build(setup.request(timeout: .seconds(2))) { _ in }
            }
            #expect(failure?.kind == .timedOut)
            #expect(clock.now - started < .seconds(10))
            let left = try await Command.status(["pgrep", "-f", "sleep \(sleep)"]).0
            #expect(left == 1, "the executor's sleep is still running")
        }
    }
}
