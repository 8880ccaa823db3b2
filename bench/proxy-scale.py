#!/usr/bin/env python3
"""proxy-scale.py PROXY_PID PORT N: N connections at once through the proxy
(pid PROXY_PID, listening on 127.0.0.1:PORT) to an echo server; each sends
64 bytes of its own and must get exactly them back.  Then, with all N open
and idle, the proxy's CPU over one second and its RSS; then all are closed
and the proxy's descriptors must come back to what they were.  Prints one
line: "connections N verified V idle_cpu_ticks T rss_kib R baseline_kib B
kib_per_connection K fds_before F fds_open O fds_after A"."""
import os
import resource
import selectors
import socket
import sys
import time


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def ticks(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    pid, port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    before_fds, baseline = fds(pid), rss_kib(pid)
    sel = selectors.DefaultSelector()
    socks, want, got = [], {}, {}
    for k in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setblocking(False)
        msg = (b"%08d" % k) * 8
        socks.append(s)
        want[s], got[s] = msg, b""
        s.sendall(msg)
        sel.register(s, selectors.EVENT_READ)
    deadline, verified = time.time() + 60, 0
    while verified < n and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            got[s] += s.recv(4096)
            if len(got[s]) >= len(want[s]):
                verified += got[s] == want[s]
                sel.unregister(s)
    open_fds = fds(pid)
    t0 = ticks(pid)
    time.sleep(1)
    idle = ticks(pid) - t0
    rss = rss_kib(pid)
    for s in socks:
        s.close()
    deadline = time.time() + 20
    while fds(pid) > before_fds and time.time() < deadline:
        time.sleep(0.05)
    print("connections %d verified %d idle_cpu_ticks %d rss_kib %d baseline_kib %d "
          "kib_per_connection %.2f fds_before %d fds_open %d fds_after %d" %
          (n, verified, idle, rss, baseline, (rss - baseline) / n, before_fds, open_fds,
           fds(pid)))


if __name__ == "__main__":
    main()
