#!/usr/bin/env bats
# --pcap: the capture each command writes, read by the real readers
# (Debian's tshark, capinfos, tcpdump), never by a parser of ours.

load helpers

teardown() {
	kill_bg
}

CAP=
setup() {
	CAP=$BATS_TEST_TMPDIR/cap.pcapng
	# tshark refuses to read the capture of another user's file as root
	# otherwise; its "Running as user root" warning goes to stderr.
	TSHARK=(timeout -k 2 60 tshark -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE
		-o udp.check_checksum:TRUE)
}

ts() {
	"${TSHARK[@]}" "$@" 2>/dev/null
}

# The bytes of one direction of TCP stream N, as tshark's Follow gives
# them: node 0's lines start in column 0, node 1's with a tab.
followed() {
	local stream=$1 node=$2
	ts -r "$CAP" -q -z "follow,tcp,raw,$stream" |
		awk -v node="$node" '
			/^Node 1:/ { body = 1; next }
			/^====/ { body = 0 }
			body && node == 0 && /^[0-9a-f]/ { print }
			body && node == 1 && /^\t/ { sub(/^\t/, ""); print }' |
		xxd -r -p
}

# The capture holds no analysis flag and no bad checksum.
assert_clean_capture() {
	run -0 ts -r "$CAP" -Y 'tcp.analysis.flags || tcp.checksum.status == 0 || ip.checksum.status == 0 || udp.checksum.status == 0'
	assert_output ''
	run -0 ts -r "$CAP" -Y 'tcp.checksum.status == 1 || udp.checksum.status == 1'
	[ -n "$output" ] || fail "no checksum was verified"
}

@test "pcap: listen and connect over TCP, 256 KiB each way: Follow gives both, no flags, tcpdump reads it" {
	head -c 262144 /dev/urandom >"$BATS_TEST_TMPDIR/a"
	head -c 262144 /dev/urandom >"$BATS_TEST_TMPDIR/b"
	LISTEN_IN=$BATS_TEST_TMPDIR/a start_listen --pcap "$CAP" -p 0
	SP_TIMEOUT=30 sp connect -q 127.0.0.1 "$LISTEN_PORT" <"$BATS_TEST_TMPDIR/b" \
		>"$BATS_TEST_TMPDIR/got-a"
	wait_exit "$LISTEN_PID"
	[ "$BG_STATUS" -eq 0 ] || fail "listen exited $BG_STATUS: $(cat "$BATS_TEST_TMPDIR/listen.err")"
	cmp "$BATS_TEST_TMPDIR/got-a" "$BATS_TEST_TMPDIR/a"
	cmp "$BATS_TEST_TMPDIR/listen.out" "$BATS_TEST_TMPDIR/b"
	[ "$(stat -c %a "$CAP")" = 600 ]
	# node 0 sent the SYN: the client, connect
	followed 0 0 >"$BATS_TEST_TMPDIR/from-client"
	followed 0 1 >"$BATS_TEST_TMPDIR/from-server"
	cmp "$BATS_TEST_TMPDIR/from-client" "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/from-server" "$BATS_TEST_TMPDIR/a"
	assert_clean_capture
	run -0 ts -r "$CAP" -T fields -e tcp.dstport -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0'
	assert_output "$LISTEN_PORT"
	run -0 ts -r "$CAP" -Y 'tcp.flags.fin == 1'
	[ "${#lines[@]}" -eq 2 ] || fail "expected a FIN from each side: $output"
	run -0 timeout 30 tcpdump -nn -r "$CAP"
	assert_output --partial "127.0.0.1.$LISTEN_PORT"
	run -0 timeout 30 capinfos -c "$CAP"
	assert_output --regexp 'Number of packets: +[0-9]+'
}

@test "pcap: a UNIX path: the flow's comment names the path and the peer's pid, Follow gives the bytes" {
	sock=$BATS_TEST_TMPDIR/s.sock
	printf 'from the server\n' >"$BATS_TEST_TMPDIR/a"
	LISTEN_IN=$BATS_TEST_TMPDIR/a start_listen --pcap "$CAP" -U "$sock"
	printf 'hello over a UNIX socket\n' >"$BATS_TEST_TMPDIR/b"
	# the client's pid, which the listener's capture names
	SP_TIMEOUT=10 timeout 10 sh -c 'echo $$ >"$1"; exec "$2" connect -q -U "$3"' sh \
		"$BATS_TEST_TMPDIR/client.pid" "$SOCKPAIR" "$sock" <"$BATS_TEST_TMPDIR/b" \
		>"$BATS_TEST_TMPDIR/got"
	client=$(cat "$BATS_TEST_TMPDIR/client.pid")
	wait_exit "$LISTEN_PID"
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = 'from the server' ]
	run -0 ts -r "$CAP" -T fields -e frame.comment -Y frame.comment
	assert_output "sockpair: $sock, peer pid $client"
	run -0 ts -r "$CAP" -T fields -e ip.src -e ip.dst -c 1
	assert_output --regexp '^127\.255\.[0-9]+\.[0-9]+'$'\t''127\.255\.0\.1$'
	[ "$(followed 0 0)" = 'hello over a UNIX socket' ]
	[ "$(followed 0 1)" = 'from the server' ]
	assert_clean_capture
}

@test "pcap: an abstract name, on the connecting side: @NAME and the server's pid" {
	name=sockpair-pcap-$$-$RANDOM
	start_listen -U "@$name"
	printf 'abstract\n' | sp connect --pcap "$CAP" -U "@$name" >/dev/null
	wait_exit "$LISTEN_PID"
	run -0 ts -r "$CAP" -T fields -e frame.comment -Y frame.comment
	assert_output "sockpair: @$name, peer pid $LISTEN_SP"
	[ "$(followed 0 0)" = abstract ]
}

@test "pcap: pair records its message once; a datagram pair is UDP" {
	run -0 sp pair --pcap "$CAP"
	[ "$(followed 0 0)" = 'ABCdef123' ]
	run -0 ts -r "$CAP" -T fields -e tcp.len -Y 'tcp.len > 0'
	assert_output 10
	run -0 ts -r "$CAP" -T fields -e frame.comment -Y frame.comment
	assert_output --regexp '^sockpair: socketpair, peer pid [0-9]+$'
	run -0 ts -r "$CAP" -Y 'tcp.flags.fin == 1'
	[ "${#lines[@]}" -eq 2 ] || fail "expected a FIN from each end: $output"
	assert_clean_capture
	# a seqpacket message is one segment
	run -0 sp pair -t seqpacket --pcap "$CAP"
	run -0 ts -r "$CAP" -T fields -e tcp.len -Y 'tcp.len > 0'
	assert_output 10
	assert_clean_capture
	run -0 sp pair -t dgram --pcap "$CAP"
	run -0 ts -r "$CAP" -T fields -e udp.length -e data -Y udp
	assert_output "18"$'\t'"$(printf 'ABCdef123\n' | xxd -p)"
	assert_clean_capture
}

@test "pcap: fork-echo: the parent records both messages, the child nothing" {
	run -0 sp fork-echo --pcap "$CAP" </dev/null
	run -0 ts -r "$CAP" -T fields -e tcp.payload -Y 'tcp.len > 0'
	[ "${#lines[@]}" -eq 2 ] || fail "expected 2 segments: $output"
	assert_line "$(printf 'Message From Parent.' | xxd -p)"
	assert_line --partial "$(printf 'Message From Child' | xxd -p)"
	# the peer the comment names is the child, not sockpair's parent
	run -0 ts -r "$CAP" -T fields -e frame.comment -Y frame.comment
	assert_output --regexp '^sockpair: socketpair, peer pid [0-9]+$'
	[ "${output##* }" != "$(pgrep -xo sockpair || true)" ]
	assert_clean_capture
}

@test "pcap: http-head against python http.server: tshark decodes HEAD and the status" {
	mkdir "$BATS_TEST_TMPDIR/www"
	bg python3 -m http.server 0 --bind 127.0.0.1 --directory "$BATS_TEST_TMPDIR/www" \
		</dev/null >"$BATS_TEST_TMPDIR/http.out" 2>&1
	wait_for_line "$BATS_TEST_TMPDIR/http.out" 'Serving HTTP on'
	port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/http.out" | head -1)
	run -0 sp http-head --pcap "$CAP" "http://127.0.0.1:$port/"
	run -0 ts -r "$CAP" -d "tcp.port==$port,http" -Y http.request -T fields -e http.request.method
	assert_output HEAD
	run -0 ts -r "$CAP" -d "tcp.port==$port,http" -Y http.response -T fields -e http.response.code
	assert_output 200
	assert_clean_capture
}

@test "pcap: proxy between redis-cli and redis-server on a UNIX socket: RESP decodes the command" {
	command -v redis-server >/dev/null || skip "no redis-server"
	local rsock=$BATS_TEST_TMPDIR/redis.sock
	bg redis-server --port 0 --unixsocket "$rsock" --save '' --appendonly no
	wait_for_socket "$rsock"
	wait_until "redis-server answers" redis-cli -s "$rsock" ping
	start_proxy --pcap "$CAP" 0 "$rsock"
	run -0 timeout 10 redis-cli -p "$PX_PORT" set pcap-key pcap-value
	assert_output OK
	stop_proxy
	# one flow from the client's real address to the target's made-up one
	run -0 ts -r "$CAP" -T fields -e ip.src -e ip.dst -e tcp.dstport -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0'
	assert_output "127.0.0.1"$'\t'"127.255.0.1"$'\t'80
	run -0 ts -r "$CAP" -d "tcp.port==80,resp" -Y resp -T fields -e resp.bulk_string.value
	assert_line "$(printf set | xxd -p),$(printf pcap-key | xxd -p),$(printf pcap-value | xxd -p)"
	run -0 ts -r "$CAP" -T fields -e frame.comment -Y frame.comment
	assert_output --regexp "^sockpair: $rsock, peer pid [0-9]+\$"
	assert_clean_capture
}

@test "pcap: proxy between curl and a UNIX HTTP server: the request's URI decoded; --pcap - to tshark" {
	sock=$BATS_TEST_TMPDIR/http.sock
	bg python3 "$BATS_TEST_DIRNAME/lib/proxy_peers.py" unix-http "$sock"
	wait_for_socket "$sock"
	PX_ERR=$BATS_TEST_TMPDIR/proxy.err
	bg sh -c 'exec "$1" proxy --pcap - 0 "$2" 2>"$3" >"$4"' sh "$SOCKPAIR" "$sock" "$PX_ERR" "$CAP"
	px=$BG_LAST px_sp=$BG_CHILD
	wait_for_line "$PX_ERR" '^listening on '
	PX_PORT=$(announced_port "$PX_ERR")
	run -0 timeout 10 curl -s "http://127.0.0.1:$PX_PORT/some/path?q=1"
	kill -TERM "$px_sp"
	wait_exit "$px"
	assert_equal "$BG_STATUS" 0
	run -0 ts -r - -Y http.request -T fields -e http.request.uri <"$CAP"
	assert_output '/some/path?q=1'
	run -0 ts -r "$CAP" -T fields -e frame.comment -Y frame.comment
	assert_output --regexp "^sockpair: $sock, peer pid [0-9]+\$"
}

@test "pcap: listen -u and connect -u: UDP packets with the datagrams' bytes" {
	start_listen -u --pcap "$CAP" -p 0
	run -0 sp connect -u -q -w 1 127.0.0.1 "$LISTEN_PORT" <<<$'one\ntwo'
	wait_for_line "$BATS_TEST_TMPDIR/listen.out" '^two$'
	kill -TERM "$LISTEN_SP"
	wait_exit "$LISTEN_PID"
	run -0 ts -r "$CAP" -Y udp -T fields -e udp.dstport -e data
	assert_line "$LISTEN_PORT"$'\t'"$(printf 'one\n' | xxd -p)"
	assert_line "$LISTEN_PORT"$'\t'"$(printf 'two\n' | xxd -p)"
	assert_clean_capture
}

@test "pcap: a reset by the server shows as an RST from it, and nothing after" {
	start_peer reset-after 5
	run -1 --separate-stderr sp connect -q --pcap "$CAP" 127.0.0.1 "$PEER_PORT" < <(printf 'hello')
	assert_regex "$stderr" 'Connection reset by peer'
	run -0 ts -r "$CAP" -Y 'tcp.flags.reset == 1' -T fields -e tcp.srcport
	assert_output "$PEER_PORT"
	run -0 ts -r "$CAP" -T fields -e tcp.flags.reset
	assert_equal "${lines[-1]}" 1
	assert_clean_capture
}

@test "pcap: proxy --reset-after: the reset is in the flow, from the target's side" {
	start_script_peer server.out proxy_peers.py echo
	start_proxy --pcap "$CAP" --reset-after up:2 0 "127.0.0.1:$PEER_PORT"
	run timeout 10 python3 "$BATS_TEST_DIRNAME/lib/proxy_peers.py" client-sees-reset "$PX_PORT"
	assert_output reset
	wait_for_line "$PX_ERR" '^#1 reset'
	stop_proxy
	run -0 ts -r "$CAP" -Y 'tcp.flags.reset == 1' -T fields -e tcp.srcport
	assert_output "$PEER_PORT"
	assert_clean_capture
}

@test "pcap: a UNIX datagram socket: each datagram a UDP packet, the path in the comment" {
	sock=$BATS_TEST_TMPDIR/d.sock
	start_listen -u -U "$sock" --pcap "$CAP"
	run -0 sp connect -u -q -w 1 -U "$sock" <<<$'one\ntwo'
	wait_for_line "$BATS_TEST_TMPDIR/listen.out" '^two$'
	kill -TERM "$LISTEN_SP"
	wait_exit "$LISTEN_PID"
	run -0 ts -r "$CAP" -Y udp -T fields -e ip.src -e data
	assert_line --regexp "^127\\.255\\.0\\.1"$'\t'"$(printf 'one\n' | xxd -p)\$"
	assert_line --regexp "^127\\.255\\.0\\.1"$'\t'"$(printf 'two\n' | xxd -p)\$"
	run -0 ts -r "$CAP" -T fields -e frame.comment -Y frame.comment
	assert_output --regexp "^sockpair: $sock"
	assert_clean_capture
}

@test "pcap: a FIFO whose reader goes away mid-run: the error at once, the relay goes on, exit 1" {
	fifo=$BATS_TEST_TMPDIR/cap.fifo
	mkfifo "$fifo"
	bg head -c 300 "$fifo"
	head -c 1M /dev/urandom >"$BATS_TEST_TMPDIR/data"
	start_listen --pcap "$fifo" -p 0
	SP_TIMEOUT=20 sp connect -q 127.0.0.1 "$LISTEN_PORT" <"$BATS_TEST_TMPDIR/data"
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 1
	cmp "$BATS_TEST_TMPDIR/listen.out" "$BATS_TEST_TMPDIR/data"
	assert_equal "$(grep -c '^sockpair: listen: write(' "$BATS_TEST_TMPDIR/listen.err")" 1
	grep -qx "sockpair: listen: write($fifo): Broken pipe" "$BATS_TEST_TMPDIR/listen.err"
}

@test "pcap: 100 MiB relayed: no segment over 65000 bytes, Follow's sha256 is the data's" {
	head -c $((100 << 20)) /dev/urandom >"$BATS_TEST_TMPDIR/big"
	start_listen -p 0
	run -0 timeout 60 "$SOCKPAIR" connect -q --pcap "$CAP" 127.0.0.1 "$LISTEN_PORT" \
		<"$BATS_TEST_TMPDIR/big"
	wait_exit "$LISTEN_PID"
	run -0 ts -r "$CAP" -T fields -e tcp.len -Y 'tcp.len > 65000'
	assert_output ''
	[ "$(followed 0 0 | sha256sum)" = "$(sha256sum <"$BATS_TEST_TMPDIR/big")" ]
	run -0 ts -r "$CAP" -Y 'tcp.analysis.flags'
	assert_output ''
}

@test "pcap: a FIFO read by tshark -i shows the handshake at accept and a chunk while the connection is open" {
	fifo=$BATS_TEST_TMPDIR/cap.fifo
	mkfifo "$fifo"
	bg tshark -l -i "$fifo" -T fields -e tcp.flags.syn -e tcp.payload >"$BATS_TEST_TMPDIR/tshark.out"
	open_fifo
	LISTEN_IN=$FIFO start_listen --pcap "$fifo" -p 0
	mkfifo "$BATS_TEST_TMPDIR/client.in"
	exec 6<>"$BATS_TEST_TMPDIR/client.in"
	bg "$SOCKPAIR" connect -q 127.0.0.1 "$LISTEN_PORT" <"$BATS_TEST_TMPDIR/client.in" \
		>"$BATS_TEST_TMPDIR/client.out"
	client=$BG_LAST
	# the connection is in the capture as it is accepted, before any data
	wait_for_line "$BATS_TEST_TMPDIR/tshark.out" $'^1\t$' 200
	printf 'live\n' >&7
	wait_for_line "$BATS_TEST_TMPDIR/client.out" '^live$'
	wait_for_line "$BATS_TEST_TMPDIR/tshark.out" $'^0\t'"$(printf 'live\n' | xxd -p)\$" 200
	kill -0 "$LISTEN_SP"	# still open: the capture was read live
	exec 6>&- 7>&-
	wait_exit "$client"
	wait_exit "$LISTEN_PID"
	[ "$BG_STATUS" -eq 0 ]
}

@test "pcap: --pcap /dev/full is exit 1 with the error line; - outside proxy is a usage error" {
	run -1 --separate-stderr sp pair --pcap /dev/full
	assert_equal "$stderr" "sockpair: pair: write(/dev/full): No space left on device"
	run -2 --separate-stderr sp pair --pcap -
	assert_usage_error "sockpair: pair: '--pcap -': pair's stdout carries data; give a FILE"
	run -2 --separate-stderr sp bench --pcap "$CAP" --via pipe
	assert_usage_error "sockpair: bench: option '--pcap' is not for bench: it captures no sockets"
	run -1 --separate-stderr sp pair --pcap "$BATS_TEST_TMPDIR/no/such/dir/f"
	assert_equal "$stderr" "sockpair: pair: open($BATS_TEST_TMPDIR/no/such/dir/f): No such file or directory"
}

@test "pcap: an existing file is truncated and keeps its mode; a new one is 0600" {
	head -c 100000 /dev/zero >"$CAP"
	chmod 640 "$CAP"
	run -0 sp pair --pcap "$CAP"
	[ "$(stat -c %a "$CAP")" = 640 ]
	[ "$(stat -c %s "$CAP")" -lt 100000 ]
	run -0 ts -r "$CAP" -Y 'tcp.len > 0'
	[ "${#lines[@]}" -eq 1 ]
	umask 000
	run -0 sp pair --pcap "$BATS_TEST_TMPDIR/new.pcapng"
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/new.pcapng")" = 600 ]
}

@test "pcap: talkback's clients are a flow each; -x beside --pcap shows the same chunks" {
	start_talkback --pcap "$CAP"
	run -0 bash -c "printf 'one\nquit\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT"
	run -0 bash -c "printf 'two\nshutdown\n' | timeout 5 nc -N 127.0.0.1 $TB_PORT"
	wait_exit "$TB_PID"
	run -0 ts -r "$CAP" -T fields -e tcp.stream -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0'
	assert_output $'0\n1'
	followed 0 0 | grep -qx one
	followed 1 0 | grep -qx two
	followed 1 1 | grep -q "You said 'two'"
	assert_clean_capture
	run -0 --separate-stderr sp -x pair --pcap "$CAP"
	assert_regex "${stderr_lines[0]}" '^-- sent 10 bytes at '
	assert_equal "${stderr_lines[1]}" '> 00000000: 4142 4364 6566 3132 330a                 ABCdef123.'
	[ "$(followed 0 0)" = ABCdef123 ]
}
