#!/usr/bin/env bats
# pair: the socket_create_pair() example, its options and its limits.

load helpers

VAR_DUMP=$'string(10) "ABCdef123\n"\n'

@test "pair: prints exactly what PHP's var_dump prints" {
	run -0 bash -c "'$SOCKPAIR' pair | od -An -c"
	assert_output "$(printf '%s' "$VAR_DUMP" | od -An -c)"
}

@test "pair: output matches the PHP reference transcript byte for byte" {
	local ref=$SOCKPAIR_PHP_REFERENCE/transcripts/socket_create_pair.unix.stdout
	[ -f "$ref" ] || skip "no PHP reference beside the project"
	sp pair >"$BATS_TEST_TMPDIR/out"
	cmp "$ref" "$BATS_TEST_TMPDIR/out"
}

@test "pair: --raw prints the bytes alone" {
	run -0 bash -c "'$SOCKPAIR' pair --raw | od -An -c"
	assert_output "$(printf 'ABCdef123\n' | od -An -c)"
}

@test "pair: -m understands \\n \\r \\t \\\\ \\0 \\xHH" {
	run -0 bash -c "'$SOCKPAIR' pair --raw -m 'a\\tb\\x41\\0z\\r\\n\\\\' | od -An -tx1"
	assert_output "$(printf 'a\tbA\0z\r\n\\' | od -An -tx1)"
	run -0 sp pair -m 'a\x4a'
	assert_output 'string(2) "aJ"'
}

@test "pair: var_dump counts bytes, NULs included" {
	run -0 bash -c "'$SOCKPAIR' pair -m 'a\\0b' | od -An -c"
	assert_output "$(printf 'string(3) "a\0b"\n' | od -An -c)"
}

@test "pair: an empty message is string(0)" {
	run -0 sp pair -m ''
	assert_output 'string(0) ""'
	run -0 sp pair -m '' -t seqpacket
	assert_output 'string(0) ""'
}

@test "pair: a message larger than the socket buffers does not deadlock" {
	local big
	big=$(head -c 130000 /dev/zero | tr '\0' 'y')
	sp pair --raw -m "$big" >"$BATS_TEST_TMPDIR/out"
	printf '%s' "$big" | cmp - "$BATS_TEST_TMPDIR/out"
}

@test "pair: dgram, seqpacket and raw types carry the message" {
	for t in dgram seqpacket SOCK_DGRAM 5 raw; do
		run -0 sp pair -t "$t"
		assert_output "$(printf '%s' "$VAR_DUMP")"
	done
}

@test "pair: domains and types by name, SPEC name or number" {
	for d in unix AF_UNIX local AF_LOCAL 1; do
		run -0 sp pair -d "$d"
		assert_output "$(printf '%s' "$VAR_DUMP")"
	done
	for t in stream SOCK_STREAM 1; do
		run -0 sp pair -t "$t"
		assert_output "$(printf '%s' "$VAR_DUMP")"
	done
}

@test "pair: protocol by number or getprotobyname() name" {
	run -0 sp pair -P ip
	run -0 sp pair -P 0
	run --separate-stderr sp pair -P tcp
	assert_failure 1
	assert_equal "$stderr" "sockpair: pair: socketpair(AF_UNIX, SOCK_STREAM, 6): Protocol not supported"
}

@test "pair: inet is refused by Linux: the SPEC error line, exit 1, no stdout" {
	run --separate-stderr sp pair -d inet
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" "sockpair: pair: socketpair(AF_INET, SOCK_STREAM, 0): Operation not supported"
	run --separate-stderr sp pair -d AF_INET6
	assert_failure 1
	assert_equal "$stderr" "sockpair: pair: socketpair(AF_INET6, SOCK_STREAM, 0): Operation not supported"
}

@test "pair: an unsupported type is the kernel's error, exit 1" {
	run --separate-stderr sp pair -t rdm
	assert_failure 1
	assert_equal "$stderr" "sockpair: pair: socketpair(AF_UNIX, SOCK_RDM, 0): Socket type not supported"
}

@test "pair: --emulate builds inet and inet6 pairs over loopback" {
	for d in inet inet6; do
		for t in stream dgram; do
			run -0 sp pair --emulate -d "$d" -t "$t"
			assert_output "$(printf '%s' "$VAR_DUMP")"
		done
	done
}

@test "pair: --emulate shows its listen, connect and accept in the trace" {
	run --separate-stderr sp pair --emulate -d inet --trace
	assert_success
	assert_equal "${stderr_lines[0]}" "socket(AF_INET, SOCK_STREAM, 0) = 3"
	assert_equal "${stderr_lines[1]}" "bind(3, 127.0.0.1:0) = 0"
	[[ "$stderr" == *"listen(3, 1) = 0"* ]]
	[[ "$stderr" =~ connect\(4,\ 127\.0\.0\.1:[0-9]+\)\ =\ 0 ]]
	[[ "$stderr" == *"accept4(3, NULL) = 5"* ]]
}

@test "pair: --emulate with an impossible type fails at socket()" {
	run --separate-stderr sp pair --emulate -d inet -t seqpacket
	assert_failure 1
	assert_equal "$stderr" "sockpair: pair: socket(AF_INET, SOCK_SEQPACKET, 0): Socket type not supported"
}

@test "pair: --info describes both ends of a unix pair" {
	run -0 bash -c "echo \$\$; exec '$SOCKPAIR' pair --info 3>&- 4>&-"
	local pid=${lines[0]}
	assert_line --index 1 "end 0: descriptor 3"
	assert_line --index 10 "end 1: descriptor 4"
	assert_line "  domain       AF_UNIX"
	assert_line "  type         SOCK_STREAM"
	assert_line "  protocol     0"
	assert_line --regexp '^  SO_SNDBUF    [0-9]+$'
	assert_line --regexp '^  SO_RCVBUF    [0-9]+$'
	assert_line "  SO_PEERCRED  pid $pid uid $(id -u) gid $(id -g)"
	assert_line "  local        (unnamed)"
	assert_line "  peer         (unnamed)"
	assert_line --index 19 'string(10) "ABCdef123'
}

@test "pair: --info shows the type the kernel made (raw becomes dgram)" {
	run -0 sp pair --info -t raw
	assert_line "  type         SOCK_DGRAM"
}

@test "pair: --info on an emulated pair shows each end's addresses" {
	run -0 sp pair --emulate -d inet --info
	assert_line "  domain       AF_INET"
	assert_line "  SO_PEERCRED  (none for this domain)"
	local local0 peer0 local1 peer1
	local0=${lines[7]} peer0=${lines[8]} local1=${lines[16]} peer1=${lines[17]}
	[[ "$local0" =~ ^\ \ local\ +127\.0\.0\.1:[0-9]+$ ]]
	assert_equal "${local0##* }" "${peer1##* }"
	assert_equal "${peer0##* }" "${local1##* }"
}

@test "pair: --size streams, verifies and reports bytes, time and rate" {
	for n in 1 7 8 9 1000003 10M; do
		run -0 sp pair --size "$n"
		assert_output --regexp '^[0-9]+ bytes verified in [0-9]+\.[0-9]+ s \([0-9.]+ (B|KiB|MiB|GiB)/s\)$'
	done
	run -0 sp pair --size 10M
	assert_output --regexp '^10485760 bytes '
	run -0 sp pair --size 3K
	assert_output --regexp '^3072 bytes '
	run -0 sp pair --size 1g
	assert_output --regexp '^1073741824 bytes '
}

@test "pair: --size works over seqpacket, dgram and emulated TCP pairs" {
	for args in "-t seqpacket" "-t dgram" "--emulate -d inet" "--emulate -d inet6"; do
		run -0 sp pair --size 5000001 $args
		assert_output --regexp '^5000001 bytes verified '
	done
}

@test "pair: --size catches a corrupted byte and names it" {
	build_faults
	SP_FAULT_FLIP_AT=1234567 LD_PRELOAD=$FAULTS_SO run --separate-stderr sp pair --size 4M
	assert_failure 1
	assert_equal "$output" ""
	[[ "$stderr" =~ ^sockpair:\ pair:\ byte\ 1234567\ is\ 0x([0-9a-f]{2}),\ expected\ 0x([0-9a-f]{2})$ ]] ||
		fail "unexpected error line: $stderr"
	# The shim flips every bit of that byte.
	assert_equal $(( 0x${BASH_REMATCH[1]} ^ 0xff )) $(( 0x${BASH_REMATCH[2]} ))
}

@test "pair: --size streams 1 MiB blocks, each begun by its number with the bits inverted" {
	# The writer's bytes as -x shows them, rebuilt by xxd -r, against the
	# layout the man page gives, computed here on its own.
	sp -x pair --size $((2 * 1048576 + 64)) 2>"$BATS_TEST_TMPDIR/x" >"$BATS_TEST_TMPDIR/out"
	grep '^> ' "$BATS_TEST_TMPDIR/x" | cut -c3- | xxd -r >"$BATS_TEST_TMPDIR/sent"
	run -0 python3 - "$BATS_TEST_TMPDIR/sent" <<-'PY'
		import struct, sys
		WEYL, BLOCK = 0x9E3779B97F4A7C15, 1 << 20
		def word(i):
		    k, block = i % (BLOCK // 8), i // (BLOCK // 8)
		    return ~block & (2**64 - 1) if k == 0 else (k + 1) * WEYL % 2**64
		data = open(sys.argv[1], "rb").read()
		want = b"".join(struct.pack("<Q", word(i)) for i in range(len(data) // 8))
		print(len(data), data == want)
	PY
	assert_output "$((2 * 1048576 + 64)) True"
	run -0 cat "$BATS_TEST_TMPDIR/out"
	assert_output --regexp '^2097216 bytes verified '
}

@test "pair: --size catches a repeated and a lost block, at the block's first byte" {
	build_faults
	# Byte 3000000 is in block 2: it comes twice, or block 3 comes in its place.
	SP_FAULT_REPEAT_AT=3000000 LD_PRELOAD=$FAULTS_SO run --separate-stderr sp pair --size 8M
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" "sockpair: pair: byte 3145728 is 0xfd, expected 0xfc"
	SP_FAULT_DROP_AT=3000000 LD_PRELOAD=$FAULTS_SO run --separate-stderr sp pair --size 8M
	assert_failure 1
	assert_equal "$stderr" "sockpair: pair: byte 2097152 is 0xfc, expected 0xfd"
}

@test "pair: --size catches a repeated and a lost datagram" {
	build_faults
	# Datagrams are 64 KiB: the one holding byte 3000000 starts at 2949120.
	for t in dgram seqpacket; do
		for fault in SP_FAULT_REPEAT_AT SP_FAULT_DROP_AT; do
			local first=2949120
			[[ $fault == SP_FAULT_DROP_AT ]] || first=$((first + 65536))
			declare -x "$fault=3000000"
			LD_PRELOAD=$FAULTS_SO run --separate-stderr sp pair --size 8M -t "$t"
			unset "$fault"
			assert_failure 1
			assert_equal "$output" ""
			[[ "$stderr" =~ ^"sockpair: pair: byte "([0-9]+)" is 0x"[0-9a-f]{2}", expected 0x"[0-9a-f]{2}$ ]] ||
				fail "$t $fault: $stderr"
			(( BASH_REMATCH[1] >= first && BASH_REMATCH[1] < first + 65536 )) ||
				fail "$t $fault: byte ${BASH_REMATCH[1]}"
		done
	done
}

@test "pair: --size notices a writer that dies, on a stream and on dgram" {
	build_faults
	for t in stream dgram; do
		SP_FAULT_WRITER_EXIT_AT=3000000 LD_PRELOAD=$FAULTS_SO run --separate-stderr sp pair --size 8M -t "$t"
		assert_failure 1
		assert_equal "$output" ""
		assert_equal "${#stderr_lines[@]}" 1
		[[ "$stderr" =~ ^"sockpair: pair: recv("[0-9]+"): end of data after "[0-9]+" of 8388608 bytes"$ ]] ||
			fail "$stderr"
	done
}

@test "pair: bad --size values are usage errors" {
	for v in 0 -1 abc 1X 12KB ' 5' 99999999999999999999 17179869184G ''; do
		run --separate-stderr sp pair --size "$v"
		assert_usage_error "sockpair: pair: invalid size '$v' (a positive byte count, K, M or G)"
	done
}

@test "pair: bad domain, type and protocol names are usage errors" {
	run --separate-stderr sp pair -d bogus
	assert_usage_error "sockpair: pair: invalid domain 'bogus' (unix, inet, inet6 or a number)"
	run --separate-stderr sp pair -t bogus
	assert_usage_error "sockpair: pair: invalid type 'bogus' (stream, dgram, seqpacket, raw, rdm or a number)"
	run --separate-stderr sp pair -P nosuchproto
	assert_usage_error "sockpair: pair: invalid protocol 'nosuchproto' (a number or a name from /etc/protocols)"
	run --separate-stderr sp pair -d -3
	assert_usage_error "sockpair: pair: invalid domain '-3' (unix, inet, inet6 or a number)"
}

@test "pair: bad escapes in -m are usage errors" {
	for m in '\q' '\x4' '\xZZ' 'abc\'; do
		run --separate-stderr sp pair -m "$m"
		assert_usage_error "sockpair: pair: invalid escape in message '$m' (\\n \\r \\t \\\\ \\0 \\xHH)"
	done
}

@test "pair: --size with -m or --raw, UDP --size and stray arguments are usage errors" {
	run --separate-stderr sp pair --size 1K -m x
	assert_usage_error "sockpair: pair: --size streams generated bytes; --message and --raw do not apply"
	run --separate-stderr sp pair --size 1K --raw
	assert_usage_error "sockpair: pair: --size streams generated bytes; --message and --raw do not apply"
	run --separate-stderr sp pair --size 1K --emulate -d inet -t dgram
	assert_usage_error "sockpair: pair: --size needs a reliable pair; UDP may drop datagrams"
	run --separate-stderr sp pair extra
	assert_usage_error "sockpair: pair: unexpected argument 'extra'"
}

@test "pair: --trace shows the example's calls, in order, with their data" {
	run --separate-stderr sp pair --trace
	assert_success
	assert_equal "$stderr" "socketpair(AF_UNIX, SOCK_STREAM, 0) = [3, 4]
write(3, \"ABCdef123\\n\", 10) = 10
read(4, \"ABCdef123\\n\", 10) = 10
writev(1, [3 buffers], 3) = 24
close(3) = 0
close(4) = 0"
}

@test "pair: --trace cuts long data at 32 bytes, as strace does" {
	run --separate-stderr sp pair --trace -m 'abcdefghijklmnopqrstuvwxyz0123456789'
	assert_success
	assert_equal "${stderr_lines[1]}" 'write(3, "abcdefghijklmnopqrstuvwxyz012345"..., 36) = 36'
}
