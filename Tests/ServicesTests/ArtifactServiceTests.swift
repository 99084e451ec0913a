import ArtifactService
import Digests
import Foundation
import HTTPClient
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Processes
import S3
import ServiceKit
import Testing

/// artifact-service in process, against the real PostgreSQL, moto's S3 (signatures checked) and
/// the local registry.
@Suite(.enabled(if: TestEnvironment.hasDatabaseOrCI, "needs the local stack (deploy/local/up.sh --infra-only)"))
struct ArtifactServiceTests {
    static let token = "artifact-\(UUID().uuidString)"
    let prefix = "tests/\(UUID().uuidString.lowercased())"
    var auth: HTTPFields { [.authorization: "Bearer \(Self.token)"] }

    func configuration(s3: Bool, partSizeMB: Int = 16) throws -> ArtifactConfiguration {
        let env = TestEnvironment.variables
        let common = CommonConfiguration(
            port: 0, apiToken: Secret(Self.token), databaseURL: Secret(try TestEnvironment.requireDatabaseURL()))
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("artifacts-\(UUID().uuidString)").path
        guard s3 else { return ArtifactConfiguration(common: common, backend: .filesystem, root: root) }
        let settings = S3Configuration(
            endpoint: try TestEnvironment.require("BUILDCHAIN_TEST_S3_ENDPOINT"),
            region: env["BUILDCHAIN_TEST_S3_REGION"] ?? "us-east-1",
            bucket: try TestEnvironment.require("BUILDCHAIN_TEST_S3_BUCKET"),
            accessKeyID: try TestEnvironment.require("BUILDCHAIN_TEST_S3_ACCESS_KEY_ID"),
            secretAccessKey: try TestEnvironment.require("BUILDCHAIN_TEST_S3_SECRET_ACCESS_KEY"),
            multipartThreshold: Int64(partSizeMB << 20), partSize: partSizeMB << 20, maxPartsInFlight: 3)
        return ArtifactConfiguration(common: common, backend: .s3, root: root, s3: settings)
    }

    /// The bucket the S3 backend writes to, seen directly.
    func bucket() throws -> S3Client {
        let settings = try #require(try configuration(s3: true).s3)
        return try S3Client(configuration: settings, httpClient: HTTPClient())
    }

    func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
    }

    @Test(arguments: [false, true])
    func storesStreamsAndDeletesAnArtifact(s3: Bool) async throws {
        let app = try await buildApplication(configuration: try configuration(s3: s3))
        let content = (0..<300_000).map { UInt8($0 % 253) }
        let sha = SHA256.hash(content).hex
        let key = "\(prefix)/contexts/one.tar.gz"
        try await app.test(.router) { client in
            var headers = auth
            headers[.contentType] = "application/gzip"
            try await client.execute(
                uri: "/v1/artifacts/\(key)", method: .put, headers: headers, body: ByteBuffer(bytes: content)
            ) { response in
                #expect(response.status == .created)
                let body = try json(response)
                #expect(body["sha256"] as? String == sha)
                #expect(body["size"] as? Int == content.count)
                #expect(body["media_type"] as? String == "application/gzip")
            }
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                #expect(Array(response.body.readableBytesView) == content)
                #expect(response.headers[HTTPField.Name("x-checksum-sha256")!] == sha)
            }
            var range = auth
            range[.range] = "bytes=100-199"
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .get, headers: range) { response in
                #expect(response.status == .partialContent)
                #expect(Array(response.body.readableBytesView) == Array(content[100...199]))
                #expect(response.headers[.contentRange] == "bytes 100-199/\(content.count)")
            }
            range[.range] = "bytes=999999-"
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .get, headers: range) { response in
                #expect(response.status == .rangeNotSatisfiable)
            }
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .head, headers: auth) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentLength] == String(content.count))
            }
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .delete, headers: auth) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .get, headers: auth) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func aWrongDigestStoresNothing() async throws {
        let app = try await buildApplication(configuration: try configuration(s3: true))
        let key = "\(prefix)/digest.bin"
        try await app.test(.router) { client in
            var headers = auth
            headers[HTTPField.Name("x-checksum-sha256")!] = String(repeating: "0", count: 64)
            try await client.execute(
                uri: "/v1/artifacts/\(key)", method: .put, headers: headers, body: ByteBuffer(string: "payload")
            ) { response in
                #expect(response.status == .badRequest)
                let code = try json(response)["code"] as? String
                #expect(code == "DIGEST_MISMATCH")
            }
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .head, headers: auth) { response in
                #expect(response.status == .notFound)
            }
            headers[HTTPField.Name("x-checksum-sha256")!] = nil
            headers[HTTPField.Name("Digest")!] = "sha-256=" + Data(SHA256.hash("payload").bytes).base64EncodedString()
            try await client.execute(
                uri: "/v1/artifacts/\(key)", method: .put, headers: headers, body: ByteBuffer(string: "payload")
            ) { response in
                #expect(response.status == .created)
            }
        }
    }

    /// 23 MiB in 5 MiB parts, sent by a real client over a socket as it is produced.
    @Test func streamsALargeUploadToS3InParts() async throws {
        let content = Self.content(count: 23 << 20)
        let sha = SHA256.hash(content).hex
        let key = "\(prefix)/streamed/image.tar"
        try await withStreamingService { client, s3 in
            let response = try await upload(
                Self.chunks(of: content), length: Int64(content.count), to: key, port: try #require(client.port),
                checksum: sha)
            #expect(response.status == 201, "\(String(decoding: response.body, as: UTF8.self))")
            let head = try #require(try await s3.headObject(key: key))
            #expect(head.size == Int64(content.count))
            #expect(head.etag?.hasSuffix("-5\"") == true, "a multipart upload of 5 parts, not \(head.etag ?? "none")")
            #expect(head.metadata["sha256"] == sha)
            var hasher = SHA256()
            for try await chunk in try await s3.getObject(key: key).body { hasher.update(chunk) }
            #expect(hasher.finalize().hex == sha)
            #expect(try await s3.listMultipartUploads(prefix: key).isEmpty)
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .head, headers: auth) { response in
                #expect(response.headers[.contentLength] == String(content.count))
                #expect(response.headers[HTTPField.Name("x-checksum-sha256")!] == sha)
            }
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .delete, headers: auth) {
                #expect($0.status == .noContent)
            }
        }
    }

    /// A wrong checksum found after several parts went up: the upload is
    /// aborted and the artifact stored before under the key stays as it was.
    @Test func aMismatchingChecksumKeepsTheStoredArtifact() async throws {
        let key = "\(prefix)/mismatch.tar"
        try await withStreamingService { client, s3 in
            let port = try #require(client.port)
            let old = Array("the artifact stored first".utf8)
            #expect(try await upload(Self.chunks(of: old), length: Int64(old.count), to: key, port: port).status == 201)
            let content = Self.content(count: 17 << 20)
            let wrong = SHA256.hash(old).hex
            let response = try await upload(
                Self.chunks(of: content), length: Int64(content.count), to: key, port: port, checksum: wrong)
            #expect(response.status == 400)
            let problem = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            #expect(problem?["code"] as? String == "DIGEST_MISMATCH")
            #expect(try await s3.listMultipartUploads(prefix: key).isEmpty)
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                #expect(Array(response.body.readableBytesView) == old)
                #expect(response.headers[HTTPField.Name("x-checksum-sha256")!] == SHA256.hash(old).hex)
            }
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .delete, headers: auth) {
                #expect($0.status == .noContent)
            }
        }
    }

    /// The client sends 12 of 30 MiB, waits until the service's multipart
    /// upload has started, then drops the connection.
    @Test func aClientThatDisconnectsMidBodyLeavesNoUpload() async throws {
        let key = "\(prefix)/disconnected.tar"
        struct ClientGaveUp: Error {}
        try await withStreamingService { client, s3 in
            let (body, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
            let feeder = Task {
                for try await chunk in Self.chunks(of: Self.content(count: 12 << 20)) { continuation.yield(chunk) }
                var started = false
                for _ in 0..<200 where !started {
                    try? await Task.sleep(for: .milliseconds(50))
                    started = (try? await s3.listMultipartUploads(prefix: key).isEmpty) == false
                }
                continuation.finish(throwing: ClientGaveUp())
                return started
            }
            await #expect(throws: (any Error).self) {
                try await upload(body, length: 30 << 20, to: key, port: try #require(client.port))
            }
            #expect(try await feeder.value, "the service's multipart upload never showed up")
            var uploads = try await s3.listMultipartUploads(prefix: key)
            for _ in 0..<100 where !uploads.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                uploads = try await s3.listMultipartUploads(prefix: key)
            }
            #expect(uploads.isEmpty, "left behind: \(uploads)")
            #expect(try await s3.headObject(key: key) == nil)
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .head, headers: auth) {
                #expect($0.status == .notFound)
            }
        }
    }

    /// The S3-backed service with 5 MiB parts on a real socket, and the bucket it writes to.
    func withStreamingService(
        _ body: @escaping @Sendable (any TestClientProtocol, S3Client) async throws -> Void
    ) async throws {
        let app = try await buildApplication(configuration: try configuration(s3: true, partSizeMB: 5))
        let s3 = try bucket()
        try await app.test(.live) { client in try await body(client, s3) }
    }

    /// A PUT from a real HTTP client, its body streamed as `chunks` produces it.
    func upload(
        _ chunks: some AsyncSequence<[UInt8], any Error> & Sendable, length: Int64, to key: String, port: Int,
        checksum: String? = nil
    ) async throws -> BufferedClientResponse {
        var headers: HTTPHeaders = ["Authorization": "Bearer \(Self.token)"]
        if let checksum { headers.add("x-checksum-sha256", checksum) }
        return try await HTTPClient().send(
            ClientRequest(
                method: "PUT", url: "http://127.0.0.1:\(port)/v1/artifacts/\(key)", headers: headers,
                body: .stream(ClientBodyStream(chunks), length: length), retry: .never))
    }

    /// Bytes that differ from one MiB to the next.
    static func content(count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 20) &* 131) }
    }

    /// `bytes` as a stream of 256 KiB chunks.
    static func chunks(of bytes: [UInt8]) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            for start in stride(from: 0, to: bytes.count, by: 256 << 10) {
                continuation.yield(Array(bytes[start..<min(bytes.count, start + (256 << 10))]))
            }
            continuation.finish()
        }
    }

    @Test(arguments: ["a/../b", "a//b", "a/./b", "a/b/", "a%01b", "a%5Cb", String(repeating: "0", count: 256)])
    func refusesKeysThatLeaveTheirPlace(key: String) async throws {
        let app = try await buildApplication(configuration: try configuration(s3: false))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/artifacts/\(prefix)/\(key)", method: .put, headers: auth, body: ByteBuffer(string: "x")) {
                response in
                #expect(response.status == .badRequest)
                let code = try json(response)["code"] as? String
                #expect(code == "INVALID_KEY")
            }
        }
    }

    @Test func listsByPrefixInPages() async throws {
        let app = try await buildApplication(configuration: try configuration(s3: false))
        try await app.test(.router) { client in
            for name in ["a", "b", "c", "d", "e"] {
                try await client.execute(uri: "/v1/artifacts/\(prefix)/list/\(name)", method: .put, headers: auth, body: ByteBuffer(string: name)) {
                    #expect($0.status == .created)
                }
            }
            var keys: [String] = []
            var cursor: String?
            repeat {
                let query = "prefix=\(prefix)/list/&limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                try await client.execute(uri: "/v1/artifacts?\(query)", method: .get, headers: auth) { response in
                    let body = try json(response)
                    let items = try #require(body["items"] as? [[String: Any]])
                    #expect(items.count <= 2)
                    keys += items.compactMap { $0["key"] as? String }
                    cursor = body["next_cursor"] as? String
                }
            } while cursor != nil
            #expect(keys == ["a", "b", "c", "d", "e"].map { "\(prefix)/list/\($0)" })
        }
    }

    @Test func presignsS3ObjectsOnly() async throws {
        let key = "\(prefix)/presign.txt"
        try await buildApplication(configuration: try configuration(s3: true)).test(.router) { client in
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .put, headers: auth, body: ByteBuffer(string: "hello")) {
                #expect($0.status == .created)
            }
            try await client.execute(
                uri: "/v1/presigned-urls", method: .post, headers: auth,
                body: ByteBuffer(string: "{\"key\":\"\(key)\",\"expires_seconds\":60}")
            ) { response in
                #expect(response.status == .ok)
                let url = try #require(try json(response)["url"] as? String)
                let (result, body, _) = try await ChildProcess.output(ProcessSpec("curl", ["-sf", url]))
                #expect(result.succeeded)
                #expect(body == "hello\n")
            }
        }
        try await buildApplication(configuration: try configuration(s3: false)).test(.router) { client in
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .put, headers: auth, body: ByteBuffer(string: "hello")) {
                #expect($0.status == .created)
            }
            try await client.execute(
                uri: "/v1/presigned-urls", method: .post, headers: auth, body: ByteBuffer(string: "{\"key\":\"\(key)\"}")
            ) { response in
                #expect(response.status == .conflict)
            }
        }
    }

    @Test func pushesAStoredImageTarballToTheRegistry() async throws {
        let registry = try TestEnvironment.require("BUILDCHAIN_TEST_REGISTRY")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("push-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tarball = "\(folder)/image.tar"
        let copy = try await ChildProcess.output(
            ProcessSpec(
                "skopeo",
                ["copy", "--src-tls-verify=false", "docker://\(registry)/library/busybox:1.36", "docker-archive:\(tarball):busybox:1.36"],
                environment: ChildProcess.minimalEnvironment.merging(["HOME": folder]) { $1 }))
        #expect(copy.result.succeeded, "skopeo copy: \(copy.stderr)")
        let key = "\(prefix)/images/busybox.tar"
        let repository = "tests/push-\(UUID().uuidString.lowercased())"
        let destination = "\(registry)/\(repository):v1"
        let app = try await buildApplication(configuration: try configuration(s3: true))
        try await app.test(.router) { client in
            let bytes = try Data(contentsOf: URL(fileURLWithPath: tarball))
            try await client.execute(uri: "/v1/artifacts/\(key)", method: .put, headers: auth, body: ByteBuffer(bytes: bytes)) {
                #expect($0.status == .created)
            }
            for attempt in 1...2 {
                var id = ""
                try await client.execute(
                    uri: "/v1/pushes", method: .post, headers: auth,
                    body: ByteBuffer(string: "{\"artifact_key\":\"\(key)\",\"destination\":\"\(destination)\"}")
                ) { response in
                    #expect(response.status == .accepted)
                    id = try #require(try json(response)["id"] as? String)
                    #expect(response.headers[.location] == "/v1/pushes/\(id)")
                }
                var run: [String: Any] = [:]
                for _ in 0..<200 {
                    try await client.execute(uri: "/v1/pushes/\(id)", method: .get, headers: auth) { run = try json($0) }
                    if ["succeeded", "failed", "cancelled"].contains(run["status"] as? String) { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(run["status"] as? String == "succeeded", "run: \(run)")
                let result = try #require(run["result"] as? [String: Any])
                let inspect = try await ChildProcess.output(
                    ProcessSpec("skopeo", ["inspect", "--tls-verify=false", "docker://\(destination)"],
                        environment: ChildProcess.minimalEnvironment.merging(["HOME": folder]) { $1 }))
                let inspected = try #require(
                    JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
                #expect(result["manifest_digest"] as? String == inspected["Digest"] as? String)
                #expect(result["destination"] as? String == destination)
                #expect(result["reference"] as? String == "\(registry)/\(repository)@\(inspected["Digest"] as? String ?? "")")
                if attempt == 2 { #expect(result["blobs_uploaded"] as? Int == 0, "the second push uploads no blob") }
                try await client.execute(uri: "/v1/pushes/\(id)/events", method: .get, headers: auth) { response in
                    let lines = String(buffer: response.body).split(separator: "\n")
                    #expect(lines.contains { $0.contains("\"message\":\"succeeded\"") })
                    #expect(lines.contains { $0.contains("pushed sha256:") })
                }
            }
            try await client.execute(
                uri: "/v1/pushes", method: .post, headers: auth,
                body: ByteBuffer(string: "{\"artifact_key\":\"\(prefix)/missing.tar\",\"destination\":\"\(destination)\"}")
            ) { #expect($0.status == .notFound) }
            try await client.execute(
                uri: "/v1/pushes", method: .post, headers: auth,
                body: ByteBuffer(string: "{\"artifact_key\":\"\(key)\",\"destination\":\"Not A Reference!\"}")
            ) { #expect($0.status == .badRequest) }
        }
    }
}
