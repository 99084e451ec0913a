import Foundation

/// `/bin/sh -c command`, waited for with `waitpid`. Not `Foundation.Process`: on Linux it
/// never reports the exit of a command that leaves a daemon behind (`pg_ctl restart`).
public enum WaitedShell {
    /// The command's exit status, or -1 when a signal ended it.
    public static func run(_ command: String) async throws -> Int32 {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runBlocking(command) })
            }
        }
    }

    public static func runBlocking(_ command: String) throws -> Int32 {
        let words: [String] = ["/bin/sh", "-c", command]
        let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) }
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, arguments + [nil], environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, which Swift does not import.
        return status & 0x7f == 0 ? (status >> 8) & 0xff : -1
    }
}
