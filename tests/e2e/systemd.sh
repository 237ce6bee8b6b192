#!/bin/bash
# The systemd units, the man pages, and the daemon under the unit's
# restrictions, as far as a machine whose PID 1 is not systemd allows:
#
#  1. the files as `make install DESTDIR=... PREFIX=/usr` installs them:
#     `systemd-analyze verify` is clean (run in a private mount namespace
#     where the install tree is overlaid on /usr, so the programs the
#     units name exist); `systemd-analyze security` rates aicensusd.service
#     2.0 or lower; the timer fires on Monday mornings; every man page
#     renders without a warning;
#  2. the daemon captures with exactly the privileges the unit gives it:
#     user aicensus, CAP_NET_RAW as its only (ambient) capability, no new
#     privileges, on a veth in network namespaces of its own; without
#     CAP_NET_RAW it cannot;
#  3. the unit itself, started by a real systemd: a private systemd runs
#     as PID 1 of its own pid, mount, network, uts and cgroup namespaces,
#     its unit path holding only the units under test (so nothing of the
#     host's boot is started), and starts aicensusd.service with its whole
#     sandbox (seccomp filter, IPAddressDeny BPF, namespaces, ambient
#     capability): READY=1, watchdog, reload, restart after a crash,
#     capture while IPAddressDeny is in force, clean stop; then the report
#     service (and the mail service it triggers, with a stand-in sendmail).
#
# Needs root.  Leaves nothing behind but the aicensus system user (created
# from systemd/aicensus.sysusers when missing).  Starting a systemd raises
# fs.file-max to its maximum, as every systemd boot does.
# test: alone (a real systemd with the installed units; the aicensus user)
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
# a zone whose week does not end during the test (faults_lib.py livetz)
TZONE=$($PY tests/faults_lib.py livetz)
PATH=$PATH:/usr/sbin:/sbin
export PATH LC_ALL=C
unset MAKEFLAGS MFLAGS MAKELEVEL

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
skip() { echo "ok - # SKIP $*"; }

STATE=/var/lib/aicensus-systemd-test	# StateDirectory= of the unit test
PEER=aic-sdpeer-$$			# network namespaces
SP1=aic-sp1-$$
SP2=aic-sp2-$$
tmp=$(mktemp -d /tmp/aic-systemd.XXXXXX)
chmod 0755 "$tmp"	# the daemon runs as aicensus in parts of it
cg=
upid=
sdpid=
cleanup() {
	if [ -n "$sdpid" ]; then
		kill -KILL "$sdpid" 2>/dev/null
		wait "$upid" 2>/dev/null
	fi
	if [ -n "$cg" ] && [ -d "$cg" ]; then
		for i in $(seq 1 50); do	# until the killed processes are gone
			[ -z "$(find "$cg" -name cgroup.procs -exec cat {} +)" ] && break
			sleep 0.1
		done
		find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
	fi
	ip netns del "$PEER" 2>/dev/null
	ip netns del "$SP1" 2>/dev/null
	ip netns del "$SP2" 2>/dev/null
	rm -rf "$tmp" "$STATE"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ "$(id -u)" -ne 0 ]; then
	skip "needs root"
	exit 0
fi
for t in systemd-analyze make sed sqlite3 ip tcpreplay setpriv; do
	command -v "$t" >/dev/null 2>&1 || { nok "$t missing"; exit 1; }
done
for b in "$BUILD/aicensusd" "$BUILD/aicensus"; do
	[ -x "$b" ] || { nok "$b missing (run make)"; exit 1; }
done
id aicensus >/dev/null 2>&1 || systemd-sysusers "$PWD/systemd/aicensus.sysusers"
id aicensus >/dev/null 2>&1 || { nok "no aicensus user"; exit 1; }

# --- 1. the installed files ---------------------------------------------

R=$tmp/root
san=
[ "$BUILD" = build-san ] && san=address,undefined
if make -s install DESTDIR="$R" PREFIX=/usr SANITIZE=$san >"$tmp/install.log" 2>&1; then
	ok "make install DESTDIR PREFIX=/usr"
else
	nok "make install DESTDIR failed: $(tail -3 "$tmp/install.log" | tr '\n' ' ')"
	exit 1
fi
U=$R/lib/systemd/system
units="aicensusd.service aicensus-report.service aicensus-report-mail.service aicensus-report.timer"
left=$(grep -l '@[a-z]*@' "$U"/aicensus* "$R"/usr/lib/aicensus/aicensus-weekly-report \
	"$R"/lib/systemd/system-generators/aicensus-report-generator \
	"$R"/usr/share/man/man*/aicensus* 2>/dev/null)
[ -z "$left" ] && ok "every @path@ placeholder filled in at install" ||
	nok "placeholders left in: $left"

# systemd-analyze verify checks that the programs exist: overlay the
# install tree on /usr, in a mount namespace of its own.
unshare -m --propagation private sh -c '
	for d in /usr/sbin /usr/bin /usr/lib /usr/share; do
		mount -t overlay -o "lowerdir=$1$d:$d" overlay "$d" || exit 9
	done
	shift
	exec systemd-analyze verify "$@"' sh "$R" $(for u in $units; do echo "$U/$u"; done) \
	>"$tmp/verify.log" 2>&1
rc=$?
[ $rc -eq 0 ] && [ ! -s "$tmp/verify.log" ] &&
	ok "systemd-analyze verify is clean for $units" ||
	nok "systemd-analyze verify (rc $rc): $(head -5 "$tmp/verify.log" | tr '\n' ' ')"

exposure() {	# exposure UNIT-FILE -> the overall score, e.g. 1.5
	systemd-analyze security --offline=true "$1" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
for u in aicensusd.service aicensus-report.service aicensus-report-mail.service; do
	e=$(exposure "$U/$u")
	echo "# exposure $e $u"
	case $u in
	aicensusd.service) limit=2.0 ;;
	aicensus-report.service) limit=1.0 ;;
	*) limit=4.0 ;;
	esac
	if [ -n "$e" ] && awk -v e="$e" -v l="$limit" 'BEGIN { exit !(e <= l) }'; then
		ok "systemd-analyze security: $u exposure $e <= $limit"
	else
		nok "systemd-analyze security: $u exposure '$e' (want <= $limit)"
	fi
done

# Every hardening directive of the daemon's unit says why.
$PY - "$PWD/systemd/aicensusd.service" >"$tmp/why.txt" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
skip = re.compile(r"^(Description|Documentation|After|ExecStart|ExecReload|"
                  r"WantedBy|StartLimitIntervalSec|SystemCallFilter=~)")
for i, l in enumerate(lines):
    if not re.match(r"^[A-Z][A-Za-z]+=", l) or skip.match(l):
        continue
    j = i - 1
    while j >= 0 and re.match(r"^[A-Z][A-Za-z]+=", lines[j]):
        j -= 1      # a group of directives shares the comment above it
    if j < 0 or not lines[j].startswith("#"):
        print(l)
EOF
[ ! -s "$tmp/why.txt" ] && ok "every directive of aicensusd.service has a comment saying why" ||
	nok "directives without a comment: $(tr '\n' ' ' <"$tmp/why.txt")"

cal=$(sed -n 's/^OnCalendar=//p' "$U/aicensus-report.timer")
systemd-analyze calendar --iterations=5 "$cal" >"$tmp/cal.txt" 2>&1
n=$(grep -cE '(Next elapse|Iter\. #[0-9]+): Mon [0-9-]+ 0[5-9]:' "$tmp/cal.txt")
echo "# OnCalendar=$cal, next: $(sed -n 's/.*Next elapse: //p' "$tmp/cal.txt")"
[ "$n" -eq 5 ] && ok "the report timer fires on Monday mornings (5 of 5 next elapses)" ||
	nok "timer OnCalendar=$cal: $(tr '\n' ' ' <"$tmp/cal.txt")"
grep -q '^Persistent=true' "$U/aicensus-report.timer" &&
	ok "the timer catches up after downtime (Persistent=true)" ||
	nok "the timer is not Persistent"

for m in "$R"/usr/share/man/man1/aicensus.1 "$R"/usr/share/man/man5/aicensus.conf.5 \
    "$R"/usr/share/man/man8/aicensusd.8; do
	name=$(basename "$m")
	if [ ! -s "$m" ]; then
		nok "man page $name not installed"
		continue
	fi
	out=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >"$tmp/man.txt")
	lines=$(wc -l <"$tmp/man.txt")
	[ -z "$out" ] && [ "$lines" -gt 20 ] &&
		ok "man $name renders without warnings ($lines lines)" ||
		nok "man $name: $(echo "$out" | head -3 | tr '\n' ' ')"
	if command -v mandoc >/dev/null 2>&1; then
		out=$(mandoc -T lint -W warning "$m" 2>&1)
		[ -z "$out" ] && ok "mandoc -T lint: $name is clean" ||
			nok "mandoc -T lint $name: $(echo "$out" | head -3 | tr '\n' ' ')"
	fi
done

# the example of aicensus.conf(5) is a configuration the daemon accepts
mkdir "$tmp/ex"
cp config/catalog.conf "$tmp/ex/"
(umask 027; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$tmp/ex/api.token")
MANWIDTH=200 man -l "$R/usr/share/man/man5/aicensus.conf.5" 2>/dev/null |
	sed -n '/^EXAMPLES/,/^SEE ALSO/p' | sed '1,3d;$d' >"$tmp/ex/aicensus.conf"
# (-i lo: -n checks that the example's eth1 exists on this machine)
out=$("$BUILD/aicensusd" -n -i lo -c "$tmp/ex/aicensus.conf" 2>&1) &&
	ok "the example in aicensus.conf(5) is a valid configuration" ||
	nok "the example in aicensus.conf(5): $out"

# --- 2. the unit's privileges, without systemd ----------------------------

$PY tests/synth/synth.py --seed 1 --out "$tmp/gen" >/dev/null ||
	{ nok "synthesizer failed"; exit 1; }
# lab mode: released figures are the counts, comparable run with run
sed -i 's|min_group_size = [0-9]*;|min_group_size = 1;|' "$tmp/gen/aicensus.conf"
out=$(AICENSUSD=$BUILD/aicensusd SENDMAIL=/bin/false sh systemd/aicensus-weekly-report \
	-c "$tmp/gen/aicensus.conf" mail 2>&1)
[ $? -eq 0 ] && [ "$out" = "aicensus-weekly-report: report.mail_to is not set; not mailing" ] &&
	ok "the mail service does nothing when report.mail_to is not set" ||
	nok "mail without report.mail_to: $out"
# a shipping sensor's figures are the central release's: no local report
mkdir "$tmp/ship"
cp "$tmp/gen/aicensus.conf" "$tmp/gen/catalog.conf" "$tmp/ship/"
(umask 077; echo unused >"$tmp/ship/central.pass")
sed -i 's|^};|  central = { conninfo = "host=/nonexistent dbname=x user=y"; password_file = "central.pass"; site = "north"; };\n  report = { dir = "'"$tmp/ship"'"; };\n};|' \
	"$tmp/ship/aicensus.conf"
out=$(AICENSUSD=$BUILD/aicensusd AICENSUS=/bin/false sh systemd/aicensus-weekly-report \
	-c "$tmp/ship/aicensus.conf" write 2>&1)
[ $? -eq 0 ] && [ "$out" = "aicensus-weekly-report: this sensor ships to the central database (site north); its figures are in the organisation's report, none is written here" ] &&
	[ -z "$(ls "$tmp/ship" | grep '\.html$')" ] &&
	ok "the report service of a shipping sensor writes nothing and says why (exit 0)" ||
	nok "weekly report of a shipping sensor: $out"
# what the capture must add up to: the same traffic read from the file
mkdir "$tmp/off"
cp "$tmp/gen/aicensus.conf" "$tmp/gen/catalog.conf" "$tmp/off/"
(cd "$tmp/off" && "$OLDPWD/$BUILD/aicensusd" -c aicensus.conf \
	-r "$tmp/gen/traffic.pcap" >/dev/null 2>&1)
want=$(sqlite3 "$tmp/off/released.db" "SELECT SUM(dns) || ' ' || SUM(quic) FROM cell WHERE kind = 2 AND dept = '*' AND svc = '*'")

# $1 dir, $2 interface: the synthesized configuration, capturing live;
# `user` stays "aicensus", which a non-root daemon must simply not use.
live_conf() {
	mkdir -p "$1"
	cp "$tmp/gen/catalog.conf" "$1/"
	sed "s|^aicensus: {|aicensus: {\n  interface = \"$2\";\n  capture = { promisc = true; };|; s|user = \"\";|user = \"aicensus\";|; s|timezone = \"UTC\";|timezone = \"$TZONE\";|" \
		"$tmp/gen/aicensus.conf" >"$1/aicensus.conf"
	chown -R aicensus:aicensus "$1"
}
counted() {	# counted VAULT [CONF] -> "dns_lookups quic_conns tls_conns"
	AIC_CONF=${2:-} $PY tests/faults_lib.py sums "$1" 2>"$tmp/counted.err" | $PY -c '
import json, sys
v = json.load(sys.stdin).values()
print(sum(x[3] for x in v), sum(x[1] for x in v), sum(x[0] for x in v))'
}

ip netns add "$SP1" && ip netns add "$SP2" &&
	ip link add vsp0 netns "$SP1" type veth peer name vsp1 netns "$SP2" &&
	ip -n "$SP1" link set vsp0 up && ip -n "$SP2" link set vsp1 up ||
	{ nok "cannot make network namespaces"; exit 1; }
asan=
[ "$BUILD" = build-san ] && asan=detect_leaks=0
# what aicensusd.service gives: the user, CAP_NET_RAW ambient, no new privileges
unit_privs=(setpriv --reuid=aicensus --regid=aicensus --clear-groups
	--inh-caps=-all,+net_raw --ambient-caps=-all,+net_raw
	--bounding-set=-all,+net_raw --no-new-privs)
no_caps=(setpriv --reuid=aicensus --regid=aicensus --clear-groups
	--inh-caps=-all --ambient-caps=-all --bounding-set=-all --no-new-privs)
live_conf "$tmp/sp" vsp0
(cd "$tmp/sp" && ASAN_OPTIONS=$asan exec ip netns exec "$SP1" \
	"${unit_privs[@]}" "$OLDPWD/$BUILD/aicensusd" -c aicensus.conf 2>daemon.log) &
dpid=$!
for i in $(seq 1 50); do
	grep -q 'capturing on' "$tmp/sp/daemon.log" 2>/dev/null && break
	sleep 0.1
done
ip netns exec "$SP2" tcpreplay -q -i vsp1 --pps=4000 "$tmp/gen/traffic.pcap" >/dev/null 2>&1
sleep 1
kill -TERM "$dpid"
wait "$dpid"
rc=$?
got=$(counted "$tmp/sp/aicensus.db")
if [ $rc -eq 0 ] && [ "${got% *}" = "$want" ] && [ "${got##* }" -gt 0 ]; then
	ok "as aicensus with only CAP_NET_RAW (ambient), no new privileges, promiscuous: captures (dns quic tls: $got; from the file: $want)"
else
	nok "capture with the unit's privileges: rc $rc, counted '$got', want '$want ...': $(tail -3 "$tmp/sp/daemon.log" | tr '\n' ' ')"
fi
grep -q 'capturing on' "$tmp/sp/daemon.log" &&
	! grep -q 'running as user' "$tmp/sp/daemon.log" &&
	ok "started as aicensus, the daemon leaves the user setting alone" ||
	nok "started as aicensus, the daemon tried to switch users or did not start"

live_conf "$tmp/sp0" vsp0
(cd "$tmp/sp0" && ASAN_OPTIONS=$asan exec ip netns exec "$SP1" \
	"${no_caps[@]}" "$OLDPWD/$BUILD/aicensusd" -c aicensus.conf >daemon.log 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q 'interface vsp0:.*not permitted' "$tmp/sp0/daemon.log" &&
	ok "without CAP_NET_RAW the capture cannot be opened (the capability is needed)" ||
	nok "without CAP_NET_RAW: rc $rc: $(tail -2 "$tmp/sp0/daemon.log" | tr '\n' ' ')"

# --- 3. the unit, started by a real systemd ---------------------------------

cg2=$(findmnt -n -t cgroup2 -o TARGET 2>/dev/null | head -1)
self=$(sed -n 's/^0::\(.*\)$/\1/p' /proc/self/cgroup)
if [ -z "$cg2" ] || [ ! -x /lib/systemd/systemd ] ||
    ! command -v unshare >/dev/null 2>&1 || ! command -v nsenter >/dev/null 2>&1; then
	skip "no cgroup2, unshare or systemd: the unit is not started"
	exit $((fails > 0))
fi
cg=$cg2${self%/}/aic-systemd-$$
if ! mkdir "$cg" 2>/dev/null; then
	cg=
	skip "cannot create a cgroup under $cg2$self: the unit is not started"
	exit $((fails > 0))
fi

rm -rf "$STATE"
mkdir -p "$STATE/reports"
mkdir -m 0700 "$STATE/state"	# as aicensus.tmpfiles makes it: keys refuse more
chown -R aicensus:aicensus "$STATE"
week=$(date -u +%G-W%V)
mkdir -p "$tmp/units/aicensusd.service.d" "$tmp/units/aicensus-report.service.d" \
	"$tmp/units/aicensus-report-mail.service.d" "$tmp/conf"
cp "$U/aicensusd.service" "$U/aicensus-report.service" \
	"$U/aicensus-report-mail.service" "$tmp/units/"
cp "$tmp/gen/catalog.conf" "$tmp/conf/"
sed -e "s|^aicensus: {|aicensus: {\n  interface = \"vsd0\";\n  report = { dir = \"$STATE/reports\"; mail_to = \"test@example.org\"; };\n  api = { listen = \"127.0.0.1:8080\"; token_file = \"api.token\"; };|" \
	-e "s|\"aicensus.db\"|\"$STATE/aicensus.db\"|; s|\"state\"|\"$STATE/state\"|" \
	-e 's|user = "";|user = "aicensus";|' -e "s|timezone = \"UTC\";|timezone = \"$TZONE\";|" \
	"$tmp/gen/aicensus.conf" >"$tmp/conf/aicensus.conf"
# Run before the daemon, in the same sandbox (ExecStartPre=): what may it do?
cat >"$tmp/conf/probe.py" <<'EOF'
import errno, os, socket, sys
def res(f):
    try:
        f()
        return "allowed"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
st = sys.argv[1] + "/probe"
def chown_own():
    open(st, "w").close()
    try:
        os.chown(st, -1, -1)
    finally:
        os.unlink(st)
r = [("packet", res(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close())),
     ("netlink", res(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close())),
     ("bluetooth", res(lambda: socket.socket(31, socket.SOCK_RAW, 0).close())),
     ("chown", res(chown_own)),
     ("setpriority", res(lambda: os.setpriority(os.PRIO_PROCESS, 0, 1))),
     ("write_etc", res(lambda: open("/etc/aicensus-probe", "w"))),
     ("home", res(lambda: os.listdir("/root"))),
     ("pid1", "visible" if os.path.exists("/proc/1/status") else "invisible"),
     ("proc_sys", "visible" if os.path.exists("/proc/sys/kernel") else "hidden"),
     ("dev_mem", "present" if os.path.exists("/dev/mem") else "absent")]
print("sandbox-probe " + " ".join("%s=%s" % kv for kv in r))
EOF
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
echo "$token" >"$tmp/conf/api.token"
chgrp aicensus "$tmp/conf/api.token"
chmod 0640 "$tmp/conf/api.token"
printf '#!/bin/sh\n# stands in for sendmail: the message goes to the log\ncat\n' >"$tmp/conf/fake-sendmail"
chmod 0755 "$tmp/conf/fake-sendmail"
cat >"$tmp/units/aic-test.target" <<'EOF'
[Unit]
Description=aicensus unit test
DefaultDependencies=no
EOF
# The test's paths; everything else is the installed unit.  No default
# dependencies: there is no sysinit.target here, and none is wanted.
cat >"$tmp/units/aicensusd.service.d/test.conf" <<EOF
[Unit]
DefaultDependencies=no
[Service]
ExecStart=
ExecStartPre=$PY /run/aic-test/probe.py $STATE
ExecStart=/run/aic-root/usr/sbin/aicensusd -c /run/aic-test/aicensus.conf
StateDirectory=
StateDirectory=aicensus-systemd-test
StandardOutput=append:$STATE/daemon.log
StandardError=append:$STATE/daemon.log
WatchdogSec=2s
RestartSec=1s
Environment=ASAN_OPTIONS=$asan
EOF
cat >"$tmp/units/aicensus-report.service.d/test.conf" <<EOF
[Unit]
DefaultDependencies=no
[Service]
Environment=AICENSUSD=/run/aic-root/usr/sbin/aicensusd AICENSUS=/run/aic-root/usr/bin/aicensus ASAN_OPTIONS=$asan
ExecStartPre=
ExecStartPre=/run/aic-root/usr/lib/aicensus/aicensus-weekly-report -c /run/aic-test/aicensus.conf check
ExecStartPre=/bin/sh -c '! ls $STATE/state'
ExecStart=
ExecStart=/run/aic-root/usr/lib/aicensus/aicensus-weekly-report -c /run/aic-test/aicensus.conf -w $week write
StateDirectory=
StateDirectory=aicensus-systemd-test
StandardOutput=append:$STATE/report.log
StandardError=append:$STATE/report.log
EOF
cat >"$tmp/units/aicensus-report-mail.service.d/test.conf" <<EOF
[Unit]
DefaultDependencies=no
[Service]
Environment=AICENSUSD=/run/aic-root/usr/sbin/aicensusd SENDMAIL=/run/aic-test/fake-sendmail ASAN_OPTIONS=$asan
ExecStartPre=/bin/sh -c 'test ! -e $STATE/aicensus.db && test ! -e $STATE/state'
ExecStart=
ExecStart=/run/aic-root/usr/lib/aicensus/aicensus-weekly-report -c /run/aic-test/aicensus.conf -w $week mail
TemporaryFileSystem=
TemporaryFileSystem=$STATE:ro
BindReadOnlyPaths=
BindReadOnlyPaths=$STATE/reports
StandardOutput=append:$STATE/mail.log
StandardError=append:$STATE/mail.log
EOF
# The state directory and vault of this configuration lie outside
# /var/lib/aicensus: the installed generator, not the test, hides them
# from the report units (the report unit's check refuses to run if not).
AICENSUSD=$BUILD/aicensusd AICENSUS_CONF=$tmp/conf/aicensus.conf \
	AICENSUS_WEEKLY_REPORT=$R/usr/lib/aicensus/aicensus-weekly-report \
	sh "$R/lib/systemd/system-generators/aicensus-report-generator" "$tmp/units" \
	>"$tmp/generator.log" 2>&1
grep -qx "InaccessiblePaths=-$STATE/state" "$tmp/units/aicensus-report.service.d/50-aicensus-paths.conf" 2>/dev/null &&
grep -qx "InaccessiblePaths=-$STATE/aicensus.db" "$tmp/units/aicensus-report-mail.service.d/50-aicensus-paths.conf" 2>/dev/null &&
	ok "aicensus-report-generator hides the configured state_dir and database ($STATE/...) from the report units" ||
	nok "aicensus-report-generator: $(cat "$tmp/generator.log") $(cat "$tmp/units"/*.d/50-* 2>/dev/null | tr '\n' ' ')"
touch "$tmp/console.log"
cat >"$tmp/boot.sh" <<EOF
#!/bin/sh
# PID 1 of fresh pid/mount/net/uts/cgroup namespaces: a systemd that
# sees only the units under test.
set -e
mount -t sysfs sysfs /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=755 tmpfs /run
[ ! -e /dev/console ] || mount --bind $tmp/console.log /dev/console
mkdir -p /run/aic-units /run/aic-nogen /run/aic-test /run/aic-root
cp -a $tmp/units/. /run/aic-units/
cp -a $tmp/conf/. /run/aic-test/
cp -a $R/. /run/aic-root/
exec env -i container=aicensus-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	SYSTEMD_UNIT_PATH=/run/aic-units SYSTEMD_GENERATOR_PATH=/run/aic-nogen \
	SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/run/aic-nogen \
	/lib/systemd/systemd --unit=aic-test.target --log-target=console --log-level=info
EOF
chmod 0755 "$tmp/boot.sh"
(echo "$BASHPID" >"$cg/cgroup.procs" &&
	exec unshare --pid --fork --mount --uts --net --cgroup --propagation private \
	--mount-proc "$tmp/boot.sh") >"$tmp/boot.log" 2>&1 &
upid=$!
for i in $(seq 1 50); do
	sdpid=$(ps -o pid= --ppid "$upid" 2>/dev/null | tr -d ' ')
	[ -n "$sdpid" ] && break
	sleep 0.1
done
in_ns() { nsenter -t "$sdpid" -m -p -n -u -- "$@"; }
sctl() { in_ns systemctl "$@"; }
state=
for i in $(seq 1 100); do
	state=$(sctl is-system-running 2>/dev/null)
	case $state in running|degraded) break ;; esac
	sleep 0.1
done
if [ "$state" != running ]; then
	nok "private systemd did not come up ($state): $(tail -3 "$tmp/boot.log" "$tmp/console.log" | tr '\n' ' ')"
	exit 1
fi
ok "a private systemd runs as PID 1 of its own namespaces, with only the units under test"

ip netns add "$PEER" &&
	ip link add vsd1 netns "$PEER" type veth peer name vsd0 netns "/proc/$sdpid/ns/net" &&
	ip -n "$PEER" addr add 192.0.2.2/24 dev vsd1 && ip -n "$PEER" link set vsd1 up &&
	in_ns ip addr add 192.0.2.1/24 dev vsd0 && in_ns ip link set vsd0 up &&
	in_ns ip link set lo up || { nok "cannot wire the systemd's network namespace"; exit 1; }

show() { sctl show -P "$2" "$1" 2>/dev/null; }
if sctl start aicensusd.service 2>"$tmp/start.err"; then
	ok "systemctl start aicensusd returns: Type=notify got READY=1 (status: $(show aicensusd StatusText))"
else
	nok "systemctl start aicensusd: $(cat "$tmp/start.err") $(tail -3 "$STATE/daemon.log" 2>/dev/null | tr '\n' ' ')"
	sctl status --no-pager aicensusd 2>&1 | tail -5 | sed 's/^/#   /'
	exit 1
fi
mp=$(show aicensusd MainPID)
[ "${mp:-0}" -gt 1 ] && in_ns cat "/proc/$mp/status" >"$tmp/status" 2>/dev/null
uid=$(id -u aicensus)
caps=$(awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ { printf "%s ", $2 }' "$tmp/status")
grep -qE "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" "$tmp/status" &&
	ok "the daemon runs as aicensus (uid $uid), never as root" ||
	nok "daemon uids: $(grep ^Uid "$tmp/status")"
[ "$caps" = "0000000000002000 0000000000002000 0000000000002000 0000000000002000 0000000000002000 " ] &&
	ok "its capabilities are CAP_NET_RAW only (inheritable, permitted, effective, bounding, ambient)" ||
	nok "its capabilities: $caps"
[ "${mp:-0}" -gt 1 ] && lim=$(in_ns cat "/proc/$mp/limits" 2>/dev/null |
	awk '/^Max open files/ { print $4, $5 }')
[ "$lim" = "512 512" ] &&
	ok "its descriptor limit is the unit's LimitNOFILE=512 (api.max_connections = 64 needs 192)" ||
	nok "its descriptor limit: $lim (want 512 512)"
grep -qE '^NoNewPrivs:\s+1$' "$tmp/status" && grep -qE '^Seccomp:\s+2$' "$tmp/status" &&
	ok "no new privileges, and a seccomp filter is in force" ||
	nok "NoNewPrivs/Seccomp: $(grep -E '^(NoNewPrivs|Seccomp):' "$tmp/status" | tr '\n' ' ')"

probe=$(grep -m1 '^sandbox-probe' "$STATE/daemon.log")
echo "# $probe"
[ "$probe" = "sandbox-probe packet=allowed netlink=EAFNOSUPPORT bluetooth=EAFNOSUPPORT chown=EPERM setpriority=EPERM write_etc=EROFS home=EACCES pid1=invisible proc_sys=hidden dev_mem=absent" ] &&
	ok "in the unit's sandbox: packet sockets yes; netlink, other families, chown, setpriority, writing /etc, /root, other processes, /proc/sys, /dev/mem no" ||
	nok "the unit's sandbox is not as written: $probe"

# IPAddressDeny=any + IPAddressAllow=localhost: a process put into the
# service's cgroup may send to loopback only, one outside it anywhere.
probe='
import socket, sys
if sys.argv[1] == "in":
    open("/sys/fs/cgroup/system.slice/aicensusd.service/cgroup.procs", "w").write("0")
def send(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b"x", (a, 9))
        return "sent"
    except PermissionError:
        return "EPERM"
    except OSError as e:
        return "errno%d" % e.errno
print(send("192.0.2.2"), send("127.0.0.1"))
'
inside=$(in_ns $PY -c "$probe" in 2>&1)
outside=$(in_ns $PY -c "$probe" out 2>&1)
[ "$inside" = "EPERM sent" ] && [ "$outside" = "sent sent" ] &&
	ok "IPAddressDeny: the service's IP sockets reach loopback only (in its cgroup: $inside; outside: $outside)" ||
	nok "IPAddressDeny: in the service's cgroup '$inside', outside '$outside'"

ip netns exec "$PEER" tcpreplay -q -i vsd1 --pps=4000 "$tmp/gen/traffic.pcap" >/dev/null 2>&1
sleep 1

# The HTTP API inside the sandbox, on loopback (IPAddressAllow=localhost).
api='
import sys, urllib.request
def get(path, token=None):
    r = urllib.request.Request("http://127.0.0.1:8080" + path)
    if token:
        r.add_header("Authorization", "Bearer " + token)
    try:
        return urllib.request.urlopen(r, timeout=5).status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError as e:
        return str(e)
print(get("/healthz"), get("/api/v1/departments"), get("/api/v1/departments", sys.argv[1]))
'
codes=$(in_ns $PY -c "$api" "$token" 2>&1)
[ "$codes" = "200 401 200" ] &&
	ok "the HTTP API answers on loopback under the sandbox (healthz, 401 without the token, 200 with it)" ||
	nok "HTTP API under the sandbox: $codes $(grep -i api "$STATE/daemon.log" | tail -2 | tr '\n' ' ')"
if sctl reload aicensusd.service && sleep 0.5 &&
    [ "$(show aicensusd ActiveState)" = active ] &&
    grep -q 'configuration reloaded' "$STATE/daemon.log"; then
	ok "systemctl reload: SIGHUP, configuration reloaded, still active"
else
	nok "reload: $(show aicensusd ActiveState), $(tail -2 "$STATE/daemon.log" | tr '\n' ' ')"
fi
sleep 4.5	# more than two watchdog periods
[ "$(show aicensusd NRestarts)" = 0 ] && [ "$(show aicensusd ActiveState)" = active ] &&
	ok "the watchdog (2 s in this test) is pinged: no restart after 5 s" ||
	nok "watchdog: NRestarts $(show aicensusd NRestarts), $(show aicensusd ActiveState) $(show aicensusd Result)"

# counts flushed so far, then a crash: Restart=on-failure brings it back
sctl stop aicensusd.service
got=$(counted "$STATE/aicensus.db" "$tmp/conf/aicensus.conf")
[ "${got% *}" = "$want" ] && [ "${got##* }" -gt 0 ] &&
	ok "under the full sandbox and IPAddressDeny it captured everything (dns quic tls: $got; from the file: $want)" ||
	nok "captured under systemd: '$got', want '$want ...' $(tail -2 "$tmp/counted.err" | tr '\n' ' ')"
[ "$(show aicensusd Result)" = success ] && [ "$(show aicensusd ExecMainStatus)" = 0 ] &&
	grep -q 'stopped; all counts stored' "$STATE/daemon.log" &&
	ok "systemctl stop: final flush, exit 0 (STOPPING=1)" ||
	nok "stop: Result $(show aicensusd Result), status $(show aicensusd ExecMainStatus)"
if ! sctl start aicensusd.service 2>"$tmp/start2.err"; then
	nok "second start: $(cat "$tmp/start2.err") $(tail -4 "$STATE/daemon.log" | tr '\n' ' ')"
	exit 1
fi
mp=$(show aicensusd MainPID)
# never "kill 0": that would signal this script's own process group
[ "${mp:-0}" -gt 1 ] && in_ns kill -SEGV "$mp"
for i in $(seq 1 60); do
	[ "$(show aicensusd NRestarts)" = 1 ] && [ "$(show aicensusd ActiveState)" = active ] && break
	sleep 0.1
done
[ "$(show aicensusd NRestarts)" = 1 ] && [ "$(show aicensusd ActiveState)" = active ] &&
	[ "$(show aicensusd MainPID)" != "$mp" ] &&
	ok "after a crash (SIGSEGV) Restart=on-failure starts it again" ||
	nok "after SIGSEGV: NRestarts $(show aicensusd NRestarts), $(show aicensusd ActiveState)"
sctl stop aicensusd.service

k=$(stat -c '%U %a' "$STATE"/state/week-*.key 2>/dev/null | sort -u)
d=$(stat -c '%U %G %a' "$STATE/aicensus.db" 2>/dev/null)
[ "$k" = "aicensus 600" ] && [ "$d" = "aicensus aicensus 600" ] &&
	ok "the week keys are aicensus 0600, the raw working database aicensus:aicensus 0600" ||
	nok "device key '$k', database '$d'"

# The running week is released at its end; to report on it now, the
# sensor is decommissioned: --finalise as the service user releases what
# the vault holds and destroys the keys.
setpriv --reuid=aicensus --regid=aicensus --clear-groups \
	"$PWD/$BUILD/aicensusd" -c "$tmp/conf/aicensus.conf" --finalise \
	>"$tmp/finalise.log" 2>&1 &&
	[ -z "$(ls "$STATE/state" 2>/dev/null)" ] &&
	[ "$(stat -c '%U %G %a' "$STATE/released.db" 2>/dev/null)" = "aicensus aicensus 640" ] &&
	ok "aicensusd --finalise as aicensus released the week (released.db aicensus:aicensus 0640) and left no key" ||
	nok "--finalise: $(tail -2 "$tmp/finalise.log" | tr '\n' ' ') state: $(ls "$STATE/state" 2>&1 | tr '\n' ' ')"

# The weekly report, and the mail it triggers (OnSuccess=).
if ! "$BUILD/aicensus" report --help >/dev/null 2>&1 &&
    ! "$BUILD/aicensus" 2>&1 | grep -q 'aicensus report'; then
	skip "aicensus report is not built: report and mail services not run"
	exit $((fails > 0))
fi
f=$STATE/reports/aicensus-$week.html
if sctl start aicensus-report.service 2>"$tmp/report.err" && [ -s "$f" ]; then
	ok "aicensus-report.service wrote $(basename "$f") ($(stat -c '%s bytes, mode %a' "$f")), without seeing the device key"
else
	nok "aicensus-report.service: $(cat "$tmp/report.err") $(tail -3 "$STATE/report.log" 2>/dev/null | tr '\n' ' ')"
fi
for i in $(seq 1 50); do
	grep -q 'mailed' "$STATE/mail.log" 2>/dev/null && break
	sleep 0.1
done
$PY - "$STATE/mail.log" "$f" "$week" >"$tmp/mail.chk" 2>&1 <<'EOF'
import email, sys
text = open(sys.argv[1]).read()
msg = email.message_from_string(text.split("\naicensus-weekly-report: mailed")[0] + "\n")
assert msg["To"] == "test@example.org", msg["To"]
assert sys.argv[3] in msg["Subject"], msg["Subject"]
att = [p for p in msg.walk() if p.get_filename()]
assert len(att) == 1 and att[0].get_content_type() == "text/html"
assert att[0].get_payload(decode=True) == open(sys.argv[2], "rb").read()
print("ok")
EOF
[ "$(cat "$tmp/mail.chk")" = ok ] &&
	ok "aicensus-report-mail.service (OnSuccess=) mailed it as MIME to report.mail_to, seeing neither database nor key" ||
	nok "mail: $(tail -3 "$tmp/mail.chk" | tr '\n' ' ') $(tail -2 "$STATE/mail.log" 2>/dev/null | tr '\n' ' ')"

exit $((fails > 0))
