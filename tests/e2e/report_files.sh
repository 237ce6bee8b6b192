#!/bin/bash
# Reports written by hand, and what a report may see.
#
#  1. `aicensus report -o FILE` creates FILE 0640 whatever the caller's
#     umask (000, 022, 077), also over an existing 0644 file, and does
#     not follow a symbolic link planted at its temporary name;
#  2. `aicensus report` (html, csv, json) never opens, stats or lists
#     anything under state_dir (the week keys) or the vault (database and
#     its -wal/-shm/-journal): every file system call traced by strace;
#  3. aicensus-report-generator writes drop-ins hiding the configured
#     state_dir and database (here outside /var/lib/aicensus) from both
#     report units, and refuses a path a unit cannot hold;
#     `aicensus-weekly-report check` fails while the key or the vault is
#     readable and passes once they are not (as an unprivileged user).
#
# Needs strace; part 3's check needs root (setpriv to nobody).
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

for t in strace setpriv; do
	command -v "$t" >/dev/null 2>&1 || { nok "$t missing (make deps)"; exit 1; }
done
AIC=$ROOT/$BUILD/aicensus
[ -x "$AIC" ] || { nok "$AIC missing (run make)"; exit 1; }

tmp=$(mktemp -d /tmp/aic-repf.XXXXXX) || exit 1
chmod 0755 "$tmp"
fixture_db || { nok "could not build the test database: $(tail -3 "$RUN/offline.log" 2>/dev/null)"; exit 1; }
conf=$RUN/aicensus.conf
# a state directory with a key in it, and a vault with its companions
mkdir -m 0700 "$RUN/state"
head -c 32 /dev/urandom >"$RUN/state/week-key"
for f in aicensus.db aicensus.db-wal aicensus.db-shm aicensus.db-journal; do
	: >"$RUN/$f"
done
chmod 0755 "$RUN"

# --- 1. modes ---------------------------------------------------------------
mkdir "$tmp/out"
for um in 000 022 077; do
	f=$tmp/out/r-$um.html
	(umask $um && "$AIC" report -c "$conf" --week "$WEEK" --format html -o "$f") \
		2>"$tmp/err" || nok "report under umask $um: $(cat "$tmp/err")"
	m=$(stat -c %a "$f" 2>/dev/null)
	check "a report written under umask $um is mode 0$m (want 0640)" [ "$m" = 640 ]
done
f=$tmp/out/old.html
echo old >"$f"
chmod 0644 "$f"
(umask 022 && "$AIC" report -c "$conf" --week "$WEEK" --format csv -o "$f") 2>"$tmp/err"
m=$(stat -c %a "$f")
check "a report over an existing 0644 file leaves it 0$m with the report in it (want 0640)" \
	[ "$m" = 640 ] && ! grep -qx old "$f"
echo victim >"$tmp/victim"
chmod 0644 "$tmp/victim"
ln -s "$tmp/victim" "$tmp/out/trap.html.tmp"
(umask 022 && "$AIC" report -c "$conf" --week "$WEEK" --format html -o "$tmp/out/trap.html") \
	2>"$tmp/err"
rc=$?
check "a symbolic link at the temporary name is not followed (exit $rc, the target unchanged and 0644)" \
	[ $rc -ne 0 ] && [ "$(cat "$tmp/victim")" = victim ] &&
	[ "$(stat -c %a "$tmp/victim")" = 644 ]

# --- 2. what a report opens -------------------------------------------------
for fmt in html csv json; do
	# LeakSanitizer cannot work under ptrace (the build-san run)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -e trace=%file -o "$tmp/strace.$fmt" \
		"$AIC" report -c "$conf" --week "$WEEK" --format "$fmt" \
		-o "$tmp/out/traced.$fmt" 2>"$tmp/err" ||
		nok "traced report ($fmt): $(cat "$tmp/err")"
	calls=$(grep -c . "$tmp/strace.$fmt")
	rel=$(grep -c "\"$RUN/released.db\"" "$tmp/strace.$fmt")
	bad=$(grep -E "\"($RUN/state|$RUN/aicensus\\.db)" "$tmp/strace.$fmt")
	check "report --format $fmt: none of $calls file system calls touches state_dir or the vault (the release database: $rel)" \
		[ -z "$bad" ] && [ "$rel" -gt 0 ] && [ -s "$tmp/out/traced.$fmt" ]
	[ -z "$bad" ] || echo "$bad" | head -3
done

# --- 3. the units' paths from the configuration -----------------------------
gen() {	# gen OUTDIR [CONF]
	AICENSUSD=$ROOT/$BUILD/aicensusd AICENSUS_CONF=${2:-$conf} \
		AICENSUS_WEEKLY_REPORT=$ROOT/systemd/aicensus-weekly-report \
		sh systemd/aicensus-report-generator "$1" 2>"$tmp/gen.err"
}
mkdir "$tmp/gen"
gen "$tmp/gen"
r=$tmp/gen/aicensus-report.service.d/50-aicensus-paths.conf
m=$tmp/gen/aicensus-report-mail.service.d/50-aicensus-paths.conf
want="$RUN/state $RUN/aicensus.db $RUN/aicensus.db-wal $RUN/aicensus.db-shm $RUN/aicensus.db-journal"
miss=0
for p in $want; do
	grep -qx "InaccessiblePaths=-$p" "$r" 2>/dev/null || miss=$((miss + 1))
	grep -qx "InaccessiblePaths=-$p" "$m" 2>/dev/null || miss=$((miss + 1))
done
check "the generator hides the configured state_dir and vault ($RUN/...) from both report units" \
	[ $miss -eq 0 ]
check "... lets the report write report.dir and the release database's directory" \
	grep -qx "ReadWritePaths=-$RUN" "$r"
check "... and binds report.dir into the mail unit" \
	grep -qx "BindReadOnlyPaths=-/var/lib/aicensus/reports" "$m"
mkdir "$tmp/gen2" "$tmp/odd dir"
sed "s|^aicensus: {|aicensus: {\n  report = { dir = \"$tmp/odd dir\"; };|" "$conf" >"$RUN/odd.conf"
gen "$tmp/gen2" "$RUN/odd.conf"
check "a report.dir with a space is refused, no drop-in written ($(head -c 80 "$tmp/gen.err"))" \
	[ -z "$(ls -A "$tmp/gen2")" ] && grep -q "white space" "$tmp/gen.err"

if [ "$(id -u)" -eq 0 ]; then
	# The check as the unprivileged user owning the state (as aicensus
	# does): readable, then hidden as InaccessiblePaths= hides a path
	# (a node without permissions, owned by root).
	chmod -R a+rX "$RUN"
	chmod 0700 "$RUN/state"
	chown -R nobody "$RUN/state"
	as_nobody() {
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
			env AICENSUSD="$ROOT/$BUILD/aicensusd" \
			sh systemd/aicensus-weekly-report -c "$conf" check
	}
	out=$(as_nobody 2>&1)
	rc=$?
	check "check fails while the key can be read (exit $rc): ${out:0:100}..." \
		[ $rc -eq 1 ] && echo "$out" | grep -q "$RUN/state (state_dir"
	chown -R root "$RUN/state"
	chmod 0000 "$RUN/state"
	out=$(as_nobody 2>&1)
	rc=$?
	check "check fails while the vault can be read (exit $rc): ${out:0:100}..." \
		[ $rc -eq 1 ] && echo "$out" | grep -q "$RUN/aicensus.db (state_dir"
	chmod 0000 "$RUN"/aicensus.db*
	out=$(as_nobody 2>&1)
	rc=$?
	check "check passes once state_dir and the vault are hidden (exit $rc: $out)" [ $rc -eq 0 ]
else
	nok "part 3's check needs root (setpriv)"
fi

echo "# $fails failed"
[ $fails -eq 0 ]
