import Foundation
import Processes
import Synchronization

/// A server process the test started through `ChildProcess` (own process group,
/// clean signal mask), stopped by cancelling its task: SIGTERM, then SIGKILL.
final class BackgroundServer: Sendable {
    private let task: Task<ProcessResult, any Error>
    private let lines: LineLog

    final class LineLog: Sendable {
        let lines = Mutex<[String]>([])
    }

    private init(task: Task<ProcessResult, any Error>, lines: LineLog) {
        self.task = task
        self.lines = lines
    }

    /// Starts `spec` and waits until an output line contains `marker`; returns that line.
    static func start(_ spec: ProcessSpec, readyWhenLineContains marker: String) async throws -> (
        BackgroundServer, String
    ) {
        let lines = LineLog()
        let task = Task { try await ChildProcess.run(spec) { _, line in lines.lines.withLock { $0.append(line) } } }
        let server = BackgroundServer(task: task, lines: lines)
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if let line = lines.lines.withLock({ $0.first { $0.contains(marker) } }) { return (server, line) }
            try await Task.sleep(for: .milliseconds(20))
        }
        await server.stop()
        throw FixtureError(description: "\(spec.executable) not ready: \(server.output)")
    }

    var output: String { lines.lines.withLock { $0.joined(separator: "\n") } }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// `git daemon` serving every repository under `base` on a free loopback port.
struct GitDaemon: Sendable {
    let server: BackgroundServer
    let port: Int

    static func start(base: String) async throws -> GitDaemon {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try freePort()
            do {
                let (server, _) = try await BackgroundServer.start(
                    ProcessSpec(
                        "git",
                        [
                            "daemon", "--reuseaddr", "--verbose", "--base-path=\(base)", "--export-all",
                            "--enable=upload-pack", "--listen=127.0.0.1", "--port=\(port)", base,
                        ],
                        environment: ChildProcess.minimalEnvironment.merging(["GIT_CONFIG_NOSYSTEM": "1", "HOME": base])
                        { $1 },
                        gracePeriod: .seconds(1)),
                    readyWhenLineContains: "Ready to rumble")
                return GitDaemon(server: server, port: port)
            } catch {
                lastError = error
            }
        }
        throw lastError!
    }

    func url(_ name: String) -> String { "git://127.0.0.1:\(port)/\(name)" }

    func stop() async { await server.stop() }
}

/// Smart HTTP through `git http-backend` behind Python's `http.server`. With a
/// token, every request must carry `Authorization: Basic base64(x-access-token:token)`,
/// else the answer is 401.
struct SmartHTTPServer: Sendable {
    let server: BackgroundServer
    let port: Int

    static func start(root: String, token: String? = nil) async throws -> SmartHTTPServer {
        let script = "\(root)/../http_backend_server.py"
        try Data(Self.script.utf8).write(to: URL(fileURLWithPath: script))
        let (server, line) = try await BackgroundServer.start(
            ProcessSpec(
                "python3", ["-u", script, root, token ?? ""], environment: ChildProcess.minimalEnvironment,
                gracePeriod: .seconds(1)),
            readyWhenLineContains: "listening on 127.0.0.1:")
        guard let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw FixtureError(description: "no port in \(line)")
        }
        return SmartHTTPServer(server: server, port: port)
    }

    func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }

    /// Every request served so far: its path, and whether it carried an `Authorization` header.
    var requests: [(path: String, authorized: Bool)] {
        server.output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[0] == "request" else { return nil }
            return (String(fields[1]), fields[2] == "authorization=present")
        }
    }

    func stop() async { await server.stop() }

    private static let script = #"""
        import base64, http.server, os, subprocess, sys

        root, token = sys.argv[1], sys.argv[2]
        expected = ("Basic " + base64.b64encode(("x-access-token:" + token).encode()).decode()) if token else None

        def read_chunked(stream):
            body = b""
            while True:
                size = int(stream.readline().strip().split(b";")[0], 16)
                if size == 0:
                    stream.readline()
                    return body
                body += stream.read(size)
                stream.readline()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self.serve()

            def do_POST(self):
                self.serve()

            def serve(self):
                present = "present" if self.headers.get("Authorization") is not None else "absent"
                print("request %s authorization=%s" % (self.path.partition("?")[0], present), flush=True)
                if expected is not None and self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = read_chunked(self.rfile)
                else:
                    length = int(self.headers.get("Content-Length") or 0)
                    body = self.rfile.read(length) if length else b""
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": root, "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_PROJECT_ROOT": root, "GIT_HTTP_EXPORT_ALL": "1", "REQUEST_METHOD": self.command,
                    "PATH_INFO": path, "QUERY_STRING": query, "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": self.client_address[0],
                }
                if self.headers.get("Content-Encoding"):
                    env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
                if self.headers.get("Git-Protocol"):
                    env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
                out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
                separator = b"\r\n\r\n" if b"\r\n\r\n" in out else b"\n\n"
                head, _, payload = out.partition(separator)
                status, headers = 200, []
                for line in head.decode("latin-1").splitlines():
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
        server.serve_forever()
        """#
}

/// A loopback TCP port that accepts connections into its backlog and never answers.
final class SilentListener: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let (descriptor, port) = try boundSocket()
        guard listen(descriptor, 16) == 0 else { throw FixtureError(description: "listen failed") }
        self.descriptor = descriptor
        self.port = port
    }

    func close() { _ = Glibc.close(descriptor) }
}

func freePort() throws -> Int {
    let (descriptor, port) = try boundSocket()
    close(descriptor)
    return port
}

private func boundSocket() throws -> (Int32, Int) {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { throw FixtureError(description: "socket failed") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard bound == 0 else {
        close(descriptor)
        throw FixtureError(description: "bind failed")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
}

/// Command lines of running processes that contain `text`, read from /proc
/// (spawning `pgrep` would race with the spawns under test).
func runningProcesses(commandLineContaining text: String) -> [String] {
    let own = "\(getpid())"
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { $0 != own && $0.allSatisfy(\.isNumber) }.compactMap { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        let commandLine = String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        return commandLine.contains(text) ? commandLine : nil
    }
}
