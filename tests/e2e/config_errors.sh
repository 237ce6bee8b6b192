#!/bin/bash
# Start-up errors: every configuration mistake is ONE line on stderr that
# names the file, the line and the fix; the exit status is 1; nothing is
# created (no database, no state directory).  Both `aicensusd -n` and a
# real start (`-r FILE`, which needs no privileges) are tried, because a
# check that passes where the start fails is worth nothing.  Then the
# command line (--help, --version, an unknown option, -n and -nv on the
# shipped example) and a damaged database, which must be refused and left
# byte for byte as it was.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
DAEMON=$PWD/$BUILD/aicensusd
CC=${CC:-cc}
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

[ -x "$DAEMON" ] || { nok "$DAEMON is not built"; exit 1; }
out=$(mktemp -d /tmp/aic-cfgerr.XXXXXX)
trap 'rm -rf "$out"' EXIT

# --- a good configuration; each case below changes one line of it -------

tmpl=$out/tmpl
mkdir -p "$tmpl/plugins"
cat >"$tmpl/aicensus.conf" <<'EOF'
# config_errors.sh: a good configuration; each case changes one line
aicensus: {
  database = "aicensus.db";
  state_dir = "state";
  catalog = "catalog.conf";
  plugin_dir = "plugins";
  plugins = [ ];
  user = "";
  timezone = "UTC";
  sanctioned = [
    "chat-one",
    "chat-two"
  ];
  departments = (
    { name = "Finance"; prefixes = ["10.10.0.0/16"]; }
  );
};
EOF
cat >"$tmpl/catalog.conf" <<'EOF'
# config_errors.sh: a two-service catalog
version = 1;
services = (
  {
    id = "chat-one";
    name = "Chat One";
    vendor = "Example";
    category = "chat";
    jurisdiction = "US";
    domains = ["one.example"];
    hosts = [];
  },
  {
    id = "chat-two";
    name = "Chat Two";
    vendor = "Example";
    category = "chat";
    jurisdiction = "EU";
    domains = ["two.example"];
    hosts = [];
  }
);
EOF
# a pcap file with its header and no packets: enough for a start with -r
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' \
	>"$out/empty.pcap"
for p in bad_abi no_entry; do
	$CC -std=c11 -Wall -Wextra -Werror -shared -fPIC -Iplugins \
		"tests/data/plugins/$p.c" -o "$tmpl/plugins/$p.so" ||
		nok "cannot build the test plugin $p"
done

r=$("$DAEMON" -n -c "$tmpl/aicensus.conf" 2>&1)
[ $? -eq 0 ] && ok "the unchanged test configuration is accepted" ||
	{ nok "the test configuration itself is refused: $r"; exit 1; }

# --- configuration mistakes --------------------------------------------

# What a run left behind in its directory besides the inputs.
leftovers() {
	(cd "$1" && ls -d aicensus.db* released.db* state 2>/dev/null | tr '\n' ' ')
}

# One run: $1 = case name, $2 = mode label, then the fragments the single
# error line must hold; the command is in $cmd (an array).
judge() {
	local name=$1 mode=$2 rc why= line left f
	shift 2
	"${cmd[@]}" >"$dir/stdout" 2>"$dir/stderr"
	rc=$?
	line=$(head -n 1 "$dir/stderr")
	[ "$rc" -eq 1 ] || why="$why; exit status $rc, want 1"
	[ "$(wc -l <"$dir/stderr")" -eq 1 ] ||
		why="$why; $(wc -l <"$dir/stderr") lines on stderr, want 1: $(tr '\n' '|' <"$dir/stderr")"
	[ -s "$dir/stdout" ] && why="$why; stdout: $(head -c 200 "$dir/stdout")"
	local missing=
	for f in "$@"; do
		grep -qF -- "$f" "$dir/stderr" || missing="$missing \"$f\""
	done
	[ -z "$missing" ] || why="$why; the message lacks$missing"
	left=$(leftovers "$dir")
	[ -z "$left" ] || why="$why; created $left"
	rm -rf "$dir"/aicensus.db* "$dir"/released.db* "$dir/state"
	if [ -z "$why" ]; then
		ok "$name ($mode): exit 1, nothing created: ${line//$dir\//}"
	else
		nok "$name ($mode)${why}"
	fi
}

# $1 = name, $2 = file to change (aicensus.conf or catalog.conf),
# $3 = sed expression, then the fragments (the case directory's path is
# $dir, so fragments may use it).
bad() {
	local name=$1 file=$2 expr=$3
	shift 3
	dir=$out/case$((++ncase))
	cp -r "$tmpl" "$dir"
	sed -i "$expr" "$dir/$file"
	if cmp -s "$tmpl/$file" "$dir/$file"; then
		nok "$name: the test's sed expression changed nothing"
		return
	fi
	local frags=()
	for f in "$@"; do frags+=("${f//@DIR@/$dir}"); done
	cmd=("$DAEMON" -n -c "$dir/aicensus.conf")
	judge "$name" "-n" "${frags[@]}"
	cmd=("$DAEMON" -c "$dir/aicensus.conf" -r "$out/empty.pcap")
	judge "$name" "-r" "${frags[@]}"
}
ncase=0

bad "syntax error" aicensus.conf '9s/.*/  = 5;/' \
	"@DIR@/aicensus.conf:9: " "syntax error" "missing ';'"
bad "unknown setting" aicensus.conf '9s/timezone/timezon/' \
	"@DIR@/aicensus.conf:9: " "unknown setting 'timezon'" "did you mean 'timezone'"
bad "prefix with host bits" aicensus.conf '15s|10.10.0.0/16|10.10.0.1/16|' \
	"@DIR@/aicensus.conf:15: " "host bits" 'did you mean "10.10.0.0/16"'
bad "unknown sanctioned service" aicensus.conf '12s/chat-two/chat-too/' \
	"@DIR@/aicensus.conf:12: " '"chat-too"' 'did you mean "chat-two"'
bad "missing catalog" aicensus.conf '5s/catalog.conf/nosuch.conf/' \
	"@DIR@/nosuch.conf: " "cannot open the catalog" "check the path"
bad "catalog with an unknown category" catalog.conf '17s/"chat"/"chatbot"/' \
	"@DIR@/catalog.conf:17: " "unknown category 'chatbot'" "use one of chat"
bad "missing plugin" aicensus.conf '7s/\[ \]/["nosuch"]/' \
	"plugin nosuch" "@DIR@/plugins/nosuch.so" "fix plugin_dir"
bad "plugin of another ABI" aicensus.conf '7s/\[ \]/["bad_abi"]/' \
	"plugin bad_abi" "ABI 999" "ABI 2" "rebuild"
bad "plugin without an entry point" aicensus.conf '7s/\[ \]/["no_entry"]/' \
	"plugin no_entry" "@DIR@/plugins/no_entry.so" "no aicensus_plugin() entry point"

# --- the command line and the shipped example --------------------------

# The shipped example names eth1 and /var/lib/aicensus, which -n now
# checks on this machine: its copy keeps every setting but captures on
# lo (-i) and keeps its files in a directory of the test's own.
ship=$out/shipped
mkdir -p "$ship/var/state" "$ship/var/reports"
chmod 700 "$ship/var/state"
cp config/catalog.conf "$ship/"
sed -e "s|/var/lib/aicensus|$ship/var|g" -e 's|user = "aicensus";|user = "";|' \
	config/aicensus.conf >"$ship/aicensus.conf"
r=$("$DAEMON" -n -i lo -c "$ship/aicensus.conf" 2>&1)
[ $? -eq 0 ] && echo "$r" | grep -q "configuration OK" &&
	ok "the shipped config/aicensus.conf (-i lo, files under a test directory): ${r//$out\//}" ||
	nok "the shipped config/aicensus.conf is refused: $r"

# -nv prints a configuration that loads back to the same result
"$DAEMON" -n -v -i lo -c "$ship/aicensus.conf" >"$out/nv1" 2>"$out/nv1.err"
rc=$?
grep -v 'configuration OK' "$out/nv1" >"$out/nv.conf"
cp config/catalog.conf "$out/"
"$DAEMON" -n -v -i lo -c "$out/nv.conf" >"$out/nv2" 2>"$out/nv2.err"
rc2=$?
if [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && grep -q '^aicensus = {' "$out/nv1" &&
	grep -q 'departments = (' "$out/nv1" &&
	diff <(sed 1d "$out/nv1" | grep -v 'configuration OK') \
		<(sed 1d "$out/nv2" | grep -v 'configuration OK') >/dev/null; then
	ok "-nv prints the normalised configuration ($(grep -c . "$out/nv.conf") lines), which loads back unchanged"
else
	nok "-nv: exit $rc/$rc2, output: $(head -3 "$out/nv1" | tr '\n' '|')"
fi

r=$("$DAEMON" --help 2>/dev/null)
[ $? -eq 0 ] && echo "$r" | grep -q '^usage: aicensusd' &&
	ok "--help exits 0 with the usage" || nok "--help: $r"
r=$("$DAEMON" --version 2>/dev/null)
[ $? -eq 0 ] && echo "$r" | grep -q '^aicensusd ' &&
	ok "--version exits 0: $r" || nok "--version: $r"
"$DAEMON" --no-such-option >"$out/o" 2>"$out/e"
rc=$?
[ $rc -eq 2 ] && grep -q 'usage:' "$out/e" && [ ! -s "$out/o" ] &&
	ok "an unknown option exits 2 with the usage on stderr" ||
	nok "an unknown option: exit $rc, stderr $(head -1 "$out/e")"

# --- keys and raw counts that others could read -------------------------

# A state directory group or others may enter: -n names the setting's
# line and the fix, and the daemon refuses to start on it.
dir=$out/state755
cp -r "$tmpl" "$dir"
mkdir -m 0755 "$dir/state"
line=$("$DAEMON" -n -c "$dir/aicensus.conf" 2>&1 >/dev/null)
rc=$?
[ $rc -eq 1 ] && echo "$line" | grep -qE "aicensus.conf:[0-9]+: state_dir: " &&
	echo "$line" | grep -q "chmod 0700" &&
	ok "a state directory of mode 0755 (-n): exit 1, $(echo "$line" | sed "s|$dir/||g")" ||
	nok "a state directory of mode 0755 (-n): exit $rc: $line"
line=$("$DAEMON" -c "$dir/aicensus.conf" --finalise 2>&1 >/dev/null)
rc=$?
[ $rc -eq 1 ] && echo "$line" | grep -q "chmod 0700" &&
	ok "a state directory of mode 0755: the daemon does not start ($(echo "$line" | sed "s|$dir/||g" | head -c 160))" ||
	nok "a state directory of mode 0755: daemon exit $rc: $line"
# A raw working database others may read.
dir=$out/vault644
cp -r "$tmpl" "$dir"
mkdir -m 0700 "$dir/state"
"$DAEMON" -c "$dir/aicensus.conf" --finalise >/dev/null 2>&1
chmod 644 "$dir/aicensus.db"
line=$("$DAEMON" -c "$dir/aicensus.conf" --finalise 2>&1 >/dev/null)
rc=$?
[ $rc -eq 1 ] && echo "$line" | grep -q "chmod 600" &&
	ok "a raw working database of mode 0644: refused ($(echo "$line" | sed "s|$dir/||g" | head -c 160))" ||
	nok "a raw working database of mode 0644: exit $rc: $line"

# --- a damaged database is refused, never repaired ----------------------

damaged() {	# $1 = name; the file is already in $dir/aicensus.db
	local before after rc left
	before=$(sha256sum <"$dir/aicensus.db")
	# -r never opens the raw working database (its vault is in memory):
	# --finalise does, as a live start would
	"$DAEMON" -c "$dir/aicensus.conf" --finalise >"$dir/stdout" 2>"$dir/stderr"
	rc=$?
	after=$(sha256sum <"$dir/aicensus.db")
	left=$(cd "$dir" && ls -d aicensus.db-* 2>/dev/null | tr '\n' ' ')
	if [ $rc -eq 1 ] && [ "$before" = "$after" ] && [ -z "$left" ] &&
		grep -q 'damaged or not an aicensus database' "$dir/stderr" &&
		grep -q 'refusing to touch it' "$dir/stderr"; then
		ok "$1 as the database: exit 1, file unchanged: $(grep -m1 damaged "$dir/stderr" | sed 's|/tmp/[^ ]*/||')"
	else
		nok "$1 as the database: exit $rc, $([ "$before" = "$after" ] && echo unchanged || echo CHANGED)${left:+, created $left}: $(tail -1 "$dir/stderr")"
	fi
}
dir=$out/db1
cp -r "$tmpl" "$dir"
head -c 8192 /dev/urandom >"$dir/aicensus.db"
chmod 600 "$dir/aicensus.db"
damaged "8 KB of random bytes"
dir=$out/db2
cp -r "$tmpl" "$dir"
printf 'department,service,hour\nFinance,chat-one,0\n' >"$dir/aicensus.db"
chmod 600 "$dir/aicensus.db"
damaged "a text file"

exit $((fails > 0))
