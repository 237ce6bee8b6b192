#!/bin/bash
# The API under load: a connection cap and a deadline for a whole request
# (daemon/out/api/api.c, "connections").  aicensusd runs live on lo in a
# network namespace of its own (tests/api_fixture.sh) with
# api.max_connections = 8 and the unit's LimitNOFILE, while tcpreplay
# loops a capture onto lo.  A slow-loris client (Python sockets) opens
# the 8 places: 7 connections that send a request line and then one
# header byte a second, 1 that asks once and then trickles its next
# request the same way; then 16 more connections that ask at once.
#
# Checks: the 16 beyond the cap get 503 (or a close) within a second;
# a fresh /healthz during the flood is answered within a second (503:
# the event loop is not blocked); the 8 slow ones are closed at the
# deadline (10 s, within 1.5 s); /healthz answers 200 within deadline +
# 1 s of the flood; the capture counted packets all along; /metrics
# counts the refusals and the timeouts exactly and the open connections;
# the process's descriptors stay within 2 per connection of what it held
# before and below LimitNOFILE; a stop with half-requests open is clean;
# a descriptor limit too low for max_connections lowers the cap (and the
# log says so).  About 25 s.
#
# Needs root (network namespace) and tcpreplay.
# test: alone (asserts response times: 503 at once during the flood, /healthz back within the deadline + 1 s)
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BUILD=${BUILD:-build}
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/sbin
export PATH LC_ALL=C

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() {	# check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else nok "$what"; fi
}

tmp=
. tests/api_fixture.sh
trap fixture_cleanup EXIT
trap 'exit 1' INT TERM HUP

missing=0
for t in ip curl openssl tcpreplay prlimit; do
	command -v "$t" >/dev/null 2>&1 || { nok "$t missing (make deps)"; missing=1; }
done
[ -x "$BUILD/aicensusd" ] || { nok "$BUILD/aicensusd missing (run make)"; missing=1; }
[ "$(id -u)" -eq 0 ] || { nok "this test needs root (network namespace)"; missing=1; }
[ $missing -eq 0 ] || exit 1

CAP=8
DEADLINE=10
EXTRA=16
NOFILE=$(sed -n 's/^LimitNOFILE=\([0-9]*\)$/\1/p' systemd/aicensusd.service)
check "systemd/aicensusd.service sets LimitNOFILE ($NOFILE)" [ -n "$NOFILE" ]
[ -n "$NOFILE" ] || exit 1

tmp=$(mktemp -d /tmp/aic-apil.XXXXXX) || exit 1
fixture_db || { nok "could not build the test database: $(tail -3 "$RUN/offline.log" 2>/dev/null)"; exit 1; }
API_EXTRA="max_connections = $CAP;"
FIXTURE_WRAP="prlimit --nofile=$NOFILE:$NOFILE"
fixture_daemon "$ROOT/daemon/out/dashboard" || { nok "aicensusd with the API did not come up"; exit 1; }
ok "aicensusd runs live on lo in $NS, max_connections = $CAP, ulimit -n $NOFILE"
check "the daemon runs with the unit's descriptor limit" \
	grep -q "^Max open files *$NOFILE *$NOFILE " "/proc/$DPID/limits"

metric() {	# metric NAME: its value from /metrics (empty when no answer)
	api_get /metrics --max-time 2 | awk -v n="$1" '$1 == n { print $2 }'
}
fds() { ls "/proc/$DPID/fd" | wc -l; }

# traffic for the capture, looped until the end
fixture_bg tcpreplay -q -i lo --pps 200 --loop 0 "$RUN/day1.pcap" \
	>"$tmp/tcpreplay.log" 2>&1
sleep 1.5
p0=$(metric aicensus_packets_total)
fd0=$(fds)
check "the capture counts the replayed packets before the flood ($p0)" [ "${p0:-0}" -gt 0 ]

# --- the flood ---------------------------------------------------------------
cat >"$tmp/loris.py" <<'EOF'
# slow-loris: CAP-1 trickling, 1 keep-alive then trickling, EXTRA at once.
# Prints one JSON line per connection: kind, when it connected, when the
# first answer came and its status, when it was closed (seconds since the
# start of the flood).
import json, select, socket, sys, time

cap, extra, run_for = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
t0 = time.monotonic()
now = lambda: time.monotonic() - t0
conns = []

def connect(kind):
    s = socket.create_connection(("127.0.0.1", 8080))
    s.setblocking(False)
    c = dict(kind=kind, sock=s, t_conn=now(), t_answer=None, status=None,
             t_closed=None, buf=b"", next_byte=now() + 1, answers=0)
    conns.append(c)
    return c

def send(c, data):
    try:
        c["sock"].send(data)
    except OSError:
        pass

for i in range(cap - 1):
    send(connect("slow"), b"GET /healthz HTTP/1.1\r\nHost: a\r\n")
    time.sleep(0.02)
send(connect("keep"), b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
time.sleep(0.3)
for i in range(extra):
    send(connect("extra"), b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
    time.sleep(0.02)

while now() < run_for:
    live = [c for c in conns if c["t_closed"] is None]
    if not live:
        break
    r, _, _ = select.select([c["sock"] for c in live], [], [], 0.05)
    for c in live:
        if c["sock"] in r:
            try:
                d = c["sock"].recv(65536)
            except OSError:
                d = b""
            if not d:
                c["t_closed"] = now()
                c["sock"].close()
                continue
            c["buf"] += d
            if c["t_answer"] is None and b"\r\n" in c["buf"]:
                c["t_answer"] = now()
                c["status"] = int(c["buf"].split(b" ")[1])
                if c["kind"] == "keep":
                    # the next request, one byte a second from now on
                    send(c, b"GET /healthz HTTP/1.1\r\n")
                    c["next_byte"] = now() + 1
        if c["t_closed"] is None and c["kind"] in ("slow", "keep") and \
                (c["kind"] == "slow" or c["t_answer"] is not None) and \
                now() >= c["next_byte"]:
            send(c, b"X")
            c["next_byte"] = now() + 1
for c in conns:
    del c["sock"], c["buf"]
    print(json.dumps(c))
EOF
t_flood=$(date +%s.%N)
ip netns exec "$NS" $PY "$tmp/loris.py" $CAP $EXTRA $((DEADLINE + 4)) \
	>"$tmp/loris.out" 2>"$tmp/loris.err" &
lpid=$!
fixture_pids+=("$lpid")
sleep 2

# During the flood: a fresh connection is answered at once (503), the
# descriptors stay bounded.
probes=0 slow=0 codes=
for i in 1 2 3; do
	c=$(in_ns curl -s -o "$tmp/probe.$i" -w '%{http_code} %{time_total}' \
		--max-time 1 http://127.0.0.1:8080/healthz)
	probes=$((probes + 1))
	codes="$codes ${c% *}"
	[ "${c% *}" = 503 ] || slow=$((slow + 1))
	sleep 0.5
done
check "during the flood a fresh /healthz is refused at once with 503 ($codes)" [ $slow -eq 0 ]
check "the refusal is a JSON error" grep -q '"status":503' "$tmp/probe.1"
fd1=$(fds)
check "descriptors during the flood: $fd1 (before: $fd0; at most $fd0 + 2 x $CAP, and below LimitNOFILE=$NOFILE)" \
	[ "$fd1" -le $((fd0 + 2 * CAP)) ] && [ "$fd1" -lt "$NOFILE" ]

# /healthz again once the slow ones are cut: within deadline + 1 s
got=
while :; do
	now=$(date +%s.%N)
	el=$(echo "$now - $t_flood" | bc)
	[ "$(echo "$el > $DEADLINE + 3" | bc)" = 1 ] && break
	c=$(in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
		http://127.0.0.1:8080/healthz)
	if [ "$c" = 200 ]; then got=$el; break; fi
	probes=$((probes + 1))
	sleep 0.2
done
check "/healthz answers 200 again ${got:-never} s after the flood began (<= $DEADLINE + 1)" \
	[ -n "$got" ] && [ "$(echo "$got <= $DEADLINE + 1" | bc)" = 1 ]
wait "$lpid"

$PY - "$tmp/loris.out" $CAP $EXTRA $DEADLINE <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cap, extra, deadline = map(int, sys.argv[2:5])
fails = 0
def check(what, cond):
    global fails
    print(("ok - " if cond else "not ok - ") + what)
    fails += not cond
slow = [r for r in rows if r["kind"] == "slow"]
keep = [r for r in rows if r["kind"] == "keep"]
more = [r for r in rows if r["kind"] == "extra"]
check("%d connections made (%d slow, 1 keep-alive, %d beyond the cap)" %
      (len(rows), len(slow), len(more)), len(rows) == cap + extra)
bad = [r for r in slow if r["t_answer"] is not None or r["t_closed"] is None
       or not deadline - 0.5 <= r["t_closed"] - r["t_conn"] <= deadline + 1.5]
check("the %d trickling connections are closed at the deadline, unanswered "
      "(after %s s)" % (len(slow), sorted(round(r["t_closed"] - r["t_conn"], 1)
      for r in slow if r["t_closed"] is not None)), not bad)
k = keep[0]
# its request came at once: the deadline was re-armed then
check("the keep-alive one got 200, then was closed %.1f s after its request "
      "while trickling the next one" % ((k["t_closed"] or 0) - k["t_conn"]),
      k["status"] == 200 and k["t_closed"] is not None and
      deadline - 0.5 <= k["t_closed"] - k["t_conn"] <= deadline + 1.5)
late = [r for r in more if r["t_closed"] is None or r["t_closed"] - r["t_conn"] > 1
        or r["status"] not in (503, None)]
check("the %d beyond the cap are closed within a second, %d of them with a "
      "503 first" % (len(more), sum(r["status"] == 503 for r in more)), not late)
sys.exit(1 if fails else 0)
EOF
[ $? -eq 0 ] || fails=$((fails + 1))

# The counters, and the capture that went on throughout.
p1=$(metric aicensus_packets_total)
check "the capture went on during the flood: packets $p0 -> $p1" \
	[ "${p1:-0}" -gt $((p0 + 200 * DEADLINE / 2)) ]
refused=$(metric aicensus_api_connections_refused_total)
timed=$(metric aicensus_api_connections_timed_out_total)
open=$(metric aicensus_api_connections)
check "/metrics: refused $refused = $EXTRA + $((probes)) probes" \
	[ "$refused" = $((EXTRA + probes)) ]
check "/metrics: timed out $timed = $CAP" [ "$timed" = $CAP ]
check "/metrics: open connections $open = 1 (this one)" [ "$open" = 1 ]
fd2=$(fds)
check "descriptors after: $fd2 (before: $fd0)" [ "$fd2" -le $((fd0 + 1)) ]
check "the daemon is still running" kill -0 "$DPID"
no_accept_errors() { ! grep -qi "accept\|too many open" "$RUN/daemon.log"; }
check "no accept() errors in the daemon's log" no_accept_errors

# A stop with connections still open (half a request each) frees them
# all: a clean exit, and nothing for the sanitizers in the build-san run.
ip netns exec "$NS" $PY -c '
import socket, sys, time
s = [socket.create_connection(("127.0.0.1", 8080)) for i in range(3)]
for c in s:
    c.send(b"GET /healthz HTTP/1.1\r\n")
sys.stdout.write("open\n"); sys.stdout.flush()
time.sleep(3)
' >"$tmp/held" 2>&1 &
hpid=$!
fixture_pids+=("$hpid")
for i in $(seq 1 20); do grep -q open "$tmp/held" && break; sleep 0.1; done
sleep 0.3
open=$(metric aicensus_api_connections)
kill -TERM "$DPID"
for i in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
wait "$DPID"
rc=$?
sanitizer_clean() { ! grep -q "Sanitizer\|runtime error" "$RUN/daemon.log"; }
check "stopped with $((open - 1)) half-requests open: exit $rc, no sanitizer report" \
	[ "$open" = 4 ] && [ $rc -eq 0 ] && sanitizer_clean
wait "$hpid" 2>/dev/null

# A descriptor limit below what max_connections needs lowers the cap to
# what fits, and says so: 80 descriptors = 64 reserved + 2 x 8.
# Under VALGRIND=1 memcheck keeps the top descriptors for itself (12 on
# Debian 12's): the limit is raised by what it keeps, so the daemon sees 80.
sed "s/max_connections = $CAP;/max_connections = 64;/" "$RUN/api.conf" >"$RUN/api64.conf"
nofile=80
if [ -n "$VALGRIND" ]; then
	seen=$(prlimit --nofile=80:80 valgrind -q sh -c 'ulimit -n' 2>/dev/null)
	nofile=$((80 + 80 - ${seen:-80}))
fi
ip netns exec "$NS" prlimit --nofile=$nofile:$nofile "$(daemon_bin)" -c "$RUN/api64.conf" -i lo \
	--db "$DB" >"$RUN/daemon80.log" 2>&1 &
DPID=$!
fixture_pids+=("$DPID")
for i in $(seq 1 100); do
	[ "$(in_ns curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/healthz)" = 200 ] && break
	sleep 0.1
done
ip netns exec "$NS" $PY -c '
import socket, time
s = [socket.create_connection(("127.0.0.1", 8080)) for i in range(10)]
time.sleep(1)
' 2>/dev/null
refused=$(metric aicensus_api_connections_refused_total)
check "with ulimit -n 80 and max_connections = 64 the cap is 8: 2 of 10 idle connections refused ($refused)" \
	[ "$refused" = 2 ]
check "... and the log says why" grep -q "max_connections = 64 needs 192 file descriptors.*allows 8 connections" "$RUN/daemon80.log"

echo "# $fails failed"
[ $fails -eq 0 ]
