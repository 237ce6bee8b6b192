#!/bin/bash
# aicensusd -n checks what a start needs from this machine, not only the
# file: an interface that does not exist, a user that does not exist, a
# database directory the service user cannot write, a plugin that does
# not load.  Each is one line on stderr naming the file and line of the
# setting, exit 1; a real start refuses the same configuration with the
# same line and creates nothing.  The warnings a start gives (a
# min_group_size below 5, an API beyond loopback) are printed by -n too,
# with their line, and the configuration is still OK.  A misspelt
# sanctioned service id gets the closest catalog id and `aicensus
# services`.  Needs root (it checks as user nobody, as root does for the
# service's account).
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
DAEMON=$PWD/$BUILD/aicensusd
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

[ -x "$DAEMON" ] || { nok "$DAEMON is not built"; exit 1; }
[ "$(id -u)" = 0 ] || { nok "needs root: it checks as user nobody"; exit 1; }
id nobody >/dev/null 2>&1 || { nok "no user nobody"; exit 1; }
out=$(mktemp -d /tmp/aic-checkn.XXXXXX)
NS=aic-checkn-$$
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$out"' EXIT
chmod 755 "$out"	# user nobody must reach the case directories

# --- a configuration that starts; each case changes one line -------------

tmpl=$out/tmpl
mkdir -p "$tmpl/plugins" "$tmpl/db" "$tmpl/reports" "$tmpl/web"
cat >"$tmpl/aicensus.conf" <<'EOF'
# check_n.sh: a configuration that starts; each case changes one line
aicensus: {
  interface = "lo";
  database = "db/aicensus.db";
  release_database = "db/released.db";
  state_dir = "state";
  catalog = "catalog.conf";
  plugin_dir = "plugins";
  plugins = [ ];
  user = "";
  timezone = "UTC";
  min_group_size = 5;
  report = { dir = "reports"; };
  api = { enabled = false; listen = "127.0.0.1:8080"; token_file = "api.token"; web_dir = "web"; };
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
# check_n.sh: a two-service catalog
version = 1;
services = (
  { id = "chat-one"; name = "Chat One"; vendor = "Example"; category = "chat";
    jurisdiction = "US"; domains = ["one.example"]; hosts = []; },
  { id = "chat-two"; name = "Chat Two"; vendor = "Example"; category = "chat";
    jurisdiction = "EU"; domains = ["two.example"]; hosts = []; }
);
EOF
(umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$tmpl/api.token")
# a pcap file with its header and no packets: enough for a start with -r
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' \
	>"$out/empty.pcap"
# what if_nameindex() lists, in the same (index) order
have=$(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
	paste -sd, - | sed 's/,/, /g')

r=$("$DAEMON" -n -c "$tmpl/aicensus.conf" 2>"$out/tmpl.err")
[ $? -eq 0 ] && [ ! -s "$out/tmpl.err" ] && [[ $r == *"configuration OK"* ]] &&
	ok "the unchanged configuration is OK, without a warning" ||
	{ nok "the test configuration itself: $r $(cat "$out/tmpl.err")"; exit 1; }

# $1 = case name, $2 = line of aicensus.conf, $3 = its new text; the case
# directory is $dir, a copy of the template
edit() {
	dir=$out/case$((++ncase))
	cp -a "$tmpl" "$dir"
	sed -i "$2c\\$3" "$dir/aicensus.conf"
	cmp -s "$tmpl/aicensus.conf" "$dir/aicensus.conf" &&
		nok "$1: the edit changed nothing"
}
ncase=0

# What a run left behind in its directory besides the inputs.
leftovers() {
	(cd "$1" && ls -d db/* state 2>/dev/null | tr '\n' ' ')
}

# $1 = case name, $2 = label, $3 = the one line stderr must be; runs
# "${cmd[@]}", wants exit 1, that line alone, no stdout, nothing created
refused() {
	local why= got rc left
	timeout 20 "${cmd[@]}" >"$dir/stdout" 2>"$dir/stderr"
	rc=$?
	got=$(cat "$dir/stderr")
	[ $rc -eq 1 ] || why="$why; exit $rc, want 1"
	[ "$got" = "$3" ] || why="$why; stderr: $got; want: $3"
	[ -s "$dir/stdout" ] && why="$why; stdout: $(head -c 200 "$dir/stdout")"
	left=$(leftovers "$dir")
	[ -z "$left" ] || why="$why; created $left"
	rm -rf "$dir"/db/* "$dir/state"
	[ -z "$why" ] && ok "$1 ($2): exit 1, nothing created: ${got//$out\//}" ||
		nok "$1 ($2)$why"
}

# $1 = case name, $2 = the one warning line stderr must be; -n exits 0
warned() {
	local got r rc short
	r=$("${cmd[@]}" 2>"$dir/stderr")
	rc=$?
	got=$(cat "$dir/stderr")
	short=", no warning"
	[ -z "$got" ] || short=", and: ${got//"$out/"/}"
	[ $rc -eq 0 ] && [[ $r == *"configuration OK"* ]] && [ "$got" = "$2" ] &&
		ok "$1: configuration OK$short" ||
		nok "$1: exit $rc, stdout $r, stderr: $got; want: $2"
}

# --- errors --------------------------------------------------------------

edit "missing interface" 3 '  interface = "aicnope0";'
want="aicensusd: $dir/aicensus.conf:3: interface \"aicnope0\" does not exist on this machine — use a name \`ip link\` shows ($have), or give -i IFACE"
cmd=("$DAEMON" -n -c "$dir/aicensus.conf")
refused "missing interface" "-n" "$want"
cmd=("$DAEMON" -c "$dir/aicensus.conf")
refused "missing interface" "start" "$want"
want="aicensusd: interface aicnope1 (-i) does not exist on this machine — use a name \`ip link\` shows ($have)"
cmd=("$DAEMON" -n -i aicnope1 -c "$tmpl/aicensus.conf")
refused "missing interface given with -i" "-n" "$want"
# -r reads a file: no interface is needed, so none is checked
cmd=("$DAEMON" -c "$dir/aicensus.conf" -r "$out/empty.pcap")
timeout 20 "${cmd[@]}" >/dev/null 2>"$dir/stderr" &&
	ok "missing interface: -r FILE needs none and runs" ||
	nok "missing interface: -r FILE refused: $(cat "$dir/stderr")"

edit "missing user" 10 '  user = "aicnouser";'
want="aicensusd: $dir/aicensus.conf:10: user \"aicnouser\" does not exist — create it (systemd-sysusers, or useradd --system aicnouser) or set user = \"\""
cmd=("$DAEMON" -n -c "$dir/aicensus.conf")
refused "missing user" "-n" "$want"
cmd=("$DAEMON" -c "$dir/aicensus.conf")
refused "missing user" "start" "$want"

# root may write db/ (root's, 0755); the service user nobody may not
edit "database directory the user cannot write" 10 '  user = "nobody";'
chmod 755 "$dir" "$dir/db"
want="aicensusd: $dir/aicensus.conf:4: database: $dir/db is not writable by user nobody (owned by root, mode 0755) — chown nobody $dir/db, or choose a directory nobody can write"
cmd=("$DAEMON" -n -c "$dir/aicensus.conf")
refused "database directory root's 0755, user nobody" "-n" "$want"
cmd=("$DAEMON" -c "$dir/aicensus.conf")
refused "database directory root's 0755, user nobody" "start as root" "$want"
# the same as nobody itself (user = "": the daemon is whoever runs it)
sed -i '10c\  user = "";' "$dir/aicensus.conf"
want="aicensusd: $dir/aicensus.conf:4: database: $dir/db is not writable by user nobody (owned by root, mode 0755) — chown nobody $dir/db, or choose a directory nobody can write"
cmd=(setpriv --reuid=nobody --regid=nogroup --clear-groups "$DAEMON" -n -c "$dir/aicensus.conf")
refused "database directory root's 0755, -n run by nobody" "-n" "$want"
# handed to nobody, it is fine (the check is not just "not root")
sed -i '10c\  user = "nobody";' "$dir/aicensus.conf"
chown nobody "$dir/db"
r=$("$DAEMON" -n -c "$dir/aicensus.conf" 2>&1)
[ $? -eq 0 ] && [[ $r == *"configuration OK"* ]] &&
	ok "database directory owned by nobody: OK for user nobody" ||
	nok "database directory owned by nobody: $r"
# a directory above it that nobody may not enter
chmod 700 "$dir"
want="aicensusd: $dir/aicensus.conf:4: database: $dir/db cannot be reached by user nobody (a directory on the way is closed to it) — open the directories above it to nobody, or choose another place"
cmd=("$DAEMON" -n -c "$dir/aicensus.conf")
refused "a directory above the database closed to nobody" "-n" "$want"

edit "plugin that does not load" 9 '  plugins = [ "garbage" ];'
head -c 4096 /dev/urandom | base64 >"$dir/plugins/garbage.so"
want="aicensusd: $dir/aicensus.conf:9: plugin garbage: cannot load $dir/plugins/garbage.so: $dir/plugins/garbage.so: invalid ELF header — install it there or fix plugin_dir / plugins in the configuration"
cmd=("$DAEMON" -n -c "$dir/aicensus.conf")
refused "a garbage .so as plugin" "-n" "$want"
cmd=("$DAEMON" -c "$dir/aicensus.conf" -r "$out/empty.pcap")
refused "a garbage .so as plugin" "-r" "$want"

edit "misspelt sanctioned id" 17 '    "chat-too"'
want="aicensusd: $dir/aicensus.conf:17: sanctioned service \"chat-too\" is not in the catalog $dir/catalog.conf — did you mean \"chat-two\"? \`aicensus services\` lists the ids"
cmd=("$DAEMON" -n -c "$dir/aicensus.conf")
refused "misspelt sanctioned id" "-n" "$want"
cmd=("$DAEMON" -c "$dir/aicensus.conf" -r "$out/empty.pcap")
refused "misspelt sanctioned id" "-r" "$want"
edit "unknown sanctioned id" 16 '    "zzzz-nothing-like",'
want="aicensusd: $dir/aicensus.conf:16: sanctioned service \"zzzz-nothing-like\" is not in the catalog $dir/catalog.conf — use an id from the catalog; \`aicensus services\` lists the ids"
cmd=("$DAEMON" -n -c "$dir/aicensus.conf")
refused "sanctioned id close to none" "-n" "$want"

# the raw working database others may read: a start refuses it, so -n does
edit "raw database of mode 0644" 4 '  database = "db/raw.db";'
(umask 022; : >"$dir/db/raw.db")
chmod 644 "$dir/db/raw.db"
want="aicensusd: $dir/aicensus.conf:4: database: database $dir/db/raw.db is accessible to group or others (mode 0644); it holds the raw counts: chmod 600 $dir/db/raw.db"
cmd=("$DAEMON" -n -c "$dir/aicensus.conf")
timeout 20 "${cmd[@]}" >"$dir/stdout" 2>"$dir/stderr"
rc=$?
[ $rc -eq 1 ] && [ "$(cat "$dir/stderr")" = "$want" ] && [ ! -s "$dir/stdout" ] &&
	[ "$(stat -c %a "$dir/db/raw.db")" = 644 ] && [ ! -e "$dir/state" ] &&
	ok "raw database of mode 0644 (-n): exit 1, left as it was: $(sed "s|$out/||g" "$dir/stderr")" ||
	nok "raw database of mode 0644 (-n): exit $rc: $(cat "$dir/stderr"); want: $want"

# a reader's configuration (central release, no site) started as a sensor
edit "reader's configuration started as a sensor" 14 '  api = { enabled = true; listen = "127.0.0.1:8080"; token_file = "api.token"; web_dir = "web"; source = "central"; };'
sed -i '15i\  central = { conninfo = "host=/nonexistent dbname=x user=reader"; };' "$dir/aicensus.conf"
want="aicensusd: $dir/aicensus.conf:15: central: no central.site, so nothing can be shipped: a configuration with api.source = central and no site is a reader's, for aicensusd --serve — add site = \"...\" to ship"
cmd=("$DAEMON" -n -c "$dir/aicensus.conf")
refused "reader's configuration" "-n" "$want"
cmd=("$DAEMON" -c "$dir/aicensus.conf" -r "$out/empty.pcap")
refused "reader's configuration" "-r" "$want"
r=$("$DAEMON" --serve -n -c "$dir/aicensus.conf" 2>&1)
[ $? -eq 0 ] && [[ $r == *"configuration OK"* ]] &&
	ok "reader's configuration: --serve -n accepts it" ||
	nok "reader's configuration: --serve -n: $r"

# --- warnings --------------------------------------------------------------

edit "min_group_size 3" 12 '  min_group_size = 3;'
cmd=("$DAEMON" -n -c "$dir/aicensus.conf")
warned "min_group_size 3" "aicensusd: warning: $dir/aicensus.conf:12: min_group_size is 3: groups this small can single people out; use 5 or more outside tests"
# a start warns with the same line
"$DAEMON" -c "$dir/aicensus.conf" -r "$out/empty.pcap" >/dev/null 2>"$dir/start.err"
rc=$?
[ $rc -eq 0 ] && grep -qF "$dir/aicensus.conf:12: min_group_size is 3: groups this small" "$dir/start.err" &&
	ok "min_group_size 3: a start logs the same warning at the same line" ||
	nok "min_group_size 3: start exit $rc: $(tr '\n' '|' <"$dir/start.err")"

edit "API on 0.0.0.0" 14 '  api = { enabled = true; listen = "0.0.0.0:8080"; token_file = "api.token"; web_dir = "web"; };'
cmd=("$DAEMON" -n -c "$dir/aicensus.conf")
warned "API on 0.0.0.0" "aicensusd: warning: $dir/aicensus.conf:14: api.listen 0.0.0.0:8080 is not loopback: without TLS the token crosses the network in clear — listen on 127.0.0.1 and put a TLS proxy in front"
sed -i '14s|0.0.0.0:8080|[::1]:8080|' "$dir/aicensus.conf"
warned "API on [::1]" ""

# an interface that exists but is down: a start would stop with an error
# (libpcap does not activate it), so -n says so, as a warning (boot may
# bring it up first).  A veth pair, down as made, in a namespace of this
# test.
if ip netns add "$NS" && ip -n "$NS" link add aicdown0 type veth peer name aicdown1; then
	edit "interface down" 3 '  interface = "aicdown0";'
	cmd=(ip netns exec "$NS" "$DAEMON" -n -c "$dir/aicensus.conf")
	warned "interface down" "aicensusd: warning: $dir/aicensus.conf:3: interface \"aicdown0\" is down: a start now stops with an error — bring it up (ip link set aicdown0 up) first"
	"${cmd[@]}" -i aicdown0 >/dev/null 2>"$dir/stderr"
	grep -qx "aicensusd: warning: interface aicdown0 (-i) is down: a start now stops with an error — bring it up (ip link set aicdown0 up) first" "$dir/stderr" &&
		ok "interface down, given with -i: the same warning without a line" ||
		nok "interface down with -i: $(cat "$dir/stderr")"
	ip netns exec "$NS" "$DAEMON" -c "$dir/aicensus.conf" >/dev/null 2>"$dir/start.err"
	rc=$?
	[ $rc -ne 0 ] && grep -q "aicdown0" "$dir/start.err" &&
		ok "interface down: a start does stop with an error (exit $rc), as -n warned" ||
		nok "interface down: a start gave exit $rc: $(tr '\n' '|' <"$dir/start.err")"
	ip -n "$NS" link set aicdown0 up
	warned "interface up again" ""
else
	nok "a network namespace with a veth pair"
fi

# --- --file-only: the files, not this machine -------------------------------

# what the report service asks (aicensus-weekly-report): its sandbox has
# no network and no state directory, so only the files can be checked
edit "files only" 3 '  interface = "aicnope0";'
sed -i '12c\  min_group_size = 3;' "$dir/aicensus.conf"
r=$("$DAEMON" -n --file-only -c "$dir/aicensus.conf" 2>"$dir/stderr")
rc=$?
[ $rc -eq 0 ] && [ "$r" = "$dir/aicensus.conf: configuration OK (1 department, 2 services; files only)" ] &&
	[ ! -s "$dir/stderr" ] &&
	ok "-n --file-only: a missing interface is not looked at, no warning: ${r//$out\//}" ||
	nok "-n --file-only: exit $rc, stdout $r, stderr $(cat "$dir/stderr")"
sed -i '17c\    "chat-too"' "$dir/aicensus.conf"
want="aicensusd: $dir/aicensus.conf:17: sanctioned service \"chat-too\" is not in the catalog $dir/catalog.conf — did you mean \"chat-two\"? \`aicensus services\` lists the ids"
cmd=("$DAEMON" -n --file-only -c "$dir/aicensus.conf")
refused "-n --file-only, a misspelt sanctioned id" "-n --file-only" "$want"
"$DAEMON" --file-only -c "$dir/aicensus.conf" >/dev/null 2>"$dir/stderr"
rc=$?
[ $rc -eq 2 ] && grep -q '^usage:' "$dir/stderr" &&
	ok "--file-only without -n is a usage error (exit 2)" ||
	nok "--file-only without -n: exit $rc"

exit $((fails > 0))
