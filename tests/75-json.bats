#!/usr/bin/env bats
# --json: every diagnostic on stderr is one JSON object per line, with
# "event" and "time", the first being "start"; stdout is unchanged.

load helpers

teardown() {
	kill_bg
}

# Every line of a file parses with jq -e and has .event and .time; the
# first is the start event of the command.
assert_json_lines() {
	local file=$1 command=$2 n=0 line
	[ -s "$file" ] || fail "no JSON lines in $file"
	while IFS= read -r line; do
		n=$((n + 1))
		jq -e '(.event | type) == "string" and (.time | type) == "number"' <<<"$line" >/dev/null ||
			fail "line $n is not an event: $line"
	done <"$file"
	run -0 jq -e -c 'select(.event == "start") | [.version, .command]' <(head -1 "$file")
	assert_output "[1,\"$command\"]"
}

@test "json: pair and fork-echo, with --trace, -x and --stats: every line an event, stdout as without" {
	local plain
	plain=$("$SOCKPAIR" pair)
	run -0 --separate-stderr sp --json --trace -x --stats pair
	assert_equal "$output" "$plain"
	printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/err"
	assert_json_lines "$BATS_TEST_TMPDIR/err" pair
	run -0 jq -r 'select(.event == "data") | .direction + " " + .hex' "$BATS_TEST_TMPDIR/err"
	assert_output "sent 4142436465663132330a
received 4142436465663132330a"
	run -0 jq -c 'select(.event == "call" and .name == "socketpair") | [.args, .result, .errno]' \
		"$BATS_TEST_TMPDIR/err"
	assert_output '["AF_UNIX, SOCK_STREAM, 0","[3, 4]",null]'
	run -0 --separate-stderr sp fork-echo --json --trace --stats
	printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/err"
	assert_json_lines "$BATS_TEST_TMPDIR/err" fork-echo
	# The child's events carry its pid.
	run -0 jq -s -e 'map(select(.pid != null)) | length > 0 and all(.pid > 0)' "$BATS_TEST_TMPDIR/err"
}

@test "json: a command with nothing else to say still prints its one start event" {
	local cmd
	for cmd in pair fork-echo; do
		run -0 --separate-stderr sp --json "$cmd"
		printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/err"
		assert_json_lines "$BATS_TEST_TMPDIR/err" "$cmd"
		run -0 jq -s -c 'map(.event)' "$BATS_TEST_TMPDIR/err"
		assert_output '["start"]'
	done
}

@test "json: a refused connect is an error event with status 4 and ECONNREFUSED" {
	local port
	start_refused_port
	port=$REFUSED_PORT
	run -4 --separate-stderr sp --json connect 127.0.0.1 "$port"
	assert_equal "$output" ""
	printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/err"
	assert_json_lines "$BATS_TEST_TMPDIR/err" connect
	run -0 jq -c 'select(.event == "error") | [.status, .errno, .call, .message]' "$BATS_TEST_TMPDIR/err"
	assert_output "[4,\"ECONNREFUSED\",\"connect\",\"sockpair: connect: connect(127.0.0.1:$port): Connection refused\"]"
}

@test "json: listen and connect: listening, connection, connected, closed; data rebuilds the bytes" {
	head -c 100K /dev/urandom >"$BATS_TEST_TMPDIR/up"
	: >"$BATS_TEST_TMPDIR/listen.err"
	bg "$SOCKPAIR" --json -x listen </dev/null >"$BATS_TEST_TMPDIR/listen.out" 2>"$BATS_TEST_TMPDIR/listen.err"
	local listen=$BG_LAST
	wait_for_line "$BATS_TEST_TMPDIR/listen.err" '"event":"listening"'
	local port
	port=$(jq -r 'select(.event == "listening") | .port' "$BATS_TEST_TMPDIR/listen.err")
	run -0 jq -r 'select(.event == "listening") | .address' "$BATS_TEST_TMPDIR/listen.err"
	assert_output "127.0.0.1"
	timeout 10 "$SOCKPAIR" --json -x connect 127.0.0.1 "$port" <"$BATS_TEST_TMPDIR/up" \
		2>"$BATS_TEST_TMPDIR/connect.err" || fail "$(cat "$BATS_TEST_TMPDIR/connect.err")"
	wait_exit "$listen"
	assert_json_lines "$BATS_TEST_TMPDIR/listen.err" listen
	assert_json_lines "$BATS_TEST_TMPDIR/connect.err" connect
	run -0 jq -r 'select(.event == "connected") | .peer' "$BATS_TEST_TMPDIR/connect.err"
	assert_output "127.0.0.1:$port"
	run -0 jq -r 'select(.event == "connection" or .event == "closed") | .event' "$BATS_TEST_TMPDIR/listen.err"
	assert_output "connection
closed"
	# The data events' hex, joined in offset order, is what was sent.
	jq -r 'select(.event == "data" and .direction == "sent") | .hex' "$BATS_TEST_TMPDIR/connect.err" |
		tr -d '\n' | xxd -r -p >"$BATS_TEST_TMPDIR/rebuilt"
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/rebuilt")" "$(sha256sum <"$BATS_TEST_TMPDIR/up")"
	jq -r 'select(.event == "data" and .direction == "received") | .hex' "$BATS_TEST_TMPDIR/listen.err" |
		tr -d '\n' | xxd -r -p >"$BATS_TEST_TMPDIR/rebuilt"
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/rebuilt")" "$(sha256sum <"$BATS_TEST_TMPDIR/up")"
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/listen.out")" "$(sha256sum <"$BATS_TEST_TMPDIR/up")"
}

@test "json: a peer's invalid UTF-8 and control bytes still make valid JSON" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	: >"$BATS_TEST_TMPDIR/listen.err"
	bg "$SOCKPAIR" --json listen -U "$sock" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/listen.err"
	local listen=$BG_LAST
	wait_for_line "$BATS_TEST_TMPDIR/listen.err" '"event":"listening"'
	run -0 timeout 5 python3 "$BATS_TEST_DIRNAME/lib/peers.py" unix-named-client "$sock" \
		'\xff\xfe\n\x1b[2J"quote"\\'
	wait_exit "$listen"
	assert_json_lines "$BATS_TEST_TMPDIR/listen.err" listen
	run -0 jq -r 'select(.event == "connection") | .peer' "$BATS_TEST_TMPDIR/listen.err"
	[[ "$output" == '@'* ]] || fail "$output"
	if grep -q $'\x1b' "$BATS_TEST_TMPDIR/listen.err"; then
		fail "a raw escape reached stderr"
	fi
}

@test "json: talkback, http-head progress, stats and totals are events too" {
	: >"$BATS_TEST_TMPDIR/talkback.err"
	bg "$SOCKPAIR" --json --stats talkback -p 0 </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/talkback.err"
	TB_PID=$BG_LAST TB_SP=$BG_CHILD
	wait_for_line "$BATS_TEST_TMPDIR/talkback.err" '"event":"listening"'
	TB_PORT=$(jq -r 'select(.event == "listening") | .port' "$BATS_TEST_TMPDIR/talkback.err")
	run -0 bash -c "printf 'hi\nquit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT"
	kill -TERM "$TB_SP"
	wait_exit "$TB_PID"
	assert_json_lines "$BATS_TEST_TMPDIR/talkback.err" talkback
	run -0 jq -c 'select(.event == "totals") | [.served, .lines]' "$BATS_TEST_TMPDIR/talkback.err"
	assert_output "[1,1]"
	run -0 jq -s -e 'map(select(.event == "stats")) |
		length == 1 and (.[0].sent | type) == "number" and (.[0].tcp.rtt_ms | type) == "number"' \
		"$BATS_TEST_TMPDIR/talkback.err"
	start_http_peer record "$BATS_TEST_TMPDIR/request"
	run -0 --separate-stderr sp --json http-head "http://127.0.0.1:$PEER_PORT/"
	printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/err"
	assert_json_lines "$BATS_TEST_TMPDIR/err" http-head
	run -0 jq -r 'select(.event == "progress") | "\(.step) \(.ok)"' "$BATS_TEST_TMPDIR/err"
	assert_output "Attempting to connect to '127.0.0.1' on port '$PEER_PORT' true
Sending HTTP HEAD request true
Reading response true
Closing socket true"
}

@test "json: usage errors stay plain text" {
	run -2 --separate-stderr sp --json connect --nosuch
	assert_usage_error "sockpair: connect: unrecognized option '--nosuch'"
}
