#!/bin/bash
# capture.workers in operation (tests/e2e/workers.sh compares plain runs
# and measures): a reload (SIGHUP) in the middle of a replay of the
# synthesized capture, with workers = 1 and with workers = 2, releases
# the same cells and blind spots; under a fake systemd (NOTIFY_SOCKET,
# WATCHDOG_USEC) 2 workers report READY, ping the watchdog, reload
# (RELOADING/READY) and stop (STOPPING, exit 0); out-of-range worker
# counts are refused by -n; a detector plugin with 2 workers is refused
# with a message naming it.
#
#   aic-otx-PID  vtx (no address)  <-- veth -->  vrx (no address)  aic-orx-PID
#                tcpreplay                       aicensusd -i vrx
#
# No address on either end, IPv6 off: nothing leaves the namespaces.
# Needs root.  BUILD=build-san for the sanitizer build.
# test: alone (live replays whose counts are compared exactly: the capture must keep up, so no other part beside it)
cd "$(dirname "$0")/../.." || exit 1
. tests/netns_lib.sh
BUILD=${BUILD:-build}
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/sbin
export PATH LC_ALL=C
PPS=${WORKERS_PPS:-8000}
TX=aic-otx-$$
RX=aic-orx-$$

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

tmp=
dpid=
netns_made=0
cleanup() {
	local i
	if [ -n "$dpid" ]; then
		kill -TERM "$dpid" 2>/dev/null
		for i in $(seq 1 50); do
			kill -0 "$dpid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
	fi
	if [ $netns_made -eq 1 ]; then
		ip netns del "$TX" 2>/dev/null
		ip netns del "$RX" 2>/dev/null
	fi
	[ -n "$tmp" ] && [ -z "$KEEP" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

missing=0
for t in ip tcpreplay sqlite3 cc; do
	command -v "$t" >/dev/null 2>&1 || { nok "$t missing"; missing=1; }
done
[ -x "$BUILD/aicensusd" ] || { nok "$BUILD/aicensusd missing (make)"; missing=1; }
[ "$(id -u)" -eq 0 ] || { nok "live capture test needs root"; missing=1; }
[ $missing -eq 0 ] || exit 1

tmp=$(mktemp -d /tmp/aic-wops.XXXXXX) || exit 1
$PY tests/synth/synth.py --seed 1 --out "$tmp/gen" >"$tmp/synth.log" 2>&1 ||
	{ nok "synthesizer failed"; exit 1; }


# --- configuration checks (no capture) -----------------------------------

mkconf() {	# mkconf DIR WORKERS [EXTRA]
	mkdir -p "$1"
	cp "$tmp/gen/catalog.conf" "$1/"
	sed -e 's|min_group_size = [0-9]*;|min_group_size = 1;|' \
		-e 's|flush_interval = [0-9]*;|flush_interval = 1;|' \
		-e "s|^aicensus: {|aicensus: {\n  log = \"stderr\";\n  capture = { promisc = true; buffer_mb = 16; workers = $2; };$3|" \
		"$tmp/gen/aicensus.conf" >"$1/aicensus.conf"
}
for w in 0 65; do
	mkconf "$tmp/bad$w" $w
	out=$("$BUILD/aicensusd" -n -c "$tmp/bad$w/aicensus.conf" 2>&1)
	rc=$?
	[ $rc -ne 0 ] && echo "$out" | grep -q "workers" &&
		ok "aicensusd -n refuses capture.workers = $w: $(echo "$out" | head -1 | cut -c1-90)" ||
		nok "capture.workers = $w: exit $rc, '$out'"
done
mkconf "$tmp/good" 64
"$BUILD/aicensusd" -n -c "$tmp/good/aicensus.conf" >/dev/null 2>&1 &&
	ok "aicensusd -n takes capture.workers = 64" ||
	nok "aicensusd -n refuses capture.workers = 64"

# --- the network -----------------------------------------------------------

setup_net() { netns_pair "$TX" "$RX"; }
link_up() { ip -n "$RX" link show vrx | grep -q LOWER_UP; }
if setup_net && wait_for 5 link_up; then
	ok "namespaces $TX and $RX joined by a veth pair with no address"
else
	nok "could not set up the namespaces"
	exit 1
fi

# --- a detector plugin is refused with workers > 1 ---------------------------

mkdir -p "$tmp/plug"
cat >"$tmp/plug/udp_probe.c" <<'EOF'
#include <stddef.h>
#include "aicensus_plugin.h"
static int probe(void *s, const struct aic_payload *pl)
{ (void)s; (void)pl; return AIC_UDP_NOT_MINE; }
static const struct aic_plugin pl = { .abi = AIC_PLUGIN_ABI,
	.name = "udp_probe", .version = "1", .udp = probe };
const struct aic_plugin *aicensus_plugin(void);
const struct aic_plugin *aicensus_plugin(void) { return &pl; }
EOF
cc -shared -fPIC -Iplugins "$tmp/plug/udp_probe.c" -o "$tmp/plug/udp_probe.so" ||
	nok "cannot build the probe plugin"
mkconf "$tmp/plugin" 2 "\n  plugin_dir = \"$tmp/plug\";\n  plugins = [ \"udp_probe\" ];"
(cd "$tmp/plugin" && timeout 20 ip netns exec "$RX" "$OLDPWD/$BUILD/aicensusd" \
	-c aicensus.conf -i vrx) >"$tmp/plugin/daemon.log" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "detector plugin udp_probe" "$tmp/plugin/daemon.log" &&
	grep -q "capture.workers = 1" "$tmp/plugin/daemon.log" &&
	ok "2 workers with a detector plugin: refused at start ($(grep -o 'plugins are not known to be thread-safe' "$tmp/plugin/daemon.log"))" ||
	nok "2 workers with a detector plugin: exit $rc: $(tail -2 "$tmp/plugin/daemon.log")"

# --- a reload in the middle of a replay, 1 and 2 workers, as systemd runs it --

# notify listener: every datagram on $1 appended to $2, until killed
listen() {
	$PY - "$1" "$2" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
        f.flush()
EOF
	lpid=$!
}

run() {	# run W
	local w=$1 d=$tmp/w$1 rc rpid
	mkconf "$d" "$w"
	listen "$d/notify.sock" "$d/notify.txt"
	wait_for 5 test -S "$d/notify.sock"
	(cd "$d" && NOTIFY_SOCKET=$d/notify.sock WATCHDOG_USEC=1000000 \
		exec ip netns exec "$RX" "$OLDPWD/$BUILD/aicensusd" \
		-c aicensus.conf -i vrx) >"$d/daemon.log" 2>&1 &
	dpid=$!
	if ! wait_for 20 grep -qs "READY=1" "$d/notify.txt"; then
		nok "workers = $w: no READY=1: $(tail -2 "$d/daemon.log")"
		kill "$lpid"
		return
	fi
	ip netns exec "$TX" tcpreplay --pps "$PPS" -i vtx "$tmp/gen/traffic.pcap" \
		>"$d/replay.log" 2>&1 &
	rpid=$!
	sleep 0.7
	kill -HUP "$dpid"
	wait "$rpid"
	wait_for 10 grep -qs "configuration reloaded" "$d/daemon.log" &&
		ok "workers = $w: SIGHUP in the middle of the replay: reloaded" ||
		nok "workers = $w: no reload in the log"
	sleep 1
	kill -TERM "$dpid"
	wait_for 20 sh -c "! kill -0 $dpid 2>/dev/null"
	wait "$dpid"
	rc=$?
	dpid=
	sleep 0.3
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	[ $rc -eq 0 ] && ok "workers = $w: stops on SIGTERM with status 0" ||
		nok "workers = $w: exit $rc: $(tail -2 "$d/daemon.log")"
	n=$(grep -c "WATCHDOG=1" "$d/notify.txt")
	grep -q "RELOADING=1" "$d/notify.txt" && grep -q "STOPPING=1" "$d/notify.txt" &&
		[ "$n" -ge 2 ] &&
		ok "workers = $w: systemd saw READY, $n watchdog pings, RELOADING and STOPPING" ||
		nok "workers = $w: notify messages: $(tr '\n' ' ' <"$d/notify.txt" | cut -c1-200)"
	(cd "$d" && "$OLDPWD/$BUILD/aicensusd" -c aicensus.conf --finalise) \
		>"$d/finalise.log" 2>&1 || nok "workers = $w: --finalise failed"
	sqlite3 "$d/released.db" "SELECT kind, dept, svc, devices, devhours, tls, quic, ech, conns, dns, nxdomain, bytes_up, bytes_down FROM cell ORDER BY 1, 2, 3" >"$d/cells.txt"
	sqlite3 "$d/released.db" "SELECT name, SUM(value) FROM blind GROUP BY name ORDER BY 1" >"$d/blind.txt" 2>/dev/null ||
		sqlite3 "$d/released.db" "SELECT * FROM blind ORDER BY 1, 2" >"$d/blind.txt"
}

# both runs in one clock hour (and day): device-hours are compared
hour_clear $([ -n "$VALGRIND" ] && echo 240 || echo 90)
run 1
run 2
if [ -s "$tmp/w1/cells.txt" ] && cmp -s "$tmp/w1/cells.txt" "$tmp/w2/cells.txt" &&
	cmp -s "$tmp/w1/blind.txt" "$tmp/w2/blind.txt"; then
	ok "with a reload mid-replay, 2 workers release what 1 does ($(wc -l <"$tmp/w1/cells.txt") cells, blind spots equal)"
else
	nok "2 workers differ from 1 after a reload: $(diff "$tmp/w1/cells.txt" "$tmp/w2/cells.txt" | head -4 | tr '\n' ' ')"
fi
grep -q "2 capture workers (packet fanout)" "$tmp/w2/daemon.log" &&
	ok "the log says 2 capture workers run" || nok "no worker line in the log"
if grep -Eq '([0-9]{1,3}\.){3}[0-9]{1,3}' "$tmp/w2/daemon.log"; then
	nok "the log of 2 workers holds an address"
else
	ok "the log of 2 workers holds no address"
fi

exit $((fails > 0))
