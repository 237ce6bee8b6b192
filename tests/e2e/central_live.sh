#!/bin/bash
# Four sensors, one of them live, feed one central database (issue 12):
# a throwaway PostgreSQL 15 cluster (tests/central_lib.sh) on a Unix
# socket, and
#  - three `aicensusd -r` runs, sites a, b and c, each over its part of
#    one synthesized capture (split by the client's department);
#  - one live sensor, site "live", capturing on a veth pair inside a
#    network namespace made here while tcpreplay sends another
#    synthesized capture into the other end (as tests/e2e/signals.sh
#    does: the stale ECH answer removed), in a time zone whose week does
#    not end during the test (tests/faults_lib.py livetz).  After it
#    stops (SIGTERM) and its outbox drained, the live site's shipped
#    week cells equal the capture's truth per (department, service):
#    the connections, lookups and bytes it was sent;
#  - the sites' raw rows are read as the database's owner BEFORE the
#    release (a release deletes what it published), then `aicensus
#    central release` at min_group_size 1, grace 0, run under libfaketime
#    eight days ahead so that the live sensor's day and week are over
#    too (the release's clock only: nothing else is faked).  Every
#    organisation-wide cell equals the sum of the four sites' cells, no
#    other cell is published, and every period the live site shipped is
#    published.
# If the cluster cannot start that is a failure, never a skip.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CLI=$PWD/$BUILD/aicensus
DAEMON=$PWD/$BUILD/aicensusd
PY=/usr/bin/python3
PPS=${AIC_SIG_PPS:-4000}
NS=aic-clive-$$
PATH=$PATH:/usr/sbin:/sbin
fails=0

. tests/central_lib.sh

[ -x "$DAEMON" ] && [ -x "$CLI" ] || { nok "not built"; exit 1; }
[ "$(id -u)" -eq 0 ] || { nok "needs root (network namespace, capture)"; exit 1; }
for t in ip tcpreplay sqlite3; do
	command -v $t >/dev/null || { nok "$t missing (make test-deps)"; exit 1; }
done
FAKELIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
[ -n "$FAKELIB" ] || { nok "libfaketime is missing (make test-deps)"; exit 1; }

dpid=
pg_test_cluster clive
# pg_test_cluster's trap, and the daemon and the namespace before it
trap 'if [ -n "$dpid" ]; then kill -KILL "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; fi
	pg_stop; ip netns del "$NS" 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$d"' EXIT
trap 'exit 1' INT TERM HUP

central_setup a:PW_A b:PW_B c:PW_C live:PW_L

# --- the namespace: a veth pair and nothing else ---------------------------------

nsx() { ip netns exec "$NS" "$@"; }
ip netns add "$NS" || { nok "cannot create network namespace $NS"; exit 1; }
nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
# MTU 9000: the capture has 1522-byte frames (802.1ad + 802.1Q)
nsx ip link add v0 mtu 9000 type veth peer name v1 mtu 9000 &&
	nsx ip link set v0 up && nsx ip link set v1 up ||
	{ nok "cannot set up veth v0/v1 in $NS"; exit 1; }

# --- the traffic -----------------------------------------------------------------------

$PY tests/synth/synth.py --seed 3 --out "$d/gen" >/dev/null &&
$PY tests/synth/synth.py --seed 1 --out "$d/gen1" >/dev/null ||
	{ nok "synth.py failed"; exit 1; }
cmp -s "$d/gen/aicensus.conf" "$d/gen1/aicensus.conf" && cmp -s "$d/gen/catalog.conf" "$d/gen1/catalog.conf" ||
	{ nok "the two synthesized captures want different configurations"; exit 1; }
# the live site's: the stale ECH answer removed (replayed in seconds it
# would be fresh; tests/faults_lib.py prep)
prep=$($PY tests/faults_lib.py prep "$d/gen1/traffic.pcap" "$d/gen1/truth.json" \
	"$d/live.pcap" "$d/live-b.pcap") || { nok "preparing the replay capture failed"; exit 1; }
read -r removed sendable <<<"$prep"
TZONE=$($PY tests/faults_lib.py livetz)

# Split the seed-3 capture by the department of its client (the model's
# own rule: the department VLAN, else the client address's prefix).
central_split "$d/gen/traffic.pcap" "$d" a=Finance,Engineering b=Sales c='*' ||
	{ nok "split failed"; exit 1; }

# mkrun DIR SITE ROLE PASSWORD: a lab-mode run directory shipping to SITE
mkrun() { central_mkrun -k 1 "$@"; }

# --- three offline sites ------------------------------------------------------------

for s in a b c; do
	mkrun "$d/$s" $s sensor_$s "$(eval echo \$PW_${s^^})"
	(cd "$d/$s" && "$DAEMON" -c aicensus.conf -r "$d/$s.pcap" >run.log 2>&1); rc=$?
	check "site $s: aicensusd -r of its part of the capture ships, exit 0" \
		'[ $rc -eq 0 ] && grep -q "every record shipped" "$d/$s/run.log"' || tail -5 "$d/$s/run.log"
done

# --- the live site ------------------------------------------------------------------

L=$d/live
mkrun "$L" live sensor_live "$PW_L"
sed -i -e 's|flush_interval = [0-9]*;|flush_interval = 2;|' \
	-e "s|timezone = \"UTC\";|timezone = \"$TZONE\";|" "$L/aicensus.conf"
outbox_rows() { sqlite3 "$L/aicensus.db" "SELECT count(*) FROM outbox" 2>/dev/null; }
start() {	# start LOG: the daemon in the namespace, capturing on v1
	local i
	log=$L/$1
	(cd "$L" && exec ip netns exec "$NS" "$DAEMON" -c aicensus.conf -i v1 2>"$log") &
	dpid=$!
	for i in $(seq 100); do
		grep -q 'capturing on v1' "$log" && return 0
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.1
	done
	nok "the live daemon did not start: $(tail -2 "$log")"
	return 1
}
stop() {
	local i
	kill -TERM "$dpid"
	for i in $(seq 300); do
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$dpid" 2>/dev/null && echo "# the live daemon did not stop in 30 s: killed"
	wait "$dpid"
	rc=$?
	dpid=
}
# drained: the outbox empty, the site's cells in the database and
# unchanged over more than a flush interval (flush_interval = 2)
drained() {
	local i now last=none
	for i in $(seq 24); do
		now=$(outbox_rows):$(sql "SELECT count(*) || ':' || coalesce(sum(tls + quic + dns + bytes_up + bytes_down), 0)
		    FROM aicensus.site_cell WHERE site = 'live'")
		[ "$now" = "$last" ] && [ "${now%%:*}" = 0 ] && [ "$(echo "$now" | cut -d: -f2)" -gt 0 ] && return 0
		last=$now
		sleep 2.5
	done
	return 1
}

start live.log || exit 1
nsx tcpreplay -q -i v0 --pps "$PPS" "$d/live.pcap" >"$L/replay.log" 2>&1
n=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$L/replay.log")
check "tcpreplay sends the live site's capture into the namespace ($n of $sendable frames)" \
	'[ "$n" = "$sendable" ]' || tail -3 "$L/replay.log"
sleep 2		# the kernel's last capture block, then a flush or two
waited=$(drained && echo yes)
stop
check "the live sensor ships while it captures, stops on SIGTERM with exit 0, all counts stored" \
	'[ "$waited" = yes ] && [ $rc -eq 0 ] && grep -q "stopped; all counts stored" "$log"' || tail -5 "$log"
left=$(outbox_rows)
if [ "$left" != 0 ]; then
	# what the final flush changed: the next start ships it
	echo "# $left records left in the outbox at the stop: a start to ship them"
	start live2.log && drained
	stop
	left=$(outbox_rows)
fi
check "the live site's outbox is drained (${left:-?} records left)" '[ "$left" = 0 ]'

# The live site's week cells, summed over weeks, against the truth of
# the capture it was sent, per (department, service).
sql "SELECT dept, svc, sum(tls), sum(quic), sum(ech), sum(dns), sum(nxdomain),
    sum(bytes_up), sum(bytes_down) FROM aicensus.site_cell WHERE site = 'live'
    AND kind = 2 AND dept <> '*' AND svc <> '*' AND svc NOT LIKE 'cat:%'
    GROUP BY 1, 2" >"$d/live.ship"
drops=$(sql "SELECT coalesce(sum(value), 0) FROM aicensus.site_blind
    WHERE site = 'live' AND name IN ('pcap_drops', 'if_drops')")
$PY - "$d/gen1/truth.json" "$d/live.ship" "$drops" <<'EOF' || fails=$((fails + 1))
import sys
sys.path.insert(0, "tests")
from faults_lib import truth_sums, events
truth, shipped, drops = sys.argv[1:4]
want = {key: v for key, v in truth_sums(truth).items() if any(v)}
got = {}
for line in open(shipped):
    f = line.rstrip("\n").split("|")
    if len(f) == 9 and any(int(x) for x in f[2:]):
        got[f[0] + "|" + f[1]] = [int(x) for x in f[2:]]
bad = [x for x in sorted(set(want) | set(got)) if want.get(x) != got.get(x)]
n = sum(events(v) for v in want.values())
if bad or int(drops) or not want:
    print(f"not ok - the live site's shipped week cells: {len(bad)} of "
          f"{len(want)} (department, service) pairs differ from what it "
          f"was sent; {drops} packets dropped by the capture")
    for x in bad[:4]:
        print(f"#   {x}: shipped {got.get(x)} sent {want.get(x)}")
    sys.exit(1)
print(f"ok - the live site's shipped week cells equal what it was sent: "
      f"{len(want)} (department, service) pairs, {n} connections+lookups "
      f"(TLS, QUIC, ECH, DNS, NXDOMAIN, bytes up and down)")
EOF
# its periods: the current week (the zone keeps it one), today's day (or
# two days, should the zone's midnight fall into the test)
lwk=$(sql "SELECT string_agg(DISTINCT period::text, ' ') FROM aicensus.site_cell WHERE site = 'live' AND kind = 2")
lds=$(sql "SELECT string_agg(DISTINCT period::text, ' ') FROM aicensus.site_cell WHERE site = 'live' AND kind = 1")
check "the live site shipped the current week ($lwk) and its days ($lds)" \
	'[ "$lwk" = "$(TZ=$TZONE date +%G%V)" ] && [[ " $lds " == *" $(TZ=$TZONE date +%Y%m%d) "* ]]'

# --- the release: k = 1 -----------------------------------------------------------------

ns=$(sql "SELECT string_agg(DISTINCT site, ' ' ORDER BY site) FROM aicensus.site_cell")
check "the four sites shipped cells ($ns)" '[ "$ns" = "a b c live" ]'
# the sites' raw rows, read before the release (it deletes what it published)
sql "SELECT kind, period, dept, svc, sum(devices), sum(device_hours), sum(tls),
    sum(quic), sum(ech), sum(conns), sum(dns), sum(nxdomain), sum(bytes_up),
    sum(bytes_down) FROM aicensus.site_cell GROUP BY 1, 2, 3, 4
    HAVING sum(devices + device_hours + tls + quic + ech + conns + dns + nxdomain + bytes_up + bytes_down) > 0
    ORDER BY kind, period, dept COLLATE \"C\", svc COLLATE \"C\"" >"$d/sum.txt"
sql "SELECT DISTINCT kind || ':' || period FROM aicensus.site_cell ORDER BY 1" >"$d/periods.txt"
sed -e 's|min_group_size = [0-9]*;|min_group_size = 1;|' \
    -e "s|catalog = \"catalog.conf\"|catalog = \"$d/gen/catalog.conf\"|" \
    "$d/gen/aicensus.conf" >"$d/org1.conf"
# eight days ahead, the release's clock only: the live week is over
(LD_PRELOAD=$FAKELIB FAKETIME=+8d ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	exec "$CLI" central release --db "$ADMIN" -c "$d/org1.conf" --grace-hours 0) >"$d/rel.out" 2>"$d/rel.err"; rc=$?
check "central release (k = 1, grace 0, eight days on) exits 0 and leaves nothing waiting ($(head -1 "$d/rel.out"))" \
	'[ $rc -eq 0 ] && grep -q "published; 0 periods within" "$d/rel.out"' || cat "$d/rel.out" "$d/rel.err"
# the organisation's scope: site '*' once the release tables carry sites
scope=
[ "$(sql "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'aicensus'
    AND table_name = 'cell' AND column_name = 'site'")" = 1 ] && scope="AND site = '*'"
sql "SELECT kind, period, dept, svc, coalesce(devices, 0), coalesce(devhours, 0),
    coalesce(tls, 0), coalesce(quic, 0), coalesce(ech, 0), coalesce(conns, 0),
    coalesce(dns, 0), coalesce(nxdomain, 0), coalesce(bytes_up, 0), coalesce(bytes_down, 0)
    FROM aicensus.cell WHERE true $scope
    ORDER BY kind, period, dept COLLATE \"C\", svc COLLATE \"C\"" >"$d/cell1.txt"
check "every organisation-wide cell equals the sum of the four sites' cells ($(wc -l <"$d/cell1.txt") cells), no other cell" \
	'[ "$(wc -l <"$d/sum.txt")" -gt 50 ] && cmp -s "$d/sum.txt" "$d/cell1.txt"' ||
	diff "$d/sum.txt" "$d/cell1.txt" | head -5
lc=$(awk -F'|' -v w="$lwk" -v ds=" $lds " '($1 == 2 && $2 == w) || ($1 == 1 && index(ds, " " $2 " "))' "$d/cell1.txt" | wc -l)
pub=$(sql "SELECT DISTINCT kind || ':' || period FROM aicensus.period WHERE true $scope ORDER BY 1")
check "every period the sites shipped is published, the live site's days and week among them ($lc of their cells)" \
	'[ "$pub" = "$(cat "$d/periods.txt")" ] && [ "${lc:-0}" -gt 10 ]' ||
	diff <(echo "$pub") "$d/periods.txt" | head -5

leak=0
grep -rqF -e "$PW_A" -e "$PW_B" -e "$PW_C" -e "$PW_L" -e "$PW_ADMIN" "$d"/*/*.log "$d/rel.out" "$d/rel.err" && leak=1
check "no password in any log line or message" '[ $leak = 0 ]'

check "no sanitizer report in any log" \
	'! grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$d"/*/*.log "$d/rel.err"'

[ $fails -eq 0 ]
