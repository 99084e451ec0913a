import Foundation
import Synchronization

/// What to run: the whole environment is given (nothing is inherited unless
/// the caller passes it), so secrets reach a child only where meant to.
public struct ProcessSpec: Sendable {
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String?
    /// Killed (process group, SIGTERM then SIGKILL) when it runs longer.
    public var timeout: Duration?
    /// Time between SIGTERM and SIGKILL when stopping.
    public var gracePeriod: Duration

    public init(
        _ executable: String, _ arguments: [String] = [], environment: [String: String] = ChildProcess.minimalEnvironment,
        workingDirectory: String? = nil, timeout: Duration? = nil, gracePeriod: Duration = .seconds(5)
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.timeout = timeout
        self.gracePeriod = gracePeriod
    }
}

public enum OutputStream: String, Sendable, Codable {
    case stdout, stderr
}

public struct ProcessResult: Sendable, Equatable {
    /// The exit status, or nil when a signal ended the process.
    public let exitStatus: Int32?
    public let signal: Int32?
    public let timedOut: Bool
    public let cancelled: Bool
    public let elapsed: Duration

    public var succeeded: Bool { exitStatus == 0 }
}

public struct ProcessError: Error, Sendable, CustomStringConvertible {
    public let executable: String
    public let reason: String
    public var description: String { "\(executable): \(reason)" }
}

/// Runs child processes in their own process group with a clean signal
/// mask (a child spawned from a Dispatch or cooperative thread would
/// otherwise inherit blocked signals and ignore SIGTERM), streams their
/// output line by line, and kills the whole group on timeout or when the
/// awaiting task is cancelled.
public enum ChildProcess {
    public static let minimalEnvironment = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]

    /// Runs `spec` to its end. Each output line (without its newline) goes
    /// to `onLine` as it is written. Cancellation of the calling task stops
    /// the process group and returns a result with `cancelled` set.
    public static func run(
        _ spec: ProcessSpec, onLine: @escaping @Sendable (OutputStream, String) -> Void = { _, _ in }
    ) async throws -> ProcessResult {
        let started = ContinuousClock.now
        let child = try SpawnedChild(spec)
        let stop = StopSignal()
        let timer = spec.timeout.map { timeout in
            Task {
                try await Task.sleep(for: timeout)
                stop.request(.timedOut)
                await child.stopGroup(grace: spec.gracePeriod)
            }
        }
        defer { timer?.cancel() }
        let status = await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await LineReader.read(child.stdout) { onLine(.stdout, $0) } }
                group.addTask { await LineReader.read(child.stderr) { onLine(.stderr, $0) } }
                let status = await child.wait()
                // The run owns its process group: whatever the leader left
                // behind would hold the output pipes open forever.
                child.killGroup()
                await group.waitForAll()
                return status
            }
        } onCancel: {
            stop.request(.cancelled)
            Task { await child.stopGroup(grace: spec.gracePeriod) }
        }
        let reason = stop.reason
        return ProcessResult(
            exitStatus: status.exited ? status.code : nil, signal: status.exited ? nil : status.code,
            timedOut: reason == .timedOut, cancelled: reason == .cancelled, elapsed: ContinuousClock.now - started)
    }

    /// Runs `spec` and collects its output (each stream at most `limit` bytes, the rest dropped).
    public static func output(_ spec: ProcessSpec, limit: Int = 1 << 20) async throws -> (
        result: ProcessResult, stdout: String, stderr: String
    ) {
        let collected = Mutex<(out: String, err: String)>(("", ""))
        let result = try await run(spec) { stream, line in
            collected.withLock { text in
                switch stream {
                case .stdout where text.out.utf8.count < limit: text.out += line + "\n"
                case .stderr where text.err.utf8.count < limit: text.err += line + "\n"
                default: break
                }
            }
        }
        let text = collected.withLock { $0 }
        return (result, text.out, text.err)
    }
}

final class StopSignal: Sendable {
    enum Reason: Sendable { case timedOut, cancelled }
    private let state = Mutex<Reason?>(nil)

    func request(_ reason: Reason) { state.withLock { $0 = $0 ?? reason } }
    var reason: Reason? { state.withLock { $0 } }
}
