#!/usr/bin/env bats
# bench: IPC latency and throughput between two processes.  Correctness
# only: the figures' size is for make bench, never asserted here.

load helpers

teardown() {
	kill_bg
}

MECHANISMS="pipe socketpair socketpair-dgram socketpair-seqpacket unix unix-dgram tcp tcp6 udp udp6"

# A latency text row: VIA SIZE, five percentiles in order, a mean, a rate.
assert_latency_row() {
	local line=$1 via=$2 size=$3
	read -r -a f <<<"$line"
	[ "${#f[@]}" -eq 9 ] || fail "expected 9 columns: $line"
	assert_equal "${f[0]}" "$via"
	assert_equal "${f[1]}" "$size"
	awk -v a="${f[2]}" -v b="${f[3]}" -v c="${f[4]}" -v d="${f[5]}" -v e="${f[6]}" \
		-v mean="${f[7]}" -v rate="${f[8]}" \
		'BEGIN { exit !(a > 0 && a <= b && b <= c && c <= d && d <= e &&
			mean >= a / 2 && mean <= e && rate > 0) }' ||
		fail "percentiles out of order, or no rate: $line"
}

# A throughput text row: bytes received, a whole number of messages;
# lost is "-" for a stream, a count for a datagram mechanism.
assert_throughput_row() {
	local line=$1 via=$2 size=$3 lost=$4
	read -r -a f <<<"$line"
	[ "${#f[@]}" -eq 6 ] || fail "expected 6 columns: $line"
	assert_equal "${f[0]}" "$via"
	assert_equal "${f[1]}" "$size"
	awk -v mib="${f[2]}" -v msgs="${f[3]}" -v bytes="${f[4]}" -v size="${f[1]}" \
		'BEGIN { exit !(mib > 0 && msgs > 0 && bytes > 0 && bytes % size == 0) }' ||
		fail "no rate, or bytes not whole messages: $line"
	if [ "$lost" = - ]; then
		assert_equal "${f[5]}" -
	else
		[[ "${f[5]}" =~ ^[0-9]+$ ]] || fail "lost is not a count: $line"
	fi
}

latency_alone() {
	run -0 --separate-stderr sp -q bench --via "$1" --mode latency --count 200
	assert_equal "${#lines[@]}" 2
	assert_latency_row "${lines[1]}" "$1" 64
}

throughput_alone() {
	local lost=-
	[[ "$1" =~ dgram|seqpacket|udp ]] && lost=n
	run -0 --separate-stderr sp -q bench --via "$1" --mode throughput --size 4K --time 0.2
	assert_equal "${#lines[@]}" 2
	assert_throughput_row "${lines[1]}" "$1" 4096 "$lost"
}

@test "bench: latency over pipe gives a row" { latency_alone pipe; }
@test "bench: latency over socketpair gives a row" { latency_alone socketpair; }
@test "bench: latency over socketpair-dgram gives a row" { latency_alone socketpair-dgram; }
@test "bench: latency over socketpair-seqpacket gives a row" { latency_alone socketpair-seqpacket; }
@test "bench: latency over unix gives a row" { latency_alone unix; }
@test "bench: latency over unix-dgram gives a row" { latency_alone unix-dgram; }
@test "bench: latency over tcp gives a row" { latency_alone tcp; }
@test "bench: latency over tcp6 gives a row" { latency_alone tcp6; }
@test "bench: latency over udp gives a row" { latency_alone udp; }
@test "bench: latency over udp6 gives a row" { latency_alone udp6; }

@test "bench: throughput over pipe counts whole messages" { throughput_alone pipe; }
@test "bench: throughput over socketpair counts whole messages" { throughput_alone socketpair; }
@test "bench: throughput over socketpair-dgram counts losses" { throughput_alone socketpair-dgram; }
@test "bench: throughput over socketpair-seqpacket counts losses" { throughput_alone socketpair-seqpacket; }
@test "bench: throughput over unix counts whole messages" { throughput_alone unix; }
@test "bench: throughput over unix-dgram counts losses" { throughput_alone unix-dgram; }
@test "bench: throughput over tcp counts whole messages" { throughput_alone tcp; }
@test "bench: throughput over tcp6 counts whole messages" { throughput_alone tcp6; }
@test "bench: throughput over udp counts losses" { throughput_alone udp; }
@test "bench: throughput over udp6 counts losses" { throughput_alone udp6; }

@test "bench: the text tables have SPEC's columns" {
	run -0 --separate-stderr sp -q bench --via pipe --count 50 --time 0.1
	assert_equal "$(echo "${lines[0]}" | tr -s ' ')" "VIA SIZE p50 p90 p99 p99.9 max mean rt/s"
	assert_equal "$(echo "${lines[2]}" | tr -s ' ')" "VIA SIZE MiB/s msg/s bytes lost"
	assert_equal "${#lines[@]}" 4
}

@test "bench: rows come per mechanism and size, in the order given" {
	run -0 --separate-stderr sp -q bench --via socketpair,pipe --size 1K,64 --mode latency --count 50
	assert_equal "$(printf '%s\n' "${lines[@]:1}" | awk '{ print $1, $2 }' | tr '\n' ' ')" \
		"socketpair 1024 socketpair 64 pipe 1024 pipe 64 "
}

@test "bench: a stream carries a message larger than its buffers, both ways" {
	run -0 --separate-stderr sp -q bench --via socketpair,tcp --size 1M --mode latency --count 3
	assert_latency_row "${lines[1]}" socketpair 1048576
	assert_latency_row "${lines[2]}" tcp 1048576
}

@test "bench: the warm-up of large messages is bounded by its bytes (64 MiB), not by a count" {
	# 16 MiB seqpacket messages: one write each.  The warm-up is 4 round
	# trips (64 MiB), where a tenth of the count, 10 at least, was 10.
	run -0 --separate-stderr sp -q --trace bench --via socketpair-seqpacket --mode latency \
		--size 16M --count 2
	run -0 grep -cE '^write\(' <<<"$stderr"
	assert_output 6
}

@test "bench: a rate under 100 a second keeps its fraction, in the table and in JSON" {
	run -0 --separate-stderr sp -q bench --via socketpair --mode throughput --size 256M --time 0.3
	local rate
	rate=$(awk 'NR == 2 { print $4 }' <<<"$output")
	[[ "$rate" =~ ^[0-9]+\.[0-9]{2}$ ]] || fail "msg/s is '$rate': $output"
	[ "$rate" != "0.00" ] || fail "msg/s rounds to nothing: $output"
	run -0 --separate-stderr sp -q --json bench --via socketpair --mode latency --size 256M --count 2
	jq -e '.rt_per_s > 0 and .rt_per_s < 100 and .rt_per_s != (.rt_per_s | floor)' <<<"$output" ||
		fail "rt_per_s: $output"
}

@test "bench: a size over a datagram's limit is capped, and says so" {
	run -0 --separate-stderr sp bench --via udp --size 1M --mode latency --count 20
	assert_latency_row "${lines[1]}" udp 65507
	[[ "$stderr" == *"udp: 1048576 bytes do not fit in one message; 65507 are sent"* ]] ||
		fail "no note of the cap: $stderr"
}

@test "bench: --json prints one object per row on stdout and nothing else" {
	run -0 --separate-stderr sp --json bench --via pipe,udp --count 50 --time 0.1
	assert_equal "${#lines[@]}" 4
	local line
	for line in "${lines[@]}"; do
		jq -e . <<<"$line" >/dev/null || fail "not JSON: $line"
	done
	assert_equal "$(jq -c 'keys_unsorted' <<<"${lines[0]}")" \
		'["via","mode","size","p50_us","p90_us","p99_us","p999_us","max_us","mean_us","rt_per_s"]'
	assert_equal "$(jq -c 'keys_unsorted' <<<"${lines[2]}")" \
		'["via","mode","size","mib_per_s","msg_per_s","bytes","lost"]'
	jq -e '.mode == "latency" and .via == "pipe" and .size == 64 and
		.p50_us <= .p90_us and .p90_us <= .p99_us and .p99_us <= .p999_us and
		.p999_us <= .max_us' <<<"${lines[0]}"
	jq -e '.mode == "throughput" and .lost == null and .bytes % .size == 0' <<<"${lines[2]}"
	jq -e '.via == "udp" and (.lost | type) == "number"' <<<"${lines[3]}"
}

@test "bench: --json's progress and diagnostics on stderr are JSON too" {
	run -0 --separate-stderr sp --json bench --via pipe --mode latency --count 50
	local line
	while IFS= read -r line; do
		jq -e . <<<"$line" >/dev/null || fail "not JSON on stderr: $line"
	done <<<"$stderr"
	[[ "$stderr" == *'"event":"progress"'* ]] || fail "no progress event: $stderr"
}

@test "bench: progress names each row on stderr; -q silences it" {
	run -0 --separate-stderr sp bench --via pipe --mode latency --count 50
	assert_equal "$stderr" "latency, pipe, 64 bytes...OK."
	run -0 --separate-stderr sp -q bench --via pipe --mode latency --count 50
	assert_equal "$stderr" ""
}

@test "bench: --trace shows the measuring loop's calls, the child's marked" {
	run -0 --separate-stderr sp --trace bench --via socketpair --mode latency --count 1
	[[ "$stderr" == *'socketpair(AF_UNIX, SOCK_STREAM, 0) = [3, 4]'* ]] || fail "$stderr"
	[[ "$stderr" == *'write(3, "xxxx'*', 64) = 64'* ]] || fail "no write: $stderr"
	[[ "$stderr" =~ \[pid\ [0-9]+\]\ read\(4, ]] || fail "no child read: $stderr"
}

@test "bench: --buffer sizes each socket's buffers and each pipe, and counts stay whole" {
	run -0 --separate-stderr sp --trace bench --via pipe,socketpair,tcp --mode throughput \
		--size 64K --time 0.2 --buffer 512K
	assert_equal "$(grep -c 'F_SETPIPE_SZ, 524288) = 524288' <<<"$stderr")" 2
	# Both ends of the socket pair and of the TCP connection, each way.
	assert_equal "$(grep -c 'SO_SNDBUF, \[524288\]) = 0' <<<"$stderr")" 4
	assert_equal "$(grep -c 'SO_RCVBUF, \[524288\]) = 0' <<<"$stderr")" 4
	assert_equal "${#lines[@]}" 4
	run -2 --separate-stderr sp bench --buffer 0
	assert_usage_error "sockpair: bench: invalid buffer size '0' (1 byte to 1G; K, M, G: binary)"
}

@test "bench: a pipe over fs.pipe-max-size ends the row with the reason" {
	local max as=()
	max=$(cat /proc/sys/fs/pipe-max-size)
	# Root may make a pipe of any size: the test drops to nobody.
	[ "$(id -u)" -ne 0 ] || as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	"${as[@]}" test -x "$SOCKPAIR" || skip "nobody may not run $SOCKPAIR from here"
	run -1 --separate-stderr "${as[@]}" timeout 10 "$SOCKPAIR" bench --via pipe --mode throughput \
		--time 0.2 --buffer $((max * 2))
	[[ "$stderr" =~ "F_SETPIPE_SZ, $((max * 2))): Operation not permitted" ]] || fail "$stderr"
}

@test "bench: unknown mechanism is a usage error" {
	run -2 --separate-stderr sp bench --via pipe,carrier-pigeon
	assert_usage_error "sockpair: bench: unknown mechanism 'carrier-pigeon' (pipe, socketpair, socketpair-dgram, socketpair-seqpacket, unix, unix-dgram, tcp, tcp6, udp, udp6)"
}

@test "bench: a size that is not one is a usage error" {
	run -2 --separate-stderr sp bench --size 64,12Q
	assert_usage_error "sockpair: bench: invalid size '12Q' (1 byte to 1G; K, M, G: binary)"
	run -2 --separate-stderr sp bench --size 2G
	assert_usage_error "sockpair: bench: invalid size '2G' (1 byte to 1G; K, M, G: binary)"
}

@test "bench: bad --mode, --cpus, --count and --time are usage errors" {
	run -2 --separate-stderr sp bench --mode sideways
	assert_usage_error "sockpair: bench: invalid mode 'sideways' (latency, throughput or both)"
	run -2 --separate-stderr sp bench --cpus many
	assert_usage_error "sockpair: bench: invalid value 'many' for --cpus (same, split or any)"
	run -2 --separate-stderr sp bench --count 0
	assert_usage_error "sockpair: bench: invalid count '0' (1 to 10000000)"
	run -2 --separate-stderr sp bench --time 0
	assert_usage_error "sockpair: bench: invalid time '0' (seconds, above 0 and at most 86400)"
}

@test "bench: --cpus split on one allowed CPU fails and says why" {
	command -v taskset >/dev/null || skip "no taskset"
	run -1 --separate-stderr timeout 10 taskset -c 0 "$SOCKPAIR" bench --cpus split --via pipe --count 10
	assert_output ""
	assert_equal "$stderr" "sockpair: bench: sched_getaffinity(0): only CPU 0 may be used here (taskset, cpuset); --cpus split needs two: use same or any"
}

@test "bench: --cpus same runs both processes on the one allowed CPU" {
	command -v taskset >/dev/null || skip "no taskset"
	run -0 --separate-stderr timeout 10 taskset -c 0 "$SOCKPAIR" -q bench --cpus same --via pipe --mode latency --count 50
	assert_latency_row "${lines[1]}" pipe 64
}

@test "bench: --cpus split pins the two processes on two CPUs" {
	[ "$(nproc)" -ge 2 ] || skip "one CPU"
	run -0 --separate-stderr sp --trace bench --cpus split --via pipe --mode latency --count 5
	[[ "$stderr" =~ sched_setaffinity\(0,\ \[[0-9]+\]\)\ =\ 0 ]] || fail "$stderr"
	[[ "$stderr" =~ \[pid\ [0-9]+\]\ sched_setaffinity ]] || fail "the child did not pin: $stderr"
}

@test "bench: unix mechanisms leave no file behind" {
	mkdir "$BATS_TEST_TMPDIR/tmp"
	TMPDIR=$BATS_TEST_TMPDIR/tmp run -0 --separate-stderr sp -q bench --via unix,unix-dgram --count 20 --time 0.1
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR/tmp")" ""
}

# Kills bench's child in the middle of a row: an error, not a hang, and
# no process left.
kill_child_mid_row() {
	local err=$BATS_TEST_TMPDIR/err child
	bg "$SOCKPAIR" -q bench --via "$1" --mode "$2" --count 10000000 --time 60 \
		>"$BATS_TEST_TMPDIR/out" 2>"$err"
	wait_until "bench started no child" pgrep -P "$BG_CHILD" >/dev/null
	child=$(pgrep -P "$BG_CHILD" | head -1)
	kill -9 "$child"
	wait_exit "$BG_LAST"
	assert_equal "$BG_STATUS" 1
	assert_equal "$(cat "$err")" "sockpair: bench: child $child killed by signal 9 (Killed)"
	assert_gone "$child"
	assert_equal "$(pgrep -P "$BG_CHILD" || true)" ""
}

@test "bench: a child killed mid-row over a pipe ends the row with an error" {
	kill_child_mid_row pipe latency
}

@test "bench: a child killed mid-row over udp ends the row with an error" {
	kill_child_mid_row udp latency
}

@test "bench: a sender killed mid-row ends the throughput row with an error" {
	kill_child_mid_row socketpair-dgram throughput
}

@test "bench: --trace holds every socket call strace sees, in both processes" {
	command -v strace >/dev/null || skip "no strace"
	local t=$BATS_TEST_TMPDIR/bench
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 2 60 strace -f -yy -qq -o "$t.strace" \
		-e trace=%network,read,write,readv,writev,close,fcntl,ioctl,splice,sendfile,epoll_ctl \
		"$SOCKPAIR" --trace bench --count 3 --time 0.05 >"$t.out" 2>"$t.trace" \
		3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
	run python3 "$BATS_TEST_DIRNAME/lib/tracecheck.py" "$t.strace" "$t.trace"
	[ "$status" -eq 0 ] || fail "$output"
	assert_output --regexp '^[0-9]+ calls matched$'
}
