import ContractCoding
import Foundation
import GatewayAPI
import OpenAPIRuntime
import Synchronization

/// An event as received: decoded, and the JSON it came as (for `--output json`).
struct ReceivedEvent: Sendable {
    var event: JobEvent
    var line: [UInt8]
}

/// Reads one response of `GET /v1/jobs/{id}/events` (server-sent events whose `data` is a job
/// event's JSON and `id` its seq), handing over each event. Events that are no job event are skipped.
enum EventStream {
    /// Reads until the body ends, `deliver` answers false, or — with `quietLimit` — no byte
    /// arrived for that long. Throws when the connection breaks.
    static func read(_ body: HTTPBody, quietLimit: Duration? = nil, deliver: (ReceivedEvent) -> Bool) async throws {
        guard let quietLimit else { return try await decode(body, deliver) }
        let (chunks, continuation) = AsyncThrowingStream<ArraySlice<UInt8>, any Error>.makeStream()
        let watch = QuietWatch()
        let pump = Task {
            do {
                for try await chunk in body {
                    watch.heard()
                    continuation.yield(chunk)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        // Silence ends the stream as if the body had ended; stopping the pump stops the transfer.
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                if watch.silence >= quietLimit {
                    continuation.finish()
                    pump.cancel()
                    return
                }
            }
        }
        defer {
            pump.cancel()
            watchdog.cancel()
        }
        try await decode(chunks, deliver)
    }

    private static func decode<Bytes: AsyncSequence & Sendable>(_ bytes: Bytes, _ deliver: (ReceivedEvent) -> Bool)
        async throws where Bytes.Element == ArraySlice<UInt8>
    {
        let decoder = JSONDecoder.buildchain()
        for try await message in bytes.asDecodedServerSentEvents() {
            guard let data = message.data, let event = try? decoder.decode(JobEvent.self, from: Data(data.utf8)) else {
                continue
            }
            if !deliver(ReceivedEvent(event: event, line: Array(data.utf8))) { return }
        }
    }
}

/// When the stream last delivered a byte.
private final class QuietWatch: Sendable {
    private let lastHeard = Mutex(ContinuousClock.now)

    func heard() { lastHeard.withLock { $0 = .now } }

    var silence: Duration { ContinuousClock.now - lastHeard.withLock { $0 } }
}
