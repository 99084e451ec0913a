import Digests
import Foundation
import HTTPClient
import Synchronization
import Testing

/// Many transfers at once on one client: they share its one driver thread.
@Suite(.serialized) struct ConcurrencyTests {
    /// 300 downloads and 60 uploads in flight together, every body checked byte for byte, while
    /// the process's thread count is sampled: it must not grow with the number of transfers.
    @Test func threeHundredTransfersRunOnAFixedNumberOfThreads() async throws {
        let client = HTTPClient()
        try await withServer { base in
            _ = try await client.send(ClientRequest(url: base + "/bytes/1"))
            let baseline = try ThreadCount.current()
            let peak = Mutex(baseline)
            let sampler = Task {
                while !Task.isCancelled {
                    if let now = try? ThreadCount.current() { peak.withLock { $0 = max($0, now) } }
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
            let failures = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<300 {
                    let size = 20_000 + index * 997
                    group.addTask {
                        let response = try await client.send(ClientRequest(url: base + "/bytes/\(size)", retry: .never))
                        let expected = Pattern.bytes(from: 0, count: size)
                        return response.status == 200 && response.body == expected ? nil : "download \(index) (\(size) bytes)"
                    }
                }
                for index in 0..<60 {
                    let size = 50_000 + index * 1_013
                    group.addTask {
                        let response = try await client.send(
                            ClientRequest(method: "POST", url: base + "/sink", body: .bytes(Pattern.bytes(from: 0, count: size)), retry: .never))
                        let answer = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
                        let intact = answer?["bytes"] as? Int == size && answer?["sha256"] as? String == Pattern.sha256(count: size)
                        return intact ? nil : "upload \(index) (\(size) bytes)"
                    }
                }
                var failures: [String] = []
                for try await failure in group { if let failure { failures.append(failure) } }
                return failures
            }
            sampler.cancel()
            #expect(failures.isEmpty, "bodies that arrived damaged: \(failures.prefix(5))")
            let growth = peak.withLock { $0 } - baseline
            #expect(growth <= 4, "the thread count grew by \(growth) during 360 concurrent transfers")
        }
    }

    /// A reader that stops in the middle of a body (the transfer pauses, its buffer full) and
    /// is then cancelled: the transfer ends at once and the client goes on serving.
    @Test func cancellingAReaderInTheMiddleOfABodyAbortsItsTransfer() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.responseBufferBytes = 256 * 1024
        let client = HTTPClient(configuration: configuration)
        try await withServer { base in
            let firstChunk = OneTimeSignal()
            let reader = Task {
                let response = try await client.execute(ClientRequest(url: base + "/bytes/200000000", retry: .never))
                var read = 0
                for try await chunk in response.body {
                    #expect(chunk == Pattern.bytes(from: read, count: chunk.count))
                    read += chunk.count
                    firstChunk.fire()
                    try await Task.sleep(for: .seconds(60))
                }
                return read
            }
            await firstChunk.wait()
            try await Task.sleep(for: .milliseconds(300))
            let cancelled = ContinuousClock.now
            reader.cancel()
            let result = await reader.result
            #expect(throws: (any Error).self) { try result.get() }
            #expect(ContinuousClock.now - cancelled < .seconds(2))
            // The body was not read to its end: 200 MB cannot pass through a 256 KiB buffer unread.
            let next = try await client.send(ClientRequest(url: base + "/bytes/1000", retry: .never))
            #expect(next.body == Pattern.bytes(from: 0, count: 1000))
        }
    }

    /// An upload whose producer stalls pauses its transfer (the driver thread never waits for
    /// it); cancelling the task ends the transfer at once.
    @Test func cancellingAnUploadInTheMiddleEndsIt() async throws {
        let client = HTTPClient()
        try await withServer { base in
            let (stream, producer) = AsyncStream<[UInt8]>.makeStream()
            producer.yield(Pattern.bytes(from: 0, count: 100_000))
            let upload = Task {
                try await client.send(
                    ClientRequest(method: "POST", url: base + "/sink", body: .stream(ClientBodyStream(stream), length: nil), retry: .never))
            }
            // The producer never finishes: the transfer pauses waiting for bytes until cancelled.
            try await Task.sleep(for: .milliseconds(300))
            let cancelled = ContinuousClock.now
            upload.cancel()
            let result = await upload.result
            #expect(throws: (any Error).self) { try result.get() }
            #expect(ContinuousClock.now - cancelled < .seconds(2))
            producer.finish()
        }
    }
}

/// Threads of this process, from /proc.
enum ThreadCount {
    static func current() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
    }
}

/// Fires once; `wait` returns once it has.
final class OneTimeSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func fire() {
        let waiters = state.withLock { state in
            defer { state = (true, []) }
            return state.fired ? [] : state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let fired = state.withLock { state in
                if !state.fired { state.waiters.append(continuation) }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}
