#!/usr/bin/env python3
"""Processes that hold sockets in known states, for tests/41-peers.bats.
Each prints one line saying what it holds (flushed), then waits, bounded
(30 s), until it is killed.

  holders.py pair-child        a socketpair shared across fork(): the parent
                               keeps one end, the child the other; prints
                               "parent PID fd N child PID fd M"
  holders.py unread PATH BYTES a UNIX listener at PATH; a forked child
                               connects and writes BYTES that the parent,
                               which accepted, never reads; each prints
                               its line: "server PID fd N", "client PID fd M"
  holders.py backlog PATH N    a UNIX listener at PATH (backlog 5) that
                               never accepts, and N connections to it;
                               prints "listener PID fd N"
"""
import os
import socket
import sys
import time

LIFETIME = 30


def say(text):
    print(text, flush=True)


def wait_forever():
    time.sleep(LIFETIME)
    os._exit(0)


def pair_child():
    ours, theirs = socket.socketpair()
    child = os.fork()
    if child == 0:
        ours.close()
        wait_forever()
    theirs_fd = theirs.fileno()
    theirs.close()
    say("parent %d fd %d child %d fd %d" % (os.getpid(), ours.fileno(), child, theirs_fd))
    wait_forever()


def unread(path, count):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    child = os.fork()
    if child == 0:
        listener.close()
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(path)
        client.sendall(b"x" * count)
        say("client %d fd %d" % (os.getpid(), client.fileno()))
        wait_forever()
    conn, _ = listener.accept()
    say("server %d fd %d" % (os.getpid(), conn.fileno()))
    wait_forever()


def backlog(path, count):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(5)
    clients = []
    for _ in range(count):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(path)
        clients.append(c)
    say("listener %d fd %d" % (os.getpid(), listener.fileno()))
    wait_forever()


def main():
    what = sys.argv[1]
    if what == "pair-child":
        pair_child()
    elif what == "unread":
        unread(sys.argv[2], int(sys.argv[3]))
    elif what == "backlog":
        backlog(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("holders.py: unknown '%s'" % what)


if __name__ == "__main__":
    main()
