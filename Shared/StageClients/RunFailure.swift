/// Why a run failed, as recorded in its `error` and shown to callers: a
/// stable code from a documented set, a message free of secrets, and
/// whether trying again may succeed.
public struct RunFailure: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var retryable: Bool

    public init(code: String, message: String, retryable: Bool) {
        self.code = code
        self.message = message
        self.retryable = retryable
    }

    public var description: String { "\(code): \(message)" }

    public static func cancelled() -> RunFailure {
        RunFailure(code: "CANCELLED", message: "the run was cancelled", retryable: false)
    }

    /// A run whose heartbeat stopped for `staleAfter` (by the database's clock): the process
    /// running it died, or could not record its end. Retryable: the stage runs again.
    public static func abandoned(staleAfter: Duration) -> RunFailure {
        RunFailure(
            code: "RUN_ABANDONED", message: "no heartbeat from the process running it for \(staleAfter)", retryable: true)
    }
}
