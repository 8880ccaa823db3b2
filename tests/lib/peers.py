#!/usr/bin/env python3
"""Peers that test how sockpair behaves when the other side misbehaves.
Each is bounded in time and announces "listening on 127.0.0.1:PORT" (or
what it does) on stdout, flushed, so that tests wait on it.

  peers.py slow-reader SECONDS     TCP server: reads 1 KiB per ms for SECONDS,
                                   then closes; prints the bytes it read
  peers.py reset-after BYTES       TCP server: reads BYTES, then resets (RST)
  peers.py send-wait-reset BYTES SECONDS [PORT]
                                   TCP server (PORT: a client of PORT instead):
                                   sends BYTES (byte k is k % 251), waits until
                                   the other side's kernel acknowledged them
                                   all and SECONDS more, then resets (RST) and
                                   prints "reset"
  peers.py send-and-wait [--after-eof] BYTES FILE [PORT]
                                   TCP server (PORT: a client of PORT): (after
                                   the other side's end of data) sends
                                   BYTES (as above) in 3 pieces, each once the
                                   last was acknowledged, then, connected and
                                   sending nothing, waits (10 s at most) until
                                   FILE holds BYTES bytes; prints "FILE held N
                                   while the sender waited", then closes
  peers.py half-close-then-read [PORT]
                                   TCP server (PORT: a client): sends "bye\n",
                                   shuts its sending side, then reads until
                                   end of file (10 s at most); prints "read N"
  peers.py never-accepts           TCP listener with backlog 0, its queue filled
  peers.py refuses                 a TCP port held bound and not listening: every
                                   connect to it is refused (RST), for as long as
                                   the peer lives
                                   by one connection: the kernel drops a new
                                   SYN, so a connect() neither succeeds nor fails
  peers.py slow-client PORT SECONDS
                                   TCP client of PORT: sends nothing, reads
                                   1 KiB per ms for SECONDS, then resets
  peers.py flags-after-kill [--client] -- CMD...
                                   runs CMD with stdin and stdout on pipes
                                   this script also holds; once CMD has
                                   written to stdout (its relay runs), kills
                                   it with SIGKILL and prints the pipes'
                                   O_NONBLOCK flags; --client: CMD is a
                                   listener, which this script connects to
  peers.py ask PORT LINE FILE     TCP client: sends LINE, writes the first line
                                   it gets back to FILE, closes
  peers.py talker PORT SECONDS     talkback client: 2000-byte lines as fast as
                                   the server takes them, reading every reply
  peers.py welcome PORT            talkback client: prints the welcome's last
                                   line, then closes
  peers.py ticker PORT FILE        talkback client: says "tick" every 0.1 s,
                                   reading each reply, until FILE holds
                                   "(idle)", then once more; prints the
                                   replies it got
  peers.py said-first PORT FILE N  talkback client: sends N lines; each must
                                   be in FILE when its reply comes
  peers.py flooders PORT N         N talkback clients that send lines and never
                                   read, until each is dropped (20 s at most)
  peers.py slow-pipe-reader SECONDS
                                   reads its stdin 1 KiB per ms for SECONDS,
                                   then exits; prints the bytes it read
  peers.py unix-named-client PATH NAME
                                   a UNIX client bound to the abstract NAME
  peers.py dgram-sizes PATH COUNT  UNIX datagram receiver bound to PATH: takes
                                   COUNT datagrams (10 s at most), prints
                                   "SIZE xN" for each run of equal sizes
  peers.py dgram-send PATH N SIZE  sends N UNIX datagrams of SIZE bytes to
                                   PATH, the k-th all of letter k (A, B, ...)
  peers.py stdout-socket OUT CMD...
                                   runs CMD with stdout one end of a UNIX
                                   socket pair, stderr as given; what CMD
                                   writes there goes to the file OUT; exits
                                   with CMD's status
  peers.py hangup-when-full SOCKPAIR
                                   runs SOCKPAIR --trace connect -U to a server
                                   of its own, stdin /dev/zero, stdout a socket
                                   read only later; the server reads nothing,
                                   sends what fills stdout, the relay's 256 KiB
                                   and 32 KiB more, and hangs up once the trace
                                   shows the relay's buffer full; prints "got N
                                   of M" of what reached stdout
                                   (escapes \\n and \\x1b decoded) connects
                                   to PATH, sends one line, closes
"""
import fcntl
import itertools
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time


def tcp_server():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    print("listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True)
    s.settimeout(10)
    c, _ = s.accept()
    c.settimeout(10)
    return c


def slow_reader(seconds):
    c = tcp_server()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    got, end = 0, time.time() + seconds
    while time.time() < end:
        data = c.recv(1024)
        if not data:
            break
        got += len(data)
        time.sleep(0.001)
    print("read %d" % got, flush=True)
    reset(c)


def reset(c):
    # SO_LINGER 0: close() sends RST instead of FIN.
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def reset_after(count):
    c = tcp_server()
    got = 0
    while got < count:
        data = c.recv(min(65536, count - got))
        if not data:
            break
        got += len(data)
    print("read %d" % got, flush=True)
    reset(c)


def tcp_peer(port):
    """A server's accepted connection, or a client's of PORT."""
    if port is None:
        return tcp_server()
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    print("connected", flush=True)
    return c


def pattern(count):
    return bytes(k % 251 for k in range(count))


def unacked(c):
    # SIOCOUTQ (TIOCOUTQ): bytes sent that the peer has not acknowledged.
    return struct.unpack("i", fcntl.ioctl(c, termios.TIOCOUTQ, b"\0" * 4))[0]


def send_wait_reset(count, seconds, port):
    c = tcp_peer(port)
    send_acked(c, pattern(count), 1)
    time.sleep(seconds)
    reset(c)
    print("reset", flush=True)


def send_acked(c, data, pieces):
    """Sends data in PIECES, each once the last was acknowledged: a reader
    meets each piece alone, as it does a peer that sends and pauses."""
    step = -(-len(data) // pieces)
    for at in range(0, len(data), step):
        c.sendall(data[at:at + step])
        deadline = time.time() + 10
        while unacked(c) and time.time() < deadline:
            time.sleep(0.005)


def send_and_wait(count, path, port, after_eof):
    c = tcp_peer(port)
    while after_eof and c.recv(65536):
        pass
    send_acked(c, pattern(count), 3)
    deadline, held = time.time() + 10, 0
    while time.time() < deadline:
        held = os.path.getsize(path) if os.path.exists(path) else 0
        if held >= count:
            break
        time.sleep(0.02)
    print("%s held %d while the sender waited" % (os.path.basename(path), held), flush=True)
    c.close()


def half_close_then_read(port):
    c = tcp_peer(port)
    c.sendall(b"bye\n")
    c.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        data = c.recv(65536)
        if not data:
            break
        got += len(data)
    print("read %d" % got, flush=True)
    c.close()


def never_accepts():
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
    l.listen(0)
    filler = socket.socket()
    filler.connect(l.getsockname())
    print("listening on 127.0.0.1:%d" % l.getsockname()[1], flush=True)
    time.sleep(30)


def refuses():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print("listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True)
    time.sleep(60)


def slow_client(port, seconds):
    # A small window from the handshake on: the sender meets a socket
    # that takes a little at a time, at odd sizes.
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.settimeout(10)
    c.connect(("127.0.0.1", port))
    print("connected", flush=True)
    end = time.time() + seconds
    while time.time() < end:
        if not c.recv(1024):
            break
        time.sleep(0.001)
    reset(c)


def flags_after_kill(cmd, client):
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    p = subprocess.Popen(cmd, stdin=in_r, stdout=out_w,
                         stderr=subprocess.PIPE if client else subprocess.DEVNULL)
    signal.alarm(10)
    if client:
        # A listener: be its client, and say something for its stdout.
        line = p.stderr.readline().decode()
        port = int(line.rsplit(":", 1)[1])
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        c.sendall(b"hello\n")
    if not os.read(out_r, 1):
        print("no output")
        sys.exit(1)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    for name, fd in (("stdin", in_r), ("stdout", out_w)):
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        print("%s %s" % (name, "O_NONBLOCK" if flags & os.O_NONBLOCK else "blocking"))


def read_line(c):
    data = b""
    while not data.endswith(b"\n"):
        more = c.recv(4096)
        if not more:
            break
        data += more
    return data


def ask(port, line, path):
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(line.encode() + b"\n")
    with open(path, "wb") as f:
        f.write(read_line(c))
    c.close()


def talker(port, seconds):
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.setblocking(False)
    line = b"t" * 1999 + b"\n"
    sent = answered = 0
    end = time.time() + seconds
    while time.time() < end:
        try:
            sent += c.send(line * 16)
        except BlockingIOError:
            pass
        try:
            answered += c.recv(1 << 20).count(b"\n")
        except BlockingIOError:
            time.sleep(0.005)
    print("sent %d lines, %d answered" % (sent // len(line), answered), flush=True)


def talkback_client(port):
    """Connects to talkback and reads its welcome; returns the socket and
    the welcome as read (short if the server closed)."""
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    data = b""
    while not data.endswith(b"type 'shutdown'.\n"):
        more = c.recv(4096)
        if not more:
            break
        data += more
    return c, data


def welcome(port):
    _, data = talkback_client(port)
    print(data.decode().splitlines()[-1])


def say(c, line):
    """Sends LINE and returns the reply line; exits if the server closed."""
    c.sendall(line)
    reply = read_line(c)
    if not reply.endswith(b"\n"):
        sys.exit("closed before replying to %r" % line)
    return reply


def ticker(port, path):
    # Ticks within any idle timeout until PATH (the server's stderr)
    # reports an idle close, then once more to show it is still served.
    c, _ = talkback_client(port)
    answered, last = 0, False
    while not last:
        last = "(idle)" in open(path).read()
        say(c, b"tick\n")
        answered += 1
        time.sleep(0.1)
    print(answered)


def said_first(port, path, count):
    # Each line must be in PATH (the server's stdout) by the time its
    # reply arrives.
    c, _ = talkback_client(port)
    for n in range(count):
        line = b"line %d\n" % n
        say(c, line)
        if line.decode() not in open(path).read():
            sys.exit("reply %d came before its line was on stdout" % n)
    print("ok")


def flooders(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        socks.append(s)
    chunk = (b"y" * 200 + b"\n") * 300
    alive, end = set(socks), time.time() + 20
    while alive and time.time() < end:
        for s in list(alive):
            try:
                s.send(chunk)
            except BlockingIOError:
                pass
            except OSError:
                alive.discard(s)
    print("%d dropped" % (n - len(alive)), flush=True)
    for s in socks:
        s.close()


def slow_pipe_reader(seconds):
    got, end = 0, time.time() + seconds
    print("reading", flush=True)
    while time.time() < end:
        data = os.read(0, 1024)
        if not data:
            break
        got += len(data)
        time.sleep(0.001)
    print("read %d" % got, flush=True)


def unix_named_client(path, name):
    raw = name.encode().decode("unicode_escape").encode("latin-1")
    c = socket.socket(socket.AF_UNIX)
    c.bind(b"\0" + raw)
    c.settimeout(10)
    c.connect(path)
    c.sendall(b"hello\n")
    c.close()


def dgram_sizes(path, count):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(10)
    sizes = []
    try:
        while len(sizes) < count:
            sizes.append(len(s.recv(1 << 18)))
    except socket.timeout:
        pass
    for size, run in itertools.groupby(sizes):
        print("%d x%d" % (size, len(list(run))), flush=True)


def dgram_send(path, n, size):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    # Room for one datagram of size (the kernel doubles it, to wmem_max x 2).
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
    for k in range(n):
        s.sendto(bytes([ord("A") + k]) * size, path)


def stream_capacity():
    """How many bytes a UNIX stream socket takes before a writer blocks."""
    a, b = socket.socketpair()
    a.setblocking(False)
    sent = 0
    try:
        while True:
            sent += a.send(b"y" * 65536)
    except BlockingIOError:
        pass
    a.close()
    b.close()
    return sent


def hangup_when_full(sockpair):
    path = "/tmp/sockpair-hangup-%d.sock" % os.getpid()
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    total = stream_capacity() + 262144 + 32768
    full, refused = threading.Event(), threading.Event()
    kept = []

    def serve():
        # Reads nothing: the relay's input backs up, and it waits in poll().
        c, _ = srv.accept()
        c.sendall(b"y" * total)
        full.wait(20)
        # A hang-up both ways, without close(): a close() with our input
        # unread would be a reset, which may lose data by design.
        c.shutdown(socket.SHUT_RDWR)
        kept.append(c)

    def watch(err):
        # The relay holds what it read from the peer and has not written.
        held = 0
        for line in err:
            m = re.match(r"^read\((\d+), .*\) = (\d+)$", line)
            if m and int(m.group(1)) > 2:
                held += int(m.group(2))
            m = re.match(r"^sendto\(1, .*\) = (\d+)$", line)
            if m:
                held -= int(m.group(1))
            if held >= 262144:
                full.set()
            if "EPIPE" in line:
                refused.set()

    mine, theirs = socket.socketpair()
    with open("/dev/zero", "rb") as zero:
        p = subprocess.Popen([sockpair, "--trace", "connect", "-q", "-U", path],
                             stdin=zero, stdout=theirs, stderr=subprocess.PIPE, text=True)
    theirs.close()
    threading.Thread(target=serve, daemon=True).start()
    threading.Thread(target=watch, args=(p.stderr,), daemon=True).start()
    # Stdout is read once the relay has met the hang-up with its buffer full.
    refused.wait(20)
    got = 0
    mine.settimeout(20)
    while True:
        data = mine.recv(1 << 20)
        if not data:
            break
        got += len(data)
    p.wait(20)
    os.unlink(path)
    print("got %d of %d" % (got, total), flush=True)
    for c in kept:
        c.close()


def stdout_socket(out, cmd):
    mine, theirs = socket.socketpair()
    p = subprocess.Popen(cmd, stdout=theirs)
    theirs.close()
    mine.settimeout(20)
    with open(out, "wb") as f:
        while True:
            data = mine.recv(1 << 16)
            if not data:
                break
            f.write(data)
    sys.exit(p.wait(20))


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "slow-reader":
        slow_reader(float(args[0]))
    elif mode == "reset-after":
        reset_after(int(args[0]))
    elif mode == "send-wait-reset":
        send_wait_reset(int(args[0]), float(args[1]), int(args[2]) if args[2:] else None)
    elif mode == "send-and-wait":
        after_eof = "--after-eof" in args
        args = [a for a in args if a != "--after-eof"]
        send_and_wait(int(args[0]), args[1], int(args[2]) if args[2:] else None, after_eof)
    elif mode == "half-close-then-read":
        half_close_then_read(int(args[0]) if args else None)
    elif mode == "refuses":
        refuses()
    elif mode == "never-accepts":
        never_accepts()
    elif mode == "slow-client":
        slow_client(int(args[0]), float(args[1]))
    elif mode == "flags-after-kill":
        client = args[0] == "--client"
        flags_after_kill(args[args.index("--") + 1:], client)
    elif mode == "ask":
        ask(int(args[0]), args[1], args[2])
    elif mode == "talker":
        talker(int(args[0]), float(args[1]))
    elif mode == "welcome":
        welcome(int(args[0]))
    elif mode == "ticker":
        ticker(int(args[0]), args[1])
    elif mode == "said-first":
        said_first(int(args[0]), args[1], int(args[2]))
    elif mode == "flooders":
        flooders(int(args[0]), int(args[1]))
    elif mode == "slow-pipe-reader":
        slow_pipe_reader(float(args[0]))
    elif mode == "unix-named-client":
        unix_named_client(args[0], args[1])
    elif mode == "dgram-sizes":
        dgram_sizes(args[0], int(args[1]))
    elif mode == "dgram-send":
        dgram_send(args[0], int(args[1]), int(args[2]))
    elif mode == "stdout-socket":
        stdout_socket(args[0], args[1:])
    elif mode == "hangup-when-full":
        hangup_when_full(args[0])
    else:
        sys.exit("peers.py: unknown mode " + mode)


if __name__ == "__main__":
    main()
