import ArgumentParser
import Foundation

/// The `buildchain` command: submits builds to the gateway and follows, lists, cancels and
/// retries its jobs.
public struct Buildchain: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "buildchain",
        abstract: "Drive buildchain builds through its gateway.",
        discussion: """
            Environment: BUILDCHAIN_URL (gateway URL), BUILDCHAIN_TOKEN (bearer token), \
            BUILDCHAIN_CACHE=false and BUILDCHAIN_MIRRORS=false (as --no-cache and --no-mirrors).
            Exit status: 0 success, 1 the job failed or was cancelled (verify: a check failed), 2 bad usage or input, \
            3 the gateway could not be reached or answered an error.
            """,
        subcommands: [
            BuildCommand.self, JobsCommand.self, ShowCommand.self, LogsCommand.self, CancelCommand.self,
            RetryCommand.self, StatusCommand.self, VerifyCommand.self,
        ])

    public init() {}

    /// Parses the process's arguments, runs the command and exits with the CLI's exit status.
    public static func runAndExit(_ arguments: [String]? = nil) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(ExitStatus.success)
        } catch let error as CLIError {
            Console.error("error: \(error.message)")
            Foundation.exit(error.exitStatus)
        } catch {
            let message = fullMessage(for: error)
            let status = exitStatus(for: error)
            if !message.isEmpty {
                if status == ExitStatus.success { Console.output(message) } else { Console.error(message) }
            }
            Foundation.exit(status)
        }
    }

    /// ArgumentParser's status for an error of its own, except that usage errors are 2, not
    /// its EX_USAGE (64), so that 1 and 3 keep their meaning for scripts.
    static func exitStatus(for error: any Error) -> Int32 {
        let code = exitCode(for: error)
        return code == .validationFailure ? ExitStatus.usage : code.rawValue
    }
}

/// The exit statuses scripts rely on.
enum ExitStatus {
    static let success: Int32 = 0
    static let jobUnsuccessful: Int32 = 1
    static let usage: Int32 = 2
    static let gatewayFailure: Int32 = 3
}
