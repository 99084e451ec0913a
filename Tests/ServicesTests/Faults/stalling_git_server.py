#!/usr/bin/env python3
"""A git:// server that stops answering mid-pack.

Usage: stalling_git_server.py BASE_PATH
Prints the port it listens on (loopback). Each connection is served by `git upload-pack` on
BASE_PATH + the requested path, whose answer is relayed until the pack has begun (its "PACK"
signature and 64 bytes more); then nothing more is sent and the connection is held open, as a
server that hangs in the middle of a fetch.
"""
import signal
import socket
import subprocess
import sys
import threading

base = sys.argv[1]


def read_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def relay_input(sock, process):
    try:
        while True:
            data = sock.recv(1 << 16)
            if not data:
                break
            process.stdin.write(data)
            process.stdin.flush()
    except (OSError, ValueError):
        pass


def serve(sock):
    try:
        length = int(read_exactly(sock, 4), 16)
        request = read_exactly(sock, length - 4)  # "git-upload-pack /path\0host=…\0"
        path = request.split(b"\0")[0].split(b" ", 1)[1].decode()
        process = subprocess.Popen(
            ["git", "upload-pack", base + path], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    except (EOFError, OSError, ValueError, IndexError):
        sock.close()
        return
    threading.Thread(target=relay_input, args=(sock, process), daemon=True).start()
    sent = b""
    while True:
        data = process.stdout.read1(1 << 12)
        if not data:
            break
        start = (sent + data).find(b"PACK")
        if start >= 0:
            keep = start + 4 + 64 - len(sent)
            sock.sendall(data[:max(keep, 0)])
            break
        sock.sendall(data)
        sent = (sent + data)[-8:]
    # Stalled: the client waits for the rest of the pack for ever; upload-pack stays blocked.
    threading.Event().wait()


signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print(listener.getsockname()[1], flush=True)
while True:
    client, _ = listener.accept()
    threading.Thread(target=serve, args=(client,), daemon=True).start()
