#!/usr/bin/env python3
"""Clients that misbehave, for the talkback tests; each bounded in time.

  hostile.py reset PORT N          N clients connect and reset (RST) at once
  hostile.py drip PORT SECONDS     one byte every 0.1 s, never a line end
  hostile.py flood PORT SECONDS    lines as fast as possible, never reading;
                                   prints "dropped" once the server hangs up
  hostile.py normal PORT ROUNDS    one line at a time, waits for each reply;
                                   prints the slowest round trip in ms and
                                   exits 1 on a wrong or missing reply
"""
import socket
import struct
import sys
import time

WELCOME_END = b"type 'shutdown'.\n"


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def reset(port, n):
    socks = []
    for _ in range(n):
        try:
            socks.append(connect(port))
        except OSError:
            pass
    for s in socks:
        # SO_LINGER 0: close() sends RST instead of FIN.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    print(len(socks))


def drip(port, seconds):
    s = connect(port)
    end = time.time() + seconds
    while time.time() < end:
        s.send(b"d")
        time.sleep(0.1)
    s.close()


def flood(port, seconds):
    s = connect(port)
    s.settimeout(seconds)
    chunk = b"x\n" * 32768
    end = time.time() + seconds
    try:
        while time.time() < end:
            s.sendall(chunk)
    except OSError:
        print("dropped")
        return
    print("not dropped")


def read_until(s, marker):
    data = b""
    while not data.endswith(marker):
        more = s.recv(4096)
        if not more:
            raise EOFError("closed")
        data += more
    return data


def normal(port, rounds):
    s = connect(port)
    read_until(s, WELCOME_END)
    slowest = 0.0
    for n in range(rounds):
        t0 = time.time()
        s.sendall(b"ping %d\n" % n)
        reply = read_until(s, b"\n")
        slowest = max(slowest, time.time() - t0)
        if reply != b"sockpair: You said 'ping %d'.\n" % n:
            print("wrong reply: %r" % reply)
            sys.exit(1)
        time.sleep(0.02)
    s.sendall(b"quit\n")
    s.close()
    print(int(slowest * 1000))


if __name__ == "__main__":
    mode, port, arg = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    {"reset": lambda: reset(port, int(arg)), "drip": lambda: drip(port, arg),
     "flood": lambda: flood(port, arg), "normal": lambda: normal(port, int(arg))}[mode]()
