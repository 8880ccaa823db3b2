#!/usr/bin/env bats
# The fuzzers' seed corpus and every crash they ever found, replayed
# through the harnesses built with ASan/UBSan (make fuzz-replay).

load helpers

FUZZ=$BATS_TEST_DIRNAME/../fuzz
REPLAY=$BATS_TEST_DIRNAME/../build/fuzz

replay() {
	local name=$1 inputs
	[ -x "$REPLAY/replay-$name" ] || fail "build/fuzz/replay-$name is not built (make fuzz-replay)"
	mapfile -t inputs < <(find "$FUZZ/corpus/$name" "$FUZZ/regressions/$name" -type f ! -name .keep)
	[ "${#inputs[@]}" -gt 0 ] || fail "no inputs for $name"
	run -0 "$REPLAY/replay-$name" "${inputs[@]}"
	assert_output "replayed ${#inputs[@]} inputs"
}

@test "fuzz: the target parser's corpus and regressions replay cleanly" {
	replay target
}

@test "fuzz: the head reader's corpus and regressions replay cleanly" {
	replay head
}

@test "fuzz: the JSON encoder's corpus and regressions replay cleanly" {
	replay json
}
