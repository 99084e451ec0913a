import Foundation

struct ShellError: Error, CustomStringConvertible {
    let command: String
    let status: Int32
    let output: String

    var description: String { "`\(command)` exited with \(status): \(output)" }
}

/// Runs the command-line tools the tests drive (buildah, skopeo, openssl…).
enum Shell {
    /// Runs a command to completion; returns its standard output, throws with its error output.
    @discardableResult
    static func run(_ arguments: [String], in directory: String? = nil, input: String? = nil) async throws -> String {
        let logs = NSTemporaryDirectory() + "/shell-" + UUID().uuidString
        let outPath = logs + ".out"
        let errPath = logs + ".err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            if let input {
                stdin.fileHandleForWriting.write(Data(input.utf8))
                try? stdin.fileHandleForWriting.close()
            }
        }
        let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let errors = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            throw ShellError(command: arguments.joined(separator: " "), status: status, output: errors + output)
        }
        return output
    }

    static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(tool)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }
}

/// A server the test started (a registry, a token service), stopped with `stop()`.
final class BackgroundProcess: @unchecked Sendable {
    // Process is thread-safe for isRunning/terminate/waitUntilExit, which is all this uses.
    private let process: Process
    let logPath: String

    /// Starts the command with output to `logPath` and waits until a line of the log
    /// matches `readyPattern`; returns the process and the pattern's first capture.
    static func start(_ arguments: [String], logPath: String, readyPattern: String) async throws -> (
        BackgroundProcess, String
    ) {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: logPath)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let server = BackgroundProcess(process: process, logPath: logPath)
        let pattern = try NSRegularExpression(pattern: readyPattern)
        for _ in 0..<200 {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let match = pattern.firstMatch(in: log, range: NSRange(log.startIndex..., in: log)),
                let range = Range(match.range(at: 1), in: log)
            {
                return (server, String(log[range]))
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        server.stop()
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw ShellError(command: arguments.joined(separator: " "), status: -1, output: "not ready: \(log)")
    }

    private init(process: Process, logPath: String) {
        self.process = process
        self.logPath = logPath
    }

    /// Kills the process (SIGKILL: children of a dispatch thread inherit a mask that blocks SIGTERM).
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<500 where process.isRunning { usleep(10_000) }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}
