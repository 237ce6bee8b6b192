#!/bin/sh
# The last lines of `make check`: each stage's totals as tests/run.sh
# recorded them in the file $1 ("passed failed stage" lines), then their
# sum, the one "N passed, N failed" line CI reads.
pass=0
fail=0
while read -r p f stage; do
	echo "# stage $stage: $p passed, $f failed"
	pass=$((pass + p))
	fail=$((fail + f))
done <"$1"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
