#!/bin/bash
# Live capture end to end: aicensusd captures on a veth inside a network
# namespace of its own while real clients (dig, openssl s_client) talk to
# a real resolver (dnsmasq) and TLS server (openssl s_server) across it,
# and a public QUIC capture is replayed onto the link.  After SIGTERM the
# database must hold exactly the lookups and connections made, per
# department, and nothing else; the log must hold no address.
#
#   aic-cli-PID                               aic-srv-PID
#   vc 10.99.1.10/16 (Alpha)                  vs 10.99.0.2/16
#      10.99.2.10/16 (Beta)     <-- veth -->     dnsmasq :53, s_server :443
#      10.99.3.10/16 (ignored)                   aicensusd -i vs
#
# Nothing leaves the two namespaces.  Needs root.  Run from anywhere:
#   bash tests/e2e/live.sh          (BUILD=build-san for the sanitizer build)
# test: alone (live replays whose counts are compared exactly: the capture must keep up, so no other part beside it)
cd "$(dirname "$0")/../.." || exit 1
. tests/netns_lib.sh
BUILD=${BUILD:-build}
PATH=$PATH:/usr/sbin:/sbin
export PATH LC_ALL=C

CLI=aic-cli-$$
SRV=aic-srv-$$
SRV_IP=10.99.0.2
A_IP=10.99.1.10		# department Alpha
B_IP=10.99.2.10		# department Beta
X_IP=10.99.3.10		# in the ignore list
CLI_MAC=02:00:00:99:00:01
SRV_MAC=02:00:00:99:00:02
QUIC_PCAP=${QUIC_PCAP:-/work/shared/pcaps/zeek/testing/btest/Traces/quic/chromium-115.0.5790.110-api-cirrus-com.pcap}
# the two addresses of that capture: client, server
QUIC_CLI=82.239.54.117
QUIC_SRV=110.213.53.115

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() {	# check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else nok "$what"; fi
}

tmp=
pids=()
netns_made=0
cleanup() {
	local p i
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		for i in $(seq 1 30); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ $netns_made -eq 1 ]; then
		ip netns del "$CLI" 2>/dev/null
		ip netns del "$SRV" 2>/dev/null
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- prerequisites ---------------------------------------------------------

missing=0
for t in ip dig openssl dnsmasq tcpreplay tcprewrite sqlite3 ss timeout; do
	if ! command -v "$t" >/dev/null 2>&1; then
		nok "$t missing"
		missing=1
	fi
done
for b in "$BUILD/aicensusd" "$BUILD/aicensus"; do
	[ -x "$b" ] || { nok "$b missing (run make)"; missing=1; }
done
[ -r "$QUIC_PCAP" ] || { nok "QUIC capture $QUIC_PCAP missing"; missing=1; }
[ "$(id -u)" -eq 0 ] || { nok "live capture test needs root"; missing=1; }
[ $missing -eq 0 ] || exit 1

tmp=$(mktemp -d /tmp/aic-live.XXXXXX) || exit 1
cp tests/data/live/aicensus.conf tests/data/live/catalog.conf "$tmp/"
log=$tmp/daemon.log
db=$tmp/aicensus.db


# --- the network -------------------------------------------------------------

setup_net() {
	ip netns add "$CLI" || return 1
	netns_made=1
	ip netns add "$SRV" || return 1
	# IPv4 only: no IPv6 link-local chatter (DAD, router solicitations)
	for ns in "$CLI" "$SRV"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
	# created directly inside the namespaces: no name can clash outside
	ip link add vc netns "$CLI" address $CLI_MAC type veth \
		peer name vs netns "$SRV" address $SRV_MAC || return 1
	ip -n "$CLI" link set lo up &&
	ip -n "$SRV" link set lo up &&
	ip -n "$CLI" addr add $A_IP/16 dev vc &&
	ip -n "$CLI" addr add $B_IP/16 dev vc &&
	ip -n "$CLI" addr add $X_IP/16 dev vc &&
	ip -n "$SRV" addr add $SRV_IP/16 dev vs &&
	ip -n "$CLI" link set vc up &&
	ip -n "$SRV" link set vs up
}
link_up() {
	ip -n "$CLI" link show vc | grep -q LOWER_UP &&
	ip -n "$SRV" link show vs | grep -q LOWER_UP
}
# Traffic to the server leaves from the given client address.  The route
# is what makes openssl s_client (no portable bind option) use it.
use_src() {
	ip -n "$CLI" route replace $SRV_IP/32 dev vc src "$1"
}

if setup_net && wait_for 5 link_up; then
	ok "namespaces $CLI and $SRV joined by a veth pair"
else
	nok "could not set up the namespaces and the veth pair"
	exit 1
fi

# --- servers -----------------------------------------------------------------

port_open() {	# port_open tcp|udp PORT
	local o
	o=$(ip netns exec "$SRV" ss -Hln --"$1" "sport = :$2" 2>/dev/null)
	[ -n "$o" ]
}

ip netns exec "$SRV" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts \
	--bind-interfaces --listen-address=$SRV_IP --pid-file= \
	--log-facility="$tmp/dnsmasq.log" \
	--address=/chatgpt.com/$SRV_IP --address=/claude.ai/$SRV_IP \
	--address=/mistral.ai/$SRV_IP \
	>"$tmp/dnsmasq.out" 2>&1 &
pids+=($!)

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
	-subj /CN=aicensus-live-test >"$tmp/req.out" 2>&1 ||
	nok "openssl req could not make a test certificate"
# -www: answers on its own, never reads stdin
ip netns exec "$SRV" openssl s_server -accept $SRV_IP:443 -www -quiet \
	-cert "$tmp/cert.pem" -key "$tmp/key.pem" </dev/null \
	>"$tmp/s_server.out" 2>&1 &
pids+=($!)

if wait_for 10 port_open udp 53 && wait_for 10 port_open tcp 443; then
	ok "dnsmasq (:53) and openssl s_server (:443) listen on $SRV_IP in $SRV"
else
	nok "servers did not come up: $(tail -2 "$tmp/dnsmasq.out" "$tmp/s_server.out" | tr '\n' ' ')"
	exit 1
fi

# --- the daemon --------------------------------------------------------------

ip netns exec "$SRV" "$BUILD/aicensusd" -c "$tmp/aicensus.conf" -i vs \
	>"$log" 2>&1 &
dpid=$!
pids+=($dpid)
if wait_for 15 grep -q "capturing on vs" "$log"; then
	ok "aicensusd captures on vs inside $SRV"
else
	nok "aicensusd did not start capturing: $(tail -3 "$log" | tr '\n' ' ')"
	exit 1
fi

# --- clients -------------------------------------------------------------------

# lookup SRC NAME EXPECT: one query (no retry) from SRC; EXPECT is the
# address in the answer, or "" when the resolver has none.
lookup() {
	local out
	use_src "$1" || return 1
	out=$(timeout 5 ip netns exec "$CLI" dig +tries=1 +time=2 +short \
		-b "$1" @$SRV_IP "$2" A 2>&1) || return 1
	[ "$out" = "$3" ]
}
# tls SRC SNI: one TLS connection with a full handshake from SRC.
tls() {
	local out
	use_src "$1" || return 1
	out=$(timeout 5 ip netns exec "$CLI" openssl s_client -brief \
		-connect $SRV_IP:443 -servername "$2" </dev/null 2>&1)
	echo "$out" | grep -q "CONNECTION ESTABLISHED"
}

client_fail=0
run() {
	"$@" || { nok "client step failed: $*"; client_fail=1; }
}
# Alpha: chatgpt.com x3 + claude.ai x1 looked up; decoy lookup.
run lookup $A_IP chatgpt.com $SRV_IP
run lookup $A_IP chatgpt.com $SRV_IP
run lookup $A_IP www.chatgpt.com $SRV_IP
run lookup $A_IP claude.ai $SRV_IP
run lookup $A_IP notchatgpt.com ""
# Beta: claude.ai x2 + chatgpt.com x1; decoy lookup.
run lookup $B_IP claude.ai $SRV_IP
run lookup $B_IP api.claude.ai $SRV_IP
run lookup $B_IP chatgpt.com $SRV_IP
run lookup $B_IP chatgpt.com.evil.example ""
# Ignored client: must not count anywhere.
run lookup $X_IP chatgpt.com $SRV_IP
# TLS: Alpha chatgpt x2, claude x1; Beta claude x3, chatgpt x1.
run tls $A_IP chatgpt.com
run tls $A_IP ab.chatgpt.com
run tls $A_IP claude.ai
run tls $A_IP chatgpt.com.evil.example
run tls $B_IP claude.ai
run tls $B_IP claude.ai
run tls $B_IP CLAUDE.AI
run tls $B_IP chatgpt.com
run tls $B_IP notclaude.ai
run tls $X_IP chatgpt.com
[ $client_fail -eq 0 ] &&
	ok "10 dig lookups and 10 s_client handshakes (4 to decoy names, 2 from the ignored address) succeeded"

# QUIC: the public capture with its addresses moved onto the test link
# (client -> Beta), replayed from the client side.
if tcprewrite --pnat=$QUIC_CLI/32:$B_IP/32,$QUIC_SRV/32:$SRV_IP/32 \
	--enet-smac=$CLI_MAC --enet-dmac=$SRV_MAC --fixcsum \
	-i "$QUIC_PCAP" -o "$tmp/quic.pcap" >"$tmp/tcprewrite.out" 2>&1 &&
   timeout 10 ip netns exec "$CLI" tcpreplay -q -i vc "$tmp/quic.pcap" \
	>"$tmp/tcpreplay.out" 2>&1; then
	ok "tcpreplay of a QUIC capture (SNI api.cirrus-ci.com) onto vc"
else
	nok "tcprewrite/tcpreplay failed: $(tail -2 "$tmp/tcprewrite.out" "$tmp/tcpreplay.out" 2>/dev/null | tr '\n' ' ')"
fi

# Let the kernel hand over every packet so far: libpcap (TPACKET_V3)
# passes packets on in blocks, closed at the latest after its 100 ms
# timeout.  What arrives later is the subject of the last check below.
sleep 0.5

# The very last connection and lookup, immediately followed by SIGTERM:
# the daemon promises to drain what the kernel already holds before its
# final flush.  The lookup goes last as it is the quickest (a few ms), so
# that the kernel's block timer rarely hands it over before SIGTERM by
# chance: a daemon that drains only complete blocks fails this check in
# about 9 runs out of 10, a correct one always passes.
last_ok=1
tls $A_IP mistral.ai || { nok "client step failed: tls $A_IP mistral.ai"; last_ok=0; }
lookup $A_IP mistral.ai $SRV_IP ||
	{ nok "client step failed: lookup $A_IP mistral.ai"; last_ok=0; }

# --- stop and look -------------------------------------------------------------

kill -TERM $dpid
if wait_for 15 sh -c "! kill -0 $dpid 2>/dev/null"; then
	wait $dpid
	rc=$?
	[ $rc -eq 0 ] && ok "aicensusd stops on SIGTERM with status 0" ||
		nok "aicensusd exited with status $rc on SIGTERM"
else
	nok "aicensusd still running 15 s after SIGTERM"
	kill -KILL $dpid 2>/dev/null
	wait $dpid
fi
check "the daemon log reports the final flush" \
	grep -q "stopped; all counts stored" "$log"
check "the daemon warned that min_group_size 1 is unsafe" \
	grep -q "min_group_size is 1" "$log"
if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$log"; then
	nok "sanitizer report in the daemon log: $(grep -m1 -E 'Sanitizer|runtime error' "$log")"
else
	ok "no sanitizer report in the daemon log"
fi

# What the vault holds is released by --finalise (the configuration is
# in lab mode, min_group_size 1: released figures are the counts), and
# every week key is destroyed with it.
rel=$tmp/released.db
"$BUILD/aicensusd" -c "$tmp/aicensus.conf" --finalise >"$tmp/finalise.log" 2>&1 &&
	ok "aicensusd --finalise releases what the vault holds" ||
	nok "aicensusd --finalise: $(tail -2 "$tmp/finalise.log")"
left=$(ls "$tmp/state" 2>/dev/null | tr '\n' ' ')
[ -z "$left" ] && ok "no week key is left in the state directory after --finalise" ||
	nok "state directory after --finalise holds: $left"

sql() { sqlite3 -batch -noheader "$1" "$2" 2>&1; }
# department|service|tls|quic|ech|dns|bytes_up|bytes_down per pair: the
# released weekly (department, service) cells
cells_of() {
	sql "$1" "SELECT dept, svc, SUM(tls), SUM(quic), SUM(ech), SUM(dns),
	SUM(bytes_up), SUM(bytes_down) FROM cell
	WHERE kind = 2 AND dept <> '*' AND svc <> '*' AND svc NOT LIKE 'cat:%'
	GROUP BY dept, svc ORDER BY dept, svc"
}
cells=$(cells_of "$rel")

# cell DEPT SERVICE TLS QUIC DNS [WHAT]
cell() {
	local got want="$1|$2|$3|$4|0|$5"
	got=$(echo "$cells" | grep "^$1|$2|" | cut -d'|' -f1-6)
	[ "$got" = "$want" ] &&
		ok "$1/$2: tls $3, quic $4, dns $5${6:+ ($6)}" ||
		nok "$1/$2${6:+ ($6)}: want tls|quic|ech|dns $3|$4|0|$5, released '${got:-nothing}'"
}
cell Alpha openai-chatgpt 2 0 3
cell Alpha anthropic-claude 1 0 1
cell Beta anthropic-claude 3 0 2
cell Beta openai-chatgpt 1 0 1
cell Beta test-quic-replay 0 1 0
# everything but the last-moment connection, which is checked on its own
rest=$(echo "$cells" | grep -v '|mistral-lechat|')
n=$(echo "$rest" | grep -c .)
[ "$n" = 5 ] &&
	ok "no other rows: decoys, the ignored client, unassigned and google-gemini counted nowhere" ||
	nok "release has $n department/service cells, expected 5: $(echo "$rest" | tr '\n' ' ')"
[ $last_ok -eq 1 ] &&
	cell Alpha mistral-lechat 1 0 1 "a connection and a lookup made just before SIGTERM are stored"

# distinct pairs, not rows: a run across midnight Sunday has two weeks
w=$(sql "$rel" "SELECT COUNT(DISTINCT dept || '/' || svc), MIN(devices),
	MAX(devices) FROM cell WHERE kind = 2 AND dept <> '*' AND svc <> '*'
	AND svc NOT LIKE 'cat:%' AND svc != 'mistral-lechat'")
[ "$w" = "5|1|1" ] && ok "weekly devices: one device in each of the 5 cells" ||
	nok "weekly device cells|min|max = $w, expected 5|1|1"
ig=$(sql "$rel" "SELECT SUM(CASE name WHEN 'ignored' THEN value END),
	SUM(CASE name WHEN 'packets' THEN value END) > 0,
	COALESCE(SUM(CASE name WHEN 'nosni_conns' THEN value END), 0) FROM blind")
[ "$ig" = "1|1|0" ] &&
	ok "day blind spots: 1 ignored lookup, packets counted, no blind connection" ||
	nok "blind ignored|packets>0|nosni = $ig, expected 1|1|0"
dn=$(sql "$rel" "SELECT DISTINCT name FROM dim WHERE axis = 0 ORDER BY name" | tr '\n' ' ')
[ "$dn" = "Alpha Beta unassigned " ] && ok "departments of the released grid: $dn" ||
	nok "departments of the released grid: '$dn'"
sa=$(sql "$rel" "SELECT sid FROM service WHERE sanctioned = 1" | tr '\n' ' ')
[ "$sa" = "openai-chatgpt " ] && ok "openai-chatgpt released as sanctioned" ||
	nok "sanctioned services released: '$sa'"

# Live capture and an offline read of the very packets replayed agree,
# bytes included.
"$BUILD/aicensusd" -c "$tmp/aicensus.conf" --release-db "$tmp/offline.db" \
	-r "$tmp/quic.pcap" >"$tmp/offline.log" 2>&1
orc=$?
[ $orc -eq 0 ] && ! grep -qE "Sanitizer|runtime error:" "$tmp/offline.log" ||
	nok "aicensusd -r of the replayed capture: status $orc, $(grep -m1 -E 'Sanitizer|runtime error|error' "$tmp/offline.log")"
live=$(echo "$cells" | grep '^Beta|test-quic-replay|' | cut -d'|' -f3-)
off=$(cells_of "$tmp/offline.db" | grep '^Beta|test-quic-replay|' | cut -d'|' -f3-)
[ -n "$off" ] && [ "$live" = "$off" ] &&
	ok "replayed QUIC: live capture equals aicensusd -r of the same packets ($live)" ||
	nok "replayed QUIC tls|quic|ech|dns|up|down: live '$live', offline '$off'"

# The reporting tool agrees with the tables.
q=$("$BUILD/aicensus" query --db "$rel" --by department,service --format csv 2>&1)
qrc=$?
csv_has() {	# csv_has DEPT SERVICE TLS QUIC ECH DNS
	# period,department,service,devices,device_hours,tls,quic,ech,connections,dns
	echo "$q" | grep -qE "^[^,]*,\"?$1\"?,\"?$2\"?,[0-9]+,[0-9]+,$3,$4,$5,[0-9]+,$6,"
}
if [ $qrc -eq 0 ] && csv_has Alpha openai-chatgpt 2 0 0 3 &&
   csv_has Alpha anthropic-claude 1 0 0 1 && csv_has Beta anthropic-claude 3 0 0 2 &&
   csv_has Beta openai-chatgpt 1 0 0 1 && csv_has Beta test-quic-replay 0 1 0 0 &&
   ! echo "$q" | grep gemini | grep -qvE '(,0){10}$'; then
	ok "aicensus query --format csv shows the same counts"
else
	nok "aicensus query (status $qrc) output: $(echo "$q" | head -8 | tr '\n' ' ')"
fi

# Privacy: no address of the test, client or server, in the log, the
# database files, the state or the query output.
leak=0
for a in $A_IP $B_IP $X_IP $SRV_IP; do
	for f in "$log" "$db"* "$rel"* "$tmp"/state/*; do
		[ -f "$f" ] || continue
		if grep -aqFw "$a" "$f"; then
			nok "address $a appears as text in $(basename "$f")"
			leak=1
		fi
	done
	if echo "$q" | grep -qFw "$a"; then
		nok "address $a appears in the query output"
		leak=1
	fi
done
[ $leak -eq 0 ] &&
	ok "no client or server address in the daemon log, database, state or query output"

exit $((fails > 0))
