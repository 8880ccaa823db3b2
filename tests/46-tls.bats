#!/usr/bin/env bats
# TLS: connect --tls and http-head https:// against real TLS servers
# (python's ssl, openssl s_server, nginx), with a throw-away CA made by
# openssl req in each test.

load helpers

teardown() {
	kill_bg
}

TLS_PEER=$BATS_TEST_DIRNAME/lib/tls_peer.py

setup() {
	CERTS=$BATS_TEST_TMPDIR/certs
	mkdir -p "$CERTS"
	timeout 60 python3 "$TLS_PEER" certs "$CERTS"
}

# A tls_peer.py server (MODE ARGS) in the background; TLS_PORT from its
# announcement, its stdout in tls.out.
start_tls_peer() {
	start_script_peer tls.out tls_peer.py "$@"
	TLS_PORT=$PEER_PORT
}

@test "tls: http-head https:// with --cafile: the head on stdout, the tls line names TLSv1.3 and the CN" {
	start_tls_peer https "$CERTS" localhost
	run -0 --separate-stderr sp http-head --cafile "$CERTS/ca.pem" "https://127.0.0.1:$TLS_PORT/"
	assert_line --index 0 $'HTTP/1.1 200 OK\r'
	assert_line $'Content-Length: 0\r'
	grep -qx 'tls: TLSv1\.3 TLS_[A-Z0-9_]*, ALPN none, certificate CN=localhost, issuer CN=sockpair test CA, valid until [0-9]\{4\}-[0-9][0-9]-[0-9][0-9], verified' <<<"$stderr" ||
		fail "no tls line: $stderr"
	# the date is the certificate's, in UTC
	until=$(openssl x509 -enddate -noout -in "$CERTS/localhost.pem" | sed 's/notAfter=//')
	assert_regex "$stderr" "valid until $(TZ=UTC date -d "$until" +%Y-%m-%d), verified"
}

@test "tls: without --cafile the test CA is unknown: exit 7, certificate verify failed; --insecure: exit 0 and the warning" {
	start_tls_peer https "$CERTS" localhost
	run -7 --separate-stderr sp http-head -q "https://localhost:$TLS_PORT/"
	assert_output ''
	assert_equal "$stderr" "sockpair: http-head: TLS handshake with 127.0.0.1:$TLS_PORT: certificate verify failed (unable to get local issuer certificate)"
	run -0 --separate-stderr sp http-head -q --insecure "https://localhost:$TLS_PORT/"
	assert_line --index 0 $'HTTP/1.1 200 OK\r'
	assert_equal "$stderr" "sockpair: http-head: --insecure: the certificate was not verified"
}

@test "tls: a name mismatch is exit 7; --sni other.test with the CA is exit 0" {
	start_tls_peer https "$CERTS" other
	run -7 --separate-stderr sp http-head -q --cafile "$CERTS/ca.pem" "https://127.0.0.1:$TLS_PORT/"
	assert_regex "$stderr" "TLS handshake with 127\\.0\\.0\\.1:$TLS_PORT: certificate verify failed \\(.*(mismatch|Hostname).*\\)"
	run -0 --separate-stderr sp http-head --cafile "$CERTS/ca.pem" --sni other.test "https://127.0.0.1:$TLS_PORT/"
	assert_line --index 0 $'HTTP/1.1 200 OK\r'
	assert_regex "$stderr" 'certificate CN=other\.test, issuer CN=sockpair test CA'
	# a host name, not an address: the name's own check
	run -7 --separate-stderr sp http-head -q --cafile "$CERTS/ca.pem" "https://localhost:$TLS_PORT/"
	assert_equal "$stderr" "sockpair: http-head: TLS handshake with 127.0.0.1:$TLS_PORT: certificate verify failed (hostname mismatch)"
}

@test "tls: the server's names are shown escaped, never as control codes" {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout "$CERTS/evil-key.pem" \
		-out "$CERTS/evil.pem" -subj "/CN=evil$(printf '\033')[31mred" 2>/dev/null
	start_tls_peer https "$CERTS" evil
	run -0 --separate-stderr sp http-head --insecure "https://localhost:$TLS_PORT/"
	assert_regex "$stderr" 'certificate CN=evil\\x1b\[31mred, issuer CN=evil\\x1b\[31mred, valid until'
	[[ "$stderr" != *$'\033'* ]] || fail "a raw escape reached stderr"
}

@test "tls: -w bounds http-head after the handshake too: a record cut short is exit 5" {
	start_tls_peer stall "$CERTS"
	SP_TIMEOUT=10 run -5 --separate-stderr sp http-head -q -w 1 --cafile "$CERTS/ca.pem" "https://localhost:$TLS_PORT/"
	assert_equal "$stderr" "sockpair: http-head: read(127.0.0.1:$TLS_PORT): Connection timed out"
}

@test "tls: a record no key made is exit 7 with OpenSSL's reason, with --insecure too" {
	start_tls_peer garbage "$CERTS"
	run -7 --separate-stderr sp connect -q --tls --cafile "$CERTS/ca.pem" localhost "$TLS_PORT" </dev/null
	assert_regex "$stderr" "^sockpair: connect: TLS with 127\\.0\\.0\\.1:$TLS_PORT: (decryption failed or bad record mac|bad record mac)\$"
	kill_bg
	start_tls_peer garbage "$CERTS"
	run -7 --separate-stderr sp connect -q --tls --insecure localhost "$TLS_PORT" </dev/null
	assert_regex "$stderr" "TLS with 127\\.0\\.0\\.1:$TLS_PORT: (decryption failed or bad record mac|bad record mac)\$"
}

@test "tls: connect --tls to a python TLS echo: 1 MiB both ways, sha256 equal, close_notify sent and the peer's awaited" {
	head -c 1M /dev/urandom >"$BATS_TEST_TMPDIR/data"
	start_tls_peer echo "$CERTS"
	SP_TIMEOUT=30 sp connect -q --tls --cafile "$CERTS/ca.pem" localhost "$TLS_PORT" \
		<"$BATS_TEST_TMPDIR/data" >"$BATS_TEST_TMPDIR/back"
	cmp "$BATS_TEST_TMPDIR/data" "$BATS_TEST_TMPDIR/back"
	[ "$(sha256sum <"$BATS_TEST_TMPDIR/back")" = "$(sha256sum <"$BATS_TEST_TMPDIR/data")" ]
	wait_exit "$PEER_PID"
	# the server saw our close_notify, and its own went back (unwrap)
	assert_equal "$(tail -1 "$BATS_TEST_TMPDIR/tls.out")" close_notify
}

@test "tls: connect --tls to openssl s_server -rev: a line each way" {
	bg openssl s_server -accept 127.0.0.1:0 -cert "$CERTS/localhost.pem" \
		-key "$CERTS/localhost-key.pem" -rev -naccept 1 >"$BATS_TEST_TMPDIR/s.out" 2>&1
	wait_for_line "$BATS_TEST_TMPDIR/s.out" '^ACCEPT '
	port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/s.out")
	run -0 --separate-stderr sp connect --tls --cafile "$CERTS/ca.pem" localhost "$port" <<<'sockpair'
	assert_output 'riapkcos'
	assert_regex "$stderr" 'tls: TLSv1\.3 '
}

@test "tls: --timing gives six ordered figures, appconnect among them; -n's summary has it" {
	start_tls_peer https "$CERTS" localhost
	run -0 --separate-stderr sp http-head -q --timing --cafile "$CERTS/ca.pem" "https://localhost:$TLS_PORT/"
	line=$(grep '^time:' <<<"$stderr")
	read -r _ n1 a n2 b n3 c n4 d n5 e n6 f <<<"$line"
	assert_equal "$n1 $n2 $n3 $n4 $n5 $n6" "namelookup connect appconnect pretransfer starttransfer total"
	awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" -v e="$e" -v f="$f" \
		'BEGIN { exit !(a <= b && b <= c && c <= d && d <= e && e <= f && c > b) }' ||
		fail "not in order: $line"
	run -0 --separate-stderr sp http-head -n 3 --cafile "$CERTS/ca.pem" "https://localhost:$TLS_PORT/"
	assert_regex "$stderr" $'\nappconnect min [0-9.]+ median '
	# the handshake is said once, not for each request
	assert_equal "$(grep -c '^tls: ' <<<"$stderr")" 1
}

@test "tls: -x shows the plaintext request, marked (tls); --trace shows the socket calls" {
	start_tls_peer https "$CERTS" localhost
	run -0 --separate-stderr sp http-head -q -x --trace --cafile "$CERTS/ca.pem" "https://localhost:$TLS_PORT/"
	assert_regex "$stderr" $'(^|\n)-- sent [0-9]+ bytes at \\+[0-9.]+ s \\(tls\\)'
	req=$(grep '^> ' <<<"$stderr" | cut -c3- | xxd -r)
	assert_regex "$req" $'^HEAD / HTTP/1\\.1\r\nHost: localhost:'"$TLS_PORT"$'\r\n'
	# the ciphertext: a handshake record (22) of TLS 1.x (3) goes out first
	assert_regex "$stderr" $'\nsendto\\([0-9]+, "\\\\26\\\\3'
}

@test "tls: SSLKEYLOGFILE gets CLIENT_TRAFFIC_SECRET_0 lines; --pcap holds the plaintext" {
	start_tls_peer https "$CERTS" localhost
	SSLKEYLOGFILE=$BATS_TEST_TMPDIR/keys run -0 sp http-head -q --cafile "$CERTS/ca.pem" \
		--pcap "$BATS_TEST_TMPDIR/cap.pcapng" "https://localhost:$TLS_PORT/"
	run -0 grep -cE '^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]{64,96}$' "$BATS_TEST_TMPDIR/keys"
	assert_output 1
	run -0 --separate-stderr timeout 30 tshark -r "$BATS_TEST_TMPDIR/cap.pcapng" -d "tcp.port==$TLS_PORT,http" \
		-Y http.request -T fields -e http.request.method
	assert_output HEAD
}

@test "tls: a server that speaks plain HTTP on the TLS port: exit 7, not a hang" {
	start_tls_peer plain
	run -7 --separate-stderr sp http-head -q -w 2 "https://localhost:$TLS_PORT/"
	assert_regex "$stderr" "^sockpair: http-head: TLS handshake with 127\\.0\\.0\\.1:$TLS_PORT: (wrong version number|packet length too long|record layer failure)"
	# and one that accepts and says nothing is bounded by -w (exit 5)
	open_fifo
	NC_IN=$FIFO start_nc_server
	run -5 --separate-stderr sp connect -q -w 0.5 --tls 127.0.0.1 "$NC_PORT" </dev/null
	assert_equal "$stderr" "sockpair: connect: TLS handshake with 127.0.0.1:$NC_PORT: Connection timed out"
}

@test "tls: TLS 1.2-only and 1.3-only servers; ALPN h2 offered and chosen is shown" {
	start_tls_peer https "$CERTS" localhost 1.2
	run -0 --separate-stderr sp http-head --cafile "$CERTS/ca.pem" "https://localhost:$TLS_PORT/"
	assert_regex "$stderr" 'tls: TLSv1\.2 [A-Z0-9_-]+, ALPN none, certificate CN=localhost'
	kill_bg
	start_tls_peer https "$CERTS" localhost 1.3 h2,http/1.1
	run -0 --separate-stderr sp http-head --cafile "$CERTS/ca.pem" --alpn h2 "https://localhost:$TLS_PORT/"
	assert_regex "$stderr" 'tls: TLSv1\.3 [A-Z0-9_]+, ALPN h2, certificate'
	run -0 --separate-stderr sp http-head --cafile "$CERTS/ca.pem" "https://localhost:$TLS_PORT/"
	assert_regex "$stderr" 'ALPN http/1\.1, certificate'
	assert_line $'X-Alpn: http/1.1\r'
	run -0 --separate-stderr sp --json http-head --cafile "$CERTS/ca.pem" "https://localhost:$TLS_PORT/"
	run -0 jq -s -e 'map(select(.event == "tls")) | length == 1 and (.[0] | .version == "TLSv1.3" and .alpn == "http/1.1" and .verified == true and .subject_cn == "localhost" and (.not_after | test("^[0-9]{4}-")))' <<<"$stderr"
}

@test "tls: bad TLS options are usage errors" {
	run -2 --separate-stderr sp connect --cafile /dev/null 127.0.0.1 1
	assert_usage_error "sockpair: connect: --cafile is for TLS: add --tls"
	run -2 --separate-stderr sp connect --tls -U /tmp/x.sock
	assert_usage_error "sockpair: connect: --tls is for a TCP connection; not with -U"
	run -2 --separate-stderr sp connect --tls --alpn 'h2,,x' 127.0.0.1 1
	assert_usage_error "sockpair: connect: invalid ALPN list 'h2,,x' (names separated by commas)"
	run -2 --separate-stderr sp http-head --insecure --cafile /dev/null https://127.0.0.1:1/
	assert_usage_error "sockpair: http-head: --cafile verifies the certificate, --insecure does not: not both"
}

@test "tls: nginx over TLS with the test CA's certificate: the head and the handshake" {
	start_nginx "$CERTS/localhost.pem" "$CERTS/localhost-key.pem"
	port=$NGINX_PORT
	run -0 --separate-stderr sp http-head --cafile "$CERTS/ca.pem" "https://localhost:$port/"
	assert_line --index 0 $'HTTP/1.1 200 OK\r'
	assert_line --regexp $'^Server: nginx/[0-9.]+\r$'
	assert_regex "$stderr" 'tls: TLSv1\.[23] [A-Z0-9_-]+, ALPN http/1\.1, certificate CN=localhost, issuer CN=sockpair test CA, valid until [0-9-]+, verified'
	# curl agrees on what the handshake gave
	run -0 timeout 10 curl -sI --cacert "$CERTS/ca.pem" "https://localhost:$port/"
	assert_line --index 0 $'HTTP/1.1 200 OK\r'
}
