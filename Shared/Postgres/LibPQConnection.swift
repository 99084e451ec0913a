import CLibPQ
import Foundation

/// One libpq `PGconn`, freed in `deinit`. Every call blocks the calling thread.
///
/// `@unchecked Sendable`: a `PGconn` is not thread-safe, and this class adds no locking. It is
/// used (its prepared statements with it) by one thread at a time — the owning
/// `PostgresConnection`'s serial queue, or a `PostgresListener`'s thread. The one exception,
/// `requestCancel()`, uses a `PGcancel` object, which libpq documents as safe from any thread.
final class LibPQConnection: @unchecked Sendable {
    private let conn: OpaquePointer
    private let cancelHandle: OpaquePointer?
    /// The statements prepared on this connection, by SQL text (see `execute`).
    private var prepared: [String: String] = [:]
    /// Past this many, further statements run unprepared: SQL built per call cannot fill the server.
    static let maxPrepared = 128

    private init(conn: OpaquePointer) {
        self.conn = conn
        self.cancelHandle = PQgetCancel(conn)
    }

    deinit {
        if let cancelHandle { PQfreeCancel(cancelHandle) }
        PQfinish(conn)
    }

    /// Opens a connection with UTF-8, DateStyle ISO and UTC, the formats the codecs expect.
    static func connect(_ configuration: PostgresConfiguration) throws(PostgresError) -> LibPQConnection {
        // `conninfo` is expanded in place of dbname; the entries after it override its settings.
        var parameters: [(String, String)] = [
            ("dbname", configuration.conninfo),
            ("client_encoding", "UTF8"),
            ("connect_timeout", String(configuration.connectTimeoutSeconds)),
        ]
        if let name = configuration.applicationName { parameters.append(("application_name", name)) }
        // Both arrays end with a null pointer.
        let conn = withCStrings(parameters.map(\.0) + [nil]) { keywords in
            withCStrings(parameters.map(\.1) + [nil]) { values in PQconnectdbParams(keywords, values, 1) }
        }
        guard let conn else { throw PostgresError(.connectFailed, message: "libpq could not allocate a connection") }
        let connection = LibPQConnection(conn: conn)
        // libpq prints server notices and warnings to stderr by default; drop them.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        guard PQstatus(conn) == CONNECTION_OK else {
            throw PostgresError(.connectFailed, message: connection.lastErrorMessage)
        }
        try connection.executeScript("SET DateStyle = 'ISO, MDY'; SET TimeZone = 'UTC'")
        return connection
    }

    var isOK: Bool { PQstatus(conn) == CONNECTION_OK }

    /// Open and outside any transaction: safe to hand to the next user.
    var isReusable: Bool { isOK && PQtransactionStatus(conn) == PQTRANS_IDLE }

    var socket: Int32 { PQsocket(conn) }

    /// One statement with `$n` parameters (text format; nil is NULL).
    /// Every parameter is made storable first (`StorableText`): NUL, and `\u0000` in JSON, become U+FFFD.
    func execute(_ sql: String, _ parameters: [String?]) throws(PostgresError) -> PostgresRows {
        let json = StorableText.jsonParameters(in: sql)
        let parameters = parameters.enumerated().map { index, text in
            text.map { StorableText.storable($0, json: json.contains(index + 1)) }
        }
        guard let name = try preparedName(of: sql, parameterCount: parameters.count) else {
            let result = withCStrings(parameters) { values in
                PQexecParams(conn, sql, Int32(parameters.count), nil, values, nil, nil, 0)
            }
            return try rows(from: result)
        }
        let result = withCStrings(parameters) { values in
            PQexecPrepared(conn, name, Int32(parameters.count), values, nil, nil, 0)
        }
        return try rows(from: result)
    }

    /// The name `sql` is prepared under on this connection, preparing it the first time; nil for
    /// what runs unprepared (anything but a query or a data change, or past `maxPrepared`).
    /// Parsing and planning each statement again was most of the server's CPU for a submit's
    /// statement (pgbench on it: 1,640 tps unprepared, 3,050 prepared).
    private func preparedName(of sql: String, parameterCount: Int) throws(PostgresError) -> String? {
        if let name = prepared[sql] { return name }
        guard prepared.count < Self.maxPrepared, Self.isPreparable(sql) else { return nil }
        let name = "buildchain_\(prepared.count + 1)"
        _ = try rows(from: PQprepare(conn, name, sql, Int32(parameterCount), nil))
        prepared[sql] = name
        return name
    }

    /// A query or a data change (what `PREPARE` takes); transaction control and the rest run as sent.
    static func isPreparable(_ sql: String) -> Bool {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D }
        let keyword = sql.utf8.drop(while: isSpace).prefix { !isSpace($0) && $0 != UInt8(ascii: "(") }
        return ["select", "insert", "update", "delete", "with", "values"].contains { word in
            keyword.count == word.utf8.count && zip(keyword, word.utf8).allSatisfy { $0 | 0x20 == $1 }
        }
    }

    /// Statements without parameters, several allowed (`;`-separated): for migrations and
    /// session settings only, never for SQL that carries values.
    func executeScript(_ sql: String) throws(PostgresError) {
        _ = try rows(from: PQexec(conn, sql))
    }

    /// Reads whatever the server sent; false when the connection broke.
    func consumeInput() -> Bool { PQconsumeInput(conn) == 1 && isOK }

    /// Notifications received so far (by `consumeInput` or during a statement).
    func takeNotifications() -> [PostgresNotification] {
        var notifications: [PostgresNotification] = []
        while let notify = PQnotifies(conn) {
            notifications.append(
                PostgresNotification(
                    channel: String(cString: notify.pointee.relname),
                    payload: String(cString: notify.pointee.extra),
                    senderPID: notify.pointee.be_pid))
            PQfreemem(notify)
        }
        return notifications
    }

    /// Asks the server to cancel the statement in progress; callable from any thread.
    func requestCancel() {
        guard let cancelHandle else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancelHandle, &buffer, Int32(buffer.count))
    }

    /// libpq's last error, e.g. "connection to server … failed: …" (never contains a password).
    var lastErrorMessage: String {
        String(cString: PQerrorMessage(conn)).trimmingTrailingNewlines()
    }

    private func rows(from result: OpaquePointer?) throws(PostgresError) -> PostgresRows {
        guard let result else { throw error(nil) }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(columns: [], values: [], affectedRows: Self.affectedRows(result))
        case PGRES_TUPLES_OK:
            let columnCount = PQnfields(result)
            let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
            let values = (0..<PQntuples(result)).map { row in
                (0..<columnCount).map { column -> String? in
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                }
            }
            return PostgresRows(columns: columns, values: values, affectedRows: Self.affectedRows(result))
        default:
            throw error(result)
        }
    }

    private static func affectedRows(_ result: OpaquePointer) -> Int {
        Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    private func error(_ result: OpaquePointer?) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let result, let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field("C")
        let message = field("M") ?? lastErrorMessage
        return PostgresError(
            isOK ? .server : .connectionLost, sqlState: sqlState,
            message: PostgresError.sanitizedMessage(message, sqlState: sqlState),
            constraint: field("n"), table: field("t"), column: field("c"))
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var text = self
        while text.last?.isNewline == true { text.removeLast() }
        return text
    }
}

/// Calls `body` with NUL-terminated copies of `strings` (nil stays a null pointer).
private func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { $0.map { strdup($0)! } }
    defer { copies.forEach { free($0) } }
    return body(copies.map { $0.map { UnsafePointer($0) } })
}
