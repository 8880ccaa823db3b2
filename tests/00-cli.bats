#!/usr/bin/env bats
# The "Everywhere" section of SPEC: help, version, usage errors, global
# options, tracing, exit statuses, stdout and SIGPIPE handling.

load helpers

@test "cli: --help prints the usage and every command on stdout, exit 0" {
	run --separate-stderr sp --help
	assert_success
	assert_line --index 0 --regexp '^Usage: sockpair '
	for cmd in pair fork-echo help; do
		assert_line --regexp "^  $cmd +[A-Z]"
	done
	assert_equal "$stderr" ""
}

@test "cli: -h is --help" {
	run --separate-stderr sp -h
	assert_success
	assert_line --index 0 --regexp '^Usage: sockpair '
}

@test "cli: help COMMAND and COMMAND --help print the same text" {
	for cmd in pair fork-echo; do
		run --separate-stderr sp help "$cmd"
		assert_success
		local via_help=$output
		run --separate-stderr sp "$cmd" --help
		assert_success
		assert_equal "$output" "$via_help"
		assert_line --index 0 --regexp "^Usage: sockpair $cmd "
	done
}

@test "cli: help alone is --help" {
	run --separate-stderr sp help
	assert_success
	local via_help=$output
	run -0 --separate-stderr sp --help
	assert_equal "$output" "$via_help"
}

@test "cli: --version prints 'sockpair X.Y.Z', exit 0" {
	run --separate-stderr sp --version
	assert_success
	assert_output --regexp '^sockpair [0-9]+\.[0-9]+\.[0-9]+$'
	run -0 --separate-stderr sp -V
	assert_output --regexp '^sockpair [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "cli: no command prints the usage on stderr, exit 2" {
	run --separate-stderr sp
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]%% *}" "Usage:"
}

@test "cli: an unknown command is a usage error" {
	run --separate-stderr sp nosuch
	assert_usage_error "sockpair: unknown command 'nosuch'"
}

@test "cli: an unknown command close to a known one names it" {
	run --separate-stderr sp conect 127.0.0.1 1
	assert_usage_error "sockpair: unknown command 'conect'; did you mean 'connect'?"
	run --separate-stderr sp pari
	assert_usage_error "sockpair: unknown command 'pari'; did you mean 'pair'?"
	run --separate-stderr sp help talkbak
	assert_usage_error "sockpair: help: unknown command 'talkbak'; did you mean 'talkback'?"
	# Too far from every name, or too short to tell: no guess.
	run --separate-stderr sp ls
	assert_usage_error "sockpair: unknown command 'ls'"
}

@test "cli: an unknown global option is a usage error" {
	run --separate-stderr sp --bogus pair
	assert_usage_error "sockpair: unrecognized option '--bogus'"
	run --separate-stderr sp -Z pair
	assert_usage_error "sockpair: invalid option -- 'Z'"
}

@test "cli: an unknown command option names the command" {
	run --separate-stderr sp pair --bogus=1
	assert_usage_error "sockpair: pair: unrecognized option '--bogus'"
	run --separate-stderr sp fork-echo -Z
	assert_usage_error "sockpair: fork-echo: invalid option -- 'Z'"
}

@test "cli: option errors say what getopt_long means, and the Try line names the command" {
	run -2 --separate-stderr sp connect --udp=yes 127.0.0.1 80
	assert_equal "${stderr_lines[0]}" "sockpair: connect: option '--udp' doesn't allow an argument"
	assert_equal "${stderr_lines[1]}" "Try 'sockpair connect --help' for more information."
	run -2 --separate-stderr sp talkback --max 5
	assert_equal "${stderr_lines[0]}" "sockpair: talkback: option '--max' is ambiguous; possibilities: '--max-clients' '--max-line'"
	run -2 --separate-stderr sp pair --info=x
	assert_equal "${stderr_lines[0]}" "sockpair: pair: option '--info' doesn't allow an argument"
	run -2 --separate-stderr sp pair --inf=x
	assert_equal "${stderr_lines[0]}" "sockpair: pair: option '--info' doesn't allow an argument"
	# Before a command: sockpair's own help.
	run -2 --separate-stderr sp --bogus
	assert_equal "${stderr_lines[1]}" "Try 'sockpair --help' for more information."
}

@test "cli: a missing option argument is a usage error" {
	run --separate-stderr sp pair -d
	assert_usage_error "sockpair: pair: option '-d' requires an argument"
	run --separate-stderr sp pair --size
	assert_usage_error "sockpair: pair: option '--size' requires an argument"
	run --separate-stderr sp fork-echo --style
	assert_usage_error "sockpair: fork-echo: option '--style' requires an argument"
}

@test "cli: help for an unknown command is a usage error" {
	run --separate-stderr sp help nosuch
	assert_usage_error "sockpair: help: unknown command 'nosuch'"
	run --separate-stderr sp help pair extra
	assert_usage_error "sockpair: help: too many arguments"
}

@test "cli: --trace before or after the command traces the same calls" {
	run --separate-stderr sp --trace pair
	assert_success
	local before=$stderr
	run --separate-stderr sp pair --trace
	assert_success
	assert_equal "$stderr" "$before"
	assert_equal "${stderr_lines[0]}" "socketpair(AF_UNIX, SOCK_STREAM, 0) = [3, 4]"
}

@test "cli: SOCKPAIR_TRACE=1 traces, SOCKPAIR_TRACE=0 does not" {
	SOCKPAIR_TRACE=1 run --separate-stderr sp pair
	assert_success
	assert_equal "${stderr_lines[0]}" "socketpair(AF_UNIX, SOCK_STREAM, 0) = [3, 4]"
	SOCKPAIR_TRACE=0 run --separate-stderr sp pair
	assert_success
	assert_equal "$stderr" ""
}

@test "cli: a failing call is traced strace-style, errno name and reason" {
	run --separate-stderr sp --trace pair -d inet
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "socketpair(AF_INET, SOCK_STREAM, 0) = -1 EOPNOTSUPP (Operation not supported)"
}

@test "cli: -q and --quiet are accepted before and after the command" {
	for q in -q --quiet; do
		run --separate-stderr sp "$q" pair
		assert_success
		run --separate-stderr sp pair "$q"
		assert_success
		assert_output "$(printf 'string(10) "ABCdef123\n"')"
	done
}

@test "cli: -q never silences an error" {
	run --separate-stderr sp -q pair -d inet
	assert_failure 1
	assert_equal "$stderr" "sockpair: pair: socketpair(AF_INET, SOCK_STREAM, 0): Operation not supported"
}

@test "cli: stdout that cannot be written is an error, exit 1" {
	run --separate-stderr bash -c "'$SOCKPAIR' pair >/dev/full"
	assert_failure 1
	assert_equal "$stderr" "sockpair: pair: write(stdout): No space left on device"
}

@test "cli: SIGPIPE does not kill: a closed stdout is reported, exit 1" {
	# 100000 bytes cannot fit in a 64 KiB pipe: the write meets the closed end.
	run --separate-stderr bash -c "
		'$SOCKPAIR' pair --raw -m \"\$(head -c 100000 /dev/zero | tr '\\0' x)\" | true
		exit \${PIPESTATUS[0]}"
	assert_failure 1
	assert_equal "$stderr" "sockpair: pair: write(stdout): Broken pipe"
}

@test "cli: every SPEC option has its long form" {
	run -0 sp pair --domain unix --type stream --protocol 0 --message 'x' --quiet
	assert_output 'string(1) "x"'
	run -0 sp pair -d unix -t stream -P 0 -m 'x' -q
	assert_output 'string(1) "x"'
	run -0 bash -c "printf 'a\n' | '$SOCKPAIR' fork-echo --interactive --type stream"
	assert_output --regexp '^child [0-9]+: a$'
}
