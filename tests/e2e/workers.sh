#!/bin/bash
# Live capture with capture.workers: the synthesized capture (tests/synth,
# known truth) replayed with tcpreplay over a veth pair into a running
# aicensusd, once with workers = 1 and once with workers = 2, at a rate
# slow enough that nothing is dropped.  Checks: every packet the default
# capture filter passes is seen and none dropped (status, log and the
# day blind spots); the status shows the worker count; the released
# counts (min_group_size 1) of 2 workers equal those of 1 worker, cell
# for cell, and equal the truth; SIGTERM in the middle of a replay with
# 2 workers stores every packet the daemon saw before it (nothing
# flushed or drained is lost).
#
#   aic-wtx-PID                    aic-wrx-PID
#   vtx (no address)  <-- veth -->  vrx (no address)
#   tcpreplay                       aicensusd -i vrx, API on 127.0.0.1
#
# Neither end of the veth has an address and IPv6 is off in both
# namespaces: the replayed frames go nowhere but into the capture, and
# nothing leaves the namespaces.  Needs root.  Run from anywhere:
#   bash tests/e2e/workers.sh     (BUILD=build-san for the sanitizer build;
#   WORKERS_PPS=N replay rate, default 8000 packets/s)
# test: alone (live replays whose counts are compared exactly: the capture must keep up, so no other part beside it)
cd "$(dirname "$0")/../.." || exit 1
. tests/netns_lib.sh
BUILD=${BUILD:-build}
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/sbin
export PATH LC_ALL=C
PPS=${WORKERS_PPS:-8000}

TX=aic-wtx-$$
RX=aic-wrx-$$

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() {	# check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else nok "$what"; fi
}

tmp=
dpid=
rpid=
netns_made=0
cleanup() {
	local p i
	for p in $rpid $dpid; do
		kill -TERM "$p" 2>/dev/null
		for i in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ $netns_made -eq 1 ]; then
		ip netns del "$TX" 2>/dev/null
		ip netns del "$RX" 2>/dev/null
	fi
	[ -n "$tmp" ] && [ -z "$KEEP" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- prerequisites ---------------------------------------------------------

missing=0
for t in ip tcpreplay sqlite3 curl; do
	command -v "$t" >/dev/null 2>&1 || { nok "$t missing"; missing=1; }
done
for b in "$BUILD/aicensusd" "$BUILD/aicensus"; do
	[ -x "$b" ] || { nok "$b missing (run make)"; missing=1; }
done
[ "$(id -u)" -eq 0 ] || { nok "live capture test needs root"; missing=1; }
[ $missing -eq 0 ] || exit 1

tmp=$(mktemp -d /tmp/aic-workers.XXXXXX) || exit 1
$PY tests/synth/synth.py --seed 1 --out "$tmp/gen" >"$tmp/synth.log" 2>&1 ||
	{ nok "synthesizer failed: $(tail -2 "$tmp/synth.log")"; exit 1; }
PCAP=$tmp/replay.pcap
$PY tests/workers_check.py replayable "$tmp/gen/traffic.pcap" \
	"$tmp/gen/truth.json" "$PCAP" >/dev/null ||
	{ nok "could not write the capture to replay"; exit 1; }
read -r total sendable matched < <($PY tests/workers_check.py matched "$PCAP" \
	daemon/capture/capture.h)
[ -n "$matched" ] && [ "$matched" -gt 0 ] ||
	{ nok "could not count the frames the default filter passes"; exit 1; }
echo "# $total frames in the capture, $sendable can be sent, $matched pass the default capture filter"
$PY tests/workers_check.py truth "$tmp/gen/truth.json" >"$tmp/truth.json"


# --- the network -------------------------------------------------------------

setup_net() { netns_pair "$TX" "$RX"; }
link_up() { ip -n "$RX" link show vrx | grep -q LOWER_UP; }
no_address() {	# no IPv4/IPv6 address on either end of the veth
	! ip -n "$TX" addr show vtx | grep -qw inet &&
	! ip -n "$RX" addr show vrx | grep -qw inet &&
	! ip -n "$TX" addr show vtx | grep -qw inet6 &&
	! ip -n "$RX" addr show vrx | grep -qw inet6
}
if setup_net && wait_for 5 link_up && no_address; then
	ok "namespaces $TX and $RX joined by a veth pair with no address"
else
	nok "could not set up the namespaces and the veth pair"
	exit 1
fi

# --- one live run ------------------------------------------------------------

TOKEN=workers-test-token-$$-$RANDOM$RANDOM
api() {	# api PATH: the JSON answer of the daemon's API inside $RX
	ip netns exec "$RX" curl -s -m 5 -H "Authorization: Bearer $TOKEN" \
		"http://127.0.0.1:8080$1"
}
status_field() {	# status_field JQ-EXPRESSION
	api /api/v1/status | $PY -c '
import json, sys
s = json.load(sys.stdin)
v = eval(sys.argv[1], {}, {"s": s})
print(json.dumps(v) if isinstance(v, (dict, list, tuple)) else v)' "$1" 2>/dev/null
}

# mkconf DIR WORKERS: the synthesized configuration at min_group_size 1,
# flushing every second, the API on the namespace's loopback, and the
# capture group with the worker count.  workers = 1 is written out too:
# it is the configuration being compared, not a default.
mkconf() {
	local d=$1 w=$2
	mkdir -p "$d"
	cp "$tmp/gen/catalog.conf" "$d/"
	(umask 077; echo "$TOKEN" >"$d/api.token")
	sed -e 's|min_group_size = [0-9]*;|min_group_size = 1;|' \
		-e 's|flush_interval = [0-9]*;|flush_interval = 1;|' \
		-e "s|^aicensus: {|aicensus: {\n  log = \"stderr\";\n  capture = { promisc = true; buffer_mb = 16; workers = $w; };\n  api = { enabled = true; listen = \"127.0.0.1:8080\"; token_file = \"api.token\"; web_dir = \"$PWD/daemon/out/dashboard\"; };|" \
		"$tmp/gen/aicensus.conf" >"$d/aicensus.conf"
}

# start DIR: aicensusd on vrx; waits for the capture and the API
start() {
	local d=$1
	(cd "$d" && exec ip netns exec "$RX" "$OLDPWD/$BUILD/aicensusd" \
		-c aicensus.conf -i vrx) >"$d/daemon.log" 2>&1 &
	dpid=$!
	wait_for 15 grep -qs "capturing on vrx" "$d/daemon.log" &&
		wait_for 10 sh -c "[ -n \"\$(ip netns exec $RX curl -s -m 1 http://127.0.0.1:8080/healthz)\" ]"
}

# stop DIR: SIGTERM, exit status 0 within 20 s
stop() {
	local d=$1 rc
	kill -TERM "$dpid"
	if wait_for 20 sh -c "! kill -0 $dpid 2>/dev/null"; then
		wait "$dpid"
		rc=$?
	else
		kill -KILL "$dpid" 2>/dev/null
		wait "$dpid"
		rc=timeout
	fi
	dpid=
	echo "$rc" >"$d/exit"
	[ "$rc" = 0 ]
}

# replay [PPS]: the capture onto vtx; "Actual: N packets" to stdout
replay() {
	ip netns exec "$TX" tcpreplay --pps "${1:-$PPS}" -i vtx "$PCAP" 2>&1
}

# finalise DIR: release what the vault holds (lab mode: the counts)
finalise() {
	local d=$1
	(cd "$d" && "$OLDPWD/$BUILD/aicensusd" -c aicensus.conf --finalise) \
		>"$d/finalise.log" 2>&1
}

# seen_in_log DIR: "SEEN PCAP_DROPS IF_DROPS" from the final log line
seen_in_log() {
	sed -nE 's/.*stopped; all counts stored \(([0-9]+) packets seen, ([0-9]+) dropped by the kernel, ([0-9]+) by the interface.*/\1 \2 \3/p' "$1/daemon.log" | tail -n 1
}

# run W: one complete live run with W workers into $tmp/wW
run() {
	local w=$1 d=$tmp/w$1 out sent p
	mkconf "$d" "$w"
	if ! start "$d"; then
		nok "workers = $w: aicensusd did not come up: $(tail -3 "$d/daemon.log" | tr '\n' ' ')"
		return 1
	fi
	ok "workers = $w: aicensusd captures on vrx, API up"
	status_field "s" >"$d/status-before.json"
	thread_times "$dpid" >"$d/threads-before"
	out=$(replay)
	sent=$(echo "$out" | sed -nE 's/.*Actual: ([0-9]+) packets.*/\1/p')
	rated=$(echo "$out" | sed -nE 's/.*Rated: .* ([0-9.]+) pps.*/\1/p')
	[ "$sent" = "$sendable" ] &&
		ok "workers = $w: tcpreplay sent all $sendable frames longer than an Ethernet header (${rated:-?} pps)" ||
		nok "workers = $w: tcpreplay sent ${sent:-nothing} of $sendable: $(echo "$out" | tail -3 | tr '\n' ' ')"
	# the daemon has seen them all once the status says so
	if wait_for 10 sh -c "[ \"\$(ip netns exec $RX curl -s -m 1 -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:8080/api/v1/status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"packets\"])' 2>/dev/null)\" = $matched ]"; then
		ok "workers = $w: the status counts $matched packets seen, every one the filter passes"
	else
		nok "workers = $w: the status counts $(status_field 's["packets"]') packets seen, want $matched"
	fi
	status_field "s" >"$d/status.json"
	thread_times "$dpid" >"$d/threads-after"
	busy_threads "$d" "$w"
	p=$(status_field '(s["pcap_drops"], s["if_drops"])')
	[ "$p" = "[0, 0]" ] && ok "workers = $w: the status reports no drop (pcap, interface)" ||
		nok "workers = $w: status drops [pcap, interface] = $p"
	workers_shown "$d/status.json" "$w"
	stop "$d" && ok "workers = $w: aicensusd stops on SIGTERM with status 0" ||
		nok "workers = $w: exit status $(cat "$d/exit") on SIGTERM"
	p=$(seen_in_log "$d")
	[ "$p" = "$matched 0 0" ] &&
		ok "workers = $w: the final log line: $matched seen, 0 dropped" ||
		nok "workers = $w: final log line seen/drops '$p', want '$matched 0 0'"
	if finalise "$d"; then
		$PY tests/workers_check.py leaves "$d/released.db" >"$d/leaves.json"
	else
		nok "workers = $w: aicensusd --finalise: $(tail -2 "$d/finalise.log" | tr '\n' ' ')"
		return 1
	fi
	p=$($PY -c 'import json,sys; b=json.load(open(sys.argv[1])); print(*(b.get("blind|"+k,{}).get("value",0) for k in ("packets","pcap_drops","if_drops")))' "$d/leaves.json")
	[ "$p" = "$matched 0 0" ] &&
		ok "workers = $w: the day blind spots hold $matched packets and no drop" ||
		nok "workers = $w: blind packets/pcap_drops/if_drops '$p', want '$matched 0 0'"
}

# thread_times PID: "TID NANOSECONDS-ON-CPU" for every thread but the main
thread_times() {
	local t
	for t in /proc/$1/task/*; do
		[ "${t##*/}" = "$1" ] && continue
		echo "${t##*/} $(cut -d' ' -f1 "$t/schedstat" 2>/dev/null)"
	done
}
# busy_threads DIR W: threads other than the main one that ran during the
# replay (the capture workers; then also the vault's commit thread)
busy_threads() {
	local n
	n=$(join "$1/threads-before" "$1/threads-after" 2>/dev/null |
		awk '$3 > $2 { n++ } END { print n + 0 }')
	echo "# workers = $2: $n threads besides the main one ran during the replay"
	echo "$n" >"$1/busy"
}

# workers_shown STATUS.json W: the status says how many capture workers run
workers_shown() {
	local got
	got=$($PY -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s.get("workers", s.get("capture_workers", "absent")))' "$1")
	[ "$got" = "$2" ] && ok "workers = $2: /api/v1/status shows $got capture workers" ||
		nok "workers = $2: /api/v1/status shows workers '$got'"
}

# both runs in one clock hour (and day): device-hours are compared
hour_clear $([ -n "$VALGRIND" ] && echo 240 || echo 90)
run 1
run 2

# --- 2 workers count what 1 worker counts, and the truth -------------------

# Both members of the fanout group got packets: with 2 workers, two more
# threads than with 1 spent CPU time during the replay.
b1=$(cat "$tmp/w1/busy" 2>/dev/null)
b2=$(cat "$tmp/w2/busy" 2>/dev/null)
[ -n "$b1" ] && [ -n "$b2" ] && [ "$b2" -ge $((b1 + 2)) ] &&
	ok "both capture workers took packets: $b2 threads besides the main one ran with 2 workers, $b1 with 1" ||
	nok "threads besides the main one that ran during the replay: ${b2:-?} with 2 workers, ${b1:-?} with 1 (want 2 more)"

d=$($PY tests/workers_check.py compare "$tmp/w1/leaves.json" "$tmp/w2/leaves.json")
check "released week cells and day blind spots of 2 workers = those of 1 worker: $d" \
	[ "$d" = same ]
TF=devices,tls,quic,ech,dns,nxdomain,bytes_up,bytes_down
for w in 1 2; do
	d=$($PY tests/workers_check.py compare "$tmp/truth.json" \
		"$tmp/w$w/leaves.json" --leaves --measures $TF)
	check "workers = $w: every department x service week leaf equals the truth ($TF): $d" \
		[ "$d" = same ]
	d=$($PY tests/workers_check.py compare "$tmp/truth.json" \
		"$tmp/w$w/leaves.json" --only 'blind|ech_unattributed')
	check "workers = $w: unattributed ECH connections equal the truth: $d" \
		[ "$d" = same ]
done

# --- SIGTERM in the middle of a replay, 2 workers -----------------------------

# The replay runs slower here (about 6 s), the daemon flushes every
# second; SIGTERM comes once a third of the packets are in and at least
# one flush has committed.  The daemon drains what both workers' sockets
# hold and flushes: every packet it says it saw is in the release, none
# dropped, and no cell holds more than the truth (a part of the capture
# cannot count more than the whole).  Which packets arrive before the
# signal is timing, so only these relations are checked, not the counts.
sigterm_run() {
	local w=2 d=$tmp/term p0 f0 seen
	mkconf "$d" $w
	if ! start "$d"; then
		nok "SIGTERM run: aicensusd did not come up: $(tail -3 "$d/daemon.log" | tr '\n' ' ')"
		return 1
	fi
	t0=$(date +%s)
	replay $((PPS / 4)) >"$d/replay.out" &
	rpid=$!
	partway() {
		local s
		s=$(status_field '"%d %d %d" % (s["packets"], (s["last_flush"]["time"] or 0), s["last_flush"]["ok"])')
		set -- $s
		[ -n "$1" ] && [ "$1" -ge $((matched / 3)) ] && [ "$2" -gt "$t0" ] && [ "$3" = 1 ]
	}
	if ! wait_for 20 partway; then
		nok "SIGTERM run: a third of the packets and a flush not seen within 20 s ($(status_field 's["packets"]') packets)"
		return 1
	fi
	p0=$(status_field 's["packets"]')
	stop "$d" && ok "SIGTERM run: aicensusd ($w workers) stops with status 0 in the middle of a replay, $p0 packets seen before the signal" ||
		nok "SIGTERM run: exit status $(cat "$d/exit") on SIGTERM during replay"
	kill -TERM "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	rpid=
	read -r seen pd id < <(seen_in_log "$d")
	[ -n "$seen" ] && [ "$seen" -ge "$p0" ] && [ "$seen" -lt "$matched" ] &&
		[ "$pd" = 0 ] && [ "$id" = 0 ] &&
		ok "SIGTERM run: the final log line: $seen seen (>= $p0 before the signal, < $matched: cut short), 0 dropped" ||
		nok "SIGTERM run: final log seen/drops '$seen $pd $id', want >= $p0, < $matched, 0 0"
	if ! finalise "$d"; then
		nok "SIGTERM run: aicensusd --finalise: $(tail -2 "$d/finalise.log" | tr '\n' ' ')"
		return 1
	fi
	$PY tests/workers_check.py leaves "$d/released.db" >"$d/leaves.json"
	p=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1])).get("blind|packets",{}).get("value",0))' "$d/leaves.json")
	[ "$p" = "$seen" ] &&
		ok "SIGTERM run: the day blind spots hold all $seen packets seen: nothing seen before the stop was lost" ||
		nok "SIGTERM run: blind packets $p, the daemon saw $seen"
	p=$($PY - "$tmp/truth.json" "$d/leaves.json" "$TF" <<'PYEOF'
import json, sys
t, g = (json.load(open(x)) for x in sys.argv[1:3])
ms = sys.argv[3].split(",")
over = [f"{k} {m} {v[m]} > {t.get(k, {}).get(m, 0)}" for k, v in g.items()
        if "*" not in k and "cat:" not in k and not k.startswith("blind|")
        for m in ms if v.get(m, 0) > t.get(k, {}).get(m, 0)]
n = sum(v.get(m, 0) for k, v in g.items() if "*" not in k and "cat:" not in k
        and not k.startswith("blind|") for m in ("tls", "quic", "dns"))
print(f"{n} over:" + "; ".join(over[:4]) if over else n)
PYEOF
)
	case $p in
	''|*over*|0) nok "SIGTERM run: released leaves against the truth: ${p:-no answer}";;
	*) ok "SIGTERM run: $p connections and lookups released, no leaf above the truth";;
	esac
}
sigterm_run

# sanitizer builds (BUILD=build-san): no report in any daemon log
san=$(grep -lE "AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:" \
	"$tmp"/*/daemon.log "$tmp"/*/finalise.log 2>/dev/null | tr '\n' ' ')
[ -z "$san" ] && ok "no sanitizer report in the daemon's or --finalise's logs" ||
	nok "sanitizer report in $san"

exit $((fails > 0))
