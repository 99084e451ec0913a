import Foundation
import Synchronization
import Testing

@testable import GitCheckout

@Suite struct MirrorLockTests {
    @Test func fileLockKeepsASecondHolderWaitingUntilReleased() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let path = "\(fixture.root)/lock"
        let first = try await FileLock.acquire(path: path)
        let acquired = Atomic<Bool>(false)
        let second = Task {
            let lock = try await FileLock.acquire(path: path)
            acquired.store(true, ordering: .sequentiallyConsistent)
            lock.release()
        }
        try await Task.sleep(for: .milliseconds(300))
        let early = acquired.load(ordering: .sequentiallyConsistent)
        #expect(!early)
        first.release()
        try await second.value
        let late = acquired.load(ordering: .sequentiallyConsistent)
        #expect(late)
    }

    @Test func aCancelledFileLockWaiterGivesTheLockBack() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let path = "\(fixture.root)/lock"
        let first = try await FileLock.acquire(path: path)
        let waiter = Task { try await FileLock.acquire(path: path) }
        try await Task.sleep(for: .milliseconds(200))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        first.release()
        // The waiter's thread takes the lock when it frees up and gives it straight back.
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            let descriptor = open(path, O_RDWR)
            defer { close(descriptor) }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the cancelled waiter kept the lock")
    }

    @Test func inProcessLocksServeWaitersInOrderAndSkipCancelledOnes() async throws {
        let locks = MirrorLocks()
        let order = Order()
        try await locks.lock("m")
        var tasks: [Task<Void, any Error>] = []
        for number in 1...3 {
            tasks.append(Task { try await locks.withLock("m") { order.values.withLock { $0.append(number) } } })
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(100))
        tasks[1].cancel()
        try await Task.sleep(for: .milliseconds(100))
        await locks.unlock("m")
        try await tasks[0].value
        await #expect(throws: CancellationError.self) { try await tasks[1].value }
        try await tasks[2].value
        #expect(order.values.withLock { $0 } == [1, 3])
        try await locks.withLock("m") {}
    }
}

final class Order: Sendable {
    let values = Mutex<[Int]>([])
}
