import Digests
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// A real HTTP server on loopback answering artifact-service's paths as its spec says, so the
/// generated `ArtifactAPI` client can be driven through `HTTPClientTransport`:
/// `PUT` digests the streamed body, `GET missing` is a 404 problem, `GET broken` a 500 (a status
/// the spec does not list), `HEAD` and `DELETE` have no body. It keeps the last request's headers.
final class ArtifactStandIn: Sendable {
    private let lastHeaders = Mutex<HTTPFields>([:])
    private let arrived = Mutex(0)

    var headers: HTTPFields { lastHeaders.withLock { $0 } }
    /// How many requests reached the server, routed or not.
    var requestCount: Int { arrived.withLock { $0 } }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(CountingMiddleware(standIn: self))
        router.put("/v1/artifacts/**") { request, _ in try await self.store(request) }
        router.get("/v1/artifacts/**") { request, _ in try self.read(request) }
        router.head("/v1/artifacts/**") { request, _ in
            self.keep(request)
            return Response(status: .ok, headers: [.contentLength: "5", .contentType: "application/octet-stream"])
        }
        router.delete("/v1/artifacts/**") { request, _ in
            self.keep(request)
            return Response(status: .noContent)
        }
        return router
    }

    /// Runs the server for the duration of `body`, which gets its base URL.
    func serving(_ body: @escaping @Sendable (URL) async throws -> Void) async throws {
        let app = Application(router: router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body(URL(string: "http://127.0.0.1:\(try #require(client.port))")!)
        }
    }

    fileprivate func countArrival() { arrived.withLock { $0 += 1 } }

    private func keep(_ request: Request) { lastHeaders.withLock { $0 = request.headers } }

    private static func key(of request: Request) -> String {
        String(request.uri.path.dropFirst("/v1/artifacts/".count)).removingPercentEncoding ?? ""
    }

    private func store(_ request: Request) async throws -> Response {
        keep(request)
        var hasher = SHA256()
        var count = 0
        for try await buffer in request.body {
            buffer.withUnsafeReadableBytes { hasher.update($0) }
            count += buffer.readableBytes
        }
        let record: [String: Any] = [
            "key": Self.key(of: request), "size": count, "sha256": hasher.finalize().hex,
            "media_type": request.headers[.contentType] ?? "application/octet-stream", "created_at": "2026-12-03T15:00:00Z",
        ]
        return Response(
            status: .created, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: record))))
    }

    private func read(_ request: Request) throws -> Response {
        keep(request)
        switch Self.key(of: request) {
        case "missing": return Self.problem(.notFound, code: "ARTIFACT_NOT_FOUND")
        case "broken": return Self.problem(.internalServerError, code: "INTERNAL")
        default: return Self.problem(.badRequest, code: "INVALID_KEY")
        }
    }

    private static func problem(_ status: HTTPResponse.Status, code: String) -> Response {
        let problem: [String: Any] = ["type": "about:blank", "title": status.reasonPhrase, "status": status.code, "code": code, "detail": "stand-in \(code)"]
        return Response(
            status: status, headers: [.contentType: "application/problem+json"],
            body: .init(byteBuffer: ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: problem)) ?? Data())))
    }
}

/// 64 KiB of deterministic bytes, sent and expected block after block.
enum Block {
    static let bytes: [UInt8] = (0..<(64 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }

    /// The SHA-256 of `count` bytes made of whole blocks.
    static func sha256(count: Int) -> String {
        var hasher = SHA256()
        for _ in 0..<(count / bytes.count) { hasher.update(bytes) }
        return hasher.finalize().hex
    }
}

private struct CountingMiddleware: RouterMiddleware {
    let standIn: ArtifactStandIn

    func handle(
        _ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response
    ) async throws -> Response {
        standIn.countArrival()
        return try await next(request, context)
    }
}
