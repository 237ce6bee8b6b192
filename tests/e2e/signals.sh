#!/bin/bash
# Live mode and signals: aicensusd captures on one end of a veth pair
# inside a private network namespace while tcpreplay sends the
# synthesized capture into the other end.  Nothing can leave the
# namespace: the pair has no addresses, no routes, no other interface.
#
# Live timestamps are "now", not the capture's, so the stored hours say
# nothing; what must hold exactly is the total per (department, service)
# over all hours.  flush_interval is 3600 so that only a signal (or a
# reload, which stores before re-keying) writes to the database: any
# count a signal loses shows up as a difference.
#
# Two deliberate changes to the replayed traffic, both prepared below:
#  - the DNS answer of the "stale" ECH case is removed.  In the capture it
#    comes 1800 s before the connection (TTL 60), so the truth leaves the
#    connection unattributed; replayed in 3 s it would be fresh and count.
#    The answer counts for nothing else (the query still counts).
#  - a second replay into the same daemon uses a copy whose client ports
#    are moved (XOR 0x8000, checksums fixed).  The same 5-tuple with the
#    same QUIC DCID seconds later is a retransmission, and rightly not a
#    new connection, so the identical capture twice would not double.
#
# Checks: SIGTERM and SIGINT store everything and exit 0; a good SIGHUP
# reloads (and stores first), a broken one is refused with file:line and
# changes nothing; 50 SIGHUPs during traffic lose nothing; a SIGTERM sent
# the instant the traffic ends still gets the kernel's last block; no
# daemon log holds a client address.  About 45 s.
#
# Needs root, ip(8) and tcpreplay; prints "# SKIP" and exits 0 without.
# AIC_SIG_PPS sets the replay rate (default 4000 packets/s).
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
PPS=${AIC_SIG_PPS:-4000}
NS=aic-sig-$$
DAEMON=$PWD/$BUILD/aicensusd
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null ||
	! command -v tcpreplay >/dev/null; then
	echo "# SKIP signals: needs root, ip(8) and tcpreplay"
	exit 0
fi
[ -x "$DAEMON" ] || { nok "$DAEMON is not built"; exit 1; }

out=$(mktemp -d /tmp/aic-sig.XXXXXX)
dpid=
rpid=
cleanup() {
	[ -n "$rpid" ] && kill -KILL "$rpid" 2>/dev/null
	[ -n "$dpid" ] && kill -KILL "$dpid" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- the traffic --------------------------------------------------------

$PY tests/synth/synth.py --seed 1 --out "$out/gen" >/dev/null ||
	{ nok "synthesizer failed"; exit 1; }
cp "$out/gen/truth.json" "$out/truth.json"

# live.pcap (stale ECH answer removed) and live-b.pcap (the same with the
# client ports moved); prints "<answers removed> <frames tcpreplay can send>"
prep=$($PY - "$out/gen/traffic.pcap" "$out/truth.json" "$out/live.pcap" \
	"$out/live-b.pcap" <<'EOF'
import json, struct, sys

SERVER_PORTS = {53, 443, 8443}

def frames(path):
    data = open(path, "rb").read()
    e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off = 24
    while off + 16 <= len(data):
        cl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        ts = struct.unpack(e + "I", data[off:off + 4])[0]
        yield data[off:off + 16], ts, data[off + 16:off + 16 + cl]
        off += 16 + cl

def headers(f):
    """(offset of the IP header, IP version, offset of the transport
    header, protocol), or None."""
    if len(f) < 14:
        return None
    et, o = struct.unpack(">H", f[12:14])[0], 14
    while et in (0x8100, 0x88a8) and len(f) >= o + 4:
        et, o = struct.unpack(">H", f[o + 2:o + 4])[0], o + 4
    if et == 0x0800 and len(f) >= o + 20:
        return o, 4, o + (f[o] & 15) * 4, f[o + 9]
    if et == 0x86dd and len(f) >= o + 40:
        return o, 6, o + 40, f[o + 6]
    return None

def transport(f):
    """headers(f) when f holds a whole TCP or UDP header, else None."""
    h = headers(f)
    if h is None or h[3] not in (6, 17):
        return None
    return h if len(f) >= h[2] + (20 if h[3] == 6 else 8) else None

def parse(f):
    """(src, dst, proto, sport, dport, payload) or None."""
    h = transport(f)
    if h is None:
        return None
    o, v, l4, proto = h
    src, dst = ((f[o + 12:o + 16], f[o + 16:o + 20]) if v == 4 else
                (f[o + 8:o + 24], f[o + 24:o + 40]))
    sp, dp = struct.unpack(">HH", f[l4:l4 + 4])
    data = f[l4 + (f[l4 + 12] >> 4) * 4:] if proto == 6 else f[l4 + 8:]
    return src, dst, proto, sp, dp, data

def csum_fix(c, old, new):
    # RFC 1624: incremental update of a one's complement checksum
    s = (~c & 0xffff) + (~old & 0xffff) + new
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def move_ports(f, x):
    """The frame with every client (non-server) port XORed with x."""
    h = transport(f)
    if h is None:
        return f
    l4, proto = h[2], h[3]
    b = bytearray(f)
    ck = l4 + (16 if proto == 6 else 6)
    for po in (l4, l4 + 2):
        old = struct.unpack(">H", b[po:po + 2])[0]
        if old in SERVER_PORTS:
            continue
        new = old ^ x
        assert new not in SERVER_PORTS, "a moved port became a server port"
        b[po:po + 2] = struct.pack(">H", new)
        c = struct.unpack(">H", b[ck:ck + 2])[0]
        if proto == 6 or c != 0:
            b[ck:ck + 2] = struct.pack(">H", csum_fix(c, old, new))
    return bytes(b)

src, truth, out_a, out_b = sys.argv[1:5]
cases = [c for c in json.load(open(truth))["cases"]
         if c["case"] == "ech-unattributed-stale"]
assert len(cases) == 1, "no stale-answer ECH case in the truth"
t0 = cases[0]["time"]
pkts = list(frames(src))
ech = {(p[0], p[1]) for h, ts, f in pkts if t0 - 5 <= ts <= t0 + 15
       for p in [parse(f)] if p and p[2] == 6 and b"cloudflare-ech.com" in p[5]}
assert len(ech) == 1, "the stale ECH connection is not unique"
client, server = ech.pop()
removed = sendable = 0
tup_a, tup_b = set(), set()
with open(out_a, "wb") as a, open(out_b, "wb") as b:
    a.write(open(src, "rb").read(24))
    b.write(open(src, "rb").read(24))
    for h, ts, f in pkts:
        p = parse(f)
        if (p and p[2] == 17 and p[3] == 53 and p[1] == client and
                server in p[5] and ts < t0 - 600):
            removed += 1
            continue
        sendable += len(f) >= 14
        g = move_ports(f, 0x8000)
        a.write(h + f)
        b.write(h + g)
        for fr, s in ((f, tup_a), (g, tup_b)):
            q = parse(fr)
            if q:
                s.add(q[:5])
assert not tup_a & tup_b, "the port-moved copy reuses a flow of the original"
print(removed, sendable)
EOF
) || { nok "preparing the replay captures failed"; exit 1; }
read -r removed sendable <<<"$prep"
[ "$removed" = 1 ] && ok "replay capture prepared: the stale ECH answer removed, $sendable frames to send" ||
	nok "replay capture: removed $removed stale answers, expected 1"

# --- the namespace ------------------------------------------------------

nsx() { ip netns exec "$NS" "$@"; }
ip netns add "$NS" || { nok "cannot create network namespace $NS"; exit 1; }
# no IPv6 autoconfiguration chatter on the pair
nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
# MTU 9000: the capture has 1522-byte frames (802.1ad + 802.1Q)
if nsx ip link add v0 mtu 9000 type veth peer name v1 mtu 9000 &&
	nsx ip link set v0 up && nsx ip link set v1 up; then
	ok "namespace $NS with veth pair v0/v1 and nothing else"
else
	nok "cannot set up veth v0/v1 in $NS"
	exit 1
fi

# --- helpers ------------------------------------------------------------

# a zone whose week does not end during the test (faults_lib.py livetz)
TZONE=$($PY tests/faults_lib.py livetz)

base_conf() {	# $1 = run directory
	mkdir -p "$1"
	cp "$out/gen/catalog.conf" "$1/"
	sed -e 's/flush_interval = [0-9]*;/flush_interval = 3600;/' \
		-e "s|timezone = \"UTC\";|timezone = \"$TZONE\";|" \
		"$out/gen/aicensus.conf" >"$1/aicensus.conf"
	grep -q 'flush_interval = 3600;' "$1/aicensus.conf" ||
		{ nok "cannot set flush_interval = 3600 in $1/aicensus.conf"; return 1; }
}

# A good change: a new first department, so every index moves.
extra_conf() {	# $1 = source, $2 = destination
	sed 's|^  departments = (|&\n    { name = "Extra"; prefixes = ["10.99.0.0/16"]; },|' \
		"$1" >"$2"
}

start() {	# $1 = run directory
	run=$1
	# not through nsx: $! must be the daemon (ip netns exec execs it),
	# not a subshell that would take the signals itself
	ip netns exec "$NS" "$DAEMON" -c "$run/aicensus.conf" -i v1 \
		2>"$run/daemon.log" &
	dpid=$!
	for _ in $(seq 300); do
		grep -q 'capturing on v1' "$run/daemon.log" && return 0
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.1
	done
	nok "daemon did not start: $(tail -2 "$run/daemon.log")"
	# not left behind: cleanup's wait would wait for it forever
	kill -KILL "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	dpid=
	return 1
}

replay() {	# $1 = capture; in the background with $2 = bg
	local log=$run/replay.$RANDOM.log
	if [ "$2" = bg ]; then
		ip netns exec "$NS" tcpreplay -q -i v0 --pps "$PPS" "$1" \
			>"$log" 2>&1 &
		rpid=$!
		replay_log=$log
		return 0
	fi
	nsx tcpreplay -q -i v0 --pps "$PPS" "$1" >"$log" 2>&1
	replay_log=$log
	replay_check
}

replay_check() {
	local n
	n=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$replay_log")
	[ "$n" = "$sendable" ] ||
		nok "tcpreplay sent ${n:-no} packets, expected $sendable: $(grep -m2 -i error "$replay_log")"
	# let the kernel hand over its last capture block, unless the test
	# is about the daemon doing that itself ($1 = nosettle)
	[ "$1" = nosettle ] || sleep 2
}

alive() { kill -0 "$dpid" 2>/dev/null; }

# Send signal $1; wait up to 10 s; sets rc and secs.
stop() {
	local t0=$SECONDS
	kill -"$1" "$dpid"
	for _ in $(seq 100); do
		alive || break
		sleep 0.1
	done
	if alive; then
		rc=timeout
		kill -KILL "$dpid"
	else
		wait "$dpid"
		rc=$?
	fi
	dpid=
	secs=$((SECONDS - t0))
}

stopped_ok() {	# $1 = what, $2 = signal number
	[ "$rc" = 0 ] && ok "$1: daemon exits 0 (in ${secs}s)" ||
		nok "$1: daemon exit status $rc: $(tail -2 "$run/daemon.log")"
	grep -q "signal $2: storing counts and stopping" "$run/daemon.log" &&
		grep -q 'stopped; all counts stored' "$run/daemon.log" &&
		ok "$1: log says all counts stored" ||
		nok "$1: log lacks the final store: $(tail -2 "$run/daemon.log")"
}

# Totals per (department, service) over all hours == $2 x the truth, as
# the vault holds them (tests/faults_lib.py reads a finalised copy).
totals() {	# $1 = what, $2 = multiple
	$PY tests/faults_lib.py totals "$run/aicensus.db" "$out/truth.json" "$2" \
		"$1" "$PPS" || fails=$((fails + 1))
}

# --- (a) SIGTERM ----------------------------------------------------------

base_conf "$out/a" && start "$out/a" && {
	replay "$out/live.pcap"
	stop TERM
	stopped_ok "SIGTERM" 15
	totals "SIGTERM after one replay" 1
}

# --- (b) SIGHUP with a good new configuration ----------------------------

base_conf "$out/b" && start "$out/b" && {
	replay "$out/live.pcap"
	# plus an edit that only a restart applies: named, not silently kept
	extra_conf "$run/aicensus.conf" "$run/new.conf"
	sed -i 's/flush_interval = 3600;/flush_interval = 1800;/' "$run/new.conf"
	mv "$run/new.conf" "$run/aicensus.conf"
	kill -HUP "$dpid"
	for _ in $(seq 300); do
		grep -q 'configuration reloaded' "$run/daemon.log" && break
		sleep 0.1
	done
	grep -q 'configuration reloaded: 5 departments' "$run/daemon.log" && alive &&
		ok "SIGHUP with a good configuration: \"configuration reloaded\", still running" ||
		nok "SIGHUP (good): $(tail -2 "$run/daemon.log")"
	notes=$(grep -o 'reload: .* takes effect at restart' "$run/daemon.log" | sort -u | tr '\n' ';')
	[ "$notes" = "reload: flush_interval takes effect at restart;" ] &&
		ok "SIGHUP: the restart-only edit is named once, nothing else ($notes)" ||
		nok "SIGHUP: restart-only notes: '$notes'"
	totals "SIGHUP (good) stores what was counted before re-keying" 1
	replay "$out/live-b.pcap"
	stop TERM
	stopped_ok "SIGTERM after a reload" 15
	totals "replay, reload, replay, SIGTERM" 2
}

# --- (c) SIGHUP with a broken configuration ------------------------------

base_conf "$out/c" && start "$out/c" && {
	replay "$out/live.pcap"
	cp "$run/aicensus.conf" "$run/good.conf"
	sed -i '10a\  = 5;' "$run/aicensus.conf"	# line 11: a value without a name
	kill -HUP "$dpid"
	for _ in $(seq 300); do
		grep -q 'reload rejected' "$run/daemon.log" && break
		sleep 0.1
	done
	n=$(grep -c 'reload rejected' "$run/daemon.log")
	line=$(grep 'reload rejected' "$run/daemon.log")
	[ "$n" = 1 ] && echo "$line" | grep -qF "$run/aicensus.conf:11: " &&
		ok "SIGHUP with a syntax error: one line naming file and line ($(echo "$line" | sed 's|/tmp/[^:]*/||'))" ||
		nok "SIGHUP (broken): $n rejection lines: $line"
	alive && ! grep -q 'configuration reloaded' "$run/daemon.log" &&
		ok "SIGHUP (broken): the daemon keeps running on the old configuration" ||
		nok "SIGHUP (broken): daemon gone or reloaded anyway"
	replay "$out/live-b.pcap"
	stop TERM
	stopped_ok "SIGTERM after a rejected reload" 15
	# the vault is read with the configuration it was written under
	cp "$run/good.conf" "$run/aicensus.conf"
	totals "replay, rejected reload, replay, SIGTERM" 2
}

# --- (d) SIGINT -----------------------------------------------------------

base_conf "$out/d" && start "$out/d" && {
	replay "$out/live.pcap"
	stop INT
	stopped_ok "SIGINT" 2
	totals "SIGINT after one replay" 1
}

# --- (e) a storm of SIGHUPs during a replay ------------------------------

# The configuration alternates between the base and one with a new first
# department (swapped in atomically), so reloads re-key counts in flight.
base_conf "$out/e" && start "$out/e" && {
	cp "$run/aicensus.conf" "$run/one.conf"
	extra_conf "$run/one.conf" "$run/two.conf"
	replay "$out/live.pcap" bg
	sent=0
	for i in $(seq 50); do
		[ $((i % 2)) = 1 ] && c=two || c=one
		cp "$run/$c.conf" "$run/next.conf" && mv "$run/next.conf" "$run/aicensus.conf"
		kill -HUP "$dpid" 2>/dev/null && sent=$((sent + 1))
		sleep 0.04
	done
	still=$(kill -0 "$rpid" 2>/dev/null && echo yes || echo no)
	wait "$rpid"
	rpid=
	replay_check
	nr=$(grep -c 'configuration reloaded' "$run/daemon.log")
	alive && [ "$sent" = 50 ] &&
		ok "50 SIGHUPs during a replay (replay still running after them: $still): no crash, $nr reloads logged" ||
		nok "SIGHUP storm: daemon gone after $sent signals: $(tail -2 "$run/daemon.log")"
	grep -q 'reload rejected' "$run/daemon.log" &&
		nok "SIGHUP storm: a good configuration was rejected: $(grep -m1 'reload rejected' "$run/daemon.log")"
	stop TERM
	stopped_ok "SIGTERM after the SIGHUP storm" 15
	totals "SIGHUP storm during a replay" 1
}

# --- (g) SIGTERM at once after the traffic ------------------------------

# The kernel hands a capture block over when it is full or after the
# capture timeout (100 ms); a stop must wait for that before its final
# flush, or the last packets before the signal are lost.
base_conf "$out/g" && start "$out/g" && {
	replay_log=$run/replay.log
	nsx tcpreplay -q -i v0 --pps "$PPS" "$out/live.pcap" >"$replay_log" 2>&1
	stop TERM		# at once: even a fork here gives the kernel time
	replay_check nosettle
	stopped_ok "SIGTERM right after the traffic" 15
	totals "SIGTERM right after the traffic (no pause): nothing lost" 1
}

# --- (f) no client address in any log -------------------------------------

leak=$($PY - "$out/truth.json" "$out"/?/daemon.log <<'EOF'
import ipaddress, json, re, sys
addrs = json.load(open(sys.argv[1]))["client_addresses"]
text = "".join(open(p, errors="replace").read() for p in sys.argv[2:])
forms = set()
for a in addrs:
    ip = ipaddress.ip_address(a)
    forms.update({str(ip), ip.exploded})
hits = [f for f in forms if re.search(r"(?<![0-9A-Fa-f.:])" + re.escape(f) +
                                      r"(?![0-9A-Fa-f.:])", text, re.I)]
print(len(addrs), " ".join(sorted(hits)[:3]))
EOF
)
read -r naddr hits <<<"$leak"
[ -n "$naddr" ] && [ -z "$hits" ] &&
	ok "no client address (of $naddr) in any daemon log" ||
	nok "client address in a daemon log: ${hits:-scan failed}"

exit $((fails > 0))
