#!/bin/bash
# The HTTP API end to end: aicensusd runs LIVE (on lo, in a network
# namespace of its own) and reads a release database written by
# tests/relfixture.py for the grid of a synthesized configuration
# (tests/api_fixture.sh); curl, promtool, a real Prometheus and wrk talk
# to it on 127.0.0.1:8080 inside that namespace.
#
# Checks: /healthz without a token; 401 on every other endpoint without
# or with a wrong token; 400/404/405/414/431 with JSON errors, among them
# every unpublished level (hour, day x department x service) and every
# epoch that is not a local midnight (no free window); path traversal
# and symlinks out of the web root never return a file; static
# Content-Types; usage JSON identical to `aicensus query --format json`
# and equal to the full released grid, zeros included; periods, blind;
# status without figures; /metrics (health without labels, released
# gauges of the last week and day) through promtool and scraped by
# Prometheus; the cache follows the release database; a reload swaps the
# token; no client address in any answer.  Then the latency of the usage
# endpoint under wrk, printed as "# ..." lines (measured, not asserted).
#
# Needs root (network namespace).  Run from anywhere:
#   bash tests/e2e/api.sh          (BUILD=build-san for the sanitizer build)
# test: alone (the wrk latency figures are measured with nothing beside them)
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BUILD=${BUILD:-build}
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/sbin
export PATH LC_ALL=C

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() {	# check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else nok "$what"; fi
}
# after a command list: pass DESCRIPTION (ok when the list succeeded)
pass() {
	if [ $? -eq 0 ]; then ok "$*"; else nok "$*"; fi
}

tmp=
. tests/api_fixture.sh
trap fixture_cleanup EXIT
trap 'exit 1' INT TERM HUP

missing=0
for t in ip curl openssl promtool prometheus wrk; do
	command -v "$t" >/dev/null 2>&1 || { nok "$t missing (make test-deps)"; missing=1; }
done
for b in "$BUILD/aicensusd" "$BUILD/aicensus"; do
	[ -x "$b" ] || { nok "$b missing (run make)"; missing=1; }
done
[ "$(id -u)" -eq 0 ] || { nok "the API test needs root (network namespace)"; missing=1; }
[ $missing -eq 0 ] || exit 1

tmp=$(mktemp -d /tmp/aic-api.XXXXXX) || exit 1
ans=$tmp/answers
mkdir -p "$ans"

# A copy of the dashboard with traps in it: a symlink to a file outside
# the web root, one to a directory outside, a directory without index.
web=$tmp/web
cp -r daemon/out/dashboard "$web"
mkdir -p "$tmp/outside" "$web/empty"
echo "OUTSIDE-SECRET" >"$tmp/outside/secret.html"
echo "OUTSIDE-SECRET" >"$tmp/outside/index.html"
ln -s "$tmp/outside/secret.html" "$web/leak.html"
ln -s ../outside "$web/out"
ln -s /etc/passwd "$web/passwd.txt"

fixture_db || { nok "could not build the test database: $(tail -3 "$RUN/offline.log" 2>/dev/null)"; exit 1; }
ok "release database written for the synthesized grid, last released week $WEEK"
fixture_daemon "$web" || { nok "aicensusd with the API did not come up"; exit 1; }
ok "aicensusd runs live in namespace $NS with the API on 127.0.0.1:8080"

# status FILE [curl args...] -> HTTP status; the body goes to FILE
status() {
	local f=$1
	shift
	in_ns curl -s -o "$f" -w '%{http_code}' "$@"
}

# is a JSON error: {"error": {"status": CODE, "message": "..."}}
json_error() {	# json_error FILE CODE
	$PY -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; sys.exit(0 if e["status"]==int(sys.argv[2]) and e["message"] else 1)' "$1" "$2" 2>/dev/null
}

U=http://127.0.0.1:8080
AUTH="Authorization: Bearer $TOKEN"
n=0

# --- health and tokens -----------------------------------------------------

c=$(status "$ans/healthz.json" "$U/healthz")
check "GET /healthz without a token: 200 ($c)" [ "$c" = 200 ]

endpoints="/api/v1/usage /api/v1/periods /api/v1/blind /api/v1/services /api/v1/departments /api/v1/status /metrics /api/v1/nosuch /api/"
bad=0
for e in $endpoints; do
	for hdr in "" "Authorization: Bearer wrong-token-0123456789" \
		"Authorization: Bearer ${TOKEN}x" "Authorization: Bearer ${TOKEN:0:63}" \
		"Authorization: Basic $TOKEN" "Authorization: $TOKEN"; do
		n=$((n + 1))
		c=$(status "$ans/401-$n.json" ${hdr:+-H "$hdr"} "$U$e")
		if [ "$c" != 401 ] || ! json_error "$ans/401-$n.json" 401; then
			bad=$((bad + 1))
			echo "  $e with '${hdr:0:30}': $c $(head -c 100 "$ans/401-$n.json")"
		fi
	done
done
check "401 with a JSON error on every endpoint but /healthz without, or with a wrong, token ($n requests)" [ $bad -eq 0 ]
c=$(status /dev/null -D "$tmp/h401" "$U/metrics")
check "a 401 says WWW-Authenticate: Bearer" grep -qi '^WWW-Authenticate: Bearer' "$tmp/h401"
c=$(status "$ans/ok-token.json" -H "$AUTH" "$U/api/v1/services")
check "the right token opens /api/v1/services ($c)" [ "$c" = 200 ]
c=$(status "$ans/ok-token2.json" -H "authorization: bearer   $TOKEN  " "$U/api/v1/departments")
check "the scheme is case-insensitive and spaces around the token do not matter ($c)" [ "$c" = 200 ]

# --- bad requests ------------------------------------------------------------

mon=$(date -u -d "2026-11-16 00:00" +%s)
bad=0
for q in "from=garbage" "to=2026-13-01" "from=2026-02-30" "by=nonsense" \
	"by=department,hour" "by=hour" "by=day,department,service" \
	"day=2026-11-18&by=department,service" "by=day,week" "interval=day" \
	"color=red" "from=2026-W47&from=2026-W48" "from=2026-W48&to=2026-W47" \
	"from=2026-Q4" "from=99999999999999" "week=2026-W47&day=2026-11-18" \
	"week=2026-11-18" "day=2026-W47" "from=$((mon + 3600))" \
	"from=$mon&to=$((mon + 3600))" "from=$((mon + 1))&to=$((mon + 86400))" \
	"to=$((mon + 86399))" "from=-1"; do
	n=$((n + 1))
	c=$(status "$ans/400-$n.json" -H "$AUTH" "$U/api/v1/usage?$q")
	if [ "$c" != 400 ] || ! json_error "$ans/400-$n.json" 400; then
		bad=$((bad + 1))
		echo "  usage?$q: $c $(head -c 120 "$ans/400-$n.json")"
	fi
done
for e in "/api/v1/services?x=1" "/api/v1/status?from=2026-W47" "/metrics?debug=1" "/api/v1/usage?%zz=1" \
	"/api/v1/blind?week=nope" "/api/v1/blind?from=$((mon + 3600))" "/api/v1/periods?week=2026-W47"; do
	n=$((n + 1))
	c=$(status "$ans/400-$n.json" -H "$AUTH" "$U$e")
	if [ "$c" != 400 ] || ! json_error "$ans/400-$n.json" 400; then
		bad=$((bad + 1))
		echo "  $e: $c $(head -c 120 "$ans/400-$n.json")"
	fi
done
check "400 with a JSON error on bad parameters, unpublished levels (hour, day x department x service) and free epoch windows (not a local midnight)" [ $bad -eq 0 ]
grep -q '"department x service is released per week only (use --by department,service,week)"' "$ans"/400-*.json &&
	grep -q 'is not the start of a local day' "$ans"/400-*.json
pass "the refusals say why (department x service per week only; an epoch must be a local midnight)"

bad=0
for e in /api/v1/nosuch /api/v2/usage /api/v1/usage/x /nosuch.html /nosuch /empty /empty/ /out/; do
	c=$(status "$ans/404.json" -H "$AUTH" "$U$e")
	if [ "$c" != 404 ] || ! json_error "$ans/404.json" 404; then
		bad=$((bad + 1))
		echo "  $e: $c"
	fi
done
check "404 with a JSON error on unknown paths and directories (no listing)" [ $bad -eq 0 ]

bad=0
for m in POST PUT DELETE PATCH OPTIONS TRACE; do
	for e in /api/v1/usage / /healthz; do
		c=$(status "$ans/405.json" -X $m -D "$tmp/h405" -H "$AUTH" "$U$e")
		if [ "$c" != 405 ] || ! json_error "$ans/405.json" 405 ||
			! grep -qi '^Allow: GET, HEAD' "$tmp/h405"; then
			bad=$((bad + 1))
			echo "  $m $e: $c"
		fi
	done
done
c=$(status "$ans/405b.json" -X POST -H "$AUTH" --data-binary @/dev/null "$U/api/v1/usage")
[ $bad -eq 0 ] && [ "$c" = 405 ]
pass "405 (JSON, Allow: GET, HEAD) for POST, PUT, DELETE, PATCH, OPTIONS, TRACE"

long=$(head -c 10240 /dev/zero | tr '\0' a)
c=$(status "$ans/414.json" -H "$AUTH" "$U/api/v1/usage?from=$long")
[ "$c" = 414 ] && json_error "$ans/414.json" 414
pass "a 10 KB query string is refused with a JSON error: $c"
c=$(status "$ans/414b.json" "$U/$long")
check "a 10 KB path is refused: $c" [ "$c" = 414 ]
c=$(status /dev/null -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' b)" "$U/healthz")
[ "$c" = 431 ] || [ "$c" = 400 ] || [ "$c" = 413 ]
pass "20 KB of request headers are refused: $c"
c=$(status /dev/null -H "$AUTH" --data-binary "@$RUN/day1.pcap" -X GET "$U/api/v1/services")
[ "$c" = 413 ] || [ "$c" = 400 ]
pass "a request body beyond the limit is refused: $c"
c=$(status "$ans/after.json" -H "$AUTH" "$U/api/v1/departments")
check "the daemon still answers after the oversized requests ($c)" [ "$c" = 200 ]

# --- static files -------------------------------------------------------------

bad=0
for p in '/../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/web/../config/aicensus.conf' \
	'/%2e%2e%2f%2e%2e%2fetc%2fpasswd' '/..%2f..%2fetc%2fpasswd' '/..%252f..%252fetc%252fpasswd' \
	'//etc/passwd' '/./index.html' '/.%2e/.%2e/etc/passwd' '/index.html%00.js' \
	'/%5c..%5c..%5cetc%5cpasswd' '/leak.html' '/out/secret.html' '/out/index.html' \
	'/out/' '/passwd.txt' '/empty/../../outside/secret.html' \
	"/$(printf '..%%2f%.0s' $(seq 1 20))etc%2fpasswd" '/api/../../etc/passwd' \
	'/%2e%2e/run/api.token' '/../run/api.conf' '/.hidden'; do
	c=$(status "$tmp/trav" --path-as-is "$U$p")
	if { [ "$c" != 404 ] && [ "$c" != 400 ] && [ "$c" != 401 ]; } ||
		grep -q -e 'root:' -e 'OUTSIDE-SECRET' -e "$TOKEN" "$tmp/trav" 2>/dev/null; then
		bad=$((bad + 1))
		echo "  $p: $c $(head -c 80 "$tmp/trav")"
	fi
	n=$((n + 1))
	cp "$tmp/trav" "$ans/trav-$n.txt"
done
check "path traversal and symlinks out of the web root never return a file (22 attempts)" [ $bad -eq 0 ]

bad=0
for pt in "/ text/html" "/index.html text/html" "/app.js text/javascript" \
	"/style.css text/css" "/favicon.svg image/svg+xml"; do
	set -- $pt
	c=$(status "$tmp/static" -D "$tmp/hs" "$U$1")
	if [ "$c" != 200 ] || ! grep -qi "^Content-Type: $2" "$tmp/hs" ||
		! cmp -s "$tmp/static" "daemon/out/dashboard/$( [ "$1" = / ] && echo index.html || echo "${1#/}")"; then
		bad=$((bad + 1))
		echo "  $1: $c $(grep -i '^Content-Type' "$tmp/hs")"
	fi
done
check "static files: the repository's bytes with the right Content-Type, no token needed" [ $bad -eq 0 ]
check "the page may run only its own script and style (Content-Security-Policy)" \
	grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'" "$tmp/hs"
read -r c size <<<"$(in_ns curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$U/healthz")"
[ "$c" = 200 ] && [ "$size" = 0 ]
pass "HEAD /healthz: 200 without a body"

# --- usage against the CLI and the released grid ---------------------------------

i=0
for spec in "week=$WEEK|--week $WEEK|" "week=$WEEK&by=department,service|--week $WEEK --by department,service|department,service,week" \
	"day=2026-11-18&by=department|--day 2026-11-18 --by department|department,day" \
	"day=2026-11-18&by=service|--day 2026-11-18 --by service|service,day" \
	"from=2026-11-18&to=2026-11-24&by=department,category,day|--from 2026-11-18 --to 2026-11-24 --by department,category,day|department,category,day" \
	"from=2026-11-18&to=2026-11-18&by=service,week|--from 2026-11-18 --to 2026-11-18 --by service,week|service,week" \
	"from=2026-W46&to=2026-W48&by=department,service|--from 2026-W46 --to 2026-W48 --by department,service|department,service" \
	"by=category,week|--by category,week|category,week" "by=service,day|--by service,day|service,day" \
	"from=$mon&to=$((mon + 2 * 86400))&by=department,day|--from 2026-11-16 --to 2026-11-17 --by department,day|department,day"; do
	IFS='|' read -r q args by <<<"$spec"
	i=$((i + 1))
	# shellcheck disable=SC2086
	"$BUILD/aicensus" query --db "$REL" $args --format json >"$tmp/cli-$i.json" 2>"$tmp/cli-$i.err" ||
		{ nok "aicensus query $args failed: $(cat "$tmp/cli-$i.err")"; continue; }
	c=$(status "$ans/usage-$i.json" -H "$AUTH" "$U/api/v1/usage?$q")
	[ "$c" = 200 ] || { nok "usage?$q: HTTP $c $(head -c 200 "$ans/usage-$i.json")"; continue; }
	echo "# usage?$q"
	$PY tests/api_check.py compare "$tmp/cli-$i.json" "$ans/usage-$i.json" || fails=$((fails + 1))
	$PY tests/api_check.py grid "$ans/usage-$i.json" "$RUN/released.json" "${by:-week}" || fails=$((fails + 1))
done
$PY -c 'import json,sys; a=json.load(open(sys.argv[1])); sys.exit(0 if [p["period"] for p in a["periods"]]==["2026-W47"] else 1)' "$ans/usage-6.json"
pass "a day of a week asked per week snaps outward to the whole week 2026-W47"
$PY -c 'import json,sys; a=json.load(open(sys.argv[1])); sys.exit(0 if a["derived"] and a["devices_unit"]=="device-weeks" and [p["period"] for p in a["periods"]]==["2026-W46","2026-W47"] and a["rows"][0]["period"]=="2026-W46..2026-W47" else 1)' "$ans/usage-7.json"
pass "without day or week: the derived sum of the released weeks (W48 is not released), devices as device-weeks"

c=$(status "$ans/periods.json" -H "$AUTH" "$U/api/v1/periods")
[ "$c" = 200 ] && $PY -c 'import json,sys; p=json.load(open(sys.argv[1]))
w=[x["period"] for x in p["weeks"]]; d=[x["period"] for x in p["days"]]
sys.exit(0 if w==["2026-W46","2026-W47"] and len(d)==16 and d[-1]=="2026-11-24" and all(x["kind"]=="day" and x["week"] for x in p["days"]) and all(k in p["weeks"][0] for k in ("released_at","coverage_hours","hours_total","complete")) else 1)' "$ans/periods.json"
pass "periods: the released weeks (2026-W46, 2026-W47) and days (16, the last 2026-11-24)"
c=$(status "$ans/blind.json" -H "$AUTH" "$U/api/v1/blind?week=2026-W48")
[ "$c" = 200 ] && $PY -c 'import json,sys; b=json.load(open(sys.argv[1]))["days"]; t=json.load(open(sys.argv[2]))["blind"]
sys.exit(0 if [x["day"] for x in b]==["2026-11-23","2026-11-24"] and all(x[k]==t[x["day"].replace("-","")][k] for x in b for k in t["20261123"]) else 1)' "$ans/blind.json" "$RUN/released.json"
pass "blind?week=2026-W48: the two released days, figures as released"

# --- the other endpoints ---------------------------------------------------------------

c=$(status "$ans/services.json" -H "$AUTH" "$U/api/v1/services")
[ "$c" = 200 ] && $PY -c 'import json,sys; s={x["id"]:x for x in json.load(open(sys.argv[1]))["services"]}
sys.exit(0 if len(s)==5 and s["openai-chatgpt"]["sanctioned"] and not s["deepseek"]["sanctioned"] and s["deepseek"]["vendor"] and not any(k in x for x in s.values() for k in ("devices","connections")) else 1)' "$ans/services.json"
pass "services: the grid's catalog labels with sanctioned flags, no figures"
c=$(status "$ans/departments.json" -H "$AUTH" "$U/api/v1/departments")
[ "$c" = 200 ] && $PY -c 'import json,sys; d=[x["name"] for x in json.load(open(sys.argv[1]))["departments"]]
sys.exit(0 if d==["Finance","Engineering","Sales","Research","unassigned"] else 1)' "$ans/departments.json"
pass "departments: the four configured ones in configuration order and unassigned"
c=$(status "$ans/status.json" -H "$AUTH" "$U/api/v1/status")
[ "$c" = 200 ] && $PY tests/api_check.py status "$ans/status.json" "$RUN/released.json"
pass "GET /api/v1/status ($c)"

# --- metrics ----------------------------------------------------------------------------

c=$(status "$ans/metrics.txt" -D "$tmp/hm" -H "$AUTH" "$U/metrics")
# the released measures keep their names (spec: aicensus_released_<kind>_
# <measure>), so the linter's advice to count device-hours in seconds is
# the one remark allowed
out=$(promtool check metrics <"$ans/metrics.txt" 2>&1 |
	grep -v 'device_hours use base unit "seconds" instead of "hours"')
lines=$(wc -l <"$ans/metrics.txt")
[ "$c" = 200 ] && [ -z "$out" ]
pass "promtool check metrics accepts /metrics ($lines lines)${out:+: $out}"
check "/metrics is text/plain; version=0.0.4" grep -qi '^Content-Type: text/plain; version=0.0.4' "$tmp/hm"
$PY tests/api_check.py metrics "$ans/metrics.txt" "$RUN/released.json" || fails=$((fails + 1))
# around a flush nothing released moves: two scrapes a while apart
# (the daemon flushes on its timer meanwhile) carry the same series
sleep 2
c=$(status "$ans/metrics2.txt" -H "$AUTH" "$U/metrics")
cmp -s <(grep '^aicensus_released_' "$ans/metrics.txt") <(grep '^aicensus_released_' "$ans/metrics2.txt")
pass "two scrapes give the same released series ($(grep -c '^aicensus_released_' "$ans/metrics2.txt") of them)"
# a release (here: a new day written into the release database) is what
# moves them, and the cache notices the file changed
sqlite3 "$REL" "INSERT INTO period VALUES (1, 20261125, 202648, $((mon + 10 * 86400)), 24, 24, 1, $MIN_GROUP);
	INSERT INTO dim SELECT kind, 20261125, axis, ord, name FROM dim WHERE kind = 1 AND period = 20261124;
	INSERT INTO cell (kind, period, dept, svc, devices, devhours, conns, dns, nxdomain)
	VALUES (1, 20261125, '*', 'cat:chat', 4242, 4243, 4244, 4245, 4246);" &&
	$PY -c 'import json, sys
t = json.load(open(sys.argv[1]))
t["days"]["20261125"] = {"*|cat:chat": {"devices": 4242, "devhours": 4243, "conns": 4244, "dns": 4245, "nxdomain": 4246}}
json.dump(t, open(sys.argv[1], "w"))' "$RUN/released.json"
c=$(status "$ans/metrics3.txt" -H "$AUTH" "$U/metrics")
c2=$(status "$ans/periods2.json" -H "$AUTH" "$U/api/v1/periods")
grep -q '^aicensus_released_day_connections{department="\*",service="cat:chat"} 4244$' "$ans/metrics3.txt" &&
	grep -q '"2026-11-25"' "$ans/periods2.json"
pass "a new release shows at once in /metrics and /api/v1/periods (the cache follows the release database)"
$PY tests/api_check.py metrics "$ans/metrics3.txt" "$RUN/released.json" || fails=$((fails + 1))
sqlite3 "$REL" "DELETE FROM cell WHERE period = 20261125; DELETE FROM dim WHERE period = 20261125; DELETE FROM period WHERE period = 20261125;"
$PY -c 'import json, sys
t = json.load(open(sys.argv[1]))
del t["days"]["20261125"]
json.dump(t, open(sys.argv[1], "w"))' "$RUN/released.json"

# A shipping sensor's release database (spec12 D2: its cells are the
# central release's): the data endpoints answer 409 naming the central
# release and the site, /metrics keeps its health and has no released
# series; back to 200 once the file is a local publication again.
sqlite3 "$REL" "INSERT INTO meta VALUES ('published_by', 'central'), ('site', 'north');"
bad=
for p in "/api/v1/usage?week=$WEEK" /api/v1/periods "/api/v1/blind?week=$WEEK" /api/v1/services; do
	c=$(status "$ans/central.json" -H "$AUTH" "$U$p")
	[ "$c" = 409 ] && $PY -c 'import json, sys
e = json.load(open(sys.argv[1]))["error"]
m = "this sensor'"'"'s figures are published in the organisation'"'"'s central release (site north): aicensus report --db \u2026 --site north"
sys.exit(0 if e["status"] == 409 and e["message"] == m else 1)' "$ans/central.json" || bad="$bad $p:$c"
done
[ -z "$bad" ]
pass "a shipping sensor's file: usage, periods, blind, services answer 409 naming the central release and the site${bad:+ (wrong:$bad)}"
c=$(status "$ans/metrics-central.txt" -H "$AUTH" "$U/metrics")
[ "$c" = 200 ] && grep -q '^aicensus_up' "$ans/metrics-central.txt" &&
	! grep -q '^aicensus_released_' "$ans/metrics-central.txt"
pass "... /metrics keeps the health series and has no released series"
sqlite3 "$REL" "DELETE FROM meta WHERE key IN ('published_by', 'site');"
c=$(status "$ans/periods3.json" -H "$AUTH" "$U/api/v1/periods")
[ "$c" = 200 ] && grep -q '"weeks"' "$ans/periods3.json"
pass "... and 200 again without the central facts"

# A real Prometheus scrapes it (bearer token from a file), every second.
mkdir -p "$tmp/prom"
echo "$TOKEN" >"$tmp/prom/token"
cat >"$tmp/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: aicensus
    authorization:
      type: Bearer
      credentials_file: $tmp/prom/token
    static_configs:
      - targets: ['127.0.0.1:8080']
EOF
fixture_bg prometheus --config.file="$tmp/prom/prometheus.yml" \
	--storage.tsdb.path="$tmp/prom/data" --web.listen-address=127.0.0.1:9090 \
	--log.level=warn >"$tmp/prom/log" 2>&1
"$BUILD/aicensus" query --db "$REL" --week "$WEEK" --by department,service --format json >"$tmp/week.json"
pick=$($PY -c 'import json,sys
r=json.load(open(sys.argv[1]))["rows"]
r.sort(key=lambda x: -x["tls_conns"]); print(r[0]["department"], r[0]["service"], r[0]["tls_conns"])' "$tmp/week.json")
read -r pdept psvc pval <<<"$pick"
query="aicensus_released_week_tls_conns{department=\"$pdept\",service=\"$psvc\"}"
got=
for i in $(seq 1 120); do
	in_ns curl -s -G --data-urlencode "query=$query" http://127.0.0.1:9090/api/v1/query \
		>"$tmp/prom/answer.json" 2>/dev/null
	got=$($PY tests/api_check.py prom-value "$tmp/prom/answer.json" 2>/dev/null) && [ -n "$got" ] && break
	sleep 0.5
done
check "Prometheus scraped /metrics with the bearer token: $query = ${got:-nothing} (database: $pval)" \
	[ "$got" = "$pval" ]
in_ns curl -s -G --data-urlencode 'query=up{job="aicensus"}' http://127.0.0.1:9090/api/v1/query >"$tmp/prom/up.json"
check "Prometheus sees the target up" [ "$($PY tests/api_check.py prom-value "$tmp/prom/up.json")" = 1 ]
in_ns curl -s -G --data-urlencode 'query=aicensus_up' http://127.0.0.1:9090/api/v1/query >"$tmp/prom/up2.json"
check "Prometheus has aicensus_up = 1" [ "$($PY tests/api_check.py prom-value "$tmp/prom/up2.json")" = 1 ]

# --- reload: a new token and a new group size, same listener -----------------------------

old=$TOKEN
TOKEN=$(openssl rand -hex 32)
(umask 077 && echo "$TOKEN" >"$RUN/api.token.new" && mv "$RUN/api.token.new" "$RUN/api.token")
# hup: SIGHUP, then wait for the daemon to log one more reload
hup() {
	local before i
	before=$(grep -c 'configuration reloaded' "$RUN/daemon.log")
	kill -HUP "$DPID"
	for i in $(seq 1 100); do
		[ "$(grep -c 'configuration reloaded' "$RUN/daemon.log")" -gt "$before" ] && return 0
		sleep 0.1
	done
	return 1
}
hup
c_old=$(status /dev/null -H "Authorization: Bearer $old" "$U/api/v1/services")
c_new=$(status "$ans/reload.json" -H "Authorization: Bearer $TOKEN" "$U/api/v1/usage?week=$WEEK")
[ "$c_old" = 401 ] && [ "$c_new" = 200 ]
pass "after SIGHUP the old token gets $c_old, the new one $c_new (same listener)"
AUTH="Authorization: Bearer $TOKEN"

# --- privacy: no client address in anything the API said -----------------------------------

for e in "/api/v1/status" "/api/v1/usage?by=department,service,week" "/api/v1/blind" "/"; do
	n=$((n + 1))
	status "$ans/extra-$n.txt" -H "$AUTH" "$U$e" >/dev/null
done
$PY tests/api_check.py addresses "$tmp"/gen*/truth.json -- "$ans"/* || fails=$((fails + 1))
$PY tests/api_check.py addresses "$tmp"/gen*/truth.json -- "$RUN/daemon.log" >/dev/null
pass "the daemon's log names no client address"

# --- HEAD and request bytes that are not UTF-8 (both found by fuzz_api) ----------------------

cat >"$tmp/head.py" <<'EOF'
import socket, sys
host, port, path, auth = "127.0.0.1", 8080, sys.argv[1], sys.argv[2]
def ask(method):
    s = socket.create_connection((host, port))
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n"
              "Connection: close\r\n\r\n".encode())
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            return out
        out += b
head, get = ask("HEAD"), ask("GET")
hh, _, hbody = head.partition(b"\r\n\r\n")
gh, _, gbody = get.partition(b"\r\n\r\n")
clen = [l.split(b":")[1].strip() for l in hh.split(b"\r\n")
        if l.lower().startswith(b"content-length:")]
ok = (hh.split(b" ")[1] == b"200" and hbody == b"" and len(gbody) > 0
      and clen == [str(len(gbody)).encode()])
print(f"HEAD {path}: status {hh.split(b' ')[1].decode()}, Content-Length "
      f"{clen[0].decode() if clen else '-'}, {len(hbody)} body bytes; "
      f"GET body {len(gbody)} bytes")
sys.exit(0 if ok else 1)
EOF
for p in /api/v1/status /index.html; do
	r=$(in_ns $PY "$tmp/head.py" "$p" "$AUTH")
	pass "$r (headers only, the GET's length)"
done
c=$(status "$ans/nonutf8.json" -H "$AUTH" "$U/api/v1/usage?%ff%fe=1&by=%c3")
[ "$c" = 400 ] && json_error "$ans/nonutf8.json" 400
pass "a parameter name that is not UTF-8 gets a JSON 400 ($c), not a 500"

# --- latency (reported, not asserted) ----------------------------------------------------------

# wrk has no rate option: a Lua delay() paces each of 10 connections to
# one request per 10 ms (about 1,000/s).  Answers are cached until the
# database changes; the last run defeats the cache (every request names
# another start second) to show the cost of a fresh query_run.
wstart=$mon
echo 'function delay() return 10 end' >"$tmp/pace.lua"
cat >"$tmp/fresh.lua" <<EOF
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/api/v1/usage?by=department,service,week&from=" .. ($wstart - 86400 * (n % 400)) .. "&to=$WEEK")
end
EOF
path="/api/v1/usage?week=$WEEK&by=department,service"
total=0
declare -A rss
echo "# latency: wrk 4.1 on loopback inside the namespace, 1 thread, 10 keep-alive connections, 10 s each,"
echo "#   GET $path ($(wc -c <"$ans/usage-1.json") bytes of JSON)"
for mode in paced max fresh; do
	case $mode in
	paced) args=(-s "$tmp/pace.lua"); label="paced to ~1,000 requests/s" ;;
	max) args=(); label="unpaced (as fast as it answers)" ;;
	fresh) args=(-s "$tmp/fresh.lua"); label="unpaced, every answer computed afresh (no cache)" ;;
	esac
	in_ns wrk -t1 -c10 -d10s --latency "${args[@]}" -H "$AUTH" "$U$path" >"$tmp/wrk-$mode.txt" 2>&1
	rps=$(awk '/^Requests\/sec/ {print $2}' "$tmp/wrk-$mode.txt")
	pct=$(awk '/Latency Distribution/ {f=1; next} f && /%/ {printf "p%s %s, ", substr($1, 1, length($1) - 1), $2} /requests in/ {f=0}' "$tmp/wrk-$mode.txt")
	avg=$(awk '$1 == "Latency" && NF > 3 {print $2; exit}' "$tmp/wrk-$mode.txt")
	errs=$(grep -E 'Non-2xx|Socket errors' "$tmp/wrk-$mode.txt" | tr -s ' \n' ' ')
	echo "# $label: $rps requests/s; latency mean $avg, ${pct%, }${errs:+; $errs}"
	[ -z "$errs" ] || nok "wrk ($mode) saw errors: $errs"
	reqs=$(awk '/requests in/ {print $1; exit}' "$tmp/wrk-$mode.txt")
	total=$((total + ${reqs:-0}))
	[ -z "$errs" ] && [ "${reqs:-0}" -gt 0 ] && rss[$mode]=$(awk '/^VmRSS/ {print $2}' "/proc/$DPID/status")
done
# The soak: every answer must be a 200 (wrk counts anything else as an
# error, checked above), and the daemon must not grow with the number of
# requests: the cache is a bounded LRU, connections are freed.  The
# paced run warms the cache and allocator; after it, the unpaced runs
# (tens of thousands of requests, thousands of distinct URLs) may move
# RSS by allocator noise only.
grow=$(( ${rss[fresh]:-0} - ${rss[paced]:-0} ))
echo "# soak: $total requests, RSS after the paced run ${rss[paced]:-?} kB, after the others ${rss[fresh]:-?} kB"
[ "$total" -ge 10000 ] || [ -n "$VALGRIND" ] &&
	pass "wrk: $total requests on loopback, all answered 200" ||
	nok "wrk: only $total requests"
case $BUILD${VALGRIND:+ valgrind} in
*san*|*valgrind) echo "# RSS growth not judged under the sanitizers or valgrind (their own bookkeeping grows)";;
*)	[ -n "${rss[paced]}" ] && [ -n "${rss[fresh]}" ] && [ "$grow" -lt 2048 ] &&
		pass "no memory growth under load: RSS ${rss[paced]} -> ${rss[fresh]} kB (+$grow kB < 2 MB)" ||
		nok "RSS grew under load: ${rss[paced]:-?} -> ${rss[fresh]:-?} kB";;
esac
c=$(status /dev/null "$U/healthz")
[ "$c" = 200 ] && kill -0 "$DPID"
pass "the daemon answers after the load ($c) and is still running"

# A clean stop: the final flush, the API freed, nothing for the
# sanitizers or the leak checker to report (BUILD=build-san).
kill -TERM "$DPID"
for i in $(seq 1 100); do
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.1
done
wait "$DPID" 2>/dev/null
rc=$?
grep -q 'stopped; all counts stored' "$RUN/daemon.log" &&
	! grep -qE 'Sanitizer|runtime error|leak' "$RUN/daemon.log"
pass "SIGTERM stops the daemon cleanly (exit $rc), no sanitizer report in its log"

[ $fails -eq 0 ]
