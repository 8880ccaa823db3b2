# Shared by every tests/*.bats file.
#
# Beware: bats 1.8's run assigns a global "i", even over a caller's
# "local i"; name loop variables otherwise (round, n).
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

SOCKPAIR=${SOCKPAIR:-$BATS_TEST_DIRNAME/../sockpair}
SOCKPAIR_PHP_REFERENCE=${SOCKPAIR_PHP_REFERENCE:-$BATS_TEST_DIRNAME/../../shared/php-reference}

# Every run of sockpair is bounded: a hang shows as status 124, never as a
# stuck suite.  Descriptors bats keeps open are closed, so that sockpair
# gets the numbers it gets in a shell (3 and 4 for the pair), and a
# background sockpair cannot hold bats' output pipe open.
sp() {
	timeout -k 2 "${SP_TIMEOUT:-10}" "$SOCKPAIR" "$@" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
}

# A usage error: status 2, nothing on stdout, the reason and the Try line,
# which names the command's own help when the reason names a command
# ("sockpair: connect: ..."), sockpair's otherwise.
assert_usage_error() {
	local reason=$1 try="Try 'sockpair --help' for more information."
	[ "$status" -eq 2 ] || fail "expected status 2, got $status"
	[ -z "$output" ] || fail "expected empty stdout, got: $output"
	assert_equal "${stderr_lines[0]}" "$reason"
	if [[ "$reason" =~ ^"sockpair: "([a-z-]+)": " ]]; then
		try="Try 'sockpair ${BASH_REMATCH[1]} --help' for more information."
	fi
	assert_equal "${stderr_lines[1]}" "$try"
}

# A fifo the test writes to as fd 7, held open read-write so that opening
# it never blocks; a reader sees end of file at "exec 7>&-" in the test.
open_fifo() {
	FIFO=$BATS_TEST_TMPDIR/fifo
	mkfifo "$FIFO"
	exec 7<>"$FIFO"
}

# The one polling loop: runs CMD... every 50 ms until it succeeds, 100
# times at most (5 s; TRIES=N for another bound); returns 1 if it never did.
poll_until() {
	local tries=${TRIES:-100}
	until "$@"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.05
	done
}

# poll_until, failing the test with WHAT when the bound is reached.
wait_until() {
	local what=$1
	shift
	poll_until "$@" || fail "$what, within the time limit"
}

# Polls (bounded, 5 s) until a file exists and has a line matching a regex.
wait_for_line() {
	local file=$1 regex=$2 tries=${3:-100}
	while [ "$tries" -gt 0 ]; do
		grep -Eq -- "$regex" "$file" 2>/dev/null && return 0
		sleep 0.05
		tries=$((tries - 1))
	done
	fail "no line matching '$regex' in $file within the time limit: $(cat "$file" 2>/dev/null)"
}

# The port of the "listening on ADDRESS:PORT" announcement in a file.
announced_port() {
	sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$1" | head -1
}

# Polls (bounded, 5 s) until a UNIX socket file exists; fails otherwise.
wait_for_socket() {
	wait_until "no socket at $1" test -S "$1"
}

# Polls (bounded, 10 s) until a file holds at least SIZE bytes; fails otherwise.
file_holds() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

wait_for_size() {
	TRIES=200 wait_until "$1 has not $2 bytes" file_holds "$1" "$2"
}

# Polls (bounded, 5 s) until an abstract UNIX name is bound; fails otherwise.
wait_for_abstract() {
	local name=$1 tries=100
	until grep -q "@$name\$" /proc/net/unix || [ "$tries" -eq 0 ]; do
		sleep 0.05
		tries=$((tries - 1))
	done
	grep -q "@$name\$" /proc/net/unix || fail "nothing bound to @$name within the time limit"
}

# No process with this pid exists any more: not running, not a zombie.
assert_gone() {
	local pid=$1 state
	state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
	[ -z "$state" ] || fail "process $pid still exists, state '$state'"
}

# Builds the fault-injection library once per test file.
build_faults() {
	FAULTS_SO=$BATS_FILE_TMPDIR/faults.so
	[ -f "$FAULTS_SO" ] ||
		cc -shared -fPIC -O1 -o "$FAULTS_SO" "$BATS_TEST_DIRNAME/lib/faults.c" -ldl
}

# ---- terminals: a private tmux server per test --------------------------

# The server outlives this call: it must not hold bats' pipes or a test's
# fifo (fd 7) open.
tmux_start() {
	TMUX_SOCKET=$BATS_TEST_TMPDIR/tmux.sock
	tmux -S "$TMUX_SOCKET" -f /dev/null new-session -d -x 100 -y 30 -s test "$@" \
		3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
}

tmux_send() {
	tmux -S "$TMUX_SOCKET" send-keys -t test "$@"
}

tmux_screen() {
	tmux -S "$TMUX_SOCKET" capture-pane -p -t test
}

# Polls (bounded, 5 s) until the screen shows a line matching a regex.
tmux_wait_for() {
	local regex=$1 tries=100
	while [ "$tries" -gt 0 ]; do
		tmux_screen 2>/dev/null | grep -Eq -- "$regex" && return 0
		sleep 0.05
		tries=$((tries - 1))
	done
	fail "screen never showed '$regex'; it shows:
$(tmux_screen 2>&1)"
}

tmux_stop() {
	[ -n "${TMUX_SOCKET:-}" ] && tmux -S "$TMUX_SOCKET" kill-server 2>/dev/null
	return 0
}

# ---- servers in the background ------------------------------------------

# Background processes a test started, killed by PID in teardown.
BG_PIDS=()

# Runs a command in the background under timeout(1), with bats'
# descriptors closed.  BG_LAST is timeout's pid (wait for it: it exits with
# the command's status); BG_CHILD is the command's own (signal that one:
# SIGKILL to timeout would orphan it).  "<&0": without a stdin redirection
# of its own, bash gives a background command /dev/null.
bg() {
	timeout -k 2 "${BG_TIMEOUT:-30}" "$@" <&0 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	BG_LAST=$!
	BG_PIDS+=("$BG_LAST")
	BG_CHILD=
	local tries=100
	while [ -z "$BG_CHILD" ] && [ "$tries" -gt 0 ]; do
		BG_CHILD=$(pgrep -P "$BG_LAST" | head -1 || true)
		[ -n "$BG_CHILD" ] || sleep 0.02
		tries=$((tries - 1))
	done
	[ -n "$BG_CHILD" ] || fail "background command did not start: $*"
}

# Ends what bg started, by PID: SIGTERM to timeout(1), which passes it
# on and reaps the command (no orphan left to init); SIGKILL to both if
# that has not ended them within a second, and to timeout's process group
# (it leads one), where a grandchild of a pipeline in sh -c lives: one,
# an ASan build in its exit-time leak check, once outlived a CI run.
kill_bg() {
	local pid tries
	for pid in "${BG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${BG_PIDS[@]}"; do
		tries=20
		while kill -0 "$pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
			sleep 0.05
			tries=$((tries - 1))
		done
		pkill -9 -P "$pid" 2>/dev/null || true
		kill -9 "$pid" 2>/dev/null || true
		kill -9 -- "-$pid" 2>/dev/null || true
		# Reaped here, bash has no "Killed" notice to print later.
		wait "$pid" 2>/dev/null || true
	done
	BG_PIDS=()
	return 0
}

# Waits (bounded, 10 s) for a background pid to exit; its status in $BG_STATUS.
wait_exit() {
	local pid=$1 tries=200
	while kill -0 "$pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
		sleep 0.05
		tries=$((tries - 1))
	done
	kill -0 "$pid" 2>/dev/null && fail "process $pid did not exit within 10 s"
	BG_STATUS=0
	wait "$pid" || BG_STATUS=$?
}

# sockpair listen ARGS in the background: stdin from $LISTEN_IN (default
# /dev/null), output in $T/listen.out (or $LISTEN_OUT) and .err.  Waits for the
# announcement; sets LISTEN_PID (to wait for), LISTEN_SP (sockpair's own
# pid, to signal), LISTEN_ADDR (as announced) and LISTEN_PORT.
start_listen() {
	local err=$BATS_TEST_TMPDIR/listen.err
	: >"$err"
	bg "$SOCKPAIR" listen "$@" <"${LISTEN_IN:-/dev/null}" \
		>"${LISTEN_OUT:-$BATS_TEST_TMPDIR/listen.out}" 2>"$err"
	LISTEN_PID=$BG_LAST LISTEN_SP=$BG_CHILD
	wait_for_line "$err" '^listening on '
	LISTEN_ADDR=$(sed -n 's/^listening on //p' "$err" | head -1)
	LISTEN_PORT=$(announced_port "$err")
}

# nc -l on a free loopback port, announced by nc -v; sets NC_PID, NC_PORT.
# Arguments go before -l (e.g. -N, -u, -6); stdin from $NC_IN.
start_nc_server() {
	local err=$BATS_TEST_TMPDIR/nc.err host=127.0.0.1
	: >"$err"
	case " $* " in *" -6 "*) host=::1 ;; esac
	bg nc -v "$@" -l "$host" 0 <"${NC_IN:-/dev/null}" >"$BATS_TEST_TMPDIR/nc.out" 2>"$err"
	NC_PID=$BG_LAST
	wait_for_line "$err" '^(Listening|Bound) on '
	NC_PORT=$(sed -nE 's/^(Listening|Bound) on [^ ]+ ([0-9]+)$/\2/p' "$err" | head -1)
}

# socat with a TCP listening address on port 0; socat -d -d announces it.
# Usage: start_socat_tcp_server 'TCP-LISTEN:0,bind=127.0.0.1' 'SYSTEM:...'
start_socat_tcp_server() {
	local err=$BATS_TEST_TMPDIR/socat.err
	: >"$err"
	bg socat -d -d "$@" >"$BATS_TEST_TMPDIR/socat.out" 2>"$err"
	SOCAT_PID=$BG_LAST
	wait_for_line "$err" ' listening on '
	SOCAT_PORT=$(sed -nE 's/.* listening on AF=[0-9]+ .*:([0-9]+)$/\1/p' "$err" | head -1)
}

# The port a background process listens on (t: TCP, u: UDP), from ss:
# for servers that do not announce it (socat's UDP says ":0", -q says
# nothing).  Polls, bounded at 5 s.
port_of() {
	local pid=$1 proto=$2 tries=100 port
	while [ "$tries" -gt 0 ]; do
		port=$(ss -Hl"$proto"np 2>/dev/null | grep "pid=$pid," | awk '{ print $4 }' |
			sed 's/.*://' | head -1)
		[ -n "$port" ] && { echo "$port"; return 0; }
		sleep 0.05
		tries=$((tries - 1))
	done
	return 1
}

udp_port_of() { port_of "$1" u; }

tcp_port_of() { port_of "$1" t; }

# A port free a moment ago (bound, then released), for a server that must
# be told its port (nginx, sshd, listen PORT) or a UDP port nothing is
# bound to; a test that means "refused" holds one (start_refused_port).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# sockpair talkback ARGS on a free port, in the background: output in
# $T/talkback.out (or $TB_OUT) and .err; sets TB_PID (to wait for), TB_SP (to signal),
# TB_PORT.
start_talkback() {
	local err=$BATS_TEST_TMPDIR/talkback.err
	: >"$err"
	bg "$SOCKPAIR" talkback -p 0 "$@" </dev/null >"${TB_OUT:-$BATS_TEST_TMPDIR/talkback.out}" \
		2>"$err"
	TB_PID=$BG_LAST TB_SP=$BG_CHILD
	case " $* " in
	*" -q "*)	# quiet: no announcement to read the port from
		TB_PORT=$(tcp_port_of "$TB_SP") || fail "talkback -q: no listening port found" ;;
	*)
		wait_for_line "$err" '^listening on '
		TB_PORT=$(announced_port "$err") ;;
	esac
}

# A server of a tests/lib script (OUT SCRIPT MODE ARGS...) in the
# background, its stdout in $BATS_TEST_TMPDIR/OUT; sets PEER_PID and
# PEER_PORT (empty for a UNIX path) from its announcement.
start_script_peer() {
	local out=$BATS_TEST_TMPDIR/$1 script=$BATS_TEST_DIRNAME/lib/$2
	shift 2
	: >"$out"
	bg python3 "$script" "$@" </dev/null >"$out"
	PEER_PID=$BG_LAST
	wait_for_line "$out" '^listening on '
	PEER_PORT=$(announced_port "$out")
}

# A server of tests/lib/peers.py (slow-reader, reset-after, never-accepts)
# in the background, its stdout in peer.out; sets PEER_PID and PEER_PORT.
start_peer() {
	start_script_peer peer.out peers.py "$@"
}

# A port proven refused: held bound by a peer that never listens, so that
# nothing else can take it while the test runs; sets REFUSED_PORT.
start_refused_port() {
	start_peer refuses
	REFUSED_PORT=$PEER_PORT
}

# tests/lib/peers.py MODE ARGS, bounded; see its header for the modes.
peers() {
	timeout -k 2 30 python3 "$BATS_TEST_DIRNAME/lib/peers.py" "$@"
}

# tests/lib/http_peer.py MODE [ARGS] in the background; sets PEER_PID,
# PEER_PORT from its announcement.
start_http_peer() {
	local out=$BATS_TEST_TMPDIR/peer.out
	: >"$out"
	bg python3 "$BATS_TEST_DIRNAME/lib/http_peer.py" "$@" </dev/null >"$out" 2>&1
	PEER_PID=$BG_LAST
	wait_for_line "$out" '^listening on '
	PEER_PORT=$(announced_port "$out")
}

# nginx with a throwaway configuration on a free port (released, then
# taken by nginx: retried if something else got it first); with CERT and
# KEY, over TLS.  Sets NGINX_PORT.
start_nginx() {
	local dir=$BATS_TEST_TMPDIR/nginx tries listen=
	mkdir -p "$dir/www"
	printf 'hi\n' >"$dir/www/index.html"
	[ $# -eq 2 ] && listen="ssl; ssl_certificate $1; ssl_certificate_key $2"
	for tries in 1 2 3; do
		NGINX_PORT=$(free_port)
		cat >"$dir/nginx.conf" <<-CONF
		daemon off;
		master_process off;
		error_log $dir/error.log;
		pid $dir/nginx.pid;
		events { worker_connections 64; }
		http {
			access_log off;
			client_body_temp_path $dir/body;
			proxy_temp_path $dir/proxy;
			server { listen 127.0.0.1:$NGINX_PORT $listen; root $dir/www; }
		}
		CONF
		bg nginx -c "$dir/nginx.conf" -p "$dir/" </dev/null >/dev/null 2>&1
		tcp_port_of "$BG_CHILD" >/dev/null && return 0
	done
	fail "nginx did not start: $(cat "$dir/error.log")"
}

# sockpair proxy ARGS in the background; stderr in $PX_ERR, PX_PORT from
# the announcement (a TCP LISTEN), PX_PID (timeout's) and PX_SP (sockpair's).
start_proxy() {
	PX_ERR=$BATS_TEST_TMPDIR/proxy.err
	: >"$PX_ERR"
	bg "$SOCKPAIR" proxy "$@" </dev/null 2>"$PX_ERR"
	PX_PID=$BG_LAST PX_SP=$BG_CHILD
	wait_for_line "$PX_ERR" '^listening on |"event":"listening"'
	PX_PORT=$(announced_port "$PX_ERR")
	if grep -q '"event":"listening"' "$PX_ERR"; then
		PX_PORT=$(jq -r 'select(.event == "listening") | .port // empty' "$PX_ERR")
	fi
}

# Ends the proxy with SIGTERM; its exit status in BG_STATUS.
stop_proxy() {
	kill -TERM "$PX_SP"
	wait_exit "$PX_PID"
}

# ---- costs ----------------------------------------------------------------

# CPU time (user + system, in clock ticks) a process has used so far.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Fails unless PID uses under PERCENT of one CPU over a one-second window
# of wall time (a window to measure over, not a wait for an event).
assert_cpu_below() {
	local pid=$1 percent=$2 hz before after used
	hz=$(getconf CLK_TCK)
	before=$(cpu_ticks "$pid") || fail "process $pid is gone"
	sleep 1
	after=$(cpu_ticks "$pid") || fail "process $pid is gone"
	used=$(((after - before) * 100 / hz))
	[ "$used" -lt "$percent" ] ||
		fail "process $pid used $used% of a CPU while waiting (limit $percent%)"
}
