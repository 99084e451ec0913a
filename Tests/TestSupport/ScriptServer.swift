import Foundation

/// A helper server written in Python (beside the tests that use it) that prints the loopback
/// port it listens on as its first line.
public final class ScriptServer: Sendable {
    public let port: Int
    private let process: Process

    /// Starts `python3 script arguments…` and waits for its port.
    public init(script: URL, arguments: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = [UInt8]()
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            Self.kill(process)
            throw StartFailure(script: script.lastPathComponent)
        }
        self.process = process
        self.port = port
    }

    public var processID: pid_t { process.processIdentifier }

    /// SIGKILL: a child started from async code may have SIGTERM blocked.
    public func stop() { Self.kill(process) }

    private static func kill(_ process: Process) {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public struct StartFailure: Error, CustomStringConvertible {
        let script: String
        public var description: String { "\(script) did not print its port" }
    }
}
