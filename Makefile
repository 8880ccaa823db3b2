# sockpair: GNU Make, no configure step.  `make run` and `make check` set
# up a fresh Debian machine themselves (see `make deps`).

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man/man1
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

# CC is make's own default, cc: `make CC=clang` picks another.
CFLAGS    ?= -O2 -g
# Warnings are errors where the project checks itself (make warnings,
# make check and test, CI: DEVELOPER=1, as git's), not in a plain build, so
# that a newer compiler on a packager's machine still builds sockpair.
DEVELOPER ?=
WARNINGS  := -std=c17 -Wall -Wextra -Wpedantic $(if $(DEVELOPER),-Werror)
# Recursive (=): evaluated after `make deps` may have installed pkg-config.
READLINE_CFLAGS = $(shell pkg-config --cflags readline 2>/dev/null)
READLINE_LIBS   = $(shell pkg-config --libs readline 2>/dev/null || echo -lreadline)
# OpenSSL, for TLS (src/tls.c): Debian's libssl-dev.
TLS_CFLAGS = $(shell pkg-config --cflags openssl 2>/dev/null)
TLS_LIBS   = $(shell pkg-config --libs openssl 2>/dev/null || echo -lssl -lcrypto)
ALL_CFLAGS = $(WARNINGS) $(CFLAGS) $(READLINE_CFLAGS) $(TLS_CFLAGS) -DSOCKPAIR_VERSION='"$(VERSION)"' -MMD -MP

ASAN_CC     ?= $(shell command -v clang >/dev/null 2>&1 && echo clang || echo gcc)
ASAN_CFLAGS ?= -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all

SRCS := $(wildcard src/*.c)
OBJS := $(SRCS:src/%.c=build/release/%.o)
ASAN_OBJS := $(SRCS:src/%.c=build/asan/%.o)

.PHONY: all asan deps deps-test deps-bench run check test test-asan warnings \
	install uninstall clean bench fuzz fuzz-replay

all: sockpair

sockpair: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(READLINE_LIBS) $(TLS_LIBS)

build/release/%.o: src/%.c | build/release
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

asan: build/asan/sockpair

build/asan/sockpair: $(ASAN_OBJS)
	$(ASAN_CC) $(ASAN_CFLAGS) $(LDFLAGS) -o $@ $(ASAN_OBJS) $(READLINE_LIBS) $(TLS_LIBS)

build/asan/%.o: src/%.c | build/asan
	$(ASAN_CC) $(WARNINGS) $(ASAN_CFLAGS) $(READLINE_CFLAGS) $(TLS_CFLAGS) \
		-DSOCKPAIR_VERSION='"$(VERSION)"' -MMD -MP $(CPPFLAGS) -c -o $@ $<

build/release build/asan:
	mkdir -p $@

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d)

# Fuzzing: libFuzzer harnesses for the pure parsers in src/http.c and the
# JSON encoder in src/text.c.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_TARGETS := target head json
FUZZ_SRCS    := src/http.c src/parse.c src/text.c src/addr.c
FUZZ_FLAGS    = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(READLINE_CFLAGS)

build/fuzz:
	mkdir -p $@

build/fuzz/fuzz-%: fuzz/%.c $(FUZZ_SRCS) src/sockpair.h | build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRCS)

# Each harness for FUZZ_SECONDS from the seed corpus; new inputs go to
# build/fuzz/corpus-*, crashes to build/fuzz/crashes-* (and fail the run).
fuzz: deps-test $(FUZZ_TARGETS:%=build/fuzz/fuzz-%)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus-$$t build/fuzz/crashes-$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		build/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=build/fuzz/crashes-$$t/ \
			build/fuzz/corpus-$$t fuzz/corpus/$$t fuzz/regressions/$$t || exit 1; \
	done

# The same harnesses without libFuzzer, for the suite to replay the
# corpus and every kept crash under ASan/UBSan.
fuzz-replay: $(FUZZ_TARGETS:%=build/fuzz/replay-%)

build/fuzz/replay-%: fuzz/%.c fuzz/replay.c $(FUZZ_SRCS) src/sockpair.h | build/fuzz
	$(ASAN_CC) $(WARNINGS) $(ASAN_CFLAGS) $(READLINE_CFLAGS) -o $@ $< fuzz/replay.c $(FUZZ_SRCS)

# Both compilers, warnings as errors, without linking.
warnings:
	@for cc in gcc clang; do \
		command -v $$cc >/dev/null || { echo "warnings: $$cc not found"; exit 1; }; \
		for f in $(SRCS) fuzz/*.c bench/*.c; do \
			$$cc $(WARNINGS) -Werror -O2 $(READLINE_CFLAGS) $(TLS_CFLAGS) -fsyntax-only $$f || exit 1; \
		done; echo "warnings: $$cc clean"; \
	done

deps:
	@tools/deps build
deps-test:
	@tools/deps build test
deps-bench:
	@tools/deps build bench

run: deps
	@$(MAKE) --no-print-directory all
	./sockpair pair
	./sockpair fork-echo

# The suite twice: against the release build and against ASan/UBSan.
check: deps-test
	@$(MAKE) --no-print-directory DEVELOPER=1 all asan warnings fuzz-replay
	@tests/run ./sockpair build/asan/sockpair

test:
	@$(MAKE) --no-print-directory DEVELOPER=1 all fuzz-replay
	@tests/run ./sockpair

test-asan:
	@$(MAKE) --no-print-directory DEVELOPER=1 asan
	@tests/run build/asan/sockpair

bench: deps-bench
	@$(MAKE) --no-print-directory all
	@bench/run
	@bench/proxy
	@bench/capture
	@bench/peers
	@bench/tls

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 sockpair $(DESTDIR)$(BINDIR)/sockpair
	install -m 644 man/sockpair.1 $(DESTDIR)$(MANDIR)/sockpair.1
	install -m 644 completions/sockpair.bash $(DESTDIR)$(BASHCOMPDIR)/sockpair
	install -m 644 completions/_sockpair $(DESTDIR)$(ZSHCOMPDIR)/_sockpair
	install -m 644 completions/sockpair.fish $(DESTDIR)$(FISHCOMPDIR)/sockpair.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sockpair $(DESTDIR)$(MANDIR)/sockpair.1 \
		$(DESTDIR)$(BASHCOMPDIR)/sockpair $(DESTDIR)$(ZSHCOMPDIR)/_sockpair \
		$(DESTDIR)$(FISHCOMPDIR)/sockpair.fish

clean:
	rm -rf build sockpair
