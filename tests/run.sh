#!/bin/sh
# The whole test suite: unit test binaries, then the end-to-end scripts.
# Unit tests print "N passed, N failed"; end-to-end scripts print one
# "ok - ..." or "not ok - ..." line per check.  The totals are summed and
# printed as the last line.
#
# ONLY="name ..." runs only those unit binaries and scripts ("unit" for
# every unit binary); a name that is neither is an error (exit 2).
# VALGRIND=1 runs every program under memcheck (tests/valgrind/): $BUILD
# is the real build, the suite sees wrappers, and one more check per
# program says whether its memcheck logs are clean.  TEST_FUZZ=N then
# runs every fuzz target N seconds (fuzz/fuzz.mk) and counts one check
# per target.  TEST_TOTALS=FILE: append "passed failed stage" lines to
# FILE (make check sums them; TEST_STAGE names the stage).
#
# TEST_JOBS=N runs up to N parts at once (unit binaries and scripts;
# valgrind is one thread per process, so its stage gains most); each
# part's output is kept and printed whole, in suite order, the totals are
# the same.  A script with a "# test: alone (why)" line runs before the
# others with nothing beside it: it uses a fixed system-wide name
# (a user, an installation, systemd) or measures time.  Every other
# script makes its names unique (network namespaces end in its PID, files
# under mktemp -d, servers inside its own namespace).  TEST_SKIP="name
# ..." leaves out those scripts with one line saying so (make test: deps
# and deb, which test what they build from the source tree and apt, run
# in the plain stage only).
BUILD=${BUILD:-build}
pass=0
fail=0
busy=0
log=$(mktemp)
jobs=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$jobs"' EXIT
TEST_JOBS=${TEST_JOBS:-1}
case $TEST_JOBS in
''|*[!0-9]*|0) echo "tests/run.sh: TEST_JOBS=$TEST_JOBS: not a number of parts at once" >&2; exit 2 ;;
esac

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

# One part of the suite: run_part KIND NAME runs a unit binary (unit) or
# an end-to-end script (e2e) with its output in $jobs/NAME.out, then
# writes "status seconds" to $jobs/NAME.rc, last: that file says it is
# done.  report_unit and report_e2e print a finished part and add it to
# the totals, always in suite order and whole, however many ran at once.
run_part() {
	t0=$(date +%s)
	case $1 in
	unit)	"$BUILD/tests/$2" >"$jobs/$2.out" 2>&1 ;;
	e2e)	if [ "$TEST_JOBS" -eq 1 ]; then
			bash "tests/e2e/$2.sh" >"$jobs/$2.out" 2>&1
		else	# its PID for the signal trap below; SIGINT and SIGQUIT
			# as in the foreground (sh ignores them in the background,
			# and bash, python and tcpreplay would inherit that)
			env --default-signal=INT,QUIT \
				bash "tests/e2e/$2.sh" >"$jobs/$2.out" 2>&1 &
			echo $! >"$jobs/$2.pid"
			wait $!
		fi ;;
	esac
	st=$?
	# (quiet: after an interrupt $jobs may be gone already)
	{ echo "$st $(($(date +%s) - t0))" >"$jobs/$2.tmp" &&
		mv "$jobs/$2.tmp" "$jobs/$2.rc"; } 2>/dev/null
}

report_unit() {
	read -r rc secs <"$jobs/$1.rc"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$jobs/$1.out" | tail -n 1)
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
	if [ -z "$line" ] || [ "$rc" -ne 0 ]; then
		[ -n "$line" ] || { p=0; f=1; }
		[ "$f" -gt 0 ] || f=1
		echo "FAIL $1"
		tail -n 30 "$jobs/$1.out"
	else
		echo "ok   $1 ($p checks, $secs s)"
	fi
	busy=$((busy + secs))
	pass=$((pass + p))
	fail=$((fail + f))
}

report_e2e() {
	read -r rc secs <"$jobs/$1.rc"
	[ "$TEST_JOBS" -gt 1 ] && echo "== $1"
	p=$(grep -c '^ok - ' "$jobs/$1.out")
	f=$(grep -c '^not ok - ' "$jobs/$1.out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $1 exited with status $rc"
	fi
	grep -E '^(ok|not ok) - |^# ' "$jobs/$1.out"
	if [ "$f" -gt 0 ]; then
		echo "--- $1 output (tail)"
		grep -vE '^(ok|not ok) - ' "$jobs/$1.out" | tail -n 40
	fi
	echo "# $1: $secs s"
	busy=$((busy + secs))
	pass=$((pass + p))
	fail=$((fail + f))
}

# A script the stage leaves out (TEST_SKIP): one line in its place.
report_skip() {
	echo "# $1: plain stage only (it builds and installs what it tests from the source tree and apt, not from $BUILD)"
}

# flush: report every finished part at the head of $pending, in order.
flush() {
	while [ -n "$pending" ]; do
		set -- $pending
		[ -e "$jobs/${1#*:}.rc" ] || break
		"report_${1%%:*}" "${1#*:}"
		shift
		pending=$*
	done
}

# wait_below N: until fewer than N of the started parts are running.
wait_below() {
	while :; do
		n=0
		for w in $started; do
			[ -e "$jobs/$w.rc" ] || n=$((n + 1))
		done
		[ "$n" -lt "$1" ] && break
		sleep 0.2
	done
	flush
}

# The parts, in suite order: unit binaries, then the scripts.  A script
# with a "# test: alone" line shares the machine with no other part
# (fixed system-wide names, installation, timing); TEST_SKIP names the
# scripts this stage does not run (make test: deps and deb outside the
# plain stage).
pending=
alone=
shared=
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	only "$name" unit || continue
	pending="$pending unit:$name"
	shared="$shared unit:$name"
done
for s in tests/e2e/*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	only "$name" || continue
	case " $TEST_SKIP " in
	*" $name "*)
		pending="$pending skip:$name"
		: >"$jobs/$name.rc"
		continue ;;
	esac
	pending="$pending e2e:$name"
	if grep -q '^# test: alone' "$s"; then
		alone="$alone e2e:$name"
	else
		shared="$shared e2e:$name"
	fi
done

start=$(date +%s)
if [ "$TEST_JOBS" -eq 1 ]; then
	# one at a time in suite order; a script's name before it runs
	for x in $pending; do
		case $x in
		e2e:*)	echo "== ${x#e2e:}"; run_part e2e "${x#e2e:}" ;;
		unit:*)	run_part unit "${x#unit:}" ;;
		esac
		flush
	done
else
	# the scripts that run alone first, then TEST_JOBS parts at a time;
	# a signal to this script stops the running scripts
	started=
	trap 'for w in $started; do [ -e "$jobs/$w.pid" ] &&
		kill -TERM $(cat "$jobs/$w.pid") 2>/dev/null; done; exit 130' INT TERM
	for x in $alone $shared; do
		case " $alone " in
		*" $x "*) wait_below 1 ;;
		*) wait_below "$TEST_JOBS" ;;
		esac
		started="$started ${x#*:}"
		run_part "${x%%:*}" "${x#*:}" &
		case " $alone " in
		*" $x "*) wait_below 1 ;;
		esac
	done
	wait_below 1
	wait
fi
flush
[ "$TEST_JOBS" -eq 1 ] ||
	echo "# parts: $busy s of work in $(($(date +%s) - start)) s, $TEST_JOBS at a time (alone:$(echo "$alone" | sed 's/e2e://g'))"

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
