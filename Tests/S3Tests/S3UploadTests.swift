import Digests
import Foundation
import HTTPClient
import S3
import TestSupport
import Testing

/// Multipart and streamed uploads, and what an upload that fails leaves behind.
extension S3ServerTests {
    /// Small parts so that streams of a few MiB go multipart.
    func smallPartClient() throws -> S3Client {
        try client {
            $0.partSize = S3Configuration.minimumPartSize
            $0.multipartThreshold = Int64(2 * S3Configuration.minimumPartSize)
            $0.maxPartsInFlight = 2
        }
    }

    @Test func uploadsA200MBFileAsMultipartWithBoundedMemory() async throws {
        let s3 = try client()
        let size = 200 << 20
        let file = try TestData.file(count: size)
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let key = uniquePrefix("multipart-file") + "image.tar"
        let started = ContinuousClock.now
        let (put, growth) = try await ResidentMemory.peakGrowth {
            try await s3.putObject(key: key, file: file.path, contentType: "application/x-tar")
        }
        let elapsed = ContinuousClock.now - started
        print("s3.multipart_200mib.seconds = \(elapsed)  s3.multipart_200mib.rss_growth_mib = \(growth >> 20)")
        #expect(put.partCount == 13)
        #expect(put.size == Int64(size))
        #expect(put.sha256 == file.sha256)
        #expect(growth < 128 << 20, "resident memory grew by \(growth >> 20) MiB during a 200 MiB upload")

        let object = try await s3.getObject(key: key)
        let fetched = try await drain(object.body)
        #expect(fetched.size == size)
        #expect(fetched.sha256 == file.sha256)
        #expect(try await s3.listMultipartUploads(prefix: key).isEmpty)
        try await s3.deleteObject(key: key)
    }

    /// Stream parts live in memory: up to the threshold before the upload
    /// starts, then `maxPartsInFlight` being sent and one being read.
    @Test func uploadsA320MBStreamWithBoundedMemory() async throws {
        let s3 = try client()
        let key = uniquePrefix("multipart-stream") + "image.tar"
        let chunks = 320
        let (put, growth) = try await ResidentMemory.peakGrowth {
            try await s3.putObject(key: key, stream: RepeatedChunks(chunk: TestData.block, count: chunks))
        }
        print("s3.stream_320mib.rss_growth_mib = \(growth >> 20)")
        #expect(put.partCount == 20)
        #expect(put.size == Int64(chunks << 20))
        #expect(growth < 192 << 20, "resident memory grew by \(growth >> 20) MiB during a 320 MiB stream upload")
        let fetched = try await drain(s3.getObject(key: key).body)
        #expect(fetched.size == chunks << 20)
        #expect(fetched.sha256 == put.sha256)
        try await s3.deleteObject(key: key)
    }

    @Test func uploadsAFileBelowTheThresholdWithOnePut() async throws {
        let s3 = try smallPartClient()
        let file = try TestData.file(count: 7 << 20)
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let key = uniquePrefix("single-file") + "context.tar.gz"
        let put = try await s3.putObject(key: key, file: file.path)
        #expect(put.partCount == 0)
        #expect(put.sha256 == file.sha256)
        #expect(try await drain(s3.getObject(key: key).body).sha256 == file.sha256)
        try await s3.deleteObject(key: key)
    }

    @Test func streamsOfUnknownLengthGoMultipartOnlyAboveTheThreshold() async throws {
        let s3 = try smallPartClient()
        for (size, parts) in [(23 << 20, 5), (3 << 20 + 17, 0), (0, 0)] {
            let chunks = TestData.chunks(count: size, chunkSize: 300_001)
            let expected = SHA256.hash(chunks.flatMap { $0 }).hex
            let key = uniquePrefix("stream") + "\(size)"
            let put = try await s3.putObject(key: key, stream: AsyncStreamOf(chunks), contentType: "application/gzip")
            #expect(put.partCount == parts, "\(size) bytes")
            #expect(put.size == Int64(size))
            #expect(put.sha256 == expected)
            let fetched = try await drain(s3.getObject(key: key).body)
            #expect(fetched.size == size)
            #expect(fetched.sha256 == expected)
            #expect(try await s3.headObject(key: key)?.contentType == "application/gzip")
            try await s3.deleteObject(key: key)
        }
    }

    @Test func aStreamThatFailsMidwayLeavesNoObjectAndNoUpload() async throws {
        struct SourceBroke: Error {}
        let s3 = try smallPartClient()
        let key = uniquePrefix("failing-stream") + "object"
        let stream = AsyncThrowingStream<[UInt8], any Error> { continuation in
            for chunk in TestData.chunks(count: 18 << 20, chunkSize: 1 << 20) { continuation.yield(chunk) }
            continuation.finish(throwing: SourceBroke())
        }
        await #expect(throws: SourceBroke.self) { try await s3.putObject(key: key, stream: stream) }
        #expect(try await s3.headObject(key: key) == nil)
        #expect(try await s3.listMultipartUploads(prefix: key).isEmpty)
    }

    @Test func cancellingAMultipartUploadAbortsIt() async throws {
        let s3 = try smallPartClient()
        let key = uniquePrefix("cancelled") + "object"
        // Endless but bounded: 1 MiB every 20 ms, at most 400 MiB.
        let slow = AsyncStream<[UInt8]> { continuation in
            let task = Task {
                for index in 0..<400 {
                    guard (try? await Task.sleep(for: .milliseconds(20))) != nil else { break }
                    continuation.yield(TestData.bytes(count: 1 << 20, seed: index))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        let upload = Task { try await s3.putObject(key: key, stream: slow) }
        var started = false
        for _ in 0..<300 where !started {
            try await Task.sleep(for: .milliseconds(100))
            started = try await s3.listMultipartUploads(prefix: key).contains { $0.key == key }
        }
        #expect(started, "the multipart upload never showed up")
        try await Task.sleep(for: .milliseconds(500))  // some parts on their way
        upload.cancel()
        await #expect(throws: (any Error).self) { try await upload.value }
        #expect(try await s3.headObject(key: key) == nil)
        #expect(try await s3.listMultipartUploads(prefix: key).isEmpty)
    }

    /// One PUT (3 MiB) and a multipart upload (23 MiB): a wrong expected
    /// digest stores nothing and leaves the object that was there; the right
    /// one, in any case, stores the stream.
    @Test(arguments: [3 << 20, 23 << 20])
    func aStreamIsStoredOnlyWithTheExpectedDigest(size: Int) async throws {
        let s3 = try smallPartClient()
        let key = uniquePrefix("expected-digest") + "object"
        let old = try await s3.putObject(key: key, bytes: TestData.bytes(count: 1000, seed: 7))
        let chunks = TestData.chunks(count: size, chunkSize: 300_001)
        let sha256 = SHA256.hash(chunks.flatMap { $0 }).hex
        let wrong = String(repeating: "0", count: 64)
        await #expect {
            try await s3.putObject(key: key, stream: AsyncStreamOf(chunks), expectedSHA256: wrong)
        } throws: { error in
            guard case S3ClientError.digestMismatch(wrong, sha256) = error else { return false }
            return true
        }
        #expect(try await drain(s3.getObject(key: key).body).sha256 == old.sha256)
        #expect(try await s3.listMultipartUploads(prefix: key).isEmpty)

        let put = try await s3.putObject(key: key, stream: AsyncStreamOf(chunks), expectedSHA256: sha256.uppercased())
        #expect(put.partCount == (size > 10 << 20 ? 5 : 0))
        let fetched = try await drain(s3.getObject(key: key).body)
        #expect(fetched.size == size)
        #expect(fetched.sha256 == sha256)
        try await s3.deleteObject(key: key)
    }

    @Test func uploadsBytesAboveTheThresholdAsMultipart() async throws {
        let s3 = try smallPartClient()
        let bytes = TestData.bytes(count: 11 << 20)
        let key = uniquePrefix("multipart-bytes") + "object"
        let put = try await s3.putObject(key: key, bytes: bytes)
        #expect(put.partCount == 3)
        #expect(put.sha256 == SHA256.hash(bytes).hex)
        #expect(try await drain(s3.getObject(key: key).body).sha256 == put.sha256)
        try await s3.deleteObject(key: key)
    }
}

/// An async sequence over chunks already in memory.
struct AsyncStreamOf: AsyncSequence, Sendable {
    let chunks: [[UInt8]]
    init(_ chunks: [[UInt8]]) { self.chunks = chunks }

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<[UInt8]>
        mutating func next() async -> [UInt8]? { remaining.popFirst() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: chunks[...]) }
}

extension S3ServerTests {
    @Test(arguments: ["500", "503", "reset"])
    func transientFailuresAreRetried(mode: String) async throws {
        let upstream = try S3TestServer.requireConfiguration().endpoint
        let proxy = try FaultProxy(upstream: upstream)
        defer { proxy.stop() }
        let s3 = try client {
            $0.endpoint = proxy.url
            $0.partSize = S3Configuration.minimumPartSize
            $0.multipartThreshold = Int64(2 * S3Configuration.minimumPartSize)
        }
        let prefix = uniquePrefix("flaky-\(mode)")
        let bytes = TestData.bytes(count: 11 << 20)
        let multipart = try await s3.putObject(key: prefix + "multipart", bytes: bytes)
        #expect(multipart.partCount == 3)

        let file = try TestData.file(count: 6 << 20)
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let single = try await s3.putObject(key: prefix + "single", file: file.path)
        #expect(single.partCount == 0)
        #expect(single.sha256 == file.sha256)

        #expect(try await drain(s3.getObject(key: prefix + "multipart").body).sha256 == multipart.sha256)
        #expect(try await s3.headObject(key: prefix + "single")?.size == Int64(6 << 20))
        #expect(try await s3.listObjects(prefix: prefix).objects.count == 2)
        try await s3.deleteObject(key: prefix + "multipart")
        try await s3.deleteObject(key: prefix + "single")

        let faults = try await HTTPClient().send(ClientRequest(url: proxy.url + "/__faults")).text
        // Each once: 3 UploadParts, Complete, the single PUT, GET, HEAD, 2 DELETEs
        // (the list request names the prefix in its query, which the proxy does not match).
        #expect(faults == "9")
    }
}

/// The same chunk `count` times, produced on demand.
struct RepeatedChunks: AsyncSequence, Sendable {
    let chunk: [UInt8]
    let count: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunk: [UInt8]
        var remaining: Int
        mutating func next() async -> [UInt8]? {
            guard remaining > 0 else { return nil }
            remaining -= 1
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunk: chunk, remaining: count) }
}
