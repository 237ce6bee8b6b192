#!/bin/bash
# The adversary suite (issue 10): a hostile but legitimate reader combines
# every output over a synthesized week with known truth and tries to
# recover or narrow the figures of small groups; then someone with a copy
# of the database and the state directory after the week tries to link
# devices and test membership.  See tests/adversary/README.md.
#
#  1. tests/adversary/weekgen.py: ISO week 2026-W47, departments of 16..1
#     hosts ("Legal" 3, "Board" 1), two worlds differing only in one
#     Board session (presence).
#  2. aicensusd -r over each world (min_group_size 5); a copy of the run
#     directory (databases, -wal, state dir) right after: at-rest attacks
#     (address byte scan, sketch decoding, key files, key membership).
#  3. aicensusd live in a network namespace of its own (API on
#     127.0.0.1:8080 there, capture on a veth pair inside it): attack.py
#     outputs reads the CLI (every --by, nested ranges), the API (every
#     endpoint, epoch windows 1 s .. 2 weeks), every report format, and
#     compares across a daemon restart; then the week is replayed live
#     (tcpreplay) with flushes every 2 s while /metrics is scraped every
#     second (metrics timing).
#  4. tests/adversary/cost.py: the cost of protection per grid level.
#  5. local and central releases combined (spec12 D2): the same week by a
#     sensor shipping to a throwaway PostgreSQL 15 cluster
#     (tests/central_lib.sh), the central release over it; attack.py
#     combined puts the sensor's own release database beside the central
#     cells.  Control: a sensor without a central group (w0, what a
#     shipping sensor published before D2) gives every cell twice under
#     two keys, and their average beats either (--expect-vulnerable);
#     the shipping sensor's file gives no cell figure at all.
#
# Default: the design of spec.md (release_database, ckm-1 JSON).
# OLD=1: the pre-issue-10 code and formats, attacks expected to BITE
# (attack.py --expect-vulnerable); documentation, not part of make check.
#
# Needs root (network namespace).  bash tests/e2e/adversary.sh
# test: alone (live replays whose counts are compared exactly: the capture must keep up, so no other part beside it)
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BUILD=${BUILD:-build}
# The valgrind stage: the attacks make some thousand CLI and API calls,
# an hour and more under memcheck.  What they check is the release
# logic, not memory: they run the same build without the instrumenting
# wrappers ($VG_BUILD, tests/run.sh), and the memory of the same paths is
# checked under memcheck by synth, query, api and report.
if [ -n "$VALGRIND" ] && [ -n "$VG_BUILD" ]; then
	echo "# valgrind stage: attacks run $VG_BUILD without memcheck (its paths are memchecked by synth, query, api, report)"
	BUILD=$VG_BUILD
fi
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/sbin
export PATH LC_ALL=C
OLD=${OLD:-0}

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
# run a python attack and count its `not ok` lines
tap() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	echo "$out"
	[ $rc -eq 0 ] || [ "$(echo "$out" | grep -c '^not ok')" -gt 0 ] ||
		nok "$(basename "$2") $3 exited $rc"
	fails=$((fails + $(echo "$out" | grep -c '^not ok')))
}

case $BUILD in /*) BIN=$BUILD ;; *) BIN=$ROOT/$BUILD ;; esac
NS=aic-adv-$$
tmp=
pids=()
ns_made=0
. tests/central_lib.sh
cleanup() {
	local p i
	pg_stop
	for p in "${pids[@]}" $(cat "$tmp/daemon.pid" 2>/dev/null); do
		kill -TERM "$p" 2>/dev/null
		for i in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	[ $ns_made -eq 1 ] && ip netns del "$NS" 2>/dev/null
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

missing=0
for t in ip curl openssl tcpreplay; do
	command -v "$t" >/dev/null 2>&1 || { nok "$t missing (make test-deps)"; missing=1; }
done
for b in "$BIN/aicensusd" "$BIN/aicensus"; do
	[ -x "$b" ] || { nok "$b missing (run make)"; missing=1; }
done
[ "$(id -u)" -eq 0 ] || { nok "the adversary test needs root (network namespace)"; missing=1; }
[ $missing -eq 0 ] || exit 1

tmp=$(mktemp -d /tmp/aic-adv.XXXXXX) || exit 1
chmod 0755 "$tmp"
if [ "$OLD" = 1 ]; then
	VULN=--expect-vulnerable
	GENOPT=--old-config
	OUTDB=aicensus.db
else
	VULN=
	GENOPT=
	OUTDB=released.db
fi

# --- 1, 2: the week, offline ---------------------------------------------------
for w in 0 1; do
	$PY tests/adversary/weekgen.py --out "$tmp/w$w" --world $w $GENOPT >/dev/null ||
		{ nok "weekgen world $w"; exit 1; }
	if (cd "$tmp/w$w" && "$BIN/aicensusd" -c aicensus.conf -r traffic.pcap) \
		>"$tmp/w$w/offline.log" 2>&1 && [ -f "$tmp/w$w/$OUTDB" ]; then
		ok "aicensusd -r over the week, world $w ($OUTDB written)"
	else
		nok "aicensusd -r over world $w: $(tail -2 "$tmp/w$w/offline.log" | tr '\n' ' ')"
		exit 1
	fi
done
# the JSONL exporter plugin, fed by the release stage, in a run of its own
# (a crash there must not take the other attacks with it)
if [ "$OLD" != 1 ]; then
	mkdir -p "$tmp/wx"
	cp "$tmp/w0/traffic.pcap" "$tmp/w0/catalog.conf" "$tmp/wx/"
	install -d -m 0700 "$tmp/wx/state"
	sed "s|^aicensus: {|aicensus: {\n  plugin_dir = \"$BIN/plugins\";\n  plugins = [\"jsonl_export:$tmp/wx/export.jsonl\"];|" \
		"$tmp/w0/aicensus.conf" >"$tmp/wx/aicensus.conf"
	if (cd "$tmp/wx" && "$BIN/aicensusd" -c aicensus.conf -r traffic.pcap) \
		>"$tmp/wx/offline.log" 2>&1; then
		ok "aicensusd -r with the jsonl_export plugin"
	else
		nok "aicensusd -r with the jsonl_export plugin: $(tail -2 "$tmp/wx/offline.log" | tr '\n' ' ')"
	fi
	tap $PY tests/adversary/attack.py export --file "$tmp/wx/export.jsonl" --truth "$tmp/w0/truth.json"
fi
# --- 5: local and central releases combined (spec12 D2) ----------------------
if [ "$OLD" != 1 ]; then
	c=$tmp/central
	mkdir -p "$c"
	if pg_start "$c" 2>"$c/pg.err"; then
		ok "a throwaway PostgreSQL 15 cluster for the central release"
	else
		nok "a throwaway PostgreSQL 15 cluster starts: $(tail -2 "$c/pg.err" | tr '\n' ' ')"
	fi
	PW_ADMIN=$(pg_password) PW_S=$(pg_password) PW_BI=$(pg_password)
	SU="user=postgres password=$PG_SUPERPW dbname=postgres"
	ADMIN="host=$PGHOST dbname=central user=aicadmin password=$PW_ADMIN"
	BI="host=$PGHOST dbname=central user=bi password=$PW_BI"
	{ pg_sql "$SU" "CREATE ROLE aicadmin LOGIN CREATEROLE PASSWORD '$PW_ADMIN'" &&
	  pg_sql "$SU" "CREATE DATABASE central OWNER aicadmin" &&
	  pg_sql "$SU" "CREATE ROLE sensor_adv LOGIN PASSWORD '$PW_S'" &&
	  "$BIN/aicensus" central init --db "$ADMIN" &&
	  "$BIN/aicensus" central add-site --db "$ADMIN" adv sensor_adv &&
	  pg_sql "$SU" "CREATE ROLE bi LOGIN PASSWORD '$PW_BI' IN ROLE aicensus_reader"; } \
		>"$c/setup.log" 2>&1 || nok "central init / add-site: $(tail -2 "$c/setup.log" | tr '\n' ' ')"
	# the shipping sensor: the same week, the same configuration, plus
	# a central group
	sh=$tmp/ship
	mkdir -p "$sh"
	cp "$tmp/w0/traffic.pcap" "$tmp/w0/catalog.conf" "$sh/"
	install -d -m 0700 "$sh/state"
	(umask 077 && printf '%s\n' "$PW_S" >"$sh/central.pass")
	sed "s|^aicensus: {|aicensus: {\n  central = { conninfo = \"host=$PGHOST dbname=central user=sensor_adv\"; password_file = \"central.pass\"; site = \"adv\"; };|" \
		"$tmp/w0/aicensus.conf" >"$sh/aicensus.conf"
	if (cd "$sh" && "$BIN/aicensusd" -c aicensus.conf -r traffic.pcap) >"$sh/offline.log" 2>&1 &&
		[ "$(sqlite3 "$sh/aicensus.db" "SELECT count(*) FROM outbox" 2>/dev/null)" = 0 ]; then
		ok "aicensusd -r over the week, shipping to the central database (outbox drained)"
	else
		nok "aicensusd -r shipping: $(tail -2 "$sh/offline.log" | tr '\n' ' ')"
	fi
	sed "s|\"catalog.conf\"|\"$tmp/w0/catalog.conf\"|" "$tmp/w0/aicensus.conf" >"$c/org.conf"
	if "$BIN/aicensus" central release --db "$ADMIN" -c "$c/org.conf" --grace-hours 0 \
		>"$c/release.log" 2>&1; then
		ok "the central release of the week ($(grep -o '[0-9]* days, [0-9]* weeks published' "$c/release.log"))"
	else
		nok "aicensus central release: $(tail -2 "$c/release.log" | tr '\n' ' ')"
	fi
	# the control: a file with the site's own cells (no central group)
	tap $PY tests/adversary/attack.py combined --local "$tmp/w0/released.db" --central "$BI" \
		--truth "$tmp/w0/truth.json" --bin "$BIN" --expect-vulnerable
	tap $PY tests/adversary/attack.py combined --local "$sh/released.db" --central "$BI" \
		--truth "$tmp/w0/truth.json" --bin "$BIN"
	if grep -rqF -e "$PW_S" -e "$PW_BI" -e "$PW_ADMIN" "$sh/offline.log" "$c/release.log"; then
		nok "a central password in a log"
	else
		ok "no central password in the shipping run's or the release's log"
	fi
	pg_stop
fi

# what a backup taken after the week holds: every database file, -wal,
# -shm, the state directory (not the capture, the truth or the configs)
mkdir -p "$tmp/copy"
(cd "$tmp/w0" && cp -a ./*.db ./*.db-wal ./*.db-shm state "$tmp/copy/" 2>/dev/null)
tap $PY tests/adversary/attack.py rest --copy "$tmp/copy" --truth "$tmp/w0/truth.json" $VULN

# --- 3: live, in a namespace -------------------------------------------------------
TOKEN=$(openssl rand -hex 32)
(umask 077 && echo "$TOKEN" >"$tmp/api.token")
run=$tmp/w0
sed -e "s|^aicensus: {|aicensus: {\n  api = { listen = \"127.0.0.1:8080\"; token_file = \"$tmp/api.token\"; };|" \
	-e "s|\"aicensus.db\"|\"$run/aicensus.db\"|" \
	-e "s|\"released.db\"|\"$run/released.db\"|" \
	-e "s|\"state\"|\"$run/state\"|" \
	-e "s|\"catalog.conf\"|\"$run/catalog.conf\"|" \
	-e "s|flush_interval = 60;|flush_interval = 2;|" \
	"$run/aicensus.conf" >"$tmp/api.conf"
if ip netns add "$NS"; then
	ns_made=1
	ip -n "$NS" link set lo up &&
	ip -n "$NS" link add va type veth peer name vb &&
	ip -n "$NS" link set va up && ip -n "$NS" link set vb up &&
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
else
	nok "could not make network namespace $NS"
	exit 1
fi
start_daemon() {
	local i
	ip netns exec "$NS" "$BIN/aicensusd" -c "$tmp/api.conf" -i va \
		>>"$tmp/daemon.log" 2>&1 &
	echo $! >"$tmp/daemon.pid"
	for i in $(seq 1 100); do
		[ "$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' \
			http://127.0.0.1:8080/healthz)" = 200 ] && return 0
		kill -0 "$(cat "$tmp/daemon.pid")" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
stop_daemon() {
	local p i
	p=$(cat "$tmp/daemon.pid" 2>/dev/null) || return 0
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	rm -f "$tmp/daemon.pid"
}
if start_daemon; then
	ok "aicensusd live in namespace $NS (API on 127.0.0.1:8080, capture on a veth)"
else
	nok "aicensusd with the API did not come up: $(tail -3 "$tmp/daemon.log" | tr '\n' ' ')"
	exit 1
fi
cat >"$tmp/restart.sh" <<EOF
#!/bin/bash
p=\$(cat "$tmp/daemon.pid")
kill -TERM "\$p"; for i in \$(seq 1 100); do kill -0 "\$p" 2>/dev/null || break; sleep 0.1; done
ip netns exec "$NS" "$BIN/aicensusd" -c "$tmp/api.conf" -i va >>"$tmp/daemon.log" 2>&1 &
echo \$! >"$tmp/daemon.pid"
for i in \$(seq 1 100); do
	[ "\$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/healthz)" = 200 ] && exit 0
	sleep 0.1
done
exit 1
EOF
tap $PY tests/adversary/attack.py outputs --run "$tmp/w0" --run1 "$tmp/w1" \
	--bin "$BIN" --db "$tmp/w0/$OUTDB" --api-ns "$NS" --token-file "$tmp/api.token" \
	--restart-cmd "bash $tmp/restart.sh" $VULN
# world 1 is read by the CLI only (its path): --db must follow the run dir
# (attack.py takes DIR/$OUTDB for --run1)

# /metrics around a live replay and flushes every 2 s
ip netns exec "$NS" $PY tests/adversary/attack.py scrape --token-file "$tmp/api.token" \
	--seconds 24 --out "$tmp/scrapes.jsonl" &
spid=$!
pids+=("$spid")
sleep 3
if ip netns exec "$NS" timeout 30 tcpreplay -q -i vb --pps 2000 "$tmp/w0/traffic.pcap" \
	>"$tmp/tcpreplay.out" 2>&1; then
	ok "live replay of the week onto the veth ($(grep -o '[0-9]* packets' "$tmp/tcpreplay.out" | head -1))"
else
	nok "tcpreplay failed: $(tail -2 "$tmp/tcpreplay.out" | tr '\n' ' ')"
fi
wait "$spid"
tap $PY tests/adversary/attack.py metrics --scrapes "$tmp/scrapes.jsonl" $VULN
stop_daemon

# The live daemon counted the replayed week (on the wall clock's week) into
# its vault under a week key on disk.  `aicensusd --finalise` (the
# decommissioning path, also what a week boundary does) must leave
# nothing of it: a second backup copy, the same attacks, the live state.
if [ "$OLD" != 1 ]; then
	mkdir -p "$tmp/copy2"
	if "$BIN/aicensusd" -c "$tmp/api.conf" --finalise >"$tmp/finalise.log" 2>&1; then
		ok "aicensusd --finalise after the live replay"
	else
		nok "aicensusd --finalise: $(tail -2 "$tmp/finalise.log" | tr '\n' ' ')"
	fi
	(cd "$run" && cp -a ./*.db ./*.db-wal ./*.db-shm state "$tmp/copy2/" 2>/dev/null)
	tap $PY tests/adversary/attack.py rest --copy "$tmp/copy2" --truth "$run/truth.json"
fi

# --- noise path hygiene (DISCLOSURE 5.9): the release stage draws its noise
# from keyed hashes only, in integers: no floating point, no libm, no rand()
if [ "$OLD" != 1 ]; then
	SRC=${SRC:-$ROOT}	# the tree the build came from
	if [ -f "$SRC/daemon/release/release.c" ] && [ -f "$BIN/release/release.o" ]; then
		bad=$(grep -nE '\b(float|double|long double)\b|<math\.h>|\b(rand|random|drand48|lrand48|arc4random)\s*\(' \
			"$SRC/daemon/release/release.c" | grep -v '^\s*[0-9]*:\s*\*' | head -3)
		if [ -z "$bad" ]; then
			ok "release.c: no floating point, no libm, no libc PRNG in the noise path"
		else
			nok "release.c: floating point or a libc PRNG: $bad"
		fi
		if nm "$BIN/release/release.o" 2>/dev/null | grep -qE ' U (log|exp|pow|sqrt|floor|ceil|round|lround|rand|random)$'; then
			nok "release.o links libm or a libc PRNG"
		else
			ok "release.o calls no libm function and no libc PRNG"
		fi
	else
		nok "$SRC/daemon/release/release.c or $BIN/release/release.o missing"
	fi
fi

# --- 4: the cost of protection ----------------------------------------------------
if [ "$OLD" != 1 ]; then
	tap $PY tests/adversary/cost.py --truth "$tmp/w0/truth.json" --db "$tmp/w0/released.db"
fi

[ $fails -eq 0 ]
