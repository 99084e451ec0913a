import ArtifactAPI
import ContractCoding
import Foundation
import HTTPClient
import HTTPTypes
import OpenAPIRuntime
import OpenAPITransport
import RequestValidation
import TestSupport
import Testing
import TraceContext

/// The generated `ArtifactAPI` client over `HTTPClientTransport` against a real server on
/// loopback. Serialized so the memory-bounded transfers do not count each other's buffers.
@Suite(.serialized) struct HTTPClientTransportTests {
    let standIn = ArtifactStandIn()
    let transport = HTTPClientTransport(client: HTTPClient())

    func client(_ url: URL, _ middlewares: [any ClientMiddleware] = []) -> Client {
        Client(serverURL: url, configuration: .buildchain, transport: transport, middlewares: middlewares)
    }

    @Test func streamsARequestBodyOfUnknownLengthWithBoundedMemory() async throws {
        let size = 64 << 20
        let blocks = size / Block.bytes.count
        let chunks = AsyncStream<ArraySlice<UInt8>> { continuation in
            for _ in 0..<blocks { continuation.yield(ArraySlice(Block.bytes)) }
            continuation.finish()
        }
        try await standIn.serving { url in
            let (output, growth) = try await ResidentMemory.peakGrowth {
                try await client(url).putArtifact(
                    path: .init(key: "uploads/big.bin"), body: .binary(HTTPBody(chunks, length: .unknown, iterationBehavior: .single)))
            }
            let artifact = try output.created.body.json
            #expect(artifact.size == size)
            #expect(artifact.sha256 == Block.sha256(count: size))
            #expect(artifact.key == "uploads/big.bin")
            #expect(standIn.headers[.transferEncoding] == "chunked", "a body of unknown length goes out chunked")
            #expect(growth < 24 << 20, "resident memory grew by \(growth >> 20) MiB during a 64 MiB upload")
        }
    }

    /// Against HTTPClientTests' pattern_server.py (GET …/<n>: n bytes, byte i is i % 251): out of
    /// process, so the memory measured is the client's alone.
    @Test func streamsAResponseBodyAsItArrivesWithBoundedMemory() async throws {
        let size = 64 << 20
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HTTPClientTests/pattern_server.py")
        let server = try ScriptServer(script: script)
        defer { server.stop() }
        let url = try #require(URL(string: "http://127.0.0.1:\(server.port)"))
        let (read, growth) = try await ResidentMemory.peakGrowth {
            let body = try await client(url).getArtifact(path: .init(key: "\(size)")).ok.body.binary
            #expect(body.length == .known(Int64(size)))
            var read = 0
            var mismatched = false
            for try await chunk in body {
                mismatched = mismatched || chunk.first != UInt8(read % 251)
                read += chunk.count
            }
            #expect(!mismatched)
            return read
        }
        #expect(read == size)
        #expect(growth < 16 << 20, "resident memory grew by \(growth >> 20) MiB during a 64 MiB download")
    }

    /// `SpecLimits` refuses what the service's spec refuses before anything is sent, naming the
    /// field and the spec's code; a request within the limits goes through unchanged.
    @Test func specLimitsRefuseBeforeSendingAndPassWhatIsWithin() async throws {
        try await standIn.serving { url in
            let limited = client(url, [try SpecLimits(spec: OpenAPIDocument.json)])
            func refusal(_ call: () async throws -> Void) async -> Violation? {
                do {
                    try await call()
                    return nil
                } catch let error as ClientError {
                    return error.underlyingError as? Violation
                } catch {
                    return nil
                }
            }
            let badJobID = await refusal {
                _ = try await limited.putArtifact(
                    path: .init(key: "a/b"), query: .init(jobId: "not-a-uuid"), body: .binary(HTTPBody("hello")))
            }
            #expect(badJobID.map { [$0.field, $0.problem.code] } == ["job_id", "INVALID_JOB_ID"])
            let badExpiry = await refusal {
                _ = try await limited.presignArtifact(body: .json(.init(key: "a/b", expiresSeconds: 0)))
            }
            #expect(badExpiry.map { [$0.field, $0.problem.code] } == ["expires_seconds", "INVALID_EXPIRY"])
            #expect(standIn.requestCount == 0, "a refused request must not reach the server")

            let stored = try await limited.putArtifact(
                path: .init(key: "a/b"), query: .init(jobId: UUID().uuidString), body: .binary(HTTPBody("hello")))
            #expect(try stored.created.body.json.size == 5)
            // The stand-in has no presign route (an empty 404 the client cannot read): what counts is that it arrived.
            _ = try? await limited.presignArtifact(body: .json(.init(key: "a/b", expiresSeconds: 60)))
            #expect(standIn.requestCount == 2)
        }
    }

    @Test func headAndNoContentAnswersHaveNoBody() async throws {
        try await standIn.serving { url in
            let head = try await transport.send(
                HTTPRequest(method: .head, scheme: nil, authority: nil, path: "/v1/artifacts/a/b"), body: nil, baseURL: url,
                operationID: "headArtifact")
            #expect(head.0.status == .ok)
            #expect(head.0.headerFields[.contentLength] == "5")
            #expect(head.1 == nil)
            let deleted = try await transport.send(
                HTTPRequest(method: .delete, scheme: nil, authority: nil, path: "/v1/artifacts/a/b"), body: nil, baseURL: url,
                operationID: "deleteArtifact")
            #expect(deleted.0.status == .noContent)
            #expect(deleted.1 == nil)
            // The spec's HEAD documents the headers GET would send (here only Content-Length).
            #expect(try await client(url).headArtifact(path: .init(key: "a/b")).ok.headers == .init(contentLength: 5))
            #expect(try await client(url).deleteArtifact(path: .init(key: "a/b")).noContent == .init())
        }
    }

    @Test func bearerTokenRequestIDAndTraceContextArrive() async throws {
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        try await standIn.serving { url in
            try await OutboundTrace.$headers.withValue([("x-request-id", "req-123"), ("traceparent", traceparent)]) {
                _ = try await client(url, [BearerToken("s3cret")]).deleteArtifact(path: .init(key: "x"))
            }
            let headers = standIn.headers
            #expect(headers[.authorization] == "Bearer s3cret")
            #expect(headers[HTTPField.Name("x-request-id")!] == "req-123")
            #expect(headers[HTTPField.Name("traceparent")!] == traceparent)
        }
    }

    @Test func aKeyWithSlashesAndSpacesArrivesAsGiven() async throws {
        try await standIn.serving { url in
            let artifact = try await client(url).putArtifact(
                path: .init(key: "images/app one/svc/x.tar"), body: .binary(HTTPBody("abc"))
            ).created.body.json
            #expect(artifact.key == "images/app one/svc/x.tar")
            #expect(artifact.size == 3)
        }
    }

    @Test func errorStatusesAreTheDocumentedProblemOrTheUndocumentedCase() async throws {
        try await standIn.serving { url in
            let missing = try await client(url).getArtifact(path: .init(key: "missing"))
            #expect(try missing.notFound.body.applicationProblemJson.code == "ARTIFACT_NOT_FOUND")
            guard case .undocumented(let status, let payload) = try await client(url).getArtifact(path: .init(key: "broken")) else {
                Issue.record("a 500, which artifact.yaml does not list for GET, is not the undocumented case")
                return
            }
            #expect(status == 500)
            let body = try #require(payload.body)
            let text = try await String(collecting: body, upTo: 1 << 16)
            #expect(text.contains("\"INTERNAL\""))
        }
    }
}
