import GatewayAPI

/// A failure reported on stderr as `error: <message>` with its own exit status.
struct CLIError: Error, Sendable, CustomStringConvertible {
    var exitStatus: Int32
    var message: String
    /// Trying again later may succeed (the gateway was unreachable or overloaded).
    var isTransient = false

    var description: String { message }

    /// The job ended but did not succeed.
    static func jobUnsuccessful(_ job: Job) -> CLIError {
        let reason = job.error.map { "\($0.code): \($0.message)" } ?? "no error recorded"
        return CLIError(exitStatus: ExitStatus.jobUnsuccessful, message: "job \(job.id) \(job.state.rawValue): \(reason)")
    }

    static func unreachable(_ url: String, reason: String) -> CLIError {
        CLIError(
            exitStatus: ExitStatus.gatewayFailure, message: "gateway at \(url) unreachable: \(reason)",
            isTransient: true)
    }

    /// The gateway answered an error (its problem's code and detail).
    static func gatewayProblem(status: Int, code: String, detail: String) -> CLIError {
        CLIError(
            exitStatus: ExitStatus.gatewayFailure, message: "\(code): \(detail) (HTTP \(status))",
            isTransient: status >= 500 || status == 429)
    }

    static func unreadableAnswer(_ path: String, reason: String) -> CLIError {
        CLIError(exitStatus: ExitStatus.gatewayFailure, message: "unreadable answer to \(path): \(reason)")
    }
}
