#!/bin/bash
# The central release (issue 12): three sites feed one throwaway
# PostgreSQL 15 cluster (tests/central_lib.sh) and `aicensus central
# release` publishes the organisation-wide figures from their cells.
#  - one synthesized capture split by department (site a: Finance and
#    Engineering, b: Sales, c: Research and the unassigned clients), three
#    `aicensusd -r` runs in lab mode shipping into the cluster;
#  - release at min_group_size = 1: every organisation-wide cell equals
#    the sum of the three sites' cells, and no other cell is published;
#    a site that shipped nothing shows as silent;
#  - the central report and query (k = 1, --db CONNINFO) equal those
#    read from one SQLite release database holding the whole capture,
#    for connections, lookups and bytes (devices and device-hours are
#    summed per site, so they may differ where a device is at two sites);
#  - release at min_group_size = 5: zeros stay zero, every published
#    device count is 0 or >= 5, a second run changes nothing, and the
#    release done again from scratch gives the same figures (the same
#    cell, the same noise: the central secret is kept), also by two
#    releases running at once (each period published once);
#  - the reader role reads the views and `aicensus report --db` works
#    as the reader; it cannot read a site's cells or the secret;
#  - a department the configuration lacks is counted as unassigned;
#    retention_days deletes released periods and the sites' raw rows.
# Scopes (schema version 3): every period is also published per site
# that shipped for it:
#  - k = 1: each site's scope equals the cells, coverage and blind-spot
#    figures it shipped; the organisation's scope equals their sum;
#  - k = 5, the attacker's check: an organisation cell that one site
#    alone fed is published with exactly that site's figures (one key,
#    one noise: nothing to average);
#  - each scope is published once; the period's raw rows are gone once
#    it is released; rows shipped after that are counted as late rows
#    (the sites view) and deleted, never published;
#  - the reader role reads every scope through the views, a sensor's role
#    none; relstore_pg_sites() lists the sites with a released period;
#  - a version 2 database with released rows migrates to version 3, its
#    rows the organisation's scope.
# The raw rows a release consumes are kept aside (schema snap) so that
# the k = 5 releases start again from the same rows.
# If the cluster cannot start that is a failure, never a skip.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CLI=$PWD/$BUILD/aicensus
TRS=$PWD/$BUILD/tests/test_relstore_pg
TCP=$PWD/$BUILD/tests/test_central_pg
DAEMON=$PWD/$BUILD/aicensusd
PY=/usr/bin/python3
fails=0

. tests/central_lib.sh

[ -x "$DAEMON" ] && [ -x "$CLI" ] && [ -x "$TRS" ] && [ -x "$TCP" ] && [ -x "$BUILD/tests/test_central_read" ] ||
	{ nok "not built (make all unit)"; exit 1; }
pg_test_cluster crel

central_setup -b a:PW_A b:PW_B c:PW_C d

$PY tests/synth/synth.py --seed 3 --out "$d/gen" >/dev/null ||
	{ nok "synth.py failed"; exit 1; }

# Split the capture by the department of its client (the model's own
# rule: the department VLAN, else the client address's prefix).
central_split "$d/gen/traffic.pcap" "$d" a=Finance,Engineering b=Sales c='*' ||
	{ nok "split failed"; exit 1; }

# mkrun DIR [SITE ROLE PASSWORD]: a lab-mode run directory, shipping to
# SITE when one is given.
mkrun() { central_mkrun -k 1 -x "outbox_max_mb = 64;" "$@"; }
run() { (cd "$1" && "$DAEMON" -c aicensus.conf -r "$2" >"$1/run.log" 2>&1); rc=$?; }

for s in a b c; do
	mkrun "$d/$s" $s sensor_$s "$(eval echo \$PW_${s^^})"
	run "$d/$s" "$d/$s.pcap"
	check "site $s: aicensusd -r of its part ($(( $(stat -c %s "$d/$s.pcap") / 1024 )) KiB) ships, exit 0" \
		[ $rc -eq 0 ] || tail -5 "$d/$s/run.log"
done
mkrun "$d/one"
run "$d/one" "$d/gen/traffic.pcap"
check "the whole capture into one SQLite release database, exit 0" [ $rc -eq 0 ]
ncells=$(sql "SELECT count(DISTINCT site) || ':' || count(*) FROM aicensus.site_cell")
check "the three sites shipped cells ($ncells)" [ "${ncells%%:*}" = 3 ]
# The raw rows aside: a release consumes them.
sql "CREATE SCHEMA snap; CREATE TABLE snap.cell AS SELECT * FROM aicensus.site_cell;
    CREATE TABLE snap.period AS SELECT * FROM aicensus.site_period;
    CREATE TABLE snap.blind AS SELECT * FROM aicensus.site_blind" >/dev/null ||
	nok "cannot keep the raw rows aside"
restore() {
	sql "DELETE FROM aicensus.site_cell; DELETE FROM aicensus.site_period;
	    DELETE FROM aicensus.site_blind;
	    INSERT INTO aicensus.site_cell SELECT * FROM snap.cell;
	    INSERT INTO aicensus.site_period SELECT * FROM snap.period;
	    INSERT INTO aicensus.site_blind SELECT * FROM snap.blind" >/dev/null
}
raw() {
	sql "SELECT (SELECT count(*) FROM aicensus.site_cell) + (SELECT count(*) FROM aicensus.site_period) +
	    (SELECT count(*) FROM aicensus.site_blind)"
}

# The organisation's configuration: the generated one, k from the caller.
orgconf() {
	sed -e "s|min_group_size = [0-9]*;|min_group_size = $1;|" \
	    -e "s|catalog = \"catalog.conf\"|catalog = \"$d/gen/catalog.conf\"|" \
	    "$d/gen/aicensus.conf" >"$d/org$1.conf"
}
orgconf 1
orgconf 5
release() { "$CLI" central release --db "$ADMIN" -c "$d/org$1.conf" --grace-hours 0 >"$d/rel.out" 2>"$d/rel.err"; rc=$?; }

# --- k = 1: the sums ---------------------------------------------------------

# A grace longer than the time since the capture's first day ended.
first=$(sql "SELECT min(period) FROM aicensus.site_period WHERE kind = 1")
grace=$(( ($(date +%s) - $(date -u -d "$first" +%s)) / 3600 + 48 ))
"$CLI" central release --db "$ADMIN" -c "$d/org1.conf" --grace-hours $grace >"$d/rel.out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "0 days, 0 weeks published; [1-9][0-9]* periods within" "$d/rel.out" &&
	[ "$(sql "SELECT count(*) FROM aicensus.period")" = 0 ] &&
	[ "$(raw)" = "$(sql "SELECT (SELECT count(*) FROM snap.cell) + (SELECT count(*) FROM snap.period) + (SELECT count(*) FROM snap.blind)")" ]
check "within the grace period nothing is released (--grace-hours $grace)" [ $? = 0 ] ||
	cat "$d/rel.out"
release 1
[ $rc -eq 0 ] && grep -q "published" "$d/rel.out" && [ "$(sql "SELECT count(*) FROM aicensus.period")" -gt 1 ]
check "central release (k = 1) exits 0 and publishes days and weeks" [ $? = 0 ] ||
	cat "$d/rel.out" "$d/rel.err"
COLS="coalesce(devices, 0), coalesce(devhours, 0), coalesce(tls, 0), coalesce(quic, 0), coalesce(ech, 0), coalesce(conns, 0), coalesce(dns, 0), coalesce(nxdomain, 0), coalesce(bytes_up, 0), coalesce(bytes_down, 0)"
ANY="devices + device_hours + tls + quic + ech + conns + dns + nxdomain + bytes_up + bytes_down > 0"
sql "SELECT kind, period, dept, svc, sum(devices), sum(device_hours), sum(tls),
    sum(quic), sum(ech), sum(conns), sum(dns), sum(nxdomain), sum(bytes_up),
    sum(bytes_down) FROM snap.cell GROUP BY 1, 2, 3, 4
    HAVING sum(devices + device_hours + tls + quic + ech + conns + dns + nxdomain + bytes_up + bytes_down) > 0
    ORDER BY kind, period, dept COLLATE \"C\", svc COLLATE \"C\"" >"$d/sum.txt"
sql "SELECT kind, period, dept, svc, $COLS FROM aicensus.cell WHERE site = '*'
    ORDER BY kind, period, dept COLLATE \"C\", svc COLLATE \"C\"" >"$d/cell1.txt"
[ "$(wc -l <"$d/sum.txt")" -gt 50 ] && cmp -s "$d/sum.txt" "$d/cell1.txt"
check "every organisation-wide cell equals the sum of the sites' cells ($(wc -l <"$d/cell1.txt") cells), no other cell" [ $? = 0 ] ||
	diff "$d/sum.txt" "$d/cell1.txt" | head -5
sql "SELECT site, kind, period, dept, svc, devices, device_hours, tls, quic, ech, conns, dns,
    nxdomain, bytes_up, bytes_down FROM snap.cell WHERE $ANY
    ORDER BY site, kind, period, dept COLLATE \"C\", svc COLLATE \"C\"" >"$d/site.txt"
sql "SELECT site, kind, period, dept, svc, $COLS FROM aicensus.cell WHERE site <> '*'
    ORDER BY site, kind, period, dept COLLATE \"C\", svc COLLATE \"C\"" >"$d/scope1.txt"
[ "$(cut -d'|' -f1 "$d/scope1.txt" | sort -u | tr '\n' ' ')" = "a b c " ] &&
	cmp -s "$d/site.txt" "$d/scope1.txt"
check "k = 1: every site's scope holds exactly the cells that site shipped ($(wc -l <"$d/scope1.txt") cells in $(cut -d'|' -f1 "$d/scope1.txt" | sort -u | wc -l) scopes)" [ $? = 0 ] ||
	diff "$d/site.txt" "$d/scope1.txt" | head -5
per=$(sql "SELECT count(*) FILTER (WHERE p.site IS NULL) || ':' || count(*) FILTER (WHERE p.coverage_hours <> s.coverage_hours
    OR p.hours_total <> s.hours_total) || ':' || count(*) FROM snap.period s LEFT JOIN aicensus.period p USING (site, kind, period)")
[ "${per%:*}" = "0:0" ] && [ "${per##*:}" -gt 3 ]
check "every period a site shipped is released in its scope with the site's own coverage (missing:differing:all $per)" [ $? = 0 ]
bl=$(sql "SELECT count(*) || ':' || count(*) FILTER (WHERE b.value IS DISTINCT FROM s.value)
    FROM snap.blind s LEFT JOIN aicensus.blind b USING (site, day, name)
    WHERE s.name IN (SELECT name FROM aicensus.blind WHERE site = '*' AND name <> 'sites_silent')")
ss=$(sql "SELECT count(*) FROM aicensus.blind WHERE site <> '*' AND name = 'sites_silent'")
[ "${bl%%:*}" -gt 0 ] && [ "${bl#*:}" = 0 ] && [ "$ss" = 0 ]
check "k = 1: each site's blind-spot figures are in its scope as it shipped them ($bl), the silent sites in the organisation's only ($ss)" [ $? = 0 ]
check "the raw rows of every released period are gone after the release ($(raw) left)" [ "$(raw)" = 0 ]
check "meta.method of the central release is ckm-central-1" \
	[ "$(pg_sql "$BI" "SELECT value FROM aicensus.meta WHERE key = 'method'")" = ckm-central-1 ]
check "relstore_pg_sites() lists the sites with a released period, ascending" \
	[ "$("$TRS" sites "$BI" | tr '\n' ' ')" = "a b c " ]
W1=$(sql "SELECT min(period) FROM aicensus.period WHERE site = 'a' AND kind = 2")
"$TRS" cells "$BI" a 2 "$W1" | sort >"$d/trs.a"
sql "SELECT dept || ',' || svc || ',' || concat_ws(',', $COLS) FROM aicensus.cell WHERE site = 'a' AND kind = 2 AND period = $W1" |
	sort >"$d/sql.a"
"$TRS" cells "$BI" '*' 2 "$W1" | sort >"$d/trs.org"
sql "SELECT dept || ',' || svc || ',' || concat_ws(',', $COLS) FROM aicensus.cell WHERE site = '*' AND kind = 2 AND period = $W1" |
	sort >"$d/sql.org"
[ -s "$d/trs.a" ] && cmp -s "$d/trs.a" "$d/sql.a" && cmp -s "$d/trs.org" "$d/sql.org" && ! cmp -s "$d/trs.a" "$d/trs.org"
check "relstore_pg_open_site() reads one scope: site a's week $W1 ($(wc -l <"$d/trs.a") cells) and the organisation's ($(wc -l <"$d/trs.org"))" [ $? = 0 ]
np=$("$TRS" periods "$BI" zz 1 | wc -l)
check "a site never released reads as a scope without periods ($np)" [ "$np" = 0 ]
# Late rows: site a ships a cell for a day that is already released.
D1=$(sql "SELECT min(period) FROM aicensus.period WHERE site = 'a' AND kind = 1")
pg_sql "dbname=central user=sensor_a password=$PW_A" "INSERT INTO aicensus.site_cell(site, kind, period, dept, svc, conns)
    VALUES ('a', 1, $D1, 'Finance', '*', 3)" >/dev/null 2>"$d/late.err" || cat "$d/late.err"
sql "SELECT site, kind, period, dept, svc, $COLS FROM aicensus.cell ORDER BY site, kind, period, dept COLLATE \"C\", svc COLLATE \"C\"" >"$d/late.a"
release 1
sql "SELECT site, kind, period, dept, svc, $COLS FROM aicensus.cell ORDER BY site, kind, period, dept COLLATE \"C\", svc COLLATE \"C\"" >"$d/late.b"
late=$(pg_sql "$BI" "SELECT string_agg(site || '=' || late_rows, ' ' ORDER BY site) FROM aicensus.sites")
[ $rc -eq 0 ] && grep -q "0 days, 0 weeks published" "$d/rel.out" && [ "$late" = "a=1 b=0 c=0 d=0" ] &&
	[ "$(raw)" = 0 ] && [ -s "$d/late.a" ] && cmp -s "$d/late.a" "$d/late.b"
check "a row shipped for a released day is counted as a late row of its site ($late), deleted, and publishes nothing" [ $? = 0 ] ||
	cat "$d/rel.out" "$d/rel.err"
silent=$(sql "SELECT min(value) || ':' || max(value) FROM aicensus.blind WHERE name = 'sites_silent'")
check "site d shipped nothing: every day counts at least one silent site ($silent)" \
	[ "${silent%%:*}" -ge 1 ] 2>/dev/null
check "the sites view lists the silent site d without a last_seen" \
	[ "$(pg_sql "$BI" "SELECT site FROM aicensus.sites WHERE last_seen IS NULL")" = d ]

# The central report and query against the single database's.
W=$(sqlite3 "$d/one/released.db" "SELECT period FROM period WHERE kind = 2 ORDER BY period LIMIT 1")
WK="${W:0:4}-W${W:4:2}"
q() { "$CLI" query --db "$1" --week "$WK" --by department,service --format csv; }
# period, department, service, then connections..bytes_down (not devices
# or device_hours: per-site sums where a device is at two sites).
pick() { cut -d, -f1-3,6-13; }
q "$d/one/released.db" | pick >"$d/q.one"
q "$BI" | pick >"$d/q.central"
[ "$(wc -l <"$d/q.one")" -gt 10 ] && cmp -s "$d/q.one" "$d/q.central"
check "aicensus query --db CONNINFO (reader) equals the single database's query for $WK: connections, lookups, bytes ($(wc -l <"$d/q.one") rows)" [ $? = 0 ] ||
	diff "$d/q.one" "$d/q.central" | head -5
"$CLI" report --db "$d/one/released.db" --week "$WK" --format json >"$d/r.one" 2>"$d/r.one.err"
"$CLI" report --db "$BI" --week "$WK" --format json >"$d/r.central" 2>"$d/r.central.err"; rc=$?
# The same measures from both reports' JSON (every number under a key
# that is not a device figure), compared as sorted key paths.
flat() {
	$PY - "$1" <<'EOF'
import json, sys
skip = ("devices", "device_hours", "coverage", "hours", "generated", "released", "sites", "silent")
def walk(o, path):
    if isinstance(o, dict):
        for k, v in o.items():
            yield from walk(v, path + [k])
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from walk(v, path + [str(i)])
    elif isinstance(o, (int, float)) and not isinstance(o, bool):
        if not any(s in p for p in path for s in skip):
            yield "/".join(path) + "=" + str(o)
for line in sorted(walk(json.load(open(sys.argv[1])), [])):
    print(line)
EOF
}
flat "$d/r.one" >"$d/f.one" 2>/dev/null
flat "$d/r.central" >"$d/f.central" 2>/dev/null
[ $rc -eq 0 ] && [ "$(wc -l <"$d/f.one")" -gt 10 ] && cmp -s "$d/f.one" "$d/f.central"
check "aicensus report --db CONNINFO (reader, k = 1) exits 0; its connections, lookups and bytes equal the single database's report ($(wc -l <"$d/f.one") figures)" [ $? = 0 ] ||
	{ cat "$d/r.central.err"; diff "$d/f.one" "$d/f.central" | head -8; }

# --- k = 5: protection ---------------------------------------------------------

# Every scope's rows gone, the raw rows back.
wipe() {
	sql "DELETE FROM aicensus.cell; DELETE FROM aicensus.dim; DELETE FROM aicensus.blind; DELETE FROM aicensus.period" >/dev/null
	restore
}
dump() {
	sql "SELECT site, kind, period, dept, svc, $COLS FROM aicensus.cell ORDER BY site, kind, period, dept COLLATE \"C\", svc COLLATE \"C\"";
	sql "SELECT site, day, name, value FROM aicensus.blind ORDER BY site, day, name COLLATE \"C\"";
	sql "SELECT site, kind, period, axis, ord, name FROM aicensus.dim ORDER BY 1, 2, 3, 4, 5";
	sql "SELECT site, kind, period, min_group, coverage_hours, hours_total FROM aicensus.period ORDER BY 1, 2, 3"
}
wipe
release 5
check "central release (k = 5) exits 0" [ $rc -eq 0 ] || cat "$d/rel.err"
small=$(sql "SELECT count(*) FROM aicensus.cell WHERE devices BETWEEN 1 AND 4")
big=$(sql "SELECT count(*) FROM aicensus.cell WHERE devices >= 5")
[ "$small" = 0 ] && [ "$big" -gt 10 ]
check "every published device count is 0 or >= 5 ($big cells >= 5, $small between 1 and 4)" [ $? = 0 ]
zeros=$(sql "SELECT count(*) FROM aicensus.cell c WHERE NOT EXISTS (SELECT 1
    FROM snap.cell s WHERE (c.site = '*' OR s.site = c.site) AND s.kind = c.kind AND s.period = c.period
    AND s.dept = c.dept AND s.svc = c.svc AND s.devices > 0)")
check "zeros stay zero: no published cell where the sites counted no device ($zeros)" [ "$zeros" = 0 ]
noisy=$(sql "SELECT count(*) FROM aicensus.cell c JOIN (SELECT kind, period, dept, svc,
    sum(conns) AS conns FROM snap.cell GROUP BY 1, 2, 3, 4) s USING (kind, period, dept, svc)
    WHERE c.site = '*' AND c.conns IS DISTINCT FROM s.conns")
check "the figures are protected, not copied ($noisy cells differ from the sums)" [ "$noisy" -gt 0 ]
# The attacker's check: where one site alone fed an organisation cell,
# a second noise draw of the same true value would let a reader average
# the two; the site-free cell key makes the two rows one.
att=$(sql "WITH k AS (SELECT kind, period, dept, svc, min(site) AS site FROM snap.cell WHERE $ANY
    GROUP BY 1, 2, 3, 4 HAVING count(*) = 1)
    SELECT count(*) || ':' || count(o.x) || ':' || count(*) FILTER (WHERE o.x IS DISTINCT FROM s.x) FROM k
    LEFT JOIN (SELECT kind, period, dept, svc, ROW($COLS) AS x FROM aicensus.cell WHERE site = '*') o
     USING (kind, period, dept, svc)
    LEFT JOIN (SELECT site, kind, period, dept, svc, ROW($COLS) AS x FROM aicensus.cell WHERE site <> '*') s
     USING (site, kind, period, dept, svc)")
[ "${att##*:}" = 0 ] && a2=${att#*:} && [ "${a2%%:*}" -gt 10 ]
check "k = 5, one contributing site: every such organisation cell is published exactly as that site's cell (cells:published:differing $att)" [ $? = 0 ]
scoped5=$(sql "SELECT count(DISTINCT site) || ':' || count(*) FILTER (WHERE site <> '*' AND devices BETWEEN 1 AND 4) FROM aicensus.cell")
check "k = 5: the organisation and the three sites published, no site cell below 5 devices ($scoped5)" [ "$scoped5" = "4:0" ]
check "k = 5: the raw rows are gone after the release" [ "$(raw)" = 0 ]
mg=$(sql "SELECT DISTINCT min_group FROM aicensus.period")
check "the periods record min_group_size 5" [ "$mg" = 5 ]
dump >"$d/k5.a"
release 5
dump >"$d/k5.b"
[ $rc -eq 0 ] && grep -q "0 days, 0 weeks published" "$d/rel.out" && cmp -s "$d/k5.a" "$d/k5.b"
check "a second release run publishes nothing and changes nothing, in any scope" [ $? = 0 ]
wipe
release 5
dump >"$d/k5.c"
[ $rc -eq 0 ] && cmp -s "$d/k5.a" "$d/k5.c"
check "released again from scratch: the same figures (the same cell, the same noise)" [ $? = 0 ] ||
	diff "$d/k5.a" "$d/k5.c" | head -3

wipe
"$CLI" central release --db "$ADMIN" -c "$d/org5.conf" --grace-hours 0 >"$d/rel.p1" 2>&1 &
p1=$!
"$CLI" central release --db "$ADMIN" -c "$d/org5.conf" --grace-hours 0 >"$d/rel.p2" 2>&1; r2=$?
wait $p1; r1=$?
dump >"$d/k5.d"
tot=$(cat "$d/rel.p1" "$d/rel.p2" | sed -n 's/^central release: \([0-9]*\) days, \([0-9]*\) weeks published.*/\1 \2/p' |
	awk '{ d += $1; w += $2 } END { print d "+" w }')
[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ "$tot" = "$(sql "SELECT count(*) FILTER (WHERE kind = 1) || '+' || count(*) FILTER (WHERE kind = 2) FROM aicensus.period WHERE site = '*'")" ] &&
	cmp -s "$d/k5.a" "$d/k5.d"
check "two releases at once: both exit 0, each period published once ($tot days+weeks in all), the same figures" [ $? = 0 ] ||
	{ cat "$d/rel.p1" "$d/rel.p2"; diff "$d/k5.a" "$d/k5.d" | head -3; }

# A release that fails half way through a period (a scope's cell cannot
# be written) keeps nothing of that period and loses no raw row; run
# again, it publishes the same figures as before.
wipe
sql "CREATE FUNCTION snap.fail() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'injected'; END\$\$;
    CREATE TRIGGER fail BEFORE INSERT ON aicensus.cell FOR EACH ROW WHEN (NEW.site = 'c') EXECUTE FUNCTION snap.fail()" >/dev/null
release 5
orphan=$(sql "SELECT count(*) FROM aicensus.period s WHERE s.site <> '*' AND NOT EXISTS (SELECT 1 FROM aicensus.period o
    WHERE o.site = '*' AND o.kind = s.kind AND o.period = s.period)")
lost=$(sql "SELECT count(*) FROM snap.cell s WHERE NOT EXISTS (SELECT 1 FROM aicensus.period o WHERE o.site = '*'
    AND o.kind = s.kind AND o.period = s.period) AND NOT EXISTS (SELECT 1 FROM aicensus.site_cell x WHERE x.site = s.site
    AND x.kind = s.kind AND x.period = s.period AND x.dept = s.dept AND x.svc = s.svc)")
left=$(raw)
[ $rc -ne 0 ] && [ "$orphan" = 0 ] && [ "$lost" = 0 ] && [ "$left" -gt 0 ]
check "a release failing inside a period exits non-zero, publishes no scope of it and loses no raw row (orphan scopes $orphan, raw rows lost $lost, kept $left)" [ $? = 0 ] ||
	cat "$d/rel.err"
sql "DROP TRIGGER fail ON aicensus.cell" >/dev/null
release 5
dump >"$d/k5.e"
[ $rc -eq 0 ] && [ "$(raw)" = 0 ] && cmp -s "$d/k5.a" "$d/k5.e"
check "run again, it publishes the rest: the same figures in every scope, the raw rows gone" [ $? = 0 ] ||
	diff "$d/k5.a" "$d/k5.e" | head -3

# --- the reader role ------------------------------------------------------------

nw=$(pg_sql "$BI" "SELECT count(*) FROM aicensus.released_week WHERE site = '*' AND NOT all_departments AND service_level = 'service'")
check "the reader role reads the released weeks through the view ($nw rows)" [ "${nw:-0}" -gt 10 ]
vs=$(pg_sql "$BI" "SELECT (SELECT string_agg(DISTINCT site, ',') FROM aicensus.released_week) || ' ' ||
    (SELECT string_agg(DISTINCT site, ',') FROM aicensus.released_day) || ' ' ||
    (SELECT string_agg(DISTINCT site, ',') FROM aicensus.released_blind) || ' ' ||
    (SELECT string_agg(DISTINCT site, ',') FROM aicensus.released_periods)")
check "the reader role reads every scope through the four views ($vs)" [ "$vs" = "*,a,b,c *,a,b,c *,a,b,c *,a,b,c" ]
nr=0
for t in released_week released_day released_blind released_periods period cell blind dim; do
	pg_sql "dbname=central user=sensor_a password=$PW_A" "SELECT count(*) FROM aicensus.$t" >/dev/null 2>&1 &&
		{ echo "# a sensor's role reads aicensus.$t"; nr=$((nr + 1)); }
done
check "a sensor's role reads no released table or view, of any scope" [ $nr = 0 ]
pg_sql "$BI" "SELECT count(*) FROM aicensus.site_cell" >/dev/null 2>&1; r1=$?
pg_sql "$BI" "SELECT count(*) FROM aicensus.secret" >/dev/null 2>&1; r2=$?
[ $r1 -ne 0 ] && [ $r2 -ne 0 ]
check "the reader role cannot read a site's cells nor the central secret" [ $? = 0 ]
pg_sql "dbname=central user=sensor_a password=$PW_A" "SELECT count(*) FROM aicensus.secret" >/dev/null 2>&1; r3=$?
check "a sensor's role cannot read the central secret" [ $r3 -ne 0 ]
"$CLI" report --db "$BI" --week "$WK" --format md >"$d/r5.md" 2>"$d/r5.err"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$d/r5.md")" -gt 20 ]
check "aicensus report --db CONNINFO as the reader (k = 5) exits 0 with a report" [ $? = 0 ] ||
	cat "$d/r5.err"
"$CLI" central release --db "$BI" -c "$d/org5.conf" >/dev/null 2>"$d/bi.err"; rc=$?
check "the reader role cannot run the central release (exit 1)" [ $rc -eq 1 ]
# A site's department that the organisation's configuration lacks.
sql "INSERT INTO aicensus.site_cell(site, kind, period, dept, svc, devices, device_hours, conns)
    VALUES ('d', 2, 202602, 'Lab', '*', 7, 30, 70), ('d', 2, 202602, 'Lab', 'zz-unknown', 7, 30, 70);
    INSERT INTO aicensus.site_period VALUES ('d', 2, 202602, 100, 168)" >/dev/null
release 5
lab=$(sql "SELECT dept || ':' || (devices >= 5) FROM aicensus.cell WHERE site = '*' AND kind = 2 AND period = 202602 ORDER BY dept")
[ $rc -eq 0 ] && [ "$lab" = "unassigned:true" ] &&
	grep -q "1 site cells of departments not in .* counted as \"unassigned\"" "$d/rel.out" &&
	grep -q "1 site cells of services not in the catalog left out" "$d/rel.out"
check "a department the configuration lacks is counted as unassigned, and said so; a service outside the catalog is left out ($lab)" [ $? = 0 ] ||
	cat "$d/rel.out"
# Retention: the organisation's retention_days, released and raw rows.
sed -e 's|^aicensus: {|aicensus: {\n  retention_days = 1;|' "$d/org5.conf" >"$d/org5r.conf"
release 5r
left=$(sql "SELECT (SELECT count(*) FROM aicensus.period) + (SELECT count(*) FROM aicensus.cell) +
    (SELECT count(*) FROM aicensus.site_cell) + (SELECT count(*) FROM aicensus.site_period) +
    (SELECT count(*) FROM aicensus.site_blind)")
[ $rc -eq 0 ] && [ "$left" = 0 ] && grep -q "rows older than retention_days (1) deleted" "$d/rel.out" &&
	grep -q "0 days, 0 weeks published" "$d/rel.out"
check "retention_days = 1: every released period and the sites' rows of them deleted, nothing released again" [ $? = 0 ] ||
	{ cat "$d/rel.out" "$d/rel.err"; echo "# left $left"; }
# --- a version 2 database with released rows, migrated --------------------------

ADMIN2="dbname=central2 user=aicadmin password=$PW_ADMIN"
BI2="dbname=central2 user=bi password=$PW_BI"
pg_sql "$SU" "CREATE DATABASE central2 OWNER aicadmin" >/dev/null 2>>"$d/setup.log"
"$TCP" init-to "$ADMIN2" 2 2>"$d/v2.err" || cat "$d/v2.err"
pg_sql "$ADMIN2" "INSERT INTO aicensus.period(kind, period, week, released_at, coverage_hours, hours_total, complete, min_group)
    VALUES (2, 202601, 202601, 1767600000, 160, 168, 1, 5), (1, 20260105, 202602, 1767700000, 20, 24, 1, 5);
    INSERT INTO aicensus.cell(kind, period, dept, svc, devices, conns) VALUES (2, 202601, '*', '*', 12, 340),
    (2, 202601, 'Finance', '*', 7, 200), (1, 20260105, '*', '*', 9, 90);
    INSERT INTO aicensus.dim(kind, period, axis, ord, name) VALUES (2, 202601, 0, 0, 'Finance');
    INSERT INTO aicensus.blind(day, name, value) VALUES (20260105, 'sites_silent', 1);
    INSERT INTO aicensus.site(name, last_seen, coverage_hours) VALUES ('a', now(), 5), ('b', NULL, 0)" >/dev/null 2>>"$d/v2.err"
v2=$(pg_sql "$ADMIN2" "SELECT value FROM aicensus.meta WHERE key = 'schema_version'")
pre=$("$TRS" cells "$BI2" '*' 2 202601 | sort | tr '\n' ' ')
"$TRS" cells "$BI2" a 2 202601 >/dev/null 2>"$d/v2a.err"; r1=$?
[ "$v2" = 2 ] && [ "$pre" = "*,*,12,0,0,0,0,340,0,0,0,0 Finance,*,7,0,0,0,0,200,0,0,0,0 " ] && [ $r1 -ne 0 ] &&
	grep -q "migrate" "$d/v2a.err"
check "a version 2 database ($v2) reads as the organisation's scope ($pre); a site scope needs version 3" [ $? = 0 ] ||
	cat "$d/v2.err" "$d/v2a.err"
"$CLI" central migrate --db "$ADMIN2" >"$d/mig.out" 2>&1; rc=$?
mig=$(pg_sql "$ADMIN2" "SELECT (SELECT value FROM aicensus.meta WHERE key = 'schema_version') || ' ' ||
    (SELECT value FROM aicensus.meta WHERE key = 'method') || ' ' ||
    (SELECT string_agg(DISTINCT site, ',') FROM (SELECT site FROM aicensus.period UNION ALL SELECT site FROM aicensus.cell
     UNION ALL SELECT site FROM aicensus.dim UNION ALL SELECT site FROM aicensus.blind) s) || ' ' ||
    (SELECT count(*) FROM aicensus.period) || '/' || (SELECT count(*) FROM aicensus.cell) || ' ' ||
    (SELECT count(*) FROM pg_constraint WHERE conname IN ('period_pkey', 'dim_pkey', 'cell_pkey', 'blind_pkey')
     AND pg_get_constraintdef(oid) LIKE 'PRIMARY KEY (site, %')")
[ $rc -eq 0 ] && [ "$mig" = "3 ckm-central-1 * 2/3 4" ]
check "central migrate takes it to version 3: method ckm-central-1, every row the organisation's, site first in every key ($mig)" [ $? = 0 ] ||
	cat "$d/mig.out"
# site.coverage_hours (never written) goes; the sites view is made
# again over the released weeks and granted to the reader again.
cols=$(pg_sql "$ADMIN2" "SELECT (SELECT string_agg(column_name, ',' ORDER BY ordinal_position)
    FROM information_schema.columns WHERE table_schema = 'aicensus' AND table_name = 'sites') || ' ' ||
    (SELECT count(*) FROM information_schema.columns WHERE table_schema = 'aicensus'
     AND table_name = 'site' AND column_name = 'coverage_hours') || ' ' ||
    has_table_privilege('aicensus_reader', 'aicensus.sites', 'SELECT') || ' ' ||
    has_column_privilege('aicensus_writer', 'aicensus.site', 'last_seen', 'UPDATE') || ' ' ||
    has_column_privilege('aicensus_writer', 'aicensus.site', 'late_rows', 'UPDATE')")
sv=$(pg_sql "$BI2" "SELECT string_agg(concat_ws(':', site, coalesce(week, '-'), silent, last_seen IS NOT NULL,
    late_rows), ' ' ORDER BY site) FROM aicensus.sites")
[ "$cols" = "site,created,last_seen,hours_since_seen,late_rows,week,coverage_hours,hours_total,silent 0 true true false" ] &&
	[ "$sv" = "a:-:t:t:0 b:-:t:f:0" ]
check "... site.coverage_hours dropped, the sites view made again with the released weeks and the reader's grant ($cols; $sv)" [ $? = 0 ]
post=$(pg_sql "$BI2" "SELECT site || ':' || devices || ':' || connections FROM aicensus.released_week WHERE all_departments")
pb=$(pg_sql "$BI2" "SELECT site || ':' || name || ':' || value FROM aicensus.released_blind")
"$TRS" cells "$BI2" '*' 2 202601 | sort | tr '\n' ' ' >"$d/post"
[ "$post" = "*:12:340" ] && [ "$pb" = "*:sites_silent:1" ] && [ "$(cat "$d/post")" = "$pre" ] &&
	[ -z "$("$TRS" sites "$BI2")" ]
check "after it the reader reads the same rows through the views ($post, $pb) and relstore_pg_open()" [ $? = 0 ]
pg_sql "$ADMIN2" "INSERT INTO aicensus.period(site, kind, period, week, released_at, coverage_hours, hours_total, complete, min_group)
    VALUES ('a', 2, 202601, 202601, 1767600000, 100, 168, 1, 5)" >/dev/null 2>&1; r1=$?
pg_sql "$ADMIN2" "INSERT INTO aicensus.period(site, kind, period, week, released_at, coverage_hours, hours_total, complete, min_group)
    VALUES ('*', 2, 202601, 202601, 1767600000, 100, 168, 1, 5)" >/dev/null 2>&1; r2=$?
[ $r1 -eq 0 ] && [ $r2 -ne 0 ]
check "a site's scope may hold the organisation's period, the organisation's twice it may not" [ $? = 0 ]

# Silent, defined once (central_read.h, docs/CENTRAL.md "The sites"): a
# site is silent for a week the organisation released when its scope
# has no period for that week or one with coverage 0; the sites view
# and central_read_sites() (the report's weeks, the dashboard's last
# week) say the same.  a: W01 100 h, W03 0 h; b: W02 50 h.
pg_sql "$ADMIN2" "INSERT INTO aicensus.period(site, kind, period, week, released_at, coverage_hours, hours_total, complete, min_group)
    VALUES ('*', 2, 202602, 202602, 1768200000, 50, 168, 1, 5), ('*', 2, 202603, 202603, 1768800000, 0, 168, 1, 5),
    ('b', 2, 202602, 202602, 1768200000, 50, 168, 1, 5), ('a', 2, 202603, 202603, 1768800000, 0, 168, 1, 5)" >/dev/null 2>>"$d/v2.err"
sv=$(pg_sql "$BI2" "SELECT string_agg(concat_ws(':', site, week, coverage_hours, hours_total, silent), ' ' ORDER BY site)
    FROM aicensus.sites")
TCR=$PWD/$BUILD/tests/test_central_read
cr() { "$TCR" sites "$BI2" "$@" | tr '\n' ' '; }
r0=$(cr) r13=$(cr 202601 202603) r12=$(cr 202601 202602) r11=$(cr 202601 202601)
# name,seen,hours_since,late,stale,week,coverage,total,weeks,weeks_silent,covered,silent
[ "$sv" = "a:2026-W03:0:168:t b:2026-W02:50:168:t" ] &&
	[ "$r0" = "a,1,0,0,0,202603,0,168,1,1,0,1 b,0,-1,0,1,202602,50,168,1,1,0,1 " ] &&
	[ "$r13" = "a,1,0,0,0,202603,0,168,3,2,100,1 b,0,-1,0,1,202602,50,168,3,2,50,1 " ] &&
	[ "$r12" = "a,1,0,0,0,202601,100,168,2,1,100,1 b,0,-1,0,1,202602,50,168,2,1,50,1 " ] &&
	[ "$r11" = "a,1,0,0,0,202601,100,168,1,0,100,0 b,0,-1,0,1,0,0,0,1,1,0,1 " ]
check "silent for a week: no period of the site's scope or coverage 0; the view and central_read_sites() agree (view $sv; last week $r0; W01-W03 $r13; W01-W02 $r12; W01 $r11); b never seen is stale" [ $? = 0 ]
c1=$("$TCR" check "$BI2" 2>/dev/null) c2=$("$TCR" check "dbname=central user=sensor_a password=$PW_A" 2>"$d/chk.err")
c3=$("$TCR" check "dbname=postgres user=bi password=$PW_BI" 2>"$d/chk3.err")
[ "$c1" = 0 ] && [ "$c2" = -2 ] && grep -q "permission denied.*; use a reader role's configuration: docs/CENTRAL.md" "$d/chk.err" &&
	[ "$c3" = -1 ] && grep -q "no aicensus schema" "$d/chk3.err"
check "central_read_check(): the reader may read (0), a sensor's role is denied with the pointer to the reader role (-2), a database without the schema is -1 ($c1 $c2 $c3)" [ $? = 0 ] ||
	cat "$d/chk.err" "$d/chk3.err"

# relstore_pg writes a period's rows by COPY: names with every byte its
# text format escapes, several COPY messages, NULL for a measure not
# published, a refused COPY leaving nothing (test_relstore_pg roundtrip)
"$TRS" roundtrip "$ADMIN2" rt >"$d/rt.out" 2>&1; rc=$?
rt=$(pg_sql "$ADMIN2" "SELECT count(*) || ' ' || count(*) FILTER (WHERE tls IS NULL AND devices IS NOT NULL) || ' ' ||
    count(*) FILTER (WHERE bytes_up = 9223372036854775807) || ' ' ||
    (SELECT count(*) FROM aicensus.dim WHERE site = 'rt') || ' ' ||
    (SELECT count(*) FROM aicensus.blind WHERE site = 'rt') || ' ' ||
    (SELECT count(*) FROM aicensus.period WHERE site = 'rt') || ' ' ||
    (SELECT count(*) FROM aicensus.dim WHERE site = 'rt' AND name = E'new\\nline-2')
    FROM aicensus.cell WHERE site = 'rt'")
[ $rc -eq 0 ] && [ "$rt" = "800 400 400 60 13 1 1" ]	# 13 blind figures (cells.h RB_N)
check "relstore_pg's COPY: escaped names, 800 cells, NULL measures, clipped figures, service ids twice, a refused period leaves nothing ($rt)" [ $? = 0 ] ||
	cat "$d/rt.out"
nopw() { ! grep -q "$@"; }
check "no password in any message" nopw -r -e "$PW_ADMIN" -e "$PW_BI" -e "$PW_A" \
	"$d/rel.err" "$d/bi.err" "$d/r5.err" "$d/r.central.err"

[ $fails -eq 0 ]
