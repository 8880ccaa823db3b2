#!/usr/bin/env bats
# peers: who is at each end of a socket, checked against ss -xp joined by
# hand and against /proc/PID/fd, with real listeners and clients.

load helpers

HOLDERS=$BATS_TEST_DIRNAME/lib/holders.py
NOTE="some processes could not be seen: run as root to see them"

teardown() {
	exec 7>&- 2>/dev/null || true
	kill_bg
}

# The pid and fd in ss's users:(("name",pid=N,fd=M)) column: "N M".
ss_holder() {
	sed -nE 's/.*pid=([0-9]+),fd=([0-9]+).*/\1 \2/p' <<<"$1"
}

# ss -xp's rows, one per socket, header-less.
ss_unix() {
	ss -xapH 2>/dev/null
}

# How many established UNIX sockets are bound at NAME (the server ends).
established_at() {
	ss_unix | awk -v n="$1" '$2 == "ESTAB" && $5 == n' | grep -c 'pid=' || true
}

# Polls (bounded) until COUNT connections at NAME have a holder each.
wait_for_connections() {
	local name=$1 count=$2
	# shellcheck disable=SC2317
	have() { [ "$(established_at "$name")" -eq "$count" ]; }
	wait_until "$count connections at $name" have
}

# The row "  CLIENT_PID fd CLIENT_FD <-> SERVER_PID fd SERVER_FD" that ss
# -xp gives for each connection at NAME, joined by hand: each server row
# names its peer's inode, the client's row is the one of that inode.
ss_join() {
	local name=$1 row inode peer client
	ss_unix | awk -v n="$name" '$2 == "ESTAB" && $5 == n' | while read -r row; do
		peer=$(awk '{ print $8 }' <<<"$row")
		client=$(ss_unix | awk -v i="$peer" '$6 == i')
		echo "$(ss_holder "$client") $(ss_holder "$row") $peer"
	done
}

# /proc/PID/fd/FD names socket:[INODE].
assert_proc_fd() {
	local pid=$1 fd=$2 inode=$3
	assert_equal "$(readlink "/proc/$pid/fd/$fd")" "socket:[$inode]"
}

start_socat_unix() {
	local listen=$1
	bg socat "$listen,fork" EXEC:cat </dev/null
	SOCAT_PID=$BG_CHILD
}

start_clients() {
	local address=$1 n
	open_fifo
	CLIENTS=()
	for n in 1 2; do
		bg socat - "$address" <"$FIFO"
		CLIENTS+=("$BG_CHILD")
	done
}

@test "peers: a socat listener and two socat clients: both ends of each, as ss -xp and /proc say" {
	local sock=$BATS_TEST_TMPDIR/s.sock listener joined cpid cfd spid sfd inode comm
	start_socat_unix "UNIX-LISTEN:$sock"
	wait_for_socket "$sock"
	start_clients "UNIX-CONNECT:$sock"
	wait_for_connections "$sock" 2
	run -0 --separate-stderr sp peers "$sock"
	listener=$(ss_holder "$(ss_unix | awk -v n="$sock" '$2 == "LISTEN" && $5 == n')")
	assert_equal "${listener% *}" "$SOCAT_PID"
	assert_line --index 0 --regexp "^$sock listening, backlog 0/[0-9]+: socat $SOCAT_PID fd ${listener#* }\$"
	[ "${#lines[@]}" -eq 3 ] || fail "expected 3 lines: $output"
	joined=$(ss_join "$sock")
	[ "$(wc -l <<<"$joined")" -eq 2 ] || fail "ss shows: $joined"
	while read -r cpid cfd spid sfd inode; do
		assert_line "  socat $cpid fd $cfd <-> socat $spid fd $sfd, inq 0, outq 0"
		assert_proc_fd "$cpid" "$cfd" "$inode"
		[[ " ${CLIENTS[*]} " == *" $cpid "* ]] || fail "client $cpid is not one of ours: ${CLIENTS[*]}"
	done <<<"$joined"
	assert_equal "$stderr" ""
}

@test "peers: an abstract name, its listener and its client" {
	local name=sockpair-peers-$$-$RANDOM
	start_socat_unix "ABSTRACT-LISTEN:$name"
	wait_for_abstract "$name"
	open_fifo
	bg socat - "ABSTRACT-CONNECT:$name" <"$FIFO"
	local client=$BG_CHILD
	wait_for_connections "@$name" 1
	run -0 sp peers "@$name"
	assert_line --index 0 --regexp "^@$name listening, backlog 0/[0-9]+: socat $SOCAT_PID fd [0-9]+\$"
	assert_line --index 1 --regexp "^  socat $client fd [0-9]+ <-> socat [0-9]+ fd [0-9]+, inq 0, outq 0\$"
}

# The local port of a process's TCP connection to PORT, from ss -tnp.
client_port() {
	ss -tnpH state established "( dport = :$2 )" 2>/dev/null | grep "pid=$1," |
		awk '{ print $3 }' | sed 's/.*://'
}

@test "peers: a TCP port with two nc clients: both ends' processes, ports and tcp: figures" {
	start_socat_tcp_server 'TCP-LISTEN:0,bind=127.0.0.1,fork' EXEC:cat
	local port=$SOCAT_PORT server=$(pgrep -P "$SOCAT_PID" | head -1) pid cport
	open_fifo
	local ncs=()
	for n in 1 2; do
		bg nc 127.0.0.1 "$port" <"$FIFO"
		ncs+=("$BG_CHILD")
	done
	have_two() { [ "$(ss -tnH state established "( sport = :$port )" | wc -l)" -eq 2 ]; }
	wait_until "two connections to $port" have_two
	run -0 sp peers "$port"
	assert_line --index 0 --regexp "^127\\.0\\.0\\.1:$port listening, backlog 0/[0-9]+: socat $server fd [0-9]+\$"
	for pid in "${ncs[@]}"; do
		cport=$(client_port "$pid" "$port")
		[ -n "$cport" ] || fail "no connection of nc $pid in ss"
		assert_line --regexp "^  127\\.0\\.0\\.1:$cport nc $pid fd [0-9]+ <-> 127\\.0\\.0\\.1:$port socat [0-9]+ fd [0-9]+, inq 0, outq 0\$"
	done
	[ "$(grep -c '^    tcp: rtt:[0-9.]*/[0-9.]* cwnd:[0-9]* ' <<<"$output")" -eq 2 ] ||
		fail "expected two tcp: lines: $output"
	# HOST:PORT names the same sockets.
	local by_port=$output
	run -0 sp peers "127.0.0.1:$port"
	assert_equal "$(grep -v 'tcp:' <<<"$output")" "$(grep -v 'tcp:' <<<"$by_port")"
}

@test "peers: a dual-stack listener on [::] and an IPv4 client: one connection, the client named" {
	start_socat_tcp_server 'TCP6-LISTEN:0,bind=[::],ipv6only=0,fork' EXEC:cat
	local port=$SOCAT_PORT
	open_fifo
	bg nc 127.0.0.1 "$port" <"$FIFO"
	local nc=$BG_CHILD cport
	have_one() { [ "$(ss -tnH state established "( sport = :$port )" | wc -l)" -eq 1 ]; }
	wait_until "a connection to $port" have_one
	cport=$(client_port "$nc" "$port")
	run -0 sp peers "$port"
	assert_line --index 0 --regexp "^\\[::\\]:$port listening, backlog 0/[0-9]+: socat [0-9]+ fd [0-9]+\$"
	assert_line --regexp "^  127\\.0\\.0\\.1:$cport nc $nc fd [0-9]+ <-> 127\\.0\\.0\\.1:$port socat [0-9]+ fd [0-9]+, inq 0, outq 0\$"
	run -0 sp peers "127.0.0.1:$port"
	assert_line --regexp "^  127\\.0\\.0\\.1:$cport nc $nc fd "
}

@test "peers: a holder with an unprintable name and many descriptors on one socket: escaped, cut with a count" {
	local sock=$BATS_TEST_TMPDIR/many.sock
	bg python3 -c '
import ctypes, os, socket, sys, time
ctypes.CDLL(None).prctl(15, b"\x01" * 15, 0, 0, 0)
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
for fd in (20, 21, 22, 23, 24, 25, 1000, 2000):
    os.dup2(s.fileno(), fd)
time.sleep(30)' "$sock"
	wait_for_socket "$sock"
	local holder=$BG_CHILD
	wait_until "the descriptors are dup()ed" test -e "/proc/$holder/fd/2000"
	run -0 sp peers "$sock"
	assert_line --index 0 --regexp "^$sock listening, backlog 0/1: (\\\\x01){15} $holder fd [0-9]+, "
	assert_line --index 0 --regexp ', \.\.\. \(9 in all\)$'
}

@test "peers: --pid of a parent shows the child holding the other end of their socketpair" {
	local out=$BATS_TEST_TMPDIR/pair.out
	bg python3 "$HOLDERS" pair-child >"$out"
	wait_for_line "$out" '^parent '
	read -r _ ppid _ pfd _ cpid _ cfd <"$out"
	local comm
	comm=$(cat "/proc/$ppid/comm")
	run -0 sp peers --pid "$ppid"
	assert_line "$comm $ppid fd $pfd unix stream <-> $comm $cpid fd $cfd, inq 0, outq 0"
	run -0 sp peers --pid "$cpid"
	assert_line "$comm $cpid fd $cfd unix stream <-> $comm $ppid fd $pfd, inq 0, outq 0"
}

@test "peers: bytes a client wrote that the server has not read: inq 10000 at the server's end" {
	local sock=$BATS_TEST_TMPDIR/unread.sock out=$BATS_TEST_TMPDIR/unread.out
	bg python3 "$HOLDERS" unread "$sock" 10000 >"$out"
	wait_for_line "$out" '^server '
	wait_for_line "$out" '^client '
	local spid sfd cpid cfd comm
	read -r _ spid _ sfd < <(grep '^server ' "$out")
	read -r _ cpid _ cfd < <(grep '^client ' "$out")
	comm=$(cat "/proc/$spid/comm")
	run -0 sp peers "$sock"
	assert_line "  $comm $cpid fd $cfd <-> $comm $spid fd $sfd, inq 10000, outq 0"
}

@test "peers: 3 connections a listener never accepted: backlog 3/5, each (not accepted)" {
	local sock=$BATS_TEST_TMPDIR/backlog.sock out=$BATS_TEST_TMPDIR/backlog.out
	bg python3 "$HOLDERS" backlog "$sock" 3 >"$out"
	wait_for_line "$out" '^listener '
	local pid fd comm
	read -r _ pid _ fd <"$out"
	comm=$(cat "/proc/$pid/comm")
	run -0 sp peers "$sock"
	assert_line --index 0 "$sock listening, backlog 3/5: $comm $pid fd $fd"
	[ "$(grep -c "^  $comm $pid fd [0-9]* <-> (not accepted)\$" <<<"$output")" -eq 3 ] ||
		fail "expected 3 connections not accepted: $output"
}

# socat listening on an abstract name as nobody; sets NAME, OTHER_PID.
start_nobody_listener() {
	[ "$(id -u)" -eq 0 ] || skip "needs root to start a process as another user"
	NAME=sockpair-nobody-$$-$RANDOM
	bg setpriv --reuid nobody --regid nogroup --clear-groups socat "ABSTRACT-LISTEN:$NAME,fork" EXEC:cat
	OTHER_PID=$BG_CHILD
	wait_for_abstract "$NAME"
}

@test "peers: another user's process is named when run as root" {
	start_nobody_listener
	run -0 --separate-stderr sp peers "@$NAME"
	assert_output --regexp "^@$NAME listening, backlog 0/[0-9]+: socat $OTHER_PID fd [0-9]+\$"
	assert_equal "$stderr" ""
}

@test "peers: run as a user who may not look into the holder: '? fd ?' and the one note" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run sockpair as another user"
	local name=sockpair-hidden-$$-$RANDOM
	start_socat_unix "ABSTRACT-LISTEN:$name"
	wait_for_abstract "$name"
	run -0 --separate-stderr timeout 10 setpriv --reuid nobody --regid nogroup --clear-groups \
		"$SOCKPAIR" peers "@$name"
	assert_output --regexp "^@$name listening, backlog 0/[0-9]+: \\? fd \\?\$"
	assert_equal "$stderr" "$NOTE"
}

@test "peers: --pid of a process the user may not look into: no socket seen, and the note, exit 1" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run sockpair as another user"
	bg sleep 30
	run -1 --separate-stderr timeout 10 setpriv --reuid nobody --regid nogroup --clear-groups \
		"$SOCKPAIR" peers --pid "$BG_CHILD"
	assert_output ""
	assert_equal "$stderr" "sockpair: peers: no socket at $BG_CHILD
$NOTE"
}

@test "peers: --stats has no summary of the netlink socket: it is no connection" {
	local sock=$BATS_TEST_TMPDIR/st.sock
	start_socat_unix "UNIX-LISTEN:$sock"
	wait_for_socket "$sock"
	run -0 --separate-stderr sp --stats peers "$sock"
	assert_output --regexp "^$sock listening, "
	assert_equal "$stderr" ""
}

@test "peers: --json, one object per socket that jq reads, with both ends" {
	local sock=$BATS_TEST_TMPDIR/j.sock
	start_socat_unix "UNIX-LISTEN:$sock"
	wait_for_socket "$sock"
	start_clients "UNIX-CONNECT:$sock"
	wait_for_connections "$sock" 2
	run -0 --separate-stderr sp peers --json "$sock"
	[ "${#lines[@]}" -eq 3 ] || fail "expected 3 objects: $output"
	run -0 jq -s -r --arg p "$sock" --argjson l "$SOCAT_PID" \
		'(.[0] | select(.path == $p and .state == "listening" and .pid == $l and .peer == null and (.backlog | type) == "number") | "listener"),
		 (.[1:][] | select(.path == $p and .state == "established" and .process == "socat" and (.peer.pid | type) == "number" and .inq == 0 and .outq == 0) | .peer.pid)' <<<"$output"
	assert_line --index 0 listener
	[ "${#lines[@]}" -eq 3 ] || fail "jq found: $output"
	assert_equal "$(printf '%s\n' "${lines[@]:1}" | sort -n | tr '\n' ' ')" \
		"$(printf '%s\n' "${CLIENTS[@]}" | sort -n | tr '\n' ' ')"
}

@test "peers: a path with no socket: the error line, exit 1" {
	run -1 --separate-stderr sp peers "$BATS_TEST_TMPDIR/missing.sock"
	assert_output ""
	assert_equal "$stderr" "sockpair: peers: no socket at $BATS_TEST_TMPDIR/missing.sock"
}

@test "peers: --pid of a process with no sockets: the error line, exit 1" {
	bg sleep 30
	run -1 --separate-stderr sp peers --pid "$BG_CHILD"
	assert_equal "$stderr" "sockpair: peers: no socket at $BG_CHILD"
}

@test "peers: no target is a usage error, exit 2" {
	run -2 --separate-stderr sp peers
	assert_usage_error "sockpair: peers: no target (PATH, @NAME, PORT or HOST:PORT, or --pid PID)"
}

@test "peers: a bad --pid or --pid with a target is a usage error, exit 2" {
	run -2 --separate-stderr sp peers --pid 0
	assert_usage_error "sockpair: peers: invalid pid '0' (1 to 2147483647)"
	run -2 --separate-stderr sp peers --pid 1 /tmp/x.sock
	assert_usage_error "sockpair: peers: --pid takes no target ('/tmp/x.sock')"
}
