#!/usr/bin/env bats
# proxy: between real clients (curl, nc, redis-cli, python) and real
# servers (python3 -m http.server, redis-server, recording and echoing
# python peers), over TCP and UNIX sockets, with and without -x.

load helpers

teardown() {
	kill_bg
}

PROXY_PEERS=$BATS_TEST_DIRNAME/lib/proxy_peers.py

# A proxy_peers.py server (MODE ARGS) in the background, its stdout in
# server.out; SERVER_PORT from its announcement (empty for a UNIX one).
start_server() {
	start_script_peer server.out proxy_peers.py "$@"
	SERVER_PORT=$PEER_PORT
}

# The bytes of connection N's "> " (client) or "< " (server) dump lines.
dumped() {
	awk -v conn="$1" -v mark="$2" '
		/^-- #/ { split($2, n, "#"); mine = (n[2] == conn) ; next }
		mine && substr($0, 1, 2) == mark " " { print substr($0, 3) }' "$PX_ERR" | xxd -r
}

random_file() {
	head -c "$2" /dev/urandom >"$1"
}

@test "proxy: curl through proxy -x gets python's page, and the dump rebuilds both sides" {
	mkdir "$BATS_TEST_TMPDIR/www"
	echo 'hello from http.server' >"$BATS_TEST_TMPDIR/www/index.html"
	bg python3 -m http.server 0 --bind 127.0.0.1 --directory "$BATS_TEST_TMPDIR/www" \
		</dev/null >"$BATS_TEST_TMPDIR/http.out" 2>&1
	wait_for_line "$BATS_TEST_TMPDIR/http.out" 'Serving HTTP on'
	http_port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/http.out" | head -1)
	start_proxy -x 0 "127.0.0.1:$http_port"
	run -0 timeout 10 curl -s -o "$BATS_TEST_TMPDIR/page" -D "$BATS_TEST_TMPDIR/headers" \
		"http://127.0.0.1:$PX_PORT/index.html"
	run -0 cat "$BATS_TEST_TMPDIR/page"
	assert_output 'hello from http.server'
	wait_for_line "$PX_ERR" '^#1 closed by (client|server)$'
	run -0 dumped 1 '<'
	assert_output --partial 'hello from http.server'
	assert_output --partial 'HTTP/1.0 200 OK'
	run -0 dumped 1 '>'
	assert_output --regexp "^GET /index.html HTTP/1.1"
	stop_proxy
	assert_equal "$BG_STATUS" 0
}

@test "proxy: the client's dump lines are exactly what the server received, the server's what it sent" {
	start_server record-http "$BATS_TEST_TMPDIR/request"
	start_proxy -x 0 "127.0.0.1:$SERVER_PORT"
	run -0 timeout 10 curl -s -H 'X-Test: 1' "http://127.0.0.1:$PX_PORT/some/path?q=1"
	assert_output 'hello'
	wait_for_line "$PX_ERR" '^#1 closed by (client|server)$'
	cmp <(dumped 1 '>') "$BATS_TEST_TMPDIR/request"
	cmp <(dumped 1 '<') "$BATS_TEST_TMPDIR/request.resp"
	run -0 grep -c '^-- #1 client sent [0-9]* bytes at +[0-9.]* s$' "$PX_ERR"
	run -0 grep -c '^-- #1 server sent [0-9]* bytes at +[0-9.]* s$' "$PX_ERR"
}

@test "proxy: events name each connection: from, connected to, closed by" {
	start_server record-http "$BATS_TEST_TMPDIR/request"
	start_proxy 0 "127.0.0.1:$SERVER_PORT"
	run -0 timeout 10 curl -s "http://127.0.0.1:$PX_PORT/"
	# Who ends first is a race: curl, once it has the whole body, or the server.
	wait_for_line "$PX_ERR" '^#1 closed by (client|server)$'
	run -0 grep -E '^#1 ' "$PX_ERR"
	assert_line --index 0 --regexp '^#1 connection from 127\.0\.0\.1:[0-9]+$'
	assert_line --index 1 "#1 connected to 127.0.0.1:$SERVER_PORT"
	assert_line --index 2 --regexp '^#1 closed by (client|server)$'
}

@test "proxy: 1 MiB of random bytes each way, spliced and through -x, arrives whole" {
	start_server echo
	random_file "$BATS_TEST_TMPDIR/in" 1048576
	for mode in plain hexdump; do
		if [ "$mode" = plain ]; then start_proxy 0 "127.0.0.1:$SERVER_PORT"; else
			start_proxy -x 0 "127.0.0.1:$SERVER_PORT"; fi
		timeout 20 nc -N 127.0.0.1 "$PX_PORT" <"$BATS_TEST_TMPDIR/in" \
			>"$BATS_TEST_TMPDIR/out.$mode" 3>&-
		cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out.$mode"
		wait_for_line "$PX_ERR" '^#1 closed by client$'
		[ "$mode" = plain ] || cmp <(dumped 1 '>') "$BATS_TEST_TMPDIR/in"
		[ "$mode" = plain ] || cmp <(dumped 1 '<') "$BATS_TEST_TMPDIR/in"
		stop_proxy
		assert_equal "$BG_STATUS" 0
	done
}

@test "proxy: without -x bulk is spliced: most bytes never enter sockpair" {
	start_server echo
	head -c 32M /dev/zero >"$BATS_TEST_TMPDIR/in"
	start_proxy --trace 0 "127.0.0.1:$SERVER_PORT"
	timeout 20 nc -N 127.0.0.1 "$PX_PORT" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 3>&-
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	wait_for_line "$PX_ERR" '^#1 closed by client$'
	spliced=$(awk -F' = ' '/^splice\(/ && $NF > 0 { n += $NF } END { print n + 0 }' "$PX_ERR")
	read=$(awk -F' = ' '/^read\(/ && $NF > 0 { n += $NF } END { print n + 0 }' "$PX_ERR")
	[ "$spliced" -gt "$read" ] || fail "spliced $spliced bytes, read $read"
}

@test "proxy: small messages go by read and write, and no pipe is made for them" {
	start_server echo
	start_proxy --trace 0 "127.0.0.1:$SERVER_PORT"
	run -0 bash -c "printf 'ping\n' | timeout 10 nc -N 127.0.0.1 $PX_PORT"
	assert_output ping
	wait_for_line "$PX_ERR" '^#1 closed by client$'
	run -1 grep -E '^(pipe2|splice)\(' "$PX_ERR"
}

@test "proxy: three clients at once, each gets back its own bytes only" {
	start_server echo
	start_proxy 0 "127.0.0.1:$SERVER_PORT"
	for n in 1 2 3; do
		random_file "$BATS_TEST_TMPDIR/in.$n" 300000
		timeout 20 nc -N 127.0.0.1 "$PX_PORT" <"$BATS_TEST_TMPDIR/in.$n" \
			>"$BATS_TEST_TMPDIR/out.$n" 3>&- &
		pids[n]=$!
	done
	for n in 1 2 3; do
		wait "${pids[n]}"
		cmp "$BATS_TEST_TMPDIR/in.$n" "$BATS_TEST_TMPDIR/out.$n"
	done
	for n in 1 2 3; do
		wait_for_line "$PX_ERR" "^#$n closed by client\$"
	done
}

@test "proxy: a client's half-close reaches the server, and the answer still comes back" {
	start_server echo
	start_proxy 0 "127.0.0.1:$SERVER_PORT"
	run -0 bash -c "printf 'ping\n' | timeout 10 nc -N 127.0.0.1 $PX_PORT"
	assert_output 'ping'
	wait_for_line "$PX_ERR" '^#1 closed by client$'
}

@test "proxy: a server's half-close reaches the client, which still sends" {
	start_peer half-close-then-read
	start_proxy 0 "127.0.0.1:$PEER_PORT"
	# The client sends only once the server's end has reached it.
	run -0 timeout 10 python3 -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
got = b""
while True:
    chunk = c.recv(100)
    if not chunk:
        break
    got += chunk
c.sendall(b"hello")
c.shutdown(socket.SHUT_WR)
print(got.decode(), end="")' "$PX_PORT"
	assert_output 'bye'
	wait_for_line "$BATS_TEST_TMPDIR/peer.out" '^read 5$'
	wait_for_line "$PX_ERR" '^#1 closed by server$'
}

@test "proxy: a client's reset is passed on to the server as a reset" {
	start_server server-sees-reset
	start_proxy 0 "127.0.0.1:$SERVER_PORT"
	run -0 timeout 10 python3 "$PROXY_PEERS" client-resets "$PX_PORT"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^(reset|eof)$'
	run -0 tail -1 "$BATS_TEST_TMPDIR/server.out"
	assert_output reset
	wait_for_line "$PX_ERR" '^#1 reset by client$'
}

@test "proxy: a server's reset is passed on to the client as a reset" {
	start_peer reset-after 3
	start_proxy 0 "127.0.0.1:$PEER_PORT"
	run -0 timeout 10 python3 "$PROXY_PEERS" client-sees-reset "$PX_PORT"
	assert_output reset
	wait_for_line "$PX_ERR" '^#1 reset by server$'
}

@test "proxy: a client that resets while its server reads nothing is seen at once" {
	start_server hold
	start_proxy 0 "127.0.0.1:$SERVER_PORT"
	run -0 timeout 20 python3 "$PROXY_PEERS" fill-and-reset "$PX_PORT"
	assert_output full
	wait_for_line "$PX_ERR" '^#1 reset by client$'
}

@test "proxy: clients of a UNIX TARGET whose backlog is full wait, as they would have" {
	bg python3 "$PROXY_PEERS" unix-late-echo "$BATS_TEST_TMPDIR/late.sock" 1 </dev/null \
		>"$BATS_TEST_TMPDIR/server.out"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^listening on '
	start_proxy 0 "$BATS_TEST_TMPDIR/late.sock"
	for n in 1 2 3 4; do
		bash -c "printf 'client $n\n' | timeout 20 nc -N 127.0.0.1 $PX_PORT" \
			>"$BATS_TEST_TMPDIR/out.$n" 3>&- &
		pids[n]=$!
	done
	for n in 1 2 3 4; do
		wait "${pids[n]}"
		run -0 cat "$BATS_TEST_TMPDIR/out.$n"
		assert_output "client $n"
	done
	run -1 grep 'connect(' "$PX_ERR"
}

@test "proxy: a source splice() refuses is read instead, with no spin" {
	build_faults
	start_server echo
	head -c 8M /dev/zero >"$BATS_TEST_TMPDIR/in"
	SP_FAULT_SPLICE_IN_EINVAL_AFTER=300000 LD_PRELOAD=$FAULTS_SO start_proxy 0 "127.0.0.1:$SERVER_PORT"
	timeout 20 nc -N 127.0.0.1 "$PX_PORT" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 3>&-
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	wait_for_line "$PX_ERR" '^#1 closed by client$'
}

@test "proxy: a refused TARGET resets the client, says why with the number, and goes on" {
	start_refused_port
	start_proxy --stats 0 "127.0.0.1:$REFUSED_PORT"
	for n in 1 2; do
		run -0 timeout 10 python3 "$PROXY_PEERS" client-sees-reset "$PX_PORT"
		assert_output reset
		wait_for_line "$PX_ERR" "^sockpair: proxy: #$n connect\\(127\\.0\\.0\\.1:$REFUSED_PORT\\): Connection refused\$"
	done
	kill -0 "$PX_SP"
	stop_proxy
	assert_equal "$BG_STATUS" 0
	run -1 grep -E '^(stats: 127|tcp: )' "$PX_ERR"
}

@test "proxy: an unreachable TARGET gives up after -w, resets the client, and --once exits 5" {
	start_peer never-accepts
	start_proxy --once -w 0.5 0 "127.0.0.1:$PEER_PORT"
	run -0 timeout 10 python3 "$PROXY_PEERS" client-sees-reset "$PX_PORT"
	assert_output reset
	wait_exit "$PX_PID"
	assert_equal "$BG_STATUS" 5
	run -0 grep -Fx "sockpair: proxy: #1 connect(127.0.0.1:$PEER_PORT): Connection timed out" "$PX_ERR"
}

@test "proxy: --once ends with the connection, with the status of its failure" {
	start_refused_port
	start_proxy --once 0 "127.0.0.1:$REFUSED_PORT"
	run -0 timeout 10 python3 "$PROXY_PEERS" client-sees-reset "$PX_PORT"
	wait_exit "$PX_PID"
	assert_equal "$BG_STATUS" 4
	start_server echo
	start_proxy --once 0 "127.0.0.1:$SERVER_PORT"
	run -0 bash -c "printf 'once\n' | timeout 10 nc -N 127.0.0.1 $PX_PORT"
	assert_output 'once'
	wait_exit "$PX_PID"
	assert_equal "$BG_STATUS" 0
}

@test "proxy: curl --unix-socket through a UNIX to UNIX proxy" {
	start_server unix-http "$BATS_TEST_TMPDIR/http.sock"
	start_proxy -x "$BATS_TEST_TMPDIR/front.sock" "$BATS_TEST_TMPDIR/http.sock"
	run -0 timeout 10 curl -s --unix-socket "$BATS_TEST_TMPDIR/front.sock" http://x/
	assert_output 'hello'
	wait_for_line "$PX_ERR" '^#1 closed by (client|server)$'
	run -0 grep -E '^#1 connection from pid [0-9]+ uid [0-9]+ gid [0-9]+$' "$PX_ERR"
	run -0 grep -Fx "#1 connected to $BATS_TEST_TMPDIR/http.sock" "$PX_ERR"
	stop_proxy
	assert_equal "$BG_STATUS" 0
	[ ! -e "$BATS_TEST_TMPDIR/front.sock" ] || fail "the proxy's socket file was left behind"
	[ -S "$BATS_TEST_TMPDIR/http.sock" ] || fail "the server's socket is gone"
}

@test "proxy: redis-cli through a TCP to UNIX proxy to redis-server, RESP in the dump" {
	command -v redis-server >/dev/null || skip "redis-server is not installed"
	bg redis-server --port 0 --unixsocket "$BATS_TEST_TMPDIR/redis.sock" --save '' \
		--appendonly no --dir "$BATS_TEST_TMPDIR" </dev/null >"$BATS_TEST_TMPDIR/redis.out"
	wait_for_socket "$BATS_TEST_TMPDIR/redis.sock"
	start_proxy -x 0 "$BATS_TEST_TMPDIR/redis.sock"
	run -0 timeout 10 redis-cli -p "$PX_PORT" SET greeting hello
	assert_output OK
	run -0 timeout 10 redis-cli -p "$PX_PORT" GET greeting
	assert_output hello
	wait_for_line "$PX_ERR" '^#2 closed by client$'
	run -0 dumped 2 '>'
	assert_output $'*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r'
	run -0 dumped 2 '<'
	assert_output $'$5\r\nhello\r'
}

@test "proxy: --json events carry the connection's number and how it ended" {
	start_server echo
	start_proxy --json -x 0 "127.0.0.1:$SERVER_PORT"
	run -0 bash -c "printf 'hi' | timeout 10 nc -N 127.0.0.1 $PX_PORT"
	wait_for_line "$PX_ERR" '"event":"closed"'
	run -0 jq -e -s '
		(map(select(.event == "connection"))[0] | .conn == 1 and (.peer | test("^127\\.0\\.0\\.1:"))) and
		(map(select(.event == "connected"))[0].conn == 1) and
		(map(select(.event == "data" and .from == "client"))[0] | .conn == 1 and .hex == "6869" and .offset == 0) and
		(map(select(.event == "data" and .from == "server"))[0].hex == "6869") and
		(map(select(.event == "closed"))[0] | .conn == 1 and .ending == "closed by client")' "$PX_ERR"
}

@test "proxy: --stats gives a line per connection and the totals at the end" {
	start_server echo
	start_proxy --stats 0 "127.0.0.1:$SERVER_PORT"
	run -0 bash -c "printf 'hello' | timeout 10 nc -N 127.0.0.1 $PX_PORT"
	wait_for_line "$PX_ERR" '^stats: #1 '
	run -0 grep '^stats: #1 ' "$PX_ERR"
	assert_output --regexp "^stats: #1 127\\.0\\.0\\.1:[0-9]+ -> 127\\.0\\.0\\.1:$SERVER_PORT [0-9.]+ s, client sent 5 bytes, server sent 5 bytes, closed by client\$"
	run -0 grep -c -E '^tcp client: rtt:[0-9.]+/[0-9.]+ cwnd:' "$PX_ERR"
	run -0 grep -c -E '^tcp server: rtt:[0-9.]+/[0-9.]+ cwnd:' "$PX_ERR"
	run -1 grep -E '^(stats: 127|tcp: )' "$PX_ERR"
	stop_proxy
	run -0 tail -1 "$PX_ERR"
	assert_output 'stats: proxy served 1 connections, client sent 5 bytes, server sent 5 bytes, at most 1 at once'
}

@test "proxy: a slow reader holds its server back, with no CPU spent while it waits" {
	start_server echo
	start_proxy 0 "127.0.0.1:$SERVER_PORT"
	# A client that sends up to 128 MiB in 3 s and reads none of it back:
	# both ways fill (the kernel's buffers hold some 40 MiB), then stop.
	bg python3 -c '
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.setblocking(False)
sent = 0
deadline = time.time() + 3
while time.time() < deadline and sent < 128 << 20:
    try:
        sent += c.send(b"x" * 65536)
    except BlockingIOError:
        time.sleep(0.01)
print(sent, flush=True)
time.sleep(20)' "$PX_PORT" </dev/null >"$BATS_TEST_TMPDIR/sent"
	wait_for_line "$BATS_TEST_TMPDIR/sent" '^[0-9]+$'
	sent=$(cat "$BATS_TEST_TMPDIR/sent")
	[ "$sent" -lt $((128 << 20)) ] || fail "all 128 MiB went: nothing held the client back"
	ticks() { awk '{ print $14 + $15 }' "/proc/$PX_SP/stat"; }
	before=$(ticks)
	sleep 1
	after=$(ticks)
	[ $((after - before)) -le 2 ] || fail "the proxy used $((after - before)) ticks while waiting"
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$PX_SP/status")
	[ "$rss" -lt 16384 ] || fail "the proxy holds $rss KiB"
}

@test "proxy: bad endpoints are usage errors, and nothing is created" {
	mkdir "$BATS_TEST_TMPDIR/d"
	cd "$BATS_TEST_TMPDIR/d"
	run -2 --separate-stderr "$SOCKPAIR" proxy 8080
	assert_usage_error "sockpair: proxy: missing TARGET"
	run -2 --separate-stderr "$SOCKPAIR" proxy 0 8000
	assert_usage_error "sockpair: proxy: TARGET '8000' needs a host: HOST:PORT (127.0.0.1:8000?)"
	run -2 --separate-stderr "$SOCKPAIR" proxy 0 'localhost:'
	assert_usage_error "sockpair: proxy: invalid port '' (1 to 65535)"
	run -2 --separate-stderr "$SOCKPAIR" proxy 0 '[::1'
	assert_usage_error "sockpair: proxy: invalid TARGET '[::1' (PORT, HOST:PORT, [V6]:PORT, a path or @NAME)"
	run -2 --separate-stderr "$SOCKPAIR" proxy ./a.sock ./a.sock
	assert_usage_error "sockpair: proxy: LISTEN and TARGET are the same: './a.sock' would relay to itself"
	run -0 ls -A "$BATS_TEST_TMPDIR/d"
	assert_output ''
}

@test "proxy: a TARGET path that is not a socket fails before listening (exit 4)" {
	echo data >"$BATS_TEST_TMPDIR/file"
	run -4 --separate-stderr timeout 10 "$SOCKPAIR" proxy "$BATS_TEST_TMPDIR/front.sock" "$BATS_TEST_TMPDIR/file"
	assert_equal "$stderr" "sockpair: proxy: connect($BATS_TEST_TMPDIR/file): not a socket"
	[ ! -e "$BATS_TEST_TMPDIR/front.sock" ] || fail "a socket file was created"
	run -0 cat "$BATS_TEST_TMPDIR/file"
	assert_output data
}

@test "proxy: SIGUSR1 prints each open connection's line, ending open" {
	start_server echo
	start_proxy --stats 0 "127.0.0.1:$SERVER_PORT"
	bg python3 -c '
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"abc")
c.recv(3)
print("echoed", flush=True)
time.sleep(20)' "$PX_PORT" </dev/null >"$BATS_TEST_TMPDIR/client.out"
	wait_for_line "$BATS_TEST_TMPDIR/client.out" '^echoed$'
	kill -USR1 "$PX_SP"
	wait_for_line "$PX_ERR" '^stats: #1 .*client sent 3 bytes, server sent 3 bytes, open$'
	kill -0 "$PX_SP"
}

@test "proxy: --stats --json gives stats and totals events" {
	start_server echo
	start_proxy --stats --json 0 "127.0.0.1:$SERVER_PORT"
	run -0 bash -c "printf 'hello' | timeout 10 nc -N 127.0.0.1 $PX_PORT"
	wait_for_line "$PX_ERR" '"event":"stats"'
	stop_proxy
	run -0 jq -e -s '
		(map(select(.event == "stats"))[0] | .conn == 1 and .client_sent == 5 and
			.server_sent == 5 and .ending == "closed by client") and
		(map(select(.event == "totals"))[0] | .served == 1 and .most == 1)' "$PX_ERR"
}

# ---- --swap -------------------------------------------------------------------

# A socat echo server at $BATS_TEST_TMPDIR/live.sock; LIVE, LIVE_INODE.
start_live_server() {
	LIVE=$BATS_TEST_TMPDIR/live.sock
	bg socat UNIX-LISTEN:"$LIVE",fork EXEC:cat </dev/null
	wait_for_socket "$LIVE"
	LIVE_INODE=$(stat -c %i "$LIVE")
}

# The names in the test's directory that --swap may touch, with inodes.
names() {
	(cd "$BATS_TEST_TMPDIR" && find . -maxdepth 1 -name 'live*' -printf '%f %i %m\n' | sort)
}

@test "proxy --swap: a client of the original path is seen, and the server is back in place after" {
	start_live_server
	chmod 0770 "$LIVE"
	start_proxy -x --swap "$LIVE"
	run -0 grep -Fx "swapped $LIVE (the original is at $LIVE.sockpair-orig until sockpair ends)" "$PX_ERR"
	[ "$(stat -c %i "$LIVE.sockpair-orig")" = "$LIVE_INODE" ] || fail "the original did not move aside"
	[ "$(stat -c '%a %u %g' "$LIVE")" = "770 $(id -u) $(id -g)" ] || fail "ours has not the original's mode"
	run -0 bash -c "printf 'seen\n' | timeout 10 nc -N -U '$LIVE'"
	assert_output seen
	wait_for_line "$PX_ERR" '^#1 closed by client$'
	run -0 dumped 1 '>'
	assert_output seen
	stop_proxy
	assert_equal "$BG_STATUS" 0
	[ "$(stat -c %i "$LIVE")" = "$LIVE_INODE" ] || fail "the path is not the server's socket again"
	run -0 names
	assert_output "live.sock $LIVE_INODE 770"
	run -0 bash -c "printf 'direct\n' | timeout 10 nc -N -U '$LIVE'"
	assert_output direct
}

@test "proxy --swap: a socket nobody listens on, a taken backup name or a file are refused, nothing changed" {
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$BATS_TEST_TMPDIR/live.dead"
	before=$(names)
	run -4 --separate-stderr timeout 10 "$SOCKPAIR" proxy --swap "$BATS_TEST_TMPDIR/live.dead"
	assert_equal "$stderr" "sockpair: proxy: --swap $BATS_TEST_TMPDIR/live.dead: not a live socket: connect: Connection refused"
	assert_equal "$(names)" "$before"
	start_live_server
	echo keep >"$LIVE.sockpair-orig"
	before=$(names)
	run -4 --separate-stderr timeout 10 "$SOCKPAIR" proxy --swap "$LIVE"
	assert_equal "$stderr" "sockpair: proxy: --swap $LIVE: $LIVE.sockpair-orig exists already: nothing was changed"
	assert_equal "$(names)" "$before"
	run -0 cat "$LIVE.sockpair-orig"
	assert_output keep
	echo data >"$BATS_TEST_TMPDIR/live.file"
	before=$(names)
	run -4 --separate-stderr timeout 10 "$SOCKPAIR" proxy --swap "$BATS_TEST_TMPDIR/live.file"
	assert_output ''
	assert_equal "$stderr" "sockpair: proxy: --swap $BATS_TEST_TMPDIR/live.file: not a live socket: connect: Connection refused"
	assert_equal "$(names)" "$before"
}

@test "proxy --swap: a path replaced meanwhile is left alone, and so is the original's new name" {
	start_live_server
	start_proxy --swap "$LIVE"
	rm "$LIVE"
	echo other >"$LIVE"
	stop_proxy
	assert_equal "$BG_STATUS" 0
	run -0 grep -Fx "$LIVE is no longer sockpair's socket: left alone; the original is at $LIVE.sockpair-orig" "$PX_ERR"
	run -0 cat "$LIVE"
	assert_output other
	[ "$(stat -c %i "$LIVE.sockpair-orig")" = "$LIVE_INODE" ] || fail "the original was moved"
}

@test "proxy --swap takes no LISTEN or TARGET" {
	run -2 --separate-stderr "$SOCKPAIR" proxy --swap "$BATS_TEST_TMPDIR/x.sock" 0 127.0.0.1:80
	assert_usage_error "sockpair: proxy: --swap PATH takes no LISTEN or TARGET"
}
