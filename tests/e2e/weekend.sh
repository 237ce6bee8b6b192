#!/bin/bash
# The ISO week boundary: the week's figures are released and its key is
# destroyed by the daemon's own timer, with no traffic at all; after
# downtime across the boundary, at start-up; and a SIGKILL at any moment
# of that start-up release neither loses the week nor releases it twice.
#
# Traffic of the current (real) week is counted live on the loopback
# interface of a network namespace made here (DNS queries from 127.0.0.1
# to a closed port); then the daemon is run under faketime (libfaketime)
# a few seconds before next Monday 00:00 and after it.  Packets carry the
# kernel's real time, the daemon's clock is the faked one, so only the
# release schedule sees the fake time.  Lab mode (min_group_size 1): the
# released figures are the counts and can be compared run with run.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
DAEMON=$PWD/$BUILD/aicensusd
NS=aic-wkend-$$
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

[ "$(id -u)" -eq 0 ] || { nok "needs root (network namespace)"; exit 1; }
FAKELIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
[ -n "$FAKELIB" ] || { nok "libfaketime is missing (make test-deps)"; exit 1; }
tmp=$(mktemp -d /tmp/aic-wkend.XXXXXX)
dpid=
cleanup() {
	[ -n "$dpid" ] && kill -KILL "$dpid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$NS" && ip -n "$NS" link set lo up ||
	{ nok "cannot make a network namespace"; exit 1; }

cat >"$tmp/catalog.conf" <<'EOF'
version = 1;
services = (
  { id = "openai-chatgpt"; name = "ChatGPT"; vendor = "OpenAI"; category = "chat";
    jurisdiction = "US"; domains = [ "chatgpt.com" ]; hosts = [ ]; },
  { id = "anthropic-claude"; name = "Claude"; vendor = "Anthropic"; category = "chat";
    jurisdiction = "US"; domains = [ "claude.ai" ]; hosts = [ ]; }
);
EOF
cat >"$tmp/aicensus.conf" <<'EOF'
aicensus = {
  interface = "lo";
  database = "aicensus.db";
  release_database = "released.db";
  state_dir = "state";
  catalog = "catalog.conf";
  user = "";
  log = "stderr";
  log_level = "debug";
  flush_interval = 2;
  min_group_size = 1;
  timezone = "UTC";
  departments = ( { name = "Lab"; prefixes = [ "127.0.0.0/8" ]; } );
};
EOF
"$DAEMON" -n -c "$tmp/aicensus.conf" >"$tmp/check.log" 2>&1 ||
	{ nok "test configuration refused: $(cat "$tmp/check.log")"; exit 1; }

# $1 = run directory (a copy of $tmp's files); the rest: faketime spec or ""
start() {
	local d=$1 fake=$2
	if [ -n "$fake" ]; then
		# the library itself, not the faketime wrapper, which forks:
		# $dpid must be the daemon, for SIGKILL to hit it
		(cd "$d" && exec ip netns exec "$NS" env LD_PRELOAD="$FAKELIB" \
			FAKETIME="$fake" FAKETIME_DONT_FAKE_MONOTONIC=1 \
			ASAN_OPTIONS=verify_asan_link_order=0 \
			"$DAEMON" -c aicensus.conf 2>>daemon.log) &
	else
		(cd "$d" && exec ip netns exec "$NS" "$DAEMON" -c aicensus.conf \
			2>>daemon.log) &
	fi
	dpid=$!
}
stop() {
	kill -TERM "$dpid" 2>/dev/null
	wait "$dpid"
	dpid=
}
wait_log() {	# $1 = run dir, $2 = pattern, $3 = tenths of a second
	local n=$3
	while [ "$n" -gt 0 ]; do
		grep -q "$2" "$1/daemon.log" 2>/dev/null && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
cells() {	# released cells of a run, stable text
	sqlite3 "$1/released.db" "SELECT kind, period, dept, svc, devices, devhours,
		conns, dns FROM cell ORDER BY 1, 2, 3, 4" 2>/dev/null
}
lookups() {
	ip netns exec "$NS" $PY - <<'EOF'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i, name in enumerate(["chatgpt.com", "claude.ai", "chatgpt.com"] * 4):
    q = struct.pack(">HHHHHH", 0x1000 + i, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    q += struct.pack(">HH", 1, 1)
    s.sendto(q, ("127.0.0.1", 53))
EOF
}

# --- this week's counts, live, in the vault ------------------------------

base=$tmp/base
mkdir -p "$base"
cp "$tmp/aicensus.conf" "$tmp/catalog.conf" "$base/"
start "$base" ""
wait_log "$base" "capturing on lo" 300 || nok "daemon did not start: $(tail -2 "$base/daemon.log")"
sleep 0.5
lookups
sleep 3
stop
week=$(date -u +%G%V)
keyf=$base/state/week-$week.key
[ -f "$keyf" ] && [ "$(stat -c %a "$keyf")" = 600 ] &&
	ok "live counting made this week's key ($(basename "$keyf"), 0600)" ||
	nok "no key file for week $week: $(ls "$base/state" 2>&1 | tr '\n' ' ')"
[ "$(stat -c %a "$base/state")" = 700 ] && ok "the state directory is 0700" ||
	nok "state directory mode $(stat -c %a "$base/state")"
n=$(sqlite3 "$base/released.db" "SELECT COUNT(*) FROM period WHERE kind = 2" 2>/dev/null)
[ "${n:-0}" = 0 ] && ok "nothing of the running week is released yet" ||
	nok "the running week was released early ($n week periods)"

# Next Monday 00:00 UTC of the real week, as epoch seconds.
monday=$($PY -c 'import datetime as d
t = d.datetime.now(d.timezone.utc)
m = (t - d.timedelta(days=t.weekday())).replace(hour=0, minute=0, second=0, microsecond=0) + d.timedelta(days=7)
print(int(m.timestamp()))')
at() { date -u -d "@$1" '+@%Y-%m-%d %H:%M:%S'; }

# --- (a) the timer, no traffic: Sunday 23:59:54 -> Monday ----------------

a=$tmp/a
cp -a "$base" "$a"
: >"$a/daemon.log"
start "$a" "$(at $((monday - 6)))"
wait_log "$a" "capturing on lo" 300
released=0
for i in $(seq 1 150); do
	[ ! -e "$a/state/week-$week.key" ] && released=1 && break
	sleep 0.1
done
stop
n=$(sqlite3 "$a/released.db" "SELECT COUNT(*) FROM period WHERE kind = 2 AND period = $week")
[ $released = 1 ] && [ "$n" = 1 ] &&
	ok "at the week boundary, with no traffic, the timer released week $week and destroyed its key" ||
	nok "week boundary without traffic: key still there=$((1 - released)), week periods released=$n: $(tail -3 "$a/daemon.log" | tr '\n' ' ')"
v=$(sqlite3 "$a/aicensus.db" "SELECT COUNT(*) FROM delta WHERE week = $week" 2>&1)
[ "$v" = 0 ] && ok "no sealed row of the finished week is left in the vault" ||
	nok "vault rows of week $week after its release: $v"
want=$(cells "$a")
c=$(echo "$want" | awk -F'|' '$1 == 2 && $3 == "*" && $4 == "*" {print $7 "/" $8}')
[ "$c" = "0/12" ] && ok "the released week holds the 12 lookups counted live (connections/lookups $c)" ||
	nok "released organisation week: connections/lookups '$c', want 0/12"

# --- (b) downtime across the boundary: start on Tuesday ------------------

b=$tmp/b
cp -a "$base" "$b"
: >"$b/daemon.log"
start "$b" "$(at $((monday + 86400 + 3600)))"
wait_log "$b" "capturing on lo" 300
stop
[ ! -e "$b/state/week-$week.key" ] && [ "$(cells "$b")" = "$want" ] &&
	ok "after downtime across the boundary, start-up released the week (same cells) and destroyed its key" ||
	nok "start-up after downtime: key left=$([ -e "$b/state/week-$week.key" ] && echo yes || echo no), cells differ: $(diff <(cells "$b") <(echo "$want") | head -3 | tr '\n' ' ')"

# --- (c) SIGKILL at every moment of that start-up release ----------------

killed=0 bad=0 runs=0
for ms in 0 2 4 6 8 10 12 15 18 22 26 30 35 40 50 60 80 100 130 170; do
	c=$tmp/c$ms
	cp -a "$base" "$c"
	: >"$c/daemon.log"
	start "$c" "$(at $((monday + 86400 + 3600)))"
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$dpid" 2>/dev/null && killed=$((killed + 1))
	wait "$dpid" 2>/dev/null
	dpid=
	# and again, to the end
	start "$c" "$(at $((monday + 86400 + 3600)))"
	wait_log "$c" "capturing on lo" 80
	stop
	runs=$((runs + 1))
	once=$(sqlite3 "$c/released.db" "SELECT COUNT(*) FROM period WHERE kind = 2 AND period = $week" 2>&1)
	if [ "$(cells "$c")" != "$want" ] || [ "$once" != 1 ] ||
	    [ -e "$c/state/week-$week.key" ]; then
		bad=$((bad + 1))
		echo "# killed after ${ms} ms: week released $once times, key left: $(ls "$c/state" | tr '\n' ' ')"
		diff <(cells "$c") <(echo "$want") | head -4 | sed 's/^/#   /'
	fi
	rm -rf "$c"
done
[ $bad = 0 ] &&
	ok "SIGKILL 0-170 ms into the start-up release ($killed of $runs runs killed): the week is released exactly once, the same cells, its key destroyed" ||
	nok "SIGKILL during the start-up release: $bad of $runs runs went wrong"

# --- nothing identifying -------------------------------------------------

hits=$(grep -aslF "127.0.0.1" "$a/released.db" "$a"/daemon.log "$b"/daemon.log 2>/dev/null)
[ -z "$hits" ] && ok "no client address in the release database or the logs" ||
	nok "client address found in: $hits"
exit $((fails > 0))
