#!/usr/bin/env bats
# http-head: the manual's one-shot HEAD client, against python's
# http.server, nginx, a server that records the request, and hostile
# servers that each misbehave in one way.

load helpers

teardown() {
	kill_bg
}

PROGRESS_RE="^Attempting to connect to '127\.0\.0\.1' on port '[0-9]+'\.\.\.OK\.$"

start_http_server() {
	mkdir -p "$BATS_TEST_TMPDIR/www"
	printf 'hello\n' >"$BATS_TEST_TMPDIR/www/index.html"
	local out=$BATS_TEST_TMPDIR/httpd.out
	bg python3 -u -m http.server --bind 127.0.0.1 --directory "$BATS_TEST_TMPDIR/www" 0 \
		</dev/null >"$out" 2>&1
	wait_for_line "$out" '^Serving HTTP on '
	HTTPD_PORT=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$out" | head -1)
}

@test "http-head: python's http.server: the head exactly, nothing after it" {
	start_http_server
	run -0 --separate-stderr sp http-head "http://127.0.0.1:$HTTPD_PORT/"
	assert_line --index 0 $'HTTP/1.0 200 OK\r'
	assert_line --regexp $'^Server: SimpleHTTP/[0-9.]+ Python/[0-9.]+\r$'
	assert_line $'Content-Length: 6\r'
	# Ends with the blank line: the body the server sends with it is not shown.
	sp http-head -q "127.0.0.1:$HTTPD_PORT" >"$BATS_TEST_TMPDIR/head"
	assert_equal "$(tail -c 4 "$BATS_TEST_TMPDIR/head" | od -An -c | tr -d ' ')" '\r\n\r\n'
	run -1 grep -c hello "$BATS_TEST_TMPDIR/head"
	assert_output 0
}

@test "http-head: progress lines on stderr as the manual prints them; -q silences them" {
	start_http_server
	run -0 --separate-stderr sp http-head "127.0.0.1:$HTTPD_PORT"
	assert_equal "${#stderr_lines[@]}" 4
	[[ "${stderr_lines[0]}" =~ $PROGRESS_RE ]] || fail "${stderr_lines[0]}"
	assert_equal "${stderr_lines[1]}" "Sending HTTP HEAD request...OK."
	assert_equal "${stderr_lines[2]}" "Reading response:"
	assert_equal "${stderr_lines[3]}" "Closing socket...OK."
	run -0 --separate-stderr sp http-head -q "127.0.0.1:$HTTPD_PORT"
	assert_equal "$stderr" ""
}

@test "http-head: nginx: 200 for /, 404 for --path /missing" {
	command -v nginx >/dev/null || fail "nginx is needed (make deps-test)"
	start_nginx
	run -0 --separate-stderr sp http-head "http://127.0.0.1:$NGINX_PORT/"
	assert_line --index 0 $'HTTP/1.1 200 OK\r'
	assert_line --regexp $'^Server: nginx/[0-9.]+\r$'
	run -0 --separate-stderr sp http-head --path /missing "127.0.0.1:$NGINX_PORT"
	assert_line --index 0 $'HTTP/1.1 404 Not Found\r'
}

@test "http-head: sends exactly HEAD, Host with the port, User-Agent, Connection: close" {
	start_http_peer record "$BATS_TEST_TMPDIR/request"
	run -0 sp http-head -q "http://127.0.0.1:$PEER_PORT/a/b?c=d#fragment"
	wait_exit "$PEER_PID"
	local version
	version=$("$SOCKPAIR" --version | cut -d' ' -f2)
	assert_equal "$(od -An -c "$BATS_TEST_TMPDIR/request")" \
		"$(printf 'HEAD /a/b?c=d HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUser-Agent: sockpair/%s\r\nConnection: close\r\n\r\n' \
			"$PEER_PORT" "$version" | od -An -c)"
}

@test "http-head: an IPv6 literal goes in brackets, in the URL and in Host" {
	start_http_peer record "$BATS_TEST_TMPDIR/request" ::1
	run -0 --separate-stderr sp http-head "http://[::1]:$PEER_PORT/"
	assert_line --index 0 $'HTTP/1.1 200 OK\r'
	wait_exit "$PEER_PID"
	grep -q $'^Host: \\[::1\\]:'"$PEER_PORT"$'\r$' "$BATS_TEST_TMPDIR/request"
	[[ "${stderr_lines[0]}" == "Attempting to connect to '::1' on port '$PEER_PORT'...OK." ]]
}

@test "http-head: port 80, from getservbyname(www), is left out of Host" {
	# A private network namespace, where port 80 is ours for the test.
	unshare -n true 2>/dev/null || skip "no network namespace here"
	run -0 unshare -n sh -c "ip link set lo up &&
		{ python3 '$BATS_TEST_DIRNAME/lib/http_peer.py' record '$BATS_TEST_TMPDIR/request' 127.0.0.1 80 \
			>'$BATS_TEST_TMPDIR/peer80' & } &&
		for n in \$(seq 100); do grep -q listening '$BATS_TEST_TMPDIR/peer80' && break; sleep 0.05; done &&
		grep -q listening '$BATS_TEST_TMPDIR/peer80' &&
		timeout 10 '$SOCKPAIR' --trace http-head -q 127.0.0.1 3>&- 2>&1"
	assert_line 'getservbyname("www", "tcp") = 80'
	grep -q $'^Host: 127.0.0.1\r$' "$BATS_TEST_TMPDIR/request"
}

@test "http-head: -p and --path override the URL's port and path" {
	start_http_peer record "$BATS_TEST_TMPDIR/request"
	run -0 sp http-head -q -p "$PEER_PORT" --path /other http://127.0.0.1:1/ignored
	wait_exit "$PEER_PID"
	assert_equal "$(head -1 "$BATS_TEST_TMPDIR/request")" $'HEAD /other HTTP/1.1\r'
}

@test "http-head: HOST PORT, as connect takes them; the port said twice is a usage error" {
	start_http_peer record "$BATS_TEST_TMPDIR/request"
	run -0 --separate-stderr sp http-head 127.0.0.1 "$PEER_PORT"
	wait_exit "$PEER_PID"
	assert_line --index 0 --regexp '^HTTP/1\.[01] '
	assert_equal "$(sed -n 's/\r$//; s/^Host: //p' "$BATS_TEST_TMPDIR/request")" "127.0.0.1:$PEER_PORT"
	run --separate-stderr sp http-head -p 81 h 82
	assert_usage_error "sockpair: http-head: unexpected argument '82' (-p gave the port already)"
	run --separate-stderr sp http-head http://h:81/ 82
	assert_usage_error "sockpair: http-head: unexpected argument '82' (the URL gave the port already)"
	run --separate-stderr sp http-head h 0
	assert_usage_error "sockpair: http-head: invalid port '0' (1 to 65535)"
}

@test "http-head: a head sent a byte at a time arrives whole (PHP cut it short)" {
	start_http_peer trickle
	run -0 --separate-stderr sp http-head -q "127.0.0.1:$PEER_PORT"
	assert_output $'HTTP/1.1 200 OK\r\nServer: peer\r\nContent-Length: 5\r\n\r'
}

@test "http-head: a sloppy head with bare \\n line ends is accepted" {
	start_http_peer sloppy
	run -0 --separate-stderr sp http-head -q "127.0.0.1:$PEER_PORT"
	assert_output $'HTTP/1.0 200 OK\nServer: old'
}

@test "http-head: a body sent on an open connection is not waited for" {
	start_http_peer body-open
	run -0 --separate-stderr sp http-head -q -w 5 "127.0.0.1:$PEER_PORT"
	assert_line --index 0 $'HTTP/1.1 200 OK\r'
	refute_output --partial body
}

@test "http-head: a server that never answers times out, exit 5" {
	start_http_peer silent
	run --separate-stderr sp http-head -w 0.5 "127.0.0.1:$PEER_PORT"
	assert_failure 5
	assert_equal "$output" ""
	assert_equal "${stderr_lines[-1]}" "sockpair: http-head: read(127.0.0.1:$PEER_PORT): Connection timed out"
}

@test "http-head: a server dripping a byte now and then cannot outlast -w, exit 5" {
	start_http_peer drip
	local t0=$SECONDS
	run --separate-stderr sp http-head -q -w 1.5 "127.0.0.1:$PEER_PORT"
	assert_failure 5
	assert_equal "$output" ""
	[ $((SECONDS - t0)) -le 4 ] || fail "took $((SECONDS - t0)) s"
}

@test "http-head: endless headers stop at 64 KiB, exit 6" {
	start_http_peer endless
	run --separate-stderr sp http-head -q "127.0.0.1:$PEER_PORT"
	assert_failure 6
	assert_equal "$output" ""
	[[ "$stderr" =~ ^sockpair:\ http-head:\ read\(127\.0\.0\.1:[0-9]+\):\ response\ head\ over\ 64\ KiB:\ \"HTTP/1\.1\ 200\ OK ]] ||
		fail "$stderr"
}

@test "http-head: binary garbage is not HTTP, exit 6, shown escaped" {
	start_http_peer garbage
	run --separate-stderr sp http-head -q "127.0.0.1:$PEER_PORT"
	assert_failure 6
	assert_equal "$output" ""
	# As SPEC shows what a peer sends: \n, \x1b.
	assert_equal "$stderr" "sockpair: http-head: read(127.0.0.1:$PEER_PORT): not an HTTP response: \"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\rIHDR\""
}

@test "http-head: a close in the middle of the head is exit 6" {
	start_http_peer midclose
	run --separate-stderr sp http-head -q "127.0.0.1:$PEER_PORT"
	assert_failure 6
	assert_equal "$output" ""
	assert_equal "$stderr" "sockpair: http-head: read(127.0.0.1:$PEER_PORT): connection closed after 27 bytes of the response head"
}

@test "http-head: a reset connection is exit 6 with strerror's reason" {
	start_http_peer reset
	run --separate-stderr sp http-head -q "127.0.0.1:$PEER_PORT"
	assert_failure 6
	assert_equal "$output" ""
	assert_equal "$stderr" "sockpair: http-head: read(127.0.0.1:$PEER_PORT): Connection reset by peer"
}

@test "http-head: refused is exit 4, the step ends 'failed.' and the error follows" {
	local port
	start_refused_port
	port=$REFUSED_PORT
	run --separate-stderr sp http-head "127.0.0.1:$port"
	assert_failure 4
	assert_equal "$output" ""
	assert_equal "$stderr" "Attempting to connect to '127.0.0.1' on port '$port'...failed.
sockpair: http-head: connect(127.0.0.1:$port): Connection refused"
}

@test "http-head: an unknown host is exit 3" {
	RES_OPTIONS="timeout:1 attempts:1" run --separate-stderr sp http-head nonexistent.invalid
	assert_failure 3
	[[ "$stderr" =~ ^sockpair:\ http-head:\ getaddrinfo\(nonexistent\.invalid,\ 80\):\ .+$ ]] || fail "$stderr"
}

@test "http-head: schemes other than http:// and https:// are usage errors, with the reason" {
	run --separate-stderr sp http-head ftp://example.com/
	assert_usage_error "sockpair: http-head: unsupported scheme in 'ftp://example.com/' (only http:// and https://)"
	run --separate-stderr sp http-head gopher://example.com/
	assert_usage_error "sockpair: http-head: unsupported scheme in 'gopher://example.com/' (only http:// and https://)"
	run --separate-stderr sp http-head --cafile /dev/null http://example.com/
	assert_usage_error "sockpair: http-head: --cafile is for TLS: give an https:// URL"
}

@test "http-head: malformed targets and values are usage errors" {
	run --separate-stderr sp http-head 'http://host:99999/'
	assert_usage_error "sockpair: http-head: invalid port in 'http://host:99999/' (1 to 65535)"
	run --separate-stderr sp http-head 'http://[::1/'
	assert_usage_error "sockpair: http-head: host: an IPv6 address needs its closing ']'"
	run --separate-stderr sp http-head 'http:///path'
	assert_usage_error "sockpair: http-head: invalid host in 'http:///path'"
	run --separate-stderr sp http-head 'bad host'
	assert_usage_error "sockpair: http-head: invalid host in 'bad host'"
	run --separate-stderr sp http-head $'http://h/a\r\nX-Injected: 1'
	assert_usage_error "sockpair: http-head: path: spaces and control characters must be percent-encoded"
	run --separate-stderr sp http-head --path 'no-slash' h
	assert_usage_error "sockpair: http-head: --path: must start with '/'"
	run --separate-stderr sp http-head -p 0 h
	assert_usage_error "sockpair: http-head: invalid port '0' (1 to 65535)"
	run --separate-stderr sp http-head
	assert_usage_error "sockpair: http-head: missing HOST or URL"
	run --separate-stderr sp http-head a 1 c
	assert_usage_error "sockpair: http-head: unexpected argument 'c'"
}

@test "http-head: a stdout that cannot take the head is an error, exit 1" {
	start_http_peer record "$BATS_TEST_TMPDIR/request"
	run --separate-stderr bash -c "'$SOCKPAIR' http-head -q 127.0.0.1:$PEER_PORT >/dev/full 3>&-"
	assert_failure 1
	assert_equal "$stderr" "sockpair: http-head: write(stdout): No space left on device"
}

# The numbers of a "time:" line, in order.
timing_numbers() {
	sed -n 's/^time: namelookup \([0-9.]*\) connect \([0-9.]*\) pretransfer \([0-9.]*\) starttransfer \([0-9.]*\) total \([0-9.]*\)$/\1 \2 \3 \4 \5/p'
}

@test "http-head: --timing prints curl's five times, each at least the one before" {
	start_http_server
	run -0 --separate-stderr sp http-head --timing "http://127.0.0.1:$HTTPD_PORT/"
	assert_line --index 0 --regexp '^HTTP/1\.[01] 200 OK'
	local times
	times=$(printf '%s\n' "$stderr" | timing_numbers)
	[ -n "$times" ] || fail "no time: line in: $stderr"
	# shellcheck disable=SC2086
	awk '{ for (i = 2; i <= NF; i++) if ($i + 0 < $(i - 1) + 0) exit 1 }' <<<"$times" ||
		fail "not ordered: $times"
	# One time: line, once the head is complete.
	assert_equal "$(printf '%s\n' "$stderr" | grep -c '^time: ')" 1
}

@test "http-head: --timing shows a server's 300 ms between pretransfer and starttransfer" {
	start_http_peer slow
	run -0 --separate-stderr sp http-head --timing "http://127.0.0.1:$PEER_PORT/"
	local times
	times=$(printf '%s\n' "$stderr" | timing_numbers)
	[ -n "$times" ] || fail "no time: line in: $stderr"
	awk '{ exit !($4 - $3 >= 300) }' <<<"$times" || fail "starttransfer - pretransfer < 300: $times"
}

@test "http-head: -n 20 gives 20 lines, one head on stdout and an ordered summary" {
	start_http_server
	run -0 --separate-stderr sp http-head -n 20 "http://127.0.0.1:$HTTPD_PORT/"
	assert_equal "$(grep -c '^HTTP/' <<<"$output")" 1
	assert_equal "$(printf '%s\n' "$stderr" | grep -cE '^#[0-9]+ 200 total [0-9]+\.[0-9]{3}$')" 20
	printf '%s\n' "$stderr" | grep -qx 'summary: 20 requests, 20 ok, 0 failed' || fail "$stderr"
	local phase
	for phase in namelookup connect starttransfer total; do
		printf '%s\n' "$stderr" | grep "^$phase min " |
			awk '{ exit !(NF == 11 && $3 <= $5 && $5 <= $7 && $7 <= $9 && $9 <= $11) }' ||
			fail "summary of $phase not ordered: $stderr"
	done
}

@test "http-head: -n 5 against a refusing port: exit 4, 5 failed" {
	local port
	start_refused_port
	port=$REFUSED_PORT
	run -4 --separate-stderr sp http-head -n 5 "http://127.0.0.1:$port/"
	assert_output ""
	assert_equal "$(printf '%s\n' "$stderr" | grep -c "^#[1-5] failed: connect(127.0.0.1:$port): Connection refused$")" 5
	printf '%s\n' "$stderr" | grep -qx 'summary: 5 requests, 0 ok, 5 failed' || fail "$stderr"
}

@test "http-head: -n 3 -i 0.5 lasts at least a second" {
	start_http_server
	local t0 t1
	t0=$(date +%s%N)
	run -0 --separate-stderr sp http-head -n 3 -i 0.5 "http://127.0.0.1:$HTTPD_PORT/"
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -ge 1000 ] || fail "took $(((t1 - t0) / 1000000)) ms"
	printf '%s\n' "$stderr" | grep -qx 'summary: 3 requests, 3 ok, 0 failed' || fail "$stderr"
}

@test "http-head: --json timing and summary events carry numbers" {
	start_http_server
	run -0 --separate-stderr sp --json http-head --timing "http://127.0.0.1:$HTTPD_PORT/"
	run -0 jq -s -e 'map(select(.event == "timing")) | length == 1 and (.[0] | .total >= .starttransfer
		and .starttransfer >= .pretransfer and .pretransfer >= .connect and .connect >= .namelookup)' \
		<<<"$stderr"
	run -0 --separate-stderr sp --json http-head -n 4 "http://127.0.0.1:$HTTPD_PORT/"
	run -0 jq -s -e 'map(select(.event == "summary")) | length == 1 and .[0].requests == 4
		and .[0].ok == 4 and .[0].total.min <= .[0].total.max' <<<"$stderr"
	run -2 --separate-stderr sp http-head -i 1 "http://127.0.0.1:$HTTPD_PORT/"
	assert_usage_error "sockpair: http-head: -i is the pause between the requests of -n"
	run -2 --separate-stderr sp http-head -n 0 "http://127.0.0.1:$HTTPD_PORT/"
	assert_usage_error "sockpair: http-head: invalid count '0' (1 to 1000000)"
	# -q silences progress, not the results asked for.
	run -0 --separate-stderr sp -q http-head -n 2 "http://127.0.0.1:$HTTPD_PORT/"
	assert_equal "$(grep -c '^#[12] 200 total ' <<<"$stderr")" 2
	assert_equal "$(grep -c '^summary: 2 requests, 2 ok, 0 failed$' <<<"$stderr")" 1
	assert_equal "$(grep -c '^total min ' <<<"$stderr")" 1
	run -2 --separate-stderr sp http-head -n 2 -i 86401 "http://127.0.0.1:$HTTPD_PORT/"
	assert_usage_error "sockpair: http-head: invalid interval '86401' (seconds, above 0 and at most 86400)"
}

@test "http-head: a bare IPv6 host is taken; a port needs the brackets" {
	start_http_peer record "$BATS_TEST_TMPDIR/request" ::1
	run -0 --separate-stderr sp http-head -6 -p "$PEER_PORT" ::1
	assert_line --index 0 --partial "HTTP/1.1 200 OK"
	grep -q $'^Host: \[::1\]:'"$PEER_PORT"$'\r$' "$BATS_TEST_TMPDIR/request" ||
		fail "$(cat -v "$BATS_TEST_TMPDIR/request")"
	run -2 --separate-stderr sp http-head '::1:8080:x!'
	assert_usage_error "sockpair: http-head: invalid host in '::1:8080:x!' (an IPv6 address with a port is written [ADDRESS]:PORT)"
}

@test "http-head: a target over 8 KiB is a usage error, never a request cut short" {
	local long
	long=$(printf 'a%.0s' $(seq 8200))
	run -2 --separate-stderr sp http-head "http://127.0.0.1:1/$long"
	assert_usage_error "sockpair: http-head: path: longer than 8192 bytes"
	run -2 --separate-stderr sp http-head -p 1 127.0.0.1 --path "/$(printf 'c%.0s' $(seq 8192))"
	assert_usage_error "sockpair: http-head: --path: longer than 8192 bytes"
	# At the bound, 8 KiB with the query, the request line goes out whole.
	long=$(printf 'b%.0s' $(seq 8187))
	start_http_peer record "$BATS_TEST_TMPDIR/request"
	run -0 --separate-stderr sp http-head "http://127.0.0.1:$PEER_PORT/$long?q=1"
	assert_equal "$(head -1 "$BATS_TEST_TMPDIR/request")" "HEAD /$long?q=1 HTTP/1.1"$'\r'
	# --path at the bound is taken too: the connect is what fails.
	run -4 --separate-stderr sp http-head -p 1 127.0.0.1 --path "/$long?q=1"
}

@test "http-head: a query with no path before it counts its '/' against the 8 KiB" {
	local query
	query=$(printf 'q%.0s' $(seq 9000))
	run -2 --separate-stderr sp http-head "http://127.0.0.1:1?$query"
	assert_usage_error "sockpair: http-head: path: longer than 8192 bytes"
	# "/?" and 8190 bytes: 8192, the bound, sent whole.
	query=$(printf 'q%.0s' $(seq 8190))
	start_http_peer record "$BATS_TEST_TMPDIR/request"
	run -0 --separate-stderr sp http-head "http://127.0.0.1:$PEER_PORT?$query"
	assert_equal "$(head -1 "$BATS_TEST_TMPDIR/request")" "HEAD /?$query HTTP/1.1"$'\r'
	run -2 --separate-stderr sp http-head "http://127.0.0.1:1?${query}q"
	assert_usage_error "sockpair: http-head: path: longer than 8192 bytes"
}

@test "http-head: an interim 103 head is printed and read past to the final head" {
	start_http_peer early-hints
	run -0 --separate-stderr sp http-head "http://127.0.0.1:$PEER_PORT/"
	assert_equal "$(printf '%s\n' "$output" | tr -d '\r' | grep '^HTTP/')" "HTTP/1.1 103 Early Hints
HTTP/1.1 200 OK"
	assert_line --partial "Link: </style.css>; rel=preload"
	assert_line --partial "Server: peer"
}

@test "http-head: endless 100 Continue heads end at the 64 KiB bound, exit 6" {
	start_http_peer continue
	run -6 --separate-stderr sp http-head -q "http://127.0.0.1:$PEER_PORT/"
	[[ "$stderr" == "sockpair: http-head: read(127.0.0.1:$PEER_PORT): response heads over 64 KiB: "* ]] ||
		fail "$stderr"
}
