#!/usr/bin/env bats
# The relay that listen, connect and fork-echo -i share: its fallbacks
# and modes, seen through listen and connect.  Every test moves real
# bytes and checks them whole.

load helpers

setup() {
	head -c 64M /dev/urandom >"$BATS_TEST_TMPDIR/data"
	WANT=$(sha256sum <"$BATS_TEST_TMPDIR/data")
}

teardown() {
	kill_bg
}

# Sends $BATS_TEST_TMPDIR/data through connect -> listen with the given
# environment for both; the listener writes to $BATS_TEST_TMPDIR/got.
transfer() {
	start_listen_with_env "$@"
	env "$@" timeout 30 "$SOCKPAIR" connect -q 127.0.0.1 "$LISTEN_PORT" \
		<"$BATS_TEST_TMPDIR/data" 3>&- >/dev/null
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
}

start_listen_with_env() {
	local err=$BATS_TEST_TMPDIR/listen.err
	: >"$err"
	bg env "$@" "$SOCKPAIR" listen </dev/null >"$BATS_TEST_TMPDIR/got" 2>"$err"
	LISTEN_PID=$BG_LAST
	wait_for_line "$err" '^listening on '
	LISTEN_PORT=$(announced_port "$err")
}

@test "relay: splices a bulk transfer, and the bytes arrive whole" {
	transfer SOCKPAIR_TRACE=1
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/got")" "$WANT"
	grep -q '^splice(' "$BATS_TEST_TMPDIR/listen.err" || fail "the listener did not splice"
}

@test "relay: a sink that cannot splice gets the bytes through the buffer" {
	build_faults
	transfer LD_PRELOAD="$FAULTS_SO" SP_FAULT_SPLICE_OUT_EINVAL=1
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/got")" "$WANT"
}

@test "relay: a source that stops splicing mid-stream loses nothing" {
	build_faults
	transfer LD_PRELOAD="$FAULTS_SO" SP_FAULT_SPLICE_IN_EINVAL_AFTER=3000000
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/got")" "$WANT"
}

@test "relay: a regular file goes out by sendfile(2), the bytes whole" {
	start_listen -U "$BATS_TEST_TMPDIR/s"
	run -0 --separate-stderr sp --trace --stats connect -U "$BATS_TEST_TMPDIR/s" <"$BATS_TEST_TMPDIR/data"
	# How much each call moves is the socket buffer's business, not ours.
	[[ "$stderr" =~ "sendfile("[0-9]+", 0, NULL, 1048576) = "[1-9][0-9]* ]] || fail "no sendfile: $stderr"
	[[ "$stderr" =~ "sent 67108864 bytes in " ]] || fail "not counted: $stderr"
	wait_exit "$LISTEN_PID"
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/listen.out")" "$WANT"
}

@test "relay: a file sendfile(2) stops taking mid-stream goes on by read(), losing nothing" {
	build_faults
	transfer LD_PRELOAD="$FAULTS_SO" SP_FAULT_SENDFILE_EINVAL_AFTER=3000000
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/got")" "$WANT"
}

@test "relay: from a pipe into a pipe, both ways at once" {
	# The side whose input ends first makes the other end (SPEC: once the
	# peer has closed its sending side, what stdin holds then is sent).
	# connect's pipe, four times smaller, ends first; listen's stdin, a
	# regular file, then still sends all the rest of it.
	head -c 16M /dev/urandom >"$BATS_TEST_TMPDIR/up"
	LISTEN_IN=$BATS_TEST_TMPDIR/data start_listen
	cat "$BATS_TEST_TMPDIR/up" | timeout 30 "$SOCKPAIR" connect -q 127.0.0.1 "$LISTEN_PORT" 3>&- |
		sha256sum >"$BATS_TEST_TMPDIR/client.sum"
	wait_exit "$LISTEN_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/client.sum")" "$WANT"
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/listen.out")" "$(sha256sum <"$BATS_TEST_TMPDIR/up")"
}

@test "relay: --crlf on bulk data rewrites exactly the bare line ends" {
	# Lines of random printable text, some ending \r\n already.
	base64 -w 76 "$BATS_TEST_TMPDIR/data" | head -n 110000 | sed '0~3s/$/\r/' >"$BATS_TEST_TMPDIR/text"
	start_listen
	timeout 30 "$SOCKPAIR" connect -q --crlf 127.0.0.1 "$LISTEN_PORT" \
		<"$BATS_TEST_TMPDIR/text" 3>&- >/dev/null
	wait_exit "$LISTEN_PID"
	sed 's/\r*$/\r/' "$BATS_TEST_TMPDIR/text" >"$BATS_TEST_TMPDIR/expected"
	cmp "$BATS_TEST_TMPDIR/expected" "$BATS_TEST_TMPDIR/listen.out"
}

@test "relay: a slow reader of our stdout holds the peer back, nothing is lost" {
	start_listen
	timeout 30 "$SOCKPAIR" connect -q 127.0.0.1 "$LISTEN_PORT" <"$BATS_TEST_TMPDIR/data" 3>&- >/dev/null
	wait_exit "$LISTEN_PID"
	# Now the other way, into a reader that takes its time.
	LISTEN_IN=$BATS_TEST_TMPDIR/data start_listen
	timeout 60 "$SOCKPAIR" connect -q 127.0.0.1 "$LISTEN_PORT" </dev/null 3>&- |
		(sleep 1; sha256sum) >"$BATS_TEST_TMPDIR/slow.sum"
	wait_exit "$LISTEN_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/slow.sum")" "$WANT"
}

@test "relay: stdin and stdout pipes shared with others keep their flags after SIGKILL" {
	printf 'hello\n' >"$BATS_TEST_TMPDIR/server.in"
	NC_IN=$BATS_TEST_TMPDIR/server.in start_nc_server
	run -0 timeout 20 python3 "$BATS_TEST_DIRNAME/lib/peers.py" flags-after-kill -- \
		"$SOCKPAIR" connect 127.0.0.1 "$NC_PORT"
	assert_output "stdin blocking
stdout blocking"
}

@test "relay: listen leaves shared pipes' flags alone too" {
	run -0 timeout 20 python3 "$BATS_TEST_DIRNAME/lib/peers.py" flags-after-kill --client -- \
		"$SOCKPAIR" listen
	assert_output "stdin blocking
stdout blocking"
}

@test "relay: a slow reader of our stdout costs no CPU while the peer's data waits" {
	LISTEN_IN=$BATS_TEST_TMPDIR/data start_listen
	: >"$BATS_TEST_TMPDIR/connect.err"
	bg sh -c '"$0" connect 127.0.0.1 "$1" </dev/null 2>"$2" |
		python3 "$3" slow-pipe-reader 4 >"$4"' "$SOCKPAIR" "$LISTEN_PORT" \
		"$BATS_TEST_TMPDIR/connect.err" "$BATS_TEST_DIRNAME/lib/peers.py" \
		"$BATS_TEST_TMPDIR/reader.out"
	wait_for_line "$BATS_TEST_TMPDIR/connect.err" '^connected to '
	wait_for_line "$BATS_TEST_TMPDIR/reader.out" '^reading$'
	local sp_pid
	sp_pid=$(pgrep -f "^$SOCKPAIR connect 127.0.0.1 $LISTEN_PORT\$") || fail "connect is gone"
	assert_cpu_below "$sp_pid" 20
}

@test "relay: a FIFO on stdin whose writer has left before sockpair ran is at its end" {
	local t=$BATS_TEST_TMPDIR
	mkfifo "$t/input"
	# The listener says nothing and waits for our end: only poll() on our
	# input can tell the relay it is over.
	open_fifo
	LISTEN_IN=$FIFO start_listen
	# The writer meets the shell's open of the FIFO, then leaves at once,
	# before sockpair reopens it: a reader opened then sees no POLLHUP.
	bash -c "exec 3>'$t/input'" 7>&- &
	local writer=$!
	run -0 --separate-stderr timeout 10 bash -c "exec <'$t/input'
		while [ -e /proc/$writer/fd/3 ]; do sleep 0.01; done
		exec '$SOCKPAIR' connect 127.0.0.1 $LISTEN_PORT" 7>&-
	wait "$writer" || true
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
}

# A receiver of UNIX datagrams at $BATS_TEST_TMPDIR/d.sock, in the
# background, writing "SIZE xN" runs to $BATS_TEST_TMPDIR/sizes at its end.
start_dgram_sizes() {
	bg python3 "$BATS_TEST_DIRNAME/lib/peers.py" dgram-sizes "$BATS_TEST_TMPDIR/d.sock" "$1" \
		</dev/null >"$BATS_TEST_TMPDIR/sizes"
	DGRAM_PID=$BG_LAST
	wait_for_socket "$BATS_TEST_TMPDIR/d.sock"
}

@test "relay: -u sends each line whole as one datagram, wherever the buffer wraps" {
	# 3000 lines of 100 bytes: 300000 bytes pass through a 256 KiB buffer.
	python3 -c 'import sys; sys.stdout.write("".join("%099d\n" % i for i in range(3000)))' \
		>"$BATS_TEST_TMPDIR/lines"
	start_dgram_sizes 3000
	run -0 timeout 20 "$SOCKPAIR" connect -q -u -w 1 -U "$BATS_TEST_TMPDIR/d.sock" \
		<"$BATS_TEST_TMPDIR/lines" 3>&-
	wait_exit "$DGRAM_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/sizes")" "100 x3000"
}

@test "relay: -u --crlf cuts a line longer than a datagram into datagram-sized pieces" {
	start_dgram_sizes 5
	head -c 300000 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/long"
	run -0 timeout 20 "$SOCKPAIR" connect -q -u --crlf -w 1 -U "$BATS_TEST_TMPDIR/d.sock" \
		<"$BATS_TEST_TMPDIR/long" 3>&-
	wait_exit "$DGRAM_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/sizes")" "65507 x4
37972 x1"
}

@test "relay: listen -u keeps each datagram whole while its stdout is slow" {
	local sock=$BATS_TEST_TMPDIR/l.sock out=$BATS_TEST_TMPDIR/got
	# Ten 60000-byte datagrams wait in the relay while nobody reads stdout.
	bg sh -c "'$SOCKPAIR' listen -q -u -U '$sock' | (sleep 1; head -c 600000) >'$out'"
	wait_for_socket "$sock"
	peers dgram-send "$sock" 10 60000
	wait_for_size "$out" 600000
	run -0 python3 -c '
import itertools, sys
data = open(sys.argv[1], "rb").read()
print(" ".join("%s%d" % (chr(k), len(list(g))) for k, g in itertools.groupby(data)))' "$out"
	assert_output "A60000 B60000 C60000 D60000 E60000 F60000 G60000 H60000 I60000 J60000"
}

@test "relay: a regular file on stdin open only for writing fails as stdin's, in sendfile(2)" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	bg "$SOCKPAIR" listen -q -U "$sock" </dev/null >/dev/null
	wait_for_socket "$sock"
	echo data >"$BATS_TEST_TMPDIR/file"
	run --separate-stderr timeout 10 "$SOCKPAIR" --trace connect -q -U "$sock" 0>>"$BATS_TEST_TMPDIR/file" 3>&-
	assert_failure 1
	assert_equal "${stderr_lines[-1]}" "sockpair: connect: sendfile(stdin): Bad file descriptor"
	[[ "$stderr" == *"sendfile("*") = -1 EBADF"* ]] || fail "no failed sendfile in: $stderr"
}

@test "relay: a UNIX datagram larger than the 256 KiB sockpair takes is an error, never cut" {
	local sock=$BATS_TEST_TMPDIR/l.sock
	bg "$SOCKPAIR" listen -q -u -U "$sock" </dev/null >"$BATS_TEST_TMPDIR/got" 2>"$BATS_TEST_TMPDIR/err"
	local pid=$BG_LAST
	wait_for_socket "$sock"
	peers dgram-send "$sock" 1 300000
	wait_exit "$pid"
	assert_equal "$BG_STATUS" 1
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" \
		"sockpair: listen: recvfrom($sock): a message of 300000 bytes, more than the 262144 sockpair takes"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/got")" 0
}

@test "relay: a peer that hangs up while the relay's buffer is full still has its last bytes on stdout" {
	# A read of 0 bytes into a full buffer once looked like the peer's end,
	# and the bytes still queued in the socket were lost.
	run -0 peers hangup-when-full "$SOCKPAIR"
	[[ "$output" =~ ^got\ ([0-9]+)\ of\ ([0-9]+)$ ]] || fail "$output"
	assert_equal "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
}
