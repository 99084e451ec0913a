import Foundation
import Processes

/// Running a builder's commands through `ChildProcess` (own process group, exact
/// environment, group killed on timeout or cancellation) and turning what
/// happened into a `BuildFailure`.
struct BuilderProcess: Sendable {
    let builder: String
    let environment: [String: String]
    let gracePeriod: Duration
    /// When the whole build must be over (the request's timeout), if ever.
    let deadline: ContinuousClock.Instant?
    let timeout: Duration?

    /// Runs one builder command with its output going to `log`; throws `BuildFailure`
    /// unless it exits 0.
    func run<Parser>(_ executable: String, _ arguments: [String], log: BuildLog<Parser>) async throws {
        let result = try await start(executable, arguments, timeout: try remaining(log), onLine: log.record)
        if let failure = failure(result, log: log) { throw failure }
    }

    /// Runs a helper command (version, image listing, cleanup) and collects its output;
    /// `limit` bounds its run time whatever the request's deadline.
    func output(_ executable: String, _ arguments: [String], limit: Duration) async throws -> (
        ProcessResult, String, String
    ) {
        let spec = ProcessSpec(
            executable, arguments, environment: environment, timeout: limit, gracePeriod: .seconds(2))
        do {
            return try await ChildProcess.output(spec)
        } catch {
            throw BuildFailure(kind: .other, exitStatus: nil, message: "\(error)", lastLines: [], builder: builder)
        }
    }

    private func start(
        _ executable: String, _ arguments: [String], timeout: Duration?, onLine: @escaping @Sendable (String) -> Void
    ) async throws -> ProcessResult {
        let spec = ProcessSpec(
            executable, arguments, environment: environment, timeout: timeout, gracePeriod: gracePeriod)
        do {
            return try await ChildProcess.run(spec) { _, line in onLine(line) }
        } catch {
            throw BuildFailure(kind: .other, exitStatus: nil, message: "\(error)", lastLines: [], builder: builder)
        }
    }

    /// Time left before the deadline; throws `.timedOut` when none is, `.cancelled` when the task is.
    func remaining<Parser>(_ log: BuildLog<Parser>) throws -> Duration? {
        if Task.isCancelled { throw cancelled(log) }
        guard let deadline else { return nil }
        let left = deadline - ContinuousClock.now
        guard left > .zero else { throw timedOut(log) }
        return left
    }

    func failure<Parser>(_ result: ProcessResult, log: BuildLog<Parser>) -> BuildFailure? {
        if result.cancelled { return cancelled(log) }
        if result.timedOut { return timedOut(log) }
        if result.succeeded { return nil }
        let status = result.exitStatus.map { "exit status \($0)" } ?? "signal \(result.signal ?? 0)"
        return log.failure(exitStatus: result.exitStatus, otherwise: "\(builder) ended with \(status)", builder: builder)
    }

    func cancelled<Parser>(_ log: BuildLog<Parser>) -> BuildFailure {
        BuildFailure(
            kind: .cancelled, exitStatus: nil, message: "the build was cancelled", lastLines: log.lastLines,
            builder: builder)
    }

    func timedOut<Parser>(_ log: BuildLog<Parser>) -> BuildFailure {
        let limit = timeout.map { " of \($0)" } ?? ""
        return BuildFailure(
            kind: .timedOut, exitStatus: nil, message: "the build ran past its timeout\(limit)",
            lastLines: log.lastLines,
            builder: builder)
    }
}

extension BuildFailure {
    /// `error` as the driver's failure: a `BuildFailure` as it is, anything else (a file the driver
    /// could not write…) as `.other`.
    static func wrapping(_ error: any Error, lastLines: [String], builder: String) -> BuildFailure {
        if let failure = error as? BuildFailure { return failure }
        return BuildFailure(kind: .other, exitStatus: nil, message: "\(error)", lastLines: lastLines, builder: builder)
    }
}

/// Removes the file (or symbolic link) at `path` if there is one.
func removeFileIfPresent(_ path: String) throws {
    guard unlink(path) == 0 || errno == ENOENT else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
}
