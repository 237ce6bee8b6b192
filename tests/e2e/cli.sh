#!/bin/bash
# The command-line tool as a new user meets it (issue 14, "The
# command-line tool"): every command takes -c and --help; an unknown
# command, an unknown option, a bad date, a reversed range, a missing
# release database are one line naming the problem; --min-group below
# the released size is raised and said, above it refused; tables are
# aligned under a header on a terminal (a pty through script(1)) and
# tab-separated rows when piped; inspect says which configuration and
# catalog it used and sums the run up, with no daemon log line;
# services [SEARCH]; `make test ONLY=typo` is an error.  One check per
# behaviour.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
export LC_ALL=C
tmp=$(mktemp -d /tmp/aic-cli.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
# check MSG CMD...: ok when CMD succeeds, else not ok and what was seen
check() {
	local msg=$1
	shift
	if "$@"; then ok "$msg"; else nok "$msg"; show; fi
}
show() { echo "#   exit $rc; stdout: $(head -c 300 "$tmp/out" | tr '\n' '|')"; echo "#   stderr: $(head -c 400 "$tmp/err" | tr '\n' '|')"; }
A=$PWD/$BUILD/aicensus
[ -x "$A" ] || { nok "$A missing (run make)"; exit 1; }
# run ARGS...: exit status in rc, stdout in $tmp/out, stderr in $tmp/err
run() { "$A" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
# tty CMD: CMD's stdout through a terminal (stderr dropped), CRs removed
tty() { script -qec "$1 2>/dev/null" /dev/null | tr -d '\r'; }
# one_line TEXT: stderr is exactly TEXT, stdout empty
one_line() { [ "$(cat "$tmp/err")" = "$1" ] && [ ! -s "$tmp/out" ]; }

# fixtures: a release database (weeks 2026-W46, W47 at min_group 5), a
# configuration naming it, a synthetic capture with its configuration
REL=$tmp/released.db
$PY tests/relfixture.py "$REL" --weeks 2026-W46,2026-W47 >/dev/null ||
	{ nok "tests/relfixture.py failed"; exit 1; }
cat >"$tmp/rel.conf" <<EOF
aicensus: {
	catalog = "$PWD/config/catalog.conf";
	database = "$tmp/not-used.db";
	release_database = "$REL";
	user = "";
	timezone = "UTC";
};
EOF
sed "s|$REL|$tmp/absent.db|" "$tmp/rel.conf" >"$tmp/absent.conf"
$PY tests/synth/synth.py --seed 3 --no-check --scale 0.05 --out "$tmp/gen" >/dev/null ||
	{ nok "tests/synth/synth.py failed"; exit 1; }
G=$tmp/gen

# --- the command table ------------------------------------------------------

run foo
check "aicensus foo: 'unknown command' and the commands, exit 2" \
	eval '[ $rc = 2 ] && [ "$(head -1 "$tmp/err")" = "aicensus: unknown command '"'foo'"'" ] &&
	grep -q "^  query " "$tmp/err" && grep -q "^  services " "$tmp/err" && [ ! -s "$tmp/out" ]'
run qeury --week last
check "aicensus qeury: 'unknown command' with the closest command (exit 2)" \
	eval '[ $rc = 2 ] && [ "$(head -1 "$tmp/err")" = "aicensus: unknown command '"'qeury'"' (did you mean '"'query'"'?)" ]'
run
check "aicensus alone: which command, the commands, exit 2" \
	eval '[ $rc = 2 ] && [ "$(head -1 "$tmp/err")" = "aicensus: which command?" ] && grep -q "^  inspect " "$tmp/err"'
for c in inspect query report services central; do
	run $c --help
	check "aicensus $c --help: its own usage on stdout, exit 0" \
		eval '[ $rc = 0 ] && [ ! -s "$tmp/err" ] && head -1 "$tmp/out" | grep -q "^usage: aicensus $c "'
done
run query --bogus
check "an unknown option is one line naming it and the command's --help (exit 2)" \
	eval '[ $rc = 2 ] && one_line "aicensus query: unknown option '"'--bogus'"' (see aicensus query --help)"'
run report -x
check "an unknown short option the same (exit 2)" \
	eval '[ $rc = 2 ] && one_line "aicensus report: unknown option '"'-x'"' (see aicensus report --help)"'
run query --db
check "an option without its value is one line (exit 2)" \
	eval '[ $rc = 2 ] && one_line "aicensus query: --db needs a value (see aicensus query --help)"'
run central -c "$tmp/rel.conf" release
check "central takes -c; release without --db says what is missing (exit 2)" \
	eval '[ $rc = 2 ] && one_line "aicensus central: release needs --db CONNINFO (the central database)"'
run central frobnicate --db x
check "central: an unknown command is one line listing the four (exit 2)" \
	eval '[ $rc = 2 ] && one_line "aicensus central: unknown command '"'frobnicate'"' (init, migrate, add-site or release)"'

# --- query ------------------------------------------------------------------

run query -c "$tmp/rel.conf" --week 2026-W47 --by department --format csv
"$A" query --db "$REL" --week 2026-W47 --by department --format csv >"$tmp/db.csv" 2>/dev/null
check "query -c CONFIG reads the configuration's release_database (as --db)" \
	eval '[ $rc = 0 ] && [ -s "$tmp/out" ] && cmp -s "$tmp/out" "$tmp/db.csv"'
run query -c "$tmp/absent.conf" --week 2026-W47
check "query -c CONFIG whose release database is missing: one line naming the file and the configuration (exit 1)" \
	eval '[ $rc = 1 ] && one_line "aicensus query: no release database $tmp/absent.db (release_database of $tmp/absent.conf; --db FILE reads another)"'
# no --db, no -c and no default configuration: the default's directory
# (as --help names it) hidden in a mount namespace of this command only
defconf=$("$A" query --help | grep -o '/[^ ]*/aicensus\.conf' | head -1)
mkdir -p "$tmp/empty"
if [ -d "$(dirname "$defconf")" ]; then
	unshare -m sh -c "mount --bind '$tmp/empty' '$(dirname "$defconf")' && exec '$A' query --week 2026-W47"
else
	"$A" query --week 2026-W47
fi >"$tmp/out" 2>"$tmp/err"
rc=$?
check "query with neither --db nor a configuration: one line saying what is missing and how to give it, no usage (exit 2)" \
	eval '[ $rc = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q -- "--db FILE" "$tmp/err" &&
	grep -q -- "-c CONFIG" "$tmp/err" && grep -q "does not exist" "$tmp/err" && ! grep -q usage "$tmp/err"'
run query --db "$REL" --from 2026-13-01
check "query --from 2026-13-01: one line, the value and the forms (exit 2)" \
	eval '[ $rc = 2 ] && one_line "aicensus query: --from: '"'2026-13-01'"' is not a date (YYYY-MM-DD) or an ISO week (YYYY-Www)"'
run query --db "$REL" --week 2026-W54
check "query --week 2026-W54: one line (exit 2)" \
	eval '[ $rc = 2 ] && one_line "aicensus query: --week: '"'2026-W54'"' is not an ISO week (YYYY-Www, e.g. 2026-W47)"'
run query --db "$REL" --from 2026-W47 --to 2026-W46
check "a reversed range is an error naming both values (exit 2)" \
	eval '[ $rc = 2 ] && one_line "aicensus query: --from 2026-W47 is after --to 2026-W46: the range is reversed"'
run query --db "$REL" --week 2026-W47 --by department --format csv --min-group 1
check "--min-group 1 below the released 5: raised, said on stderr, the figures as without it" \
	eval '[ $rc = 0 ] && cmp -s "$tmp/out" "$tmp/db.csv" &&
	[ "$(cat "$tmp/err")" = "aicensus query: --min-group 1 raised to 5: the figures were released with minimum group size 5 and a reader cannot lower it" ]'
run query --db "$REL" --week 2026-W47 --min-group 5 --format csv --by department
check "--min-group 5, the released size: no note" \
	eval '[ $rc = 0 ] && [ ! -s "$tmp/err" ] && cmp -s "$tmp/out" "$tmp/db.csv"'
run query --db "$REL" --week 2026-W47 --min-group 10
check "--min-group 10 above the released size: refused, no figures (exit 2)" \
	eval '[ $rc = 2 ] && one_line "aicensus query: --min-group 10: 2026-W47 was released with minimum group size 5; protection is applied when figures are released (min_group_size), it cannot be raised afterwards"'
run query --db "$REL" --min-group two
check "--min-group two: one line (exit 2)" \
	eval '[ $rc = 2 ] && one_line "aicensus query: --min-group: '"'two'"' is not a group size (a whole number, 1 or more)"'
tty "'$A' query --db '$REL' --week 2026-W47 --by department,service" >"$tmp/q.tty"
"$A" query --db "$REL" --week 2026-W47 --by department,service >"$tmp/q.pipe" 2>/dev/null
check "query on a terminal: aligned columns under a header; piped, the same lines (today's format, tests/e2e/query.sh)" \
	eval '[ "$(head -1 "$tmp/q.tty" | awk "{ print \$1, \$2, \$3 }")" = "period department service" ] &&
	[ "$(awk "{ print length }" "$tmp/q.tty" | sort -u | wc -l)" = 1 ] && [ "$(wc -l <"$tmp/q.tty")" -gt 5 ] &&
	cmp -s "$tmp/q.tty" "$tmp/q.pipe"'

# --- report -----------------------------------------------------------------

run report -c "$tmp/rel.conf" --week 2026-W47 --format md
check "report -c CONFIG reads the configuration's release database" \
	eval '[ $rc = 0 ] && grep -q "2026-W47" "$tmp/out"'
run report --db "$REL" --week 2026-W47 --quarter 2026-Q4
check "report --week and --quarter together: one line (exit 2)" \
	eval '[ $rc = 2 ] && one_line "aicensus report: --week and --quarter exclude each other"'
run report --db "$REL" --format pdf --week last
check "report --format pdf: one line naming the value and the formats (exit 2)" \
	eval '[ $rc = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "^aicensus report: --format: '"'pdf'"' is not a format (.*html.*)$" "$tmp/err"'

# --- inspect ----------------------------------------------------------------

run inspect -c "$G/aicensus.conf" "$G/traffic.pcap"
cp "$tmp/out" "$tmp/rows"
cp "$tmp/err" "$tmp/ierr"
check "inspect piped: tab-separated rows of 7 fields, no header, nothing else on stdout" \
	eval '[ $rc = 0 ] && [ "$(wc -l <"$tmp/rows")" -gt 50 ] &&
	[ "$(awk -F"\t" "NF != 7" "$tmp/rows" | wc -l)" = 0 ] &&
	[ "$(awk -F"\t" "\$1 !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]+Z\$/" "$tmp/rows" | wc -l)" = 0 ]'
check "inspect: stderr starts with the configuration and the catalog it used" \
	eval '[ "$(head -1 "$tmp/ierr")" = "aicensus inspect: configuration $G/aicensus.conf, catalog $G/catalog.conf (5 services), 4 departments, time zone UTC" ]'
check "inspect: no daemon log line (every stderr line is the command's own, none info: or warning:)" \
	eval '[ "$(grep -cv "^aicensus inspect: " "$tmp/ierr")" = 0 ] && ! grep -qE "(info|warning|error): " "$tmp/ierr" &&
	[ "$(wc -l <"$tmp/ierr")" = 4 ]'
$PY - "$G/traffic.pcap" "$tmp/rows" "$tmp/ierr" >"$tmp/sum.chk" 2>&1 <<'EOF'
import collections, struct, sys
pcap, rows, err = sys.argv[1:]
data = open(pcap, "rb").read()
end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
n, at = 0, 24
while at + 16 <= len(data):
    incl = struct.unpack(end + "IIII", data[at:at + 16])[2]
    at += 16 + incl
    n += 1
lines = open(rows).read().splitlines()
counted = collections.Counter(l.split("\t")[4] for l in lines
                              if l.split("\t")[6].startswith("counted") and l.split("\t")[4] != "-")
e = open(err).read().splitlines()
want = "aicensus inspect: %d packets, %d names seen, %d counted for a service" % (
    n, len(lines), sum(counted.values()))
per = ", ".join("%s %d" % kv for kv in sorted(counted.items(), key=lambda kv: (-kv[1], 0)))
ok = e[1] == want and e[2].startswith("aicensus inspect: counted per service: ") and \
    dict((p.rsplit(" ", 1)[0], int(p.rsplit(" ", 1)[1])) for p in e[2].split(": ", 2)[2].split(", ")) == dict(counted) and \
    e[3].startswith("aicensus inspect: anomalies: ") and "bad_ip" in e[3]
print(want, "|", per, "|", e[1:])
sys.exit(0 if ok and len(counted) >= 3 else 1)
EOF
check "inspect's summary: packets (read from the pcap), names seen and counted per service as in its rows, anomalies" \
	eval '[ $? = 0 ] || { sed "s/^/#   /" "$tmp/sum.chk"; false; }'
tty "'$A' inspect -c '$G/aicensus.conf' '$G/traffic.pcap'" >"$tmp/i.tty"
$PY - "$tmp/i.tty" "$tmp/rows" >"$tmp/tty.chk" 2>&1 <<'EOF'
import re, sys
tty = open(sys.argv[1]).read().splitlines()
rows = open(sys.argv[2]).read().splitlines()
head = tty[0]
cols = ["time", "detector", "what", "name", "service", "department", "outcome"]
ok = head.split() == cols and len(tty) == len(rows) + 1
starts = [head.index(c) for c in cols]
for t, r in zip(tty[1:], rows):
    cells = r.split("\t")
    for s, c in zip(starts, cells):
        ok = ok and t[s:s + len(c)] == c and (s == 0 or t[s - 2:s] == "  ")
print(head, len(tty), len(rows))
sys.exit(0 if ok else 1)
EOF
check "inspect on a terminal: a header and every cell starting under it; the same rows as piped" \
	eval '[ $? = 0 ] || { sed "s/^/#   /" "$tmp/tty.chk"; false; }'
run inspect -c "$G/aicensus.conf"
check "inspect without FILE: one line saying so (exit 2)" \
	eval '[ $rc = 2 ] && one_line "aicensus inspect: which capture? aicensus inspect [-c CONFIG] FILE"'

# --- services ---------------------------------------------------------------

run services -c "$G/aicensus.conf"
check "services piped: one tab-separated line per catalog service (id name vendor category jurisdiction sanctioned), no header" \
	eval '[ $rc = 0 ] && [ "$(cut -f1 "$tmp/out" | tr "\n" " ")" = "$(sed -n "s/^ *id = \"\(.*\)\";/\1/p" "$G/catalog.conf" | tr "\n" " ")" ] &&
	[ "$(awk -F"\t" "NF != 6" "$tmp/out" | wc -l)" = 0 ] &&
	grep -q "^openai-chatgpt	ChatGPT	OpenAI	chat	US	" "$tmp/out"'
check "services: sanctioned is yes exactly for the configuration's sanctioned ids" \
	eval '[ "$(awk -F"\t" "\$6 == \"yes\" { print \$1 }" "$tmp/out")" = openai-chatgpt ] &&
	[ "$(awk -F"\t" "\$6 == \"no\"" "$tmp/out" | wc -l)" = 4 ]'
run services -c "$tmp/rel.conf"
check "services -c CONFIG lists that configuration's catalog, in its order ($(wc -l <"$tmp/out") services in config/catalog.conf)" \
	eval '[ $rc = 0 ] && [ "$(cut -f1 "$tmp/out")" = "$(grep -oE "\<id = \"[a-z0-9-]+\"" config/catalog.conf | cut -d\" -f2)" ]'
run services -c "$tmp/rel.conf" OPENAI
check "services SEARCH matches the vendor, ignoring case" \
	eval '[ $rc = 0 ] && [ -s "$tmp/out" ] && [ "$(awk -F"\t" "tolower(\$1 \$2 \$3) !~ /openai/" "$tmp/out" | wc -l)" = 0 ] &&
	[ "$(wc -l <"$tmp/out")" = "$(awk -F"\t" "tolower(\$1 \$2 \$3) ~ /openai/" <("$A" services -c "$tmp/rel.conf") | wc -l)" ]'
run services -c "$G/aicensus.conf" Claud
check "services SEARCH matches the name or id (Claud: anthropic-claude)" \
	eval '[ $rc = 0 ] && [ "$(cut -f1 "$tmp/out")" = anthropic-claude ]'
run services -c "$G/aicensus.conf" nosuchthing
check "services SEARCH without a match: one line, exit 1" \
	eval '[ $rc = 1 ] && one_line "aicensus services: no service'"'"'s id, name or vendor contains '"'nosuchthing'"' (5 services in $G/catalog.conf)"'
tty "'$A' services -c '$G/aicensus.conf'" >"$tmp/s.tty"
check "services on a terminal: aligned columns under a header" \
	eval '[ "$(head -1 "$tmp/s.tty" | tr -s " ")" = "id name vendor category jurisdiction sanctioned" ] &&
	[ "$(wc -l <"$tmp/s.tty")" = 6 ] &&
	[ "$(awk "{ print index(\$0, \"US\") }" "$tmp/s.tty" | tail -n +2 | sort -u | wc -l)" -le 2 ] &&
	[ "$(awk -v h="$(head -1 "$tmp/s.tty")" "NR > 1 { print substr(\$0, index(h, \"category\"), 4) }" "$tmp/s.tty" | sort -u | tr "\n" " ")" = "chat " ]'

# --- the test runner --------------------------------------------------------

ONLY=uint BUILD=$BUILD sh tests/run.sh >"$tmp/out" 2>"$tmp/err"
rc=$?
check "make test ONLY=uint: an error naming the unknown part and listing the parts, not 0 passed" \
	eval '[ $rc = 2 ] && grep -q "ONLY names no test part: '"'uint'"'" "$tmp/err" &&
	grep -q "unit binaries: .*test_table" "$tmp/err" && grep -q "end-to-end scripts: .*cli" "$tmp/err" &&
	! grep -q passed "$tmp/out"'

[ $fails -eq 0 ]
