import Logging
import Synchronization

/// A bounded pool of server connections.
///
/// Connections open lazily, up to `maxConnections`; borrowers beyond that wait in FIFO order,
/// and a waiting task that is cancelled stops waiting with `CancellationError`.
///
/// After a server restart the idle connections are stale. When the first statement of a
/// borrowing fails because the connection is lost, the server never ran it, so the pool drops
/// its idle connections and runs the operation once more on a fresh connection: callers see no
/// error. A connection lost after a statement already ran surfaces the error, since repeating the
/// operation could repeat its effects. The operation's closure must therefore tolerate running
/// twice up to its first statement.
public final class PostgresPool: Sendable {
    public let configuration: PostgresConfiguration
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var idle: [PostgresConnection] = []
        /// Connections open or being opened, lent out or idle: never above `maxConnections`.
        var slotsInUse = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Lease, any Error>)] = []
        var nextWaiterID = 0
        var isClosed = false
    }

    /// What a borrower receives: an idle connection, or the right to open one.
    private enum Lease {
        case connection(PostgresConnection)
        case slot
    }

    public init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "db.target"] = "\(configuration.redactedConninfo)"
        self.logger = logger
    }

    /// Lends a connection to `body` and takes it back afterwards (see the type's notes on retry).
    @discardableResult
    public func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        var isRetry = false
        while true {
            let connection = try await checkOut(fresh: isRetry)
            connection.statementsThisCheckout = 0
            do {
                let value = try await body(connection)
                checkIn(connection)
                return value
            } catch let error as PostgresError where error.isConnectionLost {
                let failedOnFirstStatement = connection.statementsThisCheckout <= 1
                checkIn(connection)
                dropIdleConnections()
                guard failedOnFirstStatement, !isRetry else { throw error }
                logger.warning("connection lost before its first statement; retrying on a new connection")
                isRetry = true
            } catch {
                checkIn(connection)
                throw error
            }
        }
    }

    /// Runs `body` between `BEGIN` and `COMMIT`; `ROLLBACK` when it throws.
    @discardableResult
    public func transaction<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await connection.execute("BEGIN")
            let value: T
            do {
                value = try await body(connection)
            } catch {
                // If the rollback fails too, the connection is not reusable and the pool drops it.
                _ = try? await connection.execute("ROLLBACK")
                throw error
            }
            try await connection.execute("COMMIT")
            return value
        }
    }

    /// Runs one statement on a pooled connection and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresRows {
        try await withConnection { try await $0.query(sql, parameters) }
    }

    /// Runs one statement on a pooled connection and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await withConnection { try await $0.execute(sql, parameters) }
    }

    /// `NOTIFY channel, payload` (parameterized through `pg_notify`).
    public func notify(channel: String, payload: String) async throws {
        try await withConnection { try await $0.notify(channel: channel, payload: payload) }
    }

    /// A round trip to the server, for readiness probes.
    public func ping() async throws {
        try await query("SELECT 1")
    }

    /// Closes idle connections and fails waiting borrowers; connections still lent out are
    /// closed when they come back. Later borrowings throw `PostgresError` `.poolClosed`.
    public func close() {
        let (idle, waiters) = state.withLock { state in
            state.isClosed = true
            defer {
                state.slotsInUse -= state.idle.count
                state.idle = []
                state.waiters = []
            }
            return (state.idle, state.waiters)
        }
        _ = idle  // released here, outside the lock: deinit closes them
        for waiter in waiters { waiter.continuation.resume(throwing: PostgresError.poolClosedError) }
    }

    private func checkOut(fresh: Bool) async throws -> PostgresConnection {
        switch try await lease() {
        case .connection(let connection) where !fresh:
            return connection
        case .connection, .slot:
            // A slot, or an idle connection whose slot is reused for a fresh one.
            do {
                let connection = try await PostgresConnection.open(configuration)
                logger.debug("opened a database connection")
                return connection
            } catch {
                logger.error("could not connect to the database", metadata: ["error": "\(error)"])
                releaseSlot()
                throw error
            }
        }
    }

    private func lease() async throws -> Lease {
        // Most borrowings find an idle connection: take it without setting up a wait.
        if !Task.isCancelled, let lease = state.withLock({ state -> Lease? in
            guard !state.isClosed, state.waiters.isEmpty else { return nil }
            if let connection = state.idle.popLast() { return .connection(connection) }
            guard state.slotsInUse < configuration.maxConnections else { return nil }
            state.slotsInUse += 1
            return .slot
        }) {
            return lease
        }
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let immediate: Result<Lease, any Error>? = state.withLock { state in
                    if state.isClosed { return .failure(PostgresError.poolClosedError) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let connection = state.idle.popLast() { return .success(.connection(connection)) }
                    if state.slotsInUse < configuration.maxConnections {
                        state.slotsInUse += 1
                        return .success(.slot)
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waiters.firstIndex(where: { $0.id == id }).map { state.waiters.remove(at: $0) }
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private func checkIn(_ connection: PostgresConnection) {
        guard connection.isReusable else {
            releaseSlot()
            return
        }
        let waiter: CheckedContinuation<Lease, any Error>? = state.withLock { state in
            if state.isClosed {
                state.slotsInUse -= 1
                return nil
            }
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            state.idle.append(connection)
            return nil
        }
        waiter?.resume(returning: .connection(connection))
    }

    /// Gives up one slot: to the first waiter (who opens a connection), or back to the pool.
    private func releaseSlot() {
        let waiter: CheckedContinuation<Lease, any Error>? = state.withLock { state in
            if !state.isClosed, !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            state.slotsInUse -= 1
            return nil
        }
        waiter?.resume(returning: .slot)
    }

    /// After a lost connection the idle ones most likely died with the same server.
    private func dropIdleConnections() {
        let dropped = state.withLock { state in
            defer {
                state.slotsInUse -= state.idle.count
                state.idle = []
            }
            return state.idle
        }
        if !dropped.isEmpty { logger.debug("dropped idle connections", metadata: ["count": "\(dropped.count)"]) }
    }
}

extension PostgresError {
    static let poolClosedError = PostgresError(.poolClosed, message: "the connection pool is closed")
}
