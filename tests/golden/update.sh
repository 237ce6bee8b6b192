#!/bin/bash
# Regenerate the expected output of the golden pairs: every scenario, or
# the ones named.  usage: bash tests/golden/update.sh [SCENARIO ...]
# Only when a change of behaviour is intended: read README.md first.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/golden/lib.sh
[ -x "$BUILD/aicensusd" ] || { echo "$BUILD/aicensusd: build it first (make)" >&2; exit 1; }
work=$(mktemp -d /tmp/aic-golden.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ $# -gt 0 ]; then
	set -- "${@/#/tests/golden/}"
else
	set -- tests/golden/*/
fi
rc=0
for sc; do
	sc=${sc%/}
	[ -f "$sc/input" ] || { echo "$sc: no input file" >&2; rc=1; continue; }
	if golden_run "$sc" "$work/run" >"$work/out"; then
		if cmp -s "$work/out" "$sc/expected.txt"; then
			echo "same    $(basename "$sc")"
		else
			mv "$work/out" "$sc/expected.txt"
			echo "updated $(basename "$sc")"
		fi
	else
		echo "FAILED  $(basename "$sc")" >&2
		rc=1
	fi
done
exit $rc
