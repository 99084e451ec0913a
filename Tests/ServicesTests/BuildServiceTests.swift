import ArtifactService
import BuildService
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Processes
import ServiceKit
import StageClients
import Testing

/// build-service in process with buildah, fetching from and storing to a live artifact-service.
@Suite(.enabled(if: TestEnvironment.hasDatabaseOrCI, "needs the local stack (deploy/local/up.sh --infra-only)"))
struct BuildServiceTests {
    static let token = "build-\(UUID().uuidString)"
    var auth: HTTPFields { [.authorization: "Bearer \(Self.token)", .contentType: "application/json"] }

    func withServices(
        _ body: @escaping @Sendable (any TestClientProtocol, any TestClientProtocol) async throws -> Void
    ) async throws {
        let registry = try TestEnvironment.require("BUILDCHAIN_TEST_REGISTRY")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("build-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let common = CommonConfiguration(
            port: 0, apiToken: Secret(Self.token), databaseURL: Secret(try TestEnvironment.requireDatabaseURL()))
        let artifactApp = try await ArtifactService.buildApplication(
            configuration: ArtifactConfiguration(common: common, backend: .filesystem, root: "\(root)/artifacts"))
        try await artifactApp.test(.live) { artifactClient in
            let port = try #require(artifactClient.port)
            let buildApp = try await BuildService.buildApplication(
                configuration: BuildConfiguration(
                    common: common, driver: .buildah, workDirectory: "\(root)/work", cacheRegistry: registry,
                    registryMirror: "\(registry)/dockerhub-proxy", artifactService: ArtifactServiceEndpoint(url: "http://127.0.0.1:\(port)", token: Secret(Self.token))))
            try await buildApp.test(.router) { buildClient in try await body(buildClient, artifactClient) }
        }
    }

    /// Packs `files` into a context tarball and stores it; returns its key.
    func storeContext(_ files: [String: String], in client: any TestClientProtocol) async throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ctx-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, text) in files { try text.write(toFile: "\(folder)/\(name)", atomically: true, encoding: .utf8) }
        let tarball = "\(folder).tar.gz"
        defer { try? FileManager.default.removeItem(atPath: tarball) }
        let packed = try await ChildProcess.output(ProcessSpec("tar", ["-czf", tarball, "-C", folder, "."]))
        #expect(packed.result.succeeded)
        let key = "contexts/test-\(UUID().uuidString.lowercased()).tar.gz"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: tarball))
        try await client.execute(uri: "/v1/artifacts/\(key)", method: .put, headers: auth, body: ByteBuffer(bytes: bytes)) {
            #expect($0.status == .created)
        }
        return key
    }

    func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
    }

    func runBuild(_ client: any TestClientProtocol, _ body: String) async throws -> [String: Any] {
        var id = ""
        try await client.execute(uri: "/v1/builds", method: .post, headers: auth, body: ByteBuffer(string: body)) { response in
            #expect(response.status == .accepted)
            id = try #require(try json(response)["id"] as? String)
            #expect(response.headers[.location] == "/v1/builds/\(id)")
        }
        var run: [String: Any] = [:]
        for _ in 0..<1200 {
            try await client.execute(uri: "/v1/builds/\(id)", method: .get, headers: auth) { run = try json($0) }
            if ["succeeded", "failed", "cancelled"].contains(run["status"] as? String) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return run
    }

    @Test func buildsAMultiStageImageThroughTheMirrorAndStoresItWithMetadata() async throws {
        try await withServices { client, artifacts in
            let context = try await storeContext(
                [
                    "Dockerfile":
                        "FROM busybox:1.36 AS build\nRUN echo built > /out.txt\nFROM busybox:1.36\nCOPY --from=build /out.txt /out.txt\nCOPY hello.txt /hello.txt\n",
                    "hello.txt": "hello\n",
                ], in: artifacts)
            let run = try await runBuild(
                client, "{\"context_key\":\"\(context)\",\"workload\":\"tests\",\"service\":\"multi\",\"cache\":false}")
            #expect(run["status"] as? String == "succeeded", "run: \(run)")
            let result = try #require(run["result"] as? [String: Any])
            let image = try #require(result["image"] as? [String: Any])
            let key = try #require(image["key"] as? String)
            #expect((result["config_digest"] as? String)?.hasPrefix("sha256:") == true)
            #expect((result["total_steps"] as? Int ?? 0) >= 4)
            #expect(result["cached_steps"] as? Int == 0)
            try await artifacts.execute(uri: "/v1/artifacts/\(key)", method: .head, headers: auth) { #expect($0.status == .ok) }
            try await artifacts.execute(uri: "/v1/artifacts/\(key).json", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                let metadata = try json(response)
                #expect(metadata["config_digest"] as? String == result["config_digest"] as? String)
                #expect((metadata["layers"] as? [Any])?.isEmpty == false)
            }
        }
    }

    @Test func aFailingRunStepFailsTheBuildWithItsOutput() async throws {
        try await withServices { client, artifacts in
            let context = try await storeContext(
                ["Dockerfile": "FROM busybox:1.36\nRUN echo about-to-fail && exit 3\n"], in: artifacts)
            let run = try await runBuild(
                client, "{\"context_key\":\"\(context)\",\"workload\":\"tests\",\"service\":\"failing\",\"cache\":false}")
            #expect(run["status"] as? String == "failed")
            let error = try #require(run["error"] as? [String: Any])
            #expect(error["code"] as? String == "BUILD_STEP_FAILED")
            #expect((error["message"] as? String)?.contains("about-to-fail") == true)
            // buildah's own error line first, with the step's exit status; then its last lines.
            let firstLine = (error["message"] as? String)?.split(separator: "\n").first.map(String.init)
            #expect(firstLine?.hasPrefix(#"Error: building at STEP "RUN echo about-to-fail && exit 3": "#) == true, "\(firstLine ?? "")")
            #expect(firstLine?.hasSuffix("exit status 3") == true)
            #expect(error["retryable"] as? Bool == false)
        }
    }

    @Test(arguments: [
        "{\"context_key\":\"c.tgz\",\"workload\":\"Bad Name\",\"service\":\"x\"}",
        "{\"context_key\":\"../c.tgz\",\"workload\":\"w\",\"service\":\"x\"}",
        "{\"context_key\":\"c.tgz\",\"workload\":\"w\",\"service\":\"x\",\"dockerfile_path\":\"../Dockerfile\"}",
        "{\"context_key\":\"c.tgz\",\"workload\":\"w\",\"service\":\"x\",\"target\":\"--privileged\"}",
        "{\"context_key\":\"c.tgz\",\"workload\":\"w\",\"service\":\"x\",\"destination\":\"Not A Reference\"}",
    ])
    func refusesBadRequestsBeforeBuilding(body: String) async throws {
        try await withServices { client, _ in
            try await client.execute(uri: "/v1/builds", method: .post, headers: auth, body: ByteBuffer(string: body)) {
                response in
                #expect(response.status == .badRequest)
                let code = try json(response)["code"] as? String
                #expect(code == "INVALID_BUILD")
            }
        }
    }
}
