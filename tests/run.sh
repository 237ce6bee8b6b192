#!/bin/sh
# The whole test suite: unit test binaries, then the end-to-end scripts.
# Unit tests print "N passed, N failed"; end-to-end scripts print one
# "ok - ..." or "not ok - ..." line per check.  The totals are summed and
# printed as the last line.
BUILD=${BUILD:-build}
export BUILD
pass=0
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
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
		echo "ok   $name ($p checks)"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done

for s in tests/e2e/*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	if [ -n "$ONLY" ] && [ "$ONLY" != "$name" ]; then continue; fi
	echo "== $name"
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
	pass=$((pass + p))
	fail=$((fail + f))
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
