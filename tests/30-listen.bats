#!/usr/bin/env bats
# listen: socket_create_listen() as a netcat-style listener, tested with
# nc (netcat-openbsd) and socat as its clients.

load helpers

teardown() {
	kill_bg
}

out() { cat "$BATS_TEST_TMPDIR/listen.out"; }
err() { cat "$BATS_TEST_TMPDIR/listen.err"; }

@test "listen: announces the real port it got for -p 0, on loopback" {
	start_listen
	[[ "$LISTEN_ADDR" =~ ^127\.0\.0\.1:[0-9]+$ ]] || fail "announced '$LISTEN_ADDR'"
	[ "$LISTEN_PORT" -gt 0 ]
	ss -Hltn "sport = :$LISTEN_PORT" | grep -q "127.0.0.1:$LISTEN_PORT"
}

@test "listen: relays an nc client both ways and exits 0 when it leaves" {
	printf 'to the client\n' >"$BATS_TEST_TMPDIR/in"
	LISTEN_IN=$BATS_TEST_TMPDIR/in start_listen
	run -0 timeout 5 nc -N 127.0.0.1 "$LISTEN_PORT" <<<"to the listener"
	assert_output "to the client"
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	assert_equal "$(out)" "to the listener"
	[[ "$(err)" =~ connection\ from\ 127\.0\.0\.1:[0-9]+ ]] || fail "no connection line: $(err)"
}

@test "listen: relays a socat client" {
	printf 'hello socat\n' >"$BATS_TEST_TMPDIR/in"
	LISTEN_IN=$BATS_TEST_TMPDIR/in start_listen
	run -0 timeout 5 socat -t 5 - "TCP:127.0.0.1:$LISTEN_PORT" <<<"hello listener"
	assert_output "hello socat"
	wait_exit "$LISTEN_PID"
	assert_equal "$(out)" "hello listener"
}

@test "listen: -6 listens on [::1] and announces it so" {
	start_listen -6
	[[ "$LISTEN_ADDR" =~ ^\[::1\]:[0-9]+$ ]] || fail "announced '$LISTEN_ADDR'"
	run -0 timeout 5 nc -N -6 ::1 "$LISTEN_PORT" <<<"over ipv6"
	wait_exit "$LISTEN_PID"
	assert_equal "$(out)" "over ipv6"
}

@test "listen: -a binds the address given, [::1] literals too" {
	start_listen -a '[::1]'
	[[ "$LISTEN_ADDR" =~ ^\[::1\]:[0-9]+$ ]] || fail "announced '$LISTEN_ADDR'"
	kill_bg
	start_listen -4 -a localhost
	[[ "$LISTEN_ADDR" =~ ^127\.0\.0\.1:[0-9]+$ ]] || fail "announced '$LISTEN_ADDR'"
}

@test "listen: without -k a second client is refused once the first is in" {
	open_fifo
	LISTEN_IN=$FIFO start_listen
	bg nc 127.0.0.1 "$LISTEN_PORT" </dev/null >/dev/null
	wait_for_line "$BATS_TEST_TMPDIR/listen.err" '^connection from '
	run timeout 5 nc -z 127.0.0.1 "$LISTEN_PORT"
	assert_failure 1
	exec 7>&-
}

@test "listen: -k serves one client after another, and SIGTERM ends it with 0" {
	start_listen -k
	timeout 5 nc -N 127.0.0.1 "$LISTEN_PORT" <<<"first" >/dev/null
	timeout 5 nc -N 127.0.0.1 "$LISTEN_PORT" <<<"second" >/dev/null
	timeout 5 socat -t 5 - "TCP:127.0.0.1:$LISTEN_PORT" <<<"third" >/dev/null
	wait_for_line "$BATS_TEST_TMPDIR/listen.out" '^third$'
	kill -TERM "$LISTEN_SP"
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	assert_equal "$(out)" "first
second
third"
	assert_equal "$(grep -c '^connection from ' "$BATS_TEST_TMPDIR/listen.err")" 3
}

@test "listen: the client's EOF ends the connection once what stdin holds is sent" {
	# As nc -l: what stdin holds when the client is done goes out; what
	# has not arrived yet (the fifo stays open, idle) is not waited for.
	open_fifo
	printf 'ready answer\n' >&7
	LISTEN_IN=$FIFO start_listen
	run -0 timeout 5 nc -N 127.0.0.1 "$LISTEN_PORT" <<<"question"
	assert_output "ready answer"
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	assert_equal "$(out)" "question"
	grep -qx "closed 127.0.0.1:[0-9]*" "$BATS_TEST_TMPDIR/listen.err" ||
		fail "no 'closed' line: $(cat "$BATS_TEST_TMPDIR/listen.err")"
}

@test "listen -k: an idle stdin held open still serves client after client" {
	# sleep 1000 | sockpair listen -k: each client's EOF ends its turn.
	open_fifo
	LISTEN_IN=$FIFO start_listen -k
	for round in 1 2 3; do
		run -0 timeout 5 nc -N 127.0.0.1 "$LISTEN_PORT" <<<"client $round"
	done
	wait_for_line "$BATS_TEST_TMPDIR/listen.out" '^client 3$'
	assert_equal "$(out)" "client 1
client 2
client 3"
	assert_equal "$(grep -c '^closed 127.0.0.1:' "$BATS_TEST_TMPDIR/listen.err")" 3
}

@test "listen: a client's data arrives even when our stdin ended first" {
	# Our half-close goes out before the client writes: it must still be heard.
	for round in 1 2 3 4 5; do
		start_listen
		run -0 timeout 5 "$SOCKPAIR" connect 127.0.0.1 "$LISTEN_PORT" <<<"payload $round"
		wait_exit "$LISTEN_PID"
		assert_equal "$(out)" "payload $round"
	done
}

@test "listen: 64 MiB each way at once, checked with sha256sum" {
	head -c 64M /dev/urandom >"$BATS_TEST_TMPDIR/down"
	head -c 64M /dev/urandom >"$BATS_TEST_TMPDIR/up"
	LISTEN_IN=$BATS_TEST_TMPDIR/down start_listen
	timeout 30 nc -N 127.0.0.1 "$LISTEN_PORT" <"$BATS_TEST_TMPDIR/up" >"$BATS_TEST_TMPDIR/client.out"
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/listen.out")" "$(sha256sum <"$BATS_TEST_TMPDIR/up")"
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/client.out")" "$(sha256sum <"$BATS_TEST_TMPDIR/down")"
}

@test "listen: -u prints each datagram and answers the last sender" {
	open_fifo
	LISTEN_IN=$FIFO start_listen -u
	printf 'one\ntwo\n' | timeout 5 nc -u -w 1 127.0.0.1 "$LISTEN_PORT"
	wait_for_line "$BATS_TEST_TMPDIR/listen.out" '^two$'
	# A second sender: the answer goes to it, not to the first.
	printf 'from socat\n' >"$BATS_TEST_TMPDIR/socat.msg"
	timeout 5 socat -t 3 - "UDP:127.0.0.1:$LISTEN_PORT" <"$BATS_TEST_TMPDIR/socat.msg" \
		>"$BATS_TEST_TMPDIR/second.out" &
	local second=$!
	wait_for_line "$BATS_TEST_TMPDIR/listen.out" '^from socat$'
	printf 'answer\n' >&7
	wait "$second" || true
	exec 7>&-
	assert_equal "$(cat "$BATS_TEST_TMPDIR/second.out")" "answer"
	assert_equal "$(grep -c '^connection from 127.0.0.1:' "$BATS_TEST_TMPDIR/listen.err")" 2
	kill -INT "$LISTEN_SP"
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
}

@test "listen: -U PATH serves a UNIX client and removes the socket at exit" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	start_listen -U "$sock"
	assert_equal "$LISTEN_ADDR" "$sock"
	[ -S "$sock" ]
	run -0 timeout 5 nc -N -U "$sock" <<<"over a path"
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	assert_equal "$(out)" "over a path"
	[ ! -e "$sock" ] || fail "socket file left behind"
	[[ "$(err)" =~ connection\ from\ \(unnamed\)\ \(pid\ [0-9]+,\ uid\ [0-9]+,\ gid\ [0-9]+\) ]]
}

@test "listen: -U binds under the name given, as ss -xl and /proc/net/unix show it" {
	local sock=$BATS_TEST_TMPDIR/named.sock
	start_listen -U "$sock"
	run -0 ss -Hxlp
	assert_line --regexp "^u_str +LISTEN .* $sock .*pid=$LISTEN_SP,"
	grep -q " $sock\$" /proc/net/unix || fail "$sock not in /proc/net/unix"
	kill "$LISTEN_SP"
	wait_exit "$LISTEN_PID"
	# A relative name stays relative, as socat's does.
	cd "$BATS_TEST_TMPDIR"
	start_listen -U rel.sock
	run -0 ss -Hxlp
	assert_line --regexp "^u_str +LISTEN .* rel\.sock .*pid=$LISTEN_SP,"
}

@test "listen: -U @NAME listens in the abstract namespace" {
	local name=@sockpair-test-$$-$BATS_TEST_NUMBER
	start_listen -U "$name"
	assert_equal "$LISTEN_ADDR" "$name"
	run -0 timeout 5 socat -t 5 - "ABSTRACT-CONNECT:${name#@}" <<<"abstract"
	wait_exit "$LISTEN_PID"
	assert_equal "$(out)" "abstract"
}

@test "listen: -U -u receives UNIX datagrams and answers the sender" {
	local sock=$BATS_TEST_TMPDIR/d.sock
	open_fifo
	LISTEN_IN=$FIFO start_listen -U "$sock" -u
	bg sh -c "(printf 'unix dgram\n'; sleep 3) | '$SOCKPAIR' connect -u -U '$sock' >'$BATS_TEST_TMPDIR/client.out' 2>/dev/null"
	wait_for_line "$BATS_TEST_TMPDIR/listen.out" '^unix dgram$'
	printf 'back\n' >&7
	wait_for_line "$BATS_TEST_TMPDIR/client.out" '^back$'
	exec 7>&-
}

@test "listen: SIGINT or SIGTERM while waiting removes the socket file, exit 0" {
	local sock=$BATS_TEST_TMPDIR/s.sock sig
	for sig in INT TERM; do
		start_listen -U "$sock"
		[ -S "$sock" ]
		kill -"$sig" "$LISTEN_SP"
		wait_exit "$LISTEN_PID"
		assert_equal "$BG_STATUS" 0
		[ ! -e "$sock" ] || fail "socket file left behind after SIG$sig"
	done
}

@test "listen: SIGTERM in the middle of a relay ends it cleanly, exit 0" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	start_listen -U "$sock"
	bg sh -c "sleep 20 | nc -U '$sock'"
	wait_for_line "$BATS_TEST_TMPDIR/listen.err" '^connection from '
	kill -TERM "$LISTEN_SP"
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	[ ! -e "$sock" ]
}

@test "listen: a stale socket file is replaced" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	start_listen -U "$sock"
	kill -9 "$LISTEN_SP"
	wait_exit "$LISTEN_PID"
	[ -S "$sock" ] || fail "no stale socket to test with"
	start_listen -U "$sock"
	run -0 timeout 5 nc -N -U "$sock" <<<"after the stale one"
	wait_exit "$LISTEN_PID"
	assert_equal "$(out)" "after the stale one"
}

@test "listen: a live socket is an error, exit 4, and keeps working" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	start_listen -U "$sock"
	run --separate-stderr sp listen -U "$sock"
	assert_failure 4
	assert_equal "$stderr" "sockpair: listen: bind($sock): Address already in use"
	run -0 timeout 5 nc -N -U "$sock" <<<"still alive"
	wait_exit "$LISTEN_PID"
	assert_equal "$(out)" "still alive"
}

# socat serving on a UNIX path in the background; waits for the file.
start_socat_unix() {
	local sock=$1
	shift
	bg "$@" socat UNIX-LISTEN:"$sock",fork SYSTEM:'echo alive' </dev/null >/dev/null 2>&1
	SOCAT_PID=$BG_LAST
	wait_for_socket "$sock"
}

@test "listen: a live socket under any spelling is refused, exit 4, file untouched" {
	local dir=$BATS_TEST_TMPDIR sock=$BATS_TEST_TMPDIR/live.sock inode
	start_socat_unix "$sock"
	inode=$(stat -c %i "$sock")
	mkdir "$dir/sub"
	ln -s "$dir" "$dir/link"
	for spelling in "$dir//live.sock" "$dir/sub/../live.sock" "$dir/link/live.sock" \
			"$dir/./live.sock"; do
		run --separate-stderr sp listen -U "$spelling"
		assert_failure 4
		assert_equal "$stderr" "sockpair: listen: bind($spelling): Address already in use"
	done
	run --separate-stderr sh -c 'cd "$1" && shift && exec "$@"' sh "$dir" \
		timeout 5 "$SOCKPAIR" listen -U live.sock
	assert_failure 4
	assert_equal "$(stat -c %i "$sock")" "$inode"
	run -0 timeout 5 nc -U "$sock" </dev/null
	assert_output "alive"
}

@test "listen: a socket live in another network namespace is refused" {
	unshare -n true 2>/dev/null || skip "no network namespaces here"
	local sock=$BATS_TEST_TMPDIR/other-ns.sock inode
	# Not in this namespace's /proc/net/unix, and live all the same.
	start_socat_unix "$sock" unshare -n
	inode=$(stat -c %i "$sock")
	run --separate-stderr sp listen -U "$sock"
	assert_failure 4
	assert_equal "$(stat -c %i "$sock")" "$inode"
	run -0 timeout 5 nc -U "$sock" </dev/null
	assert_output "alive"
}

@test "listen: a directory swapped for a symlink before the removal removes nothing" {
	# The fault library holds sockpair at the moment it has judged the file
	# stale and is about to remove it; then d becomes a symlink to victim,
	# where a file of the same name must survive.
	build_faults
	local base=$BATS_TEST_TMPDIR
	mkdir "$base/d" "$base/victim" "$base/hold"
	mkfifo "$base/hold/reached" "$base/hold/go"
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$base/d/s.sock"
	echo precious >"$base/victim/s.sock"
	: >"$base/listen.err"
	bg env LD_PRELOAD="$FAULTS_SO" SP_FAULT_HOLD_REMOVAL="$base/hold" \
		"$SOCKPAIR" listen -U "$base/d/s.sock" </dev/null >/dev/null 2>"$base/listen.err"
	LISTEN_PID=$BG_LAST
	run -0 timeout 5 cat "$base/hold/reached"
	mv "$base/d" "$base/d.old"
	ln -s victim "$base/d"
	run -0 timeout 5 sh -c 'echo go >"$1"' sh "$base/hold/go"
	wait_for_line "$base/listen.err" '^listening on '
	assert_equal "$(cat "$base/victim/s.sock")" "precious"
	# The new socket is in the directory that was opened, now d.old.
	[ -S "$base/d.old/s.sock" ] || fail "no socket in the opened directory"
}

@test "listen: a UNIX client's name is shown escaped, never raw" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	start_listen -U "$sock"
	run -0 timeout 5 python3 "$BATS_TEST_DIRNAME/lib/peers.py" unix-named-client "$sock" \
		'x\nlistening on forged\x1b[2J'
	wait_exit "$LISTEN_PID"
	assert_equal "$(grep -c '^listening on ' "$BATS_TEST_TMPDIR/listen.err")" 1
	grep -qF 'connection from @x\nlistening on forged\x1b[2J' "$BATS_TEST_TMPDIR/listen.err" ||
		fail "name not escaped: $(cat -v "$BATS_TEST_TMPDIR/listen.err")"
	if grep -q $'\x1b' "$BATS_TEST_TMPDIR/listen.err"; then
		fail "a raw escape reached stderr"
	fi
}

@test "listen: a slow client costs no CPU while stdin waits to go out" {
	head -c 256M /dev/zero >"$BATS_TEST_TMPDIR/zeros"
	LISTEN_IN=$BATS_TEST_TMPDIR/zeros start_listen
	bg python3 "$BATS_TEST_DIRNAME/lib/peers.py" slow-client "$LISTEN_PORT" 3 \
		>"$BATS_TEST_TMPDIR/client.out"
	wait_for_line "$BATS_TEST_TMPDIR/client.out" '^connected$'
	assert_cpu_below "$LISTEN_SP" 20
}

@test "listen: -U on a file that is not a socket fails, exit 4, file intact" {
	local file=$BATS_TEST_TMPDIR/precious
	printf 'precious data\n' >"$file"
	run --separate-stderr sp listen -U "$file"
	assert_failure 4
	assert_equal "$stderr" "sockpair: listen: bind($file): Address already in use"
	assert_equal "$(cat "$file")" "precious data"
	[ -f "$file" ] && [ ! -S "$file" ]
}

@test "listen: a port in use is an error, exit 4" {
	start_listen
	run --separate-stderr sp listen -p "$LISTEN_PORT"
	assert_failure 4
	assert_equal "$stderr" "sockpair: listen: bind(127.0.0.1:$LISTEN_PORT): Address already in use"
	assert_equal "$output" ""
}

@test "listen: --trace shows the listener's calls" {
	start_listen --trace
	run -0 timeout 5 nc -N 127.0.0.1 "$LISTEN_PORT" </dev/null
	wait_exit "$LISTEN_PID"
	run -0 grep -E '^(socket|setsockopt|bind|listen|accept4)\(' "$BATS_TEST_TMPDIR/listen.err"
	assert_line --index 0 "socket(AF_INET, SOCK_STREAM, 0) = 3"
	assert_line --index 1 "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1]) = 0"
	assert_line --index 2 "bind(3, 127.0.0.1:0) = 0"
	assert_line --index 3 "listen(3, 4096) = 0"
	assert_line --index 4 --regexp '^accept4\(3, 127\.0\.0\.1:[0-9]+\) = 4$'
}

@test "listen: bad ports, backlogs and option mixes are usage errors" {
	run --separate-stderr sp listen -p 70000
	assert_usage_error "sockpair: listen: invalid port '70000' (0 to 65535; 0 picks a free one)"
	run --separate-stderr sp listen -p 12abc
	assert_usage_error "sockpair: listen: invalid port '12abc' (0 to 65535; 0 picks a free one)"
	run -3 --separate-stderr sp listen -p nosuchservice
	assert_equal "$stderr" "sockpair: listen: getservbyname(nosuchservice): Servname not supported for ai_socktype"
	run --separate-stderr sp listen --port=-1
	assert_usage_error "sockpair: listen: invalid port '-1' (0 to 65535; 0 picks a free one)"
	run --separate-stderr sp listen -b x
	assert_usage_error "sockpair: listen: invalid backlog 'x'"
	run --separate-stderr sp listen -4 -6
	assert_usage_error "sockpair: listen: -4 and -6 cannot be combined"
	run --separate-stderr sp listen -U /tmp/x -p 5
	assert_usage_error "sockpair: listen: -U listens on a UNIX socket; -p, -a, -4 and -6 do not apply"
	run --separate-stderr sp listen -p 0 1
	assert_usage_error "sockpair: listen: unexpected argument '1' (-p gave the port already)"
	run --separate-stderr sp listen -U /tmp/x 80
	assert_usage_error "sockpair: listen: -U listens on a UNIX socket; a PORT does not apply"
	run --separate-stderr sp listen 1 2
	assert_usage_error "sockpair: listen: unexpected argument '2'"
	run --separate-stderr sp listen -U "/tmp/$(printf 'x%.0s' {1..120})"
	[ "$status" -eq 2 ]
}

@test "listen: a PORT standing alone is -p PORT, as nc -l 8080 takes it" {
	local port
	port=$(free_port)
	start_listen -a 127.0.0.1 "$port"
	assert_equal "$LISTEN_PORT" "$port"
	printf 'by the port alone\n' | timeout 10 nc -N 127.0.0.1 "$port"
	wait_exit "$LISTEN_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/listen.out")" "by the port alone"
	run --separate-stderr sp listen nosuchservice
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "sockpair: listen: getservbyname(nosuchservice): Servname not supported for ai_socktype"
}

@test "listen: socat as the client over a UNIX path and over IPv6" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	printf 'to socat\n' >"$BATS_TEST_TMPDIR/in"
	LISTEN_IN=$BATS_TEST_TMPDIR/in start_listen -U "$sock"
	run -0 timeout 5 socat -t 5 - "UNIX-CONNECT:$sock" <<<"unix via socat"
	assert_output "to socat"
	wait_exit "$LISTEN_PID"
	assert_equal "$(out)" "unix via socat"
	LISTEN_IN=$BATS_TEST_TMPDIR/in start_listen -6
	run -0 timeout 5 socat -t 5 - "TCP6:[::1]:$LISTEN_PORT" <<<"ipv6 via socat"
	assert_output "to socat"
	wait_exit "$LISTEN_PID"
	assert_equal "$(out)" "ipv6 via socat"
}

@test "listen: -b sets listen()'s backlog" {
	start_listen -b 7 --trace
	grep -qx 'listen(3, 7) = 0' "$BATS_TEST_TMPDIR/listen.err" || fail "$(err)"
}

@test "listen: on a terminal, input is typed with the line editor, the peer's output above it" {
	tmux_start "bash --norc --noprofile"
	tmux_send "PS1='$ '; export XDG_STATE_HOME='$BATS_TEST_TMPDIR/state'" Enter
	tmux_send "'$SOCKPAIR' listen; echo \"exit=\$?\"" Enter
	tmux_wait_for '^listening on 127\.0\.0\.1:[0-9]+$'
	local port
	port=$(tmux_screen | sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -1)
	bg python3 "$BATS_TEST_DIRNAME/lib/peers.py" ask "$port" "from the client" \
		"$BATS_TEST_TMPDIR/client.got"
	tmux_wait_for '^from the client$'
	tmux_wait_for '^> ?$'
	tmux_send 'answr' Left 'e' Enter
	wait_for_line "$BATS_TEST_TMPDIR/client.got" '^answer$'
	tmux_wait_for "^closed 127\\.0\\.0\\.1:[0-9]+\$"
	tmux_wait_for '^exit=0$'
	tmux_stop
}

@test "listen: on a terminal, the prompt goes with the client: no stray '> ' line" {
	tmux_start "bash --norc --noprofile"
	tmux_send "PS1='$ '; export XDG_STATE_HOME='$BATS_TEST_TMPDIR/state'" Enter
	tmux_send "'$SOCKPAIR' listen; echo \"exit=\$?\"" Enter
	tmux_wait_for '^listening on 127\.0\.0\.1:[0-9]+$'
	local port
	port=$(tmux_screen | sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -1)
	run -0 timeout 5 bash -c "printf 'bye\n' | nc -N 127.0.0.1 $port"
	tmux_wait_for '^exit=0$'
	# The event, then straight the shell's next line.
	run -0 bash -c "tmux -S '$TMUX_SOCKET' capture-pane -p -t test | grep -A1 -E '^closed 127'"
	assert_line --index 1 'exit=0'
	tmux_stop
}

@test "listen: on a terminal, an event after data without its newline starts a line of its own" {
	tmux_start "bash --norc --noprofile"
	tmux_send "PS1='$ '" Enter
	tmux_send "'$SOCKPAIR' listen </dev/null; echo \"exit=\$?\"" Enter
	tmux_wait_for '^listening on 127\.0\.0\.1:[0-9]+$'
	local port
	port=$(tmux_screen | sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -1)
	run -0 timeout 5 bash -c "printf 'no newline' | nc -N 127.0.0.1 $port"
	tmux_wait_for '^exit=0$'
	tmux_screen | grep -q '^no newline$' || fail "glued: $(tmux_screen)"
	tmux_screen | grep -qE '^closed 127\.0\.0\.1:[0-9]+$' || fail "$(tmux_screen)"
	tmux_stop
}
