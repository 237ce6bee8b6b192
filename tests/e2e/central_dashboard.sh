#!/bin/bash
# The organisation's dashboard (issue 12, D4): `aicensusd --serve` with
# api.source = central serves the central release of a throwaway
# PostgreSQL 15 cluster (tests/central_lib.sh) through a reader role,
# inside a network namespace of its own (API on 127.0.0.1:8080 there).
#  - two sites ship a synthesized capture split by department
#    (aicensusd -r), a third never ships; started before the central
#    release, the dashboard answers no periods, and after it (the
#    release version is re-read at most once per second) the released
#    ones;
#  - /api/v1/usage equals `aicensus query --db CONNINFO` for the
#    organisation, and with ?site=a the released_week view's rows of
#    site a's scope; /api/v1/periods?site=a lists site a's periods;
#  - /api/v1/sites lists the three sites, the one that never shipped
#    as silent; an unknown or malformed site is a 400;
#  - nothing is written: no state directory, no database, no file in
#    the serving directory; SIGHUP takes a new token, SIGTERM stops it;
#  - the writer role's credentials: a clear error naming the reader
#    role, exit 1, no figure; no password in any output;
#  - api.source = local (--serve over a sensor's release file) answers
#    as `aicensus query --db FILE`, and refuses ?site= with 400.
# Needs root (network namespace, the cluster's postgres user).  If the
# cluster cannot start that is a failure, never a skip.
# test: alone (the dashboard must list a release within a second of it: timing)
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CLI=$PWD/$BUILD/aicensus
DAEMON=$PWD/$BUILD/aicensusd
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/sbin
fails=0

. tests/central_lib.sh

for t in ip curl chromium; do
	command -v $t >/dev/null 2>&1 || { nok "$t missing (make test-deps)"; exit 1; }
done
[ -x "$DAEMON" ] && [ -x "$CLI" ] || { nok "not built"; exit 1; }
[ "$(id -u)" -eq 0 ] || { nok "needs root (network namespace)"; exit 1; }
NS=aic-cdash-$$
SPID=
cleanup_ns() {
	[ -n "$SPID" ] && kill -TERM "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
}
pg_test_cluster cdash
trap 'cleanup_ns; pg_stop; [ -n "$KEEP" ] || rm -rf "$d"' EXIT
ip netns add "$NS" && ip -n "$NS" link set lo up ||
	{ nok "cannot make network namespace $NS"; exit 1; }

central_setup -b a:PW_A b:PW_B c

$PY tests/synth/synth.py --seed 3 --out "$d/gen" >/dev/null ||
	{ nok "synth.py failed"; exit 1; }
# Site a: Finance and Engineering; site b: every other client.
central_split "$d/gen/traffic.pcap" "$d" a=Finance,Engineering b='*' ||
	{ nok "split failed"; exit 1; }

# mksite SITE ROLE PASSWORD: a lab-mode sensor run directory shipping to SITE.
mksite() { central_mkrun "$d/$1" "$1" "$2" "$3"; }
for s in a b; do
	mksite $s sensor_$s "$(eval echo \$PW_${s^^})"
	(cd "$d/$s" && "$DAEMON" -c aicensus.conf -r "$d/$s.pcap" >run.log 2>&1)
	check "site $s: aicensusd -r ships its part, exit 0" [ $? -eq 0 ] ||
		tail -5 "$d/$s/run.log"
done
# A sensor that ships nothing: its own release file, for api.source = local.
mkdir -p "$d/one" && cp "$d/gen/aicensus.conf" "$d/gen/catalog.conf" "$d/one/"
(cd "$d/one" && "$DAEMON" -c aicensus.conf -r "$d/a.pcap" >run.log 2>&1)
check "a sensor without a central group: aicensusd -r, exit 0" [ $? -eq 0 ]

# The serving directory: a reader's configuration, source = central.
S=$d/serve
mkdir -p "$S/web" && chmod 700 "$S"
cp daemon/out/dashboard/* "$S/web/"
cp "$d/gen/catalog.conf" "$S/"
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && echo "$TOKEN" >"$S/api.token")
(umask 077 && printf '%s\n' "$PW_BI" >"$S/bi.pass")
(umask 077 && printf '%s\n' "$PW_A" >"$S/writer.pass")
# serveconf FILE USER PASSFILE [SOURCE]
serveconf() {
	sed -e "s|min_group_size = [0-9]*;|min_group_size = 5;|" \
	    -e "s|^};|  api = { listen = \"127.0.0.1:8080\"; token_file = \"api.token\"; web_dir = \"$S/web\"; source = \"${4:-central}\"; };\n  central = { conninfo = \"host=$PGHOST dbname=central user=$2\"; password_file = \"$3\"; };\n};|" \
	    "$d/gen/aicensus.conf" >"$1"
}
serveconf "$S/serve.conf" bi bi.pass
serveconf "$S/writer.conf" sensor_a writer.pass
# every path under DIR; files with their size and time
files() { find "$1" -mindepth 1 \( -type f -printf '%P %s %T@\n' \) -o -printf '%P\n' | sort; }
files "$S" >"$d/serve.before"

api() { ip netns exec "$NS" curl -s -H "Authorization: Bearer ${TOK:-$TOKEN}" "$@"; }
code() { ip netns exec "$NS" curl -s -o "$d/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$1"; }
U=http://127.0.0.1:8080
# serve CONF: start aicensusd --serve in the namespace, wait for /healthz
serve() {
	ip netns exec "$NS" "$DAEMON" --serve -c "$1" >"$d/serve.log" 2>&1 &
	SPID=$!
	for i in $(seq 1 100); do
		[ "$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' $U/healthz)" = 200 ] && return 0
		kill -0 $SPID 2>/dev/null || break
		sleep 0.1
	done
	cat "$d/serve.log"
	return 1
}
stop() { kill -TERM $SPID 2>/dev/null; wait $SPID; rc=$?; SPID=; }

"$DAEMON" --serve -n -c "$S/serve.conf" >"$d/check.out" 2>&1 && [ ! -e "$S/state" ]
check "aicensusd --serve -n: the reader's configuration is fine without a site or state directory ($(cat "$d/check.out"))" \
	[ $? -eq 0 ]

# --- the writer role -------------------------------------------------------
timeout 30 ip netns exec "$NS" "$DAEMON" --serve -c "$S/writer.conf" >"$d/writer.out" 2>&1; rc=$?
r=0; [ $rc -eq 1 ] && grep -q "use a reader role's configuration" "$d/writer.out" &&
	grep -q "aicensus_reader" "$d/writer.out" && ! grep -q '"rows"' "$d/writer.out" || r=1
check "--serve with the writer role's credentials exits 1 with a clear error ($(grep -o 'permission denied[^—]*' "$d/writer.out" | head -1))" \
	[ $r -eq 0 ] || cat "$d/writer.out"

# --- before the release ------------------------------------------------------
serve "$S/serve.conf" || { nok "aicensusd --serve did not come up"; exit 1; }
ok "aicensusd --serve (api.source = central, reader role) answers in namespace $NS"
api $U/api/v1/periods >"$d/p0.json"
check "before the central release: no released period ($(cat "$d/p0.json"))" \
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(1 if d["weeks"] or d["days"] else 0)' "$d/p0.json"
api $U/api/v1/status >"$d/status.json"
check "status: source central, capture none" \
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["source"] == "central" and d["capture"] == "none"))' "$d/status.json" ||
	cat "$d/status.json"

"$CLI" central release --db "$ADMIN" -c "$d/gen/aicensus.conf" --grace-hours 0 >"$d/rel.out" 2>&1 &&
	[ "$(sql "SELECT count(DISTINCT site) FROM aicensus.period")" = 3 ]
check "central release (k = 2) publishes the organisation and the sites" \
	[ $? -eq 0 ] || cat "$d/rel.out"
sleep 1.2
api $U/api/v1/periods >"$d/p1.json"
nw=$(sql "SELECT count(*) FROM aicensus.period WHERE site = '*' AND kind = 2")
check "within a second of the release the dashboard lists its $nw weeks (version re-read)" \
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(len(d["weeks"]) != int(sys.argv[2]) or not d["days"])' "$d/p1.json" "$nw" ||
	head -c 300 "$d/p1.json"

# --- figures: the organisation and a site -------------------------------------
W=$(sql "SELECT period FROM aicensus.period WHERE site = '*' AND kind = 2 ORDER BY period LIMIT 1")
WK="${W:0:4}-W${W:4:2}"
api "$U/api/v1/usage?week=$WK&by=department,service" >"$d/org.api"
"$CLI" query --db "$BI" --week "$WK" --by department,service --format json >"$d/org.cli"
check "org: /api/v1/usage?week=$WK&by=department,service equals aicensus query --db CONNINFO ($($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rows"]))' "$d/org.cli") rows)" \
	$PY -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); sys.exit(a != b or len(a["rows"]) < 20)' "$d/org.api" "$d/org.cli" ||
	diff <(head -c 400 "$d/org.api") <(head -c 400 "$d/org.cli")
api "$U/api/v1/usage?week=$WK&by=department,service&site=a" >"$d/a.api"
pg_sql "$BI" "SELECT coalesce(department, '*'), CASE service_level WHEN 'all' THEN '*' WHEN 'category' THEN 'cat:' || category ELSE service_id END, devices, connections, dns_lookups, bytes_up FROM aicensus.released_week WHERE site = 'a' AND week = '$WK'" >"$d/a.sql"
$PY - "$d/a.api" "$d/a.sql" "$d/org.api" >"$d/a.cmp" <<'EOF'
import json, sys
api = json.load(open(sys.argv[1]))
org = json.load(open(sys.argv[3]))
got = {(r["department"], r["service"]): (r["devices"], r["connections"], r["dns_lookups"], r["bytes_up"]) for r in api["rows"]}
want = {}
for line in open(sys.argv[2]):
    dept, svc, *v = line.rstrip("\n").split("|")
    want[(dept, svc)] = tuple(int(x or 0) for x in v)
# every row the view has equals the API's; every other API row is 0
bad = [k for k in got if got[k] != want.get(k, (0, 0, 0, 0))]
bad += [k for k in want if k not in got]
print(len(got), len(want), sum(1 for k in want if want[k] != (0, 0, 0, 0)), len(bad))
differs = any(r != o for r, o in zip(api["rows"], org["rows"]))
sys.exit(1 if bad or not want or len(got) != len(org["rows"]) or not differs else 0)
EOF
check "site a: /api/v1/usage?site=a equals site a's scope in the released_week view (rows, view rows, non-zero, bad: $(cat "$d/a.cmp")), and differs from the organisation's" \
	[ $? -eq 0 ]
if "$CLI" query --help 2>&1 | grep -q -- "--site"; then
	"$CLI" query --db "$BI" --site a --week "$WK" --by department,service --format json >"$d/a.cli"
	check "site a: /api/v1/usage?site=a equals aicensus query --site a" \
		$PY -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); sys.exit(a != b)' "$d/a.api" "$d/a.cli"
else
	echo "# this aicensus query has no --site (issue 12, D3): site a compared with the view only"
fi
api "$U/api/v1/periods?site=a" >"$d/pa.json"
na=$(sql "SELECT count(*) FROM aicensus.period WHERE site = 'a'")
check "/api/v1/periods?site=a lists site a's $na periods" \
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(len(d["weeks"]) + len(d["days"]) != int(sys.argv[2]))' "$d/pa.json" "$na"
api "$U/api/v1/blind?week=$WK&site=b" >"$d/bb.json"
check "/api/v1/blind?site=b answers site b's released days" \
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not d["days"])' "$d/bb.json"

# --- sites ------------------------------------------------------------------
api $U/api/v1/sites >"$d/sites.json"
lw=$(sql "SELECT max(period) FROM aicensus.period WHERE site = '*' AND kind = 2")
# silent: for the organisation's last released week ($lw), no period of
# the site's scope or coverage 0; stale: not seen for 24 hours, or never.
check "/api/v1/sites: a and b seen, released, covering hours of the organisation's last week ($lw), neither silent nor stale; c silent, stale and never seen ($(tr -d '\n' <"$d/sites.json" | head -c 300))" \
	$PY - "$d/sites.json" "$lw" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
lw = "%s-W%s" % (sys.argv[2][:4], sys.argv[2][4:])
d = {s["name"]: s for s in j["sites"]}
ok = sorted(d) == ["a", "b", "c"] and j["stale_after_hours"] == 24 and j["silent_after_hours"] == 24
ok = ok and all(d[s]["last_seen"] and not d[s]["silent"] and not d[s]["stale"] and d[s]["released"] and d[s]["last_week"] == lw and 0 < d[s]["coverage_hours"] <= d[s]["hours_total"] and d[s]["hours_since_seen"] == 0 and d[s]["late_rows"] == 0 for s in "ab")
ok = ok and d["c"]["last_seen"] is None and d["c"]["silent"] and d["c"]["stale"] and d["c"]["hours_since_seen"] is None and not d["c"]["released"] and d["c"]["last_week"] is None
sys.exit(not ok)
EOF
for q in "site=zz" "site=-bad" "site=a&site=b"; do
	c=$(code "$U/api/v1/usage?week=$WK&$q")
	check "?$q is a 400 ($(head -c 120 "$d/body"))" [ "$c" = 400 ]
done
c=$(code "$U/api/v1/usage?week=$WK&by=department,service&site=*")
[ "$c" = 200 ] && cmp -s "$d/body" "$d/org.api"
check "?site=* is the organisation" [ $? -eq 0 ]

# --- the page ----------------------------------------------------------------------
# chrome OUT-OPTION URL: headless Chromium in the namespace, a fresh profile.
chrome() {
	local prof
	prof=$(mktemp -d "$d/profile.XXXXXX")
	timeout 60 ip netns exec "$NS" chromium --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --disable-dev-shm-usage \
		--user-data-dir="$prof" --virtual-time-budget=5000 \
		--window-size=1400,1000 "$1" "$2" 2>>"$d/chrome.log"
}
values() { grep -o 'data-value="[^"]*"' "$1" | sort | md5sum; }
chrome --dump-dom "$U/#token=$TOKEN&week=$WK" >"$d/dom-org.html"
chrome --dump-dom "$U/#token=$TOKEN&week=$WK&site=a" >"$d/dom-a.html"
grep -q '<label class="sel" id="sitepick">' "$d/dom-org.html" &&
	grep -q 'data-sites="3"' "$d/dom-org.html" && grep -q 'data-ready="1"' "$d/dom-org.html" &&
	grep -q '<option value="c">c (silent)' "$d/dom-org.html"
check "the dashboard shows the site selector (3 sites, c silent) over the central release" [ $? -eq 0 ]
grep -q 'data-ready="1"' "$d/dom-a.html" && grep -q 'Site a\. Minimum group size' "$d/dom-a.html" &&
	grep -q 'data-value=' "$d/dom-a.html" && [ "$(values "$d/dom-a.html")" != "$(values "$d/dom-org.html")" ]
check "with site=a it renders site a's figures, not the organisation's ($(grep -o 'data-value=' "$d/dom-a.html" | wc -l) values)" [ $? -eq 0 ]

# --- the database goes away and comes back -----------------------------------------
pg_stop
sleep 1.1
c=$(code "$U/api/v1/periods?site=b")
check "PostgreSQL stopped: 503 ($(head -c 100 "$d/body"))" [ "$c" = 503 ]
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 60 \
	-l "$PG_DIR/server.log" start >/dev/null 2>&1 || nok "PostgreSQL restarts"
for i in $(seq 1 40); do
	c=$(code "$U/api/v1/usage?week=$WK&by=department,service")
	[ "$c" = 200 ] && break
	sleep 0.5
done
[ "$c" = 200 ] && cmp -s "$d/body" "$d/org.api"
check "PostgreSQL back: the same answers again after $i tries" [ $? -eq 0 ]
[ "$(grep -c "central database: " "$d/serve.log")" = 1 ] && grep -q "readable again" "$d/serve.log"
check "the outage is logged once, and the recovery" [ $? -eq 0 ] || cat "$d/serve.log"

# --- reload and stop ------------------------------------------------------------
OLD=$TOKEN
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && echo "$TOKEN" >"$S/api.token.new") && mv "$S/api.token.new" "$S/api.token"
kill -HUP $SPID
sleep 0.5
c1=$(code $U/api/v1/status)
TOK=$OLD
c2=$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $OLD" $U/api/v1/status)
TOK=
[ "$c1" = 200 ] && [ "$c2" = 401 ]
check "SIGHUP: the new token is taken ($c1), the old one refused ($c2)" [ $? -eq 0 ]
stop
[ $rc -eq 0 ] && grep -q "stopped" "$d/serve.log"
check "SIGTERM stops it, exit 0" [ $? -eq 0 ]
files "$S" | grep -v '^api.token ' >"$d/serve.after"
grep -v '^api.token ' "$d/serve.before" >"$d/serve.before2"
[ ! -e "$S/state" ] && [ ! -e "$S/aicensus.db" ] && [ ! -e "$S/released.db" ] &&
	cmp -s "$d/serve.before2" "$d/serve.after"
check "nothing written: no state directory, no database, no new or changed file in the serving directory ($(wc -l <"$d/serve.after") files)" \
	[ $? -eq 0 ] || diff "$d/serve.before2" "$d/serve.after"

# --- api.source = local --------------------------------------------------------
serveconf "$S/local.conf" bi bi.pass local
sed -i -e "s|^  database = \"aicensus.db\";|  database = \"$d/one/aicensus.db\";|" -e "s|^  central = .*||" "$S/local.conf"
serve "$S/local.conf" || { nok "aicensusd --serve (local) did not come up"; exit 1; }
LW=$(sqlite3 "$d/one/released.db" "SELECT period FROM period WHERE kind = 2 ORDER BY period LIMIT 1")
LWK="${LW:0:4}-W${LW:4:2}"
api "$U/api/v1/usage?week=$LWK&by=department,service" >"$d/loc.api"
"$CLI" query --db "$d/one/released.db" --week "$LWK" --by department,service --format json >"$d/loc.cli"
check "api.source = local: --serve answers as aicensus query --db FILE" \
	$PY -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); sys.exit(a != b or not a["rows"])' "$d/loc.api" "$d/loc.cli"
c=$(code "$U/api/v1/usage?week=$LWK&site=a")
check "api.source = local: ?site= is a 400 ($(head -c 100 "$d/body"))" [ "$c" = 400 ]
c=$(code "$U/api/v1/sites")
check "api.source = local: /api/v1/sites is a 404" [ "$c" = 404 ]
chrome --dump-dom "$U/#token=$TOKEN" >"$d/dom-local.html"
grep -q 'data-ready="1"' "$d/dom-local.html" && grep -q '<label class="sel" id="sitepick" hidden="">' "$d/dom-local.html"
check "api.source = local: the dashboard renders without a site selector" [ $? -eq 0 ]
stop

# A reader's configuration (no site) cannot make a sensor ship.
mkdir -p "$d/nosite"
"$DAEMON" -c "$S/serve.conf" -r "$d/b.pcap" --db "$d/nosite/aicensus.db" >"$d/nosite.out" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "no central.site" "$d/nosite.out"
check "a capture with the reader's configuration (no site) refuses to ship: exit 1" [ $? -eq 0 ] || cat "$d/nosite.out"

# --- secrets ------------------------------------------------------------------
leak=0
for f in "$d"/serve.log "$d"/writer.out "$d"/nosite.out "$d"/*.api "$d"/*.json; do
	for p in "$PW_BI" "$PW_A" "$PW_ADMIN"; do
		grep -qF "$p" "$f" && { echo "# a password in $f"; leak=1; }
	done
done
check "no password in any output or log" [ $leak -eq 0 ]

echo "# central_dashboard: $fails failed"
[ $fails -eq 0 ]
