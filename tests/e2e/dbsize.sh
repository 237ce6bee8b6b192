#!/bin/bash
# A week of 100 departments x 300 services, every cell active every day,
# through the real aggregation and store code: the database stays under
# 50 MB.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
db=$(mktemp -u /tmp/aic-week.XXXXXX.db)
trap 'rm -f "$db" "$db"-wal "$db"-shm' EXIT
line=$("$BUILD/tools/dbweek" "$db" 100 300 2>/dev/null)
echo "# $line"
size=$(stat -c %s "$db" 2>/dev/null || echo 0)
rows=$(sqlite3 "$db" "SELECT COUNT(*) FROM usage_hour")
[ "$rows" = "420000" ] && echo "ok - the week holds 420000 hourly usage rows" ||
	echo "not ok - the week holds $rows hourly usage rows, expected 420000"
if [ "$size" -gt 0 ] && [ "$size" -lt 50000000 ]; then
	echo "ok - database for the week is $size bytes (< 50 MB)"
else
	echo "not ok - database for the week is $size bytes (limit 50 MB)"
	exit 1
fi
