#!/bin/bash
# The catalog as an organisation maintains it (issue 14):
#  - `aicensus catalog check` on the shipped catalog (OK, its service
#    count), on a file with several problems (every one reported, exact
#    file:line messages, exit 1), and without FILE on what a
#    configuration loads (catalog plus catalog_dir, with a collision
#    between them named in both files);
#  - `aicensus catalog diff` between two catalogs (exact rows, the
#    removed-id warnings, exit 1; 0 for identical catalogs; 2 for a
#    broken one) and between the shipped catalog and the one in main's
#    history before issue 14 (only additions);
#  - live: aicensusd captures on a veth pair inside a private network
#    namespace; a DNS lookup of a name only a local catalog.d file knows
#    counts for nothing until a SIGHUP loads that file, and from then on
#    counts for the new service.
#
# The live part needs root, ip(8) and tcpreplay; without them it prints
# "# SKIP" and the rest still runs.  About 15 s.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
AIC=$PWD/$BUILD/aicensus
DAEMON=$PWD/$BUILD/aicensusd
NS=aic-cat-$$
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

[ -x "$AIC" ] && [ -x "$DAEMON" ] || { nok "$AIC or $DAEMON is not built"; exit 1; }
out=$(mktemp -d /tmp/aic-cat.XXXXXX)
dpid=
cleanup() {
	[ -n "$dpid" ] && kill -KILL "$dpid" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# expect WHAT WANT_RC WANT_STDOUT_FILE WANT_STDERR_FILE -- CMD...
expect() {
	local what=$1 rc=$2 wo=$3 we=$4 got
	shift 5
	"$@" >"$out/o" 2>"$out/e"
	got=$?
	if [ "$got" = "$rc" ] && cmp -s "$out/o" "$wo" && cmp -s "$out/e" "$we"; then
		ok "$what (exit $rc)"
	else
		nok "$what: exit $got (want $rc)"
		diff "$wo" "$out/o" | sed 's/^/#  stdout /' | head -20
		diff "$we" "$out/e" | sed 's/^/#  stderr /' | head -20
	fi
}

svc() {	# id category domain -> one service group
	printf '  { id = "%s"; name = "N"; vendor = "V"; category = "%s"; jurisdiction = "US";\n    domains = [ "%s" ]; hosts = [ ]; }' "$1" "$2" "$3"
}

# --- check ---------------------------------------------------------------

# the shipped catalog, its services counted from the text, not the tool
n=$(grep -c '{ id = "' config/catalog.conf)
echo "config/catalog.conf: catalog OK ($n services)" >"$out/want.o"
: >"$out/want.e"
expect "check: the shipped catalog is clean, $n services" 0 "$out/want.o" "$out/want.e" -- \
	"$AIC" catalog check config/catalog.conf
[ "$n" -ge 200 ] && ok "the shipped catalog has $n services (>= 200)" ||
	nok "the shipped catalog has only $n services"

# three problems in three services, and a good one: all three reported
bad=$out/bad.conf
{
	echo 'version = 1;'
	echo 'services = ('
	svc a chatbot a.example; echo ','
	svc b chat a.example; echo ','
	svc c chat '*.c.example'; echo ','
	svc d chat d.example; echo
	echo ');'
} >"$bad"
cat >"$out/want.e" <<EOF
$bad:3: service 'a': unknown category 'chatbot' — use one of chat, api, code, image, audio, video, writing, search, agent, other
$bad:6: 'a.example' is listed by both service 'a' (line 4) and service 'b' — a name belongs to one service: keep it in one of them
$bad:8: service 'c': domains entry '*.c.example' contains a wildcard — write the bare domain in \`domains\`, which already covers every subdomain
3 problems found
EOF
: >"$out/want.o"
expect "check: every problem of a broken file, one line each with file:line and the fix" 1 \
	"$out/want.o" "$out/want.e" -- "$AIC" catalog check "$bad"

# a syntax error: libconfig's line, one problem
printf 'version = 1;\nservices = (\n  { id = "x"; name = ; }\n);\n' >"$out/syn.conf"
"$AIC" catalog check "$out/syn.conf" >/dev/null 2>"$out/e"; rc=$?
[ $rc = 1 ] && grep -qF "$out/syn.conf:3: syntax error — in libconfig syntax" "$out/e" &&
	[ "$(tail -1 "$out/e")" = "1 problem found" ] &&
	ok "check: a syntax error is named with its line (exit 1)" ||
	nok "check: syntax error: exit $rc, $(head -1 "$out/e")"

# without FILE: the configured catalog and catalog_dir; a local file
# that takes a catalog name and a catalog id is refused in both files
run=$out/cfg
mkdir -p "$run/catalog.d"
cp config/catalog.conf "$run/catalog.conf"
cat >"$run/aicensus.conf" <<EOF
aicensus: {
  database = "aicensus.db";
  state_dir = "state";
  catalog = "catalog.conf";
  catalog_dir = "catalog.d";
  user = "";
  departments = ( { name = "Lab"; prefixes = [ "10.1.0.0/16" ]; } );
};
EOF
{
	echo 'version = 1;'
	echo 'services = ('
	svc corp-llm api corp-llm.example; echo ','
	svc openai-chatgpt chat chatgpt-corp.example; echo ','
	svc corp-two chat chatgpt.com; echo
	echo ');'
} >"$run/catalog.d/corp.conf"
idline=$(grep -n 'id = "openai-chatgpt"' config/catalog.conf | cut -d: -f1)
nmline=$(grep -nF 'domains = [ "chatgpt.com"' config/catalog.conf | cut -d: -f1)
cat >"$out/want.e" <<EOF
$run/catalog.d/corp.conf:5: duplicate service id 'openai-chatgpt' — $run/catalog.conf:$idline already uses it; a local addition cannot replace or repeat a service: give it an id of its own
$run/catalog.d/corp.conf:8: 'chatgpt.com' is listed by both service 'openai-chatgpt' ($run/catalog.conf:$nmline) and service 'corp-two' — a local addition cannot take over a name the catalog already gives a service: remove it here (a longer name under it is allowed)
2 problems found
EOF
: >"$out/want.o"
expect "check -c: a local file repeating a catalog id and a catalog name, both files named" 1 \
	"$out/want.o" "$out/want.e" -- "$AIC" catalog check -c "$run/aicensus.conf"
# the daemon refuses the same at start, with the first of them
"$DAEMON" -n -c "$run/aicensus.conf" >"$out/o" 2>"$out/e"; rc=$?
[ $rc != 0 ] && grep -qF "$run/catalog.d/corp.conf:5: duplicate service id 'openai-chatgpt'" "$out/e" &&
	ok "aicensusd -n refuses the colliding local file (exit $rc)" ||
	nok "aicensusd -n with a colliding local file: exit $rc, $(cat "$out/e" "$out/o" | head -2)"
{
	echo 'version = 1;'
	echo 'services = ('
	svc corp-llm api corp-llm.example; echo
	echo ');'
} >"$run/catalog.d/corp.conf"
echo "$run/catalog.conf and its local additions: catalog OK ($((n + 1)) services)" >"$out/want.o"
: >"$out/want.e"
expect "check -c: catalog plus one local addition" 0 "$out/want.o" "$out/want.e" -- \
	"$AIC" catalog check -c "$run/aicensus.conf"
"$DAEMON" -n -c "$run/aicensus.conf" >"$out/o" 2>&1; rc=$?
[ $rc = 0 ] && grep -qF "configuration OK (1 department, $((n + 1)) services)" "$out/o" &&
	ok "aicensusd -n counts the local addition ($((n + 1)) services)" ||
	nok "aicensusd -n with a local addition: exit $rc, $(head -2 "$out/o")"

"$AIC" catalog frob x >/dev/null 2>"$out/e"; rc=$?
[ $rc = 2 ] && head -1 "$out/e" | grep -qx "aicensus catalog: unknown command 'frob', not check or diff (see aicensus catalog --help)" &&
	ok "an unknown catalog command is named (exit 2)" ||
	nok "unknown catalog command: exit $rc, $(head -1 "$out/e")"

"$AIC" catalog diff >/dev/null 2>"$out/e"; rc=$?
[ $rc = 2 ] && head -1 "$out/e" | grep -qx "aicensus catalog: diff takes NEW, or OLD and NEW" &&
	ok "catalog diff without a file: one line naming what is missing (exit 2)" ||
	nok "catalog diff without a file: exit $rc, $(head -1 "$out/e")"

# --- diff ----------------------------------------------------------------

{
	echo 'version = 1;'
	echo 'services = ('
	svc keep chat keep.example; echo ','
	svc edit chat e1.example; echo ','
	svc gone chat gone.example; echo ','
	svc old-name code moved.example; echo
	echo ');'
} >"$out/old.conf"
{
	echo 'version = 1;'
	echo 'services = ('
	svc keep chat keep.example; echo ','
	svc edit writing e2.example; echo ','
	svc new-name code moved.example; echo
	echo ');'
} >"$out/new.conf"
printf '%s\n' \
	"CHANGE	SERVICE	WHAT	OLD	NEW" \
	"changed	edit	category	chat	writing" \
	"changed	edit	domain	e1.example	-" \
	"changed	edit	domain	-	e2.example" \
	"removed	gone	service	N (V; chat, US)	-" \
	"removed	gone	domain	gone.example	-" \
	"added	new-name	service	-	N (V; code, US)" \
	"added	new-name	domain	-	moved.example" \
	"removed	old-name	service	N (V; code, US)	-" \
	"removed	old-name	domain	moved.example	-" >"$out/want.o"
cat >"$out/want.e" <<EOF
warning: service id 'gone' (N) is not in the new catalog: counts collected under it stay in the database, but nothing more is counted for it — keep the id if the service still exists
warning: service id 'old-name' (N) is not in the new catalog: counts collected under it stay in the database, but nothing more is counted for it; its names now belong to the new id 'new-name': if that is a rename, keep the old id instead
1 added, 2 removed, 1 changed, 4 services before, 3 after
EOF
expect "diff: rows per change (tab-separated when piped), a warning per removed id, a rename named" 1 \
	"$out/want.o" "$out/want.e" -- "$AIC" catalog diff "$out/old.conf" "$out/new.conf"

echo "CHANGE	SERVICE	WHAT	OLD	NEW" >"$out/want.o"
echo "0 added, 0 removed, 0 changed, $n services before, $n after" >"$out/want.e"
expect "diff: a catalog against itself" 0 "$out/want.o" "$out/want.e" -- \
	"$AIC" catalog diff config/catalog.conf config/catalog.conf
# -c: the configured catalog is OLD
echo "0 added, 0 removed, 0 changed, $n services before, $n after" >"$out/want.e"
expect "diff -c NEW: the configured catalog against NEW" 0 "$out/want.o" "$out/want.e" -- \
	"$AIC" catalog diff -c "$run/aicensus.conf" config/catalog.conf

"$AIC" catalog diff "$out/old.conf" "$bad" >"$out/o" 2>"$out/e"; rc=$?
[ $rc = 2 ] && [ ! -s "$out/o" ] && grep -qF "aicensus catalog: $bad:3: service 'a': unknown category" "$out/e" &&
	ok "diff: a broken catalog is an error naming file:line (exit 2)" ||
	nok "diff with a broken catalog: exit $rc, $(head -1 "$out/e")"

# the catalog before issue 14 (9937b2a, where this branch started)
# against the shipped one: only additions, every old id still there
if git show 9937b2a:config/catalog.conf >"$out/c111.conf" 2>/dev/null; then
	"$AIC" catalog diff "$out/c111.conf" config/catalog.conf >"$out/o" 2>"$out/e"; rc=$?
	m=$(grep -c '{ id = "' "$out/c111.conf")
	nadd=$(awk -F'\t' '$1 == "added" && $3 == "service"' "$out/o" | wc -l)
	[ $rc = 1 ] && [ "$nadd" = $((n - m)) ] &&
		! grep -q '^removed' "$out/o" && ! grep -q '^changed' "$out/o" &&
		! grep -q '^warning' "$out/e" &&
		ok "diff against the $m-service catalog before issue 14: $nadd services added, nothing removed or changed" ||
		nok "diff against the old catalog: exit $rc, $nadd added of $((n - m)), $(grep -c '^removed\|^changed' "$out/o") removed/changed"
else
	echo "# SKIP diff against the pre-issue-14 catalog: commit 9937b2a not in this repository"
fi

# --- live: SIGHUP loads a new catalog.d file ------------------------------

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null ||
	! command -v tcpreplay >/dev/null; then
	echo "# SKIP catalog live: needs root, ip(8) and tcpreplay"
	[ $fails = 0 ]
	exit
fi

# DNS queries from 10.1.0.5 for a name only the local file will hold and
# for chatgpt.com; two captures with different ports and query ids so
# that the second replay is new traffic.
mkpcap() {	# $1 = file, $2 = first source port
	$PY - "$1" "$2" <<'EOF'
import struct, sys
path, port = sys.argv[1], int(sys.argv[2])

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def query(qid, name, sport):
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    dns = struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!2H", 1, 1)
    udp = struct.pack("!4H", sport, 53, 8 + len(dns), 0) + dns
    src, dst = bytes([10, 1, 0, 5]), bytes([10, 1, 0, 1])
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), qid, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
    return eth + ip + udp

with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(10):
        for j, name in enumerate(("api.corp-llm.example", "chatgpt.com")):
            fr = query(port + 2 * i + j, name, port + 2 * i + j)
            f.write(struct.pack("<IIII", 1000 + i, j, len(fr), len(fr)) + fr)
EOF
}
mkpcap "$out/one.pcap" 40000 && mkpcap "$out/two.pcap" 41000 ||
	{ nok "cannot write the DNS captures"; exit 1; }

nsx() { ip netns exec "$NS" "$@"; }
ip netns add "$NS" || { nok "cannot create network namespace $NS"; exit 1; }
nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
if nsx ip link add v0 type veth peer name v1 && nsx ip link set v0 up &&
	nsx ip link set v1 up; then
	ok "namespace $NS with veth pair v0/v1 and nothing else"
else
	nok "cannot set up veth v0/v1 in $NS"
	exit 1
fi

live=$out/live
mkdir -p "$live/catalog.d"
cp config/catalog.conf "$live/catalog.conf"
TZONE=$($PY tests/faults_lib.py livetz)
cat >"$live/aicensus.conf" <<EOF
aicensus: {
  database = "aicensus.db";
  state_dir = "state";
  catalog = "catalog.conf";
  catalog_dir = "$live/catalog.d";
  user = "";
  timezone = "$TZONE";
  min_group_size = 1;
  flush_interval = 3600;
  departments = ( { name = "Lab"; prefixes = [ "10.1.0.0/16" ]; } );
};
EOF
ip netns exec "$NS" "$DAEMON" -c "$live/aicensus.conf" -i v1 2>"$live/daemon.log" &
dpid=$!
for _ in $(seq 300); do
	grep -q 'capturing on v1' "$live/daemon.log" && break
	sleep 0.1
done
grep -q 'capturing on v1' "$live/daemon.log" ||
	{ nok "daemon did not start: $(tail -2 "$live/daemon.log")"; exit 1; }
nsx tcpreplay -q -i v0 --pps 200 "$out/one.pcap" >/dev/null 2>&1 || nok "tcpreplay one.pcap failed"
sleep 1
{
	echo 'version = 1;'
	echo 'services = ('
	echo '  { id = "corp-llm"; name = "Corporate LLM gateway"; vendor = "Ourselves"; category = "api"; jurisdiction = "EU";'
	echo '    domains = [ "corp-llm.example" ]; hosts = [ ]; }'
	echo ');'
} >"$live/catalog.d/corp.conf"
kill -HUP "$dpid"
for _ in $(seq 300); do
	grep -q 'configuration reloaded' "$live/daemon.log" && break
	sleep 0.1
done
grep -q "configuration reloaded: 1 departments, $((n + 1)) services" "$live/daemon.log" &&
	ok "SIGHUP loads the new catalog.d file: \"$((n + 1)) services\" in the log" ||
	nok "SIGHUP with a new catalog.d file: $(tail -2 "$live/daemon.log")"
nsx tcpreplay -q -i v0 --pps 200 "$out/two.pcap" >/dev/null 2>&1 || nok "tcpreplay two.pcap failed"
sleep 1
kill -TERM "$dpid"
for _ in $(seq 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
wait "$dpid"; rc=$?
dpid=
[ $rc = 0 ] && ok "daemon stops on SIGTERM (exit 0)" || nok "daemon exit status $rc"
# the vault's totals per (department, service): dns lookups are field 3
AIC_CONF=$live/aicensus.conf $PY tests/faults_lib.py sums "$live/aicensus.db" >"$out/sums.json" 2>"$out/sums.err" ||
	nok "reading the vault failed: $(tail -1 "$out/sums.err")"
read -r corp gpt <<<"$($PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d.get("Lab|corp-llm", [0] * 7)[3], d.get("Lab|openai-chatgpt", [0] * 7)[3])
' "$out/sums.json")"
[ "$gpt" = 20 ] && ok "chatgpt.com: 20 lookups over both replays (the capture saw everything)" ||
	nok "chatgpt.com: $gpt lookups, want 20"
[ "$corp" = 10 ] &&
	ok "corp-llm.example: 10 lookups, those of the replay after the reload only" ||
	nok "corp-llm.example: $corp lookups, want the 10 after the reload"
grep -qE '10\.1\.0\.5' "$live/daemon.log" && nok "the daemon log holds a client address" ||
	ok "no client address in the daemon log"

[ $fails = 0 ]
