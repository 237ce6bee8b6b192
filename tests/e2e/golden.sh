#!/bin/bash
# Golden regression pairs (tests/golden/README.md): every scenario's
# capture through aicensusd -r in lab mode, and the release database's
# dump compared with the scenario's expected.txt; the diff on failure.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/golden/lib.sh
work=$(mktemp -d /tmp/aic-golden.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
n=0
for sc in tests/golden/*/; do
	sc=${sc%/}
	name=$(basename "$sc")
	n=$((n + 1))
	if [ ! -f "$sc/README.md" ] || [ ! -f "$sc/expected.txt" ]; then
		echo "not ok - golden $name: README.md or expected.txt missing"
		fails=$((fails + 1))
		continue
	fi
	if ! golden_run "$sc" "$work/run" >"$work/out" 2>"$work/err"; then
		echo "not ok - golden $name: $(head -c 300 "$work/err")"
		fails=$((fails + 1))
	elif diff -u "$sc/expected.txt" "$work/out" >"$work/diff"; then
		echo "ok - golden $name ($(grep -c . "$sc/expected.txt") lines)"
	else
		echo "not ok - golden $name: release database differs from expected.txt"
		head -n 60 "$work/diff" | sed 's/^/#   /'
		fails=$((fails + 1))
	fi
done
[ "$n" -gt 0 ] || { echo "not ok - no scenario in tests/golden/"; exit 1; }
exit $((fails > 0))
