#!/bin/bash
# aicensusd -r writes its aggregates to the vault at few of its flush
# points (a new capture day, a capture going back into a released day,
# aggregates at half their bound; aicensusd.c offline_must_write): the
# released results must equal those of a write at every point, the
# cadence before (AICENSUS_OFFLINE_FLUSH=every).  On a synthesized week
# (tests/adversary/weekgen.py, lab mode) in time order, the same week
# with packets moved back into released days and a released week (late
# counts: per-row device-hours, lost counts placed in a row's newest
# hour), and the week with the smallest memory budget (every point must
# then write): the release database byte-identical (clock frozen), the
# CLI's query output identical, and the write counts the log reports
# showing which cadence ran.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
out=$(mktemp -d /tmp/aic-offline.XXXXXX)
trap 'rm -rf "$out"' EXIT
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
FAKELIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
[ -n "$FAKELIB" ] || { nok "libfaketime is missing (make deps)"; exit 1; }
# (under ASan the preloaded library comes before its runtime: allowed)
frozen() { LD_PRELOAD=$FAKELIB FAKETIME="2026-12-01 12:00:00" \
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 "$@"; }

$PY tests/adversary/weekgen.py --seed 47 --out "$out/gen" >/dev/null ||
	{ nok "weekgen failed"; exit 1; }
sed -i 's|min_group_size = [0-9]*;|min_group_size = 1;|' "$out/gen/aicensus.conf"

# The week out of order, every other packet kept as it is: Monday
# 14:00-15:00 read among Wednesday 12:00-13:00 (late for a released
# day); then, after the week, Friday 10:00-11:00 again a week
# later (2026-W48), Sunday 16:00-17:00 moved there (late for a released
# week), and Friday 11:00-12:00 a week later.
$PY - "$out/gen/traffic.pcap" "$out/late.pcap" <<'PYEOF' || nok "building the disordered capture failed"
import calendar, struct, sys
src, dst = sys.argv[1], sys.argv[2]
f = open(src, "rb")
hdr = f.read(24)
e = "<" if hdr[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
recs = []
while True:
    h = f.read(16)
    if len(h) < 16:
        break
    sec, usec, incl, orig = struct.unpack(e + "IIII", h)
    recs.append((sec, usec, incl, orig, f.read(incl)))
T = lambda d, h: calendar.timegm((2026, 11, d, h, 0, 0))
def within(r, d, h0, h1):
    return T(d, h0) <= r[0] < T(d, h1)
mon = [r for r in recs if within(r, 16, 14, 15)]
sun = [r for r in recs if within(r, 22, 16, 17)]
fri1 = [r for r in recs if within(r, 20, 10, 11)]
fri2 = [r for r in recs if within(r, 20, 11, 12)]
assert mon and sun and fri1 and fri2, "weekgen's week changed"
rest = [r for r in recs if not within(r, 16, 14, 15) and not within(r, 22, 16, 17)]
# Monday's hour interleaved with Wednesday 12:00-13:00 at the same
# minutes: its late counts fall in many flush intervals
shift = T(18, 12) - T(16, 14)
both = [(r[0], r) for r in rest] + [(r[0] + shift, r) for r in mon]
both.sort(key=lambda kr: kr[0])
week = 7 * 86400
later = lambda rs: [(r[0] + week,) + r[1:] for r in rs]
order = [r for _, r in both] + later(fri1) + sun + later(fri2)
with open(dst, "wb") as o:
    o.write(hdr)
    for sec, usec, incl, orig, data in order:
        o.write(struct.pack(e + "IIII", sec, usec, incl, orig) + data)
PYEOF

# run CAPTURE DIR CADENCE [CONF-SED]: aicensusd -r under a frozen clock
run() {
	local pcap=$1 d=$2 cadence=$3 edit=${4:-}
	rm -rf "$d" && mkdir -p "$d" && chmod 700 "$d"
	cp "$out/gen/catalog.conf" "$d/"
	sed -e "$edit" "$out/gen/aicensus.conf" >"$d/aicensus.conf"
	(cd "$d" && AICENSUS_OFFLINE_FLUSH=$cadence frozen \
		"$OLDPWD/$BUILD/aicensusd" -c aicensus.conf -r "$pcap" \
		>daemon.log 2>&1)
}

# written DIR: "WRITES POINTS" from the daemon's log
written() {
	sed -nE 's/.*: ([0-9]+) of ([0-9]+) flush points written.*/\1 \2/p' \
		"$1/daemon.log"
}

# compare NAME CAPTURE [CONF-SED]: both cadences; leaves the write counts
# in $w_new / $w_every / $points
compare() {
	local name=$1 pcap=$2 edit=${3:-} a=$out/$1-every b=$out/$1-new q
	run "$pcap" "$a" every "$edit"; ra=$?
	run "$pcap" "$b" "" "$edit"; rb=$?
	if [ $ra -ne 0 ] || [ $rb -ne 0 ]; then
		nok "$name: aicensusd -r exited $ra (every point) and $rb (default): $(tail -n 2 "$b/daemon.log")"
		return
	fi
	read -r w_every points < <(written "$a")
	read -r w_new _ < <(written "$b")
	cells=$(sqlite3 "$b/released.db" "SELECT COUNT(*) FROM cell")
	if cmp -s "$a/released.db" "$b/released.db"; then
		ok "$name: released.db byte-identical, $w_new writes against $w_every ($points flush points, $cells cells)"
	else
		nok "$name: released.db differs ($w_new writes against $w_every): $(cmp "$a/released.db" "$b/released.db" 2>&1 | head -n 1)"
	fi
	for q in "--by department,service,week --format csv" \
	    "--by department,service,day --format json" \
	    "--by category,day --format csv"; do
		# shellcheck disable=SC2086
		frozen "$BUILD/aicensus" query --db "$a/released.db" $q >"$a/q" 2>&1
		# shellcheck disable=SC2086
		frozen "$BUILD/aicensus" query --db "$b/released.db" $q >"$b/q" 2>&1
		if [ -s "$a/q" ] && cmp -s "$a/q" "$b/q"; then
			ok "$name: aicensus query $q identical ($(wc -l <"$b/q") lines)"
		else
			nok "$name: aicensus query $q differs or is empty"
		fi
	done
}

compare ordered "$out/gen/traffic.pcap"
[ -n "$w_new" ] && [ "$w_every" = "$points" ] && [ "$w_new" -le 8 ] &&
	[ "$points" -gt 500 ] &&
	ok "ordered: the default cadence wrote $w_new times (a new day each) where the old one wrote $w_every" ||
	nok "ordered: writes $w_new (default) and $w_every (every point) of $points points"
ordered_new=$w_new

compare late "$out/late.pcap"
late=$(sqlite3 "$out/late-new/released.db" "SELECT COALESCE(SUM(value), 0) FROM blind WHERE name = 'late'")
[ -n "$w_new" ] && [ "$w_new" -gt "$ordered_new" ] && [ "$w_new" -lt "$w_every" ] &&
	[ "${late:-0}" -gt 0 ] &&
	ok "late: going back into released days turned every point on after $((w_every - w_new)) skipped ($late late counts released)" ||
	nok "late: writes $w_new (default), $w_every (every point), late counts ${late:-none}"

compare small "$out/gen/traffic.pcap" 's|^aicensus[^{]*{|&\n  limits = { memory_mb = 8; };|'
[ -n "$w_new" ] && [ "$w_new" = "$w_every" ] &&
	ok "small: with memory_mb = 8 the aggregates are at half their bound, every point wrote ($w_new)" ||
	nok "small: writes $w_new (default) and $w_every (every point)"
exit $((fails > 0))
