import Foundation
import HTTPClient
import Synchronization

// bench/scale's outbound half: `outbound-requests <url> <count>` GETs <url> <count> times at once
// on one HTTPClient and prints the wall time, the bytes and this process's thread count.

let arguments = CommandLine.arguments
guard arguments.count == 3, let count = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: outbound-requests <url> <count>\n".utf8))
    exit(2)
}
let url = arguments[1]

func threads() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0 }

let client = HTTPClient()
_ = try await client.send(ClientRequest(url: url, retry: .never))
let before = threads()
let peak = Atomic<Int>(before)
let sampler = Task {
    while !Task.isCancelled {
        let now = threads()
        if now > peak.load(ordering: .relaxed) { peak.store(now, ordering: .relaxed) }
        try? await Task.sleep(for: .milliseconds(2))
    }
}
let started = ContinuousClock.now
let (bytes, failures) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
    for _ in 0..<count {
        group.addTask {
            let response = try await client.send(ClientRequest(url: url, retry: .never))
            return (response.body.count, response.status == 200 ? 0 : 1)
        }
    }
    var total = (0, 0)
    for try await (bytes, failed) in group { total = (total.0 + bytes, total.1 + failed) }
    return total
}
let elapsed = ContinuousClock.now - started
sampler.cancel()
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("outbound_requests = \(count)")
print("outbound_failed = \(failures)")
print("outbound_bytes = \(bytes)")
print(String(format: "outbound_seconds = %.3f", seconds))
print("outbound_threads_before = \(before)")
print("outbound_threads_peak = \(peak.load(ordering: .relaxed))")
