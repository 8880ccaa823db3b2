#!/usr/bin/env bats
# talkback: the manual's simple TCP server, with real telnet (driven by
# expect), nc and hostile clients of our own.

load helpers

teardown() {
	kill_bg
}

WELCOME=$'\nWelcome to the sockpair talkback server.\nTo quit, type \'quit\'. To shut down the server type \'shutdown\'.\n'

@test "talkback: announces the port and greets with exactly the welcome" {
	start_talkback
	run -0 bash -c "printf 'quit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT | od -An -c"
	assert_output "$(printf '%s' "$WELCOME" | od -An -c)"
}

@test "talkback: defaults to 127.0.0.1:10000 and announces it" {
	# Only if 10000 is free here; the default is what the manual uses.
	if ss -Hltn 'sport = :10000' | grep -q .; then skip "port 10000 is in use"; fi
	bg "$SOCKPAIR" talkback </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err"
	wait_for_line "$BATS_TEST_TMPDIR/err" '^listening on '
	assert_equal "$(head -1 "$BATS_TEST_TMPDIR/err")" "listening on 127.0.0.1:10000"
}

@test "talkback: the manual's session through real telnet, then shutdown exits 0" {
	command -v telnet >/dev/null && command -v expect >/dev/null || fail "telnet and expect are needed (make deps-test)"
	start_talkback
	run -0 timeout 20 expect -c "
		set timeout 5
		log_user 0
		proc step {what} { puts \"step: \$what\" }
		spawn telnet 127.0.0.1 $TB_PORT
		expect \"Welcome to the sockpair talkback server.\" { step welcome } timeout { exit 1 }
		expect \"To quit, type 'quit'. To shut down the server type 'shutdown'.\" { step instructions } timeout { exit 1 }
		send \"hello\\r\"
		expect \"sockpair: You said 'hello'.\" { step reply } timeout { exit 2 }
		send \"\\r\"
		send \"  spaced\\t\\r\"
		expect \"sockpair: You said 'spaced'.\" { step trimmed } timeout { exit 3 }
		send \"quit\\r\"
		expect \"Connection closed by foreign host.\" { step quit } timeout { exit 4 }
		spawn telnet 127.0.0.1 $TB_PORT
		expect \"type 'shutdown'.\" { step reconnect } timeout { exit 5 }
		send \"shutdown\\r\"
		expect \"Connection closed by foreign host.\" { step shutdown } timeout { exit 6 }
	"
	assert_output "step: welcome
step: instructions
step: reply
step: trimmed
step: quit
step: reconnect
step: shutdown"
	wait_exit "$TB_PID"
	assert_equal "$BG_STATUS" 0
	# The empty line got no reply and no echo: two lines said, two echoed.
	assert_equal "$(cat "$BATS_TEST_TMPDIR/talkback.out")" "hello
spaced"
}

@test "talkback: two telnet sessions interleaved are each answered" {
	start_talkback
	run -0 timeout 20 expect -c "
		set timeout 5
		log_user 0
		spawn telnet 127.0.0.1 $TB_PORT
		set a \$spawn_id
		expect -i \$a \"type 'shutdown'.\"
		spawn telnet 127.0.0.1 $TB_PORT
		set b \$spawn_id
		expect -i \$b \"type 'shutdown'.\"
		send -i \$a \"from a\\r\"
		send -i \$b \"from b\\r\"
		expect -i \$b \"You said 'from b'.\" { puts b1 } timeout { exit 1 }
		expect -i \$a \"You said 'from a'.\" { puts a1 } timeout { exit 2 }
		send -i \$b \"again b\\r\"
		expect -i \$b \"You said 'again b'.\" { puts b2 } timeout { exit 3 }
		send -i \$a \"quit\\r\"
		expect -i \$a \"closed by foreign host.\" { puts aq } timeout { exit 4 }
		send -i \$b \"still here\\r\"
		expect -i \$b \"You said 'still here'.\" { puts b3 } timeout { exit 5 }
	"
	assert_output "b1
a1
b2
aq
b3"
}

@test "talkback: \\n-only and \\r\\n lines each get one reply" {
	start_talkback
	run -0 bash -c "printf 'one\ntwo\r\nthree\r\n\r\nquit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT"
	assert_output "${WELCOME}sockpair: You said 'one'.
sockpair: You said 'two'.
sockpair: You said 'three'."
}

@test "talkback: a lone \\r ends a read, as PHP_NORMAL_READ does" {
	start_talkback
	run -0 bash -c "printf 'a\rb\nquit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT"
	assert_output "${WELCOME}sockpair: You said 'a'.
sockpair: You said 'b'."
}

@test "talkback: trims PHP's set, spaces tabs NUL and vertical tab, keeps inner bytes" {
	start_talkback
	run -0 bash -c "printf ' \t\v\0in\0ner \t\0\nquit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT | od -An -c"
	assert_output "$(printf "%ssockpair: You said 'in\0ner'.\n" "$WELCOME" | od -An -c)"
	wait_for_line "$BATS_TEST_TMPDIR/talkback.out" 'ner$'	# stdout is written in batches
	run -0 od -An -c "$BATS_TEST_TMPDIR/talkback.out"
	assert_output "$(printf 'in\0ner\n' | od -An -c)"
}

@test "talkback: a 5000-byte line comes back in 2048-byte pieces, the server lives" {
	start_talkback
	head -c 5000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/long"
	{ cat "$BATS_TEST_TMPDIR/long"; printf '\nquit\n'; } |
		timeout 5 nc -N 127.0.0.1 "$TB_PORT" >"$BATS_TEST_TMPDIR/got"
	run -0 awk 'NR > 3 { print length($0) }' "$BATS_TEST_TMPDIR/got"
	# "sockpair: You said '" is 20 bytes, "'." 2: pieces of 2048, 2048, 904.
	assert_output "2070
2070
926"
	run -0 bash -c "printf 'alive?\nquit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT | tail -1"
	assert_output "sockpair: You said 'alive?'."
}

@test "talkback: --max-line sets the piece size" {
	start_talkback --max-line 4
	run -0 bash -c "printf 'abcdefghij\nquit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT | tail -3"
	assert_output "sockpair: You said 'abcd'.
sockpair: You said 'efgh'.
sockpair: You said 'ij'."
}

@test "talkback: pieces split across reads are joined" {
	# Each part is sent only once the server's trace shows it read the last.
	start_talkback --trace
	open_fifo
	bg sh -c "exec nc -N 127.0.0.1 $TB_PORT <'$FIFO' >'$BATS_TEST_TMPDIR/client'"
	local client=$BG_LAST
	printf 'hel' >&7
	wait_for_line "$BATS_TEST_TMPDIR/talkback.err" '^read\([0-9]+, "hel", [0-9]+\) = 3$'
	printf 'lo wor' >&7
	wait_for_line "$BATS_TEST_TMPDIR/talkback.err" '^read\([0-9]+, "lo wor", [0-9]+\) = 6$'
	printf 'ld\nquit\n' >&7
	exec 7>&-
	wait_exit "$client"
	assert_equal "$(tail -1 "$BATS_TEST_TMPDIR/client")" "sockpair: You said 'hello world'."
}

@test "talkback: stdout gets its lines within moments, while the client stays" {
	start_talkback
	bg sh -c "{ printf 'soon\n'; sleep 20; } | nc 127.0.0.1 $TB_PORT >/dev/null"
	# No end of turn, no exit: the batch timer alone must write it.
	wait_for_line "$BATS_TEST_TMPDIR/talkback.out" '^soon$'
}

@test "talkback: one line per reply on stdout, connection events on stderr" {
	start_talkback
	printf 'first\nsecond\nquit\n' | timeout 5 nc -N 127.0.0.1 "$TB_PORT" >/dev/null
	wait_for_line "$BATS_TEST_TMPDIR/talkback.err" 'closed .* \(quit\)$'
	wait_for_line "$BATS_TEST_TMPDIR/talkback.out" '^second$'	# written in batches
	assert_equal "$(cat "$BATS_TEST_TMPDIR/talkback.out")" "first
second"
	run -0 grep -E '^(connection from|closed) ' "$BATS_TEST_TMPDIR/talkback.err"
	assert_line --index 0 --regexp '^connection from 127\.0\.0\.1:[0-9]+$'
	assert_line --index 1 --regexp '^closed 127\.0\.0\.1:[0-9]+ \(quit\)$'
}

@test "talkback: -q silences the announcement and connection events" {
	bg "$SOCKPAIR" talkback -q -p 0 </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	local pid=$BG_LAST port
	port=$(tcp_port_of "$BG_CHILD") || fail "no listening port found"
	run -0 bash -c "printf 'quiet\nquit\n' | timeout 5 nc -N 127.0.0.1 $port | tail -1"
	assert_output "sockpair: You said 'quiet'."
	kill -TERM "$BG_CHILD"
	wait_exit "$pid"
	assert_equal "$BG_STATUS" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ""
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" "quiet"
}

@test "talkback: SIGTERM and SIGINT close every client and exit 0" {
	local sig
	for sig in TERM INT; do
		start_talkback
		bg sh -c "sleep 20 | nc 127.0.0.1 $TB_PORT >'$BATS_TEST_TMPDIR/c1'"
		bg sh -c "sleep 20 | nc 127.0.0.1 $TB_PORT >'$BATS_TEST_TMPDIR/c2'"
		local c2=$BG_LAST
		wait_for_line "$BATS_TEST_TMPDIR/c2" "type 'shutdown'"
		wait_for_line "$BATS_TEST_TMPDIR/c1" "type 'shutdown'"
		kill -"$sig" "$TB_SP"
		wait_exit "$TB_PID"
		assert_equal "$BG_STATUS" 0
		assert_equal "$(grep -c '(server shutting down)' "$BATS_TEST_TMPDIR/talkback.err")" 2
		kill_bg
	done
}

@test "talkback: shutdown from one client closes the others too" {
	start_talkback
	bg sh -c "sleep 20 | nc 127.0.0.1 $TB_PORT >'$BATS_TEST_TMPDIR/other'"
	local other=$BG_LAST
	wait_for_line "$BATS_TEST_TMPDIR/other" "type 'shutdown'"
	printf 'shutdown\n' | timeout 5 nc -N 127.0.0.1 "$TB_PORT" >/dev/null
	wait_exit "$TB_PID"
	assert_equal "$BG_STATUS" 0
	grep -q '(server shutting down)' "$BATS_TEST_TMPDIR/talkback.err"
}

@test "talkback: past --max-clients a client gets 'Server busy.' and the server goes on" {
	start_talkback --max-clients 2
	bg sh -c "sleep 20 | nc 127.0.0.1 $TB_PORT >'$BATS_TEST_TMPDIR/a'"
	bg sh -c "sleep 20 | nc 127.0.0.1 $TB_PORT >'$BATS_TEST_TMPDIR/b'"
	wait_for_line "$BATS_TEST_TMPDIR/a" "type 'shutdown'"
	wait_for_line "$BATS_TEST_TMPDIR/b" "type 'shutdown'"
	run -0 bash -c "timeout 5 nc 127.0.0.1 $TB_PORT </dev/null"
	assert_output "Server busy."
	grep -Eq '^refused 127\.0\.0\.1:[0-9]+ \(server busy\)$' "$BATS_TEST_TMPDIR/talkback.err"
	kill_bg
	start_talkback --max-clients 2
	run -0 bash -c "printf 'after\nquit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT | tail -1"
	assert_output "sockpair: You said 'after'."
}

@test "talkback: --idle-timeout closes a silent client, not a talking one" {
	start_talkback --idle-timeout 0.5
	bg sh -c "sleep 20 | nc 127.0.0.1 $TB_PORT >/dev/null"
	# The talker speaks every 0.1 s, well within the timeout, until the
	# silent client has been closed as idle; then once more, and quits.
	run -0 timeout 10 python3 "$BATS_TEST_DIRNAME/lib/peers.py" ticker "$TB_PORT" \
		"$BATS_TEST_TMPDIR/talkback.err"
	[ "$output" -ge 2 ] || fail "$output"
	assert_equal "$(grep -c '(idle)$' "$BATS_TEST_TMPDIR/talkback.err")" 1
}

@test "talkback: a port in use is exit 4 with the strerror line" {
	start_talkback
	run --separate-stderr sp talkback -p "$TB_PORT"
	assert_failure 4
	assert_equal "$stderr" "sockpair: talkback: bind(127.0.0.1:$TB_PORT): Address already in use"
}

@test "talkback: a privileged port without privilege is 'Permission denied', exit 4" {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is needed to drop privilege"
	# Capabilities dropped, so the bind is the unprivileged one, whoever runs the suite.
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all timeout 5 "$SOCKPAIR" talkback -p 80 </dev/null
	assert_failure 4
	assert_equal "$stderr" "sockpair: talkback: bind(127.0.0.1:80): Permission denied"
}

@test "talkback: bad option values are usage errors" {
	run --separate-stderr sp talkback -p 70000
	assert_usage_error "sockpair: talkback: invalid port '70000' (0 to 65535; 0 picks a free one)"
	run --separate-stderr sp talkback --max-clients 0
	assert_usage_error "sockpair: talkback: invalid --max-clients '0' (1 to 1000000)"
	run --separate-stderr sp talkback --max-line x
	assert_usage_error "sockpair: talkback: invalid --max-line 'x' (1 to 1048576 bytes)"
	run --separate-stderr sp talkback --idle-timeout -1
	assert_usage_error "sockpair: talkback: invalid --idle-timeout '-1' (seconds, above 0 and at most 86400)"
	run --separate-stderr sp talkback stray
	assert_usage_error "sockpair: talkback: unexpected argument 'stray'"
}

# Descriptors the server holds now.
fd_count() {
	ls "/proc/$1/fd" | wc -l
}

fd_count_is() { [ "$(fd_count "$1")" -eq "$2" ]; }

# At least N clients' "closed" lines in talkback's stderr.
closed_at_least() { [ "$(grep -c '^closed ' "$BATS_TEST_TMPDIR/talkback.err")" -ge "$1" ]; }

HOSTILE=$BATS_TEST_DIRNAME/lib/hostile.py

hostile() {
	timeout 30 python3 "$HOSTILE" "$@"
}

@test "talkback: hostile clients never hold up a normal one; descriptors come back" {
	start_talkback -q
	local base
	base=$(fd_count "$TB_SP")
	bg python3 "$HOSTILE" flood "$TB_PORT" 8
	local flooder=$BG_LAST
	bg python3 "$HOSTILE" drip "$TB_PORT" 6
	local dripper=$BG_LAST
	bg python3 "$HOSTILE" reset "$TB_PORT" 1000
	local resetter=$BG_LAST
	# A normal client talks all the while and gets every answer promptly.
	run -0 hostile normal "$TB_PORT" 100
	[ "$output" -lt 1000 ] || fail "slowest round trip ${output} ms"
	wait_exit "$resetter"
	wait_exit "$flooder"
	wait_exit "$dripper"
	# Every descriptor the clients took is given back.
	poll_until fd_count_is "$TB_SP" "$base" || true
	assert_equal "$(fd_count "$TB_SP")" "$base"
	kill -0 "$TB_SP"
}

@test "talkback: a client that floods and never reads is dropped past 1 MiB" {
	start_talkback
	run -0 hostile flood "$TB_PORT" 15
	assert_output "dropped"
	grep -Eq '^closed 127\.0\.0\.1:[0-9]+ \(not reading: output queue over 1 MiB\)$' \
		"$BATS_TEST_TMPDIR/talkback.err" || fail "$(tail -3 "$BATS_TEST_TMPDIR/talkback.err")"
	run -0 bash -c "printf 'next\nquit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT | tail -1"
	assert_output "sockpair: You said 'next'."
}

@test "talkback: 1000 clients connecting at once all get in" {
	start_talkback -q --max-clients 1100
	run -0 timeout 60 python3 -c "
import socket
socks = [socket.create_connection(('127.0.0.1', $TB_PORT), timeout=10) for _ in range(1000)]
welcomed = 0
for s in socks:
    data = b''
    while not data.endswith(b\"type 'shutdown'.\\n\"):
        more = s.recv(4096)
        if not more:
            break
        data += more
    welcomed += data.endswith(b\"type 'shutdown'.\\n\")
print(welcomed)"
	assert_output 1000
}

@test "talkback: a full descriptor table does not stop or spin the server" {
	# With a limit of 24 descriptors the table fills long before --max-clients.
	local err=$BATS_TEST_TMPDIR/talkback.err
	bg sh -c "ulimit -n 24 && exec '$SOCKPAIR' talkback -p 0 --max-clients 1000" </dev/null \
		>/dev/null 2>"$err"
	TB_PID=$BG_LAST
	wait_for_line "$err" '^listening on '
	TB_PORT=$(announced_port "$err")
	local pid
	pid=$(pgrep -f "talkback -p 0 --max-clients 1000" | head -1)
	# 40 clients held open against a table of 24: the server must not spin.
	bg python3 -c "
import socket, time
socks = []
for _ in range(40):
    try:
        socks.append(socket.create_connection(('127.0.0.1', $TB_PORT), timeout=2))
    except OSError:
        pass
print(len(socks), flush=True)
time.sleep(20)" >"$BATS_TEST_TMPDIR/holders"
	local holders=$BG_CHILD
	wait_for_line "$BATS_TEST_TMPDIR/holders" '^[0-9]+$'
	assert_cpu_below "$pid" 50
	kill "$holders"
	grep -q 'descriptor limit 24' "$err"
	run -0 bash -c "printf 'still here\nquit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT | tail -1"
	assert_output "sockpair: You said 'still here'."
}

@test "talkback: a stdout nobody reads slows the talkers, never the server" {
	# The fifo is held open (fd 7) but never read: stdout fills up.
	open_fifo
	TB_OUT=$FIFO start_talkback
	run -0 peers talker "$TB_PORT" 2
	[[ "$output" =~ ^"sent "([0-9]+)" lines, "([0-9]+)" answered"$ ]] || fail "$output"
	[ "${BASH_REMATCH[2]}" -lt "${BASH_REMATCH[1]}" ] || fail "no flow control: $output"
	# New clients are still welcomed, and waiting costs nothing.
	run -0 peers welcome "$TB_PORT"
	assert_output "To quit, type 'quit'. To shut down the server type 'shutdown'."
	assert_cpu_below "$TB_SP" 20
	# SIGTERM still ends it; the lines stdout could not take are an error.
	kill -TERM "$TB_SP"
	wait_exit "$TB_PID"
	assert_equal "$BG_STATUS" 1
	grep -Eq '^sockpair: talkback: write\(stdout, [0-9]+ bytes unwritten\): Resource temporarily unavailable$' \
		"$BATS_TEST_TMPDIR/talkback.err" || fail "$(tail -3 "$BATS_TEST_TMPDIR/talkback.err")"
}

@test "talkback: a stdout that fails makes the exit 1, and the server goes on" {
	TB_OUT=/dev/full start_talkback
	run -0 bash -c "printf 'one\ntwo\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT | tail -1"
	assert_output "sockpair: You said 'two'."
	run -0 bash -c "printf 'three\nshutdown\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT | tail -1"
	wait_exit "$TB_PID"
	assert_equal "$BG_STATUS" 1
	assert_equal "$(grep -c '^sockpair: talkback: write(stdout): No space left on device$' \
		"$BATS_TEST_TMPDIR/talkback.err")" 1
}

@test "talkback: memory held for dropped flooders goes back to the system" {
	[ -z "${SOCKPAIR_SANITIZED:-}" ] || skip "the sanitizer's allocator keeps freed memory"
	start_talkback --max-clients 500
	local before after
	before=$(awk '/^VmRSS/ { print $2 }' "/proc/$TB_SP/status")
	run -0 peers flooders "$TB_PORT" 200
	assert_output "200 dropped"
	TRIES=200 wait_until "not every flooder was closed" closed_at_least 200
	after=$(awk '/^VmRSS/ { print $2 }' "/proc/$TB_SP/status")
	[ $((after - before)) -lt 6144 ] ||
		fail "RSS grew from $before to $after KiB with no client left"
}

@test "talkback: what a client said is on stdout before its reply comes" {
	start_talkback
	run -0 timeout 10 python3 "$BATS_TEST_DIRNAME/lib/peers.py" said-first "$TB_PORT" \
		"$BATS_TEST_TMPDIR/talkback.out" 50
	assert_output "ok"
}
