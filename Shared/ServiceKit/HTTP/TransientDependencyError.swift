/// An error from a dependency that may be away only for a moment (the database restarting, a
/// connection refused or lost). `ProblemMiddleware` answers it `503 UNAVAILABLE` with
/// `Retry-After` instead of `500 INTERNAL`, so a caller knows to send the request again.
/// ServiceKit opens no database: the database's errors conform where both are seen (StageRuns).
public protocol TransientDependencyError: Error {
    /// Whether this failure may pass (a connection refused or lost, the server starting or
    /// shutting down), as opposed to a refusal that would repeat.
    var isTransient: Bool { get }
    /// The dependency as the problem's detail names it, e.g. "the database".
    var dependency: String { get }
}
