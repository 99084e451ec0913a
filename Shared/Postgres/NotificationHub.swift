import Foundation
import Logging
import Synchronization

/// One `LISTEN` connection of a process (per database and set of channels) fanning
/// notifications out to every subscriber of a channel and payload (a run's or a job's id).
///
/// A notification carries only an id, so a subscriber woken re-reads its rows: a lost
/// notification costs latency, never data. While the listener is not listening (at start, or
/// reconnecting after the server went), every subscriber is woken every `fallbackInterval` so
/// it polls; once it listens again, every subscriber is woken once to catch up.
/// The connection opens with the first subscriber and closes after the last one leaves.
public final class NotificationHub: Sendable {
    private struct State {
        var subscribers: [String: [ObjectIdentifier: WeakSubscription]] = [:]
        var listening = false
        var running = false
        var listener: PostgresListener?
        /// Bumped at each start and stop, so an old start that finishes late knows it is stale.
        var generation = 0
    }

    public let configuration: PostgresConfiguration
    public let channels: [String]
    public let fallbackInterval: Duration
    private let logger: Logger
    private let state = Mutex(State())

    public init(
        configuration: PostgresConfiguration, channels: [String], fallbackInterval: Duration = .seconds(1), logger: Logger
    ) {
        self.configuration = configuration
        self.channels = channels
        self.fallbackInterval = fallbackInterval
        self.logger = logger
    }

    private static let shared = Mutex<[String: NotificationHub]>([:])

    /// The process's hub for this database and these channels.
    public static func shared(
        configuration: PostgresConfiguration, channels: [String], logger: Logger = Logger(label: "notification-hub")
    ) -> NotificationHub {
        let key = ([configuration.conninfo] + channels.sorted()).joined(separator: "\u{0}")
        return shared.withLock { hubs in
            if let hub = hubs[key] { return hub }
            let hub = NotificationHub(configuration: configuration, channels: channels, logger: logger)
            hubs[key] = hub
            return hub
        }
    }

    /// Whether notifications are being received now (false while connecting or reconnecting).
    public var isListening: Bool { state.withLock { $0.listening } }

    /// Subscribes to `payload` on `channel`. Subscribe before reading the rows, then read
    /// again each time `next()` returns.
    public func subscribe(channel: String, payload: String) -> NotificationSubscription {
        let subscription = NotificationSubscription(hub: self, key: Self.key(channel, payload))
        let start: Int? = state.withLock { state in
            state.subscribers[subscription.key, default: [:]][ObjectIdentifier(subscription)] = WeakSubscription(subscription)
            guard !state.running else { return nil }
            state.running = true
            state.generation += 1
            return state.generation
        }
        if let start { begin(generation: start) }
        return subscription
    }

    fileprivate func unsubscribe(key: String, id: ObjectIdentifier) {
        let listener: PostgresListener? = state.withLock { state in
            state.subscribers[key]?[id] = nil
            if state.subscribers[key]?.isEmpty == true { state.subscribers[key] = nil }
            guard state.subscribers.isEmpty, state.running else { return nil }
            state.running = false
            state.listening = false
            state.generation += 1
            defer { state.listener = nil }
            return state.listener
        }
        listener?.stop()
    }

    private static func key(_ channel: String, _ payload: String) -> String { channel + "\u{0}" + payload }

    /// Opens the listener (retrying while the server is away) and polls everyone meanwhile.
    private func begin(generation: Int) {
        startFallback(generation: generation)
        Task { [self] in
            while isCurrent(generation) {
                do {
                    let listener = try await PostgresListener(
                        configuration: configuration, channels: channels, logger: logger,
                        onConnectionChange: { [weak self] listening in self?.listeningChanged(listening, generation: generation) })
                    let kept = state.withLock { state in
                        guard state.generation == generation else { return false }
                        state.listener = listener
                        return true
                    }
                    guard kept else {
                        listener.stop()
                        return
                    }
                    listeningChanged(true, generation: generation)
                    for await notification in listener.notifications {
                        wake(key: Self.key(notification.channel, notification.payload))
                    }
                    return
                } catch {
                    logger.warning("notification listener could not start", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: fallbackInterval)
                }
            }
        }
    }

    private func isCurrent(_ generation: Int) -> Bool { state.withLock { $0.generation == generation } }

    private func listeningChanged(_ listening: Bool, generation: Int) {
        let changed = state.withLock { state in
            guard state.generation == generation, state.listening != listening else { return false }
            state.listening = listening
            return true
        }
        guard changed else { return }
        if listening {
            // Whatever was committed while nobody listened: every follower reads after its last id.
            wakeAll()
        } else {
            startFallback(generation: generation)
        }
    }

    /// Wakes everyone every `fallbackInterval` until the listener listens (or the hub stops).
    private func startFallback(generation: Int) {
        Task { [self] in
            while true {
                try? await Task.sleep(for: fallbackInterval)
                let polling = state.withLock { $0.generation == generation && !$0.listening }
                guard polling else { return }
                wakeAll()
            }
        }
    }

    private func wake(key: String) {
        let subscribers = state.withLock { $0.subscribers[key].map { $0.values.compactMap(\.value) } ?? [] }
        for subscriber in subscribers { subscriber.wake() }
    }

    private func wakeAll() {
        let subscribers = state.withLock { $0.subscribers.values.flatMap { $0.values.compactMap(\.value) } }
        for subscriber in subscribers { subscriber.wake() }
    }
}

/// The hub does not keep a subscription alive: one dropped without `cancel()` leaves by deinit.
private struct WeakSubscription {
    weak var value: NotificationSubscription?
    init(_ value: NotificationSubscription) { self.value = value }
}

/// One follower's interest in one channel and payload. `next()` returns once a notification
/// came since the last call (or the hub asks everyone to poll or catch up).
public final class NotificationSubscription: Sendable {
    private enum Signal {
        case idle
        case pending
        case waiting(CheckedContinuation<Void, Never>)
        case cancelled
    }

    fileprivate let key: String
    private let hub: NotificationHub
    private let signal = Mutex(Signal.idle)

    fileprivate init(hub: NotificationHub, key: String) {
        self.hub = hub
        self.key = key
    }

    deinit { hub.unsubscribe(key: key, id: ObjectIdentifier(self)) }

    /// Stops following; `next()` returns at once from now on.
    public func cancel() {
        hub.unsubscribe(key: key, id: ObjectIdentifier(self))
        let waiter: CheckedContinuation<Void, Never>? = signal.withLock { signal in
            defer { signal = .cancelled }
            if case .waiting(let continuation) = signal { return continuation }
            return nil
        }
        waiter?.resume()
    }

    fileprivate func wake() {
        let waiter: CheckedContinuation<Void, Never>? = signal.withLock { signal in
            switch signal {
            case .waiting(let continuation):
                signal = .idle
                return continuation
            case .idle:
                signal = .pending
                return nil
            case .pending, .cancelled:
                return nil
            }
        }
        waiter?.resume()
    }

    /// Returns when there may be new rows to read, or when the task is cancelled.
    public func next() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: Bool = signal.withLock { signal in
                    switch signal {
                    case .pending:
                        signal = .idle
                        return true
                    case .cancelled:
                        return true
                    case .idle, .waiting:
                        signal = .waiting(continuation)
                        return false
                    }
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            wake()
        }
    }
}
