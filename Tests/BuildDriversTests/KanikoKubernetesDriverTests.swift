import Foundation
import HTTPClient
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import BuildDrivers

/// The driver against a real HTTP server on loopback that answers the Kubernetes API calls
/// it makes (create a Job, list its pods, follow the executor's log, read and delete the Job),
/// with every request it received checked afterwards.
@Suite struct KanikoKubernetesDriverTests {
    static let namespace = "builds"
    static let token = "sa-token-\(UUID().uuidString)"

    private static let settings = KanikoJobManifest.Settings(
        namespace: namespace, kanikoImage: "gcr.io/kaniko-project/executor:v1.23.2",
        uploaderImage: "curlimages/curl:8.10.1", ttlSecondsAfterFinished: 600, serviceAccount: "kaniko",
        registryAuthSecret: "harbor-push", uploadTokenSecret: "buildchain-kaniko-upload")

    private func request(in directory: String, timeout: Duration? = .seconds(120)) -> BuildRequest {
        BuildRequest(
            contextDirectory: directory, dockerfile: .text("FROM busybox:1.36\nRUN echo hi\n"), target: "runtime",
            buildArguments: ["B": "2", "A": "1"], workload: "shop", service: "api", cache: true, mirrors: true,
            destination: "harbor.example.com/shop/api:1.0", outputPath: "\(directory)/../image.tar", timeout: timeout)
    }

    private func driver(port: Int, transfer: RecordingTransfer, tokenFile: String) -> KanikoKubernetesDriver {
        KanikoKubernetesDriver(
            configuration: .init(
                job: Self.settings, cacheRegistry: "harbor.example.com", registryMirror: "harbor.example.com/dockerhub-proxy",
                pollInterval: .milliseconds(50)),
            api: KubernetesAPI(
                baseURL: "http://127.0.0.1:\(port)", namespace: Self.namespace, tokenFile: tokenFile, http: HTTPClient()),
            transfer: transfer)
    }

    @Test func theJobManifestIsTheGoldenOne() throws {
        let directory = try temporaryDirectory()
        let driver = driver(port: 1, transfer: RecordingTransfer(), tokenFile: "/dev/null")
        let manifest = driver.manifest(
            for: request(in: directory), name: "kaniko-golden",
            context: KanikoContextSource(url: "https://s3.example.com/ctx.tar.gz?X-Amz-Signature=abc", presentsToken: false),
            uploadURL: "http://artifact-service.buildchain:8084/v1/artifacts/kaniko/kaniko-golden/image.tar")
        let goldenURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/kaniko-job.golden.json")
        let pretty = try JSONSerialization.data(
            withJSONObject: manifest.object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        // A deliberate change of the manifest: `UPDATE_GOLDEN=1 swift test --filter theJobManifestIsTheGoldenOne`, then review the diff.
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { try (pretty + Data("\n".utf8)).write(to: goldenURL) }
        let golden = try String(contentsOf: goldenURL, encoding: .utf8)
        #expect(String(decoding: pretty, as: UTF8.self) == golden.trimmingCharacters(in: .whitespacesAndNewlines))
        // What goes to the API server is the same object.
        #expect(try JSONSerialization.jsonObject(with: manifest.json) as? NSDictionary == manifest.object as NSDictionary)
    }

    /// The pod is the build's sandbox: no API token, no Service variables, no host path, and the
    /// upload token only in the uploader's environment, and in the context fetcher's only when the
    /// context comes from artifact-service; never in the executor's.
    @Test(arguments: [false, true]) func theBuildPodHoldsNoTokenAndNoHostPath(fromArtifactService: Bool) throws {
        let directory = try temporaryDirectory()
        let context =
            fromArtifactService
            ? KanikoContextSource(url: "http://10.0.0.5:8084/v1/artifacts/kaniko/kaniko-pod/context.tar.gz", presentsToken: true)
            : KanikoContextSource(url: "https://s3.example.com/ctx.tar.gz", presentsToken: false)
        let manifest = driver(port: 1, transfer: RecordingTransfer(), tokenFile: "/dev/null").manifest(
            for: request(in: directory), name: "kaniko-pod", context: context,
            uploadURL: "http://artifact-service.buildchain:8084/v1/artifacts/kaniko/kaniko-pod/image.tar")
        let template = try #require((manifest.object["spec"] as? [String: Any])?["template"] as? [String: Any])
        let pod = try #require(template["spec"] as? [String: Any])
        #expect(pod["automountServiceAccountToken"] as? Bool == false)
        #expect(pod["enableServiceLinks"] as? Bool == false)
        #expect(pod["hostNetwork"] == nil && pod["hostPID"] == nil && pod["hostIPC"] == nil)
        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        #expect(volumes.allSatisfy { $0["hostPath"] == nil }, "a host path: \(volumes)")
        let initContainers = try #require(pod["initContainers"] as? [[String: Any]])
        let containers = try #require(pod["containers"] as? [[String: Any]])
        let holdsToken = { (container: [String: Any]) -> Bool in
            let env = container["env"] as? [[String: Any]] ?? []
            return env.contains { ($0["valueFrom"] as? [String: Any])?["secretKeyRef"] != nil }
        }
        #expect(initContainers.map { $0["name"] as? String } == ["fetch-context", "kaniko"])
        #expect(!holdsToken(initContainers[1]), "the executor must not see the upload token")
        #expect(holdsToken(initContainers[0]) == fromArtifactService)
        #expect(containers.map(\.self).filter(holdsToken).map { $0["name"] as? String } == ["upload"])
        let fetchEnvironment = initContainers[0]["env"] as? [[String: Any]] ?? []
        #expect(fetchEnvironment.first?["value"] as? String == context.url, "the URL is in the environment, not the script")
        let script = ((initContainers[0]["command"] as? [String]) ?? []).last ?? ""
        #expect(!script.contains(context.url) && script.contains("$UPLOAD_TOKEN") == fromArtifactService)
        let executor = initContainers[1]["args"] as? [String] ?? []
        #expect(executor.contains("--context=dir:///workspace/context"))
        #expect(executor.contains("--dockerfile=/workspace/context/.buildchain.Dockerfile"))
    }

    @Test func aBuildCreatesTheJobFollowsTheLogFetchesTheTarballAndDeletesTheJob() async throws {
        let server = FakeKubernetes(outcome: .succeeded)
        let transfer = RecordingTransfer()
        let directory = try temporaryDirectory()
        let tokenFile = try writeToken()
        let lines = Mutex<[String]>([])
        let outcome = try await server.serve { port in
            try await driver(port: port, transfer: transfer, tokenFile: tokenFile).build(request(in: directory)) { line in
                lines.withLock { $0.append(line) }
            }
        }
        #expect(outcome.builder == BuilderInfo(name: "kaniko-kubernetes", version: "v1.23.2"))
        #expect(outcome.totalSteps == 3 && outcome.cachedSteps == 1)
        #expect(outcome.baseImages.map(\.name) == ["harbor.example.com/dockerhub-proxy/library/busybox:1.36"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: outcome.tarballPath)) == Data("tarball".utf8))
        #expect(lines.withLock { $0 }.contains { $0.contains("Using caching version of cmd: RUN echo hi") })

        let calls = server.calls
        let jobs = "/apis/batch/v1/namespaces/builds/jobs"
        let name = try #require(transfer.names.first)
        #expect(calls.first?.method == "POST" && calls.first?.path == jobs)
        #expect(calls.contains { $0.method == "GET" && $0.path == "/api/v1/namespaces/builds/pods" && $0.query == "labelSelector=job-name%3D\(name)" })
        let logs = calls.filter { $0.path.hasSuffix("/log") }
        #expect(
            logs.map(\.query) == ["container=fetch-context&follow=true", "container=fetch-context&follow=true", "container=kaniko&follow=true"],
            "the context download's log once it was not started (400), then followed; then the executor's")
        #expect(lines.withLock { $0 }.contains("context unpacked: 2 entries"))
        #expect(calls.last?.method == "DELETE" && calls.last?.path == "\(jobs)/\(name)")
        #expect(calls.last?.body.contains("Background") == true)
        #expect(calls.allSatisfy { $0.authorization == "Bearer \(Self.token)" }, "the service account's token on every call")

        let created = try #require(try JSONSerialization.jsonObject(with: Data(calls[0].body.utf8)) as? [String: Any])
        #expect((created["metadata"] as? [String: Any])?["name"] as? String == name)
        #expect(!calls[0].body.contains(Self.token), "no token in the manifest")
        #expect(transfer.events == ["stage \(name)", "upload \(name)", "fetch \(name)", "clean \(name)"])
    }

    /// Builds against a server playing `outcome`; the build's failure (nil if it did not fail so).
    private func failure(
        of outcome: FakeKubernetes.Outcome, transfer: RecordingTransfer = RecordingTransfer()
    ) async throws -> (BuildFailure?, FakeKubernetes) {
        let server = FakeKubernetes(outcome: outcome)
        let directory = try temporaryDirectory()
        let tokenFile = try writeToken()
        do {
            _ = try await server.serve { port in
                try await driver(port: port, transfer: transfer, tokenFile: tokenFile).build(request(in: directory)) { _ in }
            }
            return (nil, server)
        } catch let failure as BuildFailure {
            return (failure, server)
        }
    }

    @Test func aFailingStepFailsTheBuildWithTheExecutorsErrorAndTheJobIsDeleted() async throws {
        let transfer = RecordingTransfer()
        let (failure, server) = try await failure(of: .stepFailed, transfer: transfer)
        #expect(failure?.kind == .stepFailed && failure?.exitStatus == 1 && failure?.builder == "kaniko-kubernetes")
        #expect(failure?.message.contains("exit status 3") == true)
        #expect(server.calls.last?.method == "DELETE")
        #expect(transfer.events.last?.hasPrefix("clean") == true)
        #expect(!transfer.events.contains { $0.hasPrefix("fetch") })
    }

    @Test func aContextThePodCannotFetchFailsAsContextInvalidWithCurlsLine() async throws {
        let transfer = RecordingTransfer()
        let (failure, server) = try await failure(of: .contextFetchFailed, transfer: transfer)
        #expect(failure?.kind == .contextInvalid && failure?.exitStatus == 22)
        #expect(failure?.message == "the build pod could not fetch the context: curl: (22) The requested URL returned error: 404")
        #expect(server.calls.last?.method == "DELETE")
        #expect(transfer.events.last?.hasPrefix("clean") == true)
    }

    @Test func aPodThatCannotPullAnImageFailsAtOnce() async throws {
        let started = ContinuousClock.now
        let (failure, server) = try await failure(of: .imagePullStuck)
        #expect(failure?.kind == .other)
        #expect(failure?.message.contains(#"container "upload" (docker.io/curlimages/curl:0.0.404): ImagePullBackOff"#) == true)
        #expect(ContinuousClock.now - started < .seconds(10), "not at the build's deadline (120 s)")
        #expect(server.calls.last?.method == "DELETE")
    }

    @Test func cancellingTheBuildDeletesTheJob() async throws {
        let server = FakeKubernetes(outcome: .neverEnds)
        let transfer = RecordingTransfer()
        let directory = try temporaryDirectory()
        let tokenFile = try writeToken()
        try await server.serve { port in
            let build = Task {
                try await driver(port: port, transfer: transfer, tokenFile: tokenFile).build(request(in: directory)) { _ in }
            }
            while !server.calls.contains(where: { $0.path.hasSuffix("/log") }) { try await Task.sleep(for: .milliseconds(50)) }
            try await Task.sleep(for: .milliseconds(300))
            build.cancel()
            do {
                _ = try await build.value
                Issue.record("a cancelled build succeeded")
            } catch let failure as BuildFailure {
                #expect(failure.kind == .cancelled)
            }
        }
        #expect(server.calls.last?.method == "DELETE")
    }

    @Test func aTimeoutDeletesTheJobAndSaysSo() async throws {
        let server = FakeKubernetes(outcome: .neverEnds)
        let directory = try temporaryDirectory()
        await #expect {
            try await server.serve { port in
                try await driver(port: port, transfer: RecordingTransfer(), tokenFile: try writeToken())
                    .build(request(in: directory, timeout: .seconds(1))) { _ in }
            }
        } throws: { ($0 as? BuildFailure)?.kind == .timedOut }
        #expect(server.calls.last?.method == "DELETE")
    }

    private func temporaryDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("k8s-\(UUID().uuidString)/context")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.path
    }

    private func writeToken() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path
        try Data("\(Self.token)\n".utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Records what the driver asks of the transfer; the "uploaded" tarball is a few bytes.
final class RecordingTransfer: KanikoTransfer, Sendable {
    private let log = Mutex<[String]>([])

    var events: [String] { log.withLock { $0 } }
    var names: [String] { events.compactMap { $0.hasPrefix("stage ") ? String($0.dropFirst(6)) : nil } }

    func stageContext(directory: String, name: String) async throws -> KanikoContextSource {
        log.withLock { $0.append("stage \(name)") }
        return KanikoContextSource(url: "https://s3.example.com/\(name)/context.tar.gz?X-Amz-Signature=abc", presentsToken: false)
    }

    func outputUploadURL(name: String) async throws -> String {
        log.withLock { $0.append("upload \(name)") }
        return "http://artifact-service:8084/v1/artifacts/kaniko/\(name)/image.tar"
    }

    func fetchOutput(name: String, to path: String) async throws {
        log.withLock { $0.append("fetch \(name)") }
        try Data("tarball".utf8).write(to: URL(fileURLWithPath: path))
    }

    func cleanUp(name: String) async {
        log.withLock { $0.append("clean \(name)") }
    }
}

/// The Kubernetes API calls the driver makes, served on loopback.
final class FakeKubernetes: Sendable {
    enum Outcome: Sendable { case succeeded, stepFailed, neverEnds, contextFetchFailed, imagePullStuck }

    struct Call: Sendable {
        var method: String
        var path: String
        var query: String
        var authorization: String?
        var body: String
    }

    private let outcome: Outcome
    private let recorded = Mutex<[Call]>([])
    private let logServed = Mutex(false)
    private let logAttempts = Mutex(0)

    init(outcome: Outcome) { self.outcome = outcome }

    var calls: [Call] { recorded.withLock { $0 } }

    private func record(_ call: Call) { recorded.withLock { $0.append(call) } }

    static let executorLines = [
        "INFO[0000] Retrieving image manifest harbor.example.com/dockerhub-proxy/library/busybox:1.36",
        "INFO[0001] Building stage 'harbor.example.com/dockerhub-proxy/library/busybox:1.36' [idx: '0', base-idx: '-1']",
        "INFO[0001] Using caching version of cmd: RUN echo hi",
        "INFO[0001] RUN echo hi",
        "INFO[0002] COPY a b",
    ]

    func serve<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        let router = Router()
        router.middlewares.add(Recorder { [self] call in record(call) })
        router.post("/apis/batch/v1/namespaces/builds/jobs") { _, _ in Response(status: .created) }
        router.get("/apis/batch/v1/namespaces/builds/jobs/{name}") { [self] _, _ in
            json(jobStatus)
        }
        router.delete("/apis/batch/v1/namespaces/builds/jobs/{name}") { _, _ in
            Response(status: .ok)
        }
        router.get("/api/v1/namespaces/builds/pods") { [self] request, _ in
            let selector = request.uri.queryParameters.get("labelSelector") ?? ""
            let job = selector.split(separator: "=").last.map(String.init) ?? "job"
            return json(#"{"items":[{"metadata":{"name":"\#(job)-x7k2p"},"status":\#(podStatus)}]}"#)
        }
        router.get("/api/v1/namespaces/builds/pods/{pod}/log") { [self] request, _ in
            let attempt = logAttempts.withLock { $0 += 1; return $0 }
            if attempt == 1 {
                return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: #"{"message":"container \"fetch-context\" in pod is waiting to start: PodInitializing"}"#)))
            }
            if request.uri.queryParameters.get("container") == "fetch-context" {
                guard outcome == .contextFetchFailed else {
                    return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "context unpacked: 2 entries\n")))
                }
                logServed.withLock { $0 = true }
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "curl: (22) The requested URL returned error: 404\n")))
            }
            if outcome == .contextFetchFailed || outcome == .imagePullStuck {
                return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: #"{"message":"PodInitializing"}"#)))
            }
            let outcome = outcome
            let lines = Self.executorLines + (outcome == .stepFailed
                ? ["error building image: error building stage: failed to execute command: waiting for process to exit: exit status 3"] : [])
            return Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: ResponseBody { [self] writer in
                    for line in lines {
                        try await writer.write(ByteBuffer(string: line + "\n"))
                    }
                    // As the API server does, the log ends when the Job (and its pod) is deleted.
                    while outcome == .neverEnds, !calls.contains(where: { $0.method == "DELETE" }) {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    logServed.withLock { $0 = true }
                    try await writer.finish(nil)
                })
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            try await body(client.port!)
        }
    }

    private var jobStatus: String {
        guard logServed.withLock({ $0 }) else { return #"{"status":{"active":1}}"# }
        switch outcome {
        case .succeeded: return #"{"status":{"succeeded":1,"conditions":[{"type":"Complete","status":"True"}]}}"#
        case .stepFailed:
            return #"{"status":{"failed":1,"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded"}]}}"#
        case .neverEnds, .imagePullStuck: return #"{"status":{"active":1}}"#
        case .contextFetchFailed:
            return #"{"status":{"failed":1,"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded"}]}}"#
        }
    }

    /// The `status` of a pod a real cluster reported (Fixtures/pod-<name>.json).
    private static func recordedStatus(_ name: String) -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pod-\(name).json")
        let pod = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
        let data = (try? JSONSerialization.data(withJSONObject: pod["status"] ?? [String: Any]())) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private var podStatus: String {
        if outcome == .imagePullStuck { return Self.recordedStatus("pull-fails") }
        if outcome == .contextFetchFailed, logServed.withLock({ $0 }) { return Self.recordedStatus("fetch-fails") }
        guard outcome == .stepFailed, logServed.withLock({ $0 }) else { return #"{"phase":"Pending"}"# }
        return #"{"phase":"Failed","initContainerStatuses":[{"name":"kaniko","state":{"terminated":{"exitCode":1}}}]}"#
    }

    private func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Records each request with its body.
    struct Recorder: RouterMiddleware {
        typealias Context = BasicRequestContext
        let record: @Sendable (Call) -> Void

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            record(
                Call(
                    method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                    authorization: request.headers[.authorization], body: String(buffer: body)))
            return try await next(request, context)
        }
    }
}
