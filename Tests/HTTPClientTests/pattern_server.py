"""Serves GET /bytes/<n>: n bytes where byte i is i % 251, in 64 KiB writes.

Out of process, so a test measuring the client's memory does not also count
the server's buffers. Prints the port it listens on, then serves until killed.
"""
import http.server
import sys

BLOCK = bytes(i % 251 for i in range(251 + 65536))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        count = int(self.path.rsplit("/", 1)[-1])
        self.send_response(200)
        self.send_header("Content-Length", str(count))
        self.end_headers()
        sent = 0
        while sent < count:
            size = min(65536, count - sent)
            start = sent % 251
            self.wfile.write(BLOCK[start:start + size])
            sent += size

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
