#!/bin/bash
# `make install`: into a DESTDIR with PREFIX=/usr it puts exactly the
# expected files in place, with the expected modes and this
# installation's paths filled in; a second run changes nothing and keeps
# a locally edited configuration; `make uninstall` removes everything but
# the configuration.  Then the real install (PREFIX=/usr/local, this is a
# throw-away test machine), twice: the aicensus user, the state
# directories, a configuration the daemon's user can read, and units
# that `systemd-analyze verify` accepts as they are.  Only what is under
# the DESTDIR is cleaned up; the real install stays (it is idempotent).
# test: alone (installs into /usr/local and creates the aicensus user)
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PATH=$PATH:/usr/sbin:/sbin
export PATH LC_ALL=C
unset MAKEFLAGS MFLAGS MAKELEVEL

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

tmp=$(mktemp -d /tmp/aic-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
D=$tmp/dest
san=
[ "$BUILD" = build-san ] && san=address,undefined

# mode, then path below DESTDIR, of everything `make install` must install
expected() {
	cat <<EOF
0755 /usr/sbin/aicensusd
0755 /usr/bin/aicensus
0644 /usr/include/aicensus_plugin.h
0640 /etc/aicensus/aicensus.conf
0644 /etc/aicensus/catalog.conf
0644 /usr/lib/sysusers.d/aicensus.conf
0644 /usr/lib/tmpfiles.d/aicensus.conf
0644 /lib/systemd/system/aicensusd.service
0644 /lib/systemd/system/aicensus-report.service
0644 /lib/systemd/system/aicensus-report-mail.service
0644 /lib/systemd/system/aicensus-report.timer
0755 /usr/lib/aicensus/aicensus-weekly-report
0755 /lib/systemd/system-generators/aicensus-report-generator
0755 /usr/lib/aicensus/aicensus-forget
0644 /usr/share/man/man1/aicensus.1
0644 /usr/share/man/man5/aicensus.conf.5
0644 /usr/share/man/man8/aicensusd.8
EOF
	for p in plugins/*.c; do
		echo "0644 /usr/lib/aicensus/plugins/$(basename "$p" .c).so"
	done
	(cd daemon/out/dashboard && find . -type f) | sed 's|^\./|0644 /usr/share/aicensus/web/|'
}
installed() {	# mode and path of every file under $1
	(cd "$1" && find . -type f -printf '%#m /%P\n') | sed 's/^0*\([0-7]\{3\}\) /0\1 /'
}
sums() { (cd "$1" && find . -type f -exec md5sum {} + | sort -k2); }

if make -s install DESTDIR="$D" PREFIX=/usr SANITIZE=$san >"$tmp/i1.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr"
else
	nok "make install DESTDIR failed: $(tail -3 "$tmp/i1.log" | tr '\n' ' ')"
	exit 1
fi
expected | sort -k2 >"$tmp/want"
installed "$D" | sort -k2 >"$tmp/got"
n=$(wc -l <"$tmp/want")
if diff "$tmp/want" "$tmp/got" >"$tmp/diff"; then
	ok "exactly the $n expected files, with their modes (binaries, plugins, header, config, catalog, sysusers, tmpfiles, 3 services and a timer, report and forget helpers, the report generator, 3 man pages, web files)"
else
	nok "installed files differ from the expected list: $(grep '^[<>]' "$tmp/diff" | head -8 | tr '\n' ' ')"
fi

same() { cmp -s "$1" "$2" && return 0; nok "$2 differs from $1"; return 1; }
all=1
same config/aicensus.conf "$D/etc/aicensus/aicensus.conf" || all=0
same config/catalog.conf "$D/etc/aicensus/catalog.conf" || all=0
# under valgrind $BUILD holds wrappers; make install (VALGRIND=1 in the
# environment) installs the real programs of $VG_BUILD
same "${VG_BUILD:-$BUILD}/aicensusd" "$D/usr/sbin/aicensusd" || all=0
for f in $(cd daemon/out/dashboard && find . -type f); do
	same "daemon/out/dashboard/$f" "$D/usr/share/aicensus/web/$f" || all=0
done
[ $all -eq 1 ] && ok "configuration, catalog, daemon and web files are the repository's"
grep -qx 'ExecStart=/usr/sbin/aicensusd -c /etc/aicensus/aicensus.conf' \
	"$D/lib/systemd/system/aicensusd.service" &&
	grep -q '^ExecStart=/usr/lib/aicensus/aicensus-weekly-report -c /etc/aicensus/aicensus.conf write$' \
	"$D/lib/systemd/system/aicensus-report.service" &&
	grep -q '^AICENSUS=${AICENSUS:-/usr/bin/aicensus}$' "$D/usr/lib/aicensus/aicensus-weekly-report" &&
	grep -q '^weekly=${AICENSUS_WEEKLY_REPORT:-/usr/lib/aicensus/aicensus-weekly-report}$' \
	"$D/lib/systemd/system-generators/aicensus-report-generator" &&
	grep -q '/usr/lib/aicensus/plugins' "$D/usr/share/man/man5/aicensus.conf.5" &&
	ok "units, report helper and man pages name this installation's paths" ||
	nok "installed paths are not PREFIX=/usr ones"

# idempotent: the same files again; a local configuration is kept
sums "$D" >"$tmp/sum1"
echo '# local edit' >>"$D/etc/aicensus/aicensus.conf"
sums "$D" >"$tmp/sum1e"
if make -s install DESTDIR="$D" PREFIX=/usr SANITIZE=$san >"$tmp/i2.log" 2>&1 &&
    sums "$D" | diff -q - "$tmp/sum1e" >/dev/null; then
	ok "a second make install changes nothing and keeps the edited aicensus.conf"
else
	nok "second make install: $(tail -2 "$tmp/i2.log" | tr '\n' ' ') $(sums "$D" | diff - "$tmp/sum1e" | head -4 | tr '\n' ' ')"
fi

if make -s uninstall DESTDIR="$D" PREFIX=/usr SANITIZE=$san >"$tmp/u.log" 2>&1; then
	left=$(cd "$D" && find . -type f | sort | tr '\n' ' ')
	[ "$left" = "./etc/aicensus/aicensus.conf " ] &&
		ok "make uninstall removes everything but the configuration" ||
		nok "after make uninstall: $left"
else
	nok "make uninstall failed: $(tail -2 "$tmp/u.log" | tr '\n' ' ')"
fi

# --- the real system ---------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	echo "ok - # SKIP real make install needs root"
	exit $((fails > 0))
fi
for i in 1 2; do
	if make -s install >"$tmp/r$i.log" 2>&1; then
		ok "make install to the real system (run $i)"
	else
		nok "make install to the real system (run $i): $(tail -3 "$tmp/r$i.log" | tr '\n' ' ')"
		exit 1
	fi
	[ $i -eq 1 ] && md5sum /usr/local/sbin/aicensusd /usr/local/bin/aicensus \
		/lib/systemd/system/aicensus* /usr/local/lib/aicensus/aicensus-weekly-report \
		/usr/local/share/man/man*/aicensus* /etc/aicensus/*.conf >"$tmp/real1"
done
md5sum -c --quiet "$tmp/real1" >/dev/null 2>&1 &&
	ok "the second real install left the installed files as they were" ||
	nok "the second real install changed files: $(md5sum -c --quiet "$tmp/real1" 2>&1 | head -3 | tr '\n' ' ')"
id aicensus >/dev/null 2>&1 && [ "$(getent passwd aicensus | cut -d: -f7)" != /bin/bash ] &&
	ok "system user aicensus exists ($(id aicensus))" ||
	nok "no aicensus system user"
st=$(stat -c '%n %U %G %a' /var/lib/aicensus /var/lib/aicensus/state /var/lib/aicensus/reports 2>&1 | tr '\n' ';')
[ "$st" = "/var/lib/aicensus aicensus aicensus 750;/var/lib/aicensus/state aicensus aicensus 700;/var/lib/aicensus/reports aicensus aicensus 750;" ] &&
	ok "state directories: /var/lib/aicensus 0750, state/ 0700, reports/ 0750, owned by aicensus" ||
	nok "state directories: $st"
c=$(stat -c '%U %G %a' /etc/aicensus/aicensus.conf)
[ "$c" = "root aicensus 640" ] &&
	ok "/etc/aicensus/aicensus.conf is root:aicensus 0640: the daemon's user reads it, others do not" ||
	nok "/etc/aicensus/aicensus.conf is '$c'"
# -i lo: -n checks that the shipped example's eth1 exists on this machine
if setpriv --reuid=aicensus --regid=aicensus --clear-groups \
    /usr/local/sbin/aicensusd -n -i lo -c /etc/aicensus/aicensus.conf >"$tmp/n.log" 2>&1; then
	ok "as user aicensus, the installed daemon accepts the installed configuration: $(cat "$tmp/n.log")"
else
	nok "aicensusd -n as aicensus: $(tail -2 "$tmp/n.log" | tr '\n' ' ')"
fi
out=$(systemd-analyze verify /lib/systemd/system/aicensusd.service \
	/lib/systemd/system/aicensus-report.service \
	/lib/systemd/system/aicensus-report-mail.service \
	/lib/systemd/system/aicensus-report.timer 2>&1)
[ -z "$out" ] && ok "systemd-analyze verify is clean for the really installed units" ||
	nok "systemd-analyze verify: $(echo "$out" | head -4 | tr '\n' ' ')"
found=1
for m in aicensusd.8 aicensus.1 aicensus.conf.5; do
	sec=${m##*.}
	man -w "$sec" "${m%.*}" 2>/dev/null | grep -qE "^/usr/local/(share/)?man/man$sec/$m" ||
		{ nok "man $sec ${m%.*} does not find /usr/local/share/man/man$sec/$m"; found=0; }
done
[ $found -eq 1 ] && ok "man finds aicensusd(8), aicensus(1) and aicensus.conf(5) in /usr/local/share/man"
exit $((fails > 0))
