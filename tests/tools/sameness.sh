#!/bin/bash
# sameness.sh BASE_BUILD NEW_BUILD - did a restructuring change nothing?
#
# Issue 11's bar, measured between two builds (folders holding aicensusd
# and aicensus, e.g. /work/base-build and build):
#  1. the release database aicensusd -r writes in lab mode
#     (min_group_size = 1) from the same capture is byte-identical
#     (cmp), for synth seeds 1 and 3, the adversary week and three
#     public captures of ../shared/pcaps;
#  2. each build's CLI on its own database prints the same `aicensus
#     query` CSV and JSON and the same `aicensus report --format json`;
#  3. instructions per packet of aicensusd -r (callgrind, on the seed 1
#     capture) within 2 %: the whole run less the start-up (the same
#     configuration on an empty capture), over the packets, as
#     bench/bench.py counts them; and, apart, the instructions inside
#     pipeline_packet() alone (the packet path, --toggle-collect).
# Both daemons and CLIs run under libfaketime with the clock frozen, so
# the release time stamp (period.released_at) and the report's
# "generated" are the same in both; nothing else depends on the clock.
# Prints "ok - ..." / "not ok - ..." lines; exits non-zero on any not ok.
# SAMENESS_NO_CALLGRIND=1 skips step 3.
cd "$(dirname "$0")/../.." || exit 1
[ $# -eq 2 ] || { echo "usage: $0 BASE_BUILD NEW_BUILD" >&2; exit 2; }
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
BASE=$(abs "$1")
NEW=$(abs "$2")
PY=/usr/bin/python3
PCAPS=${PCAPS:-../shared/pcaps}
for b in "$BASE" "$NEW"; do
	[ -x "$b/aicensusd" ] && [ -x "$b/aicensus" ] ||
		{ echo "$b: no aicensusd or aicensus" >&2; exit 2; }
done
FAKELIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
[ -n "$FAKELIB" ] || { echo "not ok - libfaketime is missing (make test-deps)"; exit 1; }
frozen() { LD_PRELOAD=$FAKELIB FAKETIME="2026-12-01 12:00:00" "$@"; }

out=$(mktemp -d /tmp/aic-same.XXXXXX)
trap 'rm -rf "$out"' EXIT
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

# Inputs: NAME -> $out/in/NAME/{traffic.pcap,aicensus.conf,catalog...}
inputs=()
gen() {		# NAME GENERATOR ARGS...
	local name=$1 tool=$2
	shift 2
	$PY "$tool" "$@" --out "$out/in/$name" >/dev/null 2>&1 ||
		{ nok "input $name: $tool $* failed"; return; }
	sed -i 's|min_group_size = [0-9]*;|min_group_size = 1;|' \
		"$out/in/$name/aicensus.conf"
	inputs+=("$name")
}
gen synth-seed1 tests/synth/synth.py --seed 1 --no-check
gen synth-seed3 tests/synth/synth.py --seed 3 --no-check
gen weekgen-w47 tests/adversary/weekgen.py --seed 47
for p in zeek/testing/btest/Traces/dns-edns-ecs.pcap \
    suricata-verify/tests/ja4-quic/input.pcap \
    nDPI/tests/cfgs/default/pcap/tls_heur__trojan-tcp-tls.pcapng; do
	name=$(basename "$p"); name=${name%%.*}
	[ "$name" = input ] && name=$(basename "$(dirname "$p")")
	name=pcap-$name
	if [ ! -f "$PCAPS/$p" ]; then
		nok "input $PCAPS/$p not found"
		continue
	fi
	mkdir -p "$out/in/$name"
	cp "$PCAPS/$p" "$out/in/$name/traffic.pcap"
	cp tests/golden/pcaps.catalog.conf "$out/in/$name/"
	cp tests/golden/pcaps.conf "$out/in/$name/aicensus.conf"
	inputs+=("$name")
done

# run BUILD INPUT DIR: aicensusd -r in a fresh directory (mode 0700)
run() {
	local b=$1 in=$2 d=$3
	rm -rf "$d" && mkdir -p "$d" && chmod 700 "$d"
	cp "$out/in/$in"/*.conf "$out/in/$in/traffic.pcap" "$d/"
	(cd "$d" && frozen "$b/aicensusd" -c aicensus.conf -r traffic.pcap \
		>daemon.log 2>&1)
}

# cli BUILD DB DIR: what the CLI prints about a release database
cli() {
	local b=$1 db=$2 d=$3 w
	frozen "$b/aicensus" query --db "$db" --by department,service,week \
		--format csv >"$d/q-week.csv" 2>&1
	frozen "$b/aicensus" query --db "$db" --by category,day \
		--format json >"$d/q-day.json" 2>&1
	frozen "$b/aicensus" query --db "$db" --by department,day \
		--format csv >"$d/q-dday.csv" 2>&1
	for w in $(sqlite3 "$db" "SELECT period FROM period WHERE kind = 2 ORDER BY period"); do
		w="${w:0:4}-W${w:4:2}"
		frozen "$b/aicensus" report --db "$db" --week "$w" \
			--format json >"$d/report-$w.json" 2>&1
	done
}

for in in "${inputs[@]}"; do
	run "$BASE" "$in" "$out/base/$in"; rb=$?
	run "$NEW" "$in" "$out/new/$in"; rn=$?
	if [ $rb -ne 0 ] || [ $rn -ne 0 ]; then
		nok "$in: aicensusd -r exited $rb (base) and $rn (new): $(tail -n 2 "$out/new/$in/daemon.log")"
		continue
	fi
	bdb=$out/base/$in/released.db
	ndb=$out/new/$in/released.db
	cells=$(sqlite3 "$ndb" "SELECT COUNT(*) FROM cell" 2>/dev/null)
	if cmp -s "$bdb" "$ndb"; then
		ok "$in: released.db byte-identical ($(stat -c %s "$ndb") bytes, $cells cells)"
	else
		nok "$in: released.db differs: $(cmp "$bdb" "$ndb" 2>&1 | head -n 1)"
	fi
	mkdir -p "$out/cli-base/$in" "$out/cli-new/$in"
	cli "$BASE" "$bdb" "$out/cli-base/$in"
	cli "$NEW" "$ndb" "$out/cli-new/$in"
	n=$(ls "$out/cli-new/$in" | wc -l)
	if diff -r "$out/cli-base/$in" "$out/cli-new/$in" >"$out/cli.diff"; then
		ok "$in: CLI query and report output identical ($n outputs, $(cat "$out/cli-new/$in"/* | wc -c) bytes)"
	else
		nok "$in: CLI output differs"
		head -n 30 "$out/cli.diff" | sed 's/^/#   /'
	fi
done

[ -n "$SAMENESS_NO_CALLGRIND" ] && exit $((fails > 0))
command -v valgrind >/dev/null || { nok "valgrind is missing (make test-deps)"; exit 1; }

# Instructions, as bench/bench.py counts them: the whole -r run less the
# start-up (the header-only capture), over the packets.
in=synth-seed1
head -c 24 "$out/in/$in/traffic.pcap" >"$out/empty.pcap"
packets=$($PY -c '
import struct, sys
f = open(sys.argv[1], "rb"); h = f.read(24); n = 0
e = "<" if h[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
while True:
    r = f.read(16)
    if len(r) < 16: break
    f.seek(struct.unpack(e + "IIII", r)[2], 1); n += 1
print(n)' "$out/in/$in/traffic.pcap")
# ir BUILD PCAP [VALGRIND OPTIONS]: instructions callgrind collected
ir() {
	local b=$1 pcap=$2 d=$out/cg
	shift 2
	rm -rf "$d" && mkdir -p "$d" && chmod 700 "$d"
	cp "$out/in/$in"/*.conf "$d/"
	(cd "$d" && valgrind --tool=callgrind --callgrind-out-file=cg.out "$@" \
		"$b/aicensusd" -c aicensus.conf -r "$pcap" >daemon.log 2>&1) ||
		{ echo "callgrind failed: $(tail -n 3 "$d/daemon.log")" >&2; return 1; }
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$d/daemon.log"
}
declare -A per path
for side in base new; do
	b=$BASE; [ $side = new ] && b=$NEW
	full=$(ir "$b" "$out/in/$in/traffic.pcap")
	start=$(ir "$b" "$out/empty.pcap")
	pp=$(ir "$b" "$out/in/$in/traffic.pcap" --toggle-collect=pipeline_packet)
	if [ -z "$full" ] || [ -z "$start" ] || [ -z "$pp" ]; then
		nok "callgrind of the $side build gave no instruction count"
		exit 1
	fi
	per[$side]=$(echo "scale=1; ($full - $start) / $packets" | bc)
	path[$side]=$(echo "scale=1; $pp / $packets" | bc)
	echo "# $side: $full instructions, start-up $start, $packets packets:" \
		"${per[$side]} per packet; pipeline_packet alone ${path[$side]} per packet"
done
for what in per path; do
	declare -n v=$what
	label="instructions per packet"
	[ $what = path ] && label="pipeline_packet instructions per packet"
	ratio=$(echo "scale=4; ${v[new]} / ${v[base]}" | bc)
	pct=$(echo "scale=2; ($ratio - 1) * 100" | bc)
	if [ "$(echo "$ratio <= 1.02 && $ratio >= 0.98" | bc)" = 1 ]; then
		ok "$label on $in: new/base = $ratio (${v[base]} -> ${v[new]}, $pct %; bar: within 2 %)"
	else
		nok "$label on $in: new/base = $ratio (${v[base]} -> ${v[new]}, $pct %; bar: within 2 %)"
	fi
	unset -n v
done
exit $((fails > 0))
