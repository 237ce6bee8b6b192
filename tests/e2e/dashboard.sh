#!/bin/bash
# The dashboard end to end: aicensusd runs LIVE (on lo, in a network
# namespace of its own) serving the repository's daemon/out/dashboard/ and a release
# database written by tests/relfixture.py (tests/api_fixture.sh);
# headless Chromium, in the same namespace, opens the page with the token
# in the URL fragment.  The rendered DOM must hold SVG bars whose
# data-value sums are the released day cells (as `aicensus query` gives
# them), the sanctioned share of the released week cells, the new
# services and the sensor panel, no suppression mark and zeros as "–";
# without or with a wrong token the login form shows and no data; a
# shipping sensor's release database (spec12 D2) shows where its figures
# are, and no data.
#
# Issue 14: the page in Dutch (the configured language, after a reload
# with language = "nl"; and after the EN/NL switch, remembered in the
# browser), at 420 px wide nothing sticks out (tests/dashboard_fit.js,
# loaded after app.js by a copy of index.html, measures it and clicks),
# the trend's bars are the released week cells, the drill-down into a
# department shows its categories and services, and "≥" marks sums that
# are lower bounds (day totals raised above their parts in the release
# database, a department's day cell taken out) and nowhere else
# (tests/dash_check.py).  The screenshots are kept as
# tests/artefacts/dashboard.png (en), dashboard-nl.png (Dutch, desktop)
# and dashboard-nl-phone.png (Dutch, 420 px wide).
#
# Needs root (network namespace) and chromium.  Run from anywhere:
#   bash tests/e2e/dashboard.sh     (BUILD=build-san for the sanitizer build)
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BUILD=${BUILD:-build}
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/sbin
export PATH LC_ALL=C
MIN_GROUP=5
# figures that add up as a real release's do: the screenshots are read by people
FIXTURE_COHERENT=1
SHOT=tests/artefacts/dashboard.png
SHOT_NL=tests/artefacts/dashboard-nl.png
SHOT_PHONE=tests/artefacts/dashboard-nl-phone.png
DEPT=Finance

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
pass() {
	if [ $? -eq 0 ]; then ok "$*"; else nok "$*"; fi
}

tmp=
. tests/api_fixture.sh
trap fixture_cleanup EXIT
trap 'exit 1' INT TERM HUP

missing=0
for t in ip curl openssl chromium; do
	command -v "$t" >/dev/null 2>&1 || { nok "$t missing (make test-deps)"; missing=1; }
done
for b in "$BUILD/aicensusd" "$BUILD/aicensus"; do
	[ -x "$b" ] || { nok "$b missing (run make)"; missing=1; }
done
[ "$(id -u)" -eq 0 ] || { nok "the dashboard test needs root (network namespace)"; missing=1; }
[ $missing -eq 0 ] || exit 1
tmp=$(mktemp -d /tmp/aic-dash.XXXXXX) || exit 1

# No external code or fonts: every URL in daemon/out/dashboard/ is an XML namespace.
ext=$(grep -rhoE "(https?:)?//[a-zA-Z0-9.-]+\.[a-z]{2,}[^\"' )]*" daemon/out/dashboard/ | grep -v '^http://www.w3.org/' | sort -u)
[ -z "$ext" ]
pass "the dashboard loads nothing from elsewhere (no CDN)${ext:+: $ext}"

fixture_db || { nok "could not build the test database: $(tail -3 "$RUN/offline.log" 2>/dev/null)"; exit 1; }
# The daemon serves a copy of the dashboard with the test harness beside
# it: check.html is index.html with tests/dashboard_fit.js loaded after
# app.js (the page's Content-Security-Policy allows no frame and no
# inline script, so the harness must be a file of its own).
web=$tmp/web
mkdir -p "$web" && cp daemon/out/dashboard/* "$web/" && cp tests/dashboard_fit.js "$web/fit.js" &&
	sed 's|<script src="app.js" defer></script>|&\n<script src="fit.js" defer></script>|' \
		daemon/out/dashboard/index.html >"$web/check.html" &&
	grep -q 'src="fit.js"' "$web/check.html" || { nok "could not set up the harness"; exit 1; }
fixture_daemon "$web" || { nok "aicensusd with the API did not come up"; exit 1; }
ok "aicensusd serves the dashboard live in namespace $NS, released weeks up to $WEEK"

# What the page must show, from the CLI (the same query and encoder the
# API uses), over the release database.
q() { "$BUILD/aicensus" query --db "$REL" --format json "$@"; }
prev4=$($PY -c 'import datetime,sys
y,w=int(sys.argv[1][:4]),int(sys.argv[1][6:])
d=datetime.date.fromisocalendar(y,w,1)-datetime.timedelta(weeks=4)
print("%d-W%02d"%d.isocalendar()[:2])' "$WEEK")
api_get /api/v1/services >"$tmp/services.json"
q --week "$WEEK" --by department,day >"$tmp/deptdays.json" &&
	q --week "$WEEK" --by service,day >"$tmp/svcdays.json" &&
	q --week "$WEEK" --by department,service >"$tmp/cells.json" &&
	q --from "$prev4" --to "$WEEK" --by service,week >"$tmp/hist.json" &&
	$PY tests/api_check.py expect "$WEEK" "$tmp/deptdays.json" "$tmp/svcdays.json" \
		"$tmp/cells.json" "$tmp/hist.json" \
		"$(sqlite3 "$REL" "SELECT group_concat(sid) FROM service WHERE sanctioned")" \
		"$tmp/services.json" >"$tmp/expect.json"
pass "expected figures from aicensus query ($(wc -c <"$tmp/expect.json") bytes)"

# chrome OUT-OPTION URL: headless Chromium inside the namespace, a fresh
# profile each time; virtual time lets the page's requests finish.
# PROFILE (a browser profile to keep: localStorage) and SIZE (the
# window) may be given.
chrome() {
	local out=$1 url=$2 prof=${PROFILE:-}
	[ -n "$prof" ] || prof=$(mktemp -d "$tmp/profile.XXXXXX")
	timeout 60 ip netns exec "$NS" chromium --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --disable-dev-shm-usage \
		--user-data-dir="$prof" --virtual-time-budget=5000 \
		--window-size="${SIZE:-1400,1000}" "$out" "$url" 2>>"$tmp/chrome.log"
}

U=http://127.0.0.1:8080
chrome --dump-dom "$U/#token=$TOKEN" >"$tmp/dom.html"
pass "Chromium rendered the dashboard ($(wc -c <"$tmp/dom.html") bytes of DOM)"
$PY tests/api_check.py dom "$tmp/dom.html" "$tmp/expect.json" || fails=$((fails + 1))
grep -q "Minimum group size $MIN_GROUP" "$tmp/dom.html"
pass "the page states the minimum group size ($MIN_GROUP) and that figures are released and perturbed"
$PY tests/api_check.py addresses "$tmp"/gen*/truth.json -- "$tmp/dom.html" >/dev/null
pass "no client address in the rendered page"

# The token does not stay in the address bar: the page rewrites the
# fragment to the view only.
grep -q "$TOKEN" "$tmp/dom.html"
[ $? -ne 0 ]
pass "the token appears nowhere in the rendered DOM"

chrome --dump-dom "$U/" >"$tmp/dom-none.html"
grep -q '<div id="login" class="overlay">' "$tmp/dom-none.html" &&
	! grep -q 'data-value=' "$tmp/dom-none.html"
pass "without a token the login form shows, and no data"
chrome --dump-dom "$U/#token=not-the-token-0123456789" >"$tmp/dom-bad.html"
grep -q '<div id="login" class="overlay">' "$tmp/dom-bad.html" &&
	grep -q 'That token was not accepted' "$tmp/dom-bad.html" &&
	! grep -q 'data-value=' "$tmp/dom-bad.html"
pass "with a wrong token (401) the login form shows why, and no data"

chrome --dump-dom "$U/#token=$TOKEN&interval=week&week=2026-W46" >"$tmp/dom-week.html"
grep -q 'data-ready="1"' "$tmp/dom-week.html" && grep -q '2026-W46' "$tmp/dom-week.html" &&
	[ "$(grep -o 'data-chart="department" data-series=' "$tmp/dom-week.html" | wc -l)" -gt 0 ]
pass "the weekly view of another released week renders too ($(grep -o 'class="bar"' "$tmp/dom-week.html" | wc -l) bars)"
chrome --dump-dom "$U/#token=$TOKEN&interval=hour" >"$tmp/dom-hour.html"
grep -q 'data-ready="1"' "$tmp/dom-hour.html" && ! grep -qi 'hour' <(grep -o 'data-period="[^"]*"' "$tmp/dom-hour.html")
pass "an hourly view cannot be asked for: the fragment falls back to released days"

# A shipping sensor: its cells are the central release's (409 from the
# data endpoints); the page says so, not as an error, and shows no data.
sqlite3 "$REL" "INSERT INTO meta VALUES ('published_by', 'central'), ('site', 'north');"
chrome --dump-dom "$U/#token=$TOKEN" >"$tmp/dom-central.html"
sqlite3 "$REL" "DELETE FROM meta WHERE key IN ('published_by', 'site');"
grep -q "<p class=\"notice\" id=\"privacy\">this sensor's figures are published in the organisation's central release (site north): aicensus report --db … --site north</p>" "$tmp/dom-central.html" &&
	grep -q 'data-ready="1"' "$tmp/dom-central.html" &&
	! grep -q 'data-value=' "$tmp/dom-central.html" && ! grep -q 'Could not load' "$tmp/dom-central.html"
pass "a shipping sensor's dashboard names the central release and the site, and shows no data"

# --- English by default; trend and drill-down --------------------------------
$PY tests/dash_check.py lang "$tmp/dom.html" en || fails=$((fails + 1))
$PY tests/dash_check.py noge "$tmp/dom.html" || fails=$((fails + 1))
sanct=$(sqlite3 "$REL" "SELECT group_concat(sid) FROM service WHERE sanctioned")
prev7=$($PY -c 'import datetime,sys
y,w=int(sys.argv[1][:4]),int(sys.argv[1][6:])
d=datetime.date.fromisocalendar(y,w,1)-datetime.timedelta(weeks=7)
print("%d-W%02d"%d.isocalendar()[:2])' "$WEEK")
api_get "/api/v1/usage?from=$prev7&to=$WEEK&by=service,week" >"$tmp/trend.json"
$PY tests/dash_check.py trend "$tmp/dom.html" "$tmp/trend.json" "$sanct" || fails=$((fails + 1))
chrome --dump-dom "$U/#token=$TOKEN&dept=$DEPT" >"$tmp/dom-drill.html"
api_get "/api/v1/usage?week=$WEEK&by=department,category,day" >"$tmp/deptcat.json"
$PY tests/dash_check.py drill "$tmp/dom-drill.html" "$tmp/deptcat.json" "$tmp/cells.json" "$DEPT" ||
	fails=$((fails + 1))

# --- a phone: 420 px, the EN/NL switch, the choice remembered -------------
P=$tmp/profile-phone
mkdir -p "$P"
# headless Chromium's window is at least 500 px wide: dash_dom.py sets
# the viewport to 420 px through the DevTools protocol
in_ns $PY tests/dash_dom.py 420 900 "$U/check.html#token=$TOKEN" "$P" >"$tmp/fit.html" 2>>"$tmp/chrome.log"
$PY tests/dash_check.py fit "$tmp/fit.html" 420 || fails=$((fails + 1))
in_ns $PY tests/dash_dom.py 420 900 "$U/#token=$TOKEN" "$P" >"$tmp/dom-remembered.html" 2>>"$tmp/chrome.log"
grep -q '<html lang="nl"' "$tmp/dom-remembered.html" &&
	[ "$(api_get /api/v1/status | $PY -c 'import json,sys; print(json.load(sys.stdin)["language"])')" = en ]
pass "the next visit in the same browser is Dutch again (localStorage), the configuration still says en"

# --- lower bounds --------------------------------------------------------------
# Every day of the week: its released total is made 50 more than the sum
# of its departments' cells (a cell drawn as zero is absent: it is added
# first), after one department's first non-zero day cell is taken out (a
# released zero, "–").  The department chart must
# mark "≥" exactly on the departments with a "–" day.
mon=$($PY -c 'import datetime,sys
y,w=int(sys.argv[1][:4]),int(sys.argv[1][6:])
d=datetime.date.fromisocalendar(y,w,1)
print(d.strftime("%Y%m%d"), (d+datetime.timedelta(days=6)).strftime("%Y%m%d"))' "$WEEK")
set -- $mon
# kept to be put back after the checks: a day total taken out while its
# parts stay is a state no release writes, and the pictures are read
sqlite3 "$REL" ".backup '$tmp/rel-before-ge.db'"
api_get "/api/v1/usage?week=$WEEK&by=department,day" >"$tmp/deptdays-pre.json"
sqlite3 "$REL" "DELETE FROM cell WHERE kind = 1 AND dept = '$DEPT' AND svc = '*' AND period =
  (SELECT MIN(period) FROM cell WHERE kind = 1 AND dept = '$DEPT' AND svc = '*' AND conns > 0
   AND period BETWEEN $1 AND $2);
INSERT OR IGNORE INTO cell SELECT 1, period, '*', '*', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM period
  WHERE kind = 1 AND period BETWEEN $1 AND $2;
UPDATE cell SET conns = 50 + (SELECT COALESCE(SUM(c.conns), 0) FROM cell c WHERE c.kind = 1
  AND c.period = cell.period AND c.dept <> '*' AND c.svc = '*')
  WHERE kind = 1 AND dept = '*' AND svc = '*' AND period BETWEEN $1 AND $2;"
pass "day totals of $WEEK raised above their departments' sum, a day cell of $DEPT taken out"
api_get "/api/v1/usage?week=$WEEK&by=department,day" >"$tmp/deptdays-ge.json"
chrome --dump-dom "$U/#token=$TOKEN" >"$tmp/dom-ge.html"
$PY tests/dash_check.py ge "$tmp/dom-ge.html" "$tmp/deptdays-ge.json" || fails=$((fails + 1))
$PY tests/dash_check.py noge "$tmp/dom-ge.html" || fails=$((fails + 1))
sqlite3 "$REL" ".restore '$tmp/rel-before-ge.db'"
api_get "/api/v1/usage?week=$WEEK&by=department,day" >"$tmp/deptdays-back.json"
cmp -s "$tmp/deptdays-back.json" "$tmp/deptdays-pre.json" &&
	! cmp -s "$tmp/deptdays-back.json" "$tmp/deptdays-ge.json"
pass "the release database is put back as it was before the lower-bound checks (the API answers change back)"

mkdir -p "$(dirname "$SHOT")"
rm -f "$SHOT"
chrome --screenshot="$ROOT/$SHOT" "$U/#token=$TOKEN" >/dev/null
png_is() {	# FILE W H
	$PY -c 'import struct,sys; d=open(sys.argv[1],"rb").read(32)
w,h=struct.unpack(">II",d[16:24]); sys.exit(0 if d[:8]==b"\x89PNG\r\n\x1a\n" and (w,h)==(int(sys.argv[2]),int(sys.argv[3])) else 1)' "$@" 2>/dev/null
}
png_is "$SHOT" 1400 1000
pass "screenshot kept as $SHOT (1400x1000 PNG, $(wc -c <"$SHOT" 2>/dev/null) bytes)"

# --- the configured language: nl, read again at SIGHUP ---------------------------
sed -i 's|^\(  timezone = .*\)$|\1\n  language = "nl";|' "$RUN/api.conf"
kill -HUP "$DPID"
for i in $(seq 1 50); do
	l=$(api_get /api/v1/status | $PY -c 'import json,sys; print(json.load(sys.stdin).get("language"))')
	[ "$l" = nl ] && break
	sleep 0.1
done
[ "$l" = nl ]
pass "after language = \"nl\" and SIGHUP /api/v1/status says language nl"
chrome --dump-dom "$U/#token=$TOKEN" >"$tmp/dom-nl.html"
$PY tests/dash_check.py lang "$tmp/dom-nl.html" nl || fails=$((fails + 1))
$PY tests/dash_check.py ge "$tmp/dom-nl.html" "$tmp/deptdays-back.json" || fails=$((fails + 1))
grep -q '≥ ten minste' "$tmp/dom-nl.html"
pass "the Dutch legend line explains ≥ (ten minste)"
in_ns $PY tests/dash_dom.py 420 900 "$U/check.html#token=$TOKEN" >"$tmp/fit-nl.html" 2>>"$tmp/chrome.log"
$PY tests/dash_check.py fit "$tmp/fit-nl.html" 420 || fails=$((fails + 1))
in_ns $PY tests/dash_dom.py 1400 1000 "$U/check.html#token=$TOKEN" >"$tmp/fit-desk.html" 2>>"$tmp/chrome.log"
$PY tests/dash_check.py fit "$tmp/fit-desk.html" 1400 || fails=$((fails + 1))
rm -f "$SHOT_NL" "$SHOT_PHONE"
chrome --screenshot="$ROOT/$SHOT_NL" "$U/#token=$TOKEN" >/dev/null
png_is "$SHOT_NL" 1400 1000
pass "Dutch screenshot kept as $SHOT_NL (1400x1000 PNG, $(wc -c <"$SHOT_NL" 2>/dev/null) bytes)"
SIZE=420,1800 chrome --screenshot="$ROOT/$SHOT_PHONE" "$U/#token=$TOKEN&dept=$DEPT" >/dev/null
png_is "$SHOT_PHONE" 420 1800
pass "Dutch phone screenshot kept as $SHOT_PHONE (420x1800 PNG, $(wc -c <"$SHOT_PHONE" 2>/dev/null) bytes)"

[ $fails -eq 0 ]
