#!/usr/bin/env python3
"""HTTP servers, good and hostile, for the http-head tests.

  http_peer.py MODE [HOST [PORT]]

Binds HOST (127.0.0.1) on PORT (0: a free one), prints "listening on
HOST:PORT" and serves one connection in MODE, then exits; never lives
longer than 30 s.  MODE:
  record FILE   saves the request's bytes to FILE, answers 200, closes
  silent        accepts and never answers
  drip          a head, one byte every 0.2 s
  trickle       a whole head one byte at a time, quickly, then closes
  endless       a status line, then headers without end
  body-open     a head, a body, and the connection kept open
  reset         reads the request, then resets the connection
  garbage       binary bytes where the status line should be
  midclose      half a head, then closes
  sloppy        a head with bare \\n line ends, then closes
  slow          reads the request, waits 0.3 s, answers 200, closes
  early-hints   a 103 Early Hints head, then the final 200 head, closes
  continue      100 Continue heads without end
"""
import signal
import socket
import struct
import sys
import time

signal.alarm(30)
mode = sys.argv[1]
args = sys.argv[2:]
record_file = args.pop(0) if mode == "record" else None
host = args[0] if args else "127.0.0.1"
port = int(args[1]) if len(args) > 1 else 0
family = socket.AF_INET6 if ":" in host else socket.AF_INET
listener = socket.socket(family)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((host, port))
listener.listen(1)
shown = "[%s]" % host if family == socket.AF_INET6 else host
print("listening on %s:%d" % (shown, listener.getsockname()[1]), flush=True)
conn, _ = listener.accept()

HEAD = b"HTTP/1.1 200 OK\r\nServer: peer\r\nContent-Length: 5\r\n\r\n"


def read_request():
    data = b""
    while b"\r\n\r\n" not in data:
        more = conn.recv(4096)
        if not more:
            break
        data += more
    return data


if mode == "record":
    with open(record_file, "wb") as f:
        f.write(read_request())
    conn.sendall(HEAD)
elif mode == "silent":
    time.sleep(30)
elif mode == "drip":
    read_request()
    for byte in HEAD + b"X-Padding: " + b"a" * 1000:
        conn.send(bytes([byte]))
        time.sleep(0.2)
elif mode == "trickle":
    read_request()
    for byte in HEAD:
        conn.send(bytes([byte]))
        time.sleep(0.002)
elif mode == "endless":
    read_request()
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    try:
        while True:
            conn.sendall(b"X-Filler: " + b"a" * 100 + b"\r\n")
    except OSError:
        pass
elif mode == "body-open":
    read_request()
    conn.sendall(HEAD.replace(b"Content-Length: 5", b"Content-Length: 100000") + b"body" * 1000)
    time.sleep(30)
elif mode == "reset":
    read_request()
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
elif mode == "garbage":
    read_request()
    conn.sendall(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    time.sleep(30)
elif mode == "midclose":
    read_request()
    conn.sendall(b"HTTP/1.1 200 OK\r\nServer: ha")
elif mode == "early-hints":
    read_request()
    conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
    time.sleep(0.05)
    conn.sendall(HEAD)
elif mode == "continue":
    read_request()
    try:
        while True:
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    except OSError:
        pass
elif mode == "slow":
    read_request()
    time.sleep(0.3)
    conn.sendall(HEAD)
elif mode == "sloppy":
    read_request()
    conn.sendall(b"HTTP/1.0 200 OK\nServer: old\n\nbody")
conn.close()
