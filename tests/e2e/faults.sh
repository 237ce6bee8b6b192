#!/bin/bash
# Faults: a live aicensusd (capturing on one end of a veth pair inside a
# private network namespace, fed by tcpreplay with the synthesized
# capture, as in signals.sh) meets the faults a gateway meets, and must
# lose nothing it has counted -- except, after a SIGKILL, at most one
# flush interval.  After each fault clears the daemon is stopped with
# SIGTERM and its totals per (department, service) are compared with the
# truth; "lost" below is that difference.
#
#  (1) SIGKILL the moment a flush writes the WAL: the database passes
#      integrity_check, the daemon starts on it again, everything the
#      flushes before the kill committed is there, and what is missing is
#      bounded by what the last flush interval (+0.5 s) carried.  (SIGTERM
#      storing everything is checked by every case below.)
#  (2) the database unusable while traffic flows -- a reader holding a
#      read transaction (WAL: must not block the flush at all), another
#      process holding BEGIN IMMEDIATE (blocks), the database and its WAL
#      made immutable (chattr +i: writes fail even through open file
#      descriptors, where chmod 0444 changes nothing for a descriptor
#      already open), the file system full (a 1 MiB tmpfs filled up): the
#      daemon keeps capturing, keeps the counts in memory, logs once per
#      outage, writes everything once the database is usable again.
#      And a nearly full file system that nothing else writes to: the
#      daemon's own WAL must not fill it (store.c checkpoints after each
#      flush; before, the WAL grew until no flush could commit again).
#  (3) the capture interface deleted and re-created (the veth pair):
#      the daemon logs, retries every 5 s and resumes without a restart;
#      run as user aicensus, so the reopening uses the kept CAP_NET_RAW.
#  (6) started as root with user = "aicensus": /proc/PID/status shows the
#      user's Uid/Gid, CapEff = CapPrm = CAP_NET_RAW, NoNewPrivs 1.
#  (7) the privacy scan (tests/privacy_scan.py) over every file the
#      daemon wrote in all of the above.
# SIGHUP storms are signals.sh's, a corrupt database at start-up is
# config_errors.sh's.  About 90 s.
#
# Needs root, ip(8) and tcpreplay; prints "# SKIP" and exits 0 without.
# AIC_FAULT_PPS sets the replay rate (default 4000 packets/s);
# AIC_FAULTS="kill reader writer ro full iface" picks cases (default all).
# test: alone (the SIGKILL case bounds the loss by 1.5 s of replay: the daemon must keep up with tcpreplay)
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
LIB="$PY $PWD/tests/faults_lib.py"
PPS=${AIC_FAULT_PPS:-4000}
KPPS=1500		# the SIGKILL replay: slower, so one interval is a bound
NS=aic-flt-$$
DAEMON=$PWD/$BUILD/aicensusd
SVC_USER=aicensus
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null ||
	! command -v tcpreplay >/dev/null; then
	echo "# SKIP faults: needs root, ip(8) and tcpreplay"
	exit 0
fi
[ -x "$DAEMON" ] || { nok "$DAEMON is not built"; exit 1; }

out=$(mktemp -d /tmp/aic-flt.XXXXXX)
chmod 755 "$out"	# the service user must reach its run directory
dpid=
rpid=
hpid=
mnt=
made_user=
cleanup() {
	[ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null
	[ -n "$rpid" ] && kill -KILL "$rpid" 2>/dev/null
	[ -n "$dpid" ] && kill -KILL "$dpid" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	chattr -R -i "$out" 2>/dev/null
	rm -rf "$out"
	[ -n "$made_user" ] && userdel "$SVC_USER" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! id "$SVC_USER" >/dev/null 2>&1; then
	useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$SVC_USER" &&
		made_user=1 || { nok "cannot create user $SVC_USER"; exit 1; }
fi

# --- the traffic --------------------------------------------------------

$PY tests/synth/synth.py --seed 1 --out "$out/gen" >/dev/null ||
	{ nok "synthesizer failed"; exit 1; }
truth=$out/gen/truth.json
prep=$($LIB prep "$out/gen/traffic.pcap" "$truth" "$out/live.pcap" \
	"$out/live-b.pcap") || { nok "preparing the replay captures failed"; exit 1; }
read -r removed sendable <<<"$prep"
[ "$removed" = 1 ] && ok "replay captures prepared ($sendable frames each)" ||
	nok "replay capture: removed $removed stale answers, expected 1"

# --- the namespace ------------------------------------------------------

nsx() { ip netns exec "$NS" "$@"; }
veth_up() {
	nsx ip link add v0 mtu 9000 type veth peer name v1 mtu 9000 &&
		nsx ip link set v0 up && nsx ip link set v1 up
}
ip netns add "$NS" || { nok "cannot create network namespace $NS"; exit 1; }
nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
veth_up && ok "namespace $NS with veth pair v0/v1 and nothing else" ||
	{ nok "cannot set up veth v0/v1 in $NS"; exit 1; }

# --- helpers ------------------------------------------------------------

# a zone whose week does not end during the test (faults_lib.py livetz)
TZONE=$($LIB livetz)

base_conf() {	# $1 = run directory, $2 = flush interval, $3 = user
	mkdir -p "$1"
	chmod 755 "$1"
	cp "$out/gen/catalog.conf" "$1/"
	# lab mode (min_group_size 1): what is released equals what is counted
	sed -e "s/flush_interval = [0-9]*;/flush_interval = $2;/" \
		-e "s/min_group_size = [0-9]*;/min_group_size = 1;/" \
		-e "s/user = \"[^\"]*\";/user = \"$3\";/" \
		-e "s|timezone = \"UTC\";|timezone = \"$TZONE\";|" \
		"$out/gen/aicensus.conf" >"$1/aicensus.conf"
	grep -q "flush_interval = $2;" "$1/aicensus.conf" &&
		grep -q "user = \"$3\";" "$1/aicensus.conf" ||
		{ nok "cannot edit $1/aicensus.conf"; return 1; }
	[ -z "$3" ] || chown "$3:" "$1"
}

start() {	# $1 = run directory, more: daemon arguments
	local n0
	run=$1
	shift
	# the log is appended to: wait for a line of this start
	n0=$(cat "$run/daemon.log" 2>/dev/null | grep -c 'capturing on v1')
	ip netns exec "$NS" "$DAEMON" -c "$run/aicensus.conf" -i v1 "$@" \
		2>>"$run/daemon.log" &
	dpid=$!
	for _ in $(seq 300); do
		[ "$(cat "$run/daemon.log" 2>/dev/null | grep -c 'capturing on v1')" -gt "${n0:-0}" ] &&
			return 0
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

replay() {	# $1 = capture
	replay_log=$run/replay.$RANDOM.log
	nsx tcpreplay -q -i v0 --pps "$PPS" "$1" >"$replay_log" 2>&1
	local n
	n=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$replay_log")
	[ "$n" = "$sendable" ] ||
		nok "tcpreplay sent ${n:-no} packets, expected $sendable: $(grep -m2 -i error "$replay_log")"
	sleep 2		# the kernel's last capture block
}

alive() { kill -0 "$dpid" 2>/dev/null; }
want() { [ -z "$AIC_FAULTS" ] || [[ " $AIC_FAULTS " == *" $1 "* ]]; }

stop() {	# $1 = signal; sets rc
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
}

stopped_ok() {	# $1 = what
	[ "$rc" = 0 ] && grep -q 'stopped; all counts stored' "$run/daemon.log" &&
		ok "$1: SIGTERM stores everything, exit 0" ||
		nok "$1: exit status $rc: $(tail -2 "$run/daemon.log")"
}

# Wait up to $2 s until the database holds $1 x the truth (quietly).
wait_totals() {
	local i
	for i in $(seq $(($2 * 5))); do
		$LIB totals "$run/aicensus.db" "$truth" "$1" x >/dev/null 2>&1 &&
			{ waited=$(((i + 4) / 5)); return 0; }
		sleep 0.2
	done
	return 1
}

wait_log() {	# $1 = pattern, $2 = seconds
	local i
	for i in $(seq $(($2 * 10))); do
		grep -q "$1" "$run/daemon.log" && return 0
		sleep 0.1
	done
	return 1
}

# sealed flush rows in the vault
usage_rows() {
	$PY -c 'import sqlite3, sys
con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=5)
print(con.execute("SELECT COUNT(*) FROM delta").fetchone()[0])' "$1" 2>&1
}

# Start a lock holder ($1 = read|write) on the run's database.
hold() {
	touch "$run/hold.flag"
	$LIB hold "${2:-$run/aicensus.db}" "$1" "$run/hold.flag" >"$run/hold.out" 2>&1 &
	hpid=$!
	for _ in $(seq 50); do
		grep -q held "$run/hold.out" && return 0
		sleep 0.1
	done
	nok "the $1 lock holder did not get its lock: $(cat "$run/hold.out")"
	return 1
}
release() {
	rm -f "$run/hold.flag"
	wait "$hpid"
	hpid=
}

# An outage of $2 s: traffic flows, flushes (every second) fail.  $1
# names it; $3 = what the failure line must say.  Then the caller ends
# the outage and calls outage_end.
outage() {
	local t0=$SECONDS n rows rows0
	rows0=$(usage_rows "$run/aicensus.db")
	replay "$out/live.pcap"
	while [ $((SECONDS - t0)) -lt "$2" ]; do sleep 0.2; done
	n=$(grep -c 'database flush failed' "$run/daemon.log")
	rows=$(usage_rows "$run/aicensus.db")
	alive && [ "$n" = 1 ] && grep 'database flush failed' "$run/daemon.log" |
		grep -qi "$3" &&
		ok "$1: daemon keeps capturing; one log line for ~$2 failed flushes ($(grep -o 'database flush failed ([^)]*)' "$run/daemon.log"))" ||
		nok "$1: alive=$(alive && echo yes || echo no), $n failure lines: $(grep -m3 -i 'database\|error' "$run/daemon.log")"
	[ "$rows" = "$rows0" ] && ok "$1: nothing half-written meanwhile (sealed rows stay $rows0)" ||
		nok "$1: sealed rows during the outage: $rows0 -> $rows"
}
outage_end() {	# $1 = what
	if wait_log 'database writable again' 10 &&
		[ "$(grep -c 'database writable again' "$run/daemon.log")" = 1 ]; then
		ok "$1: once usable, the next flush stores the kept counts (logged once)"
	else
		nok "$1: no single 'database writable again' line: $(tail -2 "$run/daemon.log")"
	fi
	wait_totals 1 10 || nok "$1: the kept counts did not reach the database"
	stop TERM
	stopped_ok "$1"
	$LIB totals "$run/aicensus.db" "$truth" 1 "$1: nothing lost" "$PPS" ||
		fails=$((fails + 1))
}

# --- (1) SIGKILL during a flush --------------------------------------------

want kill && echo "# (1) SIGKILL during a flush" &&
base_conf "$out/kill" 1 "" && start "$out/kill" && {
	replay "$out/live.pcap"
	wait_totals 1 10 &&
		ok "SIGKILL: the first replay committed by the periodic flush (within ${waited}s)" ||
		nok "SIGKILL: the first replay never reached the database"
	klog=$run/replay.kill.log
	ip netns exec "$NS" tcpreplay -q -i v0 --pps "$KPPS" "$out/live-b.pcap" \
		>"$klog" 2>&1 &
	rpid=$!
	sleep 3.5
	kres=$($LIB killwatch "$dpid" "$run/aicensus.db-wal" 5)
	kill -INT "$rpid" 2>/dev/null
	wait "$rpid"
	rpid=
	wait "$dpid" 2>/dev/null
	krc=$?
	dpid=
	nsent=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$klog")
	case "$kres" in
	killed) [ "$krc" = 137 ] &&
		ok "SIGKILL the moment a flush began writing the WAL ($nsent of $sendable frames of the second replay sent)" ||
		nok "SIGKILL: daemon exit status $krc";;
	*) nok "SIGKILL: no flush wrote the WAL within 5 s";;
	esac
	ic=$(sqlite3 "$run/aicensus.db" 'PRAGMA integrity_check' 2>&1)
	[ "$ic" = ok ] && ok "SIGKILL: the database passes integrity_check" ||
		nok "SIGKILL: integrity_check: $ic"
	# what the daemon could have stored: offline runs over the frames
	# sent before the kill (hi) and before the last interval + 0.5 s (lo)
	nlo=$((nsent - KPPS * 3 / 2))
	[ "$nlo" -lt 0 ] && nlo=0
	for w in lo:$nlo hi:$nsent; do
		d=$out/kill-${w%%:*}
		mkdir -p "$d"
		cp "$run/aicensus.conf" "$run/catalog.conf" "$d/"
		$LIB prefix "$out/live.pcap" "${w#*:}" "$d/p.pcap" &&
			(cd "$d" && "$DAEMON" -c aicensus.conf -r p.pcap 2>"$d/daemon.log") &&
			$LIB sums "$d/released.db" >"$d/sums.json" ||
			nok "SIGKILL: offline run over ${w#*:} frames failed"
	done
	$LIB killcheck "$run/aicensus.db" "$truth" "$out/kill-lo/sums.json" \
		"$out/kill-hi/sums.json" "SIGKILL during a flush" ||
		fails=$((fails + 1))
	$LIB sums "$run/aicensus.db" >"$run/before.json"
	if start "$run"; then
		ok "SIGKILL: the daemon starts again on the database"
		stop TERM
		stopped_ok "restart after SIGKILL"
		$LIB sums "$run/aicensus.db" >"$run/after.json"
		cmp -s "$run/before.json" "$run/after.json" &&
			ok "SIGKILL: the restart keeps the stored counts as they were" ||
			nok "SIGKILL: the counts changed across the restart"
	fi
}

# --- (2) the database unusable --------------------------------------------

want reader && echo "# (2a) a reader holding a read transaction" &&
base_conf "$out/reader" 1 "" && start "$out/reader" && hold read && {
	replay "$out/live.pcap"
	wait_totals 1 10 &&
		ok "long reader: flushes commit while it holds its read transaction (within ${waited}s)" ||
		nok "long reader: the counts did not reach the database while it read"
	release
	stop TERM
	stopped_ok "long reader"
	$LIB totals "$run/aicensus.db" "$truth" 1 "long reader: nothing lost" "$PPS" ||
		fails=$((fails + 1))
	grep -q 'database flush failed' "$run/daemon.log" &&
		nok "long reader: a flush failed: $(grep -m1 'flush failed' "$run/daemon.log")" ||
		ok "long reader: no flush failed"
}

want writer && echo "# (2b) another process holding BEGIN IMMEDIATE" &&
base_conf "$out/writer" 1 "" && start "$out/writer" && {
	sleep 1.5		# first flush (and retention) done
	hold write && {
		outage "BEGIN IMMEDIATE held 8 s" 8 "locked"
		release
		outage_end "BEGIN IMMEDIATE released"
	}
}

if want ro; then
echo "# (2c) the database read-only (chattr +i)"
# immutable must stop writes through descriptors already open (ext4,
# xfs, btrfs do; tmpfs and overlayfs may not)
imm=no
touch "$out/imm.t" && $PY - "$out/imm.t" <<'EOF' && imm=yes
import os, subprocess, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
if subprocess.run(["chattr", "+i", sys.argv[1]]).returncode:
    sys.exit(1)
try:
    os.write(fd, b"x")
    sys.exit(1)
except PermissionError:
    sys.exit(0)
finally:
    subprocess.run(["chattr", "-i", sys.argv[1]])
EOF
if [ "$imm" = yes ]; then
	base_conf "$out/ro" 1 "" && start "$out/ro" && {
		sleep 1.5
		if chattr +i "$run/aicensus.db" "$run/aicensus.db-wal"; then
			outage "database immutable 8 s" 8 "readonly\|read-only\|I/O error\|not permitted"
			chattr -i "$run/aicensus.db" "$run/aicensus.db-wal"
			outage_end "database writable again"
		else
			nok "chattr +i on the database failed"
		fi
	}
else
	echo "# SKIP read-only database: chattr +i does not stop writes on $(df --output=fstype "$out" | tail -1)"
fi
fi

if want full; then
echo "# (2d) the file system full"
mnt=$out/fullfs
mkdir -p "$mnt"
if mount -t tmpfs -o size=1M,mode=0755 aic-full "$mnt"; then
	base_conf "$out/full" 1 "" && start "$out/full" --db "$mnt/aicensus.db" && {
		sleep 1.5
		# after a checkpoint that gave the WAL's space back (as one
		# does when nobody reads), so the next flush needs new space
		sqlite3 -cmd '.timeout 3000' "$mnt/aicensus.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
		dd if=/dev/zero of="$mnt/filler" bs=4k >/dev/null 2>&1
		free=$(df --output=avail -B1 "$mnt" | tail -1 | tr -d ' ')
		run_db=$mnt/aicensus.db
		ln -s "$run_db" "$run/aicensus.db"
		outage "file system full ($free bytes free) 8 s" 8 "full"
		rm -f "$mnt/filler"
		outage_end "file system has room again"
	}
	# (2e) Nearly full, and nothing else writes: what the daemon's own WAL
	# takes it must give back, or once it has filled the file system no
	# flush can commit (and so checkpoint) ever again.  128 KiB are left
	# free; two replays and 10 idle seconds of flushes (each writes the
	# capture_hour row) add up to more than that if the WAL only grows.
	echo "# (2e) a nearly full file system"
	rm -f "$mnt"/*
	base_conf "$out/nearly" 1 "" && start "$out/nearly" --db "$mnt/aicensus.db" && {
		ln -s "$mnt/aicensus.db" "$run/aicensus.db"
		sleep 1.5
		avail=$(df --output=avail -B1 "$mnt" | tail -1 | tr -d ' ')
		dd if=/dev/zero of="$mnt/filler" bs=4096 \
			count=$(((avail - 131072) / 4096)) >/dev/null 2>&1
		replay "$out/live.pcap"
		replay "$out/live-b.pcap"
		sleep 10
		wal=$(stat -c %s "$mnt/aicensus.db-wal" 2>/dev/null)
		free=$(df --output=avail -B1 "$mnt" | tail -1 | tr -d ' ')
		grep -q 'database flush failed' "$run/daemon.log" &&
			nok "nearly full: a flush failed with $free bytes free, WAL $wal bytes: $(grep -m1 'flush failed' "$run/daemon.log")" ||
			ok "nearly full (128 KiB free): ~20 flushes, none failed; the WAL stays at $wal bytes ($free bytes still free)"
		stop TERM
		stopped_ok "nearly full"
		$LIB totals "$run/aicensus.db" "$truth" 2 "nearly full: nothing lost" "$PPS" ||
			fails=$((fails + 1))
	}
else
	nok "cannot mount a tmpfs on $mnt"
	mnt=
fi
fi

# --- (3) + (6) the capture interface goes away, as user aicensus ----------

want iface && echo "# (3) the capture interface disappears and comes back; (6) privileges" &&
base_conf "$out/iface" 2 "$SVC_USER" && start "$out/iface" && {
	$LIB privs "$dpid" "$SVC_USER" || fails=$((fails + 1))
	replay "$out/live.pcap"
	nsx ip link del v0
	wait_log 'capture on v1 failed' 5 && alive &&
		ok "interface gone: logged ($(grep -o 'capture on v1 failed.*' "$run/daemon.log" | head -1)), daemon running" ||
		nok "interface gone: $(tail -2 "$run/daemon.log")"
	sleep 1
	veth_up || nok "cannot re-create v0/v1"
	t0=$SECONDS
	wait_log 'capture on v1 resumed' 12 &&
		ok "interface back: capture resumed after $((SECONDS - t0)) s without a restart" ||
		nok "interface back: no 'capture on v1 resumed': $(tail -2 "$run/daemon.log")"
	[ "$(grep -c 'capture on v1 failed' "$run/daemon.log")" = 1 ] &&
		ok "interface gone: one log line for the whole outage" ||
		nok "interface gone: $(grep -c 'capture on v1 failed' "$run/daemon.log") failure lines"
	replay "$out/live-b.pcap"
	stop TERM
	stopped_ok "interface re-created"
	$LIB totals "$run/aicensus.db" "$truth" 2 \
		"interface re-created: traffic before the loss and after the re-creation all counted" "$PPS" ||
		fails=$((fails + 1))
}

# --- (7) privacy ----------------------------------------------------------

files=$(find "$out"/kill* "$out"/reader "$out"/writer "$out"/ro "$out"/full "$out"/nearly \
	"$out"/iface ${mnt:+"$mnt"} -type f ! -name '*.pcap' ! -name '*.conf' \
	! -name '*.json' ! -name 'replay*.log' ! -name 'hold.*' 2>/dev/null)
nfiles=$(echo "$files" | grep -c .)
# shellcheck disable=SC2086
hits=$($PY tests/privacy_scan.py "$truth" $files)
[ $? = 0 ] && [ "$nfiles" -gt 0 ] &&
	ok "privacy: no client address in the $nfiles files the daemon wrote (databases, WALs, keys, logs)" ||
	nok "privacy: $(echo "$hits" | head -3) (of $nfiles files)"

exit $((fails > 0))
