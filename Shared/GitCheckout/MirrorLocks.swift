/// In-process locks per mirror: checkouts of one repository in this process take
/// turns fetching, in arrival order, without holding a thread while they wait.
actor MirrorLocks {
    private var held: Set<String> = []
    private var waiters: [String: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)]] = [:]
    private var nextID: UInt64 = 0

    nonisolated func withLock<T>(_ key: String, _ body: () async throws -> T) async throws -> T {
        try await lock(key)
        do {
            let value = try await body()
            await unlock(key)
            return value
        } catch {
            await unlock(key)
            throw error
        }
    }

    func lock(_ key: String) async throws {
        guard held.contains(key) else {
            held.insert(key)
            return
        }
        let id = nextID
        nextID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters[key, default: []].append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.withdraw(key, id: id) }
        }
    }

    /// Hands the lock to the next waiter, if any.
    func unlock(_ key: String) {
        guard var queue = waiters[key], !queue.isEmpty else {
            held.remove(key)
            return
        }
        let next = queue.removeFirst()
        waiters[key] = queue.isEmpty ? nil : queue
        next.continuation.resume()
    }

    private func withdraw(_ key: String, id: UInt64) {
        guard let index = waiters[key]?.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters[key]!.remove(at: index)
        if waiters[key]?.isEmpty == true { waiters[key] = nil }
        waiter.continuation.resume(throwing: CancellationError())
    }
}
