#!/bin/bash
# A sensor ships its site's cells into the central database (issue 12):
# a throwaway PostgreSQL 15 cluster (tests/central_lib.sh), `aicensus
# central init` and add-site, then aicensusd -r of synthesized traffic
# in lab mode (min_group_size = 1) with a central group:
#  - every day and week cell the site shipped equals the cell the same
#    capture released by a sensor without a central group (raw =
#    released at k = 1), and nothing else was shipped; coverage and day
#    blind figures equal the shipping run's local ones; the outbox is
#    empty;
#  - one publication per figure (spec12 D2): the shipping sensor's own
#    release database has its periods and blind figures but no cell and
#    no grid axis, says published_by = central and its site, and
#    `aicensus query|report` on it exit 1 naming the central release and
#    the site; the sensor without a central group publishes its cells as
#    before; periods a file published before the central group was set
#    stay as they were;
#  - PostgreSQL down for the whole run: the run finishes (exit 0) with
#    one log line saying the database is unreachable, the outbox holds
#    the cells (sealed: no department name in the file); once it is back
#    a run with an empty capture drains the outbox: the cells equal the
#    released ones (0 lost); the full run again changes nothing (0
#    counted twice: every value replaces itself);
#  - PostgreSQL stopped in the middle of a run (the capture fed through
#    a FIFO: half, a pause until cells arrive, stop, the rest): the run
#    finishes, the outbox holds the rest, and after the restart the
#    site's cells equal the released ones;
#  - the sensor SIGKILLed while shipping, then the capture run again:
#    the site's cells equal the released ones;
#  - the same site live (network namespace, API on 127.0.0.1) over that
#    outbox: /api/v1/status and /metrics show the rows waiting and the
#    link unreachable, then, PostgreSQL back, 0 waiting and the link ok;
#  - a wrong password: one log line naming the refused password, the run
#    finishes, the outbox holds; after the fix it drains, cells equal;
#  - no password (right or wrong) in any log line.
# If the cluster cannot start that is a failure, never a skip.
# test: alone (a quiet site's last_seen must move within 2.5 s: timing)
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CLI=$PWD/$BUILD/aicensus
DAEMON=$PWD/$BUILD/aicensusd
PY=/usr/bin/python3
fails=0

. tests/central_lib.sh

[ -x "$DAEMON" ] && [ -x "$CLI" ] || { nok "not built"; exit 1; }
pg_test_cluster ship
pg_restart() {
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 60 \
		-l "$PG_DIR/server.log" start >/dev/null 2>&1
}

central_setup north:PW_N south:PW_S west:PW_W mid:PW_M kill:PW_K live:PW_L
PW_WRONG=$(pg_password)

$PY tests/synth/synth.py --seed 3 --out "$d/gen" >/dev/null ||
	{ nok "synth.py failed"; exit 1; }
# An empty capture: a pcap header and no packet.
$PY -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))' >"$d/empty.pcap"

# mkrun DIR SITE ROLE PASSWORD: a run directory whose configuration
# ships to SITE as ROLE, the password in a 0600 file, the capture and
# the empty capture beside it.
mkrun() { central_mkrun -k 1 -x "outbox_max_mb = 64;" -f "$d/gen/traffic.pcap" -f "$d/empty.pcap" "$@"; }
# run DIR PCAP [--replace]: aicensusd -r; its status in $rc, its log in
# DIR/PCAP.log.  A capture read into the release database before is
# refused without --replace (store/imports.h).
run() { (cd "$1" && "$DAEMON" -c aicensus.conf -r "$2" ${3:+"$3"} >"$2.log" 2>&1); rc=$?; }
conn() { echo "dbname=central user=aicadmin password=$PW_ADMIN"; }
# The site's shipped cells / the released ones, as the same text.
shipped() {
	pg_sql "$(conn)" "SELECT kind, period, dept, svc, devices, device_hours,
	    tls, quic, ech, conns, dns, nxdomain, bytes_up, bytes_down
	    FROM aicensus.site_cell WHERE site = '$1'
	    ORDER BY kind, period, dept COLLATE \"C\", svc COLLATE \"C\""
}
released() {
	sqlite3 -separator '|' "$1/released.db" "SELECT kind, period, dept, svc,
	    coalesce(devices, 0), coalesce(devhours, 0), coalesce(tls, 0),
	    coalesce(quic, 0), coalesce(ech, 0), coalesce(conns, 0),
	    coalesce(dns, 0), coalesce(nxdomain, 0), coalesce(bytes_up, 0),
	    coalesce(bytes_down, 0) FROM cell ORDER BY kind, period, dept, svc"
}
outbox_rows() { sqlite3 "$1/aicensus.db" "SELECT count(*) FROM outbox" 2>/dev/null; }

# --- shipping what the run releases --------------------------------------

# The same capture by a sensor without a central group: the reference
# (its cells at k = 1 are the true ones).
ref=$d/ref
mkrun "$ref" north sensor_north "$PW_N"
sed -i '/^  central = {/d' "$ref/aicensus.conf"
run "$ref" traffic.pcap
check "aicensusd -r without a central group exits 0" [ $rc -eq 0 ] ||
	tail -5 "$ref/traffic.pcap.log"

n=$d/north
mkrun "$n" north sensor_north "$PW_N"
run "$n" traffic.pcap
check "aicensusd -r with a central group exits 0" [ $rc -eq 0 ] ||
	tail -5 "$n/traffic.pcap.log"
shipped north >"$d/north.ship"
released "$ref" >"$d/north.rel"
nw=$(grep -c '^2|' "$d/north.rel")
nd=$(grep -c '^1|' "$d/north.rel")
check "the site's $nw week and $nd day cells equal the cells the same capture released at k = 1 without a central group, and nothing else was shipped" \
	'[ "$nw" -gt 20 ] && [ "$nd" -gt 20 ] && cmp -s "$d/north.ship" "$d/north.rel"' ||
	diff "$d/north.ship" "$d/north.rel" | head -5
cov_s=$(pg_sql "$(conn)" "SELECT string_agg(kind || ':' || period || ':' || coverage_hours || ':' || hours_total, ' ' ORDER BY kind, period) FROM aicensus.site_period WHERE site = 'north'")
cov_r=$(sqlite3 "$n/released.db" "SELECT group_concat(x, ' ') FROM (SELECT kind || ':' || period || ':' || coverage_hours || ':' || hours_total AS x FROM period ORDER BY kind, period)")
check "the site's period coverage equals the released periods'" '[ -n "$cov_s" ] && [ "$cov_s" = "$cov_r" ]' ||
	echo "# shipped $cov_s / released $cov_r"
bl_s=$(pg_sql "$(conn)" "SELECT string_agg(day || ':' || name || ':' || value, ' ' ORDER BY day, name COLLATE \"C\") FROM aicensus.site_blind WHERE site = 'north' AND value > 0")
bl_r=$(sqlite3 "$n/released.db" "SELECT group_concat(x, ' ') FROM (SELECT day || ':' || name || ':' || value AS x FROM blind WHERE value > 0 ORDER BY day, name)")
check "the site's day blind-spot figures equal the released ones" '[ -n "$bl_s" ] && [ "$bl_s" = "$bl_r" ]' ||
	echo "# shipped $bl_s / released $bl_r"
check "the outbox is empty after the run (every row acknowledged)" [ "$(outbox_rows "$n")" = 0 ]

# --- one publication per figure -----------------------------------------

cnt() { sqlite3 "$1/released.db" "SELECT count(*) FROM $2"; }
meta() { sqlite3 "$1/released.db" "SELECT value FROM meta WHERE key = '$2'"; }
np=$(cnt "$n" period) nb=$(cnt "$n" "blind WHERE value > 0")
check "the shipping sensor's release database has its $np periods and $nb non-zero blind figures, the reference's" \
	'[ "$np" -ge 2 ] && [ "$nb" -gt 0 ] && [ "$np" = "$(cnt "$ref" period)" ] &&
	[ "$nb" = "$(cnt "$ref" "blind WHERE value > 0")" ]'
check "... and no cell, no grid axis, no service (the reference: $(cnt "$ref" cell) cells)" \
	[ "$(cnt "$n" cell)" = 0 ] && [ "$(cnt "$n" dim)" = 0 ] &&
	[ "$(cnt "$n" service)" = 0 ] && [ "$(cnt "$ref" cell)" -gt 40 ]
check "... its meta says published_by = central, site = north; the reference's says neither" \
	'[ "$(meta "$n" published_by)" = central ] && [ "$(meta "$n" site)" = north ] &&
	[ -z "$(meta "$ref" published_by)" ] && [ -z "$(meta "$ref" site)" ]'
WK=$(sqlite3 "$n/released.db" "SELECT period FROM period WHERE kind = 2 LIMIT 1")
WK=${WK:0:4}-W${WK:4:2}
MSG="this sensor's figures are published in the organisation's central release (site north): aicensus report --db"
for cmd in "query --by department,service" "report --format md"; do
	out=$("$CLI" $cmd --db "$n/released.db" --week "$WK" 2>"$d/err"); rc=$?
	check "aicensus ${cmd%% *} on the shipping sensor's file: exit 1, no figure, the central release and the site named" \
		'[ $rc = 1 ] && [ -z "$out" ] && grep -qF "aicensus ${cmd%% *}: $MSG" "$d/err" &&
		grep -qF -- "--site north" "$d/err" || { echo "# rc $rc: $(cat "$d/err")"; }'
	"$CLI" $cmd --db "$ref/released.db" --week "$WK" >"$d/out" 2>"$d/err"; rc=$?
	check "aicensus ${cmd%% *} on the reference's file: exit 0 with figures" \
		'[ $rc = 0 ] && [ -s "$d/out" ] && ! grep -q central "$d/err"'
done

# A file whose periods were published before the central group was set:
# run again with one, the same capture (--replace: it was imported
# there); nothing of it changes.
o=$d/old
mkrun "$o" north sensor_north "$PW_N"
cp "$ref/released.db" "$o/released.db"
before=$(sqlite3 "$o/released.db" .dump | md5sum)
run "$o" traffic.pcap --replace
check "periods published before the central group was set stay as they were (the file is unchanged)" \
	'[ $rc -eq 0 ] && [ "$(sqlite3 "$o/released.db" .dump | md5sum)" = "$before" ]'
out=$("$CLI" query --db "$o/released.db" --week "$WK" 2>/dev/null); rc=$?
check "... and read as before" '[ $rc = 0 ] && [ -n "$out" ]'
seen=$(pg_sql "$(conn)" "SELECT last_seen IS NOT NULL FROM aicensus.site WHERE name = 'north'")
check "the site's last_seen is set" [ "$seen" = t ]

# --- PostgreSQL down ------------------------------------------------------

s=$d/south
mkrun "$s" south sensor_south "$PW_S"
pg_stop
run "$s" traffic.pcap
down=$(grep -c 'central .*unreachable' "$s/traffic.pcap.log")
check "PostgreSQL down: the run finishes (exit 0) with one 'unreachable' line" \
	'[ $rc -eq 0 ] && [ "$down" = 1 ] || { echo "# rc $rc, $down lines"; tail -5 "$s/traffic.pcap.log"; }'
held=$(outbox_rows "$s")
check "... the outbox holds the site's records ($held)" [ "${held:-0}" -gt "$nw" ]
clear() { grep -aq -e Finance -e Engineering -e openai "$@"; }
check "... sealed: no department or service name in the file" \
	'[ -s "$s/aicensus.db" ] && ! clear "$s"/aicensus.db*'

# --- the shipping in the API status and /metrics ---------------------------
# The same site LIVE (on lo, in a network namespace of its own, the API
# on 127.0.0.1:8080 there) over a copy of the file the -r run left its
# outbox in (a live vault is refused by -r afterwards), PostgreSQL still
# down: the status shows the link unreachable; PostgreSQL back: the link
# ok and a last contact.  States only: no connection string, host or
# password, and no figure that moves with use (rows waiting or shipped),
# which the attacker below would read AI use off.

NS=aic-ship-$$
LPID=
trap 'if [ -n "$LPID" ]; then kill $LPID 2>/dev/null; wait $LPID 2>/dev/null; fi; ip netns del $NS 2>/dev/null; pg_stop; [ -n "$KEEP" ] || rm -rf "$d"' EXIT
l=$d/southlive
mkdir -p "$l" && chmod 700 "$l"
cp -a "$s/aicensus.db" "$s/state" "$s/catalog.conf" "$l/"
# as a site of its own: the AI use replayed below must not reach south's
# cells, which the runs after this compare with north's
(umask 077 && printf '%s\n' "$PW_L" >"$l/central.pass")
TOKEN=$(openssl rand -hex 32)
(umask 077 && echo "$TOKEN" >"$l/api.token")
sed -e "s|^aicensus: {|aicensus: {\n  api = { listen = \"127.0.0.1:8080\"; token_file = \"api.token\"; };|" \
    -e 's|flush_interval = [0-9]*;|flush_interval = 1;|' -e 's|user=sensor_south|user=sensor_live|' \
    -e 's|site = "south"|site = "live"|' "$s/aicensus.conf" >"$l/live.conf"
# api_get PATH: the body, with the token, from inside the namespace
api_get() { ip netns exec "$NS" curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:8080$1"; }
# central FIELD: the field of the status's "central" object
central() { api_get /api/v1/status | $PY -c 'import json,sys; c=json.load(sys.stdin)["central"]; print(c[sys.argv[1]] if c else "none")' "$1" 2>/dev/null; }
# until SECONDS LINK: poll the status until the link is LINK
until_link() {
	local i
	for i in $(seq 1 $(($1 * 5))); do
		[ "$(central link)" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}
metric() { api_get /metrics | awk -v m="$1" '$1 == m { print $2 }'; }
# scrape: what a reader of the status and /metrics learns of the shipping
scrape() {
	{ api_get /api/v1/status | $PY -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["central"], sort_keys=True))'
	  api_get /metrics | grep '^aicensus_central_'; } 2>/dev/null
}
waiting0=$(outbox_rows "$s")
if ip netns add "$NS" && ip -n "$NS" link set lo up; then
	(cd "$l" && exec ip netns exec "$NS" "$DAEMON" -c live.conf -i lo >live.log 2>&1) &
	LPID=$!
	until_link 20 unreachable
	check "live, PostgreSQL down: /api/v1/status says central link unreachable, no contact yet, the outbox under a tenth full, no incident" \
		'[ "$(central link)" = unreachable ] && [ "$(central last_contact)" = None ] &&
		[ "$(central outbox_fill_percent)" = 0 ] && [ "$(central outbox_full_incidents)" = 0 ]' ||
		{ api_get /api/v1/status; tail -5 "$l/live.log"; }
	cond_down() {
		[ "$(metric 'aicensus_central_link{state="unreachable"}')" = 1 ] &&
		[ "$(metric 'aicensus_central_link{state="ok"}')" = 0 ] &&
		[ "$(metric aicensus_central_last_contact_timestamp_seconds)" = 0 ] &&
		[ "$(metric aicensus_central_outbox_fill_percent)" = 0 ]
	}
	check "... /metrics: aicensus_central_link{state=\"unreachable\"} 1, {state=\"ok\"} 0, last contact 0, fill 0 %" cond_down ||
		api_get /metrics | grep central
	clean() { ! { api_get /api/v1/status; api_get /metrics; } | grep -qF -e "$PGHOST" -e sensor_live -e "$PW_L"; }
	check "... no connection string, socket path or password in the status or /metrics" clean
	# The attacker: scrape the status and /metrics around every flush
	# (1 s here) while the site is quiet, then while the capture's AI
	# use is replayed onto the sensor's interface, and tell the two
	# apart.  The outbox really grows meanwhile (the file says so), but
	# nothing scraped may move with it.
	for i in 0 1 2 3 4 5 6; do scrape >"$l/quiet.$i"; sleep 0.5; done
	ip netns exec "$NS" tcpreplay -q -i lo --mbps 20 "$d/gen/traffic.pcap" >"$l/replay.log" 2>&1 &
	rp=$!
	for i in 1 2 3 4 5 6 7 8 9 10; do scrape >"$l/busy.$i"; sleep 0.5; done
	wait $rp
	sleep 2.5
	scrape >"$l/busy.11"
	grown=$(outbox_rows "$l")
	distinct=$(cat "$l"/quiet.* "$l"/busy.* | sort | uniq | wc -l)
	lines=$(wc -l <"$l/quiet.0")
	check "attack, scraping status and /metrics every half second: the outbox grew from $waiting0 to $grown records with the replayed AI use, yet all 18 scrapes are the same $lines lines (quiet and busy cannot be told apart)" \
		'[ "$grown" -gt "$waiting0" ] && [ "$lines" -ge 5 ] && [ "$distinct" = "$lines" ]' ||
		{ cat "$l/replay.log"; diff "$l/quiet.0" "$l/busy.11" | head; }
	check "... and no shipping figure counts rows, bytes or pushes" \
		'[ -s "$l/quiet.0" ] && ! grep -qiE "rows|bytes|shipped|waiting|push" "$l/quiet.0"'
	pg_restart || nok "PostgreSQL restarts"
	# the shipper's back-off after a few seconds down is at most 16 s
	until_link 60 ok
	for i in $(seq 150); do [ "$(outbox_rows "$l")" = 0 ] && break; sleep 0.2; done
	check "PostgreSQL back: the link ok, a last contact on a whole minute, the outbox drained ($(outbox_rows "$l") left)" \
		'[ "$(central link)" = ok ] && [ "$(central last_contact)" -gt 0 ] &&
		[ $(( $(central last_contact) % 60 )) = 0 ] && [ "$(outbox_rows "$l")" = 0 ]' ||
		{ api_get /api/v1/status; tail -5 "$l/live.log"; }
	cond_up() {
		[ "$(metric 'aicensus_central_link{state="ok"}')" = 1 ] &&
		[ "$(metric 'aicensus_central_link{state="unreachable"}')" = 0 ] &&
		[ "$(metric aicensus_central_last_contact_timestamp_seconds)" -gt 0 ]
	}
	check "... /metrics: aicensus_central_link{state=\"ok\"} 1, a last contact" cond_up ||
		api_get /metrics | grep central
	# a quiet site is still seen: a round every flush, rows or not
	seen() { pg_sql "$(conn)" "SELECT (extract(epoch FROM last_seen) * 1000)::bigint FROM aicensus.site WHERE name = 'live'"; }
	seen1=$(seen); sleep 2.5; seen2=$(seen)
	check "... with nothing to ship, every flush still contacts the database (last_seen moved by $(( ${seen2:-0} - ${seen1:-0} )) ms): when a site is seen does not follow use" \
		'[ "$(outbox_rows "$l")" = 0 ] && [ -n "$seen1" ] && [ "$seen2" -gt "$seen1" ]'
	kill $LPID; wait $LPID; lrc=$?; LPID=
	check "the live sensor stops cleanly (exit $lrc)" [ $lrc = 0 ]
else
	nok "a network namespace for the live sensor"
	pg_restart || nok "PostgreSQL restarts"
fi
ip netns del $NS 2>/dev/null
run "$s" empty.pcap
shipped south >"$d/south.ship"
check "back up: a run with an empty capture drains the outbox ($(outbox_rows "$s") left) and the site's cells equal the released ones (0 lost)" \
	'[ $rc -eq 0 ] && [ "$(outbox_rows "$s")" = 0 ] && cmp -s "$d/south.ship" "$d/north.rel"' ||
	diff "$d/south.ship" "$d/north.rel" | head -5
run "$s" traffic.pcap --replace
shipped south >"$d/south2.ship"
check "the same capture shipped again (--replace) changes nothing (0 counted twice)" \
	'[ $rc -eq 0 ] && cmp -s "$d/south2.ship" "$d/north.rel"'

# feed DIR: DIR/live.pcap (a FIFO) gets the first half of the capture,
# then the rest once DIR/go exists.
feed() {
	mkfifo "$1/live.pcap"
	$PY - "$1/traffic.pcap" "$1/live.pcap" "$1/go" <<'PYEOF' &
import os, struct, sys, time
src, fifo, go = sys.argv[1:4]
data = open(src, "rb").read()
off, cuts = 24, []
while off + 16 <= len(data):
    cuts.append(off)
    off += 16 + struct.unpack("<I", data[off + 8:off + 12])[0]
half = cuts[len(cuts) // 2]
try:
    with open(fifo, "wb") as f:
        f.write(data[:half])
        f.flush()
        while not os.path.exists(go):
            time.sleep(0.05)
        f.write(data[half:])
except BrokenPipeError:
    pass
PYEOF
}
# arrived SITE: poll until the site has cells (at most 20 s).
arrived() {
	local i part=0
	for i in $(seq 1 100); do
		part=$(pg_sql "$(conn)" "SELECT count(*) FROM aicensus.site_cell WHERE site = '$1'" 2>/dev/null)
		[ "${part:-0}" -gt 0 ] && break
		sleep 0.2
	done
	echo "${part:-0}"
}

# --- PostgreSQL stopped in the middle of a run --------------------------------
# The capture comes through a FIFO: its first half, a pause while the
# sensor ships, PostgreSQL stopped, then the rest.

m=$d/mid
mkrun "$m" mid sensor_mid "$PW_M"
feed "$m"
writer=$!
(cd "$m" && exec "$DAEMON" -c aicensus.conf -r live.pcap >live.pcap.log 2>&1) &
daemon=$!
part=$(arrived mid)
pg_stop
touch "$m/go"
wait $daemon; rc=$?
wait $writer
down=$(grep -c 'central .*unreachable' "$m/live.pcap.log")
check "stopped mid-run (after $part cells had arrived): the run finishes (exit 0), one 'unreachable' line, the outbox holds the rest" \
	'[ "${part:-0}" -gt 0 ] && [ $rc -eq 0 ] && [ "$down" = 1 ] && [ "$(outbox_rows "$m")" -gt 0 ]' ||
	{ echo "# rc $rc, $down lines"; grep central "$m/live.pcap.log"; }
pg_restart || nok "PostgreSQL restarts"
run "$m" empty.pcap
shipped mid >"$d/mid.ship"
check "restarted: the outbox drains; the site's cells equal the released ones (0 lost, 0 counted twice)" \
	'[ $rc -eq 0 ] && [ "$(outbox_rows "$m")" = 0 ] && cmp -s "$d/mid.ship" "$d/north.rel"' ||
	diff "$d/mid.ship" "$d/north.rel" | head -5

# --- the sensor SIGKILLed while it ships ------------------------------------
# Half the capture, SIGKILL once cells arrive (a batch may be committed
# and not yet acknowledged), then the whole capture again: the site's
# cells equal the released ones, whatever the killed run left behind.

k=$d/kill
mkrun "$k" kill sensor_kill "$PW_K"
feed "$k"
writer=$!
(cd "$k" && exec "$DAEMON" -c aicensus.conf -r live.pcap >live.pcap.log 2>&1) &
daemon=$!
part=$(arrived kill)
kill -KILL $daemon; wait $daemon 2>/dev/null
touch "$k/go"; kill $writer 2>/dev/null; wait $writer 2>/dev/null
left=$(outbox_rows "$k")
run "$k" traffic.pcap
shipped kill >"$d/kill.ship"
check "SIGKILLed after $part cells arrived (${left:-0} rows left in its outbox), the capture again: the site's cells equal the released ones (0 lost, 0 counted twice)" \
	'[ "$part" -gt 0 ] && [ $rc -eq 0 ] && [ "$(outbox_rows "$k")" = 0 ] && cmp -s "$d/kill.ship" "$d/north.rel"' ||
	diff "$d/kill.ship" "$d/north.rel" | head -5

# --- a wrong password -------------------------------------------------------

w=$d/west
mkrun "$w" west sensor_west "$PW_WRONG"
run "$w" traffic.pcap
refused=$(grep -c 'central .*password' "$w/traffic.pcap.log")
check "wrong password: the run finishes (exit 0) with one line saying the password is refused" \
	'[ $rc -eq 0 ] && [ "$refused" = 1 ] || { echo "# rc $rc"; grep central "$w/traffic.pcap.log"; }'
check "... the outbox holds the cells" [ "$(outbox_rows "$w")" -gt "$nw" ]
printf '%s\n' "$PW_W" >"$w/central.pass"
run "$w" empty.pcap
shipped west >"$d/west.ship"
check "after the fix the outbox drains and the site's cells equal the released ones" \
	'[ $rc -eq 0 ] && [ "$(outbox_rows "$w")" = 0 ] && cmp -s "$d/west.ship" "$d/north.rel"'

# --- the password file's checks -------------------------------------------

c=$d/cfg
mkrun "$c" north sensor_north "$PW_N"
line=$(grep -n 'central = {' "$c/aicensus.conf" | cut -d: -f1)
chmod 644 "$c/central.pass"
e=$(cd "$c" && "$DAEMON" -n -c aicensus.conf 2>&1); rc=$?
check "a password file of mode 0644 is refused at file:line, naming the fix" \
	'[ $rc -ne 0 ] && [[ $e == *"aicensus.conf:$line:"*"mode 0644"*"chmod 600"* ]] || echo "# $e"'
chmod 600 "$c/central.pass"
chown nobody "$c/central.pass"
e=$(cd "$c" && "$DAEMON" -n -c aicensus.conf 2>&1); rc=$?
cond390() {
	[ $rc -ne 0 ] && [[ $e == *"aicensus.conf:$line:"*"not by the daemon's user"* ]] || echo "# $e"
}
check "a password file not owned by the daemon's user is refused at file:line" cond390
chown root "$c/central.pass"
e=$(cd "$c" && "$DAEMON" -n -v -c aicensus.conf 2>&1); rc=$?
cond394() {
	[ $rc -eq 0 ] && [[ $e == *'site = "north"'* ]] && [[ $e == *password_file* ]] &&
	[[ $e != *"$PW_N"* ]] || echo "# $e" | head -3
}
check "-nv prints the central group (site, password_file) and not the password" cond394
sed -i "s|user=sensor_north\"|user=sensor_north password=$PW_N\"|" "$c/aicensus.conf"
e=$(cd "$c" && "$DAEMON" -n -c aicensus.conf 2>&1); rc=$?
check "a password in conninfo is refused (it belongs in password_file), and not echoed" \
	'[ $rc -ne 0 ] && [[ $e == *"central.conninfo holds a password"* ]] && [[ $e != *"$PW_N"* ]] || echo "# $e"'

# A file holding sealed weeks is a live sensor's vault: -r must not ship
# from it (its values would replace that sensor's).
cp "$n/aicensus.db" "$c/aicensus.db"
sqlite3 "$c/aicensus.db" "INSERT INTO delta(week, seq, blob) VALUES(202647, 1, x'00')"
sed -i "s| password=$PW_N||" "$c/aicensus.conf"
run "$c" empty.pcap
cond408() {
	[ $rc -ne 0 ] && grep -q "holds a running sensor's vault" "$c/empty.pcap.log"
}
check "aicensusd -r refuses to keep its outbox in a live sensor's vault" cond408

# --- no secret in any log -----------------------------------------------------

leak=0
for p in "$PW_N" "$PW_S" "$PW_W" "$PW_M" "$PW_K" "$PW_WRONG"; do
	grep -rqF -- "$p" "$n"/*.log "$s"/*.log "$l"/*.log "$w"/*.log "$m"/*.log "$k"/*.log && leak=1
done
check "no password, right or wrong, in any log line" [ $leak = 0 ]

[ $fails -eq 0 ]
