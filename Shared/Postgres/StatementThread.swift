import Foundation

/// The thread a `PostgresConnection`'s statements run on, one at a time in order, for as long as
/// the connection lives. libpq blocks its caller, so a connection needs a thread while it works;
/// one of its own keeps a process's database threads at its open connections (the pool's size
/// and the listener). Serial dispatch queues ran on dispatch's overcommit pool instead, which
/// added a thread whenever work arrived while the others were blocked: bursts of SSE followers
/// left twice as many threads as connections.
///
/// `@unchecked Sendable`: `work` and `stopped` are only touched under `condition`.
final class StatementThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var work: [@Sendable () -> Void] = []
    private var stopped = false

    init(name: String) {
        // The thread holds this object until `stop()`: the owner must call it.
        // Named from inside: a name set before start does not reach the kernel's (/proc/…/comm).
        let thread = Thread { [self] in
            Thread.current.name = name
            run()
        }
        thread.start()
    }

    /// Runs `job` on the thread after the jobs submitted before it.
    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        work.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the submitted jobs have run.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while work.isEmpty && !stopped { condition.wait() }
            if work.isEmpty {
                condition.unlock()
                return
            }
            let job = work.removeFirst()
            condition.unlock()
            job()
        }
    }
}
