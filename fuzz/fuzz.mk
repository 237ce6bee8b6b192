# fuzz/fuzz.mk - build and run the libFuzzer targets (`make fuzz`).
#
# Reuses the main Makefile's preprocessor flags and libraries, builds the
# daemon's library again with clang, coverage instrumentation, ASan and
# UBSan into build-fuzz/, one binary per fuzz/fuzz_<name>.c, generates
# the seed corpora (fuzz/seeds.py) and runs every target FUZZ_SECONDS,
# one after the other.  A crash stops nothing: the others still run,
# the artefacts are in build-fuzz/crashes/ and the run fails at the end.
# Copy a crash into tests/regress/<name>/ to keep it (fuzz/README.md).

include Makefile

FUZZ_SECONDS ?= 60
FUZZ_CC	?= clang
FUZZ	:= build-fuzz
# Where the shared test captures are; seeds come from tests/synth alone
# when the directory is missing.
FUZZ_PCAPS ?= ../shared/pcaps
# Extra libFuzzer flags, e.g. FUZZ_FLAGS="-seed=1 -only_ascii=1".
FUZZ_FLAGS ?=

# Instrumented for libFuzzer, ASan and UBSan; every UB report is fatal.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -O1 -g -Wall -Wextra $(FUZZ_SAN) $(PKG_CFLAGS) \
	-DFUZZ_SRCDIR='"$(CURDIR)"'

FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ)/fuzz_%)
FUZZ_LIB_OBJ := $(CORE_SRC:daemon/%.c=$(FUZZ)/obj/%.o)
# Longest input each target is given (libFuzzer's -max_len).
FUZZ_MAXLEN_decode := 4096
FUZZ_MAXLEN_dns := 8192
FUZZ_MAXLEN_tls := 40000
FUZZ_MAXLEN_quic := 16384
FUZZ_MAXLEN_tcp_reasm := 40000
FUZZ_MAXLEN_quic_reasm := 12000
FUZZ_MAXLEN_config := 8192
FUZZ_MAXLEN_catalog := 32768
FUZZ_MAXLEN_api := 4096

# libconfig 1.5 leaks a string buffer on some syntax errors (suppressed
# in fuzz.h); each such input still makes libFuzzer stop for a
# leak scan of the whole heap, which cut these two targets to ~50 runs/s.
# Their own allocations are leak-checked by the unit tests under ASan and
# valgrind instead.
FUZZ_FLAGS_config := -detect_leaks=0
FUZZ_FLAGS_catalog := -detect_leaks=0

fuzz-build: $(FUZZ_BINS)

$(FUZZ)/obj/%.o: daemon/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
		-c $< -o $@

$(FUZZ)/libaicensus.a: $(FUZZ_LIB_OBJ)
	@ar rcs $@ $^

$(FUZZ)/fuzz_%: fuzz/fuzz_%.c $(wildcard fuzz/*.h) $(FUZZ)/libaicensus.a
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< \
		$(FUZZ)/libaicensus.a $(PKG_LIBS) -o $@

# Seeds are made afresh each run, never committed.
fuzz-seeds:
	@rm -rf $(FUZZ)/seeds
	/usr/bin/python3 fuzz/seeds.py --out $(FUZZ)/seeds --pcaps $(FUZZ_PCAPS)

# One target's run: FUZZ_SECONDS on its corpus (kept in build-fuzz/corpus
# between runs) and the fresh seeds, with its dictionary if it has one.
# Besides the stat lines, one "ok - "/"not ok - " line per target, the
# check tests/run.sh counts (TEST_FUZZ, make check); a run that ended
# early without a crash report is not ok too.
fuzz_run_one = echo "== fuzz_$(1) for $(FUZZ_SECONDS)s"; \
	mkdir -p $(FUZZ)/corpus/$(1); \
	if TMPDIR=$(CURDIR)/$(FUZZ)/tmp ./$(FUZZ)/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) -timeout=25 \
	    -rss_limit_mb=2560 -print_final_stats=1 \
	    -max_len=$(or $(FUZZ_MAXLEN_$(1)),4096) \
	    $(if $(wildcard fuzz/dict/$(1).dict),-dict=fuzz/dict/$(1).dict) \
	    -artifact_prefix=$(FUZZ)/crashes/$(1)- $(FUZZ_FLAGS) $(FUZZ_FLAGS_$(1)) \
	    $(FUZZ)/corpus/$(1) $(FUZZ)/seeds/$(1) >$(FUZZ)/logs/$(1).log 2>&1; \
	then grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' \
	    $(FUZZ)/logs/$(1).log | sed 's/^/   /'; \
	    runs=$$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' $(FUZZ)/logs/$(1).log); \
	    secs=$$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' \
		$(FUZZ)/logs/$(1).log); \
	    if [ "$${secs:-0}" -ge $$(($(FUZZ_SECONDS) - 1)) ]; then \
		echo "ok - fuzz_$(1): $$runs runs in $$secs s, no crash"; \
	    else echo "not ok - fuzz_$(1): ran $${secs:-?} s of $(FUZZ_SECONDS) ($${runs:-?} runs), see $(FUZZ)/logs/$(1).log"; \
		failed="$$failed $(1)"; fi; \
	else echo "   FAILED: see $(FUZZ)/logs/$(1).log and $(FUZZ)/crashes/"; \
	    tail -n 40 $(FUZZ)/logs/$(1).log; failed="$$failed $(1)"; \
	    echo "not ok - fuzz_$(1): crash ($$(grep -m1 -E '^SUMMARY: |==ERROR: libFuzzer' \
		$(FUZZ)/logs/$(1).log | cut -c1-120)), see $(FUZZ)/crashes/ and $(FUZZ)/logs/$(1).log"; fi;

# One target after the other (never in parallel: shared machines).
fuzz-run: fuzz-build fuzz-seeds
	@rm -rf $(FUZZ)/tmp; mkdir -p $(FUZZ)/crashes $(FUZZ)/logs $(FUZZ)/tmp; \
	failed=""; \
	$(foreach t,$(FUZZ_NAMES),$(call fuzz_run_one,$(t))) \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in:$$failed"; exit 1; fi; \
	echo "fuzz: no crash in $(words $(FUZZ_NAMES)) targets"

.PHONY: fuzz-build fuzz-seeds fuzz-run
