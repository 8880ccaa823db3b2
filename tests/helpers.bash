# Shared by every tests/*.bats file.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

SOCKPAIR=${SOCKPAIR:-$BATS_TEST_DIRNAME/../sockpair}
SOCKPAIR_PHP_REFERENCE=$BATS_TEST_DIRNAME/../../shared/php-reference

# Every run of sockpair is bounded: a hang shows as status 124, never as a
# stuck suite.  Descriptors bats keeps open are closed, so that sockpair
# gets the numbers it gets in a shell (3 and 4 for the pair), and a
# background sockpair cannot hold bats' output pipe open.
sp() {
	timeout -k 2 "${SP_TIMEOUT:-10}" "$SOCKPAIR" "$@" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
}

TRY_LINE="Try 'sockpair --help' for more information."

# A usage error: status 2, nothing on stdout, the reason and the Try line.
assert_usage_error() {
	local reason=$1
	[ "$status" -eq 2 ] || fail "expected status 2, got $status"
	[ -z "$output" ] || fail "expected empty stdout, got: $output"
	assert_equal "${stderr_lines[0]}" "$reason"
	assert_equal "${stderr_lines[1]}" "$TRY_LINE"
}

# Polls (bounded, 5 s) until a file exists and has a line matching a regex.
wait_for_line() {
	local file=$1 regex=$2 tries=${3:-100}
	while [ "$tries" -gt 0 ]; do
		grep -Eq -- "$regex" "$file" 2>/dev/null && return 0
		sleep 0.05
		tries=$((tries - 1))
	done
	fail "no line matching '$regex' in $file within the time limit: $(cat "$file" 2>/dev/null)"
}

# No process with this pid exists any more: not running, not a zombie.
assert_gone() {
	local pid=$1 state
	state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
	[ -z "$state" ] || fail "process $pid still exists, state '$state'"
}

# Builds the fault-injection library once per test file.
build_faults() {
	FAULTS_SO=$BATS_FILE_TMPDIR/faults.so
	[ -f "$FAULTS_SO" ] ||
		cc -shared -fPIC -O1 -o "$FAULTS_SO" "$BATS_TEST_DIRNAME/lib/faults.c" -ldl
}

# ---- terminals: a private tmux server per test --------------------------

tmux_start() {
	TMUX_SOCKET=$BATS_TEST_TMPDIR/tmux.sock
	tmux -S "$TMUX_SOCKET" -f /dev/null new-session -d -x 100 -y 30 -s test "$@"
}

tmux_send() {
	tmux -S "$TMUX_SOCKET" send-keys -t test "$@"
}

tmux_screen() {
	tmux -S "$TMUX_SOCKET" capture-pane -p -t test
}

# Polls (bounded, 5 s) until the screen shows a line matching a regex.
tmux_wait_for() {
	local regex=$1 tries=100
	while [ "$tries" -gt 0 ]; do
		tmux_screen 2>/dev/null | grep -Eq -- "$regex" && return 0
		sleep 0.05
		tries=$((tries - 1))
	done
	fail "screen never showed '$regex'; it shows:
$(tmux_screen 2>&1)"
}

tmux_stop() {
	[ -n "${TMUX_SOCKET:-}" ] && tmux -S "$TMUX_SOCKET" kill-server 2>/dev/null
	return 0
}
