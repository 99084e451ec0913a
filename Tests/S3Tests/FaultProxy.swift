import Foundation

/// A real HTTP proxy in front of the S3 server that fails the first attempt
/// of every request whose path contains `/flaky-500/`, `/flaky-503/` or
/// `/flaky-reset/` (a 500 InternalError, a 503 SlowDown, or a connection
/// closed without an answer) and forwards everything else unchanged, so
/// signatures are still checked by the server behind it. CreateMultipartUpload
/// is never failed: it is not idempotent and not retried.
final class FaultProxy: Sendable {
    let url: String
    private let process: Process
    /// Closing it tells the proxy to exit (SIGTERM may be blocked in a child
    /// spawned from a dispatch worker thread, which blocks all signals).
    private let input: Pipe

    private static let script = #"""
        import http.client, http.server, sys, threading, urllib.parse
        upstream = urllib.parse.urlsplit(sys.argv[1])
        seen, faults, lock = set(), [0], threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args): pass
            def handle_one(self):
                if self.path == "/__faults":
                    return self.answer(200, {}, str(faults[0]).encode())
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                mode = next((m for m in ("500", "503", "reset") if f"/flaky-{m}/" in self.path), None)
                initiate = self.command == "POST" and self.path.endswith("?uploads=")
                with lock:
                    first = (self.command, self.path) not in seen
                    seen.add((self.command, self.path))
                    inject = mode and first and not initiate
                    if inject: faults[0] += 1
                if inject and mode == "reset":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if inject:
                    status, code = (500, "InternalError") if mode == "500" else (503, "SlowDown")
                    xml = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
                    return self.answer(status, {"Content-Type": "application/xml"}, xml, head=self.command == "HEAD")
                connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
                connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    connection.putheader(name, value)
                connection.endheaders(body)
                response = connection.getresponse()
                data = response.read() if self.command != "HEAD" else b""
                headers = {k: v for k, v in response.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")}
                if self.command == "HEAD":
                    headers["Content-Length"] = response.getheader("Content-Length", "0")
                self.answer(response.status, headers, data, head=self.command == "HEAD")
                connection.close()
            def answer(self, status, headers, data, head=False):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if not head or "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not head:
                    self.wfile.write(data)
            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_one

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
        server.serve_forever()
        """#

    /// Starts the proxy; it ends when this object's `stop` is called or the test process exits.
    init(upstream: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, upstream]
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line += byte
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            kill(process.processIdentifier, SIGKILL)
            throw CocoaError(.fileReadCorruptFile)
        }
        self.process = process
        self.input = input
        url = "http://127.0.0.1:\(port)"
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        for _ in 0..<100 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
