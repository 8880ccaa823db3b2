#!/usr/bin/env python3
"""Servers and clients for the tests of proxy's faults.  Servers listen on a
free loopback port and announce "listening on 127.0.0.1:PORT" on stdout,
flushed; every wait is bounded.

Servers:
  fault_peers.py count-reads FILE   one client: each recv() it takes is counted;
                                    at its end of data FILE gets
                                    "reads N bytes B span S" (S: first to last read)
  fault_peers.py sink FILE          one client: reads until its end; FILE gets
                                    "B eof" or "B reset"
  fault_peers.py send N             every client at once gets N bytes (i % 251),
                                    then the server's half-close; then it reads
                                    until the client's end: "server saw eof|reset"
  fault_peers.py echo               every client at once (one thread, selectors):
                                    sends back what it reads; at a client's end
                                    of data, shuts its own sending side

Clients (of 127.0.0.1:PORT):
  fault_peers.py read-all PORT      reads until the end: "B bytes in S s, eof|reset"
  fault_peers.py send-read PORT N   sends N bytes and its end of data, then reads
                                    until the end:
                                    "sent N, received B in S s, eof|reset"
  fault_peers.py lines PORT N MS    sends N numbered lines MS ms apart while reading
                                    the echo; "in order N" if all came back in order
  fault_peers.py many PORT N        N connections at once, a byte sent on each:
                                    "sent N"; then "echoed N" once each came back
  fault_peers.py serial PORT N      N connections one after another, each sends
                                    "x" and reads to the end: "done N"
"""
import errno
import resource
import selectors
import socket
import sys
import threading
import time

LIMIT = 30  # seconds: no peer waits longer


def announce(s):
    print("listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True)


def tcp_server():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(LIMIT)
    s.bind(("127.0.0.1", 0))
    s.listen(1024)
    announce(s)
    return s


def read_to_end(c):
    """Bytes read until the end, and how it ended: "eof" or "reset"."""
    total = 0
    try:
        while True:
            chunk = c.recv(65536)
            if not chunk:
                return total, "eof"
            total += len(chunk)
    except ConnectionResetError:
        return total, "reset"


def count_reads(path):
    c, _ = tcp_server().accept()
    c.settimeout(LIMIT)
    reads, total, first, last = 0, 0, None, None
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break
        now = time.monotonic()
        first = first if first is not None else now
        last = now
        reads += 1
        total += len(chunk)
    with open(path, "w") as f:
        f.write("reads %d bytes %d span %.3f\n" % (reads, total, (last or 0) - (first or 0)))


def sink(path):
    c, _ = tcp_server().accept()
    c.settimeout(LIMIT)
    total, how = read_to_end(c)
    with open(path, "w") as f:
        f.write("%d %s\n" % (total, how))


def pattern(n):
    return bytes(i % 251 for i in range(n))


def send_one(c, data):
    c.settimeout(LIMIT)
    try:
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        how = read_to_end(c)[1]
    except (ConnectionResetError, BrokenPipeError):
        how = "reset"
    except OSError as e:
        # A reset that came before shutdown(): the socket is no longer connected.
        if e.errno != errno.ENOTCONN:
            raise
        how = "reset"
    print("server saw %s" % how, flush=True)
    c.close()


def send(n):
    s, data = tcp_server(), pattern(int(n))
    while True:
        c, _ = s.accept()
        threading.Thread(target=send_one, args=(c, data), daemon=True).start()


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def echo():
    raise_nofile()
    s = tcp_server()
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select(LIMIT):
            if key.fileobj is s:
                try:
                    c, _ = s.accept()
                except BlockingIOError:
                    continue
                c.setblocking(True)
                c.settimeout(LIMIT)
                sel.register(c, selectors.EVENT_READ)
                continue
            c = key.fileobj
            try:
                chunk = c.recv(65536)
            except OSError:
                chunk = None
            if chunk:
                c.sendall(chunk)
                continue
            sel.unregister(c)
            if chunk == b"":
                try:
                    c.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            c.close()


def connect(port):
    c = socket.create_connection(("127.0.0.1", int(port)), timeout=LIMIT)
    return c


def read_all(port):
    start = time.monotonic()
    c = connect(port)
    total, how = read_to_end(c)
    print("%d bytes in %.3f s, %s" % (total, time.monotonic() - start, how), flush=True)


def send_read(port, n):
    start = time.monotonic()
    c = connect(port)
    try:
        c.sendall(pattern(int(n)))
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    total, how = read_to_end(c)
    print("sent %s, received %d in %.3f s, %s" % (n, total, time.monotonic() - start, how),
          flush=True)


def lines(port, n, ms):
    c = connect(port)
    expected = b"".join(b"line %d\n" % i for i in range(1, int(n) + 1))
    got = []

    def reader():
        got.append(read_to_end_bytes(c))

    t = threading.Thread(target=reader)
    t.start()
    for i in range(1, int(n) + 1):
        c.sendall(b"line %d\n" % i)
        time.sleep(int(ms) / 1000)
    c.shutdown(socket.SHUT_WR)
    t.join(LIMIT)
    print("in order %s" % n if got and got[0] == expected else "mismatch: %r" % got[:1],
          flush=True)


def read_to_end_bytes(c):
    data = b""
    while True:
        chunk = c.recv(65536)
        if not chunk:
            return data
        data += chunk


def many(port, n):
    raise_nofile()
    conns = [connect(port) for _ in range(int(n))]
    for c in conns:
        c.sendall(b"x")
    print("sent %s" % n, flush=True)
    echoed = 0
    for c in conns:
        if c.recv(1) == b"x":
            echoed += 1
        c.close()
    print("echoed %d" % echoed, flush=True)


def serial(port, n):
    for _ in range(int(n)):
        c = connect(port)
        c.sendall(b"x")
        c.shutdown(socket.SHUT_WR)
        read_to_end(c)
        c.close()
    print("done %s" % n, flush=True)


MODES = {
    "count-reads": count_reads, "sink": sink, "send": send, "echo": echo,
    "read-all": read_all, "send-read": send_read, "lines": lines, "many": many,
    "serial": serial,
}

if __name__ == "__main__":
    MODES[sys.argv[1]](*sys.argv[2:])
