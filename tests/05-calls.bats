#!/usr/bin/env bats
# The call layer: every system call on a socket, pipe or standard stream
# is made in src/sys.c, and --trace shows every socket call strace sees.
# This file is SPEC's definition of "every" (Everywhere, --trace).

load helpers

teardown() {
	kill_bg
}

RAWCALLS=$BATS_TEST_DIRNAME/lib/rawcalls.py
TRACECHECK=$BATS_TEST_DIRNAME/lib/tracecheck.py

@test "calls: no system call is made outside the call layer (src/sys.c, src/sys-data.c)" {
	run -0 python3 "$RAWCALLS" "$BATS_TEST_DIRNAME/../src" sys.c sys-data.c
	assert_output ""
}

@test "calls: the raw-call check finds a raw call, and not one in a comment or string" {
	mkdir "$BATS_TEST_TMPDIR/src"
	printf '/* read(0) in a comment */\nstatic const char *s = "close(1)";\nint f(int fd) { return close(fd); }\n' \
		>"$BATS_TEST_TMPDIR/src/bad.c"
	run -1 python3 "$RAWCALLS" "$BATS_TEST_TMPDIR/src" sys.c
	assert_output "bad.c:3: close()"
}

@test "calls: the modules call each other top down, without a cycle" {
	run -0 python3 "$BATS_TEST_DIRNAME/lib/layers.py" "$BATS_TEST_DIRNAME/../src"
	assert_output ""
	# A call upwards is caught: sys.c calling the relay.
	mkdir "$BATS_TEST_TMPDIR/src"
	printf 'void sys_x(void) { relay_free(0); }\n' >"$BATS_TEST_TMPDIR/src/sys.c"
	run -1 python3 "$BATS_TEST_DIRNAME/lib/layers.py" "$BATS_TEST_TMPDIR/src"
	assert_output "sys.c:1: calls relay_free() of relay.c"
}

# sockpair --trace ARGS under strace -f -yy; its stdout, its stderr (the
# trace) and strace's record in $BATS_TEST_TMPDIR/client.*.  The
# sanitizer's leak check cannot run under ptrace.
STRACE_SET=%network,read,write,readv,writev,close,fcntl,ioctl,splice,sendfile,epoll_ctl

traced() {
	local t=$BATS_TEST_TMPDIR/client
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 2 20 strace -f -yy -qq -o "$t.strace" -e trace="$STRACE_SET" \
		"$SOCKPAIR" --trace "$@" >"$t.out" 2>"$t.trace" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
}

# The same in the background, for servers, in $BATS_TEST_TMPDIR/server.*:
# sets SERVER_PID (to wait for), SERVER_SP (sockpair's own, to signal),
# SERVER_PORT.
traced_bg() {
	local t=$BATS_TEST_TMPDIR/server
	: >"$t.trace"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		bg strace -f -yy -qq -o "$t.strace" -e trace="$STRACE_SET" \
		"$SOCKPAIR" --trace "$@" >"$t.out" 2>"$t.trace"
	SERVER_PID=$BG_LAST
	local strace_pid=$BG_CHILD
	wait_for_line "$t.trace" '^listening on '
	SERVER_SP=$(pgrep -P "$strace_pid" | head -1)
	SERVER_ADDR=$(sed -n 's/^listening on //p' "$t.trace" | head -1)
	SERVER_PORT=${SERVER_ADDR##*:}
}

# assert_trace_complete [client|server] [--netlink-ours]
assert_trace_complete() {
	local t=$BATS_TEST_TMPDIR/${1:-client}
	run python3 "$TRACECHECK" ${2:+"$2"} "$t.strace" "$t.trace"
	[ "$status" -eq 0 ] || fail "$output
trace:
$(cat "$t.trace")"
	[[ "$output" =~ ^[0-9]+" calls matched"$ ]] || fail "$output"
}

@test "calls: stdout on a socket: what stdio prints there is traced too" {
	local t=$BATS_TEST_TMPDIR/client
	for cmd in "pair --info" "fork-echo" "pair --size 1K"; do
		# shellcheck disable=SC2086
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			peers stdout-socket "$t.out" strace -f -yy -qq -o "$t.strace" -e trace="$STRACE_SET" \
			"$SOCKPAIR" --trace $cmd 2>"$t.trace" 3>&- || fail "$cmd: $(cat "$t.trace")"
		assert_trace_complete
		grep -q '^\(\[pid [0-9]*\] \)\?write(1, ' "$t.trace" || fail "$cmd: no write(1, ...): $(cat "$t.trace")"
	done
	# And it arrived: the last command's result line.
	run -0 cat "$t.out"
	assert_output --regexp '^1024 bytes verified in [0-9.]+ s '
}

@test "calls: the comparison fails when a traced call is missing" {
	traced pair
	grep -v '^write(' "$BATS_TEST_TMPDIR/client.trace" >"$BATS_TEST_TMPDIR/cut"
	run -1 python3 "$TRACECHECK" "$BATS_TEST_TMPDIR/client.strace" "$BATS_TEST_TMPDIR/cut"
	assert_line --index 0 "not in the trace, or not in order:"
}

@test "calls: pair, its --info, --emulate and --size traces hold every socket call" {
	for args in "" "-t dgram" "-t seqpacket --info" "--emulate -d inet --info" \
			"--emulate -d inet6 -t dgram" "--size 1M" "--size 256K -t dgram"; do
		# shellcheck disable=SC2086
		traced pair $args || fail "pair $args failed: $(cat "$BATS_TEST_TMPDIR/client.trace")"
		assert_trace_complete
	done
}

@test "calls: fork-echo, both processes and both styles, and -i" {
	traced fork-echo
	assert_trace_complete
	traced fork-echo --style stream -t seqpacket
	assert_trace_complete
	printf 'one\ntwo\n' | traced fork-echo -i
	assert_trace_complete
}

@test "calls: listen and connect over TCP, both sides" {
	echo "from the listener" >"$BATS_TEST_TMPDIR/listen.in"
	traced_bg listen <"$BATS_TEST_TMPDIR/listen.in"
	run -0 timeout 10 "$SOCKPAIR" connect 127.0.0.1 "$SERVER_PORT" <<<"from the client"
	wait_exit "$SERVER_PID"
	assert_trace_complete server
	start_nc_server -N
	printf 'to nc\n' | traced connect 127.0.0.1 "$NC_PORT"
	assert_trace_complete
}

@test "calls: listen and connect over a UNIX socket and over UDP" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	traced_bg listen -U "$sock" </dev/null
	printf 'over unix\n' | traced connect -U "$sock"
	assert_trace_complete
	wait_exit "$SERVER_PID"
	assert_trace_complete server
	traced_bg listen -u </dev/null
	printf 'a datagram\n' | traced connect -u -w 0.5 127.0.0.1 "$SERVER_PORT"
	assert_trace_complete
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^a datagram$'
	kill -TERM "$SERVER_SP"
	wait_exit "$SERVER_PID"
	assert_trace_complete server
}

@test "calls: descriptors passed: connect --send-fd, listen --recv-fd --creds, fork-echo --pass-fd, -F" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	echo "a file" >"$BATS_TEST_TMPDIR/file"
	traced_bg listen -U "$sock" --recv-fd --creds </dev/null
	printf 'with descriptors\n' | traced connect -U "$sock" --send-fd 10 --send-fd 0 10<"$BATS_TEST_TMPDIR/file"
	assert_trace_complete
	grep -q '^sendmsg(.*SCM_RIGHTS, \[10, 0\]' "$BATS_TEST_TMPDIR/client.trace"
	wait_exit "$SERVER_PID"
	assert_trace_complete server
	grep -q '^recvmsg(.*SCM_CREDENTIALS, {pid=[0-9]*, .*SCM_RIGHTS, \[[0-9]*, [0-9]*\]' \
		"$BATS_TEST_TMPDIR/server.trace"
	traced fork-echo --pass-fd "$BATS_TEST_TMPDIR/file"
	assert_trace_complete
	start_nc_server
	# Its stdout a socket pair held by the peer; the trace on stderr.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		python3 "$BATS_TEST_DIRNAME/lib/fdpass.py" pass-out "$NC_PORT" -- \
		strace -f -yy -qq -o "$BATS_TEST_TMPDIR/client.strace" -e trace="$STRACE_SET" \
		"$SOCKPAIR" --trace connect -F 127.0.0.1 "$NC_PORT" \
		>"$BATS_TEST_TMPDIR/client.out" 2>"$BATS_TEST_TMPDIR/client.trace"
	assert_trace_complete
}

@test "calls: talkback, with clients that talk, quit and shut it down" {
	traced_bg talkback -p 0
	run -0 bash -c "printf 'hello\nquit\n' | timeout 5 nc -N 127.0.0.1 $SERVER_PORT"
	run -0 bash -c "printf 'shutdown\n' | timeout 5 nc -N 127.0.0.1 $SERVER_PORT"
	wait_exit "$SERVER_PID"
	assert_trace_complete server
}

@test "calls: peers: its netlink socket, each dump's sendmsg and recvmsg, the /proc walk" {
	local sock=$BATS_TEST_TMPDIR/p.sock t=$BATS_TEST_TMPDIR/client
	bg socat "UNIX-LISTEN:$sock" EXEC:cat </dev/null
	wait_for_socket "$sock"
	traced peers "$sock" || fail "peers failed: $(cat "$t.trace")"
	assert_trace_complete client --netlink-ours
	grep -q '^socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_SOCK_DIAG) = [0-9]' "$t.trace" ||
		fail "no netlink socket in: $(head "$t.trace")"
	# One dump per family the targets need: a path, UNIX's alone; a port
	# adds TCP over IPv4 and over IPv6.
	assert_equal "$(grep -c '^sendmsg(' "$t.trace")" 1
	grep -q '^recvmsg([0-9]*, ".*", 65536, \[\], MSG_CMSG_CLOEXEC) = [1-9]' "$t.trace"
	grep -q '^openat(AT_FDCWD, "/proc", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = [0-9]' "$t.trace"
	grep -q '^readlink("/proc/[0-9]*/fd/[0-9]*") = [0-9]' "$t.trace"
	# And the check sees the netlink calls: without them, it fails.
	grep -v '^recvmsg(' "$t.trace" >"$BATS_TEST_TMPDIR/cut"
	run -1 python3 "$TRACECHECK" --netlink-ours "$t.strace" "$BATS_TEST_TMPDIR/cut"
	assert_line --index 0 "not in the trace, or not in order:"
	# A port (nothing listens on 1): UNIX's dump and TCP's two.
	run -1 traced peers "$sock" 1
	assert_equal "$(grep -c '^sendmsg(' "$t.trace")" 3
}

@test "calls: http-head, answered and refused" {
	start_http_peer record "$BATS_TEST_TMPDIR/request"
	traced http-head "http://127.0.0.1:$PEER_PORT/"
	assert_trace_complete
	local status=0
	start_refused_port
	traced http-head "http://127.0.0.1:$REFUSED_PORT/" || status=$?
	assert_equal "$status" 4
	assert_trace_complete
}
