#!/usr/bin/env bats
# Passing descriptors and credentials over UNIX sockets: fork-echo
# --pass-fd, connect --send-fd and -F, listen --recv-fd, --attach and
# --creds, against python peers (tests/lib/fdpass.py) that use what they
# receive for real, and hostile senders whose descriptors must not leak.

load helpers

FDPASS=$BATS_TEST_DIRNAME/lib/fdpass.py

teardown() {
	kill_bg
}

fdpass() {
	timeout -k 2 30 python3 "$FDPASS" "$@"
}

# How many descriptors a process has open now.
open_fds() {
	find "/proc/$1/fd" -mindepth 1 2>/dev/null | wc -l
}

# Waits (bounded) until listen -k has seen N clients leave.
wait_for_clients_gone() {
	local n=$1 tries=100
	while [ "$(grep -c '^closed ' "$BATS_TEST_TMPDIR/listen.err")" -lt "$n" ] && [ "$tries" -gt 0 ]; do
		sleep 0.05
		tries=$((tries - 1))
	done
	[ "$tries" -gt 0 ] || fail "fewer than $n clients seen: $(cat "$BATS_TEST_TMPDIR/listen.err")"
}

# A hostile client three times to listen -k: the third leaves sockpair
# with the descriptors it had after the second (the relay's splice pipes,
# kept from one client to the next, exist by then), so that nothing the
# clients passed stayed open.
assert_no_leak_after() {
	local how=$1 before
	run -0 fdpass hostile "$BATS_TEST_TMPDIR/s" "$how"
	run -0 fdpass hostile "$BATS_TEST_TMPDIR/s" "$how"
	wait_for_clients_gone 2
	before=$(open_fds "$LISTEN_SP")
	run -0 fdpass hostile "$BATS_TEST_TMPDIR/s" "$how"
	wait_for_clients_gone 3
	assert_equal "$(open_fds "$LISTEN_SP")" "$before"
}

# ---- fork-echo --pass-fd ---------------------------------------------------

@test "fdpass: fork-echo --pass-fd: the child reads one line through the descriptor, the parent's offset moved" {
	local t=$BATS_TEST_TMPDIR
	printf 'first line\nsecond line\n' >"$t/file"
	run -0 --separate-stderr sp fork-echo --pass-fd "$t/file"
	assert_equal "${#lines[@]}" 3
	[[ "${lines[0]}" =~ ^"child "([0-9]+)": received descriptor "[0-9]+": $t/file (regular file)"$ ]] ||
		fail "${lines[0]}"
	local pid=${BASH_REMATCH[1]}
	assert_equal "${lines[1]}" "child $pid: first line"
	# "first line\n" is 11 bytes: the child's read moved the parent's offset.
	assert_equal "${lines[2]}" "parent: offset now 11"
	assert_equal "$stderr" ""
}

@test "fdpass: fork-echo --pass-fd over a pipe reads no further than the line, and says the offset is unknown" {
	run -0 --separate-stderr bash -c "printf 'one\ntwo\n' | { '$SOCKPAIR' fork-echo -t seqpacket --pass-fd /dev/stdin; cat; }"
	[[ "${lines[0]}" =~ ": received descriptor "[0-9]+": pipe:["[0-9]+"] (pipe)"$ ]] || fail "${lines[0]}"
	[[ "${lines[1]}" =~ ^"child "[0-9]+": one"$ ]] || fail "${lines[1]}"
	assert_equal "${lines[2]}" "parent: offset unknown (lseek: Illegal seek)"
	# What the child did not read is still in the pipe, for the next reader.
	assert_equal "${lines[3]}" "two"
}

@test "fdpass: fork-echo --pass-fd /dev/null is a character device with an empty first line" {
	run -0 --separate-stderr sp fork-echo -t dgram --pass-fd /dev/null
	[[ "${lines[0]}" =~ ": received descriptor "[0-9]+": /dev/null (character device)"$ ]] || fail "${lines[0]}"
	[[ "${lines[1]}" =~ ^"child "[0-9]+": "$ ]] || fail "${lines[1]}"
	assert_equal "${lines[2]}" "parent: offset now 0"
}

@test "fdpass: fork-echo --pass-fd: a missing file fails on open, with -i it is a usage error" {
	run -1 --separate-stderr sp fork-echo --pass-fd "$BATS_TEST_TMPDIR/none"
	assert_equal "$stderr" "sockpair: fork-echo: open(\"$BATS_TEST_TMPDIR/none\"): No such file or directory"
	run --separate-stderr sp fork-echo --pass-fd /dev/null -i
	assert_usage_error "sockpair: fork-echo: --pass-fd passes a file instead of the examples' messages; not with -i"
}

# ---- listen --recv-fd ------------------------------------------------------

@test "fdpass: listen --recv-fd announces a file, a pipe, /dev/null and a socket, as the sender names them" {
	local t=$BATS_TEST_TMPDIR
	echo content >"$t/file"
	start_listen -U "$t/s" --recv-fd
	run -0 fdpass send "$t/s" "file:$t/file" pipe null socket
	local sent=("${lines[@]}")
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	# The data that carried them goes to stdout as it came.
	assert_equal "$(cat "$t/listen.out")" "data"
	run -0 grep '^received descriptor' "$t/listen.err"
	assert_equal "${#lines[@]}" 4
	local kinds=("regular file" pipe "character device" socket)
	for n in 0 1 2 3; do
		[[ "${lines[n]}" =~ ^"received descriptor "[0-9]+": ${sent[n]} (${kinds[n]})"$ ]] ||
			fail "expected ${sent[n]} (${kinds[n]}), got: ${lines[n]}"
	done
}

@test "fdpass: listen --recv-fd --json: a descriptor event for each, every line parses" {
	local t=$BATS_TEST_TMPDIR
	echo content >"$t/file"
	: >"$t/listen.err"
	bg "$SOCKPAIR" --json listen -U "$t/s" --recv-fd </dev/null >"$t/listen.out" 2>"$t/listen.err"
	LISTEN_PID=$BG_LAST
	wait_for_line "$t/listen.err" '"event":"listening"'
	run -0 fdpass send "$t/s" "file:$t/file" null
	wait_exit "$LISTEN_PID"
	jq -e . "$t/listen.err" >/dev/null
	run -0 jq -r 'select(.event == "descriptor") | "\(.fd|type) \(.target) \(.kind) \(.peer|type)"' "$t/listen.err"
	assert_output "number $t/file regular file string
number /dev/null character device string"
}

@test "fdpass: -x shows the bytes that carried the descriptors, --trace the recvmsg with SCM_RIGHTS" {
	local t=$BATS_TEST_TMPDIR
	: >"$t/listen.err"
	bg "$SOCKPAIR" -x --trace listen -U "$t/s" --recv-fd </dev/null >"$t/listen.out" 2>"$t/listen.err"
	LISTEN_PID=$BG_LAST
	wait_for_line "$t/listen.err" '^listening on '
	run -0 fdpass send "$t/s" null pipe
	wait_exit "$LISTEN_PID"
	run grep -E '^recvmsg\([0-9]+, "data", [0-9]+, \[\{SOL_SOCKET, SCM_RIGHTS, \[[0-9]+, [0-9]+\]\}\], MSG_CMSG_CLOEXEC\) = 4$' "$t/listen.err"
	assert_success
	assert_equal "$(grep '^< ' "$t/listen.err" | cut -c3- | xxd -r)" "data"
}

# ---- connect --send-fd -----------------------------------------------------

@test "fdpass: connect --send-fd passes a file, a pipe, /dev/null and a socket, each used for real by the receiver" {
	local t=$BATS_TEST_TMPDIR
	printf 'from the file\n' >"$t/file"
	start_socat_tcp_server 'TCP-LISTEN:0,bind=127.0.0.1,reuseaddr' 'EXEC:cat'
	: >"$t/recv.out"
	bg python3 "$FDPASS" receiver "$t/r" >"$t/recv.out"
	local rpid=$BG_LAST
	wait_for_line "$t/recv.out" '^listening on '
	run -0 --separate-stderr bash -c "printf 'the data\n' | '$SOCKPAIR' connect -U '$t/r' \
		--send-fd 3 --send-fd 4 --send-fd 5 --send-fd 6 \
		3<'$t/file' 4< <(printf 'from the pipe\n') 5</dev/null 6<>/dev/tcp/127.0.0.1/$SOCAT_PORT"
	wait_exit "$rpid"
	run -0 cat "$t/recv.out"
	assert_line --index 1 "file $t/file: b'from the file\\n'"
	assert_line --index 2 --regexp "^pipe pipe:\[[0-9]+\]: b'from the pipe\\\\n'$"
	assert_line --index 3 "chr /dev/null: b''"
	# The socket answers: socat echoes what the receiver sent through it.
	assert_line --index 4 --regexp "^socket socket:\[[0-9]+\]: b'ping\\\\n'$"
	assert_line --index 5 "data: b'the data\\n'"
}

@test "fdpass: connect --send-fd with no data sends one \\\\0 byte to carry the descriptor" {
	local t=$BATS_TEST_TMPDIR
	: >"$t/recv.out"
	bg python3 "$FDPASS" receiver "$t/r" >"$t/recv.out"
	local rpid=$BG_LAST
	wait_for_line "$t/recv.out" '^listening on '
	run -0 --separate-stderr bash -c "'$SOCKPAIR' --trace connect -U '$t/r' --send-fd 3 3</dev/null </dev/null"
	[[ "$stderr" =~ "sendmsg("[0-9]+", \"\\0\", 1, [{SOL_SOCKET, SCM_RIGHTS, [3]}], MSG_NOSIGNAL) = 1" ]] ||
		fail "no traced sendmsg: $stderr"
	wait_exit "$rpid"
	run -0 cat "$t/recv.out"
	assert_line --index 1 "chr /dev/null: b''"
	assert_line --index 2 "data: b'\\x00'"
}

@test "fdpass: connect --send-fd of a descriptor that is not open fails before connecting" {
	run --separate-stderr sp --trace connect -U "$BATS_TEST_TMPDIR/r" --send-fd 9
	assert_equal "$status" 2
	assert_equal "${stderr_lines[0]}" "fstat(9) = -1 EBADF (Bad file descriptor)"
	assert_equal "${stderr_lines[1]}" "sockpair: connect: --send-fd 9: Bad file descriptor"
	refute [ -e "$BATS_TEST_TMPDIR/r" ]
	run --separate-stderr sp connect -U "$BATS_TEST_TMPDIR/r" --send-fd x
	assert_usage_error "sockpair: connect: invalid descriptor 'x'"
}

@test "fdpass: passing options on a socket that is not AF_UNIX are usage errors" {
	run --separate-stderr sp connect 127.0.0.1 1 --send-fd 0
	assert_usage_error "sockpair: connect: --send-fd passes descriptors over a UNIX socket: it needs -U PATH"
	run --separate-stderr sp listen --recv-fd
	assert_usage_error "sockpair: listen: --recv-fd works on a UNIX socket only: it needs -U PATH"
	run --separate-stderr sp listen -p 0 --creds
	assert_usage_error "sockpair: listen: --creds works on a UNIX socket only: it needs -U PATH"
	run --separate-stderr sp listen --attach
	assert_usage_error "sockpair: listen: --attach works on a UNIX socket only: it needs -U PATH"
	run --separate-stderr sp listen -U "$BATS_TEST_TMPDIR/s" -u --attach
	assert_usage_error "sockpair: listen: --attach replaces a client's connection; -u has none"
	run --separate-stderr sp connect -F 127.0.0.1 1 </dev/null
	assert_usage_error "sockpair: connect: -F passes the connection over stdout, which must be a UNIX socket"
	run --separate-stderr sp connect -z -F 127.0.0.1 1
	assert_usage_error "sockpair: connect: -z sends nothing; not with -F"
}

# ---- connect -F --------------------------------------------------------------

@test "fdpass: connect -F passes the connected TCP socket over stdout and exits 0" {
	start_nc_server
	run -0 fdpass pass-out "$NC_PORT" -- "$SOCKPAIR" -q connect -F 127.0.0.1 "$NC_PORT"
	assert_line --index 0 "status 0, data b'\\x00', 1 descriptor(s)"
	assert_line --index 1 "family AF_INET type SOCK_STREAM peer port $NC_PORT"
	wait_exit "$NC_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/nc.out")" "over the passed socket"
}

@test "fdpass: ssh -o ProxyUseFdpass=yes runs a command through connect -F" {
	command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || skip "no sshd (openssh-server)"
	local t=$BATS_TEST_TMPDIR sshd
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	mkdir -p /run/sshd 2>/dev/null || true
	ssh-keygen -q -t ed25519 -N '' -f "$t/host" || skip "no ssh-keygen"
	ssh-keygen -q -t ed25519 -N '' -f "$t/user"
	cp "$t/user.pub" "$t/authorized_keys"
	chmod 600 "$t/authorized_keys"
	local port
	port=$(free_port)
	cat >"$t/sshd_config" <<-EOF
		ListenAddress 127.0.0.1:$port
		HostKey $t/host
		AuthorizedKeysFile $t/authorized_keys
		PasswordAuthentication no
		StrictModes no
		PidFile $t/sshd.pid
		UsePAM no
	EOF
	: >"$t/sshd.log"
	bg "$sshd" -D -e -f "$t/sshd_config" 2>"$t/sshd.log"
	local tries=100
	until grep -q 'Server listening' "$t/sshd.log" || [ "$tries" -eq 0 ]; do
		kill -0 "$BG_LAST" 2>/dev/null || skip "sshd cannot start here: $(cat "$t/sshd.log")"
		sleep 0.05
		tries=$((tries - 1))
	done
	grep -q 'Server listening' "$t/sshd.log" || skip "sshd did not start: $(cat "$t/sshd.log")"
	run timeout -k 2 20 ssh -F none -i "$t/user" -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ProxyUseFdpass=yes \
		-o "ProxyCommand=$SOCKPAIR -q connect -F %h %p" -p "$port" "$(id -un)@127.0.0.1" \
		'echo ran through the passed socket'
	assert_success
	assert_output "ran through the passed socket"
}

# ---- listen --attach ---------------------------------------------------------

# listen -U $T/s --attach, its stdin the fifo the test writes as fd 7, and
# the fdpass.py peer MODE [ARGS], its output in $T/MODE.out; sets PEER_PID.
start_attach_peer() {
	local mode=$1 t=$BATS_TEST_TMPDIR
	open_fifo
	LISTEN_IN=$FIFO start_listen -U "$t/s" --attach
	: >"$t/$mode.out"
	bg python3 "$FDPASS" "$mode" "$t/s" "${@:2}" >"$t/$mode.out"
	PEER_PID=$BG_LAST
}

@test "fdpass: listen --attach relays the passed socket both ways, not the client" {
	local t=$BATS_TEST_TMPDIR
	start_attach_peer attach
	# Typed once the descriptor took over: before, input goes to the client.
	wait_for_line "$t/listen.err" '^attached descriptor'
	echo "to the descriptor" >&7
	exec 7>&-
	wait_exit "$PEER_PID"
	assert_equal "$(cat "$t/attach.out")" "got: b'to the descriptor\\n'"
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	assert_equal "$(cat "$t/listen.out")" "from the descriptor"
	run -0 cat "$t/listen.err"
	assert_line --regexp '^received descriptor [0-9]+: socket:\[[0-9]+\] \(socket\)$'
	assert_line --regexp '^attached descriptor [0-9]+; the 9 bytes sent with it \("/dev/ptmx"\) are not relayed$'
	assert_line --regexp '^closed descriptor [0-9]+$'
}

@test "fdpass: listen --attach of a pipe's read end relays it to stdout and sees its end" {
	local t=$BATS_TEST_TMPDIR
	open_fifo
	LISTEN_IN=$FIFO start_listen -U "$t/s" --attach
	run -0 timeout 10 python3 "$FDPASS" pipe-end "$t/s" read
	# Its only writer closed it: the end of the relay, stdin still open.
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	assert_equal "$(cat "$t/listen.out")" "through the pipe"
}

@test "fdpass: listen --attach of a pipe's write end takes stdin to it, until stdin ends" {
	local t=$BATS_TEST_TMPDIR
	start_attach_peer pipe-end write
	wait_for_line "$t/listen.err" '^attached descriptor'
	echo "into the pipe" >&7
	exec 7>&-
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	wait_exit "$PEER_PID"
	assert_equal "$(cat "$t/pipe-end.out")" "read: b'into the pipe\\n'"
	assert_equal "$(cat "$t/listen.out")" ""
}

@test "fdpass: listen --attach is a console socket: a pty master relayed as runc's recvtty does" {
	local t=$BATS_TEST_TMPDIR
	start_attach_peer console
	wait_for_line "$t/listen.out" 'hello from the container'
	echo "typed on the terminal" >&7
	wait_exit "$PEER_PID"
	assert_equal "$(cat "$t/console.out")" "typed: b'typed on the terminal\\n'"
	# The slave closed: the master reads EIO, which ends the relay.
	wait_exit "$LISTEN_PID"
	assert_equal "$BG_STATUS" 0
	grep -Eq '^received descriptor [0-9]+: /dev/ptmx \(character device\)$' "$t/listen.err" ||
		fail "$(cat "$t/listen.err")"
}

# ---- listen --creds ----------------------------------------------------------

@test "fdpass: listen -u --creds names the real sender of each datagram" {
	local t=$BATS_TEST_TMPDIR
	start_listen -U "$t/s" -u --creds
	run -0 fdpass senders "$t/s" 3
	local pids=("${lines[@]}")
	wait_for_line "$t/listen.out" "^from ${pids[2]}$"
	kill -TERM "$LISTEN_SP"
	wait_exit "$LISTEN_PID"
	# Each datagram's credentials, in order, and its data from that pid.
	assert_equal "$(sed -n 's/^credentials: pid \([0-9]*\) uid [0-9]* gid [0-9]*$/\1/p' "$t/listen.err")" \
		"$(printf '%s\n' "${pids[@]}")"
	assert_equal "$(cat "$t/listen.out")" "$(printf 'from %s\n' "${pids[@]}")"
	grep -q "^credentials: pid ${pids[0]} uid $(id -u) gid $(id -g)$" "$t/listen.err"
}

@test "fdpass: listen --creds on a stream names the connecting process before its data" {
	local t=$BATS_TEST_TMPDIR
	# The listener's input stays open: its end would end the client's relay.
	mkfifo "$t/listen.in"
	exec 6<>"$t/listen.in"
	LISTEN_IN=$t/listen.in start_listen -U "$t/s" --creds
	open_fifo
	bg "$SOCKPAIR" connect -U "$t/s" <"$FIFO" >/dev/null 2>&1
	local client=$BG_CHILD cpid=$BG_LAST
	echo "who am I" >&7
	wait_for_line "$t/listen.out" '^who am I$'
	exec 7>&-
	wait_exit "$LISTEN_PID"
	exec 6>&-
	wait_exit "$cpid"
	run -0 grep -A1 '^credentials:' "$t/listen.err"
	assert_line --index 0 "credentials: pid $client uid $(id -u) gid $(id -g)"
	# A stream's end of file is no message: one line of credentials.
	assert_equal "$(grep -c '^credentials:' "$t/listen.err")" 1
}

@test "fdpass: listen --creds --json has a credentials event with numbers" {
	local t=$BATS_TEST_TMPDIR
	: >"$t/listen.err"
	bg "$SOCKPAIR" --json listen -U "$t/s" -u --creds </dev/null >"$t/listen.out" 2>"$t/listen.err"
	LISTEN_PID=$BG_LAST LISTEN_SP=$BG_CHILD
	wait_for_line "$t/listen.err" '"event":"listening"'
	run -0 fdpass senders "$t/s" 1
	wait_for_line "$t/listen.err" '"event":"credentials"'
	kill -TERM "$LISTEN_SP"
	wait_exit "$LISTEN_PID"
	jq -e . "$t/listen.err" >/dev/null
	assert_equal "$(jq -r 'select(.event == "credentials") | "\(.pid) \(.uid) \(.gid)"' "$t/listen.err")" \
		"$output $(id -u) $(id -g)"
}

# ---- hostile senders: nothing leaks ------------------------------------------

@test "fdpass: 253 descriptors in one message are each announced and closed" {
	local t=$BATS_TEST_TMPDIR
	start_listen -k -U "$t/s" --recv-fd
	assert_no_leak_after many
	assert_equal "$(grep -c '^received descriptor [0-9]*: /dev/null (character device)$' "$t/listen.err")" 759
	assert_equal "$(cat "$t/listen.out")" "many
many
many"
}

@test "fdpass: descriptors that do not fit (--creds without --recv-fd) are reported, never leaked" {
	local t=$BATS_TEST_TMPDIR
	start_listen -k -U "$t/s" --creds
	assert_no_leak_after three
	grep -q '^recvmsg: control data truncated (MSG_CTRUNC): descriptors sent with it were discarded (no --recv-fd)$' \
		"$t/listen.err" || fail "$(cat "$t/listen.err")"
	assert_equal "$(cat "$t/listen.out")" "passed
passed
passed"
}

@test "fdpass: descriptors in an empty datagram are announced and closed" {
	local t=$BATS_TEST_TMPDIR before
	start_listen -U "$t/s" -u --recv-fd
	before=$(open_fds "$LISTEN_SP")
	run -0 fdpass hostile "$t/s" bare
	wait_for_line "$t/listen.out" '^after$'
	assert_equal "$(grep -c '^received descriptor [0-9]*: /dev/null (character device)$' "$t/listen.err")" 3
	assert_equal "$(open_fds "$LISTEN_SP")" "$before"
}

@test "fdpass: without --recv-fd, descriptors a client passes are closed by the kernel, never ours" {
	local t=$BATS_TEST_TMPDIR
	start_listen -k -U "$t/s"
	assert_no_leak_after many
	assert_equal "$(cat "$t/listen.out")" "many
many
many"
}
