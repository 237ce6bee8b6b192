#!/bin/bash
# Reading the central release (issue 12, spec D3): `aicensus query` and
# `aicensus report` over the scopes of a throwaway PostgreSQL 15 cluster
# (tests/central_lib.sh) that three sites fed and a fourth never did.
#  - query --site NAME prints that site's scope: at min_group_size = 1
#    its non-zero rows are the site's shipped cells, no more, no less,
#    and differ from the organisation's;
#  - query --site all prints the organisation ("*") and every released
#    site with a site column, each scope's rows as --site prints them;
#  - without --db, a configuration with a central group (conninfo and
#    password_file of the reader role) is read; a sensor's (writer)
#    configuration gets PostgreSQL's permission error and the pointer to
#    docs/CENTRAL.md; no password in any output;
#  - the central report's methodology says distinct devices are summed
#    per site (Markdown and HTML, English and Dutch); a sensor's report
#    does not; the title names the scope;
#  - the report's blind-spot section lists the sites, the one that
#    shipped nothing as silent (Markdown and JSON), a site's report its
#    own site only;
#  - --site without a central release, an unknown site, and report
#    --site all are refused.
# If the cluster cannot start that is a failure, never a skip.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CLI=$PWD/$BUILD/aicensus
DAEMON=$PWD/$BUILD/aicensusd
PY=/usr/bin/python3
fails=0

. tests/central_lib.sh

[ -x "$DAEMON" ] && [ -x "$CLI" ] || { nok "not built"; exit 1; }
pg_test_cluster crep

central_setup -b a:PW_A b:PW_B c:PW_C d

$PY tests/synth/synth.py --seed 3 --out "$d/gen" >/dev/null ||
	{ nok "synth.py failed"; exit 1; }

# Split the capture by the client's department, as central_release.sh
# does (a: Finance and Engineering, b: Sales, c: the rest).
central_split "$d/gen/traffic.pcap" "$d" a=Finance,Engineering b=Sales c='*' ||
	{ nok "split failed"; exit 1; }

# mkrun DIR [SITE ROLE PASSWORD]: a lab-mode run directory (k = 1),
# shipping to SITE when one is given.
mkrun() { central_mkrun -k 1 "$@"; }
run() { (cd "$1" && "$DAEMON" -c aicensus.conf -r "$2" >"$1/run.log" 2>&1); rc=$?; }

for s in a b c; do
	mkrun "$d/$s" $s sensor_$s "$(eval echo \$PW_${s^^})"
	run "$d/$s" "$d/$s.pcap"
	check "site $s: aicensusd -r of its part ships, exit 0" [ $rc -eq 0 ] ||
		tail -5 "$d/$s/run.log"
done
# A sensor without a central group: its own SQLite release database.
mkrun "$d/one"
run "$d/one" "$d/b.pcap"
check "a sensor of its own (site b's part into SQLite), exit 0" [ $rc -eq 0 ]
ONE=$d/one/released.db

W=$(sql "SELECT min(period) FROM aicensus.site_period WHERE kind = 2")
WK="${W:0:4}-W${W:4:2}"
# What site a shipped for week W, before the release consumes it:
# "week,dept,svc,measures..." of every non-zero department x service
# cell (the rows of --by department,service).
sql "SELECT format('%s-W%s', period / 100, lpad((period % 100)::text, 2, '0')),
    dept, svc, devices, device_hours, tls, quic, ech, conns, dns, nxdomain,
    bytes_up, bytes_down FROM aicensus.site_cell
    WHERE site = 'a' AND kind = 2 AND period = $W AND dept <> '*'
    AND svc <> '*' AND svc NOT LIKE 'cat:%'
    AND devices + device_hours + tls + quic + ech + conns + dns + nxdomain + bytes_up + bytes_down > 0" |
	tr '|' ',' | LC_ALL=C sort >"$d/a.shipped"

sed -e "s|min_group_size = [0-9]*;|min_group_size = 1;|" \
    -e "s|catalog = \"catalog.conf\"|catalog = \"$d/gen/catalog.conf\"|" \
    "$d/gen/aicensus.conf" >"$d/org.conf"
"$CLI" central release --db "$ADMIN" -c "$d/org.conf" --grace-hours 0 >"$d/rel.out" 2>&1; rc=$?
nscope=$(sql "SELECT count(DISTINCT site) FROM aicensus.period")
c1() {
	[ $rc -eq 0 ] && [ "$nscope" = 4 ]
}
check "central release (k = 1) exits 0 and publishes four scopes: the organisation, a, b, c ($nscope)" c1 ||
	cat "$d/rel.out"

# --- query --site ---------------------------------------------------------

nonzero() { awk -F, 'NR > 1 { for (i = 4; i <= NF; i++) if ($i != 0) { print; next } }' | LC_ALL=C sort; }
q() { "$CLI" query --week "$WK" --by department,service --format csv "$@"; }
q --db "$BI" --site a >"$d/q.a" 2>"$d/q.a.err"; rc=$?
head -1 "$d/q.a" >"$d/q.head"
nonzero <"$d/q.a" >"$d/q.a.nz"
nship=$(wc -l <"$d/a.shipped")
c2() {
	[ $rc -eq 0 ] && [ "$(head -1 "$d/q.a")" = "period,department,service,devices,device_hours,tls_conns,quic_conns,ech_conns,connections,dns_lookups,dns_nxdomain,bytes_up,bytes_down" ] &&
	[ "$(wc -l <"$d/a.shipped")" -gt 5 ] && cmp -s "$d/a.shipped" "$d/q.a.nz"
}
check "query --site a exits 0; its non-zero rows are exactly the cells site a shipped for $WK ($nship cells)" c2 ||
	{ cat "$d/q.a.err"; diff "$d/a.shipped" "$d/q.a.nz" | head -5; }
q --db "$BI" >"$d/q.org"
q --db "$BI" --site '*' >"$d/q.star"
c3() {
	cmp -s "$d/q.org" "$d/q.star" && ! cmp -s "$d/q.org" "$d/q.a" &&
	[ "$(wc -l <"$d/q.org")" = "$(wc -l <"$d/q.a")" ]
}
check "query without --site is the organisation (as --site '*'), and differs from site a's" c3

q --db "$BI" --site all >"$d/q.all" 2>"$d/q.all.err"; rc=$?
sites=$(tail -n +2 "$d/q.all" | cut -d, -f1 | uniq | tr '\n' ' ')
want=$( { sed 's/^/*,/' "$d/q.org" | tail -n +2; for s in a b c; do q --db "$BI" --site $s | tail -n +2 | sed "s/^/$s,/"; done; } | md5sum)
c4() {
	[ $rc -eq 0 ] && [ "$(head -1 "$d/q.all")" = "site,$(head -1 "$d/q.org")" ] &&
	[ "$sites" = "* a b c " ] && [ "$(tail -n +2 "$d/q.all" | md5sum)" = "$want" ]
}
check "query --site all: a site column, the organisation then every released site ($sites), each scope's rows as --site prints them" c4 ||
	{ cat "$d/q.all.err"; head -3 "$d/q.all"; }
"$CLI" query --db "$BI" --site all --week "$WK" >"$d/q.all.txt" 2>/dev/null
"$CLI" query --db "$BI" --site all --week "$WK" --format json >"$d/q.all.json"
jsites=$($PY -c '
import json, sys
j = json.load(open(sys.argv[1]))
rows = {r["site"] for r in j["rows"]}
per = {p["site"] for p in j["periods"]}
print(j["method"], ",".join(j["sites"]), ",".join(sorted(rows)), ",".join(sorted(per)))' "$d/q.all.json" 2>&1)
c5() {
	[ "$jsites" = "ckm-central-1 *,a,b,c *,a,b,c *,a,b,c" ] &&
	[ "$(awk 'NR == 1 { print $1 }' "$d/q.all.txt")" = site ] &&
	[ "$(awk 'NR > 1 { print $1 }' "$d/q.all.txt" | sort -u | tr '\n' ' ')" = "* a b c " ]
}
check "query --site all as a table and as JSON: every row and period names its site ($jsites)" c5
jone=$("$CLI" query --db "$BI" --site b --week "$WK" --format json | $PY -c 'import json, sys; j = json.load(sys.stdin); print(j["site"], j["method"])')
c6() {
	[ "$jone" = "b ckm-central-1" ]
}
check "query --site b as JSON names its scope and the central method ($jone)" c6

# --- a configuration's central group -----------------------------------------

printf '%s\n' "$PW_BI" >"$d/bi.pass"
chmod 600 "$d/bi.pass"
# a reader's configuration: figures come from the central release
# (api.source), through the reader role; it ships nothing, so no site
sed -e "s|^};|  central = { conninfo = \"host=$PGHOST dbname=central user=bi\"; password_file = \"$d/bi.pass\"; };\n  api = { enabled = false; source = \"central\"; };\n};|" \
    "$d/org.conf" >"$d/reader.conf"
q -c "$d/reader.conf" >"$d/q.conf" 2>"$d/q.conf.err"; rc=$?
c7() {
	[ $rc -eq 0 ] && cmp -s "$d/q.conf" "$d/q.org"
}
check "query -c CONFIG without --db reads the central release with the central group's conninfo and password_file" c7 ||
	{ cat "$d/q.conf.err"; diff "$d/q.org" "$d/q.conf" | head -3; }
q -c "$d/reader.conf" --site c >"$d/q.conf.c" 2>&1
"$CLI" report -c "$d/reader.conf" --week "$WK" --format md >"$d/r.conf.md" 2>"$d/r.conf.err"; rc=$?
c8() {
	[ $rc -eq 0 ] && grep -q "^# .*Organisation (all sites)" "$d/r.conf.md" &&
	cmp -s "$d/q.conf.c" <(q --db "$BI" --site c)
}
check "report -c CONFIG reads it too; --site c from the configuration equals --db's" c8 ||
	cat "$d/r.conf.err"
# A sensor's configuration (api.source local, a central group with its
# site): its own file holds no cells, and the CLI says where they are.
q -c "$d/a/aicensus.conf" >"$d/q.sensor" 2>"$d/q.sensor.err"; rc=$?
"$CLI" report -c "$d/a/aicensus.conf" --week "$WK" >/dev/null 2>"$d/r.sensor.err"; rc2=$?
c9() {
	[ $rc -eq 1 ] && [ $rc2 -eq 1 ] && [ ! -s "$d/q.sensor" ] &&
	grep -q "published in the organisation's central release (site a)" "$d/q.sensor.err" &&
	grep -q "published in the organisation's central release (site a)" "$d/r.sensor.err"
}
check "a shipping sensor's configuration: exit 1, its figures are in the central release (site a) ($(head -c 160 "$d/q.sensor.err"))" c9
# A reader's configuration that names a writer role instead.
sed -e "s|user=bi|user=sensor_a|" -e "s|$d/bi.pass|$d/a/central.pass|" \
    "$d/reader.conf" >"$d/a/writer.conf"
q -c "$d/a/writer.conf" >"$d/q.writer" 2>"$d/q.writer.err"; rc=$?
"$CLI" report -c "$d/a/writer.conf" --week "$WK" >/dev/null 2>"$d/r.writer.err"; rc2=$?
c9b() {
	[ $rc -eq 1 ] && [ $rc2 -eq 1 ] && [ ! -s "$d/q.writer" ] &&
	grep -q "permission denied.*; use a reader role's configuration: docs/CENTRAL.md$" "$d/q.writer.err" &&
	grep -q "permission denied.*; use a reader role's configuration: docs/CENTRAL.md$" "$d/r.writer.err"
}
check "api.source = central with a writer role: exit 1, PostgreSQL's permission error and the pointer to the reader role ($(head -c 160 "$d/q.writer.err"))" c9b

# --- the report ------------------------------------------------------------------

rep() { "$CLI" report --week "$WK" "$@"; }
rep --db "$BI" --format md >"$d/r.org.md" 2>"$d/r.err"; rc=$?
rep --db "$BI" --format md --lang nl >"$d/r.org.nl.md" 2>>"$d/r.err"
rep --db "$BI" --format html >"$d/r.org.html" 2>>"$d/r.err"
rep --db "$BI" --format html --lang nl >"$d/r.org.nl.html" 2>>"$d/r.err"
rep --db "$BI" --site a --format md >"$d/r.a.md" 2>>"$d/r.err"; rc2=$?
rep --db "$ONE" --format md >"$d/r.one.md" 2>>"$d/r.err"; rc3=$?
rep --db "$ONE" --format html >"$d/r.one.html" 2>>"$d/r.err"
EN="Distinct devices are counted per site and summed over the sites: a device's address differs per site"
NL="Unieke apparaten worden per locatie geteld en over de locaties opgeteld: het adres van een apparaat verschilt per locatie"
c10() {
	[ $rc -eq 0 ] && grep -q "^\*\*Several sites:\*\* .*$EN" "$d/r.org.md" &&
	grep -q "<b>Several sites:</b> [^<]*$EN" "$d/r.org.html" &&
	grep -q "^\*\*Meerdere locaties:\*\* .*$NL" "$d/r.org.nl.md" &&
	grep -q "<b>Meerdere locaties:</b> [^<]*$NL" "$d/r.org.nl.html"
}
check "central report: the methodology says distinct devices are summed per site (Markdown, HTML; English, Dutch)" c10 ||
	cat "$d/r.err"
c11() {
	[ $rc2 -eq 0 ] && grep -q "^\*\*Several sites:\*\* these figures are those of the sensor of site a.*sum distinct devices per site (a device's address differs per site)" "$d/r.a.md"
}
check "a site's central report says its figures are the site's and that the organisation's sum devices per site" c11
c12() {
	[ $rc3 -eq 0 ] && [ "$(wc -l <"$d/r.one.md")" -gt 20 ] &&
	! grep -q -e "Several sites" -e "summed per site" -e "Organisation (all sites)" -e "Last seen" "$d/r.one.md" "$d/r.one.html" &&
	grep -q "^# Generative-AI use: weekly report$" "$d/r.one.md"
}
check "a sensor's own report has no such sentence, no scope and no sites (Markdown, HTML)" c12
c13() {
	grep -q "^# Generative-AI use: weekly report · Organisation (all sites)$" "$d/r.org.md" &&
	grep -q "^# Gebruik van generatieve AI: weekrapport · Organisatie (alle locaties)$" "$d/r.org.nl.md" &&
	grep -q "<h1>Generative-AI use: weekly report · Organisation (all sites)</h1>" "$d/r.org.html" &&
	grep -q "^# Generative-AI use: weekly report · Site a$" "$d/r.a.md"
}
check "the title names the scope: the organisation, or site a" c13
# The sites table: | name | last seen | hours / total | status |
row() { grep "^| $1 | " "$2"; }
c14() {
	grep -q "^### Sites$" "$d/r.org.md" &&
	row d "$d/r.org.md" | grep -q "^| d | never | 0 / [0-9]* | \*\*silent\*\* |$" &&
	for s in a b c; do row $s "$d/r.org.md" | grep -q "^| $s | [0-9].* [0-9][0-9]:[0-9][0-9] | [1-9][0-9]* / [0-9]* | reporting |$" || return 1; done &&
	grep -q '<tr class="silent"><td>d</td><td>never</td>' "$d/r.org.html" &&
	row d "$d/r.org.nl.md" | grep -q "| nooit | 0 / [0-9]* | \*\*stil\*\* |$"
}
check "the blind-spot section lists the sites: d never seen and silent, a, b and c reporting with hours" c14 ||
	grep "^| [a-d] |" "$d/r.org.md"
rep --db "$BI" --format json >"$d/r.org.json"
js=$($PY -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(j["method"], j["scope"], " ".join("%s:%s:%s:%s:%s:%s" % (s["site"], s["silent"], s["last_seen"] is None, s["stale"], s["weeks_silent"], s["late_rows"]) for s in j["blind_spots"]["sites"]))' "$d/r.org.json" 2>&1)
c15() {
	[ "$js" = "ckm-central-1 * a:False:False:False:0:0 b:False:False:False:0:0 c:False:False:False:0:0 d:True:True:True:1:0" ]
}
check "the JSON report: method ckm-central-1, scope *, the sites with silent (its one week) and stale (never seen) d ($js)" c15
c16() {
	[ "$(grep -c "^| [a-d] | " "$d/r.a.md")" = 1 ] && row a "$d/r.a.md" | grep -q "reporting"
}
check "a site's report lists its own site only" c16
rep --db "$BI" --format csv >"$d/r.org.csv"
c17() {
	grep -q "^$WK,meta,,,,,method,ckm-central-1,$" "$d/r.org.csv" &&
	grep -q "^$WK,meta,,,,,scope,\*,$" "$d/r.org.csv" &&
	grep -q "^$WK,site:d,,,,,silent,1,$" "$d/r.org.csv" &&
	grep -q "^$WK,site:d,,,,,stale,1,$" "$d/r.org.csv" &&
	grep -q "^$WK,site:a,,,,,silent,0,$" "$d/r.org.csv" &&
	grep -q "^$WK,site:a,,,,,stale,0,$" "$d/r.org.csv"
}
check "the CSV report: method, scope and one section per site" c17

# --- refusals ----------------------------------------------------------------

q --db "$ONE" --site a >/dev/null 2>"$d/e1"; r1=$?
rep --db "$ONE" --site a >/dev/null 2>"$d/e2"; r2=$?
c18() {
	[ $r1 -eq 2 ] && [ $r2 -eq 2 ] && grep -q "^aicensus query: --site needs the central release" "$d/e1" &&
	grep -q "^aicensus report: --site needs the central release" "$d/e2"
}
check "--site without a central release: a usage error (exit 2) that says so" c18
q --db "$BI" --site zz >/dev/null 2>"$d/e3"; r3=$?
rep --db "$BI" --site all >/dev/null 2>"$d/e4"; r4=$?
q --db "$BI" --site 'a b' >/dev/null 2>"$d/e5"; r5=$?
c19() {
	[ $r3 -eq 1 ] && grep -q "no site \"zz\" in the central database; its sites: a b c d$" "$d/e3" &&
	[ $r4 -eq 2 ] && grep -q "a report covers one scope" "$d/e4" && [ $r5 -eq 2 ]
}
check "an unknown site (exit 1, the sites named), report --site all and a malformed name (exit 2) are refused" c19 ||
	cat "$d/e3" "$d/e4" "$d/e5"

nopw() { ! grep -q -r -e "$PW_ADMIN" -e "$PW_BI" -e "$PW_A" "$d"/q.* "$d"/r.* "$d"/e[0-9]; }
check "no password in any output or message" nopw

[ $fails -eq 0 ]
