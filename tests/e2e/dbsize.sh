#!/bin/bash
# A week of 100 departments x 300 services, every cell active every day,
# through the real aggregation, vault and release code (flushed every
# hour, each day released after it, then the week): the vault stays
# under 40 MB (measured 17.0 MB: the current day's sealed hour deltas
# plus the week's leaves with their device sketches, compacted at each
# day's release; SQLite does not shrink the file after a delete), the
# release database under 10 MB (measured 2.2 MB: the W1, D1, D2 and B1
# grids of 8 periods), all 8 periods are released, and after the week
# nothing of it is left in the vault.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
db=$(mktemp -u /tmp/aic-week.XXXXXX.db)
trap 'rm -f "$db" "$db"-wal "$db"-shm "$db".rel "$db".rel-wal "$db".rel-shm' EXIT
out=$("$BUILD/tools/dbweek" "$db" 100 300 2>/dev/null)
echo "$out" | tail -n 1 | sed 's/^/# /'
val() { echo "$out" | sed -n "s/^$1 \([0-9]*\)$/\1/p"; }
fail=0
vault=$(val vault_peak)
rel=$(val release_db)
periods=$(val periods)
rows=$(val vault_rows_after)
if [ -n "$vault" ] && [ "$vault" -gt 0 ] && [ "$vault" -lt 40000000 ]; then
	echo "ok - the vault for the week is at most $vault bytes (< 40 MB)"
else
	echo "not ok - the vault for the week is ${vault:-?} bytes (limit 40 MB)"
	fail=1
fi
if [ -n "$rel" ] && [ "$rel" -gt 0 ] && [ "$rel" -lt 10000000 ]; then
	echo "ok - the release database is $rel bytes (< 10 MB)"
else
	echo "not ok - the release database is ${rel:-?} bytes (limit 10 MB)"
	fail=1
fi
[ "$periods" = "8" ] && echo "ok - 7 days and the week released" ||
	{ echo "not ok - $periods periods released, expected 8"; fail=1; }
[ "$rows" = "0" ] && echo "ok - no sealed row of the week left after its release" ||
	{ echo "not ok - $rows bytes of sealed rows left after the week"; fail=1; }
exit $fail
