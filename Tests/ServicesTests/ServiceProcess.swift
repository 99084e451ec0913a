import Foundation
import Synchronization
import Testing

/// One of the service executables, started as a real process on a free port.
final class ServiceProcess: Sendable {
    let name: String
    let port: Int
    private let process: Process
    private let log: LogCapture

    /// Where `swift build` put the executables: beside the test bundle.
    static var binDirectory: URL {
        if let override = ProcessInfo.processInfo.environment["BUILDCHAIN_BIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// Starts `name` with `environment` (PORT=0: it picks a free port and
    /// logs it) and waits for its "listening" log line.
    init(_ name: String, environment: [String: String]) async throws {
        let process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(name)
        process.environment = ["PATH": "/usr/bin:/bin", "HOST": "127.0.0.1", "PORT": "0", "LOG_LEVEL": "info"]
            .merging(environment) { _, new in new }
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        let log = LogCapture(stderr.fileHandleForReading)
        try process.run()
        self.name = name
        self.process = process
        self.log = log
        self.port = try await log.waitForPort(timeout: .seconds(60), process: process)
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var processID: pid_t { process.processIdentifier }
    var logText: String { log.text }

    /// SIGKILL: the process dies on the spot, as in a crash.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends SIGTERM and returns the exit status (nil if it had to be killed).
    func terminate(timeout: Duration = .seconds(15)) async -> Int32? {
        process.terminate()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}

/// Collects a process's standard error as it is written.
final class LogCapture: Sendable {
    private let buffer = Mutex<[UInt8]>([])

    init(_ handle: FileHandle) {
        handle.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
            } else {
                self?.buffer.withLock { $0.append(contentsOf: data) }
            }
        }
    }

    var text: String { buffer.withLock { String(decoding: $0, as: UTF8.self) } }

    var lines: [[String: Any]] {
        text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func waitForPort(timeout: Duration, process: Process) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = lines.first(where: { $0["msg"] as? String == "listening" }),
                let port = (line["port"] as? String).flatMap(Int.init)
            {
                return port
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw StartFailure(log: text)
    }

    struct StartFailure: Error, CustomStringConvertible {
        let log: String
        var description: String { "the service did not start listening; its log:\n\(log)" }
    }
}
