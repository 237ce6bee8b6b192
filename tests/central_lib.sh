# central_lib.sh - a throwaway PostgreSQL 15 cluster for the central
# database's tests, sourced by tests/e2e/central*.sh (bash).
#
# pg_start DIR makes a cluster in DIR/pg (initdb as the postgres system
# user, which must own nothing else of the test), listening on a Unix
# socket in DIR/sock only (listen_addresses = '': nothing on the
# network) with password (SCRAM) authentication for every role, the
# superuser's password in $PG_SUPERPW.  It sets PGHOST (the socket
# directory), PGPORT and PG_BIN, and returns non-zero with the reason on
# stderr when the cluster cannot start: a caller reports that as a
# failure, never as a skip.  pg_stop stops it (fast, then immediate) and
# is safe to call twice, or when pg_start failed half way; callers put
# it in their EXIT trap before removing DIR.  Nothing system-wide is
# touched: no service, no /var/run/postgresql, no port.
#
# pg_test_cluster NAME, for a test script that defines ok and nok: a
# temporary directory in $d (/tmp/aic-NAME.XXXXXX), an EXIT trap that
# stops the cluster and removes $d (kept when KEEP is set), and the
# cluster started in it; a cluster that cannot start is a "not ok" and
# ends the script.  pg_password prints a password made up for this run,
# so that finding one in any output means it leaked.
#
# pg_sql CONNINFO SQL runs SQL through psql (no psqlrc, stop at the
# first error, unaligned tuples only) and prints what it returns.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=
PG_SUPERPW=

pg_start() {
	local dir=$1
	PG_DIR=$dir/pg
	[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] || {
		echo "pg_start: no PostgreSQL 15 in $PG_BIN (make test-deps installs postgresql-15)" >&2
		return 1
	}
	getent passwd postgres >/dev/null || {
		echo "pg_start: no postgres system user" >&2
		return 1
	}
	# The socket and data directories belong to postgres; the test dir
	# above them must let it through.
	chmod 711 "$dir" || return 1
	mkdir -p "$PG_DIR" "$dir/sock" || return 1
	chown postgres: "$PG_DIR" "$dir/sock" || return 1
	chmod 700 "$PG_DIR"
	PG_SUPERPW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	printf '%s\n' "$PG_SUPERPW" >"$dir/superpw"
	chown postgres: "$dir/superpw"
	chmod 600 "$dir/superpw"
	runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres \
		--pwfile="$dir/superpw" --auth=scram-sha-256 --no-locale \
		-E UTF8 >"$dir/initdb.log" 2>&1 || {
		echo "pg_start: initdb failed:" >&2
		tail -n 20 "$dir/initdb.log" >&2
		return 1
	}
	rm -f "$dir/superpw"
	cat >>"$PG_DIR/data/postgresql.conf" <<-EOF
	listen_addresses = ''
	unix_socket_directories = '$dir/sock'
	port = 5432
	fsync = off
	full_page_writes = off
	synchronous_commit = off
	max_connections = 40
	shared_buffers = 32MB
	log_min_messages = warning
	EOF
	# SCRAM for everyone over the socket; nothing else is accepted.
	printf 'local all all scram-sha-256\n' >"$PG_DIR/data/pg_hba.conf"
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 60 \
		-l "$PG_DIR/server.log" start >"$dir/pg_ctl.log" 2>&1 || {
		echo "pg_start: the server did not start:" >&2
		tail -n 20 "$PG_DIR/server.log" >&2
		return 1
	}
	export PGHOST=$dir/sock PGPORT=5432
	# Nothing from the caller's environment reaches the tests' psql.
	unset PGPASSWORD PGPASSFILE PGUSER PGDATABASE PGSERVICE PGSSLMODE
	pg_answers && return 0
	echo "pg_start: the server does not answer on $PGHOST" >&2
	return 1
}

pg_stop() {
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast \
		-w -t 30 stop >/dev/null 2>&1 ||
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" \
			-m immediate -w -t 30 stop >/dev/null 2>&1
}

# pg_answers: the superuser's SELECT 1 answered within five seconds
# (a server that pg_ctl saw start may not take connections yet).
pg_answers() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		pg_sql "user=postgres password=$PG_SUPERPW dbname=postgres" \
			"SELECT 1" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}

pg_sql() {
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At -d "$1" -c "$2"
}

pg_test_cluster() {
	d=$(mktemp -d "/tmp/aic-$1.XXXXXX") ||
		{ nok "cannot make a temporary directory"; exit 1; }
	trap 'pg_stop; [ -n "$KEEP" ] || rm -rf "$d"' EXIT
	if ! pg_start "$d" 2>"$d/pg.err"; then
		nok "a throwaway PostgreSQL 15 cluster starts"
		cat "$d/pg.err"
		exit 1
	fi
	ok "a throwaway PostgreSQL 15 cluster starts on a Unix socket"
}

pg_password() {
	head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20
}

# pg_ssl DIR CERT KEY [NETNS], after pg_start DIR: the same cluster
# restarted with TLS on 127.0.0.1, a free port picked at random (inside
# the network namespace NETNS when one is given, where the server then
# runs: a sensor in that namespace reaches it, nothing outside does).
# CERT and KEY (PEM) are the server's certificate chain and key; copies
# owned by postgres go into the data directory.  The Unix socket stays
# (same directory, the new port's name) for the tests' own psql; over
# TCP only hostssl with SCRAM is accepted.  Sets PGPORT and PG_TCPPORT;
# pg_stop stops it as before.  Non-zero with the reason on stderr.
pg_ssl() {
	local dir=$1 cert=$2 key=$3 ns=$4 port
	local nsx=()
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || {
		echo "pg_ssl: no cluster running (pg_start first)" >&2
		return 1
	}
	[ -z "$ns" ] || nsx=(ip netns exec "$ns")
	port=$("${nsx[@]}" /usr/bin/python3 -c 'import random, socket
for _ in range(50):
    p = random.randint(20000, 60000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break') && [ -n "$port" ] || {
		echo "pg_ssl: no free port on 127.0.0.1" >&2
		return 1
	}
	pg_stop || { echo "pg_ssl: the cluster did not stop" >&2; return 1; }
	install -o postgres -g postgres -m 0644 "$cert" "$PG_DIR/data/server.crt" &&
	install -o postgres -g postgres -m 0600 "$key" "$PG_DIR/data/server.key" ||
		return 1
	# later lines win over pg_start's
	cat >>"$PG_DIR/data/postgresql.conf" <<-EOC
	listen_addresses = '127.0.0.1'
	port = $port
	ssl = on
	ssl_cert_file = 'server.crt'
	ssl_key_file = 'server.key'
	EOC
	cat >"$PG_DIR/data/pg_hba.conf" <<-EOC
	local all all scram-sha-256
	hostnossl all all 0.0.0.0/0 reject
	hostssl all all 127.0.0.1/32 scram-sha-256
	EOC
	"${nsx[@]}" runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" \
		-w -t 60 -l "$PG_DIR/server.log" start >"$dir/pg_ctl.log" 2>&1 || {
		echo "pg_ssl: the server did not start with TLS:" >&2
		tail -n 20 "$PG_DIR/server.log" >&2
		return 1
	}
	export PGPORT=$port
	PG_TCPPORT=$port
	pg_answers && return 0
	echo "pg_ssl: the server does not answer on $PGHOST port $port" >&2
	return 1
}

# The checks' helpers, the same in every central*.sh: ok and nok print
# one TAP-ish line each (nok counts it in $fails); check WHAT TEST...
# prints ok or not ok for WHAT and returns 1 when it failed.  With one
# TEST argument it is shell text, evaluated whole (check "x" '[ "$v" = t ]',
# or a function's name); with several they are a command and its
# arguments (check "x" [ $rc -eq 0 ]).
fails=${fails:-0}
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() {
	local what=$1
	shift
	if { [ $# -eq 1 ] && eval "$1"; } || { [ $# -gt 1 ] && "$@"; }; then
		ok "$what"
	else
		nok "$what"
		return 1
	fi
}

# central_setup [-b] SITE[:VAR]..., after pg_test_cluster (or pg_start
# with $d set): the database central owned by aicadmin (password in
# $PW_ADMIN, its conninfo in $ADMIN, the superuser's in $SU), the schema
# (aicensus central init) and for every SITE a login role sensor_SITE
# mapped to it (aicensus central add-site), its password made up into
# the variable VAR, or none when VAR is not given.  -b adds the reader
# role bi (password in $PW_BI, conninfo in $BI).  sql SQL then runs SQL
# as aicadmin.  Logs go to $d/setup.log; a statement that fails is a
# "not ok", an init or add-site that fails ends the script.
central_setup() {
	local bi= a s var sites=() stmts=()
	[ "$1" = -b ] && { bi=1; shift; }
	PW_ADMIN=$(pg_password)
	SU="user=postgres password=$PG_SUPERPW dbname=postgres"
	ADMIN="dbname=central user=aicadmin password=$PW_ADMIN"
	stmts=("CREATE ROLE aicadmin LOGIN CREATEROLE PASSWORD '$PW_ADMIN'"
	    "CREATE DATABASE central OWNER aicadmin")
	for a in "$@"; do
		s=${a%%:*}
		sites+=("$s")
		if [ "$a" != "$s" ]; then
			var=${a#*:}
			printf -v "$var" '%s' "$(pg_password)"
			stmts+=("CREATE ROLE sensor_$s LOGIN PASSWORD '${!var}'")
		else
			stmts+=("CREATE ROLE sensor_$s LOGIN")
		fi
	done
	for a in "${stmts[@]}"; do
		pg_sql "$SU" "$a" >/dev/null 2>>"$d/setup.log" || nok "setup: $a"
	done
	"$CLI" central init --db "$ADMIN" >>"$d/setup.log" 2>&1 || {
		nok "central init / add-site: $(tail -3 "$d/setup.log")"
		exit 1
	}
	for s in "${sites[@]}"; do
		"$CLI" central add-site --db "$ADMIN" "$s" "sensor_$s" \
		    >>"$d/setup.log" 2>&1 || {
			nok "central init / add-site: $(tail -3 "$d/setup.log")"
			exit 1
		}
	done
	[ -z "$bi" ] && return 0
	PW_BI=$(pg_password)
	BI="dbname=central user=bi password=$PW_BI"
	pg_sql "$SU" "CREATE ROLE bi LOGIN PASSWORD '$PW_BI' IN ROLE aicensus_reader" \
	    >/dev/null 2>>"$d/setup.log" || {
		nok "central init / add-site: $(tail -3 "$d/setup.log")"
		exit 1
	}
}
sql() { pg_sql "$ADMIN" "$1"; }

# central_mkrun [-k K] [-x SETTINGS] [-f FILE]... DIR [SITE ROLE PASSWORD]:
# a sensor's run directory DIR (mode 700) with the catalog and the
# configuration synthesized in $d/gen (and every FILE copied in), its
# min_group_size set to K when -k is given.  With SITE, a central group
# ships to SITE as ROLE over the cluster's socket, PASSWORD in
# DIR/central.pass (mode 600); SETTINGS go into that group as they are.
central_mkrun() {
	local k= x= files=() r o
	local OPTIND=1
	while getopts k:x:f: o; do
		case $o in
		k) k=$OPTARG ;;
		x) x=$OPTARG ;;
		f) files+=("$OPTARG") ;;
		*) return 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	r=$1
	local sedx=()
	[ -z "$k" ] || sedx+=(-e "s|min_group_size = [0-9]*;|min_group_size = $k;|")
	mkdir -p "$r" && chmod 700 "$r" || return 1
	cp "$d/gen/catalog.conf" "${files[@]}" "$r/" || return 1
	if [ -n "$2" ]; then
		printf '%s\n' "$4" >"$r/central.pass"
		chmod 600 "$r/central.pass"
		sedx+=(-e "s|^};|  central = { conninfo = \"host=$PGHOST port=$PGPORT dbname=central user=$3\"; password_file = \"central.pass\"; site = \"$2\";${x:+ $x} };\n};|")
	fi
	sed -e "" "${sedx[@]}" "$d/gen/aicensus.conf" >"$r/aicensus.conf"
}

# central_split PCAP DIR SITE=DEPT,DEPT... SITE=*: PCAP split by the
# client's department (its VLAN, else its address, as tests/synth/model.py
# assigns them) into DIR/SITE.pcap, one capture per site; the site given
# * takes every other department, the unassigned and the malformed frames
# (the synthesizer makes some on purpose).  Records keep their order and
# bytes.  Non-zero when it fails.
central_split() {
	/usr/bin/python3 - "$@" <<'PYEOF'
import ipaddress, struct, sys
sys.path.insert(0, "tests/synth")
import model
src, out = sys.argv[1], sys.argv[2]
site, rest, names = {}, None, []
for arg in sys.argv[3:]:
    s, depts = arg.split("=", 1)
    names.append(s)
    if depts == "*":
        rest = s
    else:
        for dept in depts.split(","):
            site[dept] = s
if rest is None:
    sys.exit("central_split: no site takes the rest (SITE=*)")
data = open(src, "rb").read()
hdr, off = data[:24], 24
def dept_of(pkt):
    try:
        et, p, vlan = struct.unpack_from(">H", pkt, 12)[0], 14, None
        while et in (0x8100, 0x88a8):
            vlan = struct.unpack_from(">H", pkt, p)[0] & 0xfff
            et = struct.unpack_from(">H", pkt, p + 2)[0]
            p += 4
        addrs = []
        if et == 0x0800:
            addrs = [pkt[p + 12:p + 16], pkt[p + 16:p + 20]]
        elif et == 0x86dd:
            addrs = [pkt[p + 8:p + 24], pkt[p + 24:p + 40]]
        dept = model.UNASSIGNED
        if vlan is not None:
            dept = model.dept_of("0.0.0.0", vlan)
        for a in addrs:
            if dept != model.UNASSIGNED or len(a) not in (4, 16):
                break
            dept = model.dept_of(str(ipaddress.ip_address(a)), vlan)
        return dept
    except (struct.error, ValueError):
        return model.UNASSIGNED
files = {s: open(f"{out}/{s}.pcap", "wb") for s in names}
for f in files.values():
    f.write(hdr)
while off + 16 <= len(data):
    incl = struct.unpack_from("<I", data, off + 8)[0]
    rec = data[off:off + 16 + incl]
    off += 16 + incl
    files[site.get(dept_of(rec[16:]), rest)].write(rec)
for f in files.values():
    f.close()
PYEOF
}
