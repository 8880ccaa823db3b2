#!/usr/bin/env bats
# connect -z: whether ports answer, as nc -z tells, for lists and ranges,
# and whether a UNIX socket is live; nothing is sent.

load helpers

teardown() {
	kill_bg
}

@test "zero-io: an open port is open with its time, nothing sent, exit 0" {
	start_nc_server
	run -0 --separate-stderr sp connect -z 127.0.0.1 "$NC_PORT"
	assert_output --regexp "^127\\.0\\.0\\.1 $NC_PORT open [0-9]+\\.[0-9]{3} ms\$"
	assert_equal "$stderr" ""
	wait_exit "$NC_PID"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/nc.out")" ""
}

@test "zero-io: a name with several addresses is tried at each before a port fails" {
	unshare -rm true 2>/dev/null || skip "no user namespaces here to give a name two addresses"
	printf '::1 multi\n127.0.0.1 multi\n' >"$BATS_TEST_TMPDIR/hosts"
	start_nc_server	# on 127.0.0.1 only: ::1, tried first, refuses
	run -0 --separate-stderr timeout 10 unshare -rm sh -c \
		"mount --bind '$BATS_TEST_TMPDIR/hosts' /etc/hosts && '$SOCKPAIR' --trace connect -z multi $NC_PORT 3>&-"
	assert_output --regexp "^multi $NC_PORT open [0-9]+\.[0-9]{3} ms\$"
	[[ "$stderr" == *"connect(3, [::1]:$NC_PORT)"* ]] || fail "::1 not tried first: $stderr"
	# Refused at both: the port is refused, once.
	run -4 --separate-stderr timeout 10 unshare -rm sh -c \
		"mount --bind '$BATS_TEST_TMPDIR/hosts' /etc/hosts && '$SOCKPAIR' --trace connect -z multi 1 3>&-"
	assert_output "multi 1 refused"
	run -0 grep -c '^connect(3, ' <<<"$stderr"
	assert_output 2
}

@test "zero-io: a range and a list, in the order given, exit of the first failure" {
	start_nc_server
	local closed
	start_refused_port
	closed=$REFUSED_PORT
	run -4 --separate-stderr sp connect -z 127.0.0.1 "$NC_PORT,$closed"
	assert_line --index 0 --regexp "^127\\.0\\.0\\.1 $NC_PORT open "
	assert_line --index 1 "127.0.0.1 $closed refused"
	assert_equal "${#lines[@]}" 2
	# A range of 300 closed ports (beyond one batch of attempts at once).
	local low=$((closed > 60000 ? closed - 300 : closed)) high
	high=$((low + 299))
	run -4 --separate-stderr sp connect -z -w 1 127.0.0.1 "$low-$high"
	assert_equal "${#lines[@]}" 300
	assert_line --index 0 --regexp "^127\\.0\\.0\\.1 $low (open|refused)"
	assert_line --index 299 --regexp "^127\\.0\\.0\\.1 $high (open|refused)"
}

@test "zero-io: a range after a comma is that item's, not the first's" {
	start_nc_server
	start_refused_port
	run -4 --separate-stderr sp connect -z 127.0.0.1 "$NC_PORT,$REFUSED_PORT-$REFUSED_PORT"
	assert_line --index 0 --regexp "^127\\.0\\.0\\.1 $NC_PORT open "
	assert_line --index 1 "127.0.0.1 $REFUSED_PORT refused"
	assert_equal "${#lines[@]}" 2
}

@test "zero-io: with --json each check is an object on stdout, in the order given" {
	start_nc_server
	local closed sock=$BATS_TEST_TMPDIR/s.sock
	start_refused_port
	closed=$REFUSED_PORT
	run -4 --separate-stderr sp --json connect -z 127.0.0.1 "$closed,$NC_PORT"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/checks"
	run -0 jq -s -c 'map([.host, .port, .state, (.ms | type)])' "$BATS_TEST_TMPDIR/checks"
	assert_output "[[\"127.0.0.1\",$closed,\"refused\",\"null\"],[\"127.0.0.1\",$NC_PORT,\"open\",\"number\"]]"
	# stderr has the events, the start first; stdout has only the checks.
	run -0 jq -r -s 'map(.event) | join(" ")' <<<"$stderr"
	assert_output "start"
	start_listen -U "$sock"
	run -0 --separate-stderr sp --json connect -z -U "$sock"
	run -0 jq -c '[.path, .state, (.ms >= 0)]' <<<"$output"
	assert_output "[\"$sock\",\"open\",true]"
	run -4 --separate-stderr sp --json connect -z -U "$BATS_TEST_TMPDIR/none.sock"
	run -0 jq -c '[.path, .state]' <<<"$output"
	assert_output "[\"$BATS_TEST_TMPDIR/none.sock\",\"refused\"]"
}

@test "zero-io: a port that never answers times out within -w, exit 5" {
	start_peer never-accepts
	local port=$PEER_PORT
	run -5 --separate-stderr sp connect -z -w 0.5 127.0.0.1 "$port"
	assert_output "127.0.0.1 $port timed out"
}

@test "zero-io: -U tells a live socket from a stale one" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	start_listen -U "$sock"
	run -0 --separate-stderr sp connect -z -U "$sock"
	assert_output "$sock open"
	# The listener did not take the check for its client.
	run -0 timeout 5 nc -N -U "$sock" <<<"still the first"
	wait_exit "$LISTEN_PID"
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$BATS_TEST_TMPDIR/stale.sock"
	run -4 --separate-stderr sp connect -z -U "$BATS_TEST_TMPDIR/stale.sock"
	assert_output "$BATS_TEST_TMPDIR/stale.sock refused"
}

@test "zero-io: bad lists and -u are usage errors" {
	run -2 --separate-stderr sp connect -z 127.0.0.1 90-80
	assert_usage_error "sockpair: connect: invalid port range '90-80'"
	run -2 --separate-stderr sp connect -z 127.0.0.1 1,99999
	assert_usage_error "sockpair: connect: invalid port '99999' (1 to 65535)"
	run -2 --separate-stderr sp connect -z 127.0.0.1 1-65535,80
	assert_usage_error "sockpair: connect: too many ports in '1-65535,80' (65535 at most)"
	run -2 --separate-stderr sp connect -z -u 127.0.0.1 80
	assert_usage_error "sockpair: connect: -z tells whether TCP ports or UNIX sockets answer; not with -u"
	for list in 1,,2 1, ,1 ,; do
		run -2 --separate-stderr sp connect -z 127.0.0.1 "$list"
		assert_usage_error "sockpair: connect: invalid port list '$list' (an empty item)"
	done
	run -2 --separate-stderr sp connect -z 127.0.0.1 1-
	assert_usage_error "sockpair: connect: invalid port '' (1 to 65535)"
}
