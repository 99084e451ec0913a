import Foundation

/// Hands body chunks from the driver thread to an async reader.
///
/// The producer (libcurl's write callback) must never block: when the buffer is full it is told
/// so, and the transfer pauses until the reader has drained half the buffer, when `onSpace`
/// asks the driver to unpause it. The reader never blocks a thread, it suspends.
final class ResponseBodyBuffer: @unchecked Sendable {
    // All state is guarded by `lock`; `onSpace` and `onAbandon` are set before the transfer starts.
    private let lock = NSLock()
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var bufferedBytes = 0
    private var outcome: Result<Void, any Error>?
    private var waiter: CheckedContinuation<[UInt8]?, any Error>?
    private var abandoned = false
    private var producerPaused = false
    private let limit: Int
    var onSpace: @Sendable () -> Void = {}
    var onAbandon: @Sendable () -> Void = {}

    init(limit: Int) { self.limit = limit }

    enum Push {
        case taken
        /// Not taken: pause, and hand these bytes again after `onSpace`.
        case full
        /// The reader is gone: abort.
        case abandoned
    }

    /// Called on the driver thread; never blocks.
    func push(_ bytes: UnsafeRawBufferPointer) -> Push {
        lock.lock()
        if abandoned {
            lock.unlock()
            return .abandoned
        }
        // A waiting reader means the buffer is empty: hand the chunk over.
        if let waiter {
            self.waiter = nil
            lock.unlock()
            waiter.resume(returning: Array(bytes))
            return .taken
        }
        guard bufferedBytes < limit else {
            producerPaused = true
            lock.unlock()
            return .full
        }
        chunks.append(Array(bytes))
        bufferedBytes += bytes.count
        lock.unlock()
        return .taken
    }

    func finish(_ result: Result<Void, any Error>) {
        lock.lock()
        guard outcome == nil else {
            lock.unlock()
            return
        }
        outcome = result
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        switch result {
        case .success: waiter?.resume(returning: nil)
        case .failure(let error): waiter?.resume(throwing: error)
        }
    }

    var isAbandoned: Bool {
        lock.withLock { abandoned }
    }

    /// The reader is gone: drop the buffer and have a transfer still running aborted.
    func abandon() {
        lock.lock()
        let running = !abandoned && outcome == nil
        abandoned = true
        chunks = []
        head = 0
        bufferedBytes = 0
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.resume(throwing: CancellationError())
        if running { onAbandon() }
    }

    /// Takes the oldest chunk. Its slot lets go of it at once: a reader that is always a little
    /// behind never empties the queue, and slots still holding read chunks would then keep the
    /// whole body alive. Read slots are dropped once they are half the queue.
    /// Call with `lock` held and the queue not empty.
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
                lock.lock()
                if head < chunks.count {
                    let chunk = takeFirst()
                    bufferedBytes -= chunk.count
                    let wake = producerPaused && bufferedBytes <= limit / 2
                    if wake { producerPaused = false }
                    lock.unlock()
                    continuation.resume(returning: chunk)
                    if wake { onSpace() }
                } else if abandoned {
                    lock.unlock()
                    continuation.resume(throwing: CancellationError())
                } else if let outcome {
                    lock.unlock()
                    switch outcome {
                    case .success: continuation.resume(returning: nil)
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                } else {
                    waiter = continuation
                    // Empty and paused (a zero-byte limit): nothing else would unpause it.
                    let wake = producerPaused
                    producerPaused = false
                    lock.unlock()
                    if wake { onSpace() }
                }
            }
        } onCancel: {
            abandon()
        }
    }
}
