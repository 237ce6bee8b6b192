#!/bin/bash
# Tunnels and mirrors end to end: the synthesized capture (synth.py) is
# wrapped frame by frame by tests/synth/encap.py in every encapsulation a
# mirror or tunnel sends (VXLAN, Geneve, GRE, ERSPAN I/II/III, MPLS,
# IP-in-IP 4in4/6in4/4in6/6in6, nested twice, four deep) and each variant
# goes through aicensusd -r in lab mode (min_group_size = 1: released
# cells are the counts).  Each variant's released cells (devices,
# device-hours, connections, lookups, bytes per department x service x
# period) must equal those of its reference exactly: the plain capture
# for the variants carrying whole Ethernet frames, the plain capture
# without VLAN tags (plain-l3) for those carrying IP packets.  The status
# figures must count each encapsulation kind on exactly the frames that
# carry it.  Hostile frames (truncated headers, inconsistent lengths,
# five and eight layers, payloads of an unknown kind) count nothing, are
# counted as the anomaly they are (encap_malformed, encap_too_deep) or
# as encap_other, and crash nothing.  With capture.client_address =
# "outer" an inline tunnel's outer client address names the department.
# Live: 300 frames of each variant replayed onto a veth in a network
# namespace of its own, captured with the default filter (which must let
# every tunnel through): /metrics and /api/v1/status count each kind.
# Needs root for that part.  About 60 s (11 min under valgrind, 50 runs).
cd "$(dirname "$0")/../.." || exit 1
. tests/netns_lib.sh
BUILD=${BUILD:-build}
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/sbin
out=$(mktemp -d /tmp/aic-encap.XXXXXX)
NS=aic-encap-$$
ns_made=0
dpid=
cleanup() {
	if [ -n "$dpid" ]; then
		kill -TERM "$dpid" 2>/dev/null
		for i in $(seq 1 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
	fi
	[ $ns_made -eq 1 ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

$PY tests/synth/synth.py --seed 1 --out "$out/gen" >/dev/null ||
	{ nok "synthesizer failed"; exit 1; }
$PY tests/synth/encap.py --live 300 "$out/gen/traffic.pcap" "$out/v" ||
	{ nok "encap.py failed"; exit 1; }
cp "$out/gen/traffic.pcap" "$out/v/plain.pcap"
sed 's|min_group_size = [0-9]*;|min_group_size = 1;|' \
	"$out/gen/aicensus.conf" >"$out/inner.conf"
sed 's|^aicensus: {|aicensus: {\n  capture = { client_address = "outer"; };|' \
	"$out/inner.conf" >"$out/outer.conf"

# run NAME [CONF [TAG]]: aicensusd -r on $out/v/NAME.pcap in $out/r/TAG
# (TAG defaults to NAME); sets rc, leaves cells.txt (every released cell)
# and anomalies.txt / encap.txt (name=count lines) there.
run() {
	local name=$1 conf=${2:-$out/inner.conf} d=$out/r/${3:-$1}
	mkdir -p "$d"
	cp "$conf" "$d/aicensus.conf"
	cp "$out/gen/catalog.conf" "$d/"
	(cd "$d" && "$OLDPWD/$BUILD/aicensusd" -c aicensus.conf -r "$out/v/$name.pcap" \
		>"$d/daemon.log" 2>&1)
	rc=$?
	sqlite3 "$d/released.db" "SELECT * FROM cell ORDER BY kind, period, dept, svc" \
		>"$d/cells.txt" 2>&1
	sed -n 's/.*: anomalies: //p' "$d/daemon.log" | tail -1 | tr ' ' '\n' |
		grep '=' >"$d/anomalies.txt"
	# the per-kind encapsulation figures, as -r logs them beside the anomalies
	sed -n 's/.*: encapsulations: //p' "$d/daemon.log" | tail -1 | tr ' ' '\n' |
		grep '=' >"$d/encap.txt"
	return 0
}

figure() {	# figure DIR NAME: a name=count figure of anomalies.txt/encap.txt
	cat "$1/anomalies.txt" "$1/encap.txt" | sed -n "s/^$2=//p" | head -1 | grep . || echo 0
}

# "week '*' '*'" figures of a run, for the messages
totals() {
	awk -F'|' '$1 == 2 && $3 == "*" && $4 == "*" {
		printf "devices %s, connections %s, lookups %s", $5, $10, $11 }' "$1/cells.txt"
}

summary() {	# summary EXPR: a value from encap.py's summary.json
	$PY -c "import json, sys; s = json.load(open(sys.argv[1])); print($1)" \
		"$out/v/summary.json"
}

# --- the references --------------------------------------------------

for ref in plain plain-l3; do
	run "$ref"
	n=$(wc -l <"$out/r/$ref/cells.txt")
	[ $rc -eq 0 ] && [ "$n" -gt 20 ] &&
		ok "reference $ref: exit 0, $n released cells ($(totals "$out/r/$ref"))" ||
		nok "reference $ref: exit $rc, $n cells: $(tail -3 "$out/r/$ref/daemon.log")"
done
# the L3 reference loses the VLAN tags: it must differ from the plain
# capture (Sales devices known only by VLAN 30 become unassigned), or the
# L3 variants would not show that they keep what the tags said
cmp -s "$out/r/plain/cells.txt" "$out/r/plain-l3/cells.txt" &&
	nok "plain-l3 gives the same cells as plain: VLAN attribution not exercised" ||
	ok "plain-l3 differs from plain only by what VLAN tags said (Sales by VLAN 30)"

# --- every encapsulation: the same released cells --------------------

variants=$(summary '" ".join(k for k, v in sorted(s.items()) if "kinds" in v and k not in ("plain-l3", "outer", "live"))')
for v in $variants; do
	ref=$(summary "s['$v']['ref']")
	run "$v"
	d=$out/r/$v
	if [ $rc -ne 0 ]; then
		nok "$v: aicensusd -r exited $rc: $(tail -2 "$d/daemon.log" | tr '\n' ' ')"
	elif cmp -s "$d/cells.txt" "$out/r/$ref/cells.txt"; then
		ok "$v: released cells equal $ref's ($(wc -l <"$d/cells.txt") cells, $(totals "$d"))"
	else
		nok "$v: released cells differ from $ref's: $(totals "$d") against $(totals "$out/r/$ref"); $(diff "$out/r/$ref/cells.txt" "$d/cells.txt" | grep -c '^[<>]') lines differ"
	fi
	# the status figures: each kind counted once per frame carrying it
	want=$(summary "' '.join('%s=%d' % kv for kv in sorted(s['$v']['kinds'].items()))")
	bad=
	for kv in $want; do
		k=${kv%%=*}
		got=$(figure "$d" "$k")
		[ "$got" = "${kv#*=}" ] || bad="$bad $k=$got(want ${kv#*=})"
	done
	[ -z "$bad" ] && ok "$v: encapsulation figures $want" ||
		nok "$v: encapsulation figures wrong:$bad (logged: $(tr '\n' ' ' <"$d/encap.txt"))"
done

# --- hostile frames: nothing counted, the named anomaly, no crash ----

hostile=$(summary '" ".join(k for k, v in sorted(s.items()) if "hostile" in v)')
for v in $hostile; do
	run "$v"
	d=$out/r/$v
	n=$(summary "s['$v']['hostile']")
	anomaly=$(summary "s['$v']['anomaly'] or ''")
	if [ $rc -ne 0 ]; then
		nok "$v: aicensusd -r exited $rc: $(tail -2 "$d/daemon.log" | tr '\n' ' ')"
		continue
	fi
	cmp -s "$d/cells.txt" "$out/r/plain/cells.txt" &&
		ok "$v: $n hostile frames counted nothing (cells equal plain's)" ||
		nok "$v: $n hostile frames changed the released cells: $(totals "$d") against $(totals "$out/r/plain")"
	# every other anomaly as in the plain capture; this one up by n
	got=$(diff <(grep -v "^encap_" "$out/r/plain/anomalies.txt") \
		<(grep -v "^encap_" "$d/anomalies.txt") | grep '^[<>]' | tr '\n' ' ')
	m=$(figure "$d" encap_malformed)
	t=$(figure "$d" encap_too_deep)
	if [ -n "$anomaly" ]; then
		a=$(figure "$d" "$anomaly")
		other=$([ "$anomaly" = encap_malformed ] && echo "$t" || echo "$m")
		[ "$a" = "$n" ] && [ "$other" = 0 ] && [ -z "$got" ] &&
			ok "$v: $anomaly = $n, one per hostile frame, no other anomaly" ||
			nok "$v: $anomaly = $a for $n hostile frames (encap_malformed $m, encap_too_deep $t; other anomalies changed: ${got:-none})"
	else
		o=$(figure "$d" other)
		[ "$m" = 0 ] && [ "$t" = 0 ] && [ -z "$got" ] && [ "$o" = "$n" ] &&
			ok "$v: payload of an unknown kind: encap figure other = $n, no anomaly" ||
			nok "$v: unknown payload: encap figure other = $o for $n frames, encap_malformed $m, encap_too_deep $t, other anomalies changed: ${got:-none}"
	fi
done

# --- capture.client_address = "outer" --------------------------------

# outer.pcap: every IP frame in IPv4 between 10.40.250.1 (Research) and
# 198.18.0.2.  Read as "inner" (the default) the tunnel's ends change
# nothing; read as "outer" all traffic is the one Research client's.
run outer "$out/inner.conf" outer-inner
cmp -s "$out/r/outer-inner/cells.txt" "$out/r/plain-l3/cells.txt" &&
	ok "outer.pcap read with client_address = inner: cells equal plain-l3's" ||
	nok "outer.pcap read with client_address = inner differs from plain-l3: $(totals "$out/r/outer-inner")"
run outer "$out/outer.conf" outer-outer
d=$out/r/outer-outer
depts=$(awk -F'|' '$3 != "*" && $5 > 0 { print $3 }' "$d/cells.txt" | sort -u | tr '\n' ' ')
devs=$(awk -F'|' '$1 == 2 && $3 == "Research" && $4 == "*" { print $5 }' "$d/cells.txt")
if [ $rc -ne 0 ]; then
	nok "client_address = outer: aicensusd -r exited $rc: $(tail -2 "$d/daemon.log" | tr '\n' ' ')"
else
	[ "$depts" = "Research " ] &&
		ok "client_address = outer: every department cell is the outer address's (Research)" ||
		nok "client_address = outer: departments with use: ${depts:-none} (want Research only)"
	[ "$devs" = 1 ] &&
		ok "client_address = outer: the one outer client is one Research device" ||
		nok "client_address = outer: Research devices ${devs:-none} (want 1)"
fi
# --- live: the default filter, /metrics and /api/v1/status ------------

missing=0
for t in ip tcpreplay curl; do
	command -v "$t" >/dev/null 2>&1 || { nok "$t missing"; missing=1; }
done
[ "$(id -u)" -eq 0 ] || { nok "the live part needs root"; missing=1; }
[ $missing -eq 0 ] || exit 1

# both ends of the veth inside the namespace: nothing can clash outside;
# MTU 9000 as the wrapped frames are longer than 1514 bytes
if ip netns add "$NS" && ns_made=1 &&
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 &&
	ip link add va netns "$NS" mtu 9000 type veth peer name vb netns "$NS" mtu 9000 &&
	ip -n "$NS" link set lo up && ip -n "$NS" link set va up &&
	ip -n "$NS" link set vb up &&
	wait_for 5 sh -c "ip -n $NS link show vb | grep -q LOWER_UP"; then
	ok "namespace $NS with a veth pair (va -> vb)"
else
	nok "could not set up the namespace and the veth pair"
	exit 1
fi
L=$out/live
mkdir -p "$L"
cp "$out/gen/catalog.conf" "$L/"
TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
(umask 077 && echo "$TOKEN" >"$L/api.token")
# no capture filter set: the default one is under test
sed "s|^aicensus: {|aicensus: {\n  api = { listen = \"127.0.0.1:8080\"; token_file = \"api.token\"; };|" \
	"$out/inner.conf" >"$L/aicensus.conf"
(cd "$L" && exec ip netns exec "$NS" "$OLDPWD/$BUILD/aicensusd" -c aicensus.conf -i vb \
	>"$L/daemon.log" 2>&1) &
dpid=$!
if wait_for 20 grep -qs "capturing on vb" "$L/daemon.log"; then
	ok "aicensusd captures on vb with the default filter"
else
	nok "aicensusd did not start capturing: $(tail -3 "$L/daemon.log" | tr '\n' ' ')"
	exit 1
fi
api() {	# api PATH: the body, with the token
	ip netns exec "$NS" curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:8080$1"
}
frames=$(summary "s['live']['frames']")
if ip netns exec "$NS" tcpreplay -q --pps=4000 -i va "$out/v/live.pcap" >"$L/tcpreplay.out" 2>&1; then
	ok "tcpreplay sent $frames wrapped frames onto va"
else
	nok "tcpreplay failed: $(tail -3 "$L/tcpreplay.out" | tr '\n' ' ')"
fi
want=$(summary "' '.join('%s=%d' % kv for kv in sorted(s['live']['kinds'].items()))")
metric() {	# metric KIND: aicensus_encap_packets_total{kind="KIND"}
	sed -n "s/^aicensus_encap_packets_total{kind=\"$1\"} //p" "$L/metrics.txt"
}
live_match() {
	api /metrics >"$L/metrics.txt" || return 1
	for kv in $want; do
		[ "$(metric "${kv%%=*}")" = "${kv#*=}" ] || return 1
	done
}
if wait_for 15 live_match; then
	ok "live /metrics: aicensus_encap_packets_total per kind $want"
else
	got=
	for kv in $want; do got="$got ${kv%%=*}=$(metric "${kv%%=*}")"; done
	nok "live /metrics: want $want, got$got ($(grep -E '^aicensus_(pcap|if)_?drop' "$L/metrics.txt" | tr '\n' ' '))"
fi
api /api/v1/status >"$L/status.json"
bad=$($PY -c '
import json, sys
e = json.load(open(sys.argv[1]))["encap"]
want = dict(kv.split("=") for kv in sys.argv[2].split())
print(" ".join("%s=%s(want %s)" % (k, e.get(k), v) for k, v in sorted(want.items())
               if e.get(k) != int(v)))' "$L/status.json" "$want" 2>&1)
[ -z "$bad" ] && ok "live /api/v1/status \"encap\": the same counts" ||
	nok "live /api/v1/status \"encap\": $bad"

# Privacy: no client address, inner or outer (the tunnel ends and the
# hostile frames' fresh clients too), as text in any log or API answer.
$PY -c '
import json, sys
t = json.load(open(sys.argv[1]))
t["client_addresses"] += ["10.40.250.1", "198.18.0.1", "198.18.0.2",
                          "fd00:18::1", "fd00:18::2"] + \
    ["10.10.250.%d" % i for i in range(1, 251)]
json.dump(t, open(sys.argv[2], "w"))' "$out/gen/truth.json" "$out/addrs.json"
api /api/v1/status >"$L/status-end.json"
hits=$($PY tests/privacy_scan.py "$out/addrs.json" "$out"/r/*/daemon.log \
	"$L/daemon.log" "$L/metrics.txt" "$L/status-end.json" | grep '^text')
nfiles=$(ls "$out"/r/*/daemon.log | wc -l)
[ -z "$hits" ] &&
	ok "privacy: no inner or outer address in the $nfiles run logs, the live log, /metrics or status" ||
	nok "privacy: address as text: $(echo "$hits" | head -3 | tr '\n' ' ')"

# --- public captures: tunnels from Zeek's test suite, names as TShark's ---
for f in tests/data/tunnels/*.pcap; do
	n=$(basename "$f" .pcap)
	got=$("$BUILD/aicensus" inspect -c tests/data/inspect.conf "$f" 2>/dev/null |
		awk -F'\t' 'NF >= 4 { print $4 }' | sort -u)
	want=$(cat "tests/data/tunnels/$n.names")
	[ -n "$want" ] && [ "$got" = "$want" ] &&
		ok "public capture $n: the names TShark reads inside the tunnel ($(echo $want | tr '\n' ' '))" ||
		nok "public capture $n: got '$(echo $got)', TShark '$(echo $want)'"
done
exit $((fails > 0))
