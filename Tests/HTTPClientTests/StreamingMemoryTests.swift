import Digests
import Foundation
import HTTPClient
import TestSupport
import Testing

/// 100 MB each way with resident memory sampled throughout. Serialized so
/// the two transfers do not count each other's buffers.
@Suite(.serialized) struct StreamingMemoryTests {
    let client = HTTPClient()

    @Test func uploads100MBFromAFileWithBoundedMemory() async throws {
        let size = 100 << 20
        let path = try Pattern.file(count: size)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withServer { base in
            let (response, growth) = try await ResidentMemory.peakGrowth {
                try await client.send(ClientRequest(method: "PUT", url: base + "/sink", body: .file(path: path)))
            }
            let answer = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            #expect(response.status == 200)
            #expect(answer?["bytes"] as? Int == size)
            #expect(answer?["sha256"] as? String == Pattern.sha256(count: size))
            #expect(growth < 64 << 20, "resident memory grew by \(growth >> 20) MiB during a 100 MB upload")
        }
    }

    @Test func downloads100MBToAFileWithBoundedMemory() async throws {
        let size = 100 << 20
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withPatternServer { base in
            let (head, growth) = try await ResidentMemory.peakGrowth {
                try await client.download(ClientRequest(url: base + "/bytes/\(size)"), to: path)
            }
            #expect(head.status == 200)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect(attributes[.size] as? Int == size)
            var hasher = SHA256()
            let handle = try #require(FileHandle(forReadingAtPath: path))
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
            #expect(hasher.finalize().hex == Pattern.sha256(count: size))
            #expect(growth < 16 << 20, "resident memory grew by \(growth >> 20) MiB during a 100 MB download")
        }
    }

    /// A reader that is always a little behind never lets the buffer empty: the chunks it has
    /// read must still be let go, or the whole body stays in memory.
    @Test func aReaderAlwaysBehindHoldsNoMoreThanTheBuffer() async throws {
        let size = 100 << 20
        try await withPatternServer { base in
            let (read, growth) = try await ResidentMemory.peakGrowth {
                let response = try await client.execute(ClientRequest(url: base + "/bytes/\(size)"))
                var read = 0
                for try await chunk in response.body {
                    read += chunk.count
                    try await Task.sleep(for: .microseconds(300))
                }
                return read
            }
            #expect(read == size)
            #expect(growth < 16 << 20, "resident memory grew by \(growth >> 20) MiB while a slow reader read 100 MB")
        }
    }

    /// Runs pattern_server.py (beside this file) for the duration of `body`.
    func withPatternServer(_ body: (String) async throws -> Void) async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("pattern_server.py")
        let server = try ScriptServer(script: script)
        defer { server.stop() }
        try await body("http://127.0.0.1:\(server.port)")
    }
}
