import Synchronization

/// The bridge from C callbacks to Swift concurrency: a value set once, from any thread (a libcurl
/// callback on the driver thread, say), and awaited once. Whichever comes first, the value or the
/// await, the other completes it; values after the first are ignored.
final class OneShot<Value: Sendable>: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<Value, Never>)
        case set(Value)
        case taken
    }

    private let state = Mutex<State>(.empty)

    init() {}

    func resolve(_ value: Value) {
        let waiter: CheckedContinuation<Value, Never>? = state.withLock { state in
            switch state {
            case .empty:
                state = .set(value)
                return nil
            case .waiting(let continuation):
                state = .taken
                return continuation
            case .set, .taken:
                return nil
            }
        }
        waiter?.resume(returning: value)
    }

    /// The value, once someone resolves it. Await it once.
    func value() async -> Value {
        await withCheckedContinuation { continuation in
            let ready: Value? = state.withLock { state in
                if case .set(let value) = state {
                    state = .taken
                    return value
                }
                state = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
