import ArtifactService
import CheckoutService
import Foundation
import GitCheckout
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Processes
import ServiceKit
import StageClients
import Testing

/// checkout-service in process, uploading to a live artifact-service, against real git.
@Suite(.enabled(if: TestEnvironment.hasDatabaseOrCI, "needs the local stack (deploy/local/up.sh --infra-only)"))
struct CheckoutServiceTests {
    static let token = "checkout-\(UUID().uuidString)"
    var auth: HTTPFields { [.authorization: "Bearer \(Self.token)", .contentType: "application/json"] }

    /// A repository with a Dockerfile, a context file, an ignored file and a .dockerignore.
    static func makeRepository() async throws -> (url: String, commit: String, folder: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(folder)/app", withIntermediateDirectories: true)
        try "FROM busybox:1.36\nCOPY hello.txt /\n".write(toFile: "\(folder)/app/Dockerfile", atomically: true, encoding: .utf8)
        try "hello\n".write(toFile: "\(folder)/app/hello.txt", atomically: true, encoding: .utf8)
        try "secret\n".write(toFile: "\(folder)/app/local.env", atomically: true, encoding: .utf8)
        try "*.env\n".write(toFile: "\(folder)/app/.dockerignore", atomically: true, encoding: .utf8)
        let env = ChildProcess.minimalEnvironment.merging([
            "HOME": folder, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        ]) { $1 }
        for arguments in [["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "first"]] {
            let result = try await ChildProcess.output(ProcessSpec("git", arguments, environment: env, workingDirectory: folder))
            #expect(result.result.succeeded, "git \(arguments): \(result.stderr)")
        }
        let head = try await ChildProcess.output(ProcessSpec("git", ["rev-parse", "HEAD"], environment: env, workingDirectory: folder))
        return ("file://\(folder)", head.stdout.trimmingCharacters(in: .whitespacesAndNewlines), folder)
    }

    func withServices(
        allowFile: Bool = true, _ body: @escaping @Sendable (any TestClientProtocol, any TestClientProtocol) async throws -> Void
    ) async throws {
        let databaseURL = Secret(try TestEnvironment.requireDatabaseURL())
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("checkout-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let common = CommonConfiguration(port: 0, apiToken: Secret(Self.token), databaseURL: databaseURL)
        let artifactApp = try await ArtifactService.buildApplication(
            configuration: ArtifactConfiguration(common: common, backend: .filesystem, root: "\(root)/artifacts"))
        try await artifactApp.test(.live) { artifactClient in
            let port = try #require(artifactClient.port)
            let checkoutApp = try await CheckoutService.buildApplication(
                configuration: CheckoutConfiguration(
                    common: common,
                    checkout: ContextCheckout.Configuration(
                        cacheDirectory: "\(root)/mirrors", workDirectory: "\(root)/work",
                        policy: RepositoryPolicy(allowFileURLs: allowFile)),
                    artifactService: ArtifactServiceEndpoint(url: "http://127.0.0.1:\(port)", token: Secret(Self.token))))
            try await checkoutApp.test(.router) { checkoutClient in try await body(checkoutClient, artifactClient) }
        }
    }

    func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
    }

    func waitForRun(_ client: any TestClientProtocol, _ id: String) async throws -> [String: Any] {
        var run: [String: Any] = [:]
        for _ in 0..<300 {
            try await client.execute(uri: "/v1/checkouts/\(id)", method: .get, headers: auth) { run = try json($0) }
            if ["succeeded", "failed", "cancelled"].contains(run["status"] as? String) { return run }
            try await Task.sleep(for: .milliseconds(100))
        }
        return run
    }

    @Test func checksOutAndUploadsTheContext() async throws {
        let repository = try await Self.makeRepository()
        defer { try? FileManager.default.removeItem(atPath: repository.folder) }
        try await withServices { client, artifacts in
            var id = ""
            let body = "{\"repository\":\"\(repository.url)\",\"ref\":\"main\",\"context_path\":\"app\"}"
            try await client.execute(uri: "/v1/checkouts", method: .post, headers: auth, body: ByteBuffer(string: body)) {
                response in
                #expect(response.status == .accepted)
                id = try #require(try json(response)["id"] as? String)
                // As written, not as the generated server URI-encodes a declared header (%2F).
                #expect(response.headers[.location] == "/v1/checkouts/\(id)")
            }
            let run = try await waitForRun(client, id)
            #expect(run["status"] as? String == "succeeded", "run: \(run)")
            let result = try #require(run["result"] as? [String: Any])
            #expect(result["commit"] as? String == repository.commit)
            #expect(result["dockerfile"] as? String == "FROM busybox:1.36\nCOPY hello.txt /\n")
            let context = try #require(result["context"] as? [String: Any])
            let key = try #require(context["key"] as? String)
            #expect(key == "contexts/\(id).tar.gz")
            let tarball = FileManager.default.temporaryDirectory.appendingPathComponent("ctx-\(UUID().uuidString).tgz").path
            defer { try? FileManager.default.removeItem(atPath: tarball) }
            try await artifacts.execute(uri: "/v1/artifacts/\(key)", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                try Data(response.body.readableBytesView).write(to: URL(fileURLWithPath: tarball))
            }
            let listing = try await ChildProcess.output(ProcessSpec("tar", ["-tzf", tarball]))
            let names = Set(listing.stdout.split(separator: "\n").map { String($0).replacingOccurrences(of: "./", with: "") })
            #expect(names.contains("Dockerfile"))
            #expect(names.contains("hello.txt"))
            #expect(names.contains(".dockerignore"))
            #expect(!names.contains("local.env"), ".dockerignore excludes *.env")
            try await client.execute(uri: "/v1/checkouts/\(id)/events", method: .get, headers: auth) { response in
                #expect(String(buffer: response.body).contains("\"message\":\"succeeded\""))
            }
        }
    }

    @Test func anUnknownRefFailsTheRunNamingIt() async throws {
        let repository = try await Self.makeRepository()
        defer { try? FileManager.default.removeItem(atPath: repository.folder) }
        try await withServices { client, _ in
            var id = ""
            let body = "{\"repository\":\"\(repository.url)\",\"ref\":\"no-such-branch\"}"
            try await client.execute(uri: "/v1/checkouts", method: .post, headers: auth, body: ByteBuffer(string: body)) {
                id = try #require(try json($0)["id"] as? String)
            }
            let run = try await waitForRun(client, id)
            #expect(run["status"] as? String == "failed")
            let error = try #require(run["error"] as? [String: Any])
            #expect(error["code"] as? String == "REF_NOT_FOUND")
            #expect((error["message"] as? String)?.contains("no-such-branch") == true)
        }
    }

    /// Gives the repository made by `makeRepository` a submodule `vendor/x` at `url` (made with
    /// plumbing, so the URL can be anything) and commits it.
    static func addSubmodule(url: String, to folder: String) async throws {
        let env = ChildProcess.minimalEnvironment.merging([
            "HOME": folder, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        ]) { $1 }
        let head = try await ChildProcess.output(ProcessSpec("git", ["rev-parse", "HEAD"], environment: env, workingDirectory: folder))
        let commit = head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for arguments in [
            ["update-index", "--add", "--cacheinfo", "160000,\(commit),vendor/x"],
            ["config", "--file", ".gitmodules", "submodule.x.path", "vendor/x"],
            ["config", "--file", ".gitmodules", "submodule.x.url", url], ["add", ".gitmodules"],
            ["commit", "-q", "-m", "submodule"],
        ] {
            let result = try await ChildProcess.output(ProcessSpec("git", arguments, environment: env, workingDirectory: folder))
            #expect(result.result.succeeded, "git \(arguments): \(result.stderr)")
        }
    }

    /// A failing submodule fails the run with its own code, a message naming its path and URL
    /// (not the superproject's), and `retryable` only when the network failed.
    @Test(arguments: [
        ("file:///etc", "REPOSITORY_NOT_FOUND", false, "submodule vendor/x (file:///etc): repository not found: file:///etc"),
        ("../../../../../../../../../../../../../../x", "INVALID_CHECKOUT", false, "submodule vendor/x (../../../"),
        ("git://127.0.0.1:{closed}/x", "GIT_FAILED", true, "submodule vendor/x (git://127.0.0.1:{closed}/x): git submodule update failed"),
    ])
    func aFailingSubmoduleIsNamedInTheRunsError(url: String, code: String, retryable: Bool, message: String) async throws {
        let repository = try await Self.makeRepository()
        defer { try? FileManager.default.removeItem(atPath: repository.folder) }
        let closed = 1  // tcpmux: nothing listens on it here, so the connection is refused
        try await Self.addSubmodule(url: url.replacingOccurrences(of: "{closed}", with: "\(closed)"), to: repository.folder)
        try await withServices { client, _ in
            var id = ""
            let body = "{\"repository\":\"\(repository.url)\",\"ref\":\"main\",\"submodules\":true,\"context_path\":\"app\"}"
            try await client.execute(uri: "/v1/checkouts", method: .post, headers: auth, body: ByteBuffer(string: body)) {
                id = try #require(try json($0)["id"] as? String)
            }
            let run = try await waitForRun(client, id)
            #expect(run["status"] as? String == "failed")
            let error = try #require(run["error"] as? [String: Any])
            #expect(error["code"] as? String == code)
            #expect(error["retryable"] as? Bool == retryable)
            let text = try #require(error["message"] as? String)
            #expect(text.hasPrefix(message.replacingOccurrences(of: "{closed}", with: "\(closed)")), "\(text)")
            #expect(!text.contains("not found: \(repository.url)"), "names the submodule, not the superproject: \(text)")
        }
    }

    @Test func aMissingDockerfileIsNamedFromTheRepositoryRoot() async throws {
        let repository = try await Self.makeRepository()
        defer { try? FileManager.default.removeItem(atPath: repository.folder) }
        try await withServices { client, _ in
            var id = ""
            let body = "{\"repository\":\"\(repository.url)\",\"ref\":\"main\",\"context_path\":\"app\",\"dockerfile_path\":\"app/Dockerfile\"}"
            try await client.execute(uri: "/v1/checkouts", method: .post, headers: auth, body: ByteBuffer(string: body)) {
                id = try #require(try json($0)["id"] as? String)
            }
            let run = try await waitForRun(client, id)
            let error = try #require(run["error"] as? [String: Any])
            #expect(error["code"] as? String == "PATH_NOT_FOUND")
            #expect(error["retryable"] as? Bool == false)
            #expect(
                error["message"] as? String
                    == "dockerfilePath not found in the repository: app/app/Dockerfile (dockerfile_path is relative to the context (app); app/Dockerfile from the repository root is dockerfile_path Dockerfile)")
        }
    }

    @Test(arguments: [
        "{\"repository\":\"ext::sh -c touch% /tmp/pwned\",\"ref\":\"main\"}",
        "{\"repository\":\"https://example.com/x.git\",\"ref\":\"-upload-pack=touch\"}",
        "{\"repository\":\"https://user:token@example.com/x.git\",\"ref\":\"main\"}",
        "{\"repository\":\"https://example.com/x.git\",\"ref\":\"main\",\"context_path\":\"../up\"}",
        "{\"repository\":\"https://example.com/x.git\",\"ref\":\"main\",\"dockerfile_path\":\"/etc/passwd\"}",
        "{\"repository\":\"ftp://example.com/x.git\",\"ref\":\"main\"}",
    ])
    func refusesDangerousInputBeforeRunningAnything(body: String) async throws {
        try await withServices(allowFile: false) { client, _ in
            try await client.execute(uri: "/v1/checkouts", method: .post, headers: auth, body: ByteBuffer(string: body)) {
                response in
                #expect(response.status == .badRequest)
                let code = try json(response)["code"] as? String
                #expect(code == "INVALID_CHECKOUT")
            }
        }
    }

    @Test func refusesFileURLsUnlessEnabled() async throws {
        try await withServices(allowFile: false) { client, _ in
            try await client.execute(
                uri: "/v1/checkouts", method: .post, headers: auth,
                body: ByteBuffer(string: "{\"repository\":\"file:///tmp/x\",\"ref\":\"main\"}")
            ) { #expect($0.status == .badRequest) }
        }
    }
}
