#!/bin/bash
# The Debian package, built, checked, installed, removed and purged:
#
#  1. `make deb` builds aicensus_<version>_<arch>.deb; lintian reports no
#     error (its warnings are listed); the package holds exactly the files
#     of `make install DESTDIR=... PREFIX=/usr`, with their modes (man
#     pages gzipped, /usr/share/doc/aicensus added), the units unchanged,
#     the example configuration naming /usr paths; aicensus.conf and
#     catalog.conf are conffiles;
#  2. installed with dpkg on this machine as seen through an overlay
#     (tests/tools/overlay-root.sh: private mount and pid namespaces, /
#     an overlay of the real root with a tmpfs on top), made fresh first
#     (no aicensus user, no files of an earlier `make install`, which
#     tests/e2e/install.sh puts on this machine), so every change, the
#     dpkg database's included, vanishes with the namespaces and the
#     machine is left as it was (checked at the end: dpkg's view of
#     aicensus, the user, the files).  Installed: the user, the state
#     directories, the configuration readable by the daemon's group, the
#     units neither enabled nor started, no daemon running; configured
#     (interface lo), `aicensusd -n` as the service user accepts the
#     installed configuration; installing it again changes nothing;
#  3. removal stops and forgets: the week and outbox keys, the API token
#     and the working database are removed and named, the released
#     figures, the reports and the (edited) configuration are kept and
#     named; purge removes the configuration and what is left of the
#     state, names what it keeps, and leaves no unit state behind;
#  4. on the same fresh root, `make install` then `make uninstall`: the
#     secrets go as with the package, and what is kept is named.
#
# Needs root (CI runs the suite as root).
# test: alone (dpkg-buildpackage in the source tree; dpkg in an overlay of the real root, which nothing may change meanwhile)
cd "$(dirname "$0")/../.." || exit 1
PATH=$PATH:/usr/sbin:/sbin
export PATH LC_ALL=C
unset MAKEFLAGS MFLAGS MAKELEVEL
BUILD=${BUILD:-build}

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

if [ "$(id -u)" -ne 0 ]; then
	nok "the package test needs root: dpkg, namespaces, overlayfs (CI runs the suite as root)"
	exit 1
fi
for t in dpkg-buildpackage dh lintian unshare chroot setpriv; do
	command -v "$t" >/dev/null || { nok "$t is missing (make test-deps installs it)"; exit 1; }
done
tmp=$(mktemp -d /tmp/aic-deb.XXXXXX)
chmod 0755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
san=
[ "$BUILD" = build-san ] && san=address,undefined

# --- 1. build, lintian, contents -----------------------------------------
version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' Makefile)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$tmp/aicensus_${version}_$arch.deb
t0=$(date +%s)
if env -u VALGRIND -u SANITIZE make -s deb DEB_OUT="$tmp" >"$tmp/build.log" 2>&1 && [ -f "$deb" ]; then
	ok "make deb: $(basename "$deb") ($(stat -c %s "$deb") bytes, $(($(date +%s) - t0)) s)"
else
	nok "make deb failed: $(tail -n 5 "$tmp/build.log" | tr '\n' ' ')"
	exit 1
fi
[ -z "$(git status --porcelain --ignored build-deb debian 2>/dev/null)" ] &&
	ok "make deb left nothing in the source tree (no build-deb/, nothing under debian/)" ||
	nok "make deb left files behind: $(git status --porcelain --ignored build-deb debian | head -3 | tr '\n' ' ')"

lintian --tag-display-limit 0 --show-overrides "$deb" >"$tmp/lintian.log" 2>&1
ne=$(grep -c '^E: ' "$tmp/lintian.log")
nw=$(grep -c '^W: ' "$tmp/lintian.log")
[ "$ne" -eq 0 ] &&
	ok "lintian: no error, $nw warning(s)$(grep '^W: ' "$tmp/lintian.log" | sed 's/^W: aicensus: /; /' | tr -d '\n'), $(grep -c '^O: ' "$tmp/lintian.log") overridden$(grep '^O: ' "$tmp/lintian.log" | sed 's/^O: aicensus: /; /' | tr -d '\n')" ||
	nok "lintian: $ne error(s): $(grep '^E: ' "$tmp/lintian.log" | head -5 | tr '\n' ' ')"

mkdir "$tmp/x" "$tmp/mi"
dpkg-deb -x "$deb" "$tmp/x"
if make -s install DESTDIR="$tmp/mi" PREFIX=/usr SANITIZE=$san >"$tmp/mi.log" 2>&1; then
	list() { (cd "$1" && find . ! -type d -printf '%#m /%P\n') | sed 's/^0*\([0-7]\{3\}\) /0\1 /' | sort -k2; }
	list "$tmp/mi" >"$tmp/want"
	list "$tmp/x" | grep -v ' /usr/share/doc/aicensus/\| /usr/share/lintian/overrides/aicensus$' | sed 's|\(/usr/share/man/.*\)\.gz$|\1|' >"$tmp/got"
	diff "$tmp/want" "$tmp/got" >"$tmp/diff" &&
		ok "the package holds the $(wc -l <"$tmp/want") files of make install PREFIX=/usr, with their modes (and the Debian files: /usr/share/doc/aicensus/{$(cd "$tmp/x/usr/share/doc/aicensus" && ls | tr '\n' ',' | sed 's/,$//')}, the lintian override)" ||
		nok "package and make install differ: $(grep '^[<>]' "$tmp/diff" | head -6 | tr '\n' ' ')"
	same=1
	for f in lib/systemd/system/aicensusd.service lib/systemd/system/aicensus-report.timer \
	    usr/lib/aicensus/aicensus-weekly-report usr/lib/aicensus/aicensus-forget \
	    usr/lib/sysusers.d/aicensus.conf usr/lib/tmpfiles.d/aicensus.conf etc/aicensus/catalog.conf; do
		cmp -s "$tmp/mi/$f" "$tmp/x/$f" || { nok "/$f differs from make install's"; same=0; }
	done
	[ $same -eq 1 ] && ok "units, helpers, sysusers, tmpfiles and catalog are make install's, byte for byte"
	d=$(diff "$tmp/mi/etc/aicensus/aicensus.conf" "$tmp/x/etc/aicensus/aicensus.conf" | grep '^[<>]' | sed 's/[[:space:]]\+/ /g' | tr '\n' '|')
	[ "$d" = '< # plugin_dir = "/usr/local/lib/aicensus/plugins"; (where make install puts them)|> # plugin_dir = "/usr/lib/aicensus/plugins"; (where make install puts them)|< web_dir = "/usr/local/share/aicensus/web";|> web_dir = "/usr/share/aicensus/web";|' ] &&
		ok "the packaged aicensus.conf is the example with the /usr paths of plugins and dashboard" ||
		nok "packaged aicensus.conf differs from the example by: $d"
else
	nok "make install DESTDIR for the comparison failed: $(tail -n 3 "$tmp/mi.log" | tr '\n' ' ')"
fi
cf=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles | tr '\n' ' ')
[ "$cf" = "/etc/aicensus/aicensus.conf /etc/aicensus/catalog.conf " ] &&
	ok "conffiles: $cf" || nok "conffiles are '$cf'"

# --- 2 and 3. install, remove, purge in an overlay of this machine -------
# the real machine's view, compared at the end
machine() {
	{ dpkg-query -W -f='${Package} ${Version} ${Status}\n' aicensus 2>&1
	  getent passwd aicensus; getent group aicensus
	  find /etc/aicensus /var/lib/aicensus /lib/systemd/system /usr/lib/sysusers.d \
		/usr/lib/tmpfiles.d /etc/systemd/system -name '*aicensus*' 2>/dev/null | sort |
		xargs -r stat -c '%n %a %U %s %Y'; } 2>&1
}
machine >"$tmp/machine.before"

cat >"$tmp/inside.sh" <<'EOF'
# runs in new mount and pid namespaces, chrooted into the overlay
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH LC_ALL=C
deb=$1
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; }
# fresh: nothing of an earlier make install or package, no aicensus user
rm -rf /etc/aicensus /var/lib/aicensus /lib/systemd/system/aicensus* \
	/usr/lib/sysusers.d/aicensus.conf /usr/lib/tmpfiles.d/aicensus.conf \
	/usr/local/sbin/aicensusd /usr/local/bin/aicensus /usr/local/lib/aicensus
userdel aicensus 2>/dev/null; groupdel aicensus 2>/dev/null
getent passwd aicensus >/dev/null && nok "could not remove the aicensus user in the overlay"

units="aicensusd.service aicensus-report.timer aicensus-report.service aicensus-report-mail.service"
states() {	# enabled state / active state ("-": no systemd to ask)
	for u in $units; do
		a=$(systemctl is-active "$u" 2>/dev/null)
		printf '%s=%s/%s ' "$u" "$(systemctl is-enabled "$u" 2>/dev/null)" "${a:--}"
	done
}
installed() {
	if dpkg -i "$deb" >/tmp/i$1.log 2>&1; then
		m=$(grep '^aicensus: ' /tmp/i$1.log | head -n 1)
		ok "dpkg -i (run $1): ${m:-no message (the same version again)}"
	else
		nok "dpkg -i (run $1) failed: $(tail -n 4 /tmp/i$1.log | tr '\n' ' ')"
		exit 1
	fi
}
installed 1
u=$(getent passwd aicensus)
case $u in
aicensus:x:*:*:*:/var/lib/aicensus:*) [ "${u##*:}" != /bin/bash ] &&
	ok "the package created the system user: $u" || nok "user aicensus has a login shell: $u" ;;
*) nok "no aicensus user after installation: '$u'" ;;
esac
st=$(stat -c '%n %U %G %a' /var/lib/aicensus /var/lib/aicensus/state /var/lib/aicensus/reports 2>&1 | tr '\n' ';')
[ "$st" = "/var/lib/aicensus aicensus aicensus 750;/var/lib/aicensus/state aicensus aicensus 700;/var/lib/aicensus/reports aicensus aicensus 750;" ] &&
	ok "state directories: /var/lib/aicensus 0750, state/ 0700, reports/ 0750, owned by aicensus" ||
	nok "state directories: $st"
c=$(stat -c '%U %G %a' /etc/aicensus/aicensus.conf /etc/aicensus/catalog.conf 2>&1 | tr '\n' ';')
[ "$c" = "root aicensus 640;root root 644;" ] &&
	ok "aicensus.conf root:aicensus 0640, catalog.conf 0644; catalog.d/ for local additions: $(stat -c %a /etc/aicensus/catalog.d)" ||
	nok "configuration files: $c"
s=$(states)
case $s in
*=enabled*|*/active*) nok "units after installation: $s" ;;
*) ok "installed, not enabled, not started: $s" ;;
esac
pgrep -x aicensusd >/dev/null && nok "an aicensusd runs after installation (pid $(pgrep -x aicensusd))" ||
	ok "no aicensusd process in the installation's pid namespace"
# configure as an administrator would, then check as the service user
sed -i 's/^  interface = .*/  interface = "lo";/' /etc/aicensus/aicensus.conf
if setpriv --reuid=aicensus --regid=aicensus --clear-groups \
    /usr/sbin/aicensusd -n -c /etc/aicensus/aicensus.conf >/tmp/n.log 2>&1; then
	ok "aicensusd -n as user aicensus accepts the installed configuration (interface lo): $(tail -n 1 /tmp/n.log)"
else
	nok "aicensusd -n on the installed configuration: $(tail -n 3 /tmp/n.log | tr '\n' ' ')"
fi
w=$(/usr/sbin/aicensusd -nv -c /etc/aicensus/aicensus.conf 2>/dev/null | sed -n 's/^ *web_dir = "\(.*\)";/\1/p')
[ -n "$w" ] && [ -f "$w/index.html" ] && ok "the configured dashboard directory $w is the package's" ||
	nok "web_dir '$w' holds no dashboard"
/usr/bin/aicensus >/dev/null 2>&1
rc=$?
[ $rc -lt 126 ] && ok "/usr/bin/aicensus runs (no command: usage, status $rc)" ||
	nok "/usr/bin/aicensus does not run: status $rc"
sum1=$(md5sum /etc/aicensus/*.conf /usr/sbin/aicensusd /lib/systemd/system/aicensus* 2>/dev/null; stat -c '%n %a %U %G' /etc/aicensus/aicensus.conf /var/lib/aicensus)
installed 2
[ "$sum1" = "$(md5sum /etc/aicensus/*.conf /usr/sbin/aicensusd /lib/systemd/system/aicensus* 2>/dev/null; stat -c '%n %a %U %G' /etc/aicensus/aicensus.conf /var/lib/aicensus)" ] &&
	ok "installing again keeps the edited configuration and changes nothing" ||
	nok "a second dpkg -i changed files"

# state as a week of running leaves it (the keys and token are stand-ins)
for f in state/week-202649.key state/outbox.key aicensus.db aicensus.db-wal released.db \
    reports/aicensus-2026-W48.html; do
	echo x >"/var/lib/aicensus/$f"
done
(umask 027; echo 0123456789abcdef0123 >/etc/aicensus/api.token)
if dpkg -r aicensus >/tmp/r.log 2>&1; then
	ok "dpkg -r: $(grep -c '^removed ' /tmp/r.log) removals and $(grep -c '^kept ' /tmp/r.log) kept paths named"
else
	nok "dpkg -r failed: $(tail -n 3 /tmp/r.log | tr '\n' ' ')"
fi
left=
for f in /var/lib/aicensus/state/week-202649.key /var/lib/aicensus/state/outbox.key \
    /etc/aicensus/api.token /var/lib/aicensus/aicensus.db /var/lib/aicensus/aicensus.db-wal; do
	[ -e "$f" ] && left="$left $f"
	grep -q "^removed .*: $f\$" /tmp/r.log || left="$left (unnamed $f)"
done
[ -z "$left" ] && ok "removal deleted and named the week and outbox keys, the API token and the working database" ||
	nok "after dpkg -r still there or not named:$left"
k=
for f in /var/lib/aicensus/released.db /var/lib/aicensus/reports; do
	[ -e "$f" ] && grep -q "^kept .*: $f\$" /tmp/r.log || k="$k $f"
done
grep -q '^  interface = "lo";' /etc/aicensus/aicensus.conf || k="$k aicensus.conf"
[ -e /usr/sbin/aicensusd ] && k="$k (aicensusd still installed)"
[ -z "$k" ] && ok "removal kept and named the released figures and reports, kept the edited configuration; status: $(dpkg-query -W -f='${Status}' aicensus)" ||
	nok "after dpkg -r:$k"
s=$(states)
case $s in *=enabled*|*/active*) nok "units after removal: $s" ;; esac

if dpkg -P aicensus >/tmp/p.log 2>&1; then
	ok "dpkg -P: $(grep '^aicensus: ' /tmp/p.log | tr '\n' ' ')"
else
	nok "dpkg -P failed: $(tail -n 3 /tmp/p.log | tr '\n' ' ')"
fi
g=
for f in /etc/aicensus/aicensus.conf /etc/aicensus/catalog.conf /etc/aicensus/api.token \
    /var/lib/aicensus/state /var/lib/aicensus/aicensus.db /lib/systemd/system/aicensusd.service \
    /var/lib/systemd/deb-systemd-helper-enabled/aicensusd.service.dsh-also; do
	[ -e "$f" ] && g="$g $f"
done
[ -z "$g" ] && ok "purge removed configuration, state directory, keys, token, database, units and their state" ||
	nok "after dpkg -P still there:$g"
[ -e /var/lib/aicensus/released.db ] && grep -q 'kept: /var/lib/aicensus/released.db' /tmp/p.log &&
	grep -q 'kept: /var/lib/aicensus/reports' /tmp/p.log &&
	ok "purge kept and named the released figures and the reports" ||
	nok "purge and the records: $(tr '\n' ' ' </tmp/p.log)"
case $(dpkg-query -W -f='${Status}' aicensus 2>/dev/null) in
""|*not-installed) ok "dpkg no longer knows aicensus" ;;
*) nok "dpkg still knows aicensus: $(dpkg-query -W -f='${Status}' aicensus)" ;;
esac

# make install and make uninstall on the same fresh root (the overlay):
# uninstall forgets the secrets too and names what it keeps.  The keys
# are where the configuration says (state_dir moved to keys/), and the
# configured interface (the example's eth1) does not exist here: the
# paths must come from the configuration all the same, not the defaults.
cd "$2" || exit 1
rm -rf /var/lib/aicensus
if make -s install SANITIZE="$3" >/tmp/mi.log 2>&1; then
	sed -i 's|^  state_dir = .*|  state_dir = "/var/lib/aicensus/keys";|' /etc/aicensus/aicensus.conf
	mkdir -p /var/lib/aicensus/keys
	for f in keys/week-202649.key aicensus.db released.db reports/aicensus-2026-W48.html; do
		echo x >"/var/lib/aicensus/$f"
	done
	(umask 027; echo 0123456789abcdef0123 >/etc/aicensus/api.token)
	if make -s uninstall SANITIZE="$3" >/tmp/mu.log 2>&1; then
		g=
		for f in /var/lib/aicensus/keys/week-202649.key /etc/aicensus/api.token \
		    /var/lib/aicensus/aicensus.db /usr/local/sbin/aicensusd /etc/aicensus/catalog.conf; do
			[ -e "$f" ] && g="$g $f"
		done
		grep -q 'not readable as a configuration' /tmp/mu.log && g="$g (fell back to the default paths)"
		grep -q '^removed a key: /var/lib/aicensus/keys/week-202649.key$' /tmp/mu.log &&
			grep -q '^removed the API token: /etc/aicensus/api.token$' /tmp/mu.log || g="$g (removals not named)"
		[ -z "$g" ] && ok "make uninstall removed the programs, the week key (in the configured state_dir, with the configured interface missing), the API token and the working database, and named them" ||
			nok "after make uninstall:$g"
		k=
		for f in /var/lib/aicensus/released.db /var/lib/aicensus/reports; do
			[ -e "$f" ] && grep -q "^kept .*: $f\$" /tmp/mu.log || k="$k $f"
		done
		[ -e /etc/aicensus/aicensus.conf ] && grep -q '^kept: /etc/aicensus/aicensus.conf' /tmp/mu.log || k="$k aicensus.conf"
		[ -z "$k" ] && ok "make uninstall kept and named the configuration, the released figures and the reports" ||
			nok "make uninstall and what it keeps:$k: $(tr '\n' ' ' </tmp/mu.log)"
	else
		nok "make uninstall failed: $(tail -n 3 /tmp/mu.log | tr '\n' ' ')"
	fi
else
	nok "make install in the overlay failed: $(tail -n 3 /tmp/mi.log | tr '\n' ' ')"
fi
EOF

bash tests/tools/overlay-root.sh "$tmp/inside.sh" "$deb" "$PWD" "$san" >"$tmp/inside.log" 2>&1 ||
	nok "the overlay failed: $(grep -v '^\(not \)\?ok - ' "$tmp/inside.log" | tail -n 3 | tr '\n' ' ')"
grep -E '^(ok|not ok) - ' "$tmp/inside.log"
fails=$((fails + $(grep -c '^not ok - ' "$tmp/inside.log")))
n=$(grep -c '^ok - ' "$tmp/inside.log")
[ "$n" -ge 20 ] || nok "only $n of the installation checks passed"

machine >"$tmp/machine.after"
diff -q "$tmp/machine.before" "$tmp/machine.after" >/dev/null &&
	ok "the machine is as it was: dpkg database, aicensus user and group, its files under /etc, /var/lib and the unit directories" ||
	nok "the machine changed: $(diff "$tmp/machine.before" "$tmp/machine.after" | grep '^[<>]' | head -4 | tr '\n' ' ')"
exit $((fails > 0))
