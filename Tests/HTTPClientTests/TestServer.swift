import Digests
import Foundation
import Hummingbird
import Synchronization

/// A real HTTP server on loopback with endpoints that exercise the client:
/// streamed bodies both ways, slow answers, failures that heal.
enum TestServer {
    static func router(counters: Counters) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/bytes/{count}") { _, context in
            let count = try context.parameters.require("count", as: Int.self)
            return Response(
                status: .ok, headers: [.contentLength: String(count)],
                body: ResponseBody { writer in
                    var sent = 0
                    while sent < count {
                        let size = min(64 * 1024, count - sent)
                        try await writer.write(ByteBuffer(bytes: Pattern.bytes(from: sent, count: size)))
                        sent += size
                    }
                    try await writer.finish(nil)
                })
        }
        router.on("/sink", method: .put) { request, _ in try await digest(request.body) }
        router.post("/sink") { request, _ in try await digest(request.body) }
        router.get("/headers") { request, _ in
            var fields: [String: String] = [:]
            for field in request.headers { fields[field.name.canonicalName] = field.value }
            return try JSONSerialization.data(withJSONObject: fields).byteBuffer
        }
        router.get("/slow") { request, _ in
            let millis = request.uri.queryParameters.get("ms", as: Int.self) ?? 1000
            try await Task.sleep(for: .milliseconds(millis))
            return "slept"
        }
        router.on("/flaky/{key}", method: .get) { request, context in try flaky(request, context, counters) }
        router.on("/flaky/{key}", method: .post) { request, context in try flaky(request, context, counters) }
        return router
    }

    private static func digest(_ body: RequestBody) async throws -> ByteBuffer {
        var hasher = SHA256()
        var count = 0
        for try await buffer in body {
            buffer.withUnsafeReadableBytes { hasher.update($0) }
            count += buffer.readableBytes
        }
        return try JSONSerialization.data(withJSONObject: ["bytes": count, "sha256": hasher.finalize().hex]).byteBuffer
    }

    /// Answers 503 to the first `failures` requests for a key, then 200.
    private static func flaky(_ request: Request, _ context: BasicRequestContext, _ counters: Counters) throws -> Response {
        let key = try context.parameters.require("key")
        let failures = request.uri.queryParameters.get("failures", as: Int.self) ?? 1
        let seen = counters.increment(key)
        let status: HTTPResponse.Status = seen <= failures ? .serviceUnavailable : .ok
        return Response(status: status, body: .init(byteBuffer: ByteBuffer(string: "attempt \(seen)")))
    }
}

final class Counters: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func increment(_ key: String) -> Int {
        counts.withLock { counts in
            counts[key, default: 0] += 1
            return counts[key]!
        }
    }

    func count(_ key: String) -> Int { counts.withLock { $0[key] ?? 0 } }
}

/// Deterministic content: byte i of a body is i mod 251.
enum Pattern {
    /// 251 × 4096 bytes of the pattern, so any slice of up to ~1 MiB is one copy.
    private static let block: [UInt8] = (0..<(251 * 4096 + (1 << 20))).map { UInt8($0 % 251) }

    static func bytes(from offset: Int, count: Int) -> [UInt8] {
        precondition(count <= 1 << 20)
        let start = offset % 251
        return Array(block[start..<(start + count)])
    }

    static func sha256(count: Int) -> String {
        var hasher = SHA256()
        var done = 0
        while done < count {
            let size = min(1 << 20, count - done)
            hasher.update(bytes(from: done, count: size))
            done += size
        }
        return hasher.finalize().hex
    }

    /// Writes `count` pattern bytes to a new temporary file.
    static func file(count: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bc-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var done = 0
        while done < count {
            let size = min(1 << 20, count - done)
            try handle.write(contentsOf: bytes(from: done, count: size))
            done += size
        }
        return path
    }
}

extension Data {
    var byteBuffer: ByteBuffer { ByteBuffer(bytes: self) }
}
