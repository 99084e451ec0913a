import Foundation
import HTTPClient
import Testing

/// Debian's HAProxy in front of a service's replicas, configured by
/// deploy/local/haproxy-config.sh exactly as `services.sh --replicas 2` configures it (round
/// robin, health-checked on /readyz), on a free port.
final class LoadBalancer: Sendable {
    let port: Int
    private let process: Process
    private let config: URL

    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: haproxy) }
    private static let haproxy = "/usr/sbin/haproxy"

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    init(name: String, replicas: [ServiceProcess], http: HTTPClient) async throws {
        port = try Self.freePort()
        config = FileManager.default.temporaryDirectory.appendingPathComponent("haproxy-\(UUID().uuidString.prefix(8)).cfg")
        let spec = "\(name)=\(port):" + replicas.map { "\($0.port)" }.joined(separator: ",")
        let text = try Self.output(
            of: Self.repositoryRoot.appendingPathComponent("deploy/local/haproxy-config.sh").path, [spec])
        try text.write(to: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.haproxy)
        process.arguments = ["-db", "-f", config.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(10)
        while (try? await http.send(ClientRequest(url: "\(baseURL)/readyz", timeout: .seconds(2))).status) != 200 {
            guard ContinuousClock.now < deadline, process.isRunning else {
                stop()
                Issue.record("haproxy did not answer /readyz on \(port)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: config)
    }

    /// A loopback port nothing listens on (asked of the kernel, then let go).
    private static func freePort() throws -> Int {
        let text = try output(
            of: "/usr/bin/python3",
            ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        return try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    private static func output(of executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(executable) \(arguments) failed")
        return String(decoding: data, as: UTF8.self)
    }
}
