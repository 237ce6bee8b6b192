#!/bin/bash
# Reassembly that cannot be steered: crafted captures (tests/overlap_gen.py,
# scapy) of one connection each - TCP segments and QUIC CRYPTO frames
# overlapping with the same bytes (retransmissions) or with a decoy name
# first or last, and ClientHellos too large or too fragmented to read
# (9 KB of padding before the name, one-byte TLS records, 20 KB beyond
# every bound).  Each capture goes through `aicensus inspect` and
# `aicensusd -r` in lab mode (min_group_size 1, so released figures are
# the counts).  Checks, per capture: the service the scenario names is
# counted exactly once (inspect and the released cell), or nothing at
# all is counted; the scenario's anomaly is in aicensusd's anomaly line
# and in the day's released blind-spot figure parse_failures; a
# ClientHello not readable also in the figure unreadable_hellos, a
# conflict in overlap_conflicts, each in the report's blind spots under
# its label.  A few seconds.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
root=$PWD
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

for b in aicensusd aicensus; do
	[ -x "$BUILD/$b" ] || { nok "$BUILD/$b is not built"; exit 1; }
done
$PY -c 'import scapy' 2>/dev/null ||
	{ nok "python3-scapy is missing (apt-get install python3-scapy)"; exit 1; }
out=$(mktemp -d /tmp/aic-overlap.XXXXXX)
trap 'rm -rf "$out"' EXIT
trap 'exit 1' INT TERM HUP

$PY tests/overlap_gen.py "$out" || { nok "overlap_gen.py failed"; exit 1; }
cat >"$out/catalog.conf" <<'EOF'
version = 1;
services = (
  { id = "t-real"; name = "Real"; vendor = "Test"; category = "chat";
    jurisdiction = "US"; domains = ["real.example"]; hosts = []; },
  { id = "t-fake"; name = "Fake"; vendor = "Test"; category = "chat";
    jurisdiction = "US"; domains = ["fake.example"]; hosts = []; }
);
EOF
cat >"$out/aicensus.conf" <<'EOF'
aicensus: {
  database = "aicensus.db";
  state_dir = "state";
  catalog = "catalog.conf";
  user = "";
  timezone = "UTC";
  min_group_size = 1;
  departments = ( { name = "Lab"; prefixes = ["10.0.0.0/8"]; } );
};
EOF

names=$($PY -c 'import json, sys
for k, v in json.load(open(sys.argv[1])).items():
    print(k, v["count"] or "-", v["anomaly"] or "-")' "$out/scenarios.json")
n=0
while read -r sc want anom; do
	n=$((n + 1))
	cap=$out/$sc.pcap
	# --- aicensus inspect: what is counted, connection by connection ---
	got=$("$BUILD/aicensus" inspect -c "$out/aicensus.conf" "$cap" 2>"$out/err" |
		awk -F'\t' '$7 ~ /^counted/ { print $5 }' | sort | tr '\n' ' ')
	got=${got% }
	if [ "$want" = - ]; then
		[ -z "$got" ] && ok "$sc: inspect counts nothing" ||
			nok "$sc: inspect counts '$got', nothing expected"
	else
		[ "$got" = "$want" ] && ok "$sc: inspect counts $want once" ||
			nok "$sc: inspect counts '$got', expected '$want' once $(head -c 200 "$out/err")"
	fi
	# --- aicensusd -r: released cells, anomaly line, blind figures ---
	w=$out/run-$sc
	mkdir -p "$w" && chmod 700 "$w"
	cp "$out/aicensus.conf" "$out/catalog.conf" "$w/"
	(cd "$w" && "$root/$BUILD/aicensusd" -c aicensus.conf -r "$cap" \
		>daemon.log 2>&1) || { nok "$sc: aicensusd -r failed: $(tail -2 "$w/daemon.log")"; continue; }
	db=$w/released.db
	counted=$(sqlite3 "$db" "SELECT group_concat(svc || '=' ||
		(tls + quic), ' ') FROM cell WHERE kind = 2 AND dept = 'Lab'
		AND svc NOT LIKE 'cat:%' AND svc <> '*' AND tls + quic > 0" 2>&1)
	if [ "$want" = - ]; then
		[ -z "$counted" ] && ok "$sc: released week counts no connection" ||
			nok "$sc: released week counts $counted, nothing expected"
	else
		[ "$counted" = "$want=1" ] && ok "$sc: released week counts $want=1" ||
			nok "$sc: released week counts '$counted', expected $want=1"
	fi
	line=$(sed -n 's/.*anomalies: //p' "$w/daemon.log" | tail -1)
	pf=$(sqlite3 "$db" "SELECT COALESCE(SUM(value), 0) FROM blind
		WHERE name = 'parse_failures'" 2>&1)
	if [ "$anom" = - ]; then
		[ "$line" = none ] && [ "$pf" = 0 ] &&
			ok "$sc: no anomaly, released parse_failures 0" ||
			nok "$sc: anomalies '$line', released parse_failures $pf; none expected"
	else
		echo " $line " | grep -q " $anom=1 " && [ "$pf" -ge 1 ] &&
			ok "$sc: $anom=1 recorded, in the released blind figures (parse_failures $pf)" ||
			nok "$sc: anomalies '$line', released parse_failures $pf; $anom=1 expected"
	fi
	# unreadable hellos and conflicts are blind spots of their own in
	# the released figures and the report
	(cd "$w" && "$root/$BUILD/aicensus" report -c aicensus.conf \
		--db released.db --week last --format md -o report.md \
		>report.log 2>&1)
	for fig in "unreadable_hellos:ClientHello not readable:tls_clienthello_unreadable" \
	    "overlap_conflicts:Connections with conflicting copies:_overlap_conflict"; do
		IFS=: read -r name label match <<<"$fig"
		v=$(sqlite3 "$db" "SELECT COALESCE(SUM(value), 0) FROM blind
			WHERE name = '$name'" 2>&1)
		want_v=0 cell=–		# the report's one glyph for 0
		case $anom in *"$match") want_v=1 cell=1 ;; esac
		row=$(grep -o "| $label | [^|]* |" "$w/report.md" 2>/dev/null)
		[ "$v" = "$want_v" ] && [ "$row" = "| $label | $cell |" ] &&
			ok "$sc: released $name $v, the report's blind spots say \"$row\"" ||
			nok "$sc: released $name '$v', report row '$row' ($(head -c 200 "$w/report.log")); $want_v expected"
	done
done <<<"$names"
[ "$n" -ge 13 ] && ok "$n crafted captures checked" || nok "only $n crafted captures"
exit $((fails > 0))
