#!/usr/bin/env python3
"""tls_peer.py: TLS servers on 127.0.0.1, port 0, for tests/46-tls.bats.
Each prints "listening on 127.0.0.1:PORT" once it listens.

  tls_peer.py certs DIR               makes DIR/ca.pem (a test CA) and, signed
                                      by it, DIR/localhost.pem (localhost,
                                      127.0.0.1) and DIR/other.pem (other.test),
                                      each with its -key.pem, with openssl req
  tls_peer.py https DIR CERT [VER] [ALPN]
                                      HTTP over TLS (CERT: localhost or other):
                                      answers each HEAD with a head, until killed;
                                      VER: 1.2 or 1.3 only; ALPN: names it accepts,
                                      comma-separated
  tls_peer.py echo DIR                TLS echo, one client: sends back what it
                                      reads; at the client's close_notify (or
                                      EOF), sends its own and closes; prints
                                      "close_notify" or "eof" then
  tls_peer.py plain                   plain HTTP (no TLS) answering anything
  tls_peer.py stall DIR               TLS, one client: after the handshake, the
                                      first 3 bytes of a record, then nothing
  tls_peer.py garbage DIR [CERT]      TLS, one client: after the handshake, a
                                      record no key made (a bad record MAC)
"""
import http.server
import os
import socket
import ssl
import subprocess
import sys
import time


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def certs(d):
    ca, cakey = os.path.join(d, "ca.pem"), os.path.join(d, "ca-key.pem")
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", cakey, "-out", ca, "-subj", "/CN=sockpair test CA")
    for name, san in (("localhost", "DNS:localhost,IP:127.0.0.1"), ("other", "DNS:other.test")):
        key, csr = os.path.join(d, name + "-key.pem"), os.path.join(d, name + ".csr")
        ext = os.path.join(d, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\n" % san)
        cn = "localhost" if name == "localhost" else "other.test"
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
            "-subj", "/CN=" + cn)
        run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey,
            "-CAcreateserial", "-days", "2", "-out", os.path.join(d, name + ".pem"),
            "-extfile", ext)


def context(d, cert, version=None, alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, cert + ".pem"), os.path.join(d, cert + "-key.pem"))
    if version == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif version == "1.3":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if alpn:
        ctx.set_alpn_protocols(alpn.split(","))
    return ctx


def listener():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    print("listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True)
    return s


class Head(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.send_header("X-Alpn", str(self.connection.selected_alpn_protocol()))
        self.end_headers()

    def log_message(self, *args):
        pass


def https(d, cert, version=None, alpn=None):
    ctx = context(d, cert, None if version in (None, "-") else version, alpn)
    s = listener()
    while True:
        c, addr = s.accept()
        c.settimeout(10)
        try:
            t = ctx.wrap_socket(c, server_side=True)
        except (ssl.SSLError, OSError):
            c.close()
            continue
        try:
            Head(t, addr, None)
        except (ssl.SSLError, OSError):
            pass
        try:
            t.close()
        except OSError:
            pass


def echo(d):
    ctx = context(d, "localhost")
    s = listener()
    c, _ = s.accept()
    c.settimeout(20)
    # b"" is a close_notify; a TCP end without one raises SSLEOFError
    t = ctx.wrap_socket(c, server_side=True, suppress_ragged_eofs=False)
    how = "close_notify"
    while True:
        try:
            data = t.recv(65536)
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as err:
            how = "close_notify" if isinstance(err, ssl.SSLZeroReturnError) else "eof"
            break
        if not data:
            break
        t.sendall(data)
    if how == "close_notify":
        try:
            t.unwrap()  # our close_notify back, then the TCP end
        except (ssl.SSLError, OSError):
            how += ", unwrap failed"
    t.close()
    print(how, flush=True)


def after_handshake(d, raw, cert="localhost"):
    """One client's handshake, then raw bytes on its TCP socket."""
    ctx = context(d, cert)
    s = listener()
    c, _ = s.accept()
    c.settimeout(20)
    t = ctx.wrap_socket(c, server_side=True)
    os.write(t.fileno(), raw)
    time.sleep(15)


def plain():
    s = listener()
    while True:
        c, _ = s.accept()
        c.settimeout(5)
        try:
            c.recv(65536)
            c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            pass
        c.close()


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "certs":
        certs(args[0])
    elif mode == "https":
        https(*args)
    elif mode == "echo":
        echo(args[0])
    elif mode == "plain":
        plain()
    elif mode == "stall":
        after_handshake(args[0], b"\x17\x03\x03")
    elif mode == "garbage":
        after_handshake(args[0], b"\x17\x03\x03\x00\x20" + b"\x42" * 32, *args[1:])
    else:
        sys.exit("tls_peer.py: unknown mode %s" % mode)


if __name__ == "__main__":
    main()
