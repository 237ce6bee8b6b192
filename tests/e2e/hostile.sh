#!/bin/bash
# Hostile traffic: the synthesized capture with ~500,000 flood frames
# interleaved by timestamp (tests/faults_flood.py: half-open handshakes,
# random 5-tuples, random DNS names, answers for catalog names to clients
# that never connect, QUIC Initials with random connection IDs, forged and
# authenticated, ClientHellos that never finish) and malformed packets of
# every kind the decoders name, read by `aicensusd -r` with the default
# limits (memory_mb = 64, max_flows = 131072, max_quic = 4096, ...).
#
# Checks: no crash; peak RSS (/usr/bin/time -v) under 64 MB with every
# table full; the genuine traffic still counted exactly (relcheck.py
# against the truth; the flood uses no catalog name and no address of
# the synthesizer, so it must add nothing); every frame counted as a
# packet and nothing dropped for memory; each kind of malformed packet
# recorded under its anomaly name, and each table's overflow too; a
# capture file cut short ends with a clear error, exit status 1 and the
# counts up to the cut stored; no client address in anything written.
# About 30 s (2 min under the sanitizers, where RSS is not checked;
# under valgrind neither).
#
# AIC_FLOOD sets the number of flood frames (default 500000).
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
DAEMON=$PWD/$BUILD/aicensusd
FLOOD=${AIC_FLOOD:-500000}
LIMIT_MB=64
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

[ -x "$DAEMON" ] || { nok "$DAEMON is not built"; exit 1; }
[ -x /usr/bin/time ] || { nok "/usr/bin/time is missing (apt-get install time)"; exit 1; }
out=$(mktemp -d /tmp/aic-hostile.XXXXXX)
trap 'rm -rf "$out"' EXIT
trap 'exit 1' INT TERM HUP

$PY tests/synth/synth.py --seed 1 --out "$out/gen" >/dev/null ||
	{ nok "synthesizer failed"; exit 1; }
truth=$out/gen/truth.json
t0=$SECONDS
sum=$($PY tests/faults_flood.py "$out/gen/traffic.pcap" "$out/hostile.pcap" \
	--total "$FLOOD") || { nok "flood generator failed"; exit 1; }
read -r nflood ngen kinds anoms <<<"$($PY -c 'import json, sys
s = json.loads(sys.argv[1])
print(s["flood"], s["genuine"],
      ",".join(f"{k}={v}" for k, v in s["kinds"].items()),
      " ".join(s["anomalies"]))' "$sum")"
ok "flood: $nflood frames interleaved with $ngen genuine ones in $((SECONDS - t0)) s ($kinds)"

run() {		# $1 = run directory, $2 = capture; sets rc, rss_mb
	mkdir -p "$1"
	cp "$out/gen/catalog.conf" "$1/"
	# lab mode: released figures are the counts, to compare with the truth
	sed 's|min_group_size = [0-9]*;|min_group_size = 1;|' \
		"$out/gen/aicensus.conf" >"$1/aicensus.conf"
	(cd "$1" && /usr/bin/time -v -o time.txt "$DAEMON" -c aicensus.conf \
		-r "$2" 2>daemon.log)
	rc=$?
	rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$1/time.txt")
	rss_mb=$(((${rss_kb:-0} + 1023) / 1024))
}

# --- the genuine capture alone, for comparison --------------------------

run "$out/plain" "$out/gen/traffic.pcap"
echo "# peak RSS, genuine capture alone ($ngen frames): $rss_mb MB"
plain_mb=$rss_mb

# --- the flood ------------------------------------------------------------

t0=$SECONDS
run "$out/flood" "$out/hostile.pcap"
secs=$((SECONDS - t0))
echo "# peak RSS, genuine + flood ($((nflood + ngen)) frames, ${secs}s): $rss_mb MB (limits.memory_mb = $LIMIT_MB)"
[ "$rc" = 0 ] && ok "flood: aicensusd -r exits 0 ($(grep -o '[0-9]* packets read' "$out/flood/daemon.log"))" ||
	nok "flood: exit status $rc: $(tail -3 "$out/flood/daemon.log")"
case $BUILD${VALGRIND:+ valgrind} in
*san*) echo "# peak RSS not checked: sanitizer build ($BUILD)";;
*valgrind) echo "# peak RSS not checked under valgrind: its shadow memory is in the RSS";;
*)	[ "$rss_mb" -gt 0 ] && [ "$rss_mb" -lt "$LIMIT_MB" ] &&
		ok "flood: peak RSS $rss_mb MB < $LIMIT_MB MB with every table full (genuine alone: $plain_mb MB)" ||
		nok "flood: peak RSS $rss_mb MB, limit $LIMIT_MB MB";;
esac
db=$out/flood/released.db
$PY tests/relcheck.py "$db" "$truth" "$out/gen/catalog.conf" --flood >"$out/compare.txt"
crc=$?
sed -e 's/^ok - /ok - genuine traffic under the flood: /' \
	-e 's/^not ok - /not ok - genuine traffic under the flood: /' "$out/compare.txt"
nbad=$(grep -c '^not ok' "$out/compare.txt")
fails=$((fails + nbad))
[ "$crc" = 0 ] || [ "$nbad" -gt 0 ] || nok "relcheck.py exit status $crc"

read -r packets lost <<<"$(sqlite3 -separator ' ' "$db" \
	"SELECT SUM(CASE name WHEN 'packets' THEN value END),
	COALESCE(SUM(CASE name WHEN 'lost' THEN value END), 0) FROM blind")"
[ "$packets" = $((nflood + ngen)) ] &&
	ok "flood: every frame counted as a packet ($packets)" ||
	nok "flood: $packets packets counted, $((nflood + ngen)) frames"
# anomalies are the sensor's health, not released figures: -r logs them
anomalies=$(sed -n 's/.*anomalies: //p' "$out/flood/daemon.log" | tail -1)
full=$(echo "$anomalies" | tr ' ' '\n' | sed -n 's/^counts_dropped_memory_full=//p')
full=${full:-0}
[ "$lost" = 0 ] && [ "$full" = 0 ] &&
	ok "flood: no count dropped for memory (released 'lost' = 0)" ||
	nok "flood: counts dropped for memory: lost $lost, counts_dropped_memory_full $full"

# Every anomaly name the decoders have, but unsupported_link (a capture
# file of another link type is refused at open; libpcap does not mix link
# types), counts_dropped_memory_full (checked absent above) and
# plugin_anomaly (plugins only); the synthesizer's hostile frames bring
# the first eight.
want="bad_link bad_ip bad_l4 ip_fragment_skipped dns_name_loop dns_name_too_long
	dns_bad_label quic_malformed $anoms quic_version_negotiation quic_retry"
got=$(echo "$anomalies" | tr ' ' '\n')
missing=
for a in $want; do
	echo "$got" | grep -q "^$a=" || missing="$missing $a"
done
n=$(echo "$want" | wc -w)
[ -z "$missing" ] &&
	ok "malformed: all $n anomaly names recorded ($(echo "$got" | tr '\n' ' '))" ||
	nok "malformed: anomaly names missing:$missing (got: $(echo "$got" | tr '\n' ' '))"

# --- a capture file cut short ------------------------------------------

size=$(stat -c %s "$out/hostile.pcap")
head -c $((size / 2 + 7)) "$out/hostile.pcap" >"$out/cut.pcap"
run "$out/cut" "$out/cut.pcap"
rows=$(sqlite3 "$out/cut/released.db" 'SELECT COUNT(*) FROM cell' 2>&1)
[ "$rc" = 1 ] && grep -q 'read error after [0-9]* packets' "$out/cut/daemon.log" &&
	[ "${rows:-0}" -gt 0 ] &&
	ok "capture cut inside a record: exit 1, \"$(grep -o 'read error after [0-9]* packets' "$out/cut/daemon.log")\", the $rows released cells before the cut kept" ||
	nok "capture cut inside a record: exit $rc, $rows released cells: $(tail -2 "$out/cut/daemon.log")"
# the same counts as a clean file of the whole records before the cut
$PY - "$out/cut.pcap" "$out/whole.pcap" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
off = 24
while off + 16 <= len(data):
    n = 16 + struct.unpack_from("<I", data, off + 8)[0]
    if off + n > len(data):
        break
    off += n
open(sys.argv[2], "wb").write(data[:off])
EOF
run "$out/whole" "$out/whole.pcap"
$PY tests/faults_lib.py sums "$out/cut/released.db" >"$out/cut.json"
$PY tests/faults_lib.py sums "$out/whole/released.db" >"$out/whole.json"
[ "$rc" = 0 ] && cmp -s "$out/cut.json" "$out/whole.json" &&
	ok "capture cut inside a record: the counts equal those of the whole records before the cut" ||
	nok "capture cut inside a record: counts differ from the records before the cut (exit $rc)"
head -c 20 "$out/hostile.pcap" >"$out/cut2.pcap"
run "$out/cut2" "$out/cut2.pcap"
line=$(grep "error: .*cut2.pcap: " "$out/cut2/daemon.log")
[ "$rc" = 1 ] && [ -n "$line" ] &&
	ok "capture cut inside its header: exit 1 with \"$(echo "$line" | sed "s|$out/||")\"" ||
	nok "capture cut inside its header: exit $rc: $(tail -2 "$out/cut2/daemon.log")"

# --- privacy ------------------------------------------------------------

files=$(find "$out/plain" "$out/flood" "$out/cut" "$out/whole" "$out/cut2" -type f \
	! -name '*.conf' ! -name 'time.txt')
# shellcheck disable=SC2086
hits=$($PY tests/privacy_scan.py "$truth" $files)
[ $? = 0 ] && ok "privacy: no client address in the $(echo "$files" | wc -l) files written" ||
	nok "privacy: $(echo "$hits" | head -3)"

exit $((fails > 0))
