#!/usr/bin/env python3
"""layers.py SRC_DIR: checks that the modules of src/ call each other top
down, as the header's sections list them: a file may call functions of the
files below it, never of one above it, so there is no cycle.  Prints each
call that goes up (FILE:LINE: CALLS func of FILE2) and exits 1 if any.
A function belongs to the module whose prefix it carries (json_ to text.c,
where the JSON writer is); fail() and fail_errno() belong to error.c,
usage_error() to report.c.  A module may be several files (sys.c and
sys-data.c are the call layer), named in FILES."""
import os
import re
import sys

# Top first.  Files on one line are peers: they do not call each other.
ORDER = [
    ["main"],
    ["cmd-pair", "cmd-fork-echo", "cmd-listen", "cmd-connect", "cmd-talkback",
     "cmd-http-head", "cmd-bench", "cmd-proxy", "cmd-peers"],
    ["cmd"],
    ["relay", "pump", "scan", "swap"],
    ["fault"],
    ["event"],
    ["net", "editor", "http", "line", "flow", "tls"],
    ["io", "proc", "stats", "diag", "owners"],
    ["report"],
    ["sys"],
    ["conn"],
    ["trace"],
    ["record"],
    ["sink"],
    ["out"],
    ["parse", "addr", "clock", "samples", "frame", "queue"],
    ["error"],
    ["text"],
]
EXEMPT = {"fail": "error", "fail_errno": "error", "usage_error": "report", "event_emit": "record"}
PREFIX = {"cmd": "cmd", "relay": "relay", "pump": "pump", "fault": "fault", "event": "event", "net": "net",
          "editor": "editor", "flow": "flow", "http": "http", "line": "line", "io": "io",
          "proc": "proc", "stats": "stats", "report": "report", "scan": "scan", "swap": "swap", "diag": "diag", "owners": "owners", "tls": "tls", "sys": "sys", "conn": "conn", "capture": "conn", "trace": "trace", "record": "record", "sink": "sink", "out": "out",
          "parse": "parse", "addr": "addr", "clock": "clock", "samples": "samples", "frame": "frame", "queue": "queue",
          "text": "text", "json": "text"}
# Files of a module other than its own name: they are that module.
FILES = {"sys-data": "sys", "net-unix": "net", "sink-text": "sink", "sink-json": "sink",
         "sink-hexdump": "sink", "sink-pcap": "sink", "conn-capture": "conn"}


def level_of(module):
    for i, row in enumerate(ORDER):
        if module in row:
            return i
    return None


def owner(func):
    if func in EXEMPT:
        return EXEMPT[func]
    m = re.match(r"([a-z]+)_", func)
    return PREFIX.get(m.group(1)) if m else None


def main():
    src = sys.argv[1]
    problems = []
    for name in sorted(os.listdir(src)):
        if not name.endswith(".c"):
            continue
        module = FILES.get(name[:-2], name[:-2])
        mine = level_of(module)
        if mine is None:
            problems.append("%s: not in the layer list" % name)
            continue
        for number, line in enumerate(open(os.path.join(src, name)), 1):
            for func in re.findall(r"\b([a-z][a-z0-9_]*)\s*\(", line):
                target = owner(func)
                if not target or target == module:
                    continue
                if module.startswith("cmd-") and target == "cmd":
                    continue
                theirs = level_of(target)
                if theirs is not None and theirs <= mine:
                    problems.append("%s:%d: calls %s() of %s.c" % (name, number, func, target))
    print("\n".join(problems))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
