import Foundation
import GitCheckout
import Testing

/// git against a server that accepts the connection and never answers.
///
/// The time bounds are loose on purpose: `ChildProcess` creates its pipes without
/// `O_CLOEXEC`, so a process spawned concurrently (by any test) can hold a run's
/// pipes open and delay its end until that process exits.
@Suite struct CancellationTests {
    func gitProcesses(for port: Int) -> [String] {
        runningProcesses(commandLineContaining: "127.0.0.1:\(port)/")
    }

    @Test func cancellingAHangingFetchReturnsPromptlyAndLeavesNoGit() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let listener = try SilentListener()
        defer { listener.close() }
        let request = CheckoutRequest(repository: "git://127.0.0.1:\(listener.port)/hangs", ref: "main")
        let checkout = fixture.checkout()
        let task = Task { try await checkout.run(request) }
        let deadline = ContinuousClock.now + .seconds(15)
        while gitProcesses(for: listener.port).isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!gitProcesses(for: listener.port).isEmpty, "git is running")
        try await Task.sleep(for: .milliseconds(300))
        let cancelled = ContinuousClock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - cancelled < .seconds(10), "well before the 60 s git timeout")
        #expect(gitProcesses(for: listener.port).isEmpty)
    }

    @Test func checkoutsWaitingForTheMirrorLockCanBeCancelled() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let listener = try SilentListener()
        defer { listener.close() }
        let request = CheckoutRequest(repository: "git://127.0.0.1:\(listener.port)/hangs", ref: "main")
        let checkout = fixture.checkout()
        let holder = Task { try await checkout.run(request) }
        try await Task.sleep(for: .milliseconds(500))
        // One waits in this process's queue, one (another instance, as another process would) on the file lock.
        let queued = Task { try await checkout.run(request) }
        let otherProcess = Task { try await fixture.checkout().run(request) }
        try await Task.sleep(for: .milliseconds(500))
        for waiter in [queued, otherProcess] {
            let cancelled = ContinuousClock.now
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(ContinuousClock.now - cancelled < .seconds(5))
        }
        holder.cancel()
        await #expect(throws: CancellationError.self) { try await holder.value }
        #expect(gitProcesses(for: listener.port).isEmpty)
    }

    @Test func aFetchThatOutlivesTheTimeoutIsKilled() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let listener = try SilentListener()
        defer { listener.close() }
        let url = "git://127.0.0.1:\(listener.port)/hangs"
        let checkout = fixture.checkout(gitTimeout: .seconds(1))
        // An existing mirror, so that the hanging fetch is the first git run.
        let folder = checkout.mirrors.folder(for: try RepositoryPolicy().repositoryURL(url))
        try await fixture.git(["init", "--quiet", "--bare", "\(folder)/mirror.git"])
        let started = ContinuousClock.now
        await #expect(throws: CheckoutError.timedOut(operation: "fetch")) {
            try await checkout.run(CheckoutRequest(repository: url, ref: "main"))
        }
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(gitProcesses(for: listener.port).isEmpty)
    }
}
