#!/usr/bin/env python3
"""rawcalls.py SRC_DIR LAYER...: lists each raw system call made in a C file
of SRC_DIR other than the LAYER files (the call layer), as FILE:LINE: CALL,
and exits 1 if there is any.  Comments, strings and character constants are blanked
first, so "read(%d)" in a message or a comment is not a call."""
import os
import re
import sys

CALLS = """read write readv writev pread pwrite send sendto sendmsg recv recvfrom
recvmsg splice sendfile vmsplice tee close open openat socket socketpair bind
listen accept accept4 connect shutdown getsockopt setsockopt getsockname
getpeername fcntl ioctl isatty pipe pipe2 poll ppoll select epoll_create
epoll_create1 epoll_ctl epoll_wait timerfd_create timerfd_settime unlink
unlinkat fstatat fchdir dup dup2 dup3 fork waitpid kill setrlimit getrlimit
prlimit sched_setaffinity sched_getaffinity getaddrinfo getservbyname
memfd_create lseek readlink mkdir mkdtemp rmdir rename renameat renameat2
fchownat fchmodat chmod chown opendir fdopendir readdir closedir""".split()

CALL = re.compile(r"(?<![\w.>])(%s)\s*\(" % "|".join(CALLS))


def blank(text):
    """The text with comments, strings and char constants replaced by
    spaces (newlines kept, so line numbers stay)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j += 1
        else:
            out.append(c)
            i += 1
            continue
        out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
        i = j
    return "".join(out)


def main():
    src, layer = sys.argv[1], set(sys.argv[2:])
    found = []
    for name in sorted(os.listdir(src)):
        if not name.endswith(".c") or name in layer:
            continue
        text = blank(open(os.path.join(src, name), encoding="utf-8").read())
        for number, line in enumerate(text.split("\n"), 1):
            for m in CALL.finditer(line):
                found.append("%s:%d: %s()" % (name, number, m.group(1)))
    print("\n".join(found))
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
