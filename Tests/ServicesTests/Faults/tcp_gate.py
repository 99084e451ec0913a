#!/usr/bin/env python3
"""A TCP relay that can be shut like a server going away.

Usage: tcp_gate.py TARGET_HOST TARGET_PORT
Prints the port it listens on (loopback), then relays every connection to the target.
SIGUSR1 shuts the gate: the listening socket closes (new connections are refused) and
every open connection is reset. SIGUSR2 opens it again on the same port.
"""
import signal
import socket
import struct
import sys
import threading

target = (sys.argv[1], int(sys.argv[2]))
lock = threading.Lock()
connections = set()
state = {"listener": None, "port": 0}


def listen(port):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    state["listener"] = listener
    state["port"] = listener.getsockname()[1]
    threading.Thread(target=accept, args=(listener,), daemon=True).start()


def reset(sock):
    # shutdown first: close alone does not wake a thread blocked in recv() on the socket,
    # and the connection would live on.
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def pipe(source, sink):
    try:
        while True:
            data = source.recv(1 << 16)
            if not data:
                break
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def accept(listener):
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        try:
            upstream = socket.create_connection(target)
        except OSError:
            reset(client)
            continue
        with lock:
            if state["listener"] is not listener:
                # Shut while this one was connecting upstream: it never relays a byte.
                reset(client)
                reset(upstream)
                continue
            connections.update([client, upstream])
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()


def shut(*_):
    # Every open connection is reset before the listener closes: once a new connection is
    # refused (how the test knows the gate is shut), nothing sent afterwards reaches the target.
    with lock:
        listener = state["listener"]
        if listener is None:
            return
        state["listener"] = None
        for sock in list(connections):
            reset(sock)
        connections.clear()
    # shutdown, not only close: it wakes the thread blocked in accept() and stops listening
    try:
        listener.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    listener.close()


def open_again(*_):
    if state["listener"] is None:
        listen(state["port"])


# The relay's threads could take a process signal; a Python handler runs only in the main
# thread, and one blocked in pause() would not wake for a signal another thread took, so the
# gate would shut late or never. Every thread blocks the signals (the threads started below
# inherit the mask) and the main thread takes them synchronously with sigwait.
control = {signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM}
signal.pthread_sigmask(signal.SIG_BLOCK, control)
listen(0)
print(state["port"], flush=True)
while True:
    received = signal.sigwait(control)
    if received == signal.SIGUSR1:
        shut()
    elif received == signal.SIGUSR2:
        open_again()
    else:
        sys.exit(0)
