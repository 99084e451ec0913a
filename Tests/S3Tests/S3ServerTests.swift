import Digests
import Foundation
import HTTPClient
import S3
import Testing

/// Against the S3 server of `deploy/local` (moto, SigV4 checked). Serialized:
/// the memory test samples the resident size of the whole process.
@Suite(.serialized, .enabled(if: S3TestServer.isConfigured || TestEnvironment.isCI, S3TestServer.skipReason))
struct S3ServerTests {
    let http = HTTPClient()

    func client(_ change: (inout S3Configuration) -> Void = { _ in }) throws -> S3Client {
        var configuration = try S3TestServer.requireConfiguration()
        change(&configuration)
        return try S3Client(configuration: configuration, httpClient: http)
    }

    @Test func putGetHeadDeleteRoundTrip() async throws {
        let s3 = try client()
        let key = uniquePrefix("roundtrip") + "object with spaces+plus.bin"
        let bytes = TestData.bytes(count: 300_000)
        let put = try await s3.putObject(
            key: key, bytes: bytes, contentType: "application/x-tar", metadata: ["Build-Id": "job-1"])
        #expect(put.size == 300_000)
        #expect(put.sha256 == SHA256.hash(bytes).hex)
        #expect(put.partCount == 0)
        #expect(!put.etag.isEmpty)

        let head = try #require(try await s3.headObject(key: key))
        #expect(head.size == 300_000)
        #expect(head.contentType == "application/x-tar")
        #expect(head.metadata["build-id"] == "job-1")
        #expect(head.etag == put.etag)

        let object = try await s3.getObject(key: key)
        #expect(object.status == 200)
        #expect(object.contentLength == 300_000)
        let fetched = try await drain(object.body)
        #expect(fetched.size == bytes.count)
        #expect(fetched.sha256 == put.sha256)

        try await s3.deleteObject(key: key)
        #expect(try await s3.headObject(key: key) == nil)
        let error = await #expect(throws: S3Error.self) { try await s3.getObject(key: key) }
        #expect(error?.code == "NoSuchKey")
        #expect(error?.status == 404)
    }

    @Test func aWrongSecretFailsWithSignatureDoesNotMatch() async throws {
        let s3 = try client { $0.secretAccessKey += "x" }
        let error = await #expect(throws: S3Error.self) {
            try await s3.putObject(key: uniquePrefix("wrong-secret") + "k", bytes: [1, 2, 3])
        }
        #expect(error?.code == "SignatureDoesNotMatch")
        #expect(error?.status == 403)
        let secret = try S3TestServer.requireConfiguration().secretAccessKey
        #expect(!"\(String(describing: error))".contains(secret))
        let listError = await #expect(throws: S3Error.self) { try await s3.listObjects(maxKeys: 1) }
        #expect(listError?.code == "SignatureDoesNotMatch")
    }

    @Test func rangeGetReturnsTheRequestedBytes() async throws {
        let s3 = try client()
        let key = uniquePrefix("range") + "data"
        let bytes = TestData.bytes(count: 10_000)
        _ = try await s3.putObject(key: key, bytes: bytes)
        try await removing(key, from: s3) {
            let object = try await s3.getObject(key: key, range: 1000...1999)
            #expect(object.status == 206)
            #expect(object.contentLength == 1000)
            #expect(try await object.body.collectAll() == Array(bytes[1000...1999]))
        }
    }

    @Test func listsWithPrefixAndPagination() async throws {
        let s3 = try client()
        let prefix = uniquePrefix("list")
        let keys = (1...5).map { "\(prefix)item-\($0)" }
        for key in keys + ["\(prefix.dropLast())-outside"] {
            _ = try await s3.putObject(key: key, bytes: Array(key.utf8))
        }
        var listed: [S3ObjectSummary] = []
        var pages: [Int] = []
        var token: String? = nil
        repeat {
            let page = try await s3.listObjects(prefix: prefix, maxKeys: 2, continuationToken: token)
            listed += page.objects
            pages.append(page.objects.count)
            token = page.nextContinuationToken
            #expect(page.isTruncated == (token != nil))
        } while token != nil && pages.count < 10
        #expect(pages == [2, 2, 1])
        #expect(listed.map(\.key) == keys)
        #expect(listed.map(\.size) == keys.map { Int64($0.utf8.count) })
        for key in keys + ["\(prefix.dropLast())-outside"] { try await s3.deleteObject(key: key) }
        #expect(try await s3.listObjects(prefix: prefix).objects.isEmpty)
    }

    /// moto takes the bucket from the Host name unless the host is an IP
    /// address or starts with `localhost`, and libcurl resolves `*.localhost`
    /// to loopback itself, so `bucket.localhost` reaches it.
    @Test func virtualHostAddressingWorks() async throws {
        let s3 = try client {
            $0.addressingStyle = .virtualHost
            $0.endpoint = $0.endpoint.replacingOccurrences(of: "://127.0.0.1", with: "://localhost")
        }
        let key = uniquePrefix("virtual-host") + "object"
        let put = try await s3.putObject(key: key, bytes: Array("hello".utf8))
        let object = try await s3.getObject(key: key)
        #expect(try await object.body.collectAll() == Array("hello".utf8))
        #expect(try await s3.listObjects(prefix: key).objects.map(\.key) == [key])
        #expect(try await s3.headObject(key: key)?.etag == put.etag)
        try await s3.deleteObject(key: key)
    }

    @Test func presignedGetURLWorksWithoutCredentialsAndATamperedOneFails() async throws {
        let s3 = try client()
        let key = uniquePrefix("presigned") + "report.txt"
        let bytes = Array("presigned content".utf8)
        _ = try await s3.putObject(key: key, bytes: bytes)
        try await removing(key, from: s3) {
            let url = try s3.presignedGetURL(key: key, expires: .seconds(300))
            #expect(url.contains("X-Amz-Signature="))

            // Plain GETs: no Authorization header, no credentials.
            let fetched = try await http.send(ClientRequest(url: url))
            #expect(
                fetched.status == 200,
                "presigned GET answered \(fetched.status) (moto verifies presigned URLs only with deploy/local/moto_server.py's query-auth check)"
            )
            #expect(fetched.body == bytes)

            var tampered = url
            let last = tampered.removeLast()
            tampered.append(last == "0" ? "1" : "0")
            let rejected = try await http.send(ClientRequest(url: tampered))
            #expect(rejected.status == 403)
            #expect(rejected.text.contains("SignatureDoesNotMatch"))

            let expired = try s3.presignedGetURL(key: key, expires: .seconds(60), now: Date().addingTimeInterval(-3600))
            #expect(try await http.send(ClientRequest(url: expired)).status == 403)
        }
    }

    @Test func createsAndDeletesABucket() async throws {
        let bucket = "buildchain-test-\(UUID().uuidString.lowercased().prefix(8))"
        let s3 = try client { $0.bucket = bucket }
        try await s3.createBucket()
        try await s3.createBucket()  // already ours: fine
        _ = try await s3.putObject(key: "k", bytes: [1])
        #expect(try await s3.listObjects().objects.map(\.key) == ["k"])
        try await s3.deleteObject(key: "k")
        try await s3.deleteBucket()
        let error = await #expect(throws: S3Error.self) { try await s3.listObjects() }
        #expect(error?.code == "NoSuchBucket")
    }
}

/// Runs `body`, then deletes `key` whether it failed or not.
func removing(_ key: String, from s3: S3Client, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        try? await s3.deleteObject(key: key)
        throw error
    }
    try await s3.deleteObject(key: key)
}

extension ClientResponseBody {
    func collectAll() async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in self { bytes += chunk }
        return bytes
    }
}
