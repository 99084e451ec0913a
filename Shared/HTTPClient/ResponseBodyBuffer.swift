import Foundation

/// Hands body chunks from libcurl's thread to an async reader.
///
/// The producer is a dedicated transfer thread, so it may block while the
/// buffer is full; the reader never blocks a thread, it suspends.
final class ResponseBodyBuffer: @unchecked Sendable {
    // All state is guarded by `condition`.
    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var bufferedBytes = 0
    private var outcome: Result<Void, any Error>?
    private var waiter: CheckedContinuation<[UInt8]?, any Error>?
    private var abandoned = false
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Called on the transfer thread. Returns false once the reader is gone.
    func push(_ chunk: [UInt8]) -> Bool {
        condition.lock()
        while true {
            if abandoned {
                condition.unlock()
                return false
            }
            // A waiting reader means the buffer is empty: hand the chunk over.
            if let waiter {
                self.waiter = nil
                condition.unlock()
                waiter.resume(returning: chunk)
                return true
            }
            if bufferedBytes < limit {
                chunks.append(chunk)
                bufferedBytes += chunk.count
                condition.unlock()
                return true
            }
            condition.wait()
        }
    }

    func finish(_ result: Result<Void, any Error>) {
        condition.lock()
        guard outcome == nil else {
            condition.unlock()
            return
        }
        outcome = result
        let waiter = self.waiter
        self.waiter = nil
        condition.unlock()
        switch result {
        case .success: waiter?.resume(returning: nil)
        case .failure(let error): waiter?.resume(throwing: error)
        }
    }

    var isAbandoned: Bool {
        condition.lock()
        defer { condition.unlock() }
        return abandoned
    }

    /// The reader is gone: wake the producer so the transfer can abort.
    func abandon() {
        condition.lock()
        abandoned = true
        chunks = []
        head = 0
        bufferedBytes = 0
        let waiter = self.waiter
        self.waiter = nil
        condition.broadcast()
        condition.unlock()
        waiter?.resume(throwing: CancellationError())
    }

    /// Takes the oldest chunk. Its slot lets go of it at once: a reader that is always a little
    /// behind never empties the queue, and slots still holding read chunks would then keep the
    /// whole body alive. Read slots are dropped once they are half the queue.
    /// Call with `condition` locked and the queue not empty.
    private func takeFirst() -> [UInt8] {
        let chunk = chunks[head]
        chunks[head] = []
        head += 1
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32, head * 2 >= chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
        return chunk
    }

    func next() async throws -> [UInt8]? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                condition.lock()
                if head < chunks.count {
                    let chunk = takeFirst()
                    bufferedBytes -= chunk.count
                    condition.signal()
                    condition.unlock()
                    continuation.resume(returning: chunk)
                } else if abandoned {
                    condition.unlock()
                    continuation.resume(throwing: CancellationError())
                } else if let outcome {
                    condition.unlock()
                    switch outcome {
                    case .success: continuation.resume(returning: nil)
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                } else {
                    waiter = continuation
                    condition.unlock()
                }
            }
        } onCancel: {
            abandon()
        }
    }
}
