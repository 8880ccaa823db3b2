#!/usr/bin/env bats
# Delivery: every byte a peer sent reaches stdout as it arrives, before a
# reset ends the relay, and while the peer waits for an answer; the
# peer's end ends connect as it ends listen; a descriptor passed to
# listen --attach keeps its flags.  Real TCP peers (tests/lib/peers.py),
# stdout a pipe and a regular file.

load helpers

teardown() {
	kill_bg
}

PEERS=$BATS_TEST_DIRNAME/lib/peers.py

# The bytes the peers send: byte k is k % 251.
pattern() {
	python3 -c 'import sys; n = int(sys.argv[1]); sys.stdout.buffer.write(bytes(k % 251 for k in range(n)))' "$1"
}

# A peers.py client of listen (MODE ARGS... PORT), in the background.
start_client_peer() {
	: >"$BATS_TEST_TMPDIR/peer.out"
	bg python3 "$PEERS" "$@" </dev/null >"$BATS_TEST_TMPDIR/peer.out"
	PEER_PID=$BG_LAST
}

# ---- a reset after data ------------------------------------------------------

# Copies stdin to stdout once the peer has said "reset" (and SECONDS more,
# a reader slower still): until then what sockpair writes waits in the
# pipe, and in sockpair.
after_reset() {
	TRIES=200 poll_until grep -q '^reset$' "$BATS_TEST_TMPDIR/peer.out"
	[ -z "${1:-}" ] || sleep "$1"
	cat
}

# sockpair connect to a server that sends 256 KiB, waits, then resets;
# $1: "pipe" (read only after the reset) or "file".  Sets STATUS, and
# OUT, ERR.
connect_to_resetting_server() {
	OUT=$BATS_TEST_TMPDIR/out ERR=$BATS_TEST_TMPDIR/err
	start_peer send-wait-reset 262144 0.3
	if [ "$1" = pipe ]; then
		printf 'hi\n' | timeout 10 "$SOCKPAIR" connect 127.0.0.1 "$PEER_PORT" 2>"$ERR" 3>&- |
			after_reset >"$OUT"
		STATUS=${PIPESTATUS[1]}
	else
		STATUS=0
		printf 'hi\n' | timeout 10 "$SOCKPAIR" connect 127.0.0.1 "$PEER_PORT" >"$OUT" 2>"$ERR" 3>&- ||
			STATUS=$?
	fi
}

assert_all_then_reset() {
	assert_equal "$STATUS" 1
	cmp "$OUT" <(pattern 262144) || fail "stdout holds $(stat -c %s "$OUT") of 262144 bytes"
	run -0 tail -1 "$ERR"
	assert_output --regexp "^sockpair: $1: [a-z]+\(127\.0\.0\.1:[0-9]+\): Connection reset by peer\$"
}

@test "delivery: connect writes all it received before a reset to a slow pipe, then fails" {
	connect_to_resetting_server pipe
	assert_all_then_reset connect
}

@test "delivery: -w is the peer's idle time: a pipe slower than it still gets all, then the reset" {
	OUT=$BATS_TEST_TMPDIR/out ERR=$BATS_TEST_TMPDIR/err
	start_peer send-wait-reset 262144 0.3
	# The reader starts 1.5 s after the reset, with -w 0.5: the bytes wait
	# for stdout three timeouts long, and are not dropped when one passes.
	# With -x the bytes go through our buffer and poll(), where a timer runs.
	printf 'hi\n' | timeout 10 "$SOCKPAIR" -x connect -w 0.5 127.0.0.1 "$PEER_PORT" 2>"$ERR" 3>&- |
		after_reset 1.5 >"$OUT"
	STATUS=${PIPESTATUS[1]}
	assert_all_then_reset connect
}

@test "delivery: connect writes all it received before a reset to a file, then fails" {
	connect_to_resetting_server file
	assert_all_then_reset connect
}

@test "delivery: connect -x writes all it received before a reset, then fails" {
	OUT=$BATS_TEST_TMPDIR/out ERR=$BATS_TEST_TMPDIR/err
	start_peer send-wait-reset 262144 0.3
	STATUS=0
	printf 'hi\n' | timeout 10 "$SOCKPAIR" -x connect 127.0.0.1 "$PEER_PORT" >"$OUT" 2>"$ERR" 3>&- ||
		STATUS=$?
	assert_all_then_reset connect
}

@test "delivery: listen writes all it received before a reset to a slow pipe, then fails" {
	OUT=$BATS_TEST_TMPDIR/out ERR=$BATS_TEST_TMPDIR/listen.err
	: >"$ERR"
	export -f after_reset
	bg bash -c 'set -o pipefail; "$0" listen </dev/null 2>"$1" | after_reset >"$2"' \
		"$SOCKPAIR" "$ERR" "$OUT"
	local pid=$BG_LAST
	wait_for_line "$ERR" '^listening on '
	start_client_peer send-wait-reset 262144 0.3 "$(announced_port "$ERR")"
	wait_exit "$pid"
	STATUS=$BG_STATUS
	assert_all_then_reset listen
}

# ---- a peer that sends, then waits for an answer ----------------------------

# The peer sends 300000 bytes in three pieces and waits until they are all
# in the file sockpair's stdout goes to: it says how many it found there.
assert_delivered_while_waiting() {
	wait_exit "$PEER_PID"
	assert_equal "$(tail -1 "$BATS_TEST_TMPDIR/peer.out")" "out held 300000 while the sender waited"
	cmp "$BATS_TEST_TMPDIR/out" <(pattern 300000)
}

@test "delivery: connect's stdout, a file, has what the peer sent while the peer waits" {
	start_peer send-and-wait --after-eof 300000 "$BATS_TEST_TMPDIR/out"
	timeout 20 "$SOCKPAIR" -q connect 127.0.0.1 "$PEER_PORT" </dev/null >"$BATS_TEST_TMPDIR/out" 3>&-
	assert_delivered_while_waiting
}

@test "delivery: connect's stdout, a pipe, has what the peer sent while the peer waits" {
	start_peer send-and-wait --after-eof 300000 "$BATS_TEST_TMPDIR/out"
	timeout 20 "$SOCKPAIR" -q connect 127.0.0.1 "$PEER_PORT" </dev/null 3>&- | cat >"$BATS_TEST_TMPDIR/out"
	assert_delivered_while_waiting
}

@test "delivery: connect with stdin open delivers while the peer waits" {
	open_fifo
	start_peer send-and-wait 300000 "$BATS_TEST_TMPDIR/out"
	bg "$SOCKPAIR" -q connect 127.0.0.1 "$PEER_PORT" <"$FIFO" >"$BATS_TEST_TMPDIR/out"
	local pid=$BG_LAST
	assert_delivered_while_waiting
	wait_exit "$pid"
	assert_equal "$BG_STATUS" 0
}

@test "delivery: listen's stdout, a file and a pipe, has what the client sent while it waits" {
	local err=$BATS_TEST_TMPDIR/listen.err
	start_listen
	start_client_peer send-and-wait --after-eof 300000 "$BATS_TEST_TMPDIR/listen.out" "$LISTEN_PORT"
	wait_exit "$PEER_PID"
	assert_equal "$(tail -1 "$BATS_TEST_TMPDIR/peer.out")" "listen.out held 300000 while the sender waited"
	wait_exit "$LISTEN_PID"
	: >"$err"
	bg sh -c '"$0" listen </dev/null 2>"$1" | cat >"$2"' "$SOCKPAIR" "$err" "$BATS_TEST_TMPDIR/out"
	wait_for_line "$err" '^listening on '
	start_client_peer send-and-wait --after-eof 300000 "$BATS_TEST_TMPDIR/out" "$(announced_port "$err")"
	assert_delivered_while_waiting
}

# ---- the peer's end ends connect ------------------------------------------------

@test "delivery: connect ends once the peer has closed, though stdin stays open" {
	open_fifo
	start_peer half-close-then-read
	# The peer's "bye" and end come; stdin stays open (the test holds the
	# FIFO), and nothing is written to it: connect is over all the same,
	# as nc and telnet are.
	run -0 --separate-stderr timeout 10 "$SOCKPAIR" connect 127.0.0.1 "$PEER_PORT" <"$FIFO" 3>&- 7>&-
	assert_output "bye"
	wait_exit "$PEER_PID"
	assert_equal "$(tail -1 "$BATS_TEST_TMPDIR/peer.out")" "read 0"
}

@test "delivery: connect sends what stdin holds when the peer ends, then ends" {
	start_peer half-close-then-read
	open_fifo
	printf 'held\n' >&7
	run -0 --separate-stderr timeout 10 "$SOCKPAIR" connect 127.0.0.1 "$PEER_PORT" <"$FIFO" 3>&- 7>&-
	assert_output "bye"
	wait_exit "$PEER_PID"
	assert_equal "$(tail -1 "$BATS_TEST_TMPDIR/peer.out")" "read 5"
}

# ---- listen --attach leaves the passed descriptor's flags alone -------------------

# listen --attach takes a descriptor of KIND from tests/lib/fdpass.py,
# relays it ("ping" reaches stdout), and is killed with SIGKILL; the
# sender then reads the flags of the description it shares.
attach_and_kill() {
	local kind=$1 t=$BATS_TEST_TMPDIR
	open_fifo
	LISTEN_IN=$FIFO start_listen -U "$t/s" --attach
	bg python3 "$BATS_TEST_DIRNAME/lib/fdpass.py" flags "$t/s" "$kind" "$t/done" >"$t/flags.out"
	local sender=$BG_LAST
	wait_for_line "$t/listen.out" '^ping$'
	kill -KILL "$LISTEN_SP"
	wait_exit "$LISTEN_PID"
	touch "$t/done"
	wait_exit "$sender"
	assert_equal "$(cat "$t/flags.out")" "flags: blocking"
}

@test "delivery: listen --attach killed leaves a passed socket blocking" {
	attach_and_kill socket
}

@test "delivery: listen --attach killed leaves a passed pipe blocking" {
	attach_and_kill pipe
}

@test "delivery: listen --attach killed leaves a passed pty blocking" {
	attach_and_kill pty
}
