#!/usr/bin/env python3
"""tracecheck.py [--netlink-ours] STRACE_FILE TRACE_FILE: checks sockpair's --trace against
strace -f -yy of the same run, which is what SPEC means by "every": each
call strace saw that creates a socket or takes a socket descriptor must be
in the trace, in the same order (per process), with the same descriptor
and result.  Waiting calls (poll, epoll_wait) may be left out, and so may
the sockets the C library opens for itself (netlink, nscd); with
--netlink-ours, netlink sockets are sockpair's own (peers' socket
diagnostics) and are compared too.

Prints what is missing and exits 1; prints the number of calls matched
and exits 0 otherwise.  An empty match (no socket call at all) fails: a
comparison of nothing proves nothing."""
import re
import sys

TAKES_SOCKET = set("""bind listen accept accept4 connect shutdown close getsockopt
setsockopt getsockname getpeername fcntl ioctl read write readv writev send
sendto sendmsg recv recvfrom recvmsg splice sendfile epoll_ctl""".split())
CREATES = {"socket", "socketpair", "accept", "accept4"}
SOCKET_KINDS = re.compile(r"^\d+<(socket|TCP|TCPv6|UDP|UDPv6|UNIX|UNIX-STREAM|UNIX-DGRAM|"
                          r"UNIX-SEQPACKET|NETLINK)[:>]")
LINE = re.compile(r"^(\d+)\s+(\w+)\((.*)\)\s+= (.*)$")
TRACE = re.compile(r"^(?:\[pid (\d+)\] )?(\w+)\((.*)\) = (.*)$")


def strace_calls(path):
    """(pid, name, args, result) of each finished call, resumed ones joined."""
    pending, calls = {}, []
    for raw in open(path, encoding="utf-8", errors="replace"):
        raw = raw.rstrip("\n")
        m = re.match(r"^(\d+)\s+(.*) <unfinished \.\.\.>$", raw)
        if m:
            pending[m.group(1)] = m.group(2)
            continue
        m = re.match(r"^(\d+)\s+<\.\.\. \w+ resumed>(.*)$", raw)
        if m:
            raw = m.group(1) + "  " + pending.pop(m.group(1), "") + m.group(2)
        m = LINE.match(raw)
        if m:
            calls.append((m.group(1), m.group(2), m.group(3), m.group(4).strip()))
    return calls


def first_fd(args):
    m = re.match(r"^(\d+)", args)
    return m.group(1) if m else None


def is_socket_arg(args, index):
    parts = split_args(args)
    return index < len(parts) and SOCKET_KINDS.match(parts[index].strip()) is not None


def split_args(args):
    """Top-level comma split, brackets and strings respected."""
    parts, depth, cur, quote = [], 0, "", False
    i = 0
    while i < len(args):
        c = args[i]
        if quote:
            cur += c
            if c == "\\":
                cur += args[i + 1] if i + 1 < len(args) else ""
                i += 1
            elif c == '"':
                quote = False
        elif c == '"':
            quote, cur = True, cur + c
        elif c in "[{(<":
            depth, cur = depth + 1, cur + c
        elif c in "]})>":
            depth, cur = depth - 1, cur + c
        elif c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def result_value(result):
    """'3<TCP:...>' -> '3', '-1 EAGAIN (...)' -> '-1 EAGAIN', '0x2 (flags ...)' -> '2'."""
    m = re.match(r"^(-1) (E\w+)", result)
    if m:
        return m.group(1) + " " + m.group(2)
    m = re.match(r"^(-?(?:0x[0-9a-f]+|\d+))", result)
    if not m:
        return result
    return str(int(m.group(1), 0))


def wanted(calls, netlink_ours=False):
    """The socket calls of strace's record, without the C library's own."""
    library_fds, out = set(), []
    for pid, name, args, result in calls:
        # "= ? ERESTARTSYS": interrupted in the kernel and restarted (strace
        # shows the restart as a call of its own), or cut short by the
        # process's death: never returned to the program, nothing to trace.
        if result.startswith("?"):
            continue
        fd = first_fd(args)
        key = (pid, fd)
        if name == "socket" and "AF_NETLINK" in args and not netlink_ours:
            library_fds.add((pid, result_value(result)))
            continue
        if name == "connect" and "nscd" in args:
            library_fds.add(key)
            continue
        if key in library_fds:
            if name == "close":
                library_fds.discard(key)
            continue
        if name in CREATES and not result.startswith("-1"):
            out.append((pid, name, args, result))
        elif name in CREATES:
            out.append((pid, name, args, result))
        elif name in TAKES_SOCKET and (is_socket_arg(args, 0) or
                                       (name == "splice" and is_socket_arg(args, 2)) or
                                       (name == "epoll_ctl" and is_socket_arg(args, 2))):
            out.append((pid, name, args, result))
    return out


def traced(path, main_pid):
    lines = {}
    for raw in open(path, encoding="utf-8", errors="replace"):
        m = TRACE.match(raw.rstrip("\n"))
        if m:
            lines.setdefault(m.group(1) or main_pid, []).append(
                (m.group(2), m.group(3), m.group(4)))
    return lines


def matches(call, line):
    _, name, args, result = call
    t_name, t_args, t_result = line
    if t_name != name:
        return False
    if name == "socketpair":
        fds = re.findall(r"\[(\d+)<[^,]*, (\d+)<", args)
        return bool(fds) and t_result == "[%s, %s]" % fds[0]
    if name != "socket" and first_fd(t_args) != first_fd(args):
        return False
    return result_value(t_result) == result_value(result)


def main():
    args = sys.argv[1:]
    netlink_ours = args[:1] == ["--netlink-ours"]
    if netlink_ours:
        args = args[1:]
    calls = strace_calls(args[0])
    if not calls:
        sys.exit("tracecheck: strace recorded nothing")
    main_pid = calls[0][0]
    lines = traced(args[1], main_pid)
    cursor, missing, matched = {}, [], 0
    for call in wanted(calls, netlink_ours):
        pid = call[0]
        mine = lines.get(pid, [])
        i = cursor.get(pid, 0)
        while i < len(mine) and not matches(call, mine[i]):
            i += 1
        if i == len(mine):
            missing.append("%s %s(%s) = %s" % call)
            continue
        cursor[pid] = i + 1
        matched += 1
    if missing:
        print("not in the trace, or not in order:")
        print("\n".join(missing))
        sys.exit(1)
    if matched == 0:
        sys.exit("tracecheck: no socket call to compare")
    print("%d calls matched" % matched)


if __name__ == "__main__":
    main()
