#!/bin/sh
# The whole test suite: unit test binaries, then the end-to-end scripts.
# Unit tests print "N passed, N failed"; end-to-end scripts print one
# "ok - ..." or "not ok - ..." line per check.  The totals are summed and
# printed as the last line.
#
# ONLY="name ..." runs only those unit binaries and scripts ("unit" for
# every unit binary); a name that is neither is an error (exit 2).  VALGRIND=1 runs every program under memcheck
# (tests/valgrind/): $BUILD is the real build, the suite sees wrappers,
# and one more check per program says whether its memcheck logs are
# clean.  TEST_FUZZ=N then runs every fuzz target N seconds (fuzz/fuzz.mk)
# and counts one check per target.  TEST_TOTALS=FILE: append "passed
# failed stage" lines to FILE (make check sums them; TEST_STAGE names
# the stage).
BUILD=${BUILD:-build}
pass=0
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

only() { [ -z "$ONLY" ] || case " $ONLY " in *" $1 "*|*" $2 "*) true;; *) false;; esac; }

# Every word of ONLY must name a part: a typo (ONLY=uint) would run
# nothing and pass with "0 passed, 0 failed".
if [ -n "$ONLY" ]; then
	units=$(for t in tests/unit/test_*.c "$BUILD"/tests/test_*; do
		[ -e "$t" ] && basename "$t" .c; done | sort -u | tr '\n' ' ')
	scripts=$(for s in tests/e2e/*.sh; do basename "$s" .sh; done | tr '\n' ' ')
	bad=
	for w in $ONLY; do
		case " unit $units$scripts" in
		*" $w "*) ;;
		*) bad="$bad '$w'" ;;
		esac
	done
	if [ -n "$bad" ]; then
		echo "tests/run.sh: ONLY names no test part:$bad" >&2
		echo "  unit binaries: $units" >&2
		echo "  end-to-end scripts: $scripts" >&2
		echo "  unit: every unit binary" >&2
		exit 2
	fi
fi

if [ -n "$VALGRIND" ]; then
	VG_BUILD=$BUILD
	VG_LOGS=$BUILD/vg-logs
	rm -rf "$VG_LOGS"
	sh tests/valgrind/wrap.sh "$VG_BUILD" "$BUILD/vg" "$VG_LOGS" || exit 1
	BUILD=$BUILD/vg
	VALGRIND=1
	export VALGRIND VG_BUILD
fi
export BUILD

start=$(date +%s)
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	only "$name" unit || continue
	t0=$(date +%s)
	"$t" >"$log" 2>&1
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
	if [ -z "$line" ] || [ "$rc" -ne 0 ]; then
		[ -n "$line" ] || { p=0; f=1; }
		[ "$f" -gt 0 ] || f=1
		echo "FAIL $name"
		tail -n 30 "$log"
	else
		echo "ok   $name ($p checks, $(($(date +%s) - t0)) s)"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done

for s in tests/e2e/*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	only "$name" || continue
	echo "== $name"
	t0=$(date +%s)
	bash "$s" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc"
	fi
	grep -E '^(ok|not ok) - |^# ' "$log"
	if [ "$f" -gt 0 ]; then
		echo "--- $name output (tail)"
		grep -vE '^(ok|not ok) - ' "$log" | tail -n 40
	fi
	echo "# $name: $(($(date +%s) - t0)) s"
	pass=$((pass + p))
	fail=$((fail + f))
done

# the memcheck verdict, one check per program that ran
if [ -n "$VALGRIND" ]; then
	echo "== valgrind logs ($VG_LOGS)"
	sh tests/valgrind/scan.sh "$VG_LOGS" >"$log" 2>&1
	cat "$log"
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	# the whole suite without a single log: the wrappers are broken
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		if [ -z "$ONLY" ]; then
			echo "not ok - valgrind: no memcheck log at all in $VG_LOGS"
			f=1
		else
			echo "# valgrind: nothing in ONLY=\"$ONLY\" ran a program of the build"
		fi
	fi
	pass=$((pass + p))
	fail=$((fail + f))
fi
echo "# suite: $(($(date +%s) - start)) s"
[ -z "$TEST_TOTALS" ] || echo "$pass $fail ${TEST_STAGE:-suite}" >>"$TEST_TOTALS"

# the fuzz stage: every target TEST_FUZZ seconds on the shared corpus
if [ -n "$TEST_FUZZ" ]; then
	echo "== fuzz, $TEST_FUZZ s per target"
	t0=$(date +%s)
	fp=0
	ff=0
	(unset MAKEFLAGS MFLAGS MAKELEVEL
	 exec make --no-print-directory -f fuzz/fuzz.mk FUZZ_SECONDS="$TEST_FUZZ" \
		${FUZZ:+FUZZ="$FUZZ"} fuzz-run) >"$log" 2>&1
	rc=$?
	fp=$(grep -c '^ok - ' "$log")
	ff=$(grep -c '^not ok - ' "$log")
	grep -E '^(ok|not ok) - ' "$log"
	if [ "$rc" -ne 0 ] && [ "$ff" -eq 0 ]; then
		ff=1
		echo "not ok - fuzz stage exited with status $rc"
	fi
	if [ "$ff" -gt 0 ]; then
		echo "--- fuzz output (tail)"
		grep -vE '^(ok|not ok) - ' "$log" | tail -n 40
	fi
	echo "# fuzz: $(($(date +%s) - t0)) s"
	[ -z "$TEST_TOTALS" ] || echo "$fp $ff fuzz" >>"$TEST_TOTALS"
	pass=$((pass + fp))
	fail=$((fail + ff))
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
