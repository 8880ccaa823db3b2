#!/usr/bin/env bats
# fork-echo: the IPC examples across fork(), and -i, the interactive echo.

load helpers

teardown() {
	tmux_stop
	[ -n "${BG_PID:-}" ] && kill -9 "$BG_PID" 2>/dev/null
	# No sockpair may leave a child unreaped: a zombie whose parent is a
	# sockpair still running.  (Orphans belong to init, whose reaping here
	# is lazy, and are no sign of ours.)
	local zombies
	zombies=$(ps -eo pid=,ppid=,stat=,comm= | awk '
		{ comm[$1] = $4 }
		$3 ~ /^Z/ && $4 == "sockpair" { z[$1] = $2 }
		END { for (p in z) if (comm[z[p]] == "sockpair") print p " (parent " z[p] ")" }')
	[ -z "$zombies" ] || fail "sockpair children left unreaped: $zombies"
}

# The child's pid, from the trace's fork() line.
forked_pid() {
	sed -n 's/^fork() = \([0-9][0-9]*\)$/\1/p' <<<"$stderr"
}

@test "fork-echo: the socket style prints the child's line, then the parent's" {
	# The manual's parent never waits: PHP printed either order.  Ours must not.
	for round in 1 2 3 4 5 6 7 8 9 10; do
		run --separate-stderr sp fork-echo
		assert_success
		assert_output "Received Message From Parent.
Received Message From Child."
		assert_equal "$stderr" ""
	done
}

@test "fork-echo: the stream style prints 'child PID: <the child's real pid>' first" {
	for round in 1 2 3 4 5; do
		run --separate-stderr sp fork-echo --style stream --trace
		assert_success
		local pid
		pid=$(forked_pid)
		[ -n "$pid" ] || fail "no fork() line in the trace: $stderr"
		assert_output "child PID: $pid
message from child"
		# The child's own trace lines carry the same pid.
		[[ "$stderr" == *"[pid $pid] write("*'"message from child\n", 19) = 19'* ]]
	done
}

@test "fork-echo: --style socket is the default" {
	run -0 sp fork-echo --style socket
	assert_output "Received Message From Parent.
Received Message From Child."
}

@test "fork-echo: both styles work over seqpacket and dgram pairs" {
	for t in seqpacket dgram; do
		run -0 sp fork-echo -t "$t"
		assert_output "Received Message From Parent.
Received Message From Child."
		run -0 sp fork-echo --style stream -t "$t"
		assert_line --index 0 --regexp '^child PID: [0-9]+$'
		assert_line --index 1 "message from child"
	done
}

@test "fork-echo: the parent reaps the child: no zombie, no orphan" {
	for style in socket stream; do
		run --separate-stderr sp fork-echo --style "$style" --trace
		assert_success
		local pid
		pid=$(forked_pid)
		[[ "$stderr" == *"waitpid($pid) = $pid (exited with status 0)"* ]]
		assert_gone "$pid"
	done
}

@test "fork-echo: -i answers each line from a pipe with the child's pid" {
	run --separate-stderr bash -c "printf 'hello\nworld\n' | SOCKPAIR_TRACE=1 timeout 10 '$SOCKPAIR' fork-echo -i 3>&-"
	assert_success
	local pid
	pid=$(forked_pid)
	assert_output "child $pid: hello
child $pid: world"
	assert_gone "$pid"
}

@test "fork-echo: -i from a pipe prints no prompt and keeps empty lines" {
	run -0 bash -c "printf 'a\n\nb\n' | timeout 10 '$SOCKPAIR' fork-echo -i 3>&- | sed 's/^child [0-9]*: /C:/'"
	assert_output "C:a
C:
C:b"
}

@test "fork-echo: -i ends a last line that has no newline" {
	run -0 bash -c "printf 'a\nlast' | timeout 10 '$SOCKPAIR' fork-echo -i 3>&- | sed 's/^child [0-9]*: /C:/'"
	assert_output "C:a
C:last"
}

@test "fork-echo: -i with no input prints nothing and exits 0" {
	run -0 bash -c "timeout 10 '$SOCKPAIR' fork-echo -i </dev/null 3>&-"
	assert_output ""
}

@test "fork-echo: -i carries long lines and NUL bytes intact" {
	head -c 300000 /dev/urandom | base64 -w 0 >"$BATS_TEST_TMPDIR/long"
	printf 'a\0b\n' >>"$BATS_TEST_TMPDIR/long"
	timeout 10 "$SOCKPAIR" fork-echo -i <"$BATS_TEST_TMPDIR/long" 3>&- >"$BATS_TEST_TMPDIR/out"
	sed 's/^child [0-9]*: //' "$BATS_TEST_TMPDIR/out" | cmp - "$BATS_TEST_TMPDIR/long"
}

@test "fork-echo: -i works over seqpacket" {
	run -0 bash -c "printf 'x\ny\n' | timeout 10 '$SOCKPAIR' fork-echo -i -t seqpacket 3>&- | sed 's/^child [0-9]*: /C:/'"
	assert_output "C:x
C:y"
}

@test "fork-echo: -i over seqpacket answers every line of a bulk input, from a file and a pipe" {
	# 200000 bytes: more than a packet the child reads, more than one it may send.
	python3 -c 'import sys; sys.stdout.write("".join("%099d\n" % i for i in range(2000)))' \
		>"$BATS_TEST_TMPDIR/lines"
	timeout 20 "$SOCKPAIR" fork-echo -i -t seqpacket <"$BATS_TEST_TMPDIR/lines" 3>&- \
		>"$BATS_TEST_TMPDIR/out"
	sed 's/^child [0-9]*: //' "$BATS_TEST_TMPDIR/out" | cmp - "$BATS_TEST_TMPDIR/lines"
	cat "$BATS_TEST_TMPDIR/lines" | timeout 20 "$SOCKPAIR" fork-echo -i -t seqpacket 3>&- \
		>"$BATS_TEST_TMPDIR/out"
	sed 's/^child [0-9]*: //' "$BATS_TEST_TMPDIR/out" | cmp - "$BATS_TEST_TMPDIR/lines"
	# 20000 empty lines: each answer is 20 times its line.
	head -c 20000 /dev/zero | tr '\0' '\n' | timeout 20 "$SOCKPAIR" fork-echo -i -t seqpacket 3>&- \
		>"$BATS_TEST_TMPDIR/out"
	run -0 grep -c '^child [0-9]*: $' "$BATS_TEST_TMPDIR/out"
	assert_output 20000
}

@test "fork-echo: a child killed mid-session makes the parent fail, exit 1" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	timeout 10 "$SOCKPAIR" fork-echo -i <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" \
		2>"$BATS_TEST_TMPDIR/err" 3>&- &
	BG_PID=$!
	exec 7>"$BATS_TEST_TMPDIR/in"
	printf 'one\n' >&7
	wait_for_line "$BATS_TEST_TMPDIR/out" '^child [0-9]+: one$'
	local child
	child=$(sed -n '1s/^child \([0-9]*\): one$/\1/p' "$BATS_TEST_TMPDIR/out")
	kill -9 "$child"
	local status=0
	wait "$BG_PID" || status=$?
	exec 7>&-
	BG_PID=
	assert_equal "$status" 1
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" "sockpair: fork-echo: child $child killed by signal 9 (Killed)"
	assert_gone "$child"
}

@test "fork-echo: a child that cannot print makes the parent fail" {
	run --separate-stderr bash -c "'$SOCKPAIR' fork-echo >/dev/full 3>&-"
	assert_failure 1
	[[ "$stderr" == *"sockpair: fork-echo: write(stdout): No space left on device"* ]]
	[[ "$stderr" =~ child\ [0-9]+\ exited\ with\ status\ 1 ]]
}

@test "fork-echo: bad style, type, -i with dgram and stray arguments are usage errors" {
	run --separate-stderr sp fork-echo --style pipe
	assert_usage_error "sockpair: fork-echo: invalid style 'pipe' (socket or stream)"
	run --separate-stderr sp fork-echo -t raw
	assert_usage_error "sockpair: fork-echo: invalid type 'raw' (stream, dgram or seqpacket)"
	run --separate-stderr sp fork-echo -i -t dgram
	assert_usage_error "sockpair: fork-echo: -i needs a connected type: stream or seqpacket"
	run --separate-stderr sp fork-echo extra
	assert_usage_error "sockpair: fork-echo: unexpected argument 'extra'"
}

# ---- on a terminal: GNU readline ------------------------------------------

start_interactive() {
	local status_file=$BATS_TEST_TMPDIR/status
	tmux_start "bash --norc --noprofile"
	tmux_send "PS1='$ '; stty sane" Enter
	tmux_send "'$SOCKPAIR' fork-echo -i; echo \"exit=\$?\"" Enter
	# capture-pane drops the prompt's trailing blank.
	tmux_wait_for '^> ?$'
}

@test "fork-echo: -i on a terminal edits with readline and recalls history" {
	command -v tmux >/dev/null || fail "tmux is not installed (make deps-test)"
	start_interactive
	tmux_send 'hello world' Enter
	tmux_wait_for '^child [0-9]+: hello world$'
	# Edit: type "helo", move left twice, insert the missing "l".
	tmux_send 'helo' Left Left 'l' Enter
	tmux_wait_for '^child [0-9]+: hello$'
	# History: the up arrow brings back "hello", twice up "hello world".
	tmux_send Up Up Enter
	tmux_wait_for '^> hello world$'
	[ "$(tmux_screen | grep -cE '^child [0-9]+: hello world$')" -eq 2 ] ||
		fail "history recall did not resend 'hello world': $(tmux_screen)"
	tmux_send C-d
	tmux_wait_for '^exit=0$'
}

@test "fork-echo: -i on a terminal shows a prompt and the reply above it" {
	start_interactive
	tmux_send 'ping' Enter
	tmux_wait_for '^child [0-9]+: ping$'
	# The reply sits between the typed line and a fresh prompt.
	run -0 bash -c "tmux -S '$TMUX_SOCKET' capture-pane -p -t test | grep -A2 -E '^> ping$'"
	assert_line --index 1 --regexp '^child [0-9]+: ping$'
	assert_line --index 2 --regexp '^> ?$'
	tmux_send C-d
	tmux_wait_for '^exit=0$'
}

@test "fork-echo: Ctrl-C on a terminal exits 130, restores the terminal, reaps the child" {
	start_interactive
	tmux_send 'first' Enter
	tmux_wait_for '^child [0-9]+: first$'
	local child
	child=$(tmux_screen | sed -n 's/^child \([0-9]*\): first$/\1/p')
	tmux_send 'half typed' C-c
	tmux_wait_for '^exit=130$'
	tmux_send 'stty -a | tr " " "\n" | grep -xE -- "-?(icanon|echo)" | tr "\n" " "; echo' Enter
	tmux_wait_for '^icanon echo ?$'
	assert_gone "$child"
}

@test "fork-echo: -i -x on a terminal passes a 20000-byte line, the child's dump through the parent" {
	# The child's dump of it is more than its pipe to the parent holds: it
	# once kept the stderr lock while that pipe was full, and the parent,
	# waiting for the lock in its own trace, never emptied the pipe.
	python3 -c "print('a' * 20000, end='')" >"$BATS_TEST_TMPDIR/long"
	tmux_start "bash --norc --noprofile"
	tmux_send "PS1='$ '; stty sane" Enter
	tmux_send "'$SOCKPAIR' -x fork-echo -i 2>'$BATS_TEST_TMPDIR/err'; echo \"exit=\$?\"" Enter
	tmux_wait_for '^> ?$'
	tmux -S "$TMUX_SOCKET" load-buffer "$BATS_TEST_TMPDIR/long"
	tmux -S "$TMUX_SOCKET" paste-buffer -t test
	tmux_send Enter
	wait_for_line "$BATS_TEST_TMPDIR/err" '^-- \[pid [0-9]+\] sent [0-9]+ bytes'
	tmux_send C-d
	tmux_wait_for '^exit=0$'
	tmux_stop
	run -0 awk '/^-- \[pid [0-9]+\] received / { n += $5 } END { print n }' "$BATS_TEST_TMPDIR/err"
	assert_output 20001
}

@test "fork-echo: -i --trace on a terminal prints the child's trace lines above the prompt" {
	tmux_start "bash --norc --noprofile"
	tmux_send "PS1='$ '; stty sane" Enter
	tmux_send "'$SOCKPAIR' --trace fork-echo -i; echo \"exit=\$?\"" Enter
	tmux_wait_for '^> ?$'
	tmux_send 'half'
	tmux_wait_for '^> half$'
	tmux_send ' done' Enter
	tmux_wait_for '^child [0-9]+: half done$'
	tmux_wait_for '^\[pid [0-9]+\] write\(3, "child [0-9]+: half done\\n", [0-9]+\) = [0-9]+$'
	# The child's lines came above the prompt: the last line is the prompt.
	tmux_send 'next'
	tmux_wait_for '^> next$'
	assert_equal "$(tmux_screen | grep . | tail -1)" "> next"
	tmux_send C-u C-d
	tmux_wait_for '^exit=0$'
	tmux_stop
}
