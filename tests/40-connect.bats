#!/usr/bin/env bats
# connect: socket_connect() as a telnet-like client, tested with nc
# (netcat-openbsd) and socat as its servers.

load helpers

teardown() {
	tmux_stop
	kill_bg
}

@test "connect: relays to an nc server both ways and exits 0 when it closes" {
	printf 'from the server\n' >"$BATS_TEST_TMPDIR/server.in"
	NC_IN=$BATS_TEST_TMPDIR/server.in start_nc_server -N
	run --separate-stderr sp connect 127.0.0.1 "$NC_PORT" <<<"from the client"
	assert_success
	assert_output "from the server"
	assert_equal "$stderr" "connected to 127.0.0.1:$NC_PORT"
	wait_exit "$NC_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/nc.out")" "from the client"
}

@test "connect: half-closes at end of input; the server's later reply arrives" {
	# socat runs a program that answers only after our end of file.
	start_socat_tcp_server -t 5 TCP-LISTEN:0,bind=127.0.0.1 \
		SYSTEM:'n=$(wc -l); echo "got $n lines"'
	run -0 --separate-stderr sp connect 127.0.0.1 "$SOCAT_PORT" <<<$'one\ntwo\nthree'
	assert_output "got 3 lines"
}

@test "connect: sends all input though the server half-closed first" {
	# nc -N with empty stdin shuts down its side at once, then reads.
	start_nc_server -N
	run -0 --separate-stderr sp connect 127.0.0.1 "$NC_PORT" <<<"still delivered"
	assert_output ""
	wait_exit "$NC_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/nc.out")" "still delivered"
}

@test "connect: 64 MiB each way with an nc server, checked with sha256sum" {
	head -c 64M /dev/urandom >"$BATS_TEST_TMPDIR/up"
	head -c 64M /dev/urandom >"$BATS_TEST_TMPDIR/down"
	NC_IN=$BATS_TEST_TMPDIR/down start_nc_server -N
	SP_TIMEOUT=30 sp connect -q 127.0.0.1 "$NC_PORT" <"$BATS_TEST_TMPDIR/up" >"$BATS_TEST_TMPDIR/got"
	wait_exit "$NC_PID"
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/got")" "$(sha256sum <"$BATS_TEST_TMPDIR/down")"
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/nc.out")" "$(sha256sum <"$BATS_TEST_TMPDIR/up")"
}

@test "connect: IPv6, as [::1] or with -6" {
	NC_IN=/dev/null start_nc_server -N -6
	run -0 sp connect '[::1]' "$NC_PORT" <<<"v6 literal"
	wait_exit "$NC_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/nc.out")" "v6 literal"
	start_socat_tcp_server -t 5 'TCP6-LISTEN:0,bind=[::1]' SYSTEM:'cat'
	run --separate-stderr sp connect -6 ::1 "$SOCAT_PORT" <<<"echoed"
	assert_success
	assert_output "echoed"
	assert_equal "$stderr" "connected to [::1]:$SOCAT_PORT"
}

@test "connect: -U PATH and -U @NAME reach UNIX servers" {
	local sock=$BATS_TEST_TMPDIR/s.sock name=sockpair-test-$$-$BATS_TEST_NUMBER
	bg socat -t 5 "UNIX-LISTEN:$sock" SYSTEM:'tr a-z A-Z'
	wait_for_socket "$sock"
	run --separate-stderr sp connect -U "$sock" <<<"path"
	assert_success
	assert_output "PATH"
	assert_equal "$stderr" "connected to $sock"
	bg socat -t 5 "ABSTRACT-LISTEN:$name" SYSTEM:'tr a-z A-Z'
	wait_for_abstract "$name"
	run -0 --separate-stderr sp connect -U "@$name" <<<"abstract"
	assert_output "ABSTRACT"
}

@test "connect: -u sends each line as a datagram; -w ends the exchange, exit 0" {
	start_nc_server -u
	run -0 sp connect -u -w 1 127.0.0.1 "$NC_PORT" <<<$'first\nsecond'
	wait_for_line "$BATS_TEST_TMPDIR/nc.out" '^second$'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/nc.out")" "first
second"
}

@test "connect: -u prints the server's datagrams" {
	bg socat -T 5 UDP-RECVFROM:0,bind=127.0.0.1 SYSTEM:'read l; echo "echo: $l"'
	local port
	port=$(udp_port_of "$BG_CHILD") || fail "socat bound no UDP port"
	run -0 --separate-stderr sp connect -u -w 1 127.0.0.1 "$port" <<<"ping"
	assert_output "echo: ping"
}

@test "connect: -u to a closed UDP port is refused, exit 4" {
	local port
	port=$(free_port)
	run --separate-stderr sp connect -u -w 2 127.0.0.1 "$port" <<<"anyone?"
	assert_failure 4
	assert_equal "$stderr" "connected to 127.0.0.1:$port
sockpair: connect: recvfrom(127.0.0.1:$port): Connection refused"
}

@test "connect: --crlf sends line ends as \\r\\n, leaving \\r\\n alone" {
	start_nc_server -N
	run -0 sp connect --crlf 127.0.0.1 "$NC_PORT" < <(printf 'a\nb\r\nc\n')
	wait_exit "$NC_PID"
	run -0 od -An -c "$BATS_TEST_TMPDIR/nc.out"
	assert_output "$(printf 'a\r\nb\r\nc\r\n' | od -An -c)"
}

@test "connect: a refused connection is exit 4 with the SPEC line" {
	local port
	start_refused_port
	port=$REFUSED_PORT
	run --separate-stderr sp connect 127.0.0.1 "$port" </dev/null
	assert_failure 4
	assert_equal "$output" ""
	assert_equal "$stderr" "sockpair: connect: connect(127.0.0.1:$port): Connection refused"
	run --separate-stderr sp connect --trace 127.0.0.1 "$port" </dev/null
	assert_failure 4
	[[ "$stderr" == *"connect(3, 127.0.0.1:$port) = -1 ECONNREFUSED (Connection refused)"* ]] ||
		fail "trace lacks the refused connect: $stderr"
}

@test "connect: an unknown host is exit 3, gai_strerror's reason" {
	RES_OPTIONS="timeout:1 attempts:1" run --separate-stderr sp connect nonexistent.invalid 80 </dev/null
	assert_failure 3
	[[ "$stderr" =~ ^sockpair:\ connect:\ getaddrinfo\(nonexistent\.invalid,\ 80\):\ [A-Z].+$ ]] ||
		fail "unexpected error line: $stderr"
}

@test "connect: tries every address of a name before failing" {
	# A private /etc/hosts: ::1 first (refused), then 127.0.0.1 (listening).
	unshare -m true 2>/dev/null || skip "no mount namespace for a private /etc/hosts"
	printf '::1 two.sockpair.test\n127.0.0.1 two.sockpair.test\n' >"$BATS_TEST_TMPDIR/hosts"
	start_listen -4
	run --separate-stderr unshare -m sh -c "mount --bind '$BATS_TEST_TMPDIR/hosts' /etc/hosts &&
		exec timeout 5 '$SOCKPAIR' --trace connect two.sockpair.test $LISTEN_PORT </dev/null 3>&-"
	assert_success
	[[ "$stderr" == *"connect(3, [::1]:$LISTEN_PORT) = -1 ECONNREFUSED (Connection refused)"* ]] ||
		fail "no refused attempt on ::1 first: $stderr"
	[[ "$stderr" == *"connect(3, 127.0.0.1:$LISTEN_PORT) = 0"* ]] || fail "no second attempt: $stderr"
	[[ "$stderr" == *"connected to 127.0.0.1:$LISTEN_PORT"* ]]
}

@test "connect: -w against a listener that never accepts times out, exit 5" {
	start_peer never-accepts
	local port=$PEER_PORT
	run --separate-stderr sp connect -w 0.5 127.0.0.1 "$port" </dev/null
	assert_failure 5
	assert_equal "$stderr" "sockpair: connect: connect(127.0.0.1:$port): Connection timed out"
}

@test "connect: -w against a silent peer times out, exit 5" {
	open_fifo
	start_nc_server
	run --separate-stderr sp connect -w 0.5 127.0.0.1 "$NC_PORT" <"$FIFO"
	assert_failure 5
	assert_equal "${stderr_lines[1]}" "sockpair: connect: read(127.0.0.1:$NC_PORT): Connection timed out"
	exec 7>&-
}

@test "connect: -w is an idle timeout: a peer that keeps talking is not cut" {
	start_socat_tcp_server -t 5 TCP-LISTEN:0,bind=127.0.0.1 \
		SYSTEM:'for n in 1 2 3 4 5 6; do echo tick $n; sleep 0.2; done'
	open_fifo
	# Our input never ends: once the peer is done, the idle timeout is the end.
	run -0 --separate-stderr sp connect -w 0.6 127.0.0.1 "$SOCAT_PORT" <"$FIFO"
	assert_line --index 5 "tick 6"
	exec 7>&-
}

@test "connect: bad ports are usage errors" {
	run --separate-stderr sp connect 127.0.0.1 70000
	assert_usage_error "sockpair: connect: invalid port '70000' (1 to 65535)"
	run --separate-stderr sp connect 127.0.0.1 12abc
	assert_usage_error "sockpair: connect: invalid port '12abc' (1 to 65535)"
	run --separate-stderr sp connect 127.0.0.1 0
	assert_usage_error "sockpair: connect: invalid port '0' (1 to 65535)"
}

@test "connect: a missing or extra argument is a usage error" {
	run --separate-stderr sp connect
	assert_usage_error "sockpair: connect: missing HOST and PORT"
	run --separate-stderr sp connect 127.0.0.1
	assert_usage_error "sockpair: connect: missing PORT"
	run --separate-stderr sp connect ::1
	assert_usage_error "sockpair: connect: missing PORT (an IPv6 address and a port are written [ADDRESS]:PORT)"
	run --separate-stderr sp connect a 1 b
	assert_usage_error "sockpair: connect: unexpected argument 'b'"
}

@test "connect: a bad timeout is a usage error" {
	run --separate-stderr sp connect -w 0 127.0.0.1 80
	assert_usage_error "sockpair: connect: invalid timeout '0' (seconds, above 0 and at most 86400)"
	run --separate-stderr sp connect -w x 127.0.0.1 80
	assert_usage_error "sockpair: connect: invalid timeout 'x' (seconds, above 0 and at most 86400)"
}

@test "connect: options that do not go together are usage errors" {
	run --separate-stderr sp connect -U /tmp/x 127.0.0.1 80
	assert_usage_error "sockpair: connect: -U connects to a UNIX socket; HOST and PORT do not apply"
	run --separate-stderr sp connect -4 -6 h 1
	assert_usage_error "sockpair: connect: -4 and -6 cannot be combined"
}

@test "connect: nc's order, PORT HOST, is a usage error that says what was meant" {
	# A number for a host and a name that is no service.
	run --separate-stderr sp connect 8080 localhost
	assert_usage_error "sockpair: connect: 'localhost' is not a port; did you mean 'connect localhost 8080'?"
	run --separate-stderr sp connect -z 22 localhost
	assert_usage_error "sockpair: connect: 'localhost' is not a port; did you mean 'connect localhost 22'?"
	# A number for a host with a service for a port is a host (0.0.31.144):
	# tried, in a network namespace with only lo, where it is unreachable.
	unshare -rn true 2>/dev/null || return 0
	run -4 --separate-stderr unshare -rn "$SOCKPAIR" connect -w 1 8080 http </dev/null
	assert_equal "$stderr" "sockpair: connect: connect(0.0.31.144:80): Network is unreachable"
}

@test "connect: timeouts past a day and bad UNIX paths are usage errors" {
	# 2147484 s would wrap an int of milliseconds into an instant timeout.
	for bad in 2147484 86401 1e9; do
		run --separate-stderr sp connect -w "$bad" 127.0.0.1 80
		assert_usage_error "sockpair: connect: invalid timeout '$bad' (seconds, above 0 and at most 86400)"
	done
	run --separate-stderr sp connect -U ""
	assert_usage_error "sockpair: connect: invalid UNIX socket path '' (1 to 107 bytes)"
	local long
	long=$(printf 'p%.0s' {1..108})
	run --separate-stderr sp connect -U "$long"
	assert_usage_error "sockpair: connect: invalid UNIX socket path '$long' (1 to 107 bytes)"
}

@test "connect: -w 86400 is in range" {
	local port
	start_refused_port
	port=$REFUSED_PORT
	run --separate-stderr sp connect -w 86400 127.0.0.1 "$port"
	assert_failure 4
	assert_equal "$stderr" "sockpair: connect: connect(127.0.0.1:$port): Connection refused"
}

@test "connect: a slow reader costs no CPU while input waits to go out" {
	head -c 256M /dev/zero >"$BATS_TEST_TMPDIR/zeros"
	start_peer slow-reader 3
	local port=$PEER_PORT
	: >"$BATS_TEST_TMPDIR/connect.err"
	bg "$SOCKPAIR" connect 127.0.0.1 "$port" <"$BATS_TEST_TMPDIR/zeros" >/dev/null \
		2>"$BATS_TEST_TMPDIR/connect.err"
	local sp_pid=$BG_CHILD
	wait_for_line "$BATS_TEST_TMPDIR/connect.err" '^connected to '
	assert_cpu_below "$sp_pid" 20
}

@test "connect: a peer that resets mid-transfer is an error, exit 1" {
	# The peer reads 1 MiB of 64, then resets: the rest cannot be delivered.
	head -c 64M /dev/zero >"$BATS_TEST_TMPDIR/zeros"
	start_peer reset-after 1048576
	local port=$PEER_PORT
	run --separate-stderr sp connect 127.0.0.1 "$port" <"$BATS_TEST_TMPDIR/zeros"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "connected to 127.0.0.1:$port"
	# The call that met the reset is named: the file goes out by sendfile(2),
	# the peer's side comes in by splice(2) to /dev/null, and either may
	# meet it first.
	[[ "${stderr_lines[1]}" =~ ^"sockpair: connect: "(sendfile|read|splice)"(127.0.0.1:$port): "(Connection\ reset\ by\ peer|Broken\ pipe)$ ]] ||
		fail "no reset line: $stderr"
	# From a pipe, splice(2) meets it.
	start_peer reset-after 1048576
	port=$PEER_PORT
	run --separate-stderr bash -c "cat '$BATS_TEST_TMPDIR/zeros' | timeout 20 '$SOCKPAIR' connect 127.0.0.1 $port 3>&-"
	assert_failure 1
	[[ "${stderr_lines[1]}" =~ ^"sockpair: connect: "(splice|read)"(127.0.0.1:$port): "(Connection\ reset\ by\ peer|Broken\ pipe)$ ]] ||
		fail "no reset line: $stderr"
}

@test "connect: closed stdin and stdout get /dev/null, never the socket" {
	# With 0 closed the socket would be fd 0: sockpair would read the
	# peer's data as its input and send it back.
	printf 'from the server\n' >"$BATS_TEST_TMPDIR/server.in"
	NC_IN=$BATS_TEST_TMPDIR/server.in start_nc_server -N
	# The inner shell closes them: bats's own capture pipe would take 0.
	run -0 timeout 10 bash -c 'exec "$0" connect -q 127.0.0.1 "$1" <&- >"$2" 3>&- 4>&-' \
		"$SOCKPAIR" "$NC_PORT" "$BATS_TEST_TMPDIR/got"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" "from the server"
	wait_exit "$NC_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/nc.out")" ""
	NC_IN=$BATS_TEST_TMPDIR/server.in start_nc_server -N
	run -0 timeout 10 bash -c 'exec "$0" connect -q 127.0.0.1 "$1" <&- >&- 3>&- 4>&-' \
		"$SOCKPAIR" "$NC_PORT"
	wait_exit "$NC_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/nc.out")" ""
}

@test "connect: -q silences the announcement, not the data" {
	start_nc_server -N
	run --separate-stderr sp connect -q 127.0.0.1 "$NC_PORT" </dev/null
	assert_success
	assert_equal "$stderr" ""
}

# ---- on a terminal: readline, history, output above the prompt -----------

# A line-answering server that stays up for several connections.
start_line_server() {
	start_socat_tcp_server -t 5 TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr \
		SYSTEM:'while read -r l; do echo "server: $l"; done; echo "server: bye"'
}

start_terminal_client() {
	tmux_start "bash --norc --noprofile"
	tmux_send "PS1='$ '; export XDG_STATE_HOME='$BATS_TEST_TMPDIR/state'" Enter
	tmux_send "'$SOCKPAIR' connect 127.0.0.1 $1; echo \"exit=\$?\"" Enter
	tmux_wait_for '^> ?$'
}

@test "connect: on a terminal, readline edits and the reply prints above the prompt" {
	start_line_server
	start_terminal_client "$SOCAT_PORT"
	tmux_send 'helo world' Home Right Right Right 'l' Enter
	tmux_wait_for '^server: hello world$'
	run -0 bash -c "tmux -S '$TMUX_SOCKET' capture-pane -p -t test | grep -A2 -E '^> hello world$'"
	assert_line --index 1 "server: hello world"
	assert_line --index 2 --regexp '^> ?$'
	# Ctrl-D half-closes: the server's goodbye still arrives, then exit 0.
	tmux_send C-d
	tmux_wait_for '^server: bye$'
	tmux_wait_for '^exit=0$'
}

@test "connect: on a terminal, history is kept across runs" {
	start_line_server
	start_terminal_client "$SOCAT_PORT"
	tmux_send 'remember me' Enter
	tmux_wait_for '^server: remember me$'
	tmux_send C-d
	tmux_wait_for '^exit=0$'
	[ -f "$BATS_TEST_TMPDIR/state/sockpair/history" ] || fail "no history file written"
	assert_equal "$(stat -c %a "$BATS_TEST_TMPDIR/state/sockpair/history")" 600
	tmux_send clear Enter
	tmux_send "'$SOCKPAIR' connect 127.0.0.1 $SOCAT_PORT; echo \"exit=\$?\"" Enter
	tmux_wait_for '^> ?$'
	tmux_send Up Enter
	tmux_wait_for '^> remember me$'
	tmux_wait_for '^server: remember me$'
	tmux_send C-d
	tmux_wait_for '^exit=0$'
}

@test "connect: on a terminal, what arrives mid-typing does not garble the line" {
	open_fifo
	NC_IN=$FIFO start_nc_server -N
	start_terminal_client "$NC_PORT"
	tmux_send 'half typed'
	tmux_wait_for '^> half typed$'
	printf 'news from the server\n' >&7
	tmux_wait_for '^news from the server$'
	run -0 bash -c "tmux -S '$TMUX_SOCKET' capture-pane -p -t test | grep -A1 -E '^news from the server$'"
	assert_line --index 1 "> half typed"
	tmux_send ' and sent' Enter
	wait_for_line "$BATS_TEST_TMPDIR/nc.out" '^half typed and sent$'
	exec 7>&-
	tmux_wait_for '^exit=0$'
}

@test "connect: on a terminal, a server's unfinished line becomes the prompt" {
	open_fifo
	NC_IN=$FIFO start_nc_server -N
	start_terminal_client "$NC_PORT"
	printf 'login: ' >&7
	tmux_wait_for '^login: ?$'
	tmux_send 'alice' Enter
	wait_for_line "$BATS_TEST_TMPDIR/nc.out" '^alice$'
	tmux_wait_for '^login: alice$'
	exec 7>&-
	tmux_wait_for '^exit=0$'
}

@test "connect: Ctrl-C on a terminal exits 130 and restores the terminal" {
	start_line_server
	start_terminal_client "$SOCAT_PORT"
	tmux_send 'abandoned' C-c
	tmux_wait_for '^exit=130$'
	tmux_send 'stty -a | tr " " "\n" | grep -xE -- "-?(icanon|echo)" | tr "\n" " "; echo' Enter
	tmux_wait_for '^icanon echo ?$'
}

@test "connect: off a terminal, no prompt on stdout and no history written" {
	start_socat_tcp_server -t 5 TCP-LISTEN:0,bind=127.0.0.1 SYSTEM:'cat'
	XDG_STATE_HOME=$BATS_TEST_TMPDIR/state run -0 --separate-stderr sp connect 127.0.0.1 "$SOCAT_PORT" <<<"plain"
	assert_output "plain"
	[ ! -e "$BATS_TEST_TMPDIR/state" ] || fail "a history was written off a terminal"
}

@test "connect: nc as the server over a UNIX path" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	printf 'from nc\n' >"$BATS_TEST_TMPDIR/nc.in"
	bg nc -N -lU "$sock" <"$BATS_TEST_TMPDIR/nc.in" >"$BATS_TEST_TMPDIR/nc.out"
	wait_for_socket "$sock"
	run -0 --separate-stderr sp connect -U "$sock" <<<"to nc"
	assert_output "from nc"
	wait_exit "$BG_LAST"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/nc.out")" "to nc"
}

@test "connect: on a terminal, --trace lines print above the line being typed" {
	start_line_server
	tmux_start "bash --norc --noprofile"
	tmux_send "PS1='$ '; export XDG_STATE_HOME='$BATS_TEST_TMPDIR/state'" Enter
	tmux_send "'$SOCKPAIR' --trace connect 127.0.0.1 $SOCAT_PORT; echo \"exit=\$?\"" Enter
	tmux_wait_for '^> ?$'
	tmux_send 'traced' Enter
	tmux_wait_for '^server: traced$'
	tmux_send 'half'
	tmux_wait_for '^> half$'
	# Every trace line stands alone: none was drawn into the prompt line.
	run -0 tmux_screen
	assert_line --regexp '^write\(3, "traced\\n", 7\) = 7$'
	refute_line --regexp '^> .*[a-z]+\(.*\) = '
	tmux_send C-u C-d
	tmux_wait_for '^exit=0$'
}

@test "connect: HOST:PORT and [V6]:PORT as one argument" {
	start_nc_server -N
	run -0 --separate-stderr sp connect "127.0.0.1:$NC_PORT" <<<"joined"
	assert_equal "$stderr" "connected to 127.0.0.1:$NC_PORT"
	wait_exit "$NC_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/nc.out")" "joined"
	start_nc_server -N -6
	run -0 --separate-stderr sp connect "[::1]:$NC_PORT" <<<"v6"
	assert_equal "$stderr" "connected to [::1]:$NC_PORT"
	wait_exit "$NC_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/nc.out")" "v6"
}

@test "connect: a service name is a port; an unknown one is exit 3" {
	unshare -n true 2>/dev/null || skip "no network namespace here"
	# A private namespace, where nothing listens on port 80.
	run -4 unshare -n sh -c "ip link set lo up && exec '$SOCKPAIR' --trace connect -w 2 127.0.0.1 http </dev/null 3>&-"
	assert_line 'getservbyname("http", "tcp") = 80'
	assert_line "sockpair: connect: connect(127.0.0.1:80): Connection refused"
	run -3 --separate-stderr sp connect 127.0.0.1 nosuchservice
	assert_equal "$stderr" "sockpair: connect: getservbyname(nosuchservice): Servname not supported for ai_socktype"
}

@test "connect: on a terminal, a peer that closes while you type is announced, the terminal restored" {
	open_fifo
	start_socat_tcp_server -t 5 TCP-LISTEN:0,bind=127.0.0.1,reuseaddr \
		SYSTEM:"echo 'server: hi'; read go <'$FIFO'"
	start_terminal_client "$SOCAT_PORT"
	tmux_wait_for '^server: hi$'
	tmux_send 'half typed'
	tmux_wait_for '^> half typed$'
	echo go >&7
	tmux_wait_for "^connection closed by 127\\.0\\.0\\.1:$SOCAT_PORT\$"
	tmux_wait_for '^exit=0$'
	# The shell reads cooked lines again: the terminal was given back.
	tmux_send 'echo restored' Enter
	tmux_wait_for '^restored$'
	tmux_stop
}

@test "connect: on a terminal, Ctrl-Z then fg brings the editor back with the half-typed line" {
	start_line_server
	start_terminal_client "$SOCAT_PORT"
	tmux_send 'half'
	tmux_wait_for '^> half$'
	tmux_send C-z
	tmux_wait_for 'Stopped'
	tmux_send 'fg' Enter
	tmux_wait_for '^> half$'
	tmux_send ' done' Enter
	tmux_wait_for '^server: half done$'
	# Raw again: Up recalls the line instead of printing an escape.
	tmux_send Up
	tmux_wait_for '^> half done$'
	if tmux_screen | grep -qF '^[[A'; then
		fail "the terminal was left cooked: $(tmux_screen)"
	fi
	# (bash went on with "; echo exit=" at the stop: the end shows as the
	# peer's close.)
	tmux_send C-u C-d
	tmux_wait_for "^connection closed by 127\.0\.0\.1:$SOCAT_PORT\$"
	tmux_stop
}
