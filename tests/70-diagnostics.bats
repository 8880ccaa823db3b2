#!/usr/bin/env bats
# -x (every chunk as xxd lines), --stats (each connection's summary and the
# kernel's view) and SIGUSR1, checked by rebuilding the bytes with xxd -r
# and against peers that send and receive known amounts.

load helpers

teardown() {
	kill_bg
}

# The bytes of one direction of a dump: "> " sent, "< " received.
rebuild() {
	local mark=$1 file=$2
	grep "^$mark " "$file" | cut -c3- | xxd -r
}

# The sum of the byte counts in a dump's headers for one direction.
header_total() {
	local word=$1 file=$2
	awk -v w="$word" '$1 == "--" { for (i = 2; i <= NF; i++) if ($i == w) t += $(i + 1) }
		END { print t + 0 }' "$file"
}

@test "diagnostics: pair -x shows the message once each way, as xxd does" {
	run -0 --separate-stderr sp -x pair
	assert_output 'string(10) "ABCdef123
"'
	assert_equal "${#stderr_lines[@]}" 4
	[[ "${stderr_lines[0]}" =~ ^"-- sent 10 bytes at +0."[0-9]{6}" s"$ ]] || fail "${stderr_lines[0]}"
	assert_equal "${stderr_lines[1]}" "> 00000000: 4142 4364 6566 3132 330a                 ABCdef123."
	[[ "${stderr_lines[2]}" =~ ^"-- received 10 bytes at +0."[0-9]{6}" s"$ ]] || fail "${stderr_lines[2]}"
	assert_equal "${stderr_lines[3]}" "< 00000000: 4142 4364 6566 3132 330a                 ABCdef123."
	# The data line is exactly xxd's own.
	assert_equal "$(printf 'ABCdef123\n' | xxd)" "${stderr_lines[1]#> }"
}

@test "diagnostics: -x on both sides of TCP rebuilds 256 KiB each way with xxd -r" {
	local t=$BATS_TEST_TMPDIR
	head -c 256K /dev/urandom >"$t/up"
	head -c 256K /dev/urandom >"$t/down"
	LISTEN_IN=$t/down start_listen -x
	timeout 20 "$SOCKPAIR" -x connect 127.0.0.1 "$LISTEN_PORT" <"$t/up" >"$t/got-down" \
		2>"$t/connect.err" || fail "connect failed: $(tail -3 "$t/connect.err")"
	check_both_ways
}

@test "diagnostics: -x over a UNIX path and an abstract name rebuilds both ways" {
	local t=$BATS_TEST_TMPDIR
	head -c 256K /dev/urandom >"$t/up"
	head -c 256K /dev/urandom >"$t/down"
	for where in "$t/s.sock" "@sockpair-x-$$-$BATS_TEST_NUMBER"; do
		LISTEN_IN=$t/down start_listen -x -U "$where"
		timeout 20 "$SOCKPAIR" -x connect -U "$where" <"$t/up" >"$t/got-down" \
			2>"$t/connect.err" || fail "connect failed: $(tail -3 "$t/connect.err")"
		check_both_ways
	done
}

# After a -x transfer of $t/up (connect -> listen) and $t/down (back).
check_both_ways() {
	local t=$BATS_TEST_TMPDIR
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	assert_equal "$(sha256sum <"$t/got-down")" "$(sha256sum <"$t/down")"
	assert_equal "$(sha256sum <"$t/listen.out")" "$(sha256sum <"$t/up")"
	assert_equal "$(rebuild '>' "$t/connect.err" | sha256sum)" "$(sha256sum <"$t/up")"
	assert_equal "$(rebuild '<' "$t/connect.err" | sha256sum)" "$(sha256sum <"$t/down")"
	assert_equal "$(rebuild '>' "$t/listen.err" | sha256sum)" "$(sha256sum <"$t/down")"
	assert_equal "$(rebuild '<' "$t/listen.err" | sha256sum)" "$(sha256sum <"$t/up")"
	assert_equal "$(header_total sent "$t/connect.err")" 262144
	assert_equal "$(header_total received "$t/connect.err")" 262144
	assert_equal "$(header_total sent "$t/listen.err")" 262144
	assert_equal "$(header_total received "$t/listen.err")" 262144
}

@test "diagnostics: talkback -x names its clients; fork-echo -x marks the child's chunks" {
	start_talkback -x
	run -0 bash -c "printf 'abc\nquit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT"
	wait_for_line "$BATS_TEST_TMPDIR/talkback.err" '^closed '
	grep -Eq '^-- 127\.0\.0\.1:[0-9]+ received 9 bytes at \+[0-9.]+ s$' "$BATS_TEST_TMPDIR/talkback.err" ||
		fail "$(cat "$BATS_TEST_TMPDIR/talkback.err")"
	grep -Eq '^-- 127\.0\.0\.1:[0-9]+ sent 26 bytes at' "$BATS_TEST_TMPDIR/talkback.err" ||
		fail "$(cat "$BATS_TEST_TMPDIR/talkback.err")"
	run -0 --separate-stderr sp -x fork-echo
	local child
	child=$(printf '%s\n' "${stderr_lines[@]}" | sed -n 's/^-- \[pid \([0-9]*\)\] sent 19 bytes.*/\1/p')
	[ -n "$child" ] || fail "no child chunk: $stderr"
	assert_equal "$(printf '%s\n' "${stderr_lines[@]}" | grep -c '^-- \[pid ')" 2
}

@test "diagnostics: --stats counts exact bytes and calls, closed by peer, rtt for TCP" {
	# The peer sends 3000 bytes, then reads our 10 and closes.
	head -c 3000 /dev/zero >"$BATS_TEST_TMPDIR/server.in"
	NC_IN=$BATS_TEST_TMPDIR/server.in start_nc_server -N
	open_fifo
	printf 'ten bytes\n' >&7
	# The peer's 3000 bytes and its end arrive while our input stays open:
	# the ten bytes stdin holds go out, and the relay is over.
	timeout 10 "$SOCKPAIR" --stats connect -q 127.0.0.1 "$NC_PORT" <"$FIFO" >"$BATS_TEST_TMPDIR/got" \
		2>"$BATS_TEST_TMPDIR/err" 3>&- 7>&-
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/got")" 3000
	run -0 cat "$BATS_TEST_TMPDIR/err"
	assert_line --index 0 --regexp "^stats: 127\\.0\\.0\\.1:$NC_PORT [0-9.]+ s, sent 10 bytes in 1 write, received 3000 bytes in [0-9]+ reads?, closed by peer$"
	assert_line --index 1 --regexp '^tcp: rtt:[0-9.]+/[0-9.]+ cwnd:[0-9]+ retrans:[0-9]+/[0-9]+ pmtu:[0-9]+ bytes_acked:[0-9]+ bytes_received:3001 delivery_rate:[0-9]+bps$'
}

@test "diagnostics: --stats says closed by us, and reset by peer" {
	start_nc_server
	run -0 --separate-stderr sp --stats connect -q -w 0.5 127.0.0.1 "$NC_PORT" <<<"bye"
	[[ "${stderr_lines[0]}" =~ ", closed by us"$ ]] || fail "$stderr"
	# A peer that reads 1 MiB and resets.
	head -c 16M /dev/zero >"$BATS_TEST_TMPDIR/zeros"
	start_peer reset-after 1048576
	run -1 --separate-stderr sp --stats connect -q 127.0.0.1 "$PEER_PORT" <"$BATS_TEST_TMPDIR/zeros"
	printf '%s\n' "${stderr_lines[@]}" | grep -Eq '^stats: .*, reset by peer$' || fail "$stderr"
}

@test "diagnostics: --stats over a UNIX socket gives the peer's pid and the queues" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	start_listen --stats -U "$sock"
	run -0 --separate-stderr sp connect -q -U "$sock" <<<"hello"
	wait_exit "$LISTEN_PID"
	run -0 grep -E '^unix: peer pid [0-9]+ uid [0-9]+ gid [0-9]+, inq [0-9]+, outq [0-9]+$' \
		"$BATS_TEST_TMPDIR/listen.err"
	grep -Eq '^stats: \(unnamed\) [0-9.]+ s, sent 0 bytes in 0 writes, received 6 bytes in [0-9]+ reads?, closed by ' \
		"$BATS_TEST_TMPDIR/listen.err" || fail "$(cat "$BATS_TEST_TMPDIR/listen.err")"
}

@test "diagnostics: talkback --stats has a line per client and the totals at exit" {
	start_talkback --stats
	for n in 1 2 3; do
		run -0 bash -c "printf 'line $n\nquit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT"
	done
	kill -TERM "$TB_SP"
	wait_exit "$TB_PID"
	assert_equal "$BG_STATUS" 0
	assert_equal "$(grep -c '^stats: 127\.0\.0\.1:' "$BATS_TEST_TMPDIR/talkback.err")" 3
	run -0 grep '^stats: talkback ' "$BATS_TEST_TMPDIR/talkback.err"
	# Each: the welcome (105) and "sockpair: You said 'line N'." (29) out,
	# "line N\nquit\n" (12) in.
	assert_output "stats: talkback served 3 clients, 3 lines, sent 402 bytes, received 36 bytes, at most 1 at once"
}

@test "diagnostics: SIGUSR1 in the middle of a 1 GiB transfer prints a line, loses nothing" {
	# listen's stdout is a fifo nobody reads yet: the transfer cannot end
	# before SIGUSR1 has been answered.
	truncate -s 1G "$BATS_TEST_TMPDIR/big"
	open_fifo
	LISTEN_OUT=$FIFO start_listen
	: >"$BATS_TEST_TMPDIR/connect.err"
	bg "$SOCKPAIR" connect 127.0.0.1 "$LISTEN_PORT" <"$BATS_TEST_TMPDIR/big" \
		2>"$BATS_TEST_TMPDIR/connect.err"
	local connect=$BG_LAST sp=$BG_CHILD
	wait_for_line "$BATS_TEST_TMPDIR/connect.err" '^connected to '
	kill -USR1 "$sp"
	wait_for_line "$BATS_TEST_TMPDIR/connect.err" ', open$'
	grep -Eq "^stats: 127\\.0\\.0\\.1:$LISTEN_PORT [0-9.]+ s, sent [0-9]+ bytes in [0-9]+ writes?, received 0 bytes in [0-9]+ reads?, open$" \
		"$BATS_TEST_TMPDIR/connect.err" || fail "$(cat "$BATS_TEST_TMPDIR/connect.err")"
	bg sh -c "sha256sum <'$FIFO' >'$BATS_TEST_TMPDIR/got.sum'"
	local reader=$BG_LAST
	exec 7>&-
	wait_exit "$connect"
	assert_equal "$BG_STATUS" 0
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	wait_exit "$reader"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got.sum")" "$(sha256sum <"$BATS_TEST_TMPDIR/big")"
}

@test "diagnostics: SIGUSR1 while listen waits for a client is answered then, by nothing" {
	start_listen
	kill -USR1 "$LISTEN_SP"
	# Delivered: no longer pending (SigPnd/ShdPnd hold it as bit 10).
	local tries=100 pending
	usr1_pending() {
		pending=$(awk '/^(SigPnd|ShdPnd):/ { print "0x" $2 }' "/proc/$LISTEN_SP/status")
		for mask in $pending; do
			(( mask & 512 )) && return 0
		done
		return 1
	}
	while usr1_pending && [ "$tries" -gt 0 ]; do
		sleep 0.02
		tries=$((tries - 1))
	done
	usr1_pending && fail "SIGUSR1 still pending"
	printf 'later\n' | timeout 10 "$SOCKPAIR" connect -q 127.0.0.1 "$LISTEN_PORT" 3>&-
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	run -1 grep -c '^stats: ' "$BATS_TEST_TMPDIR/listen.err"
	assert_output 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/listen.out")" "later"
}

@test "diagnostics: --stats with no connection prints nothing more; -x on a terminal is fine" {
	local port
	start_refused_port
	port=$REFUSED_PORT
	run -4 --separate-stderr sp --stats -x connect 127.0.0.1 "$port"
	assert_equal "$stderr" "sockpair: connect: connect(127.0.0.1:$port): Connection refused"
	run -1 --separate-stderr sp --stats pair -d inet
	assert_equal "$stderr" "sockpair: pair: socketpair(AF_INET, SOCK_STREAM, 0): Operation not supported"
	# stdout and stderr on one terminal: the dump and the data both show.
	tmux_start "'$SOCKPAIR' -x pair; echo exit=\$?; sleep 30"
	tmux_wait_for '^exit=0$'
	tmux_screen | grep -q '^> 00000000: 4142 4364 6566 3132 330a' || fail "$(tmux_screen)"
	tmux_stop
}

@test "diagnostics: a forked writer's -x chunks and JSON lines never land inside the parent's" {
	# pair --size: the writer child and the reading parent share stderr, a
	# pipe here, which keeps only 4 KiB writes whole.
	sp -x pair --size 1M 2>&1 >/dev/null | cat >"$BATS_TEST_TMPDIR/x"
	run -0 awk '/^-- / { head = $0; next }
		head ~ / sent / && !/^> / { bad++ } head ~ / received / && !/^< / { bad++ }
		END { print bad + 0 }' "$BATS_TEST_TMPDIR/x"
	assert_output 0
	run -0 grep -c '^-- \[pid [0-9]*\] sent ' "$BATS_TEST_TMPDIR/x"
	assert_output 1
	for i in 1 2 3 4 5; do
		sp --json -x pair --size 20K 2>&1 >/dev/null | cat >"$BATS_TEST_TMPDIR/j"
		jq -e . "$BATS_TEST_TMPDIR/j" >/dev/null || fail "not JSON lines: $(cut -c1-200 "$BATS_TEST_TMPDIR/j")"
	done
}

@test "diagnostics: listen -u --stats names the sender it heard, not (unnamed)" {
	start_listen -u --stats
	printf 'hi\n' | timeout 10 "$SOCKPAIR" connect -q -u -w 1 127.0.0.1 "$LISTEN_PORT" 3>&-
	wait_for_line "$BATS_TEST_TMPDIR/listen.err" '^connection from '
	local sender
	sender=$(sed -n 's/^connection from //p' "$BATS_TEST_TMPDIR/listen.err")
	kill -TERM "$LISTEN_SP"
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	run -0 grep '^stats: ' "$BATS_TEST_TMPDIR/listen.err"
	assert_output --regexp "^stats: $sender [0-9.]+ s, sent 0 bytes in 0 writes, received 3 bytes in 1 read, "
}
