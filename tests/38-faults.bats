#!/usr/bin/env bats
# proxy's faults (--delay, --rate, --slice, --close-after, --reset-after,
# --blackhole, --faulty, SIGUSR2) between real clients (curl, python
# peers) and real servers (python3 -m http.server, recording python
# peers), timed with bounds wide enough for a busy machine.

load helpers

teardown() {
	kill_bg
}

FP=$BATS_TEST_DIRNAME/lib/fault_peers.py

# A fault_peers.py server (MODE ARGS) in the background; SERVER_PORT.
start_server() {
	start_script_peer server.out fault_peers.py "$@"
	SERVER_PORT=$PEER_PORT
}

# fault_peers.py MODE ARGS as a client, bounded.
client() {
	timeout -k 2 40 python3 "$FP" "$@"
}

# The seconds of a "... in S s, ..." line.
seconds_of() {
	sed -n 's/.* in \([0-9.]*\) s, .*/\1/p' <<<"$1"
}

# Fails unless LOW <= VALUE <= HIGH (decimals).
assert_between() {
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }' ||
		fail "$4: $1 is not within [$2, $3]"
}

start_http_server() {
	mkdir "$BATS_TEST_TMPDIR/www"
	echo 'hello from http.server' >"$BATS_TEST_TMPDIR/www/index.html"
	bg python3 -m http.server 0 --bind 127.0.0.1 --directory "$BATS_TEST_TMPDIR/www" \
		</dev/null >"$BATS_TEST_TMPDIR/http.out" 2>&1
	wait_for_line "$BATS_TEST_TMPDIR/http.out" 'Serving HTTP on'
	HTTP_PORT=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/http.out" | head -1)
}

starttransfer() {
	timeout 10 curl -s -o /dev/null -w '%{time_starttransfer}' "http://127.0.0.1:$1/index.html"
}

@test "faults: --delay down:200 adds 200 to 300 ms to curl's time to first byte, and the line says (faults on)" {
	start_http_server
	start_proxy --delay down:200 0 "127.0.0.1:$HTTP_PORT"
	# The least of three direct requests: the first one warms the server up.
	direct=$( (for n in 1 2 3; do starttransfer "$HTTP_PORT"; echo; done) | sort -n | head -1)
	proxied=$(starttransfer "$PX_PORT")
	added=$(awk -v a="$proxied" -v b="$direct" 'BEGIN { print a - b }')
	assert_between "$added" 0.200 0.300 "time added by --delay down:200"
	wait_for_line "$PX_ERR" '^#1 closed by '
	run -0 grep -c '^#1 connection from 127.0.0.1:[0-9]* (faults on)$' "$PX_ERR"
}

@test "faults: --delay 100~50 on a stream of numbered lines: every line comes back, in order" {
	start_server echo
	start_proxy --delay 100~50 0 "127.0.0.1:$SERVER_PORT"
	run -0 client lines "$PX_PORT" 100 2
	assert_output 'in order 100'
}

@test "faults: --delay holds each chunk, the -x headers say when it came and when it went on" {
	start_server echo
	start_proxy -x --delay up:150 0 "127.0.0.1:$SERVER_PORT"
	run -0 client send-read "$PX_PORT" 10
	assert_output --regexp '^sent 10, received 10 in .*, eof$'
	wait_for_line "$PX_ERR" '^#1 closed by '
	came=$(sed -n 's/^-- #1 client sent 10 bytes at +\([0-9.]*\) s$/\1/p' "$PX_ERR")
	went=$(sed -n "s/^-- #1 client's 10 bytes forwarded at +\([0-9.]*\) s, held \([0-9.]*\) s$/\1 \2/p" "$PX_ERR")
	[ -n "$came" ] && [ -n "$went" ] || fail "no arrival or forwarding header: $(cat "$PX_ERR")"
	read -r at held <<<"$went"
	assert_between "$(awk -v a="$at" -v b="$came" 'BEGIN { print a - b }')" 0.150 0.250 "held"
	assert_between "$held" 0.150 0.250 "the held figure"
	# The server's echo was not delayed (up: only): no forwarding header for it.
	run grep -c "^-- #1 server's" "$PX_ERR"
	assert_output 0
}

@test "faults: --rate down:200k: 1 MiB takes 4.5 to 6 s, and a second connection at once gets its own 200k" {
	start_server send 1048576
	start_proxy --rate down:200k 0 "127.0.0.1:$SERVER_PORT"
	client read-all "$PX_PORT" >"$BATS_TEST_TMPDIR/a" &
	a=$!
	client read-all "$PX_PORT" >"$BATS_TEST_TMPDIR/b" &
	b=$!
	wait "$a"
	wait "$b"
	for out in a b; do
		line=$(cat "$BATS_TEST_TMPDIR/$out")
		assert_equal "${line%% in *}" "1048576 bytes"
		assert_between "$(seconds_of "$line")" 4.5 6.0 "1 MiB at 200k (client $out)"
	done
}

@test "faults: --slice 1/10: a 20-byte request reaches the server in 20 reads, 190 ms or more apart end to end" {
	start_server count-reads "$BATS_TEST_TMPDIR/reads"
	start_proxy --once --slice 1/10 0 "127.0.0.1:$SERVER_PORT"
	printf '01234567890123456789' | timeout 10 nc -N 127.0.0.1 "$PX_PORT"
	wait_until "the server's count" test -s "$BATS_TEST_TMPDIR/reads"
	read -r _ reads _ bytes _ span <"$BATS_TEST_TMPDIR/reads"
	assert_equal "$reads $bytes" "20 20"
	assert_between "$span" 0.190 2.0 "the span of 20 slices 10 ms apart"
}

@test "faults: --close-after up:1000: the server gets exactly 1000 bytes then its end of data; no side sees a reset" {
	start_server sink "$BATS_TEST_TMPDIR/sink"
	start_proxy --stats --close-after up:1000 0 "127.0.0.1:$SERVER_PORT"
	run -0 client send-read "$PX_PORT" 5000
	assert_output --regexp '^sent 5000, received 0 in [0-9.]+ s, eof$'
	wait_until "the server's record" test -s "$BATS_TEST_TMPDIR/sink"
	run -0 cat "$BATS_TEST_TMPDIR/sink"
	assert_output '1000 eof'
	wait_for_line "$PX_ERR" '^#1 closed by proxy$'
	run -0 grep -c '^#1 close-after: 1000 bytes from client forwarded, closing both sides$' "$PX_ERR"
	run -0 grep -E '^faults: #1 client sent: held [0-9]+ bytes, waited [0-9.]+ s at most, dropped 4000 bytes; ' "$PX_ERR"
}

@test "faults: --reset-after down:5000: the client gets exactly 5000 bytes, then a reset; so does the server" {
	start_server send 20000
	start_proxy --reset-after down:5000 0 "127.0.0.1:$SERVER_PORT"
	run -0 client read-all "$PX_PORT"
	assert_output --regexp '^5000 bytes in [0-9.]+ s, reset$'
	wait_for_line "$PX_ERR" '^#1 reset by proxy$'
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^server saw reset$'
	run -0 grep -c '^#1 reset-after: 5000 bytes from server forwarded, resetting both sides$' "$PX_ERR"
}

@test "faults: --reset-after: nc gets no byte past the reset; sockpair connect gets exactly the 5000 and says 'Connection reset by peer'" {
	start_server send 20000
	start_proxy --reset-after down:5000 0 "127.0.0.1:$SERVER_PORT"
	expected=$BATS_TEST_TMPDIR/expected
	python3 -c 'import sys; sys.stdout.buffer.write(bytes(i % 251 for i in range(5000)))' >"$expected"
	# netcat-openbsd says nothing of a reset and exits 0, and when the reset
	# wakes it with the last bytes still unread it leaves them (seen under
	# load: nothing at all): what it got must be the first of the 5000,
	# never more.  sockpair connect below gets them all.
	run -0 timeout 10 sh -c "nc 127.0.0.1 $PX_PORT </dev/null >'$BATS_TEST_TMPDIR/nc.got'"
	got=$(stat -c %s "$BATS_TEST_TMPDIR/nc.got")
	[ "$got" -le 5000 ] || fail "nc got $got bytes, past the reset"
	cmp -n "$got" "$BATS_TEST_TMPDIR/nc.got" "$expected"
	run -1 --separate-stderr timeout 10 sh -c \
		"'$SOCKPAIR' connect 127.0.0.1 $PX_PORT </dev/null >'$BATS_TEST_TMPDIR/sp.got'"
	[[ "${stderr_lines[-1]}" =~ ^"sockpair: connect: "[a-z]+"(127.0.0.1:$PX_PORT): Connection reset by peer"$ ]] ||
		fail "no reset reported: $stderr"
	cmp "$BATS_TEST_TMPDIR/sp.got" "$expected"
}

@test "faults: --blackhole=500: the client gets nothing and is closed after 500 ms (+-100)" {
	start_server echo
	start_proxy --json --blackhole=500 0 "127.0.0.1:$SERVER_PORT"
	run -0 client send-read "$PX_PORT" 10
	assert_output --regexp '^sent 10, received 0 in [0-9.]+ s, eof$'
	assert_between "$(seconds_of "$output")" 0.400 0.600 "the blackhole's close"
	wait_for_line "$PX_ERR" '"event":"closed"'
	run -0 jq -c 'select(.event == "fault") | [.conn, .fault, .ms]' "$PX_ERR"
	assert_output '[1,"blackhole",500]'
	run -0 jq -r 'select(.event == "closed") | .ending' "$PX_ERR"
	assert_output 'closed by proxy'
}

@test "faults: --json has a fault event for a close-after, and stats count what was held and dropped" {
	start_server sink "$BATS_TEST_TMPDIR/sink"
	start_proxy --json --stats --close-after up:100 0 "127.0.0.1:$SERVER_PORT"
	run -0 client send-read "$PX_PORT" 300
	wait_for_line "$PX_ERR" '"event":"stats"'
	run -0 jq -c 'select(.event == "fault") | [.conn, .fault, .from, .bytes]' "$PX_ERR"
	assert_output '[1,"close-after","client",100]'
	run -0 jq -c 'select(.event == "stats") | [.client_sent, .client_dropped, .server_dropped]' "$PX_ERR"
	assert_output '[300,200,0]'
	run -0 jq -c 'select(.event == "connection") | .faults' "$PX_ERR"
	assert_output 'true'
}

@test "faults: --faulty 0.5 over 200 connections: 70 to 130 faulty, each line says which" {
	start_server echo
	start_proxy --faulty 0.5 --delay 1 0 "127.0.0.1:$SERVER_PORT"
	run -0 client serial "$PX_PORT" 200
	assert_output 'done 200'
	wait_until "200 connections ended" \
		test "$(grep -c '^#[0-9]* closed by ' "$PX_ERR")" -eq 200
	total=$(grep -c '^#[0-9]* connection from 127.0.0.1:[0-9]*\( (faults on)\)\?$' "$PX_ERR")
	faulty=$(grep -c '^#[0-9]* connection from .* (faults on)$' "$PX_ERR")
	assert_equal "$total" 200
	assert_between "$faulty" 70 130 "faulty connections of 200"
}

@test "faults: SIGUSR2 turns the faults off for an open connection (its held bytes go at once) and on again" {
	start_server echo
	start_proxy --delay up:20000 0 "127.0.0.1:$SERVER_PORT"
	client send-read "$PX_PORT" 10 >"$BATS_TEST_TMPDIR/out" &
	pid=$!
	wait_for_line "$PX_ERR" '^#1 connected to '
	kill -USR2 "$PX_SP"
	wait_for_line "$PX_ERR" '^faults off$'
	wait "$pid"
	run -0 cat "$BATS_TEST_TMPDIR/out"
	assert_output --regexp '^sent 10, received 10 in [0-9.]+ s, eof$'
	assert_between "$(seconds_of "$output")" 0 5 "a 20 s delay turned off"
	kill -USR2 "$PX_SP"
	wait_for_line "$PX_ERR" '^faults on$'
	run timeout 1 python3 "$FP" send-read "$PX_PORT" 10
	assert_equal "$status" 124
}

@test "faults: 1000 connections held in a 2 s delay cost under 5% of a CPU, and every byte comes back" {
	start_server echo
	start_proxy --delay 2000 0 "127.0.0.1:$SERVER_PORT"
	client many "$PX_PORT" 1000 >"$BATS_TEST_TMPDIR/many" &
	pid=$!
	wait_for_line "$BATS_TEST_TMPDIR/many" '^sent 1000$' 200
	wait_for_line "$PX_ERR" '^#1000 connected to ' 200
	assert_cpu_below "$PX_SP" 5
	wait "$pid"
	run -0 cat "$BATS_TEST_TMPDIR/many"
	assert_line 'echoed 1000'
}

@test "faults: a faulty proxy over UNIX sockets: --delay and --close-after work without TCP" {
	sock=$BATS_TEST_TMPDIR/px.sock
	start_script_peer server.out proxy_peers.py echo "$BATS_TEST_TMPDIR/echo.sock"
	start_proxy --stats --close-after down:4 --delay 50 "$sock" "$BATS_TEST_TMPDIR/echo.sock"
	run -0 timeout 10 socat - "UNIX-CONNECT:$sock" <<<"abcdefgh"
	assert_output 'abcd'
	wait_for_line "$PX_ERR" '^#1 closed by proxy$'
}

@test "faults: bad values are usage errors" {
	run -2 --separate-stderr sp proxy --rate 0 0 127.0.0.1:1
	assert_usage_error "sockpair: proxy: invalid --rate '0' (BYTES per second, at least 1, with k or M, after up: or down:)"
	run -2 --separate-stderr sp proxy --slice 0 0 127.0.0.1:1
	assert_usage_error "sockpair: proxy: invalid --slice '0' (BYTES[/MS], BYTES at least 1, after up: or down:)"
	run -2 --separate-stderr sp proxy --faulty 1.5 --delay 1 0 127.0.0.1:1
	assert_usage_error "sockpair: proxy: invalid --faulty '1.5' (a fraction, 0 to 1)"
	run -2 --separate-stderr sp proxy --delay left:100 0 127.0.0.1:1
	assert_usage_error "sockpair: proxy: invalid --delay 'left:100': unknown prefix 'left:' (up: or down:)"
	run -2 --separate-stderr sp proxy --delay 86400001 0 127.0.0.1:1
	assert_usage_error "sockpair: proxy: invalid --delay '86400001' (MS[~JITTER], each 0 to 86400000, after up: or down:)"
	run -2 --separate-stderr sp proxy --delay 10~x 0 127.0.0.1:1
	assert_usage_error "sockpair: proxy: invalid --delay '10~x' (MS[~JITTER], each 0 to 86400000, after up: or down:)"
	run -2 --separate-stderr sp proxy --blackhole=soon 0 127.0.0.1:1
	assert_usage_error "sockpair: proxy: invalid --blackhole 'soon' (MS, 0 to 86400000, after up: or down:)"
	run -2 --separate-stderr sp proxy --faulty 0.5 0 127.0.0.1:1
	assert_usage_error "sockpair: proxy: --faulty needs a fault to apply (--delay, --rate, --slice, ...)"
}
