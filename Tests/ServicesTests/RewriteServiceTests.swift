import Dockerfile
import Foundation
import Hummingbird
import Processes
import HummingbirdTesting
import RewriteService
import ServiceKit
import Testing

@Suite struct RewriteServiceTests {
    static let token = "rewrite-\(UUID().uuidString)"
    var auth: HTTPFields { [.authorization: "Bearer \(Self.token)", .contentType: "application/json"] }

    func app(proxies: String = "docker.io=harbor.example.com/dockerhub-proxy") async throws -> some ApplicationProtocol {
        try await buildApplication(
            configuration: RewriteConfiguration(
                common: CommonConfiguration(port: 0, apiToken: Secret(Self.token), maxBodyBytes: 64 * 1024),
                proxies: try ProxyMap(parsing: proxies)))
    }

    func json(_ object: [String: Any]) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
    }

    func decode(_ response: TestResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
    }

    @Test func rewritesWithTheConfiguredProxies() async throws {
        let dockerfile = "# syntax=docker/dockerfile:1\r\nFROM node:20 AS build\r\nRUN echo FROM x\r\nFROM build\r\n"
        try await app().test(.router) { client in
            try await client.execute(
                uri: "/v1/rewrites", method: .post, headers: auth, body: try json(["dockerfile": dockerfile])
            ) { response in
                #expect(response.status == .ok)
                let body = try decode(response)
                #expect(
                    body["dockerfile"] as? String
                        == "# syntax=docker/dockerfile:1\r\nFROM harbor.example.com/dockerhub-proxy/library/node:20 AS build\r\nRUN echo FROM x\r\nFROM build\r\n"
                )
                let changes = try #require(body["changes"] as? [[String: Any]])
                #expect(changes.count == 1)
                #expect(changes.first?["line"] as? Int == 2)
                #expect(changes.first?["from"] as? String == "node:20")
                #expect((body["diff"] as? String)?.contains("+FROM harbor.example.com/dockerhub-proxy/library/node:20 AS build") == true)
            }
        }
    }

    @Test func requestProxiesAndBuildArgsTakePart() async throws {
        let dockerfile = "ARG BASE\nFROM ${BASE}\nFROM $UNSET\n"
        try await app().test(.router) { client in
            try await client.execute(
                uri: "/v1/rewrites", method: .post, headers: auth,
                body: try json([
                    "dockerfile": dockerfile, "proxies": ["ghcr.io": "proxy.test/ghcr"],
                    "build_args": ["BASE": "ghcr.io/org/tool:1"],
                ])
            ) { response in
                #expect(response.status == .ok)
                let body = try decode(response)
                let buildArgs = try #require(body["build_args"] as? [String: String])
                #expect(buildArgs["BASE"] == "proxy.test/ghcr/org/tool:1")
                let warnings = try #require(body["warnings"] as? [[String: Any]])
                #expect(warnings.contains { $0["line"] as? Int == 3 })
            }
        }
    }

    @Test(arguments: [
        (["dockerfile": "FROM a\nRUN <<EOF\nx\n"], 422, "DOCKERFILE_INVALID"),
        (["dockerfile": "FROM a\n", "proxies": ["docker.io": ""]], 400, "INVALID_PROXIES"),
        (["dockerfile": "FROM a\n", "platform": "linux"], 400, "INVALID_PLATFORM"),
        (["dockerfile": 42], 400, "INVALID_JSON"),
        (["nothing": "here"], 400, "INVALID_JSON"),
    ] as [([String: any Sendable], Int, String)])
    func badInputIsAProblem(body: [String: any Sendable], status: Int, code: String) async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/rewrites", method: .post, headers: auth, body: try json(body)) { response in
                #expect(Int(response.status.code) == status)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problemCode = try decode(response)["code"] as? String
                #expect(problemCode == code)
            }
        }
    }

    /// The issue's shapes through the API: each change says where it was written.
    @Test func variableReferencesAreRewrittenWithTheirForm() async throws {
        let dockerfile =
            "ARG NODE=node\nARG REGISTRY=docker.io\nFROM ${NODE}:20 AS a\nFROM bitnami/${NODE}:20 AS b\nFROM ${REGISTRY}/${NODE}:${TARGETARCH}\n"
        try await app().test(.router) { client in
            try await client.execute(
                uri: "/v1/rewrites", method: .post, headers: auth,
                body: try json(["dockerfile": dockerfile, "platform": "linux/arm64"])
            ) { response in
                #expect(response.status == .ok)
                let body = try decode(response)
                let hub = "harbor.example.com/dockerhub-proxy"
                let changes = try #require(body["changes"] as? [[String: Any]])
                #expect(changes.map { $0["form"] as? String } == ["resolved", "prefix", "resolved"])
                #expect(changes.map { $0["to"] as? String } == ["\(hub)/library/node:20", "\(hub)/bitnami/${NODE}:20", "\(hub)/library/node:arm64"])
                let pulled = try #require(body["pulled_images"] as? [[String: Any]])
                #expect(
                    pulled.map { $0["reference"] as? String } == [
                        "\(hub)/library/node:20", "\(hub)/bitnami/node:20", "\(hub)/library/node:arm64",
                    ])
                #expect((body["warnings"] as? [Any])?.isEmpty == true)
            }
        }
    }

    /// What the generated decoders would let through: a null read as "absent", a U+0000 that no
    /// field of ours can hold; and a member the spec does not declare. Refused by the request
    /// validation's one parse of the body.
    @Test(arguments: [
        (#"{"dockerfile": "FROM a", "platform": null}"#, "platform"),
        // A member the rewrite does not have (a typo, another service's field) is not ignored.
        (#"{"dockerfile": "FROM a", "target": "x"}"#, "body"),
        (#"{"dockerfile": "FROM a\u0000b"}"#, "dockerfile"),
        (#"{"dockerfile": "FROM a", "build_args": {"A": "x\u0000"}}"#, "build_args.A"),
    ])
    func nullMembersAndNULAreRefusedNamingTheField(body: String, field: String) async throws {
        try await app().test(.router) { client in
            try await client.execute(
                uri: "/v1/rewrites", method: .post, headers: auth, body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try decode(response)
                #expect(problem["code"] as? String == "INVALID_JSON")
                #expect((problem["extensions"] as? [String: Any])?["field"] as? String == field, "\(problem)")
            }
        }
    }

    @Test func invalidUTF8AndOversizedBodiesAreRefused() async throws {
        try await app().test(.router) { client in
            var bytes = Array("{\"dockerfile\":\"FROM a".utf8)
            bytes += [0xff, 0xfe]
            bytes += Array("\"}".utf8)
            try await client.execute(uri: "/v1/rewrites", method: .post, headers: auth, body: ByteBuffer(bytes: bytes)) {
                response in
                #expect(response.status == .badRequest)
            }
            let big = try json(["dockerfile": "FROM a\n" + String(repeating: "# pad\n", count: 20_000)])
            try await client.execute(uri: "/v1/rewrites", method: .post, headers: auth, body: big) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
    }

    @Test(.enabled(if: TestEnvironment.variables["BUILDCHAIN_TEST_REGISTRY"] != nil || TestEnvironment.isCI))
    func pinsRewrittenReferencesToTheProxyRegistrysDigest() async throws {
        let registry = try TestEnvironment.require("BUILDCHAIN_TEST_REGISTRY")
        let inspect = try await ChildProcess.output(
            ProcessSpec("skopeo", ["inspect", "--tls-verify=false", "docker://\(registry)/dockerhub-proxy/library/busybox:1.36"],
                environment: ChildProcess.minimalEnvironment.merging(["HOME": NSTemporaryDirectory()]) { $1 }))
        let digest = try #require(
            (try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])?["Digest"] as? String)
        try await app(proxies: "docker.io=\(registry)/dockerhub-proxy").test(.router) { client in
            try await client.execute(
                uri: "/v1/rewrites", method: .post, headers: auth,
                body: try json(["dockerfile": "FROM busybox:1.36 AS a\nFROM busybox:1.36\n", "pin": true])
            ) { response in
                #expect(response.status == .ok)
                let pinned = "\(registry)/dockerhub-proxy/library/busybox:1.36@\(digest)"
                let text = try decode(response)["dockerfile"] as? String
                #expect(text == "FROM \(pinned) AS a\nFROM \(pinned)\n")
            }
            try await client.execute(
                uri: "/v1/rewrites", method: .post, headers: auth,
                body: try json(["dockerfile": "FROM busybox:0.0-missing\n", "pin": true])
            ) { response in
                #expect(response.status == .unprocessableContent)
                let body = try decode(response)
                #expect(body["code"] as? String == "PIN_UNRESOLVABLE")
                #expect((body["detail"] as? String)?.contains("busybox:0.0-missing") == true)
            }
        }
    }

    @Test func requiresTheToken() async throws {
        try await app().test(.router) { client in
            try await client.execute(
                uri: "/v1/rewrites", method: .post, headers: [.contentType: "application/json"],
                body: try json(["dockerfile": "FROM a\n"])
            ) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}

/// `rewrite-service rewrite …`, the one-shot mode, as a process.
@Suite struct RewriteCommandTests {
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = ServiceProcess.binDirectory.appendingPathComponent("rewrite-service")
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("Dockerfile-\(UUID().uuidString)").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func printsTheRewriteAndWarnsOnStandardError() throws {
        let path = try temporaryFile("FROM python:3.12\nFROM $IMAGE\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, stdout, stderr) = try run(["rewrite", "--proxy", "docker.io=proxy.test/hub", path])
        #expect(status == 0)
        #expect(stdout == "FROM proxy.test/hub/library/python:3.12\nFROM $IMAGE\n")
        #expect(stderr.contains(":2: warning:"))
    }

    @Test func rewritesInPlaceWithProxiesFromTheEnvironment() throws {
        let path = try temporaryFile("FROM alpine\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, stdout, _) = try run(
            ["rewrite", "--in-place", path], environment: ["REWRITE_PROXIES": "docker.io=proxy.test/hub"])
        #expect(status == 0)
        #expect(stdout.isEmpty)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "FROM proxy.test/hub/library/alpine\n")
    }

    @Test func failsWithTheLineOfAFileThatIsNotADockerfile() throws {
        let path = try temporaryFile("FROM a\nRUN <<EOF\nnever closed\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, _, stderr) = try run(["rewrite", path])
        #expect(status != 0)
        #expect(stderr.contains("\(path):2:"))
    }

    @Test(.enabled(if: TestEnvironment.variables["BUILDCHAIN_TEST_REGISTRY"] != nil || TestEnvironment.isCI))
    func pinsWithDigestsFromTheProxyRegistry() throws {
        let registry = try TestEnvironment.require("BUILDCHAIN_TEST_REGISTRY")
        let path = try temporaryFile("FROM busybox:1.36\nFROM busybox:${TAG}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (failed, _, reason) = try run(["rewrite", "--pin", "--proxy", "docker.io=\(registry)/dockerhub-proxy", path])
        #expect(failed != 0)
        #expect(reason.contains("busybox:${TAG}"), "the unresolvable reference is named")
        try Data("FROM busybox:1.36\n".utf8).write(to: URL(fileURLWithPath: path))
        let (status, stdout, _) = try run(["rewrite", "--pin", "--proxy", "docker.io=\(registry)/dockerhub-proxy", path])
        #expect(status == 0)
        #expect(stdout.hasPrefix("FROM \(registry)/dockerhub-proxy/library/busybox:1.36@sha256:"))
    }

    @Test func rejectsAMalformedProxy() throws {
        let path = try temporaryFile("FROM a\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, _, stderr) = try run(["rewrite", "--proxy", "nonsense", path])
        #expect(status != 0)
        #expect(stderr.contains("nonsense"))
    }
}
