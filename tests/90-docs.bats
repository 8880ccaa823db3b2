#!/usr/bin/env bats
# The man page, the completions and the installed files agree with the
# binary: an option added to a command and forgotten in any of them fails.

load helpers

ROOT=$BATS_TEST_DIRNAME/..
MAN=$ROOT/man/sockpair.1

teardown() {
	tmux_stop
}

# The commands the binary lists in its --help.
commands() {
	sp --help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p'
}

# The long options COMMAND --help accepts, one per line, without "--".
long_options() {
	sp "$1" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sed 's/^--//' | sort -u
}

# The mdoc text of one COMMANDS subsection.
man_section() {
	sed -n "/^\.Ss $1\$/,/^\.S[sh] /p" "$MAN"
	# proxy's fault options have a section of their own.
	[ "$1" != proxy ] || sed -n '/^\.Sh FAULTS$/,/^\.S[sh] /p' "$MAN"
}

@test "docs: mandoc -Tlint finds nothing" {
	run mandoc -Tlint -W warning "$MAN"
	assert_success
	assert_output ""
}

@test "docs: the man page renders, with every required section" {
	run -0 bash -c "MANPAGER=cat man '$MAN' 2>/dev/null | col -b"
	for s in NAME SYNOPSIS DESCRIPTION COMMANDS ENVIRONMENT FILES "EXIT STATUS" EXAMPLES \
		DIAGNOSTICS "SEE ALSO"; do
		assert_line "$s"
	done
}

@test "docs: SEE ALSO names the tools and pages sockpair stands beside" {
	run -0 bash -c "sed -n '/^\.Sh SEE ALSO/,/^\.Sh /p' '$MAN'"
	for ref in "nc 1" "socat 1" "telnet 1" "curl 1" "socketpair 2" "socket 7" "unix 7" "tcp 7"; do
		assert_line --regexp "^\.Xr $ref( ,)?\$"
	done
}

@test "docs: EXAMPLES reproduces each of the manual's examples" {
	run -0 bash -c "MANPAGER=cat man '$MAN' 2>/dev/null | col -b | sed -n '/^EXAMPLES/,/^DIAGNOSTICS/p'"
	assert_line --partial '$ sockpair pair'                          # socket_create_pair()
	assert_line --partial 'Received Message From Child.'             # the IPC example
	assert_line --partial '$ sockpair fork-echo --style stream'      # stream_socket_pair()
	assert_line --partial "$ telnet 127.0.0.1 10000"                 # the TCP server
	assert_line --partial "sockpair: You said 'hello'."
	assert_line --partial '$ sockpair http-head http://127.0.0.1:8080/'  # the TCP client
	assert_line --partial 'Sending HTTP HEAD request...OK.'
}

@test "docs: ENVIRONMENT and FILES name the variables and the history file" {
	run -0 bash -c "sed -n '/^\.Sh ENVIRONMENT/,/^\.Sh EXIT/p' '$MAN'"
	assert_line ".It Ev SOCKPAIR_TRACE"
	assert_line ".It Ev XDG_STATE_HOME"
	assert_line ".It Pa \$XDG_STATE_HOME/sockpair/history"
}

@test "docs: every command has a man page entry and is in every completion" {
	local cmd
	for cmd in $(commands); do
		[ "$cmd" = help ] && continue
		[ -n "$(man_section "$cmd")" ] || fail "man page has no '.Ss $cmd'"
		grep -qw -- "$cmd" "$ROOT/completions/sockpair.bash" || fail "bash completion lacks $cmd"
		grep -q -- "'$cmd:" "$ROOT/completions/_sockpair" || fail "zsh completion lacks $cmd"
		grep -q -- "-a $cmd " "$ROOT/completions/sockpair.fish" || fail "fish completion lacks $cmd"
	done
}

@test "docs: every long option of every command has its .It in the man page entry" {
	local cmd opt
	for cmd in $(commands); do
		[ "$cmd" = help ] && continue
		for opt in $(long_options "$cmd"); do
			case $opt in help | quiet | trace | hexdump | stats | json | pcap) continue ;; esac
			man_section "$cmd" | grep -qE -- "^\\.It Fl .*\\\\-$opt( |\$)" ||
				fail "man page entry '$cmd' does not document --$opt"
		done
	done
}

@test "docs: every long option of every command is in each completion file" {
	local cmd opt
	for cmd in $(commands); do
		[ "$cmd" = help ] && continue
		for opt in $(long_options "$cmd"); do
			case $opt in help | quiet | trace | hexdump | stats | json | pcap) continue ;; esac
			bash -c "source '$ROOT/completions/sockpair.bash'; _sockpair_options '$cmd'; echo --trace --quiet --help" |
				grep -qw -- "--$opt" || fail "bash completion of $cmd lacks --$opt"
			completion_options "$ROOT/completions/_sockpair" "$cmd" | grep -qx -- "$opt" ||
				fail "zsh completion of $cmd lacks --$opt"
			completion_options "$ROOT/completions/sockpair.fish" "$cmd" | grep -qx -- "$opt" ||
				fail "fish completion of $cmd lacks --$opt"
		done
	done
}

@test "docs: every option the man page documents is accepted by the binary" {
	local cmd opt
	for cmd in $(commands); do
		[ "$cmd" = help ] && continue
		for opt in $(man_section "$cmd" | sed -n 's/^\.It Fl .*\\-\([a-z][a-z0-9-]*\).*/\1/p' | sort -u); do
			long_options "$cmd" | grep -qx -- "$opt" ||
				fail "man page documents $cmd --$opt, which the binary does not accept"
		done
	done
}

# The long options a completion file offers for CMD, without "--".
completion_options() {
	local file=$1 cmd=$2
	case $file in
	*.bash) bash -c "source '$file'; _sockpair_options '$cmd'" | tr ' ' '\n' | sed -n 's/^--//p' ;;
	*.fish) grep -- "__fish_seen_subcommand_from $cmd\"" "$file" | grep -oE -- '-l [a-z0-9-]+' | cut -c4- ;;
	*) sed -n "/^_sockpair_${cmd//-/_}() {/,/^}/p" "$file" | grep -oE -- '--[a-z][a-z0-9-]*' | cut -c3- ;;
	esac
}

@test "docs: every option a completion offers is accepted by the binary" {
	local cmd opt file
	for cmd in $(commands); do
		[ "$cmd" = help ] && continue
		for file in "$ROOT/completions/sockpair.bash" "$ROOT/completions/sockpair.fish" \
			"$ROOT/completions/_sockpair"; do
			for opt in $(completion_options "$file" "$cmd" | sort -u); do
				long_options "$cmd" | grep -qx -- "$opt" ||
					fail "$(basename "$file") offers $cmd --$opt, which the binary does not accept"
			done
		done
	done
}

@test "docs: the SPEC exit statuses are all in EXIT STATUS" {
	run -0 bash -c "sed -n '/^\\.Sh EXIT STATUS/,/^\\.Sh /p' '$MAN' | grep -c '^\\.It [0-6]\$'"
	assert_output 7
}

@test "completion: bash completes commands, options and values" {
	complete_bash() {
		bash -c "source '$ROOT/completions/sockpair.bash'
			COMP_WORDS=($*); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
			_sockpair; echo \"\${COMPREPLY[*]}\""
	}
	run -0 complete_bash sockpair pa
	assert_output "pair"
	run -0 complete_bash sockpair f
	assert_output "fork-echo"
	run -0 complete_bash sockpair pair --e
	assert_output "--emulate"
	run -0 complete_bash sockpair pair -d "''"
	assert_output "unix inet inet6"
	run -0 complete_bash sockpair --trace fork-echo --style "''"
	assert_output "socket stream"
	run -0 complete_bash sockpair fork-echo -t "''"
	assert_output "stream dgram seqpacket"
	run -0 complete_bash sockpair help f
	assert_output "fork-echo"
	run -0 complete_bash sockpair listen --k
	assert_output "--keep-open"
	run -0 complete_bash sockpair connect --cr
	assert_output "--crlf"
	touch "$BATS_TEST_TMPDIR/only-file.sock"
	run -0 complete_bash sockpair listen -U "'$BATS_TEST_TMPDIR/only-f'"
	assert_output "$BATS_TEST_TMPDIR/only-file.sock"
	# --opt=value: bash hands the word over split at "=".
	run -0 complete_bash sockpair pair --domain = "''"
	assert_output "unix inet inet6"
	run -0 complete_bash sockpair pair --type =
	assert_output "stream dgram seqpacket raw rdm"
	# Only the host's position offers host names, not the port's.
	run -0 complete_bash sockpair connect localhost "''"
	assert_output ""
	run -0 complete_bash sockpair connect -w 1 localh
	assert_output "localhost"
}

@test "completion: bash completes -U paths as files: a directory, a name with spaces" {
	mkdir -p "$BATS_TEST_TMPDIR/c/sub" "$BATS_TEST_TMPDIR/c/my dir"
	tmux_start "bash --norc --noprofile"
	tmux_send "PS1='$ '; source '$ROOT/completions/sockpair.bash'; cd '$BATS_TEST_TMPDIR/c'" Enter
	# Keys typed before the prompt is drawn would be echoed before it.
	tmux_wait_for '^\$ *$'
	tmux_send "sockpair listen -U su" Tab
	tmux_wait_for '^\$ sockpair listen -U sub/$'
	tmux_send C-u "sockpair listen -U my" Tab
	tmux_wait_for '^\$ sockpair listen -U my\\ dir/$'
	tmux_stop
}

@test "completion: fish completes commands, options and values" {
	run -0 fish -c "source '$ROOT/completions/sockpair.fish'; complete -C 'sockpair pa'"
	assert_output --regexp '^pair	'
	run -0 fish -c "source '$ROOT/completions/sockpair.fish'; complete -C 'sockpair pair --em'"
	assert_output --regexp '^--emulate	'
	run -0 fish -c "source '$ROOT/completions/sockpair.fish'; complete -C 'sockpair pair -d '"
	assert_line --regexp '^inet6	'
	run -0 fish -c "source '$ROOT/completions/sockpair.fish'; complete -C 'sockpair fork-echo --style '"
	assert_line --regexp '^stream	'
	run -0 fish -c "source '$ROOT/completions/sockpair.fish'; complete -C 'sockpair listen --keep'"
	assert_output --regexp '^--keep-open	'
	touch "$BATS_TEST_TMPDIR/only-file.sock"
	run -0 fish -c "source '$ROOT/completions/sockpair.fish'; complete -C 'sockpair connect -U $BATS_TEST_TMPDIR/only-f'"
	assert_output --regexp "^$BATS_TEST_TMPDIR/only-file.sock"
}

@test "completion: zsh loads _sockpair under compinit and completes" {
	tmux_start "zsh -f"
	tmux_send "PS1='%% '; fpath=('$ROOT/completions' \$fpath); autoload -Uz compinit; compinit -u -d '$BATS_TEST_TMPDIR/zcd'; echo loaded=\$?" Enter
	tmux_wait_for '^loaded=0$'
	tmux_send "sockpair pa" Tab
	tmux_wait_for '^% sockpair pair ?$'
	tmux_send C-u "sockpair pair --em" Tab
	tmux_wait_for '^% sockpair pair --emulate ?$'
	tmux_send C-u "sockpair fork-echo --style str" Tab
	tmux_wait_for '^% sockpair fork-echo --style stream ?$'
	tmux_send C-u "sockpair con" Tab
	tmux_wait_for '^% sockpair connect ?$'
	tmux_send C-u "sockpair listen --keep" Tab
	tmux_wait_for '^% sockpair listen --keep-open ?$'
	# After -U PATH no host is offered; http-head offers no https:// or
	# ftp://.  (Z, typed after the Tab, shows what the Tab did.)
	touch "$BATS_TEST_TMPDIR/only-file.sock"
	tmux_send C-u "sockpair connect -U $BATS_TEST_TMPDIR/only-file.sock loc" Tab Z
	tmux_wait_for 'only-file\.sock locZ$'
	tmux_send C-u "sockpair http-head ht" Tab Z
	tmux_wait_for '^% sockpair http-head htZ$'
	tmux_stop
}

@test "install: DESTDIR and PREFIX put every file in place; uninstall removes them" {
	local dest=$BATS_TEST_TMPDIR/dest
	run -0 make -C "$ROOT" --no-print-directory install DESTDIR="$dest" PREFIX=/usr
	for f in bin/sockpair share/man/man1/sockpair.1 \
		share/bash-completion/completions/sockpair \
		share/zsh/site-functions/_sockpair \
		share/fish/vendor_completions.d/sockpair.fish; do
		[ -f "$dest/usr/$f" ] || fail "make install did not install $f"
	done
	[ -x "$dest/usr/bin/sockpair" ]
	run -0 "$dest/usr/bin/sockpair" --version
	MANPAGER=cat run -0 man "$dest/usr/share/man/man1/sockpair.1"
	# Neighbours in the same directories must survive the uninstall.
	for dir in bin share/man/man1 share/bash-completion/completions share/zsh/site-functions \
		share/fish/vendor_completions.d; do
		touch "$dest/usr/$dir/neighbour"
	done
	run -0 make -C "$ROOT" --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr
	run -0 bash -c "find '$dest' -type f | sed 's|^$dest/usr/||' | sort"
	assert_output "bin/neighbour
share/bash-completion/completions/neighbour
share/fish/vendor_completions.d/neighbour
share/man/man1/neighbour
share/zsh/site-functions/neighbour"
}

@test "install: PREFIX alone (no DESTDIR) is honoured" {
	local prefix=$BATS_TEST_TMPDIR/prefix
	run -0 make -C "$ROOT" --no-print-directory install PREFIX="$prefix"
	[ -x "$prefix/bin/sockpair" ] && [ -f "$prefix/share/man/man1/sockpair.1" ]
	run -0 make -C "$ROOT" --no-print-directory uninstall PREFIX="$prefix"
	[ ! -e "$prefix/bin/sockpair" ]
}

@test "build: a plain make warns without failing; DEVELOPER=1 and make check fail on a warning" {
	run -0 make -C "$ROOT" -n -B --no-print-directory build/release/addr.o
	assert_line --regexp ' -Wall -Wextra -Wpedantic .*-c -o build/release/addr\.o src/addr\.c$'
	refute_output --partial -- '-Werror'
	run -0 make -C "$ROOT" -n -B --no-print-directory DEVELOPER=1 build/release/addr.o
	assert_output --partial -- '-Wpedantic -Werror'
	run -0 make -C "$ROOT" -n --no-print-directory check
	assert_output --partial 'DEVELOPER=1'
}

@test "docs: every global option is in the man page and in each completion file" {
	local opt
	for opt in $("$SOCKPAIR" --help | sed -n '/^Global options/,/^$/p' |
			grep -oE -- '--[a-z][a-z-]*' | cut -c3- | sort -u); do
		grep -qE -- "^\\.It Fl .*\\\\-$opt( |\$)" "$MAN" || fail "man page lacks --$opt"
		grep -q -- "--$opt" "$ROOT/completions/sockpair.bash" || fail "bash completion lacks --$opt"
		grep -q -- "--$opt" "$ROOT/completions/_sockpair" || fail "zsh completion lacks --$opt"
		grep -qE -- "-l $opt( |\$)" "$ROOT/completions/sockpair.fish" || fail "fish completion lacks --$opt"
	done
}

# The README's example for a command line, as shown: the lines after
# "    $ CMDLINE" up to the next prompt or the end of the block, without the
# indent.  A last line "..." says the rest is left out.
readme_example() {
	CMDLINE="    \$ $1" awk '
		$0 == ENVIRON["CMDLINE"] { on = 1; next }
		on && (/^    \$ / || !/^    /) { exit }
		on { print substr($0, 5) }' "$ROOT/README.md"
}

# Numbers (pids, times, ports) vary from run to run; the rest may not.
numbers_as_n() {
	sed -E 's/[0-9]+/N/g'
}

@test "docs: the README's examples print what the README shows" {
	local cmd shown got n
	local examples=(
		"sockpair pair"
		"sockpair pair -d inet"
		"sockpair pair -d inet --emulate --raw"
		"sockpair --trace pair --raw"
		"sockpair pair --info -t seqpacket"
		"sockpair pair --size 1G"
		"sockpair fork-echo"
		"sockpair fork-echo --style stream"
		"printf 'hello\\nworld\\n' | sockpair fork-echo -i"
		"sockpair -x --stats pair"
	)
	for cmd in "${examples[@]}"; do
		shown=$(readme_example "$cmd")
		[ -n "$shown" ] || fail "README has no example '$cmd'"
		got=$(cd "$BATS_TEST_TMPDIR" && sockpair() { "$SOCKPAIR" "$@"; } && eval "$cmd" 2>&1 || true)
		if [ "${shown##*$'\n'}" = "..." ]; then
			shown=${shown%$'\n'...}
			got=$(head -n "$(wc -l <<<"$shown")" <<<"$got")
		fi
		assert_equal "$(numbers_as_n <<<"$got")" "$(numbers_as_n <<<"$shown")"
	done
}

# The man page's EXAMPLES as rendered, the lines after "$ CMDLINE" up to
# the next prompt or a blank line, without their indent.
man_example() {
	MANWIDTH=200 man -l "$MAN" 2>/dev/null | col -b |
		sed -n '/^EXAMPLES/,/^DIAGNOSTICS/p' |
		CMDLINE="\$ $1" awk '
			{ line = $0; sub(/^[ \t]+/, "", line) }
			line == ENVIRON["CMDLINE"] { on = 1; next }
			on && (line ~ /^\$ / || line == "") { exit }
			on { print line }'
}

@test "docs: the man page's examples print what the man page shows" {
	local cmd shown got
	for cmd in "sockpair pair" "sockpair pair -d inet" "sockpair pair -d inet --emulate --raw" \
		"sockpair fork-echo" "sockpair fork-echo --style stream" "sockpair pair --size 1G" \
		"sockpair --trace pair --raw"; do
		shown=$(man_example "$cmd")
		[ -n "$shown" ] || fail "the man page has no example '$cmd'"
		got=$(cd "$BATS_TEST_TMPDIR" && sockpair() { "$SOCKPAIR" "$@"; } && eval "$cmd" 2>&1 || true)
		assert_equal "$(numbers_as_n <<<"$got")" "$(numbers_as_n <<<"$shown")"
	done
}
