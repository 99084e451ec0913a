import Digests
import Foundation
import HTTPClient
import Hummingbird
import HummingbirdTesting
import Testing
import TraceContext

@Suite struct HTTPClientTests {
    let client = HTTPClient()


    @Test func streamsAnAsyncSequenceOfUnknownLengthWithChunkedEncoding() async throws {
        let chunks = 40
        let chunkSize = 256 * 1024
        let stream = AsyncStream<[UInt8]> { continuation in
            for index in 0..<chunks { continuation.yield(Pattern.bytes(from: index * chunkSize, count: chunkSize)) }
            continuation.finish()
        }
        try await withServer { base in
            let response = try await client.send(
                ClientRequest(method: "POST", url: base + "/sink", body: .stream(ClientBodyStream(stream), length: nil)))
            let answer = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            #expect(answer?["bytes"] as? Int == chunks * chunkSize)
            #expect(answer?["sha256"] as? String == Pattern.sha256(count: chunks * chunkSize))
        }
    }

    @Test func readsAResponseBodyAsItStreams() async throws {
        try await withServer { base in
            let response = try await client.execute(ClientRequest(url: base + "/bytes/3000000"))
            var received = 0
            var chunks = 0
            for try await chunk in response.body {
                #expect(chunk == Pattern.bytes(from: received, count: chunk.count))
                received += chunk.count
                chunks += 1
            }
            #expect(received == 3_000_000)
            #expect(chunks > 1)
        }
    }

    @Test func refusesABodyOverTheCollectLimit() async throws {
        try await withServer { base in
            await #expect(throws: HTTPClientError.self) {
                try await client.send(ClientRequest(url: base + "/bytes/100000"), limit: 1000)
            }
        }
    }

    @Test func timesOutASlowResponse() async throws {
        try await withServer { base in
            let started = ContinuousClock.now
            let error = await #expect(throws: HTTPClientError.self) {
                try await client.send(
                    ClientRequest(url: base + "/slow?ms=5000", timeout: .milliseconds(300), retry: .never))
            }
            guard case .timedOut = error else {
                Issue.record("expected a timeout, got \(String(describing: error))")
                return
            }
            #expect(ContinuousClock.now - started < .seconds(3))
        }
    }

    @Test func retriesAnIdempotentRequestUntilTheServerRecovers() async throws {
        let counters = Counters()
        try await withServer(counters: counters) { base in
            let response = try await client.send(
                ClientRequest(
                    url: base + "/flaky/get?failures=2", retry: RetryPolicy(maxAttempts: 4, initialBackoff: .milliseconds(10))))
            #expect(response.status == 200)
            #expect(response.text == "attempt 3")
            #expect(counters.count("get") == 3)
        }
    }

    @Test func returnsTheLastFailureWhenRetriesRunOut() async throws {
        let counters = Counters()
        try await withServer(counters: counters) { base in
            let response = try await client.send(
                ClientRequest(
                    url: base + "/flaky/exhaust?failures=10",
                    retry: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10))))
            #expect(response.status == 503)
            #expect(counters.count("exhaust") == 3)
        }
    }

    @Test func neverRetriesAPost() async throws {
        let counters = Counters()
        try await withServer(counters: counters) { base in
            let response = try await client.send(
                ClientRequest(
                    method: "POST", url: base + "/flaky/post?failures=1",
                    retry: RetryPolicy(maxAttempts: 4, initialBackoff: .milliseconds(10))))
            #expect(response.status == 503)
            #expect(counters.count("post") == 1)
        }
    }

    @Test func retriesARefusedConnectionThenReportsIt() async throws {
        let port = try freePort()
        let started = ContinuousClock.now
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.send(
                ClientRequest(
                    url: "http://127.0.0.1:\(port)/", retry: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(100))))
        }
        #expect(error?.isTransient == true)
        // Two backoffs of at least 50 ms and 100 ms (jitter keeps half).
        #expect(ContinuousClock.now - started >= .milliseconds(150))
    }

    @Test func reusesTheConnectionForTheNextRequest() async throws {
        try await withServer { base in
            let first = try await client.send(ClientRequest(url: base + "/bytes/10"))
            let second = try await client.send(ClientRequest(url: base + "/bytes/10"))
            #expect(first.head.newConnections == 1)
            #expect(second.head.newConnections == 0)
        }
    }

    @Test func cancellingTheCallerAbortsTheTransfer() async throws {
        try await withServer { base in
            let started = ContinuousClock.now
            let task = Task { try await client.send(ClientRequest(url: base + "/slow?ms=10000", retry: .never)) }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let result = await task.result
            #expect(throws: (any Error).self) { try result.get() }
            #expect(ContinuousClock.now - started < .seconds(4))
        }
    }

    @Test func propagatesTheBoundTraceHeaders() async throws {
        try await withServer { base in
            let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            let response = try await OutboundTrace.$headers.withValue([("traceparent", traceparent), ("x-request-id", "req-1")]) {
                try await client.send(ClientRequest(url: base + "/headers"))
            }
            let fields = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String]
            #expect(fields?["traceparent"] == traceparent)
            #expect(fields?["X-Request-Id"] ?? fields?["x-request-id"] == "req-1")
        }
    }

    @Test func refusesSchemesOtherThanHTTP() async throws {
        await #expect(throws: HTTPClientError.self) {
            try await client.send(ClientRequest(url: "file:///etc/passwd", retry: .never))
        }
    }
}

/// Starts the test server on a free loopback port for the duration of `body`.
func withServer(
    counters: Counters = Counters(), _ body: @escaping @Sendable (String) async throws -> Void
) async throws {
    let app = Application(
        router: TestServer.router(counters: counters), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    try await app.test(.live) { testClient in
        try await body("http://127.0.0.1:\(try #require(testClient.port))")
    }
}

/// A port nothing listens on: bind to 0, read it back, close.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &address) { pointer in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            guard bind(fd, raw, length) == 0, getsockname(fd, raw, &length) == 0 else {
                throw POSIXError(.EADDRINUSE)
            }
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
