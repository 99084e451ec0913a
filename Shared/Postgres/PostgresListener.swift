import CLibPQ
import Foundation
import Logging
import Synchronization

/// Receives `NOTIFY`s for a fixed set of channels on a dedicated connection and thread.
///
/// When `init` returns, the channels are being listened to, so a caller can listen first and
/// then read the current state without missing a change. If the server restarts, the listener
/// reconnects (backing off up to 2 s) and listens again; notifications sent while it was
/// disconnected are lost, so `onConnectionChange` says when the connection goes (false) and
/// when it is listening again (true): followers poll in between and re-read state after.
/// The listener stops when `stop()` is called, when it is deinitialized, or when the consumer of
/// `notifications` goes away.
public final class PostgresListener: Sendable {
    /// The notifications, in the order the server sent them; one consumer.
    public let notifications: AsyncStream<PostgresNotification>
    private let continuation: AsyncStream<PostgresNotification>.Continuation
    private let stopFlag: StopFlag

    public init(
        configuration: PostgresConfiguration, channels: [String], logger: Logger,
        onConnectionChange: @escaping @Sendable (_ listening: Bool) -> Void = { _ in }
    ) async throws {
        let channels = try channels.map { name throws(PostgresError) in
            try PostgresIdentifier.validated(name, as: "channel")
        }
        let (stream, continuation) = AsyncStream.makeStream(of: PostgresNotification.self)
        let stopFlag = StopFlag()
        continuation.onTermination = { _ in stopFlag.stop() }
        var logger = logger
        logger[metadataKey: "db.target"] = "\(configuration.redactedConninfo)"
        let loop = ListenLoop(
            configuration: configuration, channels: channels, logger: logger, continuation: continuation,
            stopFlag: stopFlag, onConnectionChange: onConnectionChange)
        try await withCheckedThrowingContinuation { (started: CheckedContinuation<Void, any Error>) in
            Thread {
                let connection: LibPQConnection
                do {
                    connection = try loop.connectAndListen()
                } catch {
                    continuation.finish()
                    started.resume(throwing: error)
                    return
                }
                started.resume()
                loop.run(connection)
            }.start()
        }
        self.notifications = stream
        self.continuation = continuation
        self.stopFlag = stopFlag
    }

    deinit { stop() }

    /// Ends `notifications`; the thread closes its connection within a quarter second.
    public func stop() {
        stopFlag.stop()
        continuation.finish()
    }
}

private final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isStopped: Bool { flag.load(ordering: .relaxed) }
    func stop() { flag.store(true, ordering: .relaxed) }
}

/// The listener's thread: poll the socket, read notifications, reconnect when the server goes.
private struct ListenLoop: Sendable {
    let configuration: PostgresConfiguration
    let channels: [String]
    let logger: Logger
    let continuation: AsyncStream<PostgresNotification>.Continuation
    let stopFlag: StopFlag
    let onConnectionChange: @Sendable (Bool) -> Void

    private static let pollMilliseconds: Int32 = 250
    private static let maxReconnectDelay = 2.0

    func connectAndListen() throws(PostgresError) -> LibPQConnection {
        let connection = try LibPQConnection.connect(configuration)
        for channel in channels {
            try connection.executeScript("LISTEN \"\(channel)\"")
        }
        return connection
    }

    func run(_ initial: LibPQConnection) {
        var connection: LibPQConnection? = initial
        var reconnectDelay = 0.0
        while !stopFlag.isStopped {
            guard let current = connection else {
                sleep(seconds: reconnectDelay)
                if stopFlag.isStopped { break }
                do {
                    connection = try connectAndListen()
                    logger.info("listener reconnected")
                    reconnectDelay = 0
                    onConnectionChange(true)
                } catch {
                    logger.warning("listener could not reconnect", metadata: ["error": "\(error)"])
                    reconnectDelay = min(max(reconnectDelay * 2, 0.25), Self.maxReconnectDelay)
                }
                continue
            }
            let readable = clibpq_wait_readable(current.socket, Self.pollMilliseconds)
            let healthy = readable == 0 || (readable == 1 && current.consumeInput())
            for notification in current.takeNotifications() {
                continuation.yield(notification)
            }
            if !healthy {
                logger.warning("listener connection lost; reconnecting")
                connection = nil
                onConnectionChange(false)
            }
        }
    }

    /// Sleeps in short steps so that `stop()` is noticed quickly.
    private func sleep(seconds: Double) {
        var remaining = seconds
        while remaining > 0, !stopFlag.isStopped {
            Thread.sleep(forTimeInterval: min(remaining, 0.1))
            remaining -= 0.1
        }
    }
}
