import BuildDrivers
import Foundation
import OCI
import Processes
import Synchronization
import Testing

/// Real builds with buildah against the local registry (`deploy/local/up.sh --infra-only`).
@Suite(.enabled(if: TestEnvironment.hasStackOrCI, TestEnvironment.stackReason))
struct BuildahDriverTests {
    /// A test's folders: the context, buildah's work folder (per-run storage goes under it), the output.
    struct Setup {
        let registry: String
        let baseImage: String
        let directory: String
        var context: String { directory + "/context" }
        var work: String { directory + "/buildah" }
        var output: String { directory + "/out/image.tar" }

        func driver(mirror: String? = nil) -> BuildahDriver {
            BuildahDriver(
                configuration: .init(
                    workDirectory: work, cacheRegistry: registry,
                    dockerHubMirror: mirror ?? "\(registry)/dockerhub-proxy",
                    gracePeriod: .seconds(3)))
        }

        func request(
            _ dockerfile: String, workload: String = "tests", cache: Bool = false, mirrors: Bool = false,
            target: String? = nil, timeout: Duration = .seconds(300)
        ) throws -> BuildRequest {
            try Data(dockerfile.utf8).write(to: URL(fileURLWithPath: context + "/Dockerfile"))
            return BuildRequest(
                contextDirectory: context, target: target, workload: workload, service: "web", cache: cache,
                mirrors: mirrors, destination: "\(registry)/\(workload)/web:test", outputPath: output, timeout: timeout)
        }

        /// The per-run storage is gone: nothing left in the work folder.
        func expectStorageRemoved(sourceLocation: SourceLocation = #_sourceLocation) {
            let left = (try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []
            #expect(left.isEmpty, "left in the work folder: \(left)", sourceLocation: sourceLocation)
        }
    }

    static func withSetup(_ body: (Setup) async throws -> Void) async throws {
        let (registry, baseImage) = try TestEnvironment.requireStack()
        try await TestEnvironment.withTemporaryDirectory { directory in
            let setup = Setup(registry: registry, baseImage: baseImage, directory: directory)
            for path in [setup.context, directory + "/out"] {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            }
            try Data("hello from the context\n".utf8).write(to: URL(fileURLWithPath: setup.context + "/hello.txt"))
            try await body(setup)
        }
    }

    /// `skopeo inspect` of a registry image or an archive, as JSON.
    static func inspect(_ transport: String) async throws -> [String: Any] {
        let output = try await Command.run(["skopeo", "inspect", "--tls-verify=false", transport])
        return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    }

    /// The content of `path` inside an uncompressed layer of the archive.
    static func file(_ path: String, in layer: DockerArchive.Layer, of archive: DockerArchive, scratch: String)
        async throws
        -> String
    {
        let handle = try #require(FileHandle(forReadingAtPath: archive.path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(layer.offset))
        let layerPath = scratch + "/layer-\(UUID().uuidString).tar"
        try #require(try handle.read(upToCount: Int(layer.size))).write(to: URL(fileURLWithPath: layerPath))
        defer { try? FileManager.default.removeItem(atPath: layerPath) }
        return try await Command.run(["tar", "-xOf", layerPath, path])
    }

    @Test func multiStageBuildWritesADockerArchive() async throws {
        try await Self.withSetup { setup in
            let request = try setup.request(
                """
                FROM \(setup.baseImage) AS build
                RUN mkdir -p /out && echo built-by-buildchain > /out/greeting.txt
                FROM \(setup.baseImage)
                COPY --from=build /out/greeting.txt /greeting.txt
                COPY hello.txt /hello.txt
                """)
            let outcome = try await setup.driver().build(request) { _ in }

            #expect(outcome.totalSteps == 5)
            #expect(outcome.cachedSteps == 0)
            #expect(outcome.builder.name == "buildah")
            #expect(outcome.builder.version.first?.isNumber == true)
            #expect(outcome.exitStatus == 0)
            let base = try await Self.inspect("docker://\(setup.baseImage)")
            #expect(outcome.baseImages == [BaseImage(name: setup.baseImage, digest: base["Digest"] as? String)])

            // skopeo reads it: the base's layers plus the two COPY layers.
            let baseLayers = try #require(base["Layers"] as? [String])
            let inspected = try await Self.inspect("docker-archive:\(outcome.tarballPath)")
            let layers = try #require(inspected["Layers"] as? [String])
            #expect(layers.count == baseLayers.count + 2)

            // So does OCI's reader, with the destination as RepoTags.
            let archive = try await DockerArchive.open(path: outcome.tarballPath)
            #expect(archive.repoTags == [request.destination])
            #expect(archive.layers.count == layers.count)
            #expect(archive.config.diffIDs.count == layers.count)
            let greeting = try await Self.file(
                "greeting.txt", in: archive.layers[archive.layers.count - 2], of: archive, scratch: setup.directory)
            #expect(greeting == "built-by-buildchain\n")
            let hello = try await Self.file(
                "hello.txt", in: archive.layers.last!, of: archive, scratch: setup.directory)
            #expect(hello == "hello from the context\n")
            setup.expectStorageRemoved()
        }
    }

    @Test func dockerHubNamesArePulledThroughTheMirror() async throws {
        try await Self.withSetup { setup in
            let dockerfile = "FROM busybox:1.36\nRUN echo mirrored > /mirrored.txt\n"
            let outcome = try await setup.driver().build(try setup.request(dockerfile, mirrors: true)) { _ in }
            let mirrored = try await Self.inspect("docker://\(setup.registry)/dockerhub-proxy/library/busybox:1.36")
            #expect(
                outcome.baseImages == [
                    BaseImage(name: "docker.io/library/busybox:1.36", digest: mirrored["Digest"] as? String)
                ])
            #expect(try await DockerArchive.open(path: outcome.tarballPath).repoTags.count == 1)
            setup.expectStorageRemoved()

            // The mirror really is where it comes from: a mirror path with nothing in it fails the pull.
            let failure = await #expect(throws: BuildFailure.self) {
                try await setup.driver(mirror: "\(setup.registry)/no-such-proxy")
                    .build(try setup.request(dockerfile, mirrors: true)) { _ in }
            }
            #expect(failure?.kind == .baseImageNotFound)
            #expect(failure?.message.contains("no-such-proxy") == true)
            setup.expectStorageRemoved()
        }
    }

    @Test func cachedRebuildTakesStepsFromTheCacheRepository() async throws {
        try await Self.withSetup { setup in
            let workload = TestEnvironment.uniqueName("cache")
            try Data("app\n".utf8).write(to: URL(fileURLWithPath: setup.context + "/app.txt"))
            let dockerfile = """
                FROM \(setup.baseImage)
                RUN sleep 2 && echo one > /one.txt
                RUN echo two > /two.txt
                COPY app.txt /app.txt
                """
            let request = try setup.request(dockerfile, workload: workload, cache: true)
            let driver = setup.driver()
            let clock = ContinuousClock()

            var started = clock.now
            let cold = try await driver.build(request) { _ in }
            let coldTime = clock.now - started
            let coldArchive = try await DockerArchive.open(path: cold.tarballPath)
            #expect(cold.cachedSteps == 0)
            #expect(cold.totalSteps == 4)
            setup.expectStorageRemoved()
            let tags = try await Command.run(
                [
                    "skopeo", "list-tags", "--tls-verify=false",
                    "docker://\(setup.registry)/kaniko-cache/\(workload)-web",
                ])
            #expect(tags.contains("\"Tags\""))

            // A new run: its storage is empty, so the cache can only come from the registry.
            started = clock.now
            let warm = try await driver.build(request) { _ in }
            let warmTime = clock.now - started
            #expect(warm.cachedSteps == 3)
            #expect(warm.totalSteps == 4)
            #expect(warmTime < coldTime, "cached rebuild \(warmTime), first build \(coldTime)")
            let warmArchive = try await DockerArchive.open(path: warm.tarballPath)
            #expect(warmArchive.config.diffIDs == coldArchive.config.diffIDs)
            setup.expectStorageRemoved()

            // Cache off: every step runs.
            var uncached = request
            uncached.cache = false
            let off = try await driver.build(uncached) { _ in }
            #expect(off.cachedSteps == 0)
            #expect(off.totalSteps == 4)
            setup.expectStorageRemoved()
        }
    }

    /// Starts a build whose RUN sleeps, stops it with `stop` once the RUN is running, and checks
    /// that no process of the run is left and its storage is gone.
    static func stopRunningBuild(
        _ setup: Setup, timeout: Duration, stop: (Task<BuildOutcome, any Error>) -> Void
    ) async throws -> BuildFailure? {
        let marker = TestEnvironment.uniqueName("marker")
        let request = try setup.request("FROM \(setup.baseImage)\nRUN sleep 300 && echo \(marker)\n", timeout: timeout)
        let driver = setup.driver()
        let task = Task { try await driver.build(request) { _ in } }
        // Wait for the RUN step's shell (the pull before it may be slow on a busy machine).
        let finished = Mutex(false)
        let watcher = Task {
            _ = try? await task.value
            finished.withLock { $0 = true }
        }
        defer { watcher.cancel() }
        var running = false
        for _ in 0..<1200 where !running && !finished.withLock({ $0 }) {
            try await Task.sleep(for: .milliseconds(100))
            running = try await Command.status(["pgrep", "-f", marker]).0 == 0
        }
        #expect(running, "the RUN step never started (or the build ended before it)")
        let builderRunning = try await Command.status(["pgrep", "-f", setup.work]).0
        #expect(builderRunning == 0 || !running)
        stop(task)
        let failure = await #expect(throws: BuildFailure.self) { try await task.value }
        let builders = try await Command.status(["pgrep", "-f", setup.work])
        #expect(builders.0 == 1, "buildah processes of the run are left: \(builders.1)")
        let steps = try await Command.status(["pgrep", "-f", marker])
        #expect(steps.0 == 1, "the RUN step is left: \(steps.1)")
        setup.expectStorageRemoved()
        #expect(!FileManager.default.fileExists(atPath: setup.output))
        return failure
    }

    @Test func cancellationKillsTheBuilderAndCleansStorage() async throws {
        try await Self.withSetup { setup in
            let failure = try await Self.stopRunningBuild(setup, timeout: .seconds(300)) { $0.cancel() }
            #expect(failure?.kind == .cancelled)
        }
    }

    @Test func timeoutKillsTheBuilderAndCleansStorage() async throws {
        try await Self.withSetup { setup in
            // Long enough to reach the RUN on a loaded machine; the RUN itself would take 300 s.
            let failure = try await Self.stopRunningBuild(setup, timeout: .seconds(30)) { _ in }
            #expect(failure?.kind == .timedOut)
        }
    }

    struct FailureCase: Sendable, CustomTestStringConvertible {
        let name: String
        /// `{base}` and `{registry}` are replaced.
        let dockerfile: String
        var target: String?
        let kind: BuildFailure.Kind
        var exitStatus: Int32?
        /// Text that must appear in the failure's message or its last lines.
        let evidence: String
        var testDescription: String { name }
    }

    static let failures: [FailureCase] = [
        FailureCase(
            name: "failing RUN", dockerfile: "FROM {base}\nRUN echo failing-step-output && exit 3\n", kind: .stepFailed,
            exitStatus: 3, evidence: "failing-step-output"),
        FailureCase(
            name: "missing COPY source", dockerfile: "FROM {base}\nCOPY no-such-file /x\n", kind: .stepFailed,
            evidence: "no-such-file"),
        FailureCase(
            name: "missing base image", dockerfile: "FROM {registry}/no/such-image:1\nRUN true\n",
            kind: .baseImageNotFound,
            evidence: "manifest unknown"),
        FailureCase(
            name: "unknown instruction", dockerfile: "FROM {base}\nFOO bar\n", kind: .dockerfileInvalid,
            evidence: "Unknown instruction"),
        FailureCase(name: "no FROM", dockerfile: "RUN true\n", kind: .dockerfileInvalid, evidence: "no FROM statement"),
        FailureCase(
            name: "unknown target", dockerfile: "FROM {base} AS one\nRUN true\n", target: "two",
            kind: .dockerfileInvalid,
            evidence: "two"),
    ]

    @Test(arguments: failures)
    func failuresAreClassified(_ failureCase: FailureCase) async throws {
        try await Self.withSetup { setup in
            let dockerfile = failureCase.dockerfile.replacingOccurrences(of: "{base}", with: setup.baseImage)
                .replacingOccurrences(of: "{registry}", with: setup.registry)
            let request = try setup.request(dockerfile, target: failureCase.target)
            let failure = await #expect(throws: BuildFailure.self) { try await setup.driver().build(request) { _ in } }
            #expect(failure?.kind == failureCase.kind, "\(failure?.description ?? "")")
            if let status = failureCase.exitStatus { #expect(failure?.exitStatus == status) }
            let text = (failure.map { [$0.message] + $0.lastLines } ?? []).joined(separator: "\n")
            #expect(text.contains(failureCase.evidence), "\(text)")
            #expect(failure?.builder == "buildah")
            setup.expectStorageRemoved()
            #expect(!FileManager.default.fileExists(atPath: setup.output))
        }
    }

    @Test func missingDockerfileIsInvalid() async throws {
        try await Self.withSetup { setup in
            var request = try setup.request("FROM scratch\n")
            request.dockerfile = .path("sub/Dockerfile")
            let failure = await #expect(throws: BuildFailure.self) { try await setup.driver().build(request) { _ in } }
            #expect(failure?.kind == .dockerfileInvalid)
            setup.expectStorageRemoved()
        }
    }
}
