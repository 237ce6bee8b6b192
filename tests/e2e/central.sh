#!/bin/bash
# The central database (issue 12, docs/CENTRAL.md): a throwaway
# PostgreSQL 15 cluster (tests/central_lib.sh: a temporary directory, a
# Unix socket, nothing on the network, stopped and removed at exit) and
# `aicensus central` against it, run by an administrator role that owns
# the database and may create roles but is not a superuser:
#  - migrate refuses a database without the schema; init creates it at
#    the version the code knows; init and migrate again change nothing
#    (same schema dump, the version row not rewritten);
#  - add-site maps login roles to sites and refuses roles row-level
#    security would not hold (superuser, the tables' owner), unknown
#    roles and a second site for one role;
#  - a sensor's role writes and reads its own site's rows only: it can
#    insert and update A's rows, never insert, update or read B's, and
#    reads no released table; the reader role reads the released views
#    and nothing of a site's raw figures;
#  - a database of a newer schema version is refused by init, migrate
#    and add-site, and left as it was;
#  - no password, of any role, in any output.
# If the cluster cannot start that is a failure, never a skip.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CLI=$PWD/$BUILD/aicensus
fails=0

. tests/central_lib.sh

[ -x "$CLI" ] || { nok "$CLI is not built"; exit 1; }
d=$(mktemp -d /tmp/aic-central.XXXXXX)
trap 'pg_stop; rm -rf "$d"' EXIT
out=$d/out.log		# every output of every command below
: >"$out"

t0=$(date +%s)
if ! pg_start "$d" 2>>"$out"; then
	nok "a throwaway PostgreSQL 15 cluster starts in $d"
	tail -n 20 "$out"
	exit 1
fi
ok "a throwaway PostgreSQL 15 cluster starts on a Unix socket in $d ($(($(date +%s) - t0)) s)"

# Passwords made up for this run, so that finding one in the output
# means it leaked.
PW_ADMIN=$(pg_password) PW_A=$(pg_password) PW_B=$(pg_password) PW_BI=$(pg_password) PW_WRONG=$(pg_password)
SU="user=postgres password=$PG_SUPERPW dbname=postgres"
ADMIN="dbname=central user=aicadmin password=$PW_ADMIN"
ADMIN_URI="postgresql://aicadmin:$PW_ADMIN@/central?host=$PGHOST"
SITEA="dbname=central user=siteA password=$PW_A"
SITEB="dbname=central user=siteB password=$PW_B"
BI="dbname=central user=bi password=$PW_BI"

# sql CONNINFO SQL: psql's output and errors, also kept in $out.
sql() { pg_sql "$1" "$2" 2>&1 | tee -a "$out"; return "${PIPESTATUS[0]}"; }
# cli ARGS...: the CLI, its output in $last and $out, its status in $rc.
cli() { last=$("$CLI" "$@" 2>&1); rc=$?; printf '%s\n' "$last" >>"$out"; }

# The DBA's part: an administrator who owns the database and may create
# roles (not a superuser), the sensors' and the BI tool's login roles.
for s in "CREATE ROLE aicadmin LOGIN CREATEROLE PASSWORD '$PW_ADMIN'" \
    "CREATE DATABASE central OWNER aicadmin" \
    "CREATE ROLE \"siteA\" LOGIN PASSWORD '$PW_A'" \
    "CREATE ROLE \"siteB\" LOGIN PASSWORD '$PW_B'" \
    "CREATE ROLE bi LOGIN PASSWORD '$PW_BI'"; do
	sql "$SU" "$s" >/dev/null || nok "setup: $s"
done

# --- init and migrate ----------------------------------------------------

cli central migrate --db "$ADMIN"
check "migrate refuses a database without the schema (exit 1, says init)" \
	'[ $rc -eq 1 ] && [[ $last == *"aicensus central init"* ]]'
n=$(sql "$ADMIN" "SELECT count(*) FROM pg_namespace WHERE nspname = 'aicensus'")
check "... and creates nothing" [ "$n" = 0 ]

ver=$(sed -n 's/^#define CENTRAL_PG_VERSION[[:space:]]*\([0-9]*\).*/\1/p' daemon/store/central_pg.h)
cli central init --db "$ADMIN"
v=$(sql "$ADMIN" "SELECT value FROM aicensus.meta WHERE key = 'schema_version'")
check "init creates the schema at version $ver (exit 0, \"was 0: created\")" \
	'[ $rc -eq 0 ] && [ "$v" = "$ver" ] && [[ $last == *"(was 0: created)"* ]]'
objs=$(sql "$ADMIN" "SELECT string_agg(c.relname || ':' || c.relkind::text, ' '
    ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n
    ON n.oid = c.relnamespace WHERE n.nspname = 'aicensus'
    AND c.relkind IN ('r', 'v')")
want="blind:r cell:r dim:r meta:r period:r released_blind:v released_day:v released_periods:v released_week:v secret:r service:r site:r site_blind:r site_cell:r site_period:r site_role:r sites:v"
check "the schema has the site, release and view relations" [ "$objs" = "$want" ] ||
	echo "# got: $objs"
sp=$(sql "$ADMIN" "SELECT has_table_privilege('aicensus_reader', 'aicensus.secret', 'SELECT') OR
    has_table_privilege('aicensus_writer', 'aicensus.secret', 'SELECT') OR
    has_table_privilege('aicensus_writer', 'aicensus.secret', 'INSERT')")
check "the central secret (version 2) is the owner's: no privilege for the writer or reader role" [ "$sp" = f ]
r=$(sql "$ADMIN" "SELECT string_agg(rolname || ':' || rolcanlogin, ' ' ORDER BY rolname)
    FROM pg_roles WHERE rolname LIKE 'aicensus\_%'")
check "the group roles aicensus_reader and aicensus_writer exist, NOLOGIN" \
	[ "$r" = "aicensus_reader:false aicensus_writer:false" ]
rls=$(sql "$ADMIN" "SELECT string_agg(relname, ' ' ORDER BY relname) FROM pg_class
    WHERE relnamespace = 'aicensus'::regnamespace AND relrowsecurity")
check "row-level security is on for every site_* table and site" \
	[ "$rls" = "site site_blind site_cell site_period site_role" ]

# pg_dump 15.14 and later put a random \restrict key in every dump.
dump() { runuser -u postgres -- env PGPASSWORD="$PG_SUPERPW" PGHOST="$PGHOST" \
	"$PG_BIN/pg_dump" -s -d central 2>>"$out" | grep -Ev '^\\(un)?restrict '; }
dump >"$d/schema1.sql"
xmin1=$(sql "$ADMIN" "SELECT xmin FROM aicensus.meta WHERE key = 'schema_version'")
cli central migrate --db "$ADMIN"; rc1=$rc; l1=$last
cli central migrate --db "$ADMIN_URI"; rc2=$rc; l2=$last
cli central init --db "$ADMIN"; rc3=$rc
dump >"$d/schema2.sql"
xmin2=$(sql "$ADMIN" "SELECT xmin FROM aicensus.meta WHERE key = 'schema_version'")
check "migrate twice (keywords, then a URI) and init again: exit 0, \"nothing to do\"" \
	'[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ] &&
	[[ $l1 == *"nothing to do"* ]] && [[ $l2 == *"nothing to do"* ]]'
same=no
[ -s "$d/schema1.sql" ] && cmp -s "$d/schema1.sql" "$d/schema2.sql" &&
	[ -n "$xmin1" ] && [ "$xmin1" = "$xmin2" ] && same=yes
check "... the same schema dump ($(wc -l <"$d/schema1.sql") lines) and the version row not rewritten" \
	[ $same = yes ] || { echo "# xmin $xmin1 -> $xmin2"; diff "$d/schema1.sql" "$d/schema2.sql" | head; }

# A step that fails half way leaves nothing: an enum type squats the name
# of the step's last view, so everything before it must roll back.
sql "$SU" "CREATE DATABASE central2 OWNER aicadmin" >/dev/null
sql "dbname=central2 user=aicadmin password=$PW_ADMIN" "CREATE SCHEMA aicensus;
    CREATE TYPE aicensus.sites AS ENUM ('x')" >/dev/null
cli central init --db "dbname=central2 user=aicadmin password=$PW_ADMIN"
n=$(sql "dbname=central2 user=aicadmin password=$PW_ADMIN" "SELECT count(*) FROM pg_class
    WHERE relnamespace = 'aicensus'::regnamespace")
check "a migration step that fails rolls back whole (exit 1, no table left behind)" \
	'[ $rc -eq 1 ] && [[ $last == *"migration to version 1"* ]] && [ "$n" = 0 ]'
sql "dbname=central2 user=aicadmin password=$PW_ADMIN" "CREATE TABLE aicensus.t(x int)" >/dev/null
cli central migrate --db "dbname=central2 user=aicadmin password=$PW_ADMIN"
check "a schema aicensus that aicensus did not make is refused" \
	'[ $rc -eq 1 ] && [[ $last == *"not made by aicensus"* ]]'

# --- the command line ----------------------------------------------------

cli central; a=$rc
cli central frobnicate --db "$ADMIN"; b=$rc
cli central init; c=$rc
cli central add-site --db "$ADMIN" 'bad site' siteA; e=$rc
cli central add-site --db "$ADMIN" A pg_monitor; f=$rc
check "usage errors exit 2 (no subcommand, unknown one, no --db, bad site or role name)" \
	[ "$a $b $c $e $f" = "2 2 2 2 2" ]

# --- sites and roles -----------------------------------------------------

cli central add-site --db "$ADMIN" A siteA; a=$rc
cli central add-site --db "$ADMIN" B siteB; b=$rc
m=$(sql "$ADMIN" "SELECT string_agg(role || '=' || site, ' ' ORDER BY role) FROM aicensus.site_role")
w=$(sql "$ADMIN" "SELECT pg_has_role('siteA', 'aicensus_writer', 'MEMBER') AND
    pg_has_role('siteB', 'aicensus_writer', 'MEMBER')")
check "add-site maps siteA to A and siteB to B and makes them writers" \
	'[ "$a $b" = "0 0" ] && [ "$m" = "siteA=A siteB=B" ] && [ "$w" = t ]'
cli central add-site --db "$ADMIN" A siteA
check "add-site again is a no-op (exit 0, \"already mapped\")" \
	'[ $rc -eq 0 ] && [[ $last == *"already mapped"* ]]'
cli central add-site --db "$ADMIN" B siteA; a=$rc; la=$last
cli central add-site --db "$ADMIN" C postgres; b=$rc; lb=$last
cli central add-site --db "$ADMIN" C aicadmin; c=$rc; lc=$last
cli central add-site --db "$ADMIN" C nosuchrole; e=$rc; le=$last
n=$(sql "$ADMIN" "SELECT count(*) FROM aicensus.site WHERE name = 'C'")
check "add-site refuses a second site for a role, a superuser, the owner, an unknown role (exit 1, nothing added)" \
	'[ "$a $b $c $e $n" = "1 1 1 1 0" ] && [[ $la == *"already writes for site A"* ]] &&
	[[ $lb == *BYPASSRLS* ]] && [[ $lc == *"owns the central tables"* ]] &&
	[[ $le == *"does not exist"* ]]'
sql "$ADMIN" "GRANT aicensus_reader TO bi" >/dev/null

# --- the writer: its own site only ---------------------------------------

cell() {	# site period devices: an upsert as a sensor would ship it
	echo "INSERT INTO aicensus.site_cell(site, kind, period, dept, svc,
	    devices, conns) VALUES ('$1', 2, $2, 'Finance', 'chat-one', $3, 10)
	    ON CONFLICT (site, kind, period, dept, svc) DO UPDATE
	    SET devices = EXCLUDED.devices, updated_at = now()"
}
sql "$SITEA" "$(cell A 202647 5)" >/dev/null; a=$?
sql "$SITEA" "$(cell A 202647 7)" >/dev/null; b=$?
sql "$SITEA" "UPDATE aicensus.site_cell SET conns = 12 WHERE site = 'A'" >/dev/null; c=$?
sql "$SITEA" "UPDATE aicensus.site SET last_seen = now() WHERE name = 'A'" >/dev/null; e=$?
v=$(sql "$ADMIN" "SELECT devices || '/' || conns FROM aicensus.site_cell WHERE site = 'A'")
check "siteA inserts, upserts and updates A's rows (devices 5 -> 7, conns 10 -> 12)" \
	'[ "$a $b $c $e" = "0 0 0 0" ] && [ "$v" = "7/12" ]'
sql "$SITEB" "$(cell B 202647 4)" >/dev/null; b=$?
sql "$SITEB" "INSERT INTO aicensus.site_blind VALUES ('B', 20261118, 'lost', 3)" >/dev/null
check "siteB inserts B's rows" [ $b -eq 0 ]

e1=$(sql "$SITEA" "$(cell B 202647 99)"); r1=$?
e2=$(sql "$SITEA" "INSERT INTO aicensus.site_blind VALUES ('B', 20261118, 'late', 1)"); r2=$?
e3=$(sql "$SITEA" "INSERT INTO aicensus.site_period VALUES ('B', 2, 202647, 1, 168)"); r3=$?
check "siteA's INSERT or upsert of a B row fails (row-level security)" \
	'[ $r1 -ne 0 ] && [ $r2 -ne 0 ] && [ $r3 -ne 0 ] &&
	[[ $e1 == *"row-level security"* ]] && [[ $e2 == *"row-level security"* ]] &&
	[[ $e3 == *"row-level security"* ]]'
u1=$(sql "$SITEA" "WITH u AS (UPDATE aicensus.site_cell SET devices = 99 WHERE site = 'B'
    RETURNING 1) SELECT count(*) FROM u"); r1=$?
e2=$(sql "$SITEA" "UPDATE aicensus.site_cell SET site = 'B' WHERE site = 'A'"); r2=$?
u3=$(sql "$SITEA" "WITH u AS (UPDATE aicensus.site SET last_seen = now() WHERE name = 'B'
    RETURNING 1) SELECT count(*) FROM u")
v=$(sql "$ADMIN" "SELECT string_agg(site || ':' || devices, ' ' ORDER BY site) FROM aicensus.site_cell")
check "siteA's UPDATE of B's rows changes nothing, moving its row to B fails" \
	'[ $r1 -eq 0 ] && [ "$u1" = 0 ] && [ "$u3" = 0 ] && [ $r2 -ne 0 ] &&
	[[ $e2 == *"row-level security"* ]] && [ "$v" = "A:7 B:4" ]'
ra=$(sql "$SITEA" "SELECT string_agg(DISTINCT site, ',') FROM aicensus.site_cell")
rb=$(sql "$SITEA" "SELECT count(*) FROM aicensus.site_blind")
rs=$(sql "$SITEA" "SELECT string_agg(name, ',') FROM aicensus.site")
rr=$(sql "$SITEA" "SELECT string_agg(role, ',') FROM aicensus.site_role")
check "siteA reads only A's rows (cells: $ra, B's blind rows: $rb, sites: $rs, mappings: $rr)" \
	'[ "$ra" = A ] && [ "$rb" = 0 ] && [ "$rs" = A ] && [ "$rr" = siteA ]'
n=$(sql "$SITEA" "SET ROLE aicensus_writer; SELECT count(*) FROM aicensus.site_cell")
check "a sensor that SET ROLE aicensus_writer is mapped to no site and reads nothing" \
	[ "$n" = 0 ]
e1=$(sql "$SITEA" "DELETE FROM aicensus.site_cell WHERE site = 'A'"); r1=$?
check "siteA cannot delete even its own rows (permission denied)" \
	'[ $r1 -ne 0 ] && [[ $e1 == *"permission denied"* ]]'
e1=$(sql "$SITEA" "UPDATE aicensus.site SET late_rows = 0 WHERE name = 'A'"); r1=$?
c=$(sql "$ADMIN" "SELECT count(*) FROM information_schema.columns
    WHERE table_schema = 'aicensus' AND table_name = 'site' AND column_name = 'coverage_hours'")
check "siteA may set its last_seen only: not its late_rows (permission denied); site has no coverage_hours ($c)" \
	'[ $r1 -ne 0 ] && [[ $e1 == *"permission denied"* ]] && [ "$c" = 0 ]'

# --- released figures: what the release stage would write ---------------

sql "$ADMIN" "INSERT INTO aicensus.period VALUES (2, 202647, 202647, 1795651200, 160, 168, 1, 5),
    (1, 20261118, 202647, 1795478400, 24, 24, 1, 5)" >/dev/null
sql "$ADMIN" "INSERT INTO aicensus.service VALUES ('chat-one', 'Chat One', 'Example', 'chat', 'US', 1)" >/dev/null
sql "$ADMIN" "INSERT INTO aicensus.cell VALUES
    (2, 202647, 'Finance', 'chat-one', 10, 40, 7, 2, 0, 9, 30, 1, 1000, 5000),
    (2, 202647, '*', 'cat:chat', 12, 48, 8, 2, 0, 10, 33, 1, 1100, 5200),
    (1, 20261118, '*', 'chat-one', 5, 9, NULL, NULL, NULL, 4, 12, 0, NULL, NULL)" >/dev/null
sql "$ADMIN" "INSERT INTO aicensus.blind VALUES (20261118, 'lost', 0)" >/dev/null

denied=0 total=0
for rel in cell period dim service blind released_week released_day released_blind \
    released_periods; do
	total=$((total + 1))
	e=$(sql "$SITEA" "SELECT count(*) FROM aicensus.$rel") ||
		[[ $e != *"permission denied"* ]] || denied=$((denied + 1))
done
check "siteA cannot read any released table or view ($denied of $total denied)" \
	[ $denied -eq $total ]

w=$(sql "$BI" "SELECT week, week_start, coalesce(department, '*'), service_level,
    coalesce(service_id, '-'), coalesce(service, '-'), category, sanctioned, devices,
    device_hours, connections, bytes_down, complete FROM aicensus.released_week
    ORDER BY service_level DESC")
want="2026-W47|2026-11-16|Finance|service|chat-one|Chat One|chat|t|10|40|9|5000|t
2026-W47|2026-11-16|*|category|-|-|chat||12|48|10|5200|t"
check "the reader reads aicensus.released_week with readable names" [ "$w" = "$want" ] ||
	printf '# got:\n%s\n# want:\n%s\n' "$w" "$want"
w=$(sql "$BI" "SELECT day, week, service_level, devices, coalesce(tls_conns::text, 'null'),
    dns_lookups FROM aicensus.released_day")
check "the reader reads aicensus.released_day (a figure days do not publish is NULL)" \
	[ "$w" = "2026-11-18|2026-W47|service|5|null|12" ]
# The sites' scopes: A has the organisation's last week (24 of its 168
# hours), B only the week before: B is silent for the last week.
sql "$ADMIN" "INSERT INTO aicensus.period(site, kind, period, week, released_at, coverage_hours,
    hours_total, complete, min_group) VALUES ('A', 2, 202647, 202647, 1795651200, 24, 168, 1, 5),
    ('B', 2, 202646, 202646, 1795046400, 100, 168, 1, 5)" >/dev/null
w=$(sql "$BI" "SELECT string_agg(concat_ws(':', site, coalesce(week, '-'), coverage_hours,
    hours_total, silent, last_seen IS NOT NULL, hours_since_seen, late_rows), ' ' ORDER BY site)
    FROM aicensus.sites")
b=$(sql "$BI" "SELECT day || ':' || name || '=' || value FROM aicensus.released_blind")
p=$(sql "$BI" "SELECT string_agg(kind || ':' || period, ' ' ORDER BY kind) FROM aicensus.released_periods
    WHERE site = '*'")
check "the reader reads aicensus.sites (the last released week of each site's scope, B silent), released_blind and released_periods ($w)" \
	'[ "$w" = "A:2026-W47:24:168:f:t:0:0 B:2026-W46:100:168:t:f:0" ] &&
	[ "$b" = "2026-11-18:lost=0" ] && [ "$p" = "day:20261118 week:2026-W47" ]'
denied=0 total=0
for s in "SELECT * FROM aicensus.site_cell" "SELECT * FROM aicensus.site_blind" \
    "SELECT * FROM aicensus.site" "SELECT * FROM aicensus.site_period" \
    "SELECT * FROM aicensus.site_role" \
    "INSERT INTO aicensus.cell(kind, period, dept, svc) VALUES (2, 202647, 'x', 'y')" \
    "UPDATE aicensus.cell SET devices = 0"; do
	total=$((total + 1))
	e=$(sql "$BI" "$s") || [[ $e != *"permission denied"* ]] || denied=$((denied + 1))
done
check "the reader cannot read site_cell, site_blind or any site table, nor write released ones ($denied of $total denied)" \
	[ $denied -eq $total ]

# --- a newer database ----------------------------------------------------

newer=$((ver + 1))
sql "$ADMIN" "UPDATE aicensus.meta SET value = '$newer' WHERE key = 'schema_version'" >/dev/null
dump >"$d/schema3.sql"
cli central migrate --db "$ADMIN"; a=$rc; la=$last
cli central init --db "$ADMIN"; b=$rc
cli central add-site --db "$ADMIN" D siteB; c=$rc
dump >"$d/schema4.sql"
v=$(sql "$ADMIN" "SELECT value FROM aicensus.meta WHERE key = 'schema_version'")
check "a database at version $newer is refused by migrate, init and add-site (exit 1, \"upgrade aicensus\")" \
	'[ "$a $b $c" = "1 1 1" ] && [[ $la == *"schema version $newer"*"upgrade aicensus"* ]]'
check "... and left as it was" '[ "$v" = "$newer" ] && cmp -s "$d/schema3.sql" "$d/schema4.sql"'
sql "$ADMIN" "UPDATE aicensus.meta SET value = '$ver' WHERE key = 'schema_version'" >/dev/null

# --- secrets -------------------------------------------------------------

cli central init --db "dbname=central user=aicadmin password=$PW_WRONG"; a=$rc; la=$last
cli central migrate --db "postgresql://aicadmin:$PW_WRONG@/central?host=$PGHOST"; b=$rc
cli central init --db "dbname=central user=aicadmin password='$PW_WRONG"; c=$rc; lc=$last
cli central add-site --db "host=$d/nowhere dbname=central user=aicadmin password=$PW_WRONG" A siteA; e=$rc
check "a wrong password, an unparseable string and no server: exit 1 with the connection named" \
	'[ "$a $b $c $e" = "1 1 1 1" ] && [[ $la == *"cannot connect to dbname=central user=aicadmin"* ]] &&
	[[ $lc == *"not shown"* ]]'
leaks=
for s in "$PG_SUPERPW" "$PW_ADMIN" "$PW_A" "$PW_B" "$PW_BI" "$PW_WRONG"; do
	grep -qF -- "$s" "$out" && leaks="$leaks ${s:0:3}..."
done
check "no password in any output ($(wc -l <"$out") lines)" [ -z "$leaks" ] ||
	echo "# leaked:$leaks"

# --- nothing left behind -------------------------------------------------

pg_stop
left=$(pgrep -f -- "$d/pg/data" || true)
check "the cluster stops and leaves no process and no socket" \
	'[ -z "$left" ] && [ ! -e "$d/sock/.s.PGSQL.5432" ]'
exit $((fails > 0))
