#!/usr/bin/env bats
# Memcheck over the main paths of every command: no invalid access, no
# definite leak, and no descriptor left open at exit, in the parent and in
# every forked child.  (Against the ASan build these are ASan's job.)

load helpers

setup() {
	[ -z "${SOCKPAIR_SANITIZED:-}" ] || skip "valgrind does not run sanitized binaries"
	command -v valgrind >/dev/null || fail "valgrind is not installed (make deps-test)"
	VG_LOGS=$BATS_TEST_TMPDIR/vg
	mkdir -p "$VG_LOGS"
	# The one memcheck command line: errors, definite leaks, descriptors.
	# An array, not a function: "$!" of a background command is then
	# timeout's own pid, which passes a signal on.
	MEMCHECK=(timeout -k 2 60 valgrind -q --error-exitcode=99 --leak-check=full
		--errors-for-leak-kinds=definite --track-fds=yes --log-file="$VG_LOGS/vg.%p")
}

teardown() {
	kill_bg
}

# Runs sockpair under memcheck with the given stdin file; asserts exit status.
vg() {
	local expect=$1 input=$2
	shift 2
	local status=0
	"${MEMCHECK[@]}" "$SOCKPAIR" "$@" \
		<"$input" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" \
		3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- || status=$?
	[ "$status" -eq "$expect" ] ||
		fail "sockpair $* exited $status, expected $expect: $(cat "$BATS_TEST_TMPDIR/err" "$VG_LOGS"/vg.*)"
	assert_clean_logs
}

# Descriptors open at exit that the process opened itself: valgrind marks
# the ones it was given ("<inherited from parent>"), which are not ours.
own_open_descriptors() {
	awk '/== Open / { pending = $0; next }
	     pending && /inherited from parent/ { pending = ""; next }
	     pending { print pending; pending = "" }' "$1" | grep -v 'descriptor [012]:' || true
}

# Every process's log: no error, no definite leak, no descriptor left open.
assert_clean_logs() {
	local log open
	for log in "$VG_LOGS"/vg.*; do
		if grep -q 'ERROR SUMMARY: [1-9]\|Invalid\|definitely lost: [1-9]' "$log"; then
			fail "memcheck errors in $log: $(cat "$log")"
		fi
		open=$(own_open_descriptors "$log")
		[ -z "$open" ] || fail "descriptors left open at exit: $open
$(cat "$log")"
	done
	rm -f "$VG_LOGS"/vg.*
}

@test "valgrind: pair, in its forms, is clean" {
	vg 0 /dev/null pair
	vg 0 /dev/null pair --info -m 'a\0b'
	vg 0 /dev/null pair -t dgram --raw
	vg 0 /dev/null pair --emulate -d inet6 --info
	vg 0 /dev/null pair --emulate -d inet -t dgram
	vg 0 /dev/null pair --size 3M
	vg 0 /dev/null pair --size 1M -t dgram
}

@test "valgrind: pair's error paths are clean" {
	vg 1 /dev/null pair -d inet
	vg 1 /dev/null pair --emulate -d inet -t seqpacket
	vg 2 /dev/null pair --bogus
	vg 2 /dev/null pair -m '\q'
	vg 2 /dev/null pair --size 0
}

@test "valgrind: fork-echo, both styles and -i, parent and child, is clean" {
	printf 'one\ntwo\nthree' >"$BATS_TEST_TMPDIR/in"
	vg 0 /dev/null fork-echo
	vg 0 /dev/null fork-echo --style stream -t seqpacket
	vg 0 "$BATS_TEST_TMPDIR/in" fork-echo -i
	vg 2 /dev/null fork-echo -i -t dgram
}

@test "valgrind: help and version are clean" {
	vg 0 /dev/null --help
	vg 0 /dev/null help pair
	vg 0 /dev/null --version
	vg 2 /dev/null nosuch
}

# listen in the background under memcheck, its client in the foreground.
vg_listen() {
	local err=$BATS_TEST_TMPDIR/listen.err
	: >"$err"
	"${MEMCHECK[@]}" "$SOCKPAIR" listen "$@" <"${LISTEN_IN:-/dev/null}" >"$BATS_TEST_TMPDIR/listen.out" \
		2>"$err" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	VG_LISTEN=$!
	wait_for_line "$err" '^listening on ' 400
	LISTEN_PORT=$(announced_port "$err")
}

vg_listen_status() {
	local status=0
	wait "$VG_LISTEN" || status=$?
	[ "$status" -eq "$1" ] || fail "listen exited $status, expected $1: $(cat "$VG_LOGS"/vg.*)"
}

@test "valgrind: listen and connect over TCP, splicing and not, are clean" {
	printf 'reply\n' >"$BATS_TEST_TMPDIR/reply"
	head -c 3M /dev/urandom >"$BATS_TEST_TMPDIR/data"
	LISTEN_IN=$BATS_TEST_TMPDIR/reply vg_listen
	vg 0 "$BATS_TEST_TMPDIR/data" connect 127.0.0.1 "$LISTEN_PORT"
	vg_listen_status 0
	assert_clean_logs
	cmp "$BATS_TEST_TMPDIR/data" "$BATS_TEST_TMPDIR/listen.out"
	vg_listen -k
	vg 0 "$BATS_TEST_TMPDIR/reply" connect --crlf 127.0.0.1 "$LISTEN_PORT"
	kill -TERM "$VG_LISTEN"	# timeout(1) passes it on to the listener
	vg_listen_status 0
	assert_clean_logs
}

@test "valgrind: listen and connect over UNIX sockets and UDP are clean" {
	printf 'line\n' >"$BATS_TEST_TMPDIR/line"
	vg_listen -U "$BATS_TEST_TMPDIR/s.sock"
	vg 0 "$BATS_TEST_TMPDIR/line" connect -U "$BATS_TEST_TMPDIR/s.sock"
	vg_listen_status 0
	assert_clean_logs
	vg_listen -u
	vg 0 "$BATS_TEST_TMPDIR/line" connect -u -w 1 127.0.0.1 "$LISTEN_PORT"
	kill -INT "$VG_LISTEN"
	vg_listen_status 0
	assert_clean_logs
}

@test "valgrind: connect's failures are clean" {
	local port
	start_refused_port
	port=$REFUSED_PORT
	vg 4 /dev/null connect 127.0.0.1 "$port"
	vg 2 /dev/null connect 127.0.0.1 99999
	RES_OPTIONS="timeout:1 attempts:1" vg 3 /dev/null connect nonexistent.invalid 80
}

@test "valgrind: talkback serving, shut down by a client and by SIGTERM, is clean" {
	local err=$BATS_TEST_TMPDIR/talkback.err
	for how in shutdown TERM; do
		: >"$err"
		"${MEMCHECK[@]}" "$SOCKPAIR" talkback -p 0 --idle-timeout 30 </dev/null >/dev/null 2>"$err" \
			3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
		local pid=$!
		wait_for_line "$err" '^listening on ' 400
		local port
		port=$(announced_port "$err")
		printf 'one\r\ntwo\n' | timeout 10 nc -N 127.0.0.1 "$port" >/dev/null
		bg sh -c "sleep 20 | nc 127.0.0.1 $port >'$BATS_TEST_TMPDIR/idle'"
		wait_for_line "$BATS_TEST_TMPDIR/idle" "type 'shutdown'" 400
		head -c 5000 /dev/zero | tr '\0' a | timeout 10 nc -N 127.0.0.1 "$port" >/dev/null
		if [ "$how" = shutdown ]; then
			printf 'shutdown\n' | timeout 10 nc -N 127.0.0.1 "$port" >/dev/null
		else
			kill -TERM "$pid"
		fi
		local status=0
		wait "$pid" || status=$?
		assert_equal "$status" 0
		assert_clean_logs
		kill_bg
	done
}

@test "valgrind: http-head, succeeding and failing, is clean" {
	start_http_peer record "$BATS_TEST_TMPDIR/request"
	vg 0 /dev/null http-head "http://127.0.0.1:$PEER_PORT/x"
	start_http_peer garbage
	vg 6 /dev/null http-head -q "127.0.0.1:$PEER_PORT"
	start_http_peer silent
	vg 5 /dev/null http-head -q -w 0.5 "127.0.0.1:$PEER_PORT"
	start_refused_port
	vg 4 /dev/null http-head -q "127.0.0.1:$REFUSED_PORT"
	vg 2 /dev/null http-head ftp://example.com/
	kill_bg
}

@test "valgrind: passing descriptors and credentials is clean, every passed descriptor closed" {
	local t=$BATS_TEST_TMPDIR
	printf 'first\nsecond\n' >"$t/file"
	vg 0 /dev/null fork-echo --pass-fd "$t/file"
	# 253 descriptors passed to the listener: each announced and closed.
	vg_listen -U "$t/s.sock" --recv-fd --creds
	timeout -k 2 30 python3 "$BATS_TEST_DIRNAME/lib/fdpass.py" hostile "$t/s.sock" many
	vg_listen_status 0
	assert_clean_logs
	vg_listen -U "$t/s.sock" --recv-fd
	vg 0 "$t/file" connect -U "$t/s.sock" --send-fd 0
	vg_listen_status 0
	assert_clean_logs
	open_fifo
	LISTEN_IN=$FIFO vg_listen -U "$t/s.sock" --attach
	timeout -k 2 30 python3 "$BATS_TEST_DIRNAME/lib/fdpass.py" attach "$t/s.sock" >"$t/attach.out" 7>&- &
	local apid=$!
	wait_for_line "$t/listen.err" '^attached descriptor'
	exec 7>&-
	wait "$apid"
	vg_listen_status 0
	assert_clean_logs
}

@test "valgrind: proxy relays a connection spliced and through -x, and leaves no descriptor open" {
	for dump in "" -x; do
		rm -f "$VG_LOGS"/vg.*
		start_script_peer server.out proxy_peers.py echo
		: >"$BATS_TEST_TMPDIR/err"
		"${MEMCHECK[@]}" "$SOCKPAIR" $dump proxy --once 0 "127.0.0.1:$PEER_PORT" \
			</dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
		vg_pid=$!
		TRIES=400 wait_for_line "$BATS_TEST_TMPDIR/err" '^listening on ' 400
		port=$(announced_port "$BATS_TEST_TMPDIR/err")
		run -0 bash -c "head -c 300000 /dev/urandom | tee $BATS_TEST_TMPDIR/in | timeout 20 nc -N 127.0.0.1 $port > $BATS_TEST_TMPDIR/out"
		cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
		status=0
		wait "$vg_pid" || status=$?
		[ "$status" -eq 0 ] || fail "proxy exited $status: $(cat "$BATS_TEST_TMPDIR/err" "$VG_LOGS"/vg.*)"
		assert_clean_logs
		kill_bg
	done
}

@test "valgrind: proxy with faults (a delay, a slice, a reset after a count) frees its gates and timers and leaves no descriptor open" {
	for faults in "--delay 20~10 --slice 4096/1" "--reset-after down:100000"; do
		rm -f "$VG_LOGS"/vg.*
		start_script_peer server.out proxy_peers.py echo
		: >"$BATS_TEST_TMPDIR/err"
		# shellcheck disable=SC2086 # the faults are several words
		"${MEMCHECK[@]}" "$SOCKPAIR" proxy --once $faults 0 "127.0.0.1:$PEER_PORT" \
			</dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
		vg_pid=$!
		TRIES=400 wait_for_line "$BATS_TEST_TMPDIR/err" '^listening on ' 400
		port=$(announced_port "$BATS_TEST_TMPDIR/err")
		run bash -c "head -c 300000 /dev/urandom | timeout 20 nc -N 127.0.0.1 $port > $BATS_TEST_TMPDIR/out"
		status=0
		wait "$vg_pid" || status=$?
		[ "$status" -eq 0 ] || fail "proxy exited $status: $(cat "$BATS_TEST_TMPDIR/err" "$VG_LOGS"/vg.*)"
		case $faults in
		--reset*) run -0 stat -c %s "$BATS_TEST_TMPDIR/out"; assert_output 100000 ;;
		*) run -0 stat -c %s "$BATS_TEST_TMPDIR/out"; assert_output 300000 ;;
		esac
		assert_clean_logs
		kill_bg
	done
}

@test "valgrind: --pcap in listen and connect, pair and fork-echo is clean, so is its failure; fork-echo -x too" {
	local cap=$BATS_TEST_TMPDIR/cap.pcapng
	vg 0 /dev/null pair --pcap "$cap"
	vg 0 /dev/null pair -t dgram --pcap "$cap"
	vg 0 /dev/null fork-echo --pcap "$cap"
	vg 0 /dev/null fork-echo -x
	vg 1 /dev/null pair --pcap /dev/full
	vg 1 /dev/null pair --pcap "$BATS_TEST_TMPDIR/no/dir/cap"
	start_listen -p 0
	printf 'captured\n' >"$BATS_TEST_TMPDIR/in"
	vg 0 "$BATS_TEST_TMPDIR/in" connect -q --pcap "$cap" 127.0.0.1 "$LISTEN_PORT"
	wait_exit "$LISTEN_PID"
	start_refused_port
	vg 4 /dev/null connect --pcap "$cap" 127.0.0.1 "$REFUSED_PORT"
	run -0 tshark -r "$cap" -q
}

@test "valgrind: peers of a UNIX listener, a TCP port and a process is clean, the netlink socket and /proc directories closed" {
	local sock=$BATS_TEST_TMPDIR/p.sock
	bg socat "UNIX-LISTEN:$sock,fork" EXEC:cat </dev/null
	wait_for_socket "$sock"
	local listener=$BG_CHILD
	open_fifo
	bg socat - "UNIX-CONNECT:$sock" <"$FIFO"
	start_socat_tcp_server 'TCP-LISTEN:0,bind=127.0.0.1' EXEC:cat
	vg 0 /dev/null peers "$sock" "$SOCAT_PORT"
	grep -q "^$sock listening, backlog " "$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
	vg 0 /dev/null peers --json --pid "$listener"
	vg 1 /dev/null peers "$BATS_TEST_TMPDIR/missing.sock"
}

@test "valgrind: TLS, http-head https:// and connect --tls, succeeding and failing, is clean" {
	local certs=$BATS_TEST_TMPDIR/certs
	mkdir -p "$certs"
	timeout 60 python3 "$BATS_TEST_DIRNAME/lib/tls_peer.py" certs "$certs"
	start_script_peer tls.out tls_peer.py https "$certs" localhost
	SSLKEYLOGFILE=$BATS_TEST_TMPDIR/keys vg 0 /dev/null http-head -x --cafile "$certs/ca.pem" \
		-n 2 "https://localhost:$PEER_PORT/"
	vg 7 /dev/null http-head -q "https://localhost:$PEER_PORT/"
	kill_bg
	start_script_peer tls.out tls_peer.py echo "$certs"
	printf 'through TLS\n' >"$BATS_TEST_TMPDIR/in"
	vg 0 "$BATS_TEST_TMPDIR/in" connect --tls --cafile "$certs/ca.pem" localhost "$PEER_PORT"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" 'through TLS'
}
