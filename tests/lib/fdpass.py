#!/usr/bin/env python3
"""Peers that pass descriptors and credentials over UNIX sockets, for the
tests of --send-fd, --recv-fd, --attach, --creds and -F.  Each is bounded
in time (socket timeouts of 10 s) and prints what it did or got on stdout.

  fdpass.py send PATH KIND...      connects to PATH (a stream) and passes one
                                   descriptor of each KIND (file:NAME, pipe,
                                   null, socket) with b"data"; prints for
                                   each what /proc/self/fd names, then waits
                                   for the listener's end of file
  fdpass.py hostile PATH HOW       a client that misbehaves: HOW is "many"
                                   (253 descriptors in one message), "bare"
                                   (3 descriptors with no data; a datagram
                                   PATH) or "three" (3 descriptors with
                                   b"passed\\n" on a stream)
  fdpass.py receiver PATH          listens on PATH, accepts one client, and
                                   for each descriptor it passes prints
                                   "KIND TARGET: CONTENT" (what reading it
                                   gives; a socket: what its peer says to
                                   "ping\\n"); then "data: BYTES" of the rest
  fdpass.py attach PATH            passes one end of a socket pair with
                                   b"/dev/ptmx", prints what comes through the
                                   other end until end of file, then answers
                                   "from the descriptor\\n" and closes
  fdpass.py console PATH           as runc with --console-socket: passes a
                                   pty master; writes "hello from the
                                   container\\n" on the raw slave, prints
                                   the first line typed back, closes the
                                   slave
  fdpass.py pipe-end PATH END      passes one end of a pipe (END: read or
                                   write) with b"/dev/ptmx", keeping none of
                                   it: read: writes "through the pipe\n" into
                                   the other end and closes it; write: prints
                                   what comes out of the other end until end
                                   of file ("read: BYTES")
  fdpass.py senders PATH N         N processes each send one datagram
                                   "from PID\\n" to PATH, one after another;
                                   prints their pids in order
  fdpass.py flags PATH KIND DONE   passes a descriptor of KIND (socket: one end
                                   of a pair; pipe: a pipe's read end; pty: a
                                   raw pty slave), keeping its own copy, and
                                   says "ping\n" into it from the other end;
                                   once the file DONE exists (the test killed
                                   the listener), prints the O_NONBLOCK flag
                                   of the open file description it shares:
                                   "flags: O_NONBLOCK" or "flags: blocking"
  fdpass.py pass-out PORT -- CMD   runs CMD with stdout one end of a socket
                                   pair, receives the descriptor it passes,
                                   prints its family, type and peer's port,
                                   then says "over the passed socket\\n"
"""
import array
import fcntl
import os
import select
import socket
import stat
import subprocess
import sys
import time
import tty

TIMEOUT = 10


def connect(path, kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_UNIX, kind)
    s.settimeout(TIMEOUT)
    s.connect(path)
    return s


def target(fd):
    return os.readlink("/proc/self/fd/%d" % fd)


def make_fd(kind, keep):
    """A descriptor of KIND; what must stay open for it is added to keep."""
    if kind.startswith("file:"):
        return os.open(kind[5:], os.O_RDONLY)
    if kind == "pipe":
        r, w = os.pipe()
        keep.append(w)
        return r
    if kind == "null":
        return os.open("/dev/null", os.O_RDWR)
    if kind == "socket":
        a, b = socket.socketpair()
        keep.append(b)
        return a.detach()
    raise SystemExit("unknown kind " + kind)


def recv_all(s):
    """Everything s receives until its peer's end of file."""
    got = b""
    while True:
        d = s.recv(4096)
        if not d:
            return got
        got += d


def send(path, kinds):
    keep = []
    fds = [make_fd(k, keep) for k in kinds]
    s = connect(path)
    socket.send_fds(s, [b"data"], fds)
    for fd in fds:
        print(target(fd), flush=True)
    s.shutdown(socket.SHUT_WR)
    recv_all(s)


def hostile(path, how):
    if how == "many":
        fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(253)]
        s = connect(path)
        socket.send_fds(s, [b"many\n"], fds)
    elif how == "bare":
        fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(3)]
        s = connect(path, socket.SOCK_DGRAM)
        s.sendmsg([], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        s.send(b"after\n")
    elif how == "three":
        fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(3)]
        s = connect(path)
        socket.send_fds(s, [b"passed\n"], fds)
    else:
        raise SystemExit("unknown way to misbehave " + how)
    print("sent %d" % len(fds), flush=True)
    s.close()


def describe(fd):
    mode = os.fstat(fd).st_mode
    if stat.S_ISSOCK(mode):
        s = socket.socket(fileno=fd)
        s.settimeout(TIMEOUT)
        s.sendall(b"ping\n")
        return "socket", s.recv(4096)
    kind = "pipe" if stat.S_ISFIFO(mode) else "chr" if stat.S_ISCHR(mode) else "file"
    return kind, os.read(fd, 4096)


def receiver(path):
    l = socket.socket(socket.AF_UNIX)
    l.bind(path)
    l.listen(1)
    print("listening on " + path, flush=True)
    l.settimeout(TIMEOUT)
    c, _ = l.accept()
    c.settimeout(TIMEOUT)
    msg, fds, flags, _ = socket.recv_fds(c, 4096, 300)
    for fd in fds:
        name = target(fd)
        kind, content = describe(fd)
        print("%s %s: %r" % (kind, name, content), flush=True)
    print("data: %r" % (msg + recv_all(c)), flush=True)


def attach(path):
    mine, theirs = socket.socketpair()
    mine.settimeout(TIMEOUT)
    s = connect(path)
    socket.send_fds(s, [b"/dev/ptmx"], [theirs.fileno()])
    theirs.close()
    s.close()
    print("got: %r" % recv_all(mine), flush=True)
    mine.sendall(b"from the descriptor\n")
    mine.close()


def console(path):
    master, slave = os.openpty()
    tty.setraw(slave)
    s = connect(path)
    socket.send_fds(s, [b"/dev/ptmx"], [master])
    os.close(master)
    s.close()
    os.write(slave, b"hello from the container\n")
    got = b""
    deadline = time.time() + TIMEOUT
    while not got.endswith(b"\n") and time.time() < deadline:
        got += os.read(slave, 1)
    print("typed: %r" % got, flush=True)
    os.close(slave)


def pipe_end(path, end):
    r, w = os.pipe()
    passed, kept = (r, w) if end == "read" else (w, r)
    s = connect(path)
    socket.send_fds(s, [b"/dev/ptmx"], [passed])
    os.close(passed)
    s.close()
    if end == "read":
        os.write(kept, b"through the pipe\n")
        os.close(kept)
        return
    got = b""
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        ready, _, _ = select.select([kept], [], [], 0.1)
        chunk = os.read(kept, 4096) if ready else None
        if chunk == b"":
            break
        got += chunk or b""
    print("read: %r" % got, flush=True)


def shared_fd(kind):
    """A descriptor of KIND to pass, and the other end, to speak into it."""
    if kind == "socket":
        a, b = socket.socketpair()
        return a.detach(), b.detach()
    if kind == "pipe":
        r, w = os.pipe()
        return r, w
    if kind == "pty":
        master, slave = os.openpty()
        tty.setraw(slave)
        return slave, master
    raise SystemExit("unknown kind " + kind)


def flags(path, kind, done):
    passed, other = shared_fd(kind)
    s = connect(path)
    socket.send_fds(s, [b"x"], [passed])
    s.close()
    os.write(other, b"ping\n")
    deadline = time.time() + TIMEOUT
    while not os.path.exists(done) and time.time() < deadline:
        time.sleep(0.02)
    nonblocking = fcntl.fcntl(passed, fcntl.F_GETFL) & os.O_NONBLOCK
    print("flags: %s" % ("O_NONBLOCK" if nonblocking else "blocking"), flush=True)


def senders(path, n):
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.sendto(b"from %d\n" % os.getpid(), path)
            os._exit(0)
        os.waitpid(pid, 0)
        print(pid, flush=True)


def pass_out(port, cmd):
    mine, theirs = socket.socketpair()
    mine.settimeout(TIMEOUT)
    p = subprocess.Popen(cmd, stdout=theirs.fileno())
    theirs.close()
    msg, fds, flags, _ = socket.recv_fds(mine, 16, 4)
    status = p.wait(timeout=TIMEOUT)
    print("status %d, data %r, %d descriptor(s)" % (status, msg, len(fds)), flush=True)
    s = socket.socket(fileno=fds[0])
    print("family %s type %s peer port %d" % (s.family.name, s.type.name,
                                              s.getpeername()[1]), flush=True)
    s.sendall(b"over the passed socket\n")
    s.close()


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "send":
        send(args[0], args[1:])
    elif mode == "hostile":
        hostile(args[0], args[1])
    elif mode == "receiver":
        receiver(args[0])
    elif mode == "attach":
        attach(args[0])
    elif mode == "console":
        console(args[0])
    elif mode == "flags":
        flags(args[0], args[1], args[2])
    elif mode == "pipe-end":
        pipe_end(args[0], args[1])
    elif mode == "senders":
        senders(args[0], int(args[1]))
    elif mode == "pass-out":
        pass_out(int(args[0]), args[2:])
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
