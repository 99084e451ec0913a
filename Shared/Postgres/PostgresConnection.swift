import Dispatch
import Synchronization

/// A server connection, lent by `PostgresPool` to one task at a time.
///
/// Statements run on the connection's own thread (`StatementThread`), so libpq's blocking calls
/// never occupy a thread of Swift's cooperative pool. Cancelling the calling task sends the server a
/// cancel request for the running statement. Do not keep the connection past the closure that
/// received it.
///
/// `@unchecked Sendable`: the pool hands a connection to one task at a time, so the mutable
/// bookkeeping (`statementsThisCheckout`) is only touched by that task; `LibPQConnection` is
/// only used on `thread` (its thread-safe `requestCancel()` aside); `isInvalidated` is atomic
/// because the cancellation handler may run on any thread.
public final class PostgresConnection: @unchecked Sendable {
    private let libpq: LibPQConnection
    private let thread: StatementThread
    /// Statements started since the pool lent this connection out.
    var statementsThisCheckout = 0
    /// Set when the session holds state that must not reach the next borrower. A cancel request,
    /// for one, can land on a later statement.
    private let isInvalidated = Atomic<Bool>(false)

    private init(libpq: LibPQConnection, thread: StatementThread) {
        self.libpq = libpq
        self.thread = thread
    }

    deinit { thread.stop() }

    static func open(_ configuration: PostgresConfiguration) async throws(PostgresError) -> PostgresConnection {
        let thread = StatementThread(name: "postgres")
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<LibPQConnection, PostgresError>, Never>) in
            thread.submit {
                continuation.resume(
                    returning: Result { () throws(PostgresError) in try LibPQConnection.connect(configuration) })
            }
        }
        do {
            return PostgresConnection(libpq: try result.get(), thread: thread)
        } catch {
            thread.stop()
            throw error
        }
    }

    /// Runs one statement with `$1…$n` bound to `parameters` and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws(PostgresError)
        -> PostgresRows
    {
        let values = parameters.map { $0?.postgresText ?? nil }
        return try await perform { libpq throws(PostgresError) in try libpq.execute(sql, values) }
    }

    /// Runs one statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws(PostgresError) -> Int
    {
        try await query(sql, parameters).affectedRows
    }

    /// `NOTIFY channel, payload`; inside a transaction it is delivered at commit.
    public func notify(channel: String, payload: String) async throws(PostgresError) {
        try await query("SELECT pg_notify($1, $2)", [channel, payload])
    }

    /// Static SQL, several statements allowed; never for SQL that carries values.
    func executeScript(_ sql: String) async throws(PostgresError) {
        try await perform { libpq throws(PostgresError) in try libpq.executeScript(sql) }
    }

    /// Whether the pool may lend this connection again.
    var isReusable: Bool { libpq.isReusable && !isInvalidated.load(ordering: .relaxed) }

    /// Makes the pool close this connection instead of lending it again.
    func invalidate() { isInvalidated.store(true, ordering: .relaxed) }

    private func perform<T: Sendable>(
        _ work: @escaping @Sendable (LibPQConnection) throws(PostgresError) -> T
    ) async throws(PostgresError) -> T {
        statementsThisCheckout += 1
        let libpq = self.libpq
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, PostgresError>, Never>) in
                thread.submit { continuation.resume(returning: Result { () throws(PostgresError) in try work(libpq) }) }
            }
        } onCancel: {
            self.invalidate()
            // PQcancel opens a connection to the server: keep it off the cancelling thread.
            DispatchQueue.global().async { libpq.requestCancel() }
        }
        return try result.get()
    }
}
