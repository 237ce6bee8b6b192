#!/bin/bash
# aicensusd -r of several files (issue 13): the synthesized capture cut
# into rotated files as tcpdump -G leaves them, in lab mode
# (min_group_size = 1), against the same capture read whole:
#  - the files, the directory, and the files in reverse order give
#    exactly the released figures of the single file (every cell, every
#    blind-spot figure, every period's coverage);
#  - names that sort out of time order (cap.pcap10 before cap.pcap2) are
#    read in time order;
#  - the import record: one row per file with its fingerprint (SHA-256
#    of size, first and last MiB, as python's hashlib says), time span
#    and packet count (as capinfos says) and the periods it fed; no name;
#  - a file read again is refused with a message naming it and the
#    earlier import by fingerprint prefix, span and date, and nothing in
#    the release database changes;
#  - the next file of a rotation read in a run of its own is refused (its
#    day was released from the first);  --replace with only that file is
#    refused naming the first; both files with --replace, or the whole
#    directory with --replace, give the single file's figures, not twice;
#  - two files overlapping in time, a file given twice, a file cut
#    inside its header, a file that is not a capture and a missing file
#    are refused before anything is released (no release database row);
#  - a file cut short inside a record (tcpdump killed while writing) is
#    read up to the cut, the run goes on with the next files and exits 1
#    naming it;
#  - files named after an address and a host, and a MAC, read, refused
#    and replaced: no name nor part of one in any byte of the files left,
#    any table, query or report answer, or anything the daemon writes
#    (traced) other than its stderr, even with log = "syslog".
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
DAEMON=$PWD/$BUILD/aicensusd
PY=/usr/bin/python3
out=$(mktemp -d /tmp/aic-imports.XXXXXX)
trap '[ -n "$KEEP" ] || rm -rf "$out"' EXIT	# KEEP=1: left to look at
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() { local m=$1; shift; if eval "$@"; then ok "$m"; else nok "$m"; return 1; fi; }

$PY tests/synth/synth.py --seed 1 --out "$out/gen" >/dev/null ||
	{ nok "synthesizer failed"; exit 1; }
sed -i 's|min_group_size = [0-9]*;|min_group_size = 1;|' "$out/gen/aicensus.conf"

# fresh NAME: a run directory with the configuration and catalog.
fresh() {
	rm -rf "$out/run-$1"
	mkdir -p "$out/run-$1"
	cp "$out/gen/aicensus.conf" "$out/gen/catalog.conf" "$out/run-$1/"
	echo "$out/run-$1"
}
# run DIR ARGS...: aicensusd -r ARGS in DIR; status in $rc, log in $log.
run() {
	local d=$1
	shift
	log=$( (cd "$d" && "$DAEMON" -c aicensus.conf -r "$@") 2>&1)
	rc=$?
}
# figures DIR: everything released, except the release time stamps.
figures() {
	sqlite3 "$1/released.db" "SELECT * FROM cell ORDER BY 1, 2, 3, 4;
	    SELECT * FROM blind ORDER BY 1, 2;
	    SELECT kind, period, week, coverage_hours, hours_total, complete,
	    min_group FROM period ORDER BY 1, 2" 2>/dev/null
}
rows() { sqlite3 "$1/released.db" "SELECT count(*) FROM $2" 2>/dev/null || echo none; }
state() { sqlite3 "$1/released.db" .dump 2>/dev/null | md5sum; }

# The reference: the capture read whole.
ref=$(fresh ref)
cp "$out/gen/traffic.pcap" "$ref/"
run "$ref" traffic.pcap
check "the capture read whole: exit 0" '[ $rc -eq 0 ]' || echo "$log" | tail -3
figures "$ref" >"$out/ref.fig"
conns=$(sqlite3 "$ref/released.db" "SELECT conns FROM cell WHERE kind = 2 AND dept = '*' AND svc = '*'")
check "... it released $(grep -c . "$out/ref.fig") rows, $conns connections in the week" \
	'[ "$(grep -c . "$out/ref.fig")" -gt 50 ] && [ "${conns:-0}" -gt 0 ]'

# The rotation: one file an hour, as tcpdump -G 3600 leaves them (editcap
# names them cap_NNNNN_TIME.pcap), empty hours included.
mkdir -p "$out/rot"
editcap -i 3600 "$out/gen/traffic.pcap" "$out/rot/cap.pcap" >/dev/null ||
	nok "editcap -i 3600"
nfiles=$(ls "$out/rot" | wc -l)
nfull=0
for f in "$out/rot"/*; do
	[ "$(capinfos -c -M "$f" | awk '/Number of packets/ { print $NF }')" -gt 0 ] &&
		nfull=$((nfull + 1))
done
check "the capture cut into $nfiles hourly files, $nfull of them with packets" \
	'[ "$nfiles" -ge 4 ] && [ "$nfull" -ge 3 ]'

d=$(fresh files)
run "$d" "$out"/rot/*
check "the $nfiles files given one by one: exit 0" '[ $rc -eq 0 ]' || echo "$log" | tail -3
check "... exactly the figures of the single file" 'figures "$d" | cmp -s - "$out/ref.fig"' ||
	diff <(figures "$d") "$out/ref.fig" | head -5
check "... the log says $nfull files were read and $((nfiles - nfull)) empty ones left out" \
	'[[ $log == *"$nfull files ("* ]] && [[ $log == *"$((nfiles - nfull)) capture files without a packet left out"* ]]' ||
	echo "$log" | grep info | head -3

# The fingerprint as capture/input.h defines it, computed apart: SHA-256
# of the size (8 bytes, big-endian), the first and the last MiB (every
# byte of a file of 2 MiB or less).
fingerprint() {
	$PY -c 'import hashlib, os, sys
p = sys.argv[1]; n = os.path.getsize(p); M = 1 << 20
with open(p, "rb") as f:
	h = hashlib.sha256(n.to_bytes(8, "big"))
	if n <= 2 * M:
		h.update(f.read())
	else:
		h.update(f.read(M)); f.seek(n - M); h.update(f.read(M))
print(h.hexdigest())' "$1"
}

# The record: one row per file with packets, its fingerprint and packets.
bad=0
for f in "$out"/rot/*; do
	n=$(capinfos -c -M "$f" | awk '/Number of packets/ { print $NF }')
	[ "$n" -gt 0 ] || continue
	sum=$(fingerprint "$f")
	t1=$(capinfos -a -S -M "$f" | awk '/First packet time/ { print $NF }')
	t2=$(capinfos -e -S -M "$f" | awk '/Last packet time/ { print $NF }')
	got=$(sqlite3 "$d/released.db" "SELECT packets || ' ' || done FROM import WHERE fingerprint = '$sum' AND first_usec / 1000000 = ${t1%.*} AND last_usec / 1000000 = ${t2%.*}")
	[ "$got" = "$n 1" ] || { bad=$((bad + 1)); echo "# $(basename "$f"): '$got', want '$n 1'"; }
done
check "the import record: $nfull rows, each with the file's fingerprint, time span and packet count, complete" \
	'[ $bad -eq 0 ] && [ "$(rows "$d" import)" = "$nfull" ]'
check "... and the periods each fed (every released period has one)" \
	'[ "$(sqlite3 "$d/released.db" "SELECT count(*) FROM period WHERE NOT EXISTS (SELECT 1 FROM import_period i WHERE i.kind = period.kind AND i.period = period.period)")" = 0 ]'
check "... no name is kept (a capture's name may carry an identifier): no such column, no file's name in the database" \
	'[ "$(sqlite3 "$d/released.db" "SELECT count(*) FROM pragma_table_info('"'"'import'"'"') WHERE name = '"'"'name'"'"'")" = 0 ] &&
	! for f in "$out"/rot/*; do basename "$f"; done | grep -qaFf - "$d/released.db"'

d=$(fresh dir)
run "$d" "$out/rot"
check "the directory: exit 0 and exactly the figures of the single file" \
	'[ $rc -eq 0 ] && figures "$d" | cmp -s - "$out/ref.fig"' || echo "$log" | tail -3

d=$(fresh reverse)
run "$d" $(ls "$out"/rot/* | sort -r)
check "the files in reverse order: exactly the figures of the single file" \
	'[ $rc -eq 0 ] && figures "$d" | cmp -s - "$out/ref.fig"' || echo "$log" | tail -3

# Names out of time order: cap.pcap0, cap.pcap1, ... cap.pcap10 sorts
# before cap.pcap2.
mkdir -p "$out/num"
i=0
for f in "$out"/rot/*; do cp "$f" "$out/num/cap.pcap$i"; i=$((i + 1)); done
d=$(fresh num)
run "$d" "$out/num"
first=$(ls "$out/num" | head -1)
check "a directory whose names sort out of time order ($(ls "$out/num" | head -3 | tr '\n' ' ')...): the figures of the single file" \
	'[ $rc -eq 0 ] && figures "$d" | cmp -s - "$out/ref.fig"' || echo "$log" | tail -3

# Reading again.
d=$out/run-dir
before=$(state "$d")
one=$(ls "$out"/rot/* | head -1)
run "$d" "$one"
fp1=$(fingerprint "$one" | cut -c1-12)
check "a file read again is refused (exit $rc), naming it, the earlier import by fingerprint ($fp1), span and date" \
	'[ $rc -ne 0 ] && [[ $log == *"$one was already imported: the import with fingerprint $fp1 (packets 20"*" UTC .. 20"*" UTC, imported 20"*" UTC)"* ]]' ||
	echo "$log" | tail -2
check "... and nothing in the release database changed" '[ "$(state "$d")" = "$before" ]'
run "$d" "$out/rot"
check "the directory read again is refused too, nothing changed" \
	'[ $rc -ne 0 ] && [[ $log == *"already imported"* ]] && [ "$(state "$d")" = "$before" ]'
run "$d" "$out/rot" --replace
check "the directory again with --replace: exit 0, exactly the figures of the single file (not twice)" \
	'[ $rc -eq 0 ] && figures "$d" | cmp -s - "$out/ref.fig"' || echo "$log" | tail -3
check "... $nfull import rows still, the log says $nfull were replaced" \
	'[ "$(rows "$d" import)" = "$nfull" ] && [[ $log == *"--replace: $nfull earlier imports removed"* ]]'

# The next file of the rotation in a run of its own: its day was released
# from the first file's run, so its counts there would be lost.
full=($(for f in "$out"/rot/*; do [ "$(capinfos -c -M "$f" | awk '/Number of packets/ { print $NF }')" -gt 0 ] && echo "$f"; done))
d=$(fresh split)
run "$d" "${full[0]}"
check "the first file of the rotation alone: exit 0" '[ $rc -eq 0 ]'
before=$(state "$d")
run "$d" "${full[1]}"
check "the next file in a run of its own is refused: its day is already released from the first (named)" \
	'[ $rc -ne 0 ] && [[ $log == *"${full[1]} falls in day "*"already released from the import with fingerprint $(fingerprint "${full[0]}" | cut -c1-12) (packets "* ]] &&
	[ "$(state "$d")" = "$before" ]' || echo "$log" | tail -2
run "$d" "${full[1]}" --replace
check "... with --replace alone still refused, naming the first file, which it does not give again" \
	'[ $rc -ne 0 ] && [[ $log == *"--replace"*"fingerprint $(fingerprint "${full[0]}" | cut -c1-12)"*"does not give again"* ]] &&
	[ "$(state "$d")" = "$before" ]' || echo "$log" | tail -2
run "$d" "${full[@]}" --replace
check "... every file with --replace: exactly the figures of the single file" \
	'[ $rc -eq 0 ] && figures "$d" | cmp -s - "$out/ref.fig"' || echo "$log" | tail -3

# Refused before anything is released.
d=$(fresh overlap)
run "$d" "$out/gen/traffic.pcap" "${full[1]}"
check "the whole capture and one of its hourly files in one run: refused as overlapping, nothing released" \
	'[ $rc -ne 0 ] && [[ $log == *"may not overlap"* ]] && [ "$(rows "$d" period)" != 1 ] && [ "$(rows "$d" cell)" = 0 -o "$(rows "$d" cell)" = none ]' ||
	echo "$log" | tail -2
run "$d" "$out/rot" "${full[1]}"
check "a file given twice (alone and in its directory): refused as the same capture" \
	'[ $rc -ne 0 ] && [[ $log == *"same capture"* ]]' || echo "$log" | tail -2

mkdir -p "$out/broken"
cp "${full[@]}" "$out/broken/"
victim=$out/broken/$(basename "${full[1]}")
size=$(stat -c %s "$victim")
truncate -s $((size - 37)) "$victim"
whole=0
for f in "$out"/broken/*; do
	whole=$((whole + $(tshark -r "$f" 2>/dev/null | wc -l)))
done
d=$(fresh broken)
run "$d" "$out/broken"
check "a file cut short inside a record (tcpdump killed): its whole records and every other file are read ($whole packets), exit 1 naming it" \
	'[ $rc -eq 1 ] && [[ $log == *"$victim: read error after"* ]] && [[ $log == *": $whole packets read"* ]] &&
	[ "$(rows "$d" period)" -gt 0 ]' || echo "$log" | grep -v WITHOUT | tail -3
head -c 20 "${full[0]}" >"$out/header.pcap"
d=$(fresh header)
run "$d" "${full[1]}" "$out/header.pcap"
check "a file cut inside its header: refused, naming it, before anything is released" \
	'[ $rc -ne 0 ] && [[ $log == *"error: $out/header.pcap: not a capture file"* ]] &&
	[ "$(rows "$d" period)" = 0 -o "$(rows "$d" period)" = none ]' || echo "$log" | tail -2
echo "not a capture" >"$out/notes.txt"
run "$d" "${full[0]}" "$out/notes.txt"
check "a file that is not a capture: refused, naming it, nothing released" \
	'[ $rc -ne 0 ] && [[ $log == *"$out/notes.txt: not a capture file"* ]] &&
	[ "$(rows "$d" period)" = 0 -o "$(rows "$d" period)" = none ]' || echo "$log" | tail -2
run "$d" "${full[0]}" "$out/missing.pcap"
check "a missing file: refused, naming it, nothing released" \
	'[ $rc -ne 0 ] && [[ $log == *"$out/missing.pcap: No such file"* ]] &&
	[ "$(rows "$d" period)" = 0 -o "$(rows "$d" period)" = none ]' || echo "$log" | tail -2

# The attacker's test: capture files named after an address and a host,
# and after a MAC, read, refused and read again with --replace.  No such
# name, nor any part of one, may reach the release database (any table,
# any byte of any file the runs leave, journals included), a query or
# report answer, or anything the daemon writes except the operator's
# stderr: every write, send and connect is traced, with log = "syslog"
# and the connect to /dev/log made to succeed, so a syslog line would
# be sent, and seen.
ids=$out/ids
mkdir -p "$ids"
ipname=10.1.2.3-jdoe-laptop.pcap
macname=aa:bb:cc:dd:ee:ff.pcap
cp "${full[0]}" "$ids/$ipname"
cp "${full[1]}" "$ids/$macname"
secrets=("$ipname" "$macname" 10.1.2.3 jdoe aa:bb:cc:dd:ee:ff)
d=$(fresh ids)
sed -i 's|timezone = "UTC";|timezone = "UTC";\n  log = "syslog";|' "$d/aicensus.conf"
ntr=0
# traced DIR ARGS...: run, under strace (the trace in $out/trace.N).
traced() {
	local d=$1
	shift
	ntr=$((ntr + 1))
	# LeakSanitizer cannot run under ptrace (a sanitized build)
	log=$( (cd "$d" && ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -y -s 65536 -o "$out/trace.$ntr" \
		-e trace=connect,sendto,sendmsg,write,writev,pwrite64,pwritev \
		-e inject=connect:retval=0 "$DAEMON" -c aicensus.conf -r "$@") 2>&1)
	rc=$?
}
# hits WHAT: how many times the names or their parts occur in WHAT (stdin).
hits() {
	local s n=0
	cat >"$out/hits"
	for s in "${secrets[@]}"; do
		n=$((n + $(grep -aoF -- "$s" "$out/hits" | wc -l)))
	done
	echo $n
}
traced "$d" "$ids/$ipname"
rc1=$rc
traced "$d" "$ids/$macname"
check "a file named $macname after one named $ipname: refused, naming this run's file on stderr and the earlier import by fingerprint only" \
	'[ $rc1 -eq 0 ] && [ $rc -ne 0 ] && [[ $log == *"$ids/$macname falls in day "*"already released from the import with fingerprint "* ]] &&
	[[ $log != *jdoe* ]] && [[ $log != *10.1.2.3* ]]' || echo "$log" | tail -2
traced "$d" "$ids"
rc3=$rc
traced "$d" "$ids" --replace
check "... their directory: refused, then with --replace read (exit $rc3, $rc)" \
	'[ $rc3 -ne 0 ] && [ $rc -eq 0 ] && [[ $log == *"--replace: 1 earlier imports removed"* ]]' ||
	echo "$log" | tail -2
n=$(cat "$d"/* "$d"/*/* 2>/dev/null | hits)
check "... no name nor part in any byte of the files the runs left in $(basename "$d") ($(ls -A "$d" | tr '\n' ' ')): $n hits" '[ "$n" = 0 ]'
n=0
for f in "$d"/*.db; do n=$((n + $(sqlite3 "$f" .dump | hits))); done
check "... none in any table of the databases (sqlite3 .dump): $n hits" '[ "$n" = 0 ]'
AIC=$PWD/$BUILD/aicensus
n=$( (cd "$d" && "$AIC" query -c aicensus.conf --db released.db --format json --by department,service &&
	"$AIC" report -c aicensus.conf --db released.db --week last --format json &&
	"$AIC" report -c aicensus.conf --db released.db --week last --format md) 2>&1 | tee "$out/answers" | hits)
check "... none in what query and report answer ($(wc -c <"$out/answers") bytes): $n hits" \
	'[ "$n" = 0 ] && [ "$(grep -c '"'"'"connections"'"'"' "$out/answers")" -gt 0 ]' || tail -3 "$out/answers"
# (-y: each descriptor with its file.  Not the daemon's: its stderr, and
# under VALGRIND=1 what valgrind itself writes with the command line in
# it: memcheck's log, and the /tmp/valgrind_proc_PID_cmdline_* file it
# makes at start to stand in for /proc/self/cmdline, then unlinks.)
n=$(cat "$out"/trace.* | grep -avE '^[0-9]+ +writev?\(2(<[^>]*>)?,' |
	grep -avE '^[0-9]+ +writev?\([0-9]+<([^>]*/vg-logs/[^/>]*\.log|/tmp/valgrind_proc_[0-9]+_[a-z]+_[0-9a-f]+)>,' |
	hits)
nlog=$(cat "$out"/trace.* | grep -ac /dev/log)
check "... none in anything the daemon wrote, sent or connected to except its stderr (log = \"syslog\"; $ntr runs traced): $n hits, $nlog connects to /dev/log" \
	'[ "$n" = 0 ] && [ "$nlog" = 0 ] && [ "$(cat "$out"/trace.* | grep -acE "writev?\(2(<[^>]*>)?,")" -gt 0 ]'

# A release database written before names were dropped: any start that
# opens it (here a refused -r) removes them, bytes included.
sqlite3 "$d/released.db" "ALTER TABLE import RENAME TO import_old;
	CREATE TABLE import(id INTEGER PRIMARY KEY, name TEXT NOT NULL,
	fingerprint TEXT NOT NULL, size INTEGER NOT NULL,
	first_usec INTEGER NOT NULL, last_usec INTEGER NOT NULL,
	packets INTEGER NOT NULL, imported_at INTEGER NOT NULL,
	done INTEGER NOT NULL);
	INSERT INTO import SELECT id, '$ipname', fingerprint, size, first_usec,
	last_usec, packets, imported_at, done FROM import_old;
	DROP TABLE import_old"
n0=$(cat "$d/released.db" | hits)
nrows=$(rows "$d" import)
run "$d" "$ids/$ipname"
n=$(cat "$d"/* | hits)
check "an older record's names ($n0 hits, $nrows rows) are gone at the next start, bytes included: $n hits; the rows stay and refuse" \
	'[ "$n0" -gt 0 ] && [ "$n" = 0 ] && [ "$(rows "$d" import)" = "$nrows" ] && [ $rc -ne 0 ] &&
	[[ $log == *"import record removed"* ]] && [[ $log == *"already imported: the import with fingerprint"* ]]' ||
	echo "$log" | tail -2
exit $((fails > 0))
