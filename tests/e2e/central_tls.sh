#!/bin/bash
# A live sensor and the central database over TLS (issue 12): a
# throwaway PostgreSQL 15 cluster (tests/central_lib.sh) with ssl = on on
# 127.0.0.1, a free port picked at random, both inside a network
# namespace made here; the server's certificate (for
# central.example.org only) is signed by a CA made here with openssl.
# aicensusd captures on a veth pair of that namespace while tcpreplay
# sends synthesized traffic into the other end, and ships with
# sslmode=verify-full:
#  - the wrong CA (sslrootcert = another CA made here): one log line
#    naming the certificate problem, no password in it; capture goes on
#    (the traffic of that run is counted), the outbox holds;
#  - the right CA but host=127.0.0.1, a name the certificate does not
#    carry: the same, one line naming the host name mismatch;
#  - central settings are not reloadable (SIGHUP), so the fix is a
#    restart: host=central.example.org hostaddr=127.0.0.1 with the right
#    CA.  The outbox drains; the site's shipped figures equal twice the
#    truth of the capture (two replays, one in each broken run): 0 lost,
#    0 counted twice.  The server saw TLS connections only.
# If the cluster cannot start that is a failure, never a skip.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CLI=$PWD/$BUILD/aicensus
DAEMON=$PWD/$BUILD/aicensusd
PY=/usr/bin/python3
PPS=${AIC_SIG_PPS:-4000}
NS=aic-ctls-$$
PATH=$PATH:/usr/sbin:/sbin
fails=0

. tests/central_lib.sh

[ -x "$DAEMON" ] && [ -x "$CLI" ] || { nok "not built"; exit 1; }
[ "$(id -u)" -eq 0 ] || { nok "needs root (network namespace, capture)"; exit 1; }
for t in ip tcpreplay openssl sqlite3; do
	command -v $t >/dev/null || { nok "$t missing (make test-deps)"; exit 1; }
done

d=$(mktemp -d /tmp/aic-ctls.XXXXXX) || { nok "cannot make a temporary directory"; exit 1; }
dpid=
rpid=
cleanup() {
	[ -n "$rpid" ] && kill -KILL "$rpid" 2>/dev/null
	[ -n "$dpid" ] && kill -KILL "$dpid" 2>/dev/null
	wait 2>/dev/null
	pg_stop
	ip netns del "$NS" 2>/dev/null
	[ -n "$KEEP" ] || rm -rf "$d"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- the namespace: lo for the server, a veth pair for the traffic -----------

nsx() { ip netns exec "$NS" "$@"; }
ip netns add "$NS" || { nok "cannot create network namespace $NS"; exit 1; }
nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
# MTU 9000: the capture has 1522-byte frames (802.1ad + 802.1Q)
nsx ip link set lo up && nsx ip link add v0 mtu 9000 type veth peer name v1 mtu 9000 &&
	nsx ip link set v0 up && nsx ip link set v1 up ||
	{ nok "cannot set up lo and veth v0/v1 in $NS"; exit 1; }

# --- certificates: two CAs, a server certificate from the first --------------

mkca() {	# mkca NAME
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/$1.key" -out "$d/$1.crt" -days 2 -subj "/CN=aicensus test $1" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign
}
{
	mkca ca1 && mkca ca2 &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/server.key" -out "$d/server.csr" -subj /CN=central.example.org &&
	printf 'subjectAltName = DNS:central.example.org\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n' >"$d/server.ext" &&
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca1.crt" -CAkey "$d/ca1.key" \
		-CAcreateserial -days 2 -extfile "$d/server.ext" -out "$d/server.crt"
} >"$d/openssl.log" 2>&1 || { nok "openssl: $(tail -3 "$d/openssl.log")"; exit 1; }
ok "two CAs and a server certificate for central.example.org made with openssl"

# --- the cluster ------------------------------------------------------------------

if ! pg_start "$d" 2>"$d/pg.err" || ! pg_ssl "$d" "$d/server.crt" "$d/server.key" "$NS" 2>>"$d/pg.err"; then
	nok "a throwaway PostgreSQL 15 cluster starts with ssl = on in $NS"
	cat "$d/pg.err"
	exit 1
fi
ok "a throwaway PostgreSQL 15 cluster with ssl = on listens on 127.0.0.1:$PG_TCPPORT in $NS"

central_setup t:PW_T

# The server really asks for TLS and checks the name: psql inside the
# namespace, the right CA, once with the name and once without.
TCP="port=$PG_TCPPORT dbname=central user=sensor_t password=$PW_T sslmode=verify-full"
v=$(nsx "$PG_BIN/psql" -X -At -d "host=central.example.org hostaddr=127.0.0.1 $TCP sslrootcert=$d/ca1.crt" \
	-c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" 2>&1)
check "psql with verify-full, the right CA and the certificate's name connects over TLS" '[ "$v" = t ]' ||
	echo "# $v"
nsx "$PG_BIN/psql" -X -At -d "host=127.0.0.1 $TCP sslrootcert=$d/ca1.crt" -c "SELECT 1" >/dev/null 2>&1 &&
	nok "psql to host=127.0.0.1 should fail the name check"

# --- the traffic ----------------------------------------------------------------------

$PY tests/synth/synth.py --seed 1 --out "$d/gen" >/dev/null ||
	{ nok "synth.py failed"; exit 1; }
# live.pcap: the stale ECH answer removed (replayed in seconds it would
# be fresh); live-b.pcap: the same with the client ports moved, new flows
# (tests/faults_lib.py prep says why)
prep=$($PY tests/faults_lib.py prep "$d/gen/traffic.pcap" "$d/gen/truth.json" \
	"$d/live.pcap" "$d/live-b.pcap") || { nok "preparing the replay captures failed"; exit 1; }
read -r removed sendable <<<"$prep"
TZONE=$($PY tests/faults_lib.py livetz)

r=$d/run
mkdir -p "$r" && chmod 700 "$r"
cp "$d/gen/catalog.conf" "$r/"
printf '%s\n' "$PW_T" >"$r/central.pass"
chmod 600 "$r/central.pass"
# conf CONNINFO: the run's configuration, shipping with CONNINFO
conf() {
	sed -e 's|min_group_size = [0-9]*;|min_group_size = 1;|' \
	    -e 's|flush_interval = [0-9]*;|flush_interval = 2;|' \
	    -e "s|timezone = \"UTC\";|timezone = \"$TZONE\";|" \
	    -e "s|^};|  central = { conninfo = \"$1\"; password_file = \"central.pass\"; site = \"t\"; };\n};|" \
	    "$d/gen/aicensus.conf" >"$r/aicensus.conf"
}
BASE="port=$PG_TCPPORT dbname=central user=sensor_t sslmode=verify-full"
WRONG_CA="host=central.example.org hostaddr=127.0.0.1 $BASE sslrootcert=$d/ca2.crt"
WRONG_NAME="host=127.0.0.1 $BASE sslrootcert=$d/ca1.crt"
RIGHT="host=central.example.org hostaddr=127.0.0.1 $BASE sslrootcert=$d/ca1.crt"

# start LOG: the daemon in the namespace, capturing on v1
start() {
	log=$r/$1
	(cd "$r" && exec ip netns exec "$NS" "$DAEMON" -c aicensus.conf -i v1 2>"$log") &
	dpid=$!
	wait_log 'capturing on v1' 300 && return 0
	nok "the daemon did not start: $(tail -2 "$log")"
	return 1
}
wait_log() {	# PATTERN TENTHS
	local n=$2
	while [ "$n" -gt 0 ]; do
		grep -q "$1" "$log" 2>/dev/null && return 0
		kill -0 "$dpid" 2>/dev/null || return 1
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
replay() {
	local n
	nsx tcpreplay -q -i v0 --pps "$PPS" "$1" >"$r/replay.log" 2>&1
	n=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$r/replay.log")
	[ "$n" = "$sendable" ] ||
		nok "tcpreplay sent ${n:-no} packets, expected $sendable: $(grep -m2 -i error "$r/replay.log")"
	sleep 2		# the kernel's last capture block
}
stop() {
	local i
	kill -TERM "$dpid"
	for i in $(seq 300); do
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$dpid" 2>/dev/null && echo "# daemon killed: it did not stop in 30 s"
	wait "$dpid"
	rc=$?
	dpid=
}
sitecells() { sql "SELECT count(*) FROM aicensus.site_cell WHERE site = 't'"; }
outbox_rows() { sqlite3 "$r/aicensus.db" "SELECT count(*) FROM outbox" 2>/dev/null; }
flushes() { grep -c 'flush' "$log"; }
# The site's shipped week leaves, summed over weeks, against K x the
# truth of the capture per (department, service); an "ok"/"not ok" line.
vs_truth() {	# K WHAT
	sql "SELECT dept, svc, sum(tls), sum(quic), sum(ech), sum(dns), sum(nxdomain),
	    sum(bytes_up), sum(bytes_down) FROM aicensus.site_cell WHERE site = 't'
	    AND kind = 2 AND dept <> '*' AND svc <> '*' AND svc NOT LIKE 'cat:%'
	    GROUP BY 1, 2" >"$d/shipped.txt"
	drops=$(sql "SELECT coalesce(sum(value), 0) FROM aicensus.site_blind
	    WHERE site = 't' AND name IN ('pcap_drops', 'if_drops')")
	$PY - "$d/gen/truth.json" "$d/shipped.txt" "$1" "$2" "$drops" <<'EOF'
import sys
sys.path.insert(0, "tests")
from faults_lib import truth_sums, events
truth, shipped, k, what, drops = sys.argv[1:6]
want = {key: v for key, v in truth_sums(truth, int(k)).items() if any(v)}
got = {}
for line in open(shipped):
    f = line.rstrip("\n").split("|")
    if len(f) == 9 and any(int(x) for x in f[2:]):
        got[f[0] + "|" + f[1]] = [int(x) for x in f[2:]]
bad = [x for x in sorted(set(want) | set(got)) if want.get(x) != got.get(x)]
n = sum(events(v) for v in want.values())
if bad or int(drops) or not want:
    print(f"not ok - {what}: {len(bad)} of {len(want)} (department, service) "
          f"pairs differ from {k} x the truth; {drops} packets dropped")
    for x in bad[:4]:
        print(f"#   {x}: shipped {got.get(x)} want {want.get(x)}")
    sys.exit(1)
print(f"ok - {what}: {len(want)} (department, service) pairs = {k} x the "
      f"truth ({n} connections+lookups, 0 lost, 0 counted twice)")
EOF
	[ $? -eq 0 ] || fails=$((fails + 1))
}

# --- the wrong CA -------------------------------------------------------------------

conf "$WRONG_CA"
"$DAEMON" -n -c "$r/aicensus.conf" >"$d/check.log" 2>&1 ||
	{ nok "the test configuration is refused: $(tail -2 "$d/check.log")"; exit 1; }
start wrong-ca.log || exit 1
replay "$d/live.pcap"
f0=$(flushes)
wait_log 'certificate' 100
sleep 5		# more flushes, more attempts: still one line
cert=$(grep -c 'certificate' "$log")
line=$(grep 'certificate' "$log")
alive=$(kill -0 "$dpid" 2>/dev/null && echo yes)
check "wrong CA: exactly one log line naming the certificate problem, the daemon keeps capturing ($(echo "$line" | sed 's/^.*central //'))" \
	'[ "$cert" = 1 ] && [[ $line == *"certificate does not match"*"certificate verify failed"* ]] &&
	[ "$alive" = yes ]' || { echo "# $cert lines, alive: ${alive:-no}"; tail -5 "$log"; }
stop
check "wrong CA: SIGTERM stores everything and exits 0" \
	'[ $rc -eq 0 ] && grep -q "stopped; all counts stored" "$log"' || tail -3 "$log"
held=$(outbox_rows)
check "wrong CA: the outbox holds the cells counted meanwhile ($held records), none reached the database" \
	'[ "${held:-0}" -gt 50 ] && [ "$(sitecells)" = 0 ]'

# --- the right CA, a name the certificate does not carry ------------------------------

conf "$WRONG_NAME"
start wrong-name.log || exit 1
replay "$d/live-b.pcap"
wait_log 'certificate' 100
sleep 5
cert=$(grep -c 'certificate' "$log")
line=$(grep 'certificate' "$log")
alive=$(kill -0 "$dpid" 2>/dev/null && echo yes)
check "host name mismatch: exactly one log line naming it, the daemon keeps capturing ($(echo "$line" | sed 's/^.*central //'))" \
	'[ "$cert" = 1 ] && [[ $line == *"does not match host name"* ]] &&
	[ "$alive" = yes ]' || { echo "# $cert lines, alive: ${alive:-no}"; tail -5 "$log"; }
stop
held2=$(outbox_rows)
check "host name mismatch: exit 0; the outbox holds the cells ($held2 records), still nothing in the database" \
	'[ $rc -eq 0 ] && [ "${held2:-0}" -ge "${held:-0}" ] && [ "${held2:-0}" -gt 50 ] && [ "$(sitecells)" = 0 ]'

# --- fixed: the right CA and name, a restart ------------------------------------------

# central settings are not reloadable (config.c keys[]): a restart
conf "$RIGHT"
start right.log || exit 1
left=
for i in $(seq 150); do
	left=$(outbox_rows)
	[ "$left" = 0 ] && grep -q 'connected, shipping site t' "$log" && break
	sleep 0.2
done
check "fixed (right CA, the certificate's name, restart): connected, the outbox drains ($held2 records shipped, ${left:-?} left)" \
	'[ "$left" = 0 ] && grep -q "connected, shipping site t" "$log"' ||
	grep central "$log"
ssl=$(pg_sql "$SU" "SELECT count(*) FILTER (WHERE s.ssl) || ':' || count(*) FROM pg_stat_activity a
    JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'sensor_t'")
check "the sensor's connection is TLS ($ssl of its connections)" '[ "${ssl%%:*}" -ge 1 ] && [ "${ssl%%:*}" = "${ssl#*:}" ]'
stop
check "fixed: SIGTERM exits 0, no certificate line" '[ $rc -eq 0 ] && ! grep -q certificate "$log"'
vs_truth 2 "the site's shipped week cells (two replays, both while the certificate failed)"
pk=$(sql "SELECT coalesce(sum(value), 0) FROM aicensus.site_blind WHERE site = 't' AND name = 'packets'")
check "the site's shipped packet count covers more than one replay ($pk packets, $sendable sent per replay)" \
	'[ "${pk:-0}" -gt "$sendable" ]'
left=$(outbox_rows)
check "the outbox is empty after the stop (${left:-?} left)" '[ "$left" = 0 ]'

leak=0
grep -rqF -e "$PW_T" -e "$PW_ADMIN" "$r"/*.log && leak=1
check "no password in any log line" '[ $leak = 0 ]'

check "no sanitizer report in any log" \
	'! grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$r"/*.log'

[ $fails -eq 0 ]
