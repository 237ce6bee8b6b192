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
# About 40 s.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
out=$(mktemp -d /tmp/aic-encap.XXXXXX)
trap 'rm -rf "$out"' EXIT
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

$PY tests/synth/synth.py --seed 1 --out "$out/gen" >/dev/null ||
	{ nok "synthesizer failed"; exit 1; }
$PY tests/synth/encap.py "$out/gen/traffic.pcap" "$out/v" ||
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

variants=$(summary '" ".join(k for k, v in sorted(s.items()) if "kinds" in v and k not in ("plain-l3", "outer"))')
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
exit $((fails > 0))
