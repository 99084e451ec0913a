import Foundation
import Synchronization

/// Resident memory of this test process, from /proc, for the bounded-memory tests.
public enum ResidentMemory {
    /// Anonymous resident memory (RssAnon): the heap and stacks a buffer would grow. VmRSS also
    /// counts file-backed pages, which the test binary's code pulls in as other suites run.
    public static func current() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
            let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kib * 1024
    }

    /// Runs `body` while sampling every 20 ms; returns its result and the largest growth over
    /// the resident size before it started.
    public static func peakGrowth<T: Sendable>(during body: () async throws -> T) async throws -> (T, Int) {
        let baseline = current()
        let peak = Mutex(baseline)
        let sampler = Task {
            while !Task.isCancelled {
                let now = current()
                peak.withLock { $0 = max($0, now) }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { sampler.cancel() }
        let result = try await body()
        sampler.cancel()
        _ = await sampler.result
        let last = current()
        return (result, max(0, peak.withLock { max($0, last) } - baseline))
    }
}
