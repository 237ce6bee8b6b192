#!/bin/bash
# End to end on synthesized traffic with known truth: aicensusd -r, then
# every stored count against the truth, the exporter plugin's output, and
# the privacy scan of every file the daemon wrote.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
out=$(mktemp -d /tmp/aic-synth.XXXXXX)
trap 'rm -rf "$out"' EXIT
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

$PY tests/synth/synth.py --seed 1 --out "$out/gen" >/dev/null ||
	{ nok "synthesizer failed"; exit 1; }
cp "$out/gen/truth.json" "$out/truth.json"

# Run the daemon on the capture in its own directory, with the JSON-lines
# exporter loaded; $1 = run directory.
run() {
	local d=$1
	mkdir -p "$d"
	cp "$out/gen/traffic.pcap" "$out/gen/catalog.conf" "$d/"
	sed "s|^aicensus: {|aicensus: {\n  plugin_dir = \"$PWD/$BUILD/plugins\";\n  plugins = [\"jsonl_export:$d/export.jsonl\"];|" \
		"$out/gen/aicensus.conf" >"$d/aicensus.conf"
	(cd "$d" && "$OLDPWD/$BUILD/aicensusd" -c aicensus.conf -r traffic.pcap \
		>"$d/daemon.log" 2>&1)
}

run "$out/r1"
rc=$?
[ $rc -eq 0 ] && ok "aicensusd -r on the synthesized capture exits 0" ||
	nok "aicensusd -r exited $rc: $(tail -3 "$out/r1/daemon.log")"
$PY tests/e2e_compare.py "$out/r1/aicensus.db" "$out/truth.json" || fails=$((fails + 1))
$PY tests/query_check.py "$BUILD/aicensus" "$out/r1/released.db" "$out/truth.json" ||
	fails=$((fails + 1))

# The exporter got the released cells: its week department x service
# rows carry the same connections as the release database.
want=$("$BUILD/aicensus" query --db "$out/r1/released.db" --by department,service,week --format json |
	$PY -c 'import json,sys; print(sum(r["connections"] for r in json.load(sys.stdin)["rows"]))')
got=$($PY -c 'import json,sys; print(sum(r["connections"] for r in map(json.loads, open(sys.argv[1])) if r["kind"] == "week" and r["department"] != "*" and r["service"] != "*" and not r["service"].startswith("cat:")))' "$out/r1/export.jsonl" 2>/dev/null)
[ -n "$want" ] && [ "$got" = "$want" ] &&
	ok "jsonl_export plugin wrote the released week cells ($got connections)" ||
	nok "jsonl_export plugin wrote $got connections, the release database has $want"

# Reading the same capture twice into one database doubles every count
# but not the devices (the key is the same within the week).
(cd "$out/r1" && "$OLDPWD/$BUILD/aicensusd" -c aicensus.conf -r traffic.pcap >/dev/null 2>&1)
again=$(sqlite3 "$out/r1/aicensus.db" "SELECT SUM(tls_conns + quic_conns + ech_conns) FROM usage_hour")
[ "$again" = "$((want * 2))" ] && ok "a second read adds to the same rows ($want -> $again)" ||
	nok "a second read gave $again connections, expected $((want * 2))"
dw=$(sqlite3 "$out/r1/aicensus.db" "SELECT SUM(devices) FROM devices_week")
dt=$($PY -c 'import json,sys; print(sum(r["devices"] for r in json.load(open(sys.argv[1]))["devices_week"]))' "$out/truth.json")
[ "$dw" = "$dt" ] && ok "re-reading within the week counts the same devices once ($dw)" ||
	nok "devices per week after a re-read: $dw, truth $dt"

# Privacy: no client address in any file the daemon wrote, nor in what
# the CLI prints.  A raw 4-byte hit can be chance in random sketch bytes:
# such a hit is re-checked on fresh runs with fresh keys, and only one
# that comes back every time is a leak.  A text hit fails at once.
scan() {
	local d=$1
	"$BUILD/aicensus" query --db "$d/released.db" --by department,service,week --format json >"$d/query.json" 2>&1
	"$BUILD/aicensus" query --db "$d/released.db" --by department,day --format csv >"$d/query.csv" 2>&1
	$PY tests/privacy_scan.py "$out/truth.json" "$d"/aicensus.db* "$d"/released.db* "$d"/state/* \
		"$d/daemon.log" "$d/export.jsonl" "$d/query.json" "$d/query.csv"
}
hits=$(scan "$out/r1")
if echo "$hits" | grep -q '^text'; then
	nok "privacy scan: client address as text: $(echo "$hits" | head -3)"
elif [ -n "$hits" ]; then
	persist=1
	for i in 2 3; do
		run "$out/r$i"
		[ -z "$(scan "$out/r$i")" ] && persist=0 && break
	done
	[ $persist -eq 0 ] && ok "privacy scan: no client address in any output (a chance raw match did not recur with a new key)" ||
		nok "privacy scan: raw client address in every run: $(echo "$hits" | head -3)"
else
	n=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["client_addresses"]))' "$out/truth.json")
	ok "privacy scan: none of the $n client addresses in the database, WAL, key file, log, export or query output"
fi
ls "$out/r1" | grep -q -- '-wal$' && ok "the database ran in WAL mode" || true
modes=$(stat -c %a "$out/r1"/state/week-*.key 2>/dev/null | sort -u)
[ "$modes" = "600" ] && ok "week key files are mode 0600 ($(ls "$out/r1"/state/week-*.key | wc -l) files)" ||
	nok "week key file modes are '$modes'"
exit $((fails > 0))
