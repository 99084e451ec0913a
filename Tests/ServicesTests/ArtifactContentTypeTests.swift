import ArtifactService
import Foundation
import HTTPClient
import Hummingbird
import HummingbirdTesting
import S3
import Testing

/// Whatever `Content-Type` an upload came with, the object is stored and served as sent:
/// whole, by range and by HEAD, on both backends, on a real socket. Every request has a
/// timeout, so a response that promises bytes and never sends them fails here instead of
/// hanging (as an `application/x-www-form-urlencoded` upload to S3 once did).
@Suite(.enabled(if: TestEnvironment.hasDatabaseOrCI, "needs the local stack (deploy/local/up.sh --infra-only)"))
struct ArtifactContentTypeTests {
    let base = ArtifactServiceTests()

    static let contentTypes: [String?] = [
        "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "application/json", nil,
        "garbage;;==/ not a type",
    ]
    /// Looks like a form (with the `key` and `file` fields moto reads uploads from) and holds every byte value.
    static let content = Array("key=a&file=b&c=%41".utf8) + (0...255).map { UInt8($0) }

    @Test(arguments: [false, true])
    func everyUploadIsServedAsStored(s3: Bool) async throws {
        let http = HTTPClient()
        let content = Self.content
        try await buildApplication(configuration: try base.configuration(s3: s3)).test(.live) { client in
            let service = "http://127.0.0.1:\(try #require(client.port))/v1/artifacts/\(base.prefix)/types/"
            for (number, type) in Self.contentTypes.enumerated() {
                let url = service + "\(number)"
                var headers = base.headers
                if let type { headers.add("Content-Type", type) }
                func send(_ method: String, _ extra: HTTPHeaders = [:], body: ClientRequestBody = .none) async throws
                    -> BufferedClientResponse
                {
                    var all = method == "PUT" ? headers : base.headers
                    for field in extra { all.add(field.name, field.value) }
                    return try await http.send(
                        ClientRequest(method: method, url: url, headers: all, body: body, timeout: .seconds(10), retry: .never))
                }
                let shown = type ?? "no type"
                let put = try await send("PUT", body: .bytes(content))
                try #require(put.status == 201, "\(shown): PUT \(put.status)")
                let record = try #require(try JSONSerialization.jsonObject(with: Data(put.body)) as? [String: Any])
                #expect(record["media_type"] as? String == type ?? "application/octet-stream", "\(shown)")
                #expect(record["size"] as? Int == content.count, "\(shown)")

                let head = try await send("HEAD")
                #expect(head.status == 200, "\(shown): HEAD")
                #expect(head.headers["Content-Length"] == String(content.count), "\(shown): HEAD")
                #expect(head.headers["Content-Type"] == type ?? "application/octet-stream", "\(shown): HEAD")

                let get = try await send("GET")
                #expect(get.status == 200 && get.body == content, "\(shown): GET \(get.status), \(get.body.count) bytes")
                #expect(get.headers["Content-Type"] == type ?? "application/octet-stream", "\(shown): GET")

                let range = try await send("GET", ["Range": "bytes=3-40"])
                #expect(range.status == 206 && range.body == Array(content[3...40]), "\(shown): range \(range.status)")
                #expect(range.headers["Content-Range"] == "bytes 3-40/\(content.count)", "\(shown)")
                let suffix = try await send("GET", ["Range": "bytes=-4"])
                #expect(suffix.status == 206 && suffix.body == Array(content.suffix(4)), "\(shown): suffix range")

                #expect(try await send("DELETE").status == 204, "\(shown): DELETE")
            }
        }
    }

    /// An object changed behind the service's back (another size than recorded) is refused
    /// before any header goes out, rather than answered with a Content-Length it cannot fill.
    @Test(arguments: [false, true])
    func anObjectThatNoLongerMatchesItsRecordIsRefusedAtOnce(s3: Bool) async throws {
        let configuration = try base.configuration(s3: s3)
        let key = "\(base.prefix)/changed.bin"
        let http = HTTPClient()
        try await buildApplication(configuration: configuration).test(.live) { client in
            let url = "http://127.0.0.1:\(try #require(client.port))/v1/artifacts/\(key)"
            let put = try await http.send(
                ClientRequest(method: "PUT", url: url, headers: base.headers, body: .bytes(Self.content), retry: .never))
            try #require(put.status == 201)
            if s3 {
                _ = try await base.bucket().putObject(key: key, bytes: Array("short".utf8))
            } else {
                #expect(truncate("\(configuration.root)/objects/\(key)", 5) == 0)
            }
            for (method, range) in [("GET", nil), ("GET", "bytes=0-99"), ("HEAD", nil)] {
                var headers = base.headers
                if let range { headers.add("Range", range) }
                let answer = try await http.send(
                    ClientRequest(method: method, url: url, headers: headers, timeout: .seconds(10), retry: .never))
                #expect(answer.status == 503, "\(method) \(range ?? "whole"): \(answer.status)")
                if method == "GET" { #expect(String(decoding: answer.body, as: UTF8.self).contains("STORE_INCONSISTENT")) }
            }
            _ = try await http.send(ClientRequest(method: "DELETE", url: url, headers: base.headers, retry: .never))
        }
    }

    /// A file cut short while its body is being sent: the connection is closed at once, so the
    /// client sees a short body and an error in seconds, instead of waiting for the rest.
    @Test func aBodyCutShortWhileSendingEndsTheConnection() async throws {
        let configuration = try base.configuration(s3: false)
        let key = "\(base.prefix)/cut.bin"
        let content = ArtifactServiceTests.content(count: 32 << 20)
        let http = HTTPClient()
        try await buildApplication(configuration: configuration).test(.live) { client in
            let url = "http://127.0.0.1:\(try #require(client.port))/v1/artifacts/\(key)"
            let put = try await http.send(
                ClientRequest(method: "PUT", url: url, headers: base.headers, body: .bytes(content), retry: .never))
            try #require(put.status == 201)
            let started = ContinuousClock.now
            let response = try await http.execute(ClientRequest(url: url, headers: base.headers, timeout: .seconds(20), retry: .never))
            #expect(response.status == 200)
            var received = 0
            await #expect(throws: (any Error).self) {
                for try await chunk in response.body {
                    if received == 0 { #expect(truncate("\(configuration.root)/objects/\(key)", 1 << 20) == 0) }
                    received += chunk.count
                }
            }
            #expect(received < content.count)
            let waited = ContinuousClock.now - started
            #expect(waited < .seconds(10), "the client waited \(waited)")
        }
    }
}
