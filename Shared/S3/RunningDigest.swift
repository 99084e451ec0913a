import Digests
import Synchronization

/// SHA-256 and byte count of what an upload has read so far, in order.
final class RunningDigest: Sendable {
    private struct State: ~Copyable {
        var hasher = SHA256()
        var count: Int64 = 0
        var finished: (hex: String, count: Int64)?
    }

    private let state = Mutex(State())

    /// Ignored once finished: callers compare the finished count with what they expected.
    func update(_ bytes: [UInt8]) {
        state.withLock { state in
            guard state.finished == nil else { return }
            state.hasher.update(bytes)
            state.count += Int64(bytes.count)
        }
    }

    /// The digest of everything read; later calls return the same value.
    func finish() -> (hex: String, count: Int64) {
        state.withLock { state in
            if let finished = state.finished { return finished }
            var hasher = SHA256()
            swap(&hasher, &state.hasher)
            let result = (hasher.finalize().hex, state.count)
            state.finished = result
            return result
        }
    }
}

/// The digest of the latest attempt of a request whose body is made anew per attempt.
final class LatestDigest: Sendable {
    private let slot = Mutex<RunningDigest?>(nil)

    func begin() -> RunningDigest {
        let digest = RunningDigest()
        slot.withLock { $0 = digest }
        return digest
    }

    var current: RunningDigest? { slot.withLock { $0 } }
}
