import Foundation
import Synchronization

/// An exclusive `flock(2)` on a lock file: the lock other processes sharing the
/// mirror cache respect. A contended lock is waited for on a thread of its own,
/// never on the cooperative pool; a cancelled waiter returns at once and its
/// thread gives the lock back as soon as it gets it.
final class FileLock: Sendable {
    private let descriptor: Int32
    private let released = Mutex(false)

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// The lock if nobody holds it, nil if someone does (in this process or another: a `flock` is
    /// held per open file, so two opens in one process exclude each other too).
    static func tryAcquire(path: String) throws(CheckoutError) -> FileLock? {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .storageFailed("cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return FileLock(descriptor: descriptor) }
        let failure = errno
        close(descriptor)
        guard failure == EWOULDBLOCK else { throw .storageFailed("cannot lock \(path): \(String(cString: strerror(failure)))") }
        return nil
    }

    static func acquire(path: String) async throws -> FileLock {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw CheckoutError.storageFailed("cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return FileLock(descriptor: descriptor) }
        guard errno == EWOULDBLOCK else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw CheckoutError.storageFailed("cannot lock \(path): \(reason)")
        }
        let wait = Mutex(Wait.starting)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelledEarly = wait.withLock { state in
                    guard case .starting = state else { return true }
                    state = .waiting(continuation)
                    return false
                }
                if cancelledEarly {
                    close(descriptor)
                    continuation.resume(throwing: CancellationError())
                    return
                }
                Thread {
                    var result: Int32
                    repeat { result = flock(descriptor, LOCK_EX) } while result != 0 && errno == EINTR
                    let reason = String(cString: strerror(errno))
                    let waiter = wait.withLock { state -> CheckedContinuation<Void, any Error>? in
                        guard case .waiting(let continuation) = state else { return nil }
                        state = .finished
                        return continuation
                    }
                    guard let waiter, result == 0 else {
                        // Cancelled meanwhile, or flock failed: nobody will release this descriptor.
                        close(descriptor)
                        waiter?.resume(throwing: CheckoutError.storageFailed("cannot lock \(path): \(reason)"))
                        return
                    }
                    waiter.resume()
                }.start()
            }
        } onCancel: {
            let waiter = wait.withLock { state -> CheckedContinuation<Void, any Error>? in
                switch state {
                case .starting:
                    state = .cancelled
                    return nil
                case .waiting(let continuation):
                    state = .cancelled
                    return continuation
                case .cancelled, .finished:
                    return nil
                }
            }
            waiter?.resume(throwing: CancellationError())
        }
        return FileLock(descriptor: descriptor)
    }

    func release() {
        let first = released.withLock { released in
            defer { released = true }
            return !released
        }
        guard first else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    deinit { release() }

    private enum Wait {
        case starting
        case waiting(CheckedContinuation<Void, any Error>)
        case cancelled
        case finished
    }
}
