#!/bin/bash
# `aicensus query` over release databases written by tests/relfixture.py
# (no daemon): every level (W1, D1, D2, the derived sum of weeks) gives
# the full grid of every released period in range, zeros included, equal
# to what was released; ranges snap outward to whole periods; what is not
# published is refused with exit 2 and the spec's message; table, CSV and
# JSON carry the same figures.  Then tests/query_check.py (the synth
# check) against the synthesizer's truth released without protection,
# and against a tampered copy, which it must reject.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
export LC_ALL=C
tmp=$(mktemp -d /tmp/aic-query.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
pass() {
	if [ $? -eq 0 ]; then ok "$*"; else nok "$*"; fi
}
A=$BUILD/aicensus
[ -x "$A" ] || { nok "$A missing (run make)"; exit 1; }

REL=$tmp/released.db
$PY tests/relfixture.py "$REL" --weeks 2026-W46,2026-W47 --open-days 2 \
	--truth "$tmp/truth.json"
pass "release database: weeks 2026-W46 and 2026-W47, two days of 2026-W48"

# the full grid, per level and range
i=0
for spec in "--by department,service,week|department,service,week" \
	"--week 2026-W47 --by department,service|department,service,week" \
	"--week 2026-W47 --by category|category,week" \
	"--by department,category,week|department,category,week" \
	"--by service,category,week|service,category,week" \
	"--day 2026-11-18|day" "--day 2026-11-18 --by department|department,day" \
	"--from 2026-W47 --to 2026-W48 --by department,category,day|department,category,day" \
	"--by service,day|service,day" "--by category,service,day|category,service,day" \
	"--from 2026-W46 --to 2026-W48 --by department,service|department,service" \
	"--from 2026-11-19 --to 2026-11-19 --by service,week|service,week" \
	"--to 2026-11-17 --by department,day|department,day"; do
	IFS='|' read -r args by <<<"$spec"
	i=$((i + 1))
	# shellcheck disable=SC2086
	"$A" query --db "$REL" $args --format json >"$tmp/q$i.json" 2>"$tmp/q$i.err" ||
		{ nok "aicensus query $args: $(cat "$tmp/q$i.err")"; continue; }
	echo "# query $args"
	$PY tests/api_check.py grid "$tmp/q$i.json" "$tmp/truth.json" "$by" ||
		fails=$((fails + 1))
done
periods() { $PY -c 'import json,sys; print(" ".join(p["period"] for p in json.load(open(sys.argv[1]))["periods"]))' "$1"; }
[ "$(periods "$tmp/q12.json")" = "2026-W47" ]
pass "a day asked per week snaps outward to its whole week ($(periods "$tmp/q12.json"))"
[ "$(periods "$tmp/q8.json" | wc -w)" = 9 ]
pass "two ISO weeks asked per day give their released days (9: 7 + 2 of 2026-W48)"
[ "$(periods "$tmp/q13.json")" = "2026-11-09 2026-11-10 2026-11-11 2026-11-12 2026-11-13 2026-11-14 2026-11-15 2026-11-16 2026-11-17" ]
pass "an open start takes every released day up to --to"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["derived"] and d["devices_unit"]=="device-weeks" and d["rows"][0]["kind"]=="weeks" and d["rows"][0]["period"]=="2026-W46..2026-W47" else 1)' "$tmp/q11.json"
pass "without day or week: derived sums of the released weeks, labelled, devices as device-weeks"

# refusals: exit 2 and the spec's words
refuse() {	# refuse MESSAGE ARGS...
	local msg=$1 out rc
	shift
	out=$("$A" query --db "$REL" "$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc -eq 2 ] && [ "$out" = "aicensus query: $msg" ] && return 0
	echo "  query $*: exit $rc: $out"
	return 1
}
refuse "department x service is released per week only (use --by department,service,week)" \
	--by department,service,day
pass "day x department x service is refused (exit 2, the spec's message)"
refuse "department x service is released per week only (use --by department,service,week)" \
	--day 2026-11-18 --by department,service
pass "--day with department,service is the same refusal"
refuse "hour figures are not released (use day or week)" --by department,hour
pass "hour is refused (exit 2)"
refuse "by: day or week, not both" --by day,week
pass "day and week together are refused (exit 2)"
refuse "--from 2026-11-20 is after --to 2026-11-18: the range is reversed" --from 2026-11-20 --to 2026-11-18
pass "a reversed range is refused naming both ends (exit 2)"
refuse "--from: '1794787200' is not a date (YYYY-MM-DD) or an ISO week (YYYY-Www)" --from 1794787200
pass "the CLI takes no epoch seconds (exit 2)"
refuse "--day: '2026-02-30' is not a date (YYYY-MM-DD)" --day 2026-02-30
pass "a day that does not exist is refused (exit 2)"
sqlite3 "$tmp/vault.db" "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
	INSERT INTO meta VALUES ('schema_version', '2');
	CREATE TABLE delta(week INTEGER, seq INTEGER, blob BLOB NOT NULL, PRIMARY KEY(week, seq));"
out=$("$A" query --db "$tmp/vault.db" 2>&1 >/dev/null)
rc=$?
[ $rc -eq 1 ] && [ -n "$out" ]
pass "the raw working database is not read (exit $rc: $out)"

# one set of figures in every format
"$A" query --db "$REL" --week 2026-W47 --by department,service --format csv >"$tmp/w.csv" &&
	"$A" query --db "$REL" --week 2026-W47 --by department,service >"$tmp/w.txt" 2>"$tmp/w.err" &&
	$PY - "$tmp/q2.json" "$tmp/w.csv" "$tmp/w.txt" <<'EOF'
import csv, json, sys
doc = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
lines = open(sys.argv[3]).read().splitlines()
keys = [k for k in doc["rows"][0] if k not in ("kind", "period", "department", "service")]
ok = len(rows) == len(doc["rows"]) == len(lines) - 1
for j, r in zip(doc["rows"], rows):
    ok = ok and r["department"] == j["department"] and r["service"] == j["service"] \
        and all(int(r[k]) == j[k] for k in keys)
# table: a header, every line as wide as it, numbers right-aligned
ok = ok and len(set(len(l) for l in lines)) == 1
for j, l in zip(doc["rows"], lines[1:]):
    ok = ok and l.split() == [j["period"], j["department"], j["service"]] + [str(j[k]) for k in keys]
sys.exit(0 if ok else 1)
EOF
pass "CSV and the aligned table carry exactly the JSON's rows and figures"
! grep -qiE 'suppress|<5' "$tmp/w.csv" "$tmp/w.txt" "$tmp"/q*.json
pass "no suppression mark in any output"
grep -q "minimum group size 5" "$tmp/w.err"
pass "the table's footnote says the figures are perturbed and the group size ($(cat "$tmp/w.err"))"

# query_check.py, the synth test's judge, on the truth released unprotected
$PY tests/synth/synth.py --seed 1 --no-check --out "$tmp/gen" >/dev/null &&
	$PY tests/relfixture.py "$tmp/truth.db" --grid-from "$tmp/gen/aicensus.conf" \
		--from-truth "$tmp/gen/truth.json"
pass "the synthesizer's truth released with min_group 1"
$PY tests/query_check.py "$A" "$tmp/truth.db" "$tmp/gen/truth.json" >"$tmp/qc.txt"
rc=$?
sed 's/^/# qc: /' "$tmp/qc.txt"
[ $rc -eq 0 ] && ! grep -q '^not ok' "$tmp/qc.txt"
pass "query_check.py accepts the truth ($(grep -c '^ok' "$tmp/qc.txt") checks)"
cp "$tmp/truth.db" "$tmp/tampered.db"
sqlite3 "$tmp/tampered.db" "UPDATE cell SET dns = dns + 1 WHERE kind = 2 AND
	(dept, svc) IN (SELECT dept, svc FROM cell WHERE kind = 2 AND dns > 0 LIMIT 1)"
$PY tests/query_check.py "$A" "$tmp/tampered.db" "$tmp/gen/truth.json" >"$tmp/qc2.txt"
[ $? -ne 0 ] && grep -q '^not ok - .*week cells' "$tmp/qc2.txt"
pass "query_check.py rejects one released figure off by one"

[ $fails -eq 0 ]
