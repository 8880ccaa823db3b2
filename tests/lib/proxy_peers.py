#!/usr/bin/env python3
"""Servers and clients for the proxy's tests.  Servers listen on a free
port (or a UNIX path) and announce "listening on 127.0.0.1:PORT" (or
"listening on PATH") on stdout, flushed; everything is bounded in time.

  proxy_peers.py record-http FILE      TCP server, one client: reads a request
                                       (to its blank line), writes it to FILE,
                                       answers RESPONSE (also in FILE.resp), closes
  proxy_peers.py unix-http PATH        the same server as HTTP over a UNIX socket,
                                       answering every client until killed
  proxy_peers.py echo [PATH]           TCP (or UNIX) server, every client at once:
                                       sends back what it reads; at the client's
                                       end of data, shuts its own sending side
  proxy_peers.py server-sees-reset     TCP server, one client: reads "abc",
                                       answers "ok", reads until the client's
                                       reset; prints "reset" (or "eof")
  proxy_peers.py client-resets PORT    TCP client: sends "abc", reads "ok", resets
  proxy_peers.py hold                  TCP server, one client: never reads it
                                       (20 s at most), so that it fills up
  proxy_peers.py unix-late-echo PATH SECONDS
                                       UNIX echo server with a backlog of 1 that
                                       accepts only after SECONDS: clients past
                                       its backlog are refused EAGAIN meanwhile
  proxy_peers.py fill-and-reset PORT   TCP client: sends until the proxy takes no
                                       more, prints "full", then resets
  proxy_peers.py client-sees-reset PORT
                                       TCP client: sends "abc", reads until the
                                       connection ends; prints "reset" or "eof"
"""
import os
import socket
import struct
import sys
import threading
import time

RESPONSE = b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\nX-Peer: recorder\r\n\r\nhello\n"


def announce(what):
    print("listening on %s" % what, flush=True)


def tcp_server():
    s = socket.socket()
    s.settimeout(20)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    announce("127.0.0.1:%d" % s.getsockname()[1])
    return s


def unix_server(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.bind(path)
    s.listen(16)
    announce(path)
    return s


def read_request(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def record_http(path):
    c, _ = tcp_server().accept()
    c.settimeout(10)
    request = read_request(c)
    with open(path, "wb") as f:
        f.write(request)
    with open(path + ".resp", "wb") as f:
        f.write(RESPONSE)
    c.sendall(RESPONSE)
    c.close()


def unix_http(path):
    s = unix_server(path)
    while True:
        c, _ = s.accept()
        c.settimeout(10)
        read_request(c)
        c.sendall(RESPONSE)
        c.close()


def echo_one(c):
    c.settimeout(20)
    while True:
        data = c.recv(65536)
        if not data:
            break
        c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    c.close()


def echo(path):
    s = unix_server(path) if path else tcp_server()
    while True:
        c, _ = s.accept()
        threading.Thread(target=echo_one, args=(c,), daemon=True).start()


def reset(c):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def read_to_end(c):
    c.settimeout(10)
    try:
        while c.recv(65536):
            pass
        return "eof"
    except ConnectionResetError:
        return "reset"


def server_sees_reset():
    c, _ = tcp_server().accept()
    c.settimeout(10)
    got = b""
    while len(got) < 3:
        got += c.recv(3 - len(got))
    c.sendall(b"ok")
    print(read_to_end(c), flush=True)


def hold():
    c, _ = tcp_server().accept()
    time.sleep(20)


def unix_late_echo(path, seconds):
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(1)
    announce(path)
    time.sleep(float(seconds))
    s.settimeout(20)
    while True:
        c, _ = s.accept()
        threading.Thread(target=echo_one, args=(c,), daemon=True).start()


def fill_and_reset(port):
    c = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    c.setblocking(False)
    idle_since = time.time()
    while time.time() - idle_since < 0.5:
        try:
            c.send(b"x" * 65536)
            idle_since = time.time()
        except BlockingIOError:
            time.sleep(0.01)
    print("full", flush=True)
    reset(c)


def client(port):
    c = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    c.sendall(b"abc")
    return c


def client_resets(port):
    c = client(port)
    got = b""
    while len(got) < 2:
        got += c.recv(2 - len(got))
    reset(c)


def client_sees_reset(port):
    # The reset may come before "abc" is sent: the send sees it then.
    try:
        c = client(port)
    except (ConnectionResetError, BrokenPipeError):
        print("reset", flush=True)
        return
    print(read_to_end(c), flush=True)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "record-http":
        record_http(args[0])
    elif mode == "unix-http":
        unix_http(args[0])
    elif mode == "echo":
        echo(args[0] if args else None)
    elif mode == "server-sees-reset":
        server_sees_reset()
    elif mode == "client-resets":
        client_resets(args[0])
    elif mode == "hold":
        hold()
    elif mode == "unix-late-echo":
        unix_late_echo(args[0], args[1])
    elif mode == "fill-and-reset":
        fill_and_reset(args[0])
    elif mode == "client-sees-reset":
        client_sees_reset(args[0])
    else:
        sys.exit("proxy_peers.py: unknown mode %s" % mode)


if __name__ == "__main__":
    os.umask(0o077)
    main()
