#!/bin/bash
# `make deps` and `make test-deps`: a gateway gets what building and
# running need and nothing of the test tooling; the test packages leave
# no service enabled, running or listening.
#
#  1. The package lists are the Makefile's own: what `make -n deps` and
#     `make -n test-deps` would hand to apt-get.  Every pkg-config module
#     the build links (PKGS) comes from a package of the deps list; the
#     two lists share no package; and each test tool (tshark, valgrind,
#     chromium, promtool, PostgreSQL's initdb, clang, lintian, ...) comes
#     from a package that is in the dependency closure of the test list
#     but not in that of the deps list (dpkg's database decides:
#     tests/deps_check.py).
#  2. As root, `make test-deps` for real (apt-get, so it needs Debian's
#     archive; on a machine where it already ran it installs nothing new
#     and redoes the service handling): no TCP or UDP socket listens
#     afterwards that did not before, no unit of a test package outside
#     Debian's base system (priority optional or extra) is enabled, the
#     services it ships are masked and not running, and no PostgreSQL
#     cluster is online.
#  3. The fresh case, which a machine that already has the packages never
#     shows: in an overlay of this machine's root (private mount, pid and
#     network namespaces; every change vanishes with them) without the
#     container's own policy-rc.d and with a runlevel as on a booted
#     machine, prometheus and postgresql-15 are purged and installed
#     again from apt's cache, first plainly (the control: Debian enables
#     and starts prometheus, listening on port 9090 on all interfaces,
#     and creates and starts the "main" cluster on 5432) and then
#     through quiet-install.sh: nothing listens or runs, the services are
#     masked, the "main" cluster Debian created is dropped.
# test: alone (apt-get in an overlay of the real root, which nothing may change meanwhile; counts the listening sockets)
cd "$(dirname "$0")/../.." || exit 1
PATH=$PATH:/usr/sbin:/sbin
export PATH LC_ALL=C
unset MAKEFLAGS MFLAGS MAKELEVEL

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d /tmp/aic-deps.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
PY=/usr/bin/python3

# --- 1. the lists --------------------------------------------------------
# the words after --no-install-recommends of the apt-get line make prints
deps=$(make -s -n deps | sed -n 's/.*--no-install-recommends//p' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
tdeps=$(make -s -n test-deps | sed -n 's/.*quiet-install\.sh "[^"]*"//p' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
units=$(make -s -n test-deps | sed -n 's/.*quiet-install\.sh "\([^"]*\)".*/\1/p')
nd=$(echo "$deps" | grep -c .)
nt=$(echo "$tdeps" | grep -c .)
if [ "$nd" -gt 0 ] && [ "$nt" -gt 0 ] && [ -n "$units" ] &&
    make -s -n test-deps | grep -q -- '--no-install-recommends.*build-essential'; then
	ok "make -n: deps installs $nd packages; test-deps installs deps first, then $nt test packages with services $units kept quiet"
else
	nok "could not read the package lists from make -n deps / test-deps ($nd, $nt, '$units')"
	exit 1
fi

both=$(comm -12 <(echo "$deps") <(echo "$tdeps") | tr '\n' ' ')
[ -z "$both" ] && ok "the deps and test-deps lists share no package" ||
	nok "in both lists: $both"

$PY tests/deps_check.py closure $deps >"$tmp/cdeps" &&
	$PY tests/deps_check.py closure $tdeps >"$tmp/ctest" || nok "deps_check.py failed"
pkgof() {	# the package that installed program or file $1
	local p
	p=$(dpkg -S "$1" 2>/dev/null | head -n 1 | cut -d: -f1)
	[ -n "$p" ] || p=$(dpkg -S "$(readlink -f "$1")" 2>/dev/null | head -n 1 | cut -d: -f1)
	echo "$p"
}
miss=
for m in $(sed -n 's/^PKGS[[:space:]]*:=//p' Makefile); do
	pc=$(pkg-config --variable=pcfiledir "$m" 2>/dev/null)/$m.pc
	p=$(pkgof "$pc")
	[ -n "$p" ] && grep -qx "$p" "$tmp/cdeps" || miss="$miss $m($p)"
done
[ -z "$miss" ] && ok "every library the build links (PKGS: $(sed -n 's/^PKGS[[:space:]]*:=//p' Makefile | xargs)) comes with the deps list (a package of it or one they depend on)" ||
	nok "libraries whose -dev package is not in deps:$miss"

# every program the tests, benchmarks, fuzzing and the package checks run
# that a plain Debian does not have
TOOLS="tshark tcpreplay tcprewrite valgrind chromium promtool prometheus
	/usr/lib/postgresql/15/bin/initdb /usr/lib/postgresql/15/bin/pg_ctl
	clang wrk curl pdftotext pdfinfo mandoc sqlite3 dig dnsmasq faketime
	ndpiReader bc lintian dh dh_installsystemd strace /usr/bin/python3"
bad=
none=
for t in $TOOLS; do
	f=$(command -v "$t") || { none="$none $t"; continue; }
	p=$(pkgof "$f")
	grep -qx "$p" "$tmp/cdeps" && bad="$bad $t($p)"
	grep -qx "$p" "$tmp/ctest" || none="$none $t($p not in test-deps)"
done
[ -z "$bad" ] && ok "none of the $(echo $TOOLS | wc -w) test tools comes with make deps ($(wc -l <"$tmp/cdeps") packages with their dependencies)" ||
	nok "make deps installs test tools:$bad"
[ -z "$none" ] && ok "make test-deps installs every test tool ($(wc -l <"$tmp/ctest") packages with their dependencies)" ||
	nok "test tools missing or not from test-deps:$none"

# --- 2. make test-deps, for real -----------------------------------------
if [ "$(id -u)" -ne 0 ]; then
	nok "make test-deps needs root (run the suite as root, as CI does)"
	exit 1
fi
listening() { ss -Hltnu | awk '{print $1, $5}' | sort -u; }
listening >"$tmp/before"
if make -s test-deps >"$tmp/td.log" 2>&1; then
	ok "make test-deps ($(grep -c '^test-deps: ' "$tmp/td.log") quiet-install actions: $(grep '^test-deps: ' "$tmp/td.log" | sed 's/ (.*//; s/^test-deps: //' | tr '\n' ';'))"
else
	nok "make test-deps failed: $(tail -n 3 "$tmp/td.log" | tr '\n' ' ')"
fi
sleep 1
listening >"$tmp/after"
new=$(comm -13 "$tmp/before" "$tmp/after" | tr '\n' ';')
[ -z "$new" ] && ok "no new listening socket after make test-deps ($(wc -l <"$tmp/after") listening, as before)" ||
	nok "listening after make test-deps and not before: $new"
for port in 9090 5432; do
	grep -q ":$port\$" "$tmp/after" && nok "something listens on port $port (prometheus/postgresql)"
done

$PY tests/deps_check.py closure $tdeps >"$tmp/ctest"
enabled=
checked=0
while read -r p; do
	case $($PY tests/deps_check.py priority "$p" | cut -d' ' -f2) in
	optional|extra) ;;
	*) continue ;;
	esac
	for u in $(dpkg -L "$p" 2>/dev/null | grep -E '^/(usr/)?lib/systemd/system/[^/@]+\.(service|socket|timer)$'); do
		u=$(basename "$u")
		checked=$((checked + 1))
		s=$(systemctl is-enabled "$u" 2>/dev/null)
		case $s in enabled|enabled-runtime|alias|linked) enabled="$enabled $u($p:$s)" ;; esac
	done
done <"$tmp/ctest"
[ -z "$enabled" ] && ok "no unit of the optional test packages is enabled ($checked units checked)" ||
	nok "enabled units of test packages:$enabled"
st=
for u in $units; do
	s=$(systemctl is-enabled "$u" 2>/dev/null)
	a=$(systemctl is-active "$u" 2>/dev/null)
	[ -n "$a" ] || a="not running (no systemd)"
	st="$st $u=$s/$a"
	[ "$s" = masked ] && [ "$a" != active ] || nok "$u is $s and $a after make test-deps"
done
[ -n "$st" ] && ok "the test packages' services:$st"
on=$(pg_lsclusters -h 2>/dev/null | awk '$4 == "online" {print $1 "/" $2}' | tr '\n' ' ')
[ -z "$on" ] && ok "no PostgreSQL cluster online ($(pg_lsclusters -h 2>/dev/null | wc -l) cluster(s) known, all down)" ||
	nok "PostgreSQL clusters online: $on"

# --- 3. a fresh installation, in an overlay ---------------------------------
for p in prometheus postgresql-15; do
	v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null | sed 's/^[0-9]*://')
	ls /var/cache/apt/archives/"${p}_${v}"_*.deb >/dev/null 2>&1 ||
		apt-get -o DPkg::Lock::Timeout=600 install -y -d --reinstall --no-install-recommends "$p" >/dev/null 2>&1 ||
		nok "no $p $v in apt's cache and no download"
done
t0=$(date +%s)
bash tests/tools/overlay-root.sh -n tests/tools/deps-fresh.sh "$PWD" >"$tmp/fresh.log" 2>&1 ||
	nok "the overlay failed: $(tail -n 3 "$tmp/fresh.log" | tr '\n' ' ')"
grep '^not ok - ' "$tmp/fresh.log"
fails=$((fails + $(grep -c '^not ok - ' "$tmp/fresh.log")))
val() { sed -n "s/^$1 $2: //p" "$tmp/fresh.log"; }
echo "# control, plain apt-get install: $(sed -n 's/^control //p' "$tmp/fresh.log" | tr '\n' ';')"
echo "# through quiet-install.sh: $(sed -n 's/^quiet //p' "$tmp/fresh.log" | tr '\n' ';')"
case "$(val control units)|$(val control clusters)|$(val control listen)" in
"enabled enabled |"*15/main:online*"|"*:9090*:5432*|"enabled enabled |"*15/main:online*"|"*:5432*:9090*)
	ok "control: a plain fresh installation enables and starts both services, listening on $(val control listen)($(val control procs) processes, cluster $(val control clusters))" ;;
*) nok "control: a plain fresh installation did not enable and start prometheus and postgresql ('$(val control units)', '$(val control listen)', '$(val control clusters)'): the checks below would prove nothing" ;;
esac
[ -z "$(val quiet listen)" ] && [ "$(val quiet procs)" = 0 ] &&
	ok "a fresh installation through quiet-install.sh: nothing listens, no prometheus or postgres process ($(($(date +%s) - t0)) s for both)" ||
	nok "a fresh installation through quiet-install.sh listens on '$(val quiet listen)', $(val quiet procs) processes"
[ "$(val quiet units)" = "masked masked " ] &&
	ok "prometheus.service and postgresql.service are masked" || nok "unit states: $(val quiet units)"
[ -z "$(val quiet clusters)" ] && grep -q '^quiet-log test-deps: dropped the PostgreSQL cluster 15/main' "$tmp/fresh.log" &&
	ok "the main cluster Debian created was dropped (control: $(val control clusters))" ||
	nok "clusters after quiet-install.sh: '$(val quiet clusters)'"
exit $((fails > 0))
