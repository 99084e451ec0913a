import Foundation
import HTTPClient
import Synchronization

/// An event as received: decoded, and the line it came from (for `--output json`).
struct ReceivedEvent: Sendable {
    var event: JobEvent
    var line: [UInt8]
}

/// Reads one response of `GET /v1/jobs/{id}/events` (NDJSON), handing over each event.
/// Lines that are no event are skipped.
enum EventStream {
    /// Reads until the body ends, `deliver` answers false, or — with `quietLimit` — no byte
    /// arrived for that long. Throws when the connection breaks.
    static func read(
        _ response: ClientResponse, quietLimit: Duration? = nil, deliver: (ReceivedEvent) -> Bool
    ) async throws {
        let watch = QuietWatch()
        let watchdog = quietLimit.map { limit in
            Task { [body = response.body] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(100))
                    if watch.silence >= limit {
                        watch.fired.store(true, ordering: .sequentiallyConsistent)
                        body.cancel()
                        return
                    }
                }
            }
        }
        defer { watchdog?.cancel() }

        let decoder = GatewayJSON.decoder()
        var splitter = LineSplitter()
        func handOver(_ line: [UInt8]) -> Bool {
            guard let event = try? decoder.decode(JobEvent.self, from: Data(line)) else { return true }
            return deliver(ReceivedEvent(event: event, line: line))
        }
        do {
            for try await chunk in response.body {
                watch.heard()
                for line in splitter.append(chunk) where !handOver(line) {
                    response.body.cancel()
                    return
                }
            }
        } catch {
            if watch.fired.load(ordering: .sequentiallyConsistent) { return }
            throw error
        }
        if let line = splitter.finish() { _ = handOver(line) }
    }
}

/// When the stream last delivered a byte, and whether the watchdog gave up on it.
private final class QuietWatch: Sendable {
    private let lastHeard = Mutex(ContinuousClock.now)
    let fired = Atomic<Bool>(false)

    func heard() { lastHeard.withLock { $0 = .now } }

    var silence: Duration { ContinuousClock.now - lastHeard.withLock { $0 } }
}
