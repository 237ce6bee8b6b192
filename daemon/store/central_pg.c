/*
 * central_pg.c - the central database's schema, its migration ladder
 * and the site-to-role mapping (central_pg.h); every SQL statement that
 * shapes the central database is here.
 *
 * Two halves, one schema.  The site side (site, site_role, site_period,
 * site_cell, site_blind) holds each site's raw per-cell figures as its
 * sensor ships them; only the administrator and, row by row, the site's
 * own writer role see them.  The release side (period, dim, service,
 * cell, blind, meta) has the tables and columns of the SQLite release
 * database (relstore_sqlite.c), so that a PostgreSQL backend of
 * store/relstore.h is the same few operations over the same rows; the
 * reader role sees only those and the views over them.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>
#include <openssl/rand.h>

#include "store/central_pg.h"

/* pg_advisory_xact_lock key of the ladder: "aice" in ASCII. */
#define LADDER_LOCK	"1634296677"

#define NSECRET		3	/* password, sslpassword, $PGPASSWORD */

struct central {
	PGconn	*conn;
	char	 name[256];		/* central_pg_describe() of it */
	char	*secret[NSECRET];	/* blanked out of messages */
};

/*
 * The ladder: step[i] takes the schema from version i to i + 1, inside
 * the transaction climb() opens; climb() then records i + 1.  A step is
 * never edited once released: a change is a new step.
 */

/* The site side: what sensors ship, row-level security per site. */
#define STEP1_SITE \
    "CREATE TABLE aicensus.site(" \
    " name text PRIMARY KEY" \
    "  CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$')," \
    " created timestamptz NOT NULL DEFAULT now()," \
    " last_seen timestamptz," \
    " coverage_hours bigint NOT NULL DEFAULT 0" \
    "  CHECK (coverage_hours >= 0));" \
    "CREATE TABLE aicensus.site_role(" \
    " role text PRIMARY KEY," \
    " site text NOT NULL REFERENCES aicensus.site(name)" \
    "  ON DELETE CASCADE);" \
    "CREATE INDEX site_role_site ON aicensus.site_role(site);" \
    "CREATE TABLE aicensus.site_period(" \
    " site text NOT NULL REFERENCES aicensus.site(name)," \
    " kind smallint NOT NULL CHECK (kind IN (1, 2))," \
    " period integer NOT NULL," \
    " coverage_hours integer NOT NULL CHECK (coverage_hours >= 0)," \
    " hours_total integer NOT NULL CHECK (hours_total >= 0)," \
    " PRIMARY KEY (site, kind, period));" \
    "CREATE TABLE aicensus.site_cell(" \
    " site text NOT NULL REFERENCES aicensus.site(name)," \
    " kind smallint NOT NULL CHECK (kind IN (1, 2))," \
    " period integer NOT NULL," \
    " dept text NOT NULL," \
    " svc text NOT NULL," \
    " devices bigint NOT NULL DEFAULT 0 CHECK (devices >= 0)," \
    " device_hours bigint NOT NULL DEFAULT 0 CHECK (device_hours >= 0)," \
    " tls bigint NOT NULL DEFAULT 0 CHECK (tls >= 0)," \
    " quic bigint NOT NULL DEFAULT 0 CHECK (quic >= 0)," \
    " ech bigint NOT NULL DEFAULT 0 CHECK (ech >= 0)," \
    " conns bigint NOT NULL DEFAULT 0 CHECK (conns >= 0)," \
    " dns bigint NOT NULL DEFAULT 0 CHECK (dns >= 0)," \
    " nxdomain bigint NOT NULL DEFAULT 0 CHECK (nxdomain >= 0)," \
    " bytes_up bigint NOT NULL DEFAULT 0 CHECK (bytes_up >= 0)," \
    " bytes_down bigint NOT NULL DEFAULT 0 CHECK (bytes_down >= 0)," \
    " updated_at timestamptz NOT NULL DEFAULT now()," \
    " PRIMARY KEY (site, kind, period, dept, svc));" \
    "CREATE TABLE aicensus.site_blind(" \
    " site text NOT NULL REFERENCES aicensus.site(name)," \
    " day integer NOT NULL," \
    " name text NOT NULL," \
    " value bigint NOT NULL CHECK (value >= 0)," \
    " PRIMARY KEY (site, day, name));"

/*
 * A writer sees and writes the rows of the sites its login role is
 * mapped to, nothing else; the mapping row of its own role is all it
 * reads of site_role (the policies below read it as the writer).  The
 * owner is not subject to these policies (no FORCE): the administrator
 * and the release stage see every site.  No DELETE is granted: a
 * sensor replaces its figures, it never removes a cell.
 */
#define OWN_SITE(col) \
    "(" col " IN (SELECT r.site FROM aicensus.site_role r" \
    " WHERE r.role = current_user::text))"
#define STEP1_RLS \
    "ALTER TABLE aicensus.site ENABLE ROW LEVEL SECURITY;" \
    "ALTER TABLE aicensus.site_role ENABLE ROW LEVEL SECURITY;" \
    "ALTER TABLE aicensus.site_period ENABLE ROW LEVEL SECURITY;" \
    "ALTER TABLE aicensus.site_cell ENABLE ROW LEVEL SECURITY;" \
    "ALTER TABLE aicensus.site_blind ENABLE ROW LEVEL SECURITY;" \
    "CREATE POLICY own_role ON aicensus.site_role FOR SELECT" \
    " TO aicensus_writer USING (role = current_user::text);" \
    "CREATE POLICY own_site ON aicensus.site FOR ALL TO aicensus_writer" \
    " USING " OWN_SITE("name") " WITH CHECK " OWN_SITE("name") ";" \
    "CREATE POLICY own_site ON aicensus.site_period FOR ALL" \
    " TO aicensus_writer" \
    " USING " OWN_SITE("site") " WITH CHECK " OWN_SITE("site") ";" \
    "CREATE POLICY own_site ON aicensus.site_cell FOR ALL" \
    " TO aicensus_writer" \
    " USING " OWN_SITE("site") " WITH CHECK " OWN_SITE("site") ";" \
    "CREATE POLICY own_site ON aicensus.site_blind FOR ALL" \
    " TO aicensus_writer" \
    " USING " OWN_SITE("site") " WITH CHECK " OWN_SITE("site") ";" \
    "GRANT SELECT ON aicensus.site_role TO aicensus_writer;" \
    "GRANT SELECT, UPDATE (last_seen, coverage_hours) ON aicensus.site" \
    " TO aicensus_writer;" \
    "GRANT SELECT, INSERT, UPDATE ON aicensus.site_period," \
    " aicensus.site_cell, aicensus.site_blind TO aicensus_writer;"

/* The release side: relstore_sqlite.c's tables and columns. */
#define STEP1_RELEASE \
    "CREATE TABLE aicensus.period(" \
    " kind smallint NOT NULL CHECK (kind IN (1, 2))," \
    " period integer NOT NULL," \
    " week integer NOT NULL," \
    " released_at bigint NOT NULL," \
    " coverage_hours bigint NOT NULL," \
    " hours_total bigint NOT NULL," \
    " complete smallint NOT NULL," \
    " min_group integer NOT NULL," \
    " PRIMARY KEY (kind, period));" \
    "CREATE TABLE aicensus.dim(" \
    " kind smallint NOT NULL," \
    " period integer NOT NULL," \
    " axis smallint NOT NULL," \
    " ord integer NOT NULL," \
    " name text NOT NULL," \
    " PRIMARY KEY (kind, period, axis, ord));" \
    "CREATE TABLE aicensus.service(" \
    " sid text PRIMARY KEY, name text, vendor text, category text," \
    " jurisdiction text, sanctioned smallint);" \
    "CREATE TABLE aicensus.cell(" \
    " kind smallint NOT NULL," \
    " period integer NOT NULL," \
    " dept text NOT NULL," \
    " svc text NOT NULL," \
    " devices bigint, devhours bigint, tls bigint, quic bigint," \
    " ech bigint, conns bigint, dns bigint, nxdomain bigint," \
    " bytes_up bigint, bytes_down bigint," \
    " PRIMARY KEY (kind, period, dept, svc));" \
    "CREATE TABLE aicensus.blind(" \
    " day integer NOT NULL," \
    " name text NOT NULL," \
    " value bigint NOT NULL," \
    " PRIMARY KEY (day, name));" \
    "GRANT SELECT ON aicensus.period, aicensus.dim, aicensus.service," \
    " aicensus.cell, aicensus.blind TO aicensus_reader;"

/*
 * Views for BI tools: released cells only, joined to their period and
 * service, with the names the API and `aicensus query` use.  The level
 * columns say which rows are totals of others, so a tool that sums
 * rows can filter them out.
 */
#define CELL_VIEW_COLS CELL_VIEW_SEL CELL_VIEW_FROM1
#define CELL_VIEW_SEL \
    " NULLIF(c.dept, '*') AS department," \
    " c.dept = '*' AS all_departments," \
    " CASE WHEN c.svc = '*' THEN 'all'" \
    "  WHEN c.svc LIKE 'cat:%' THEN 'category' ELSE 'service' END" \
    "  AS service_level," \
    " CASE WHEN c.svc = '*' OR c.svc LIKE 'cat:%' THEN NULL" \
    "  ELSE c.svc END AS service_id," \
    " s.name AS service," \
    " CASE WHEN c.svc LIKE 'cat:%' THEN substr(c.svc, 5)" \
    "  ELSE s.category END AS category," \
    " s.vendor, s.jurisdiction, s.sanctioned = 1 AS sanctioned," \
    " c.devices, c.devhours AS device_hours, c.tls AS tls_conns," \
    " c.quic AS quic_conns, c.ech AS ech_conns, c.conns AS connections," \
    " c.dns AS dns_lookups, c.nxdomain AS dns_nxdomain, c.bytes_up," \
    " c.bytes_down, p.coverage_hours, p.hours_total," \
    " p.complete = 1 AS complete, to_timestamp(p.released_at)" \
    "  AS released_at"
#define CELL_VIEW_FROM1 \
    " FROM aicensus.cell c" \
    " JOIN aicensus.period p ON p.kind = c.kind AND p.period = c.period" \
    " LEFT JOIN aicensus.service s ON s.sid = c.svc"
#define ISO_WEEK(col) \
    "format('%s-W%s', " col " / 100, lpad((" col " % 100)::text, 2, '0'))"
#define STEP1_VIEWS \
    "CREATE VIEW aicensus.released_week AS SELECT" \
    " " ISO_WEEK("c.period") " AS week," \
    " to_date(" ISO_WEEK("c.period") ", 'IYYY-\"W\"IW') AS week_start," \
    CELL_VIEW_COLS " WHERE c.kind = 2;" \
    "CREATE VIEW aicensus.released_day AS SELECT" \
    " to_date(c.period::text, 'YYYYMMDD') AS day," \
    " " ISO_WEEK("p.week") " AS week," \
    CELL_VIEW_COLS " WHERE c.kind = 1;" \
    "CREATE VIEW aicensus.released_blind AS SELECT" \
    " to_date(b.day::text, 'YYYYMMDD') AS day, b.name, b.value" \
    " FROM aicensus.blind b JOIN aicensus.period p" \
    "  ON p.kind = 1 AND p.period = b.day;" \
    "CREATE VIEW aicensus.released_periods AS SELECT" \
    " CASE p.kind WHEN 1 THEN 'day' ELSE 'week' END AS kind," \
    " CASE p.kind WHEN 1 THEN p.period::text" \
    "  ELSE " ISO_WEEK("p.period") " END AS period," \
    " " ISO_WEEK("p.week") " AS week," \
    " to_timestamp(p.released_at) AS released_at, p.coverage_hours," \
    " p.hours_total, p.complete = 1 AS complete," \
    " p.min_group AS min_group_size FROM aicensus.period p;" \
    "CREATE VIEW aicensus.sites AS SELECT" \
    " name AS site, created, last_seen, coverage_hours," \
    " floor(extract(epoch FROM now() - last_seen) / 3600)::bigint" \
    "  AS hours_since_seen FROM aicensus.site;" \
    "GRANT SELECT ON aicensus.released_week, aicensus.released_day," \
    " aicensus.released_blind, aicensus.released_periods, aicensus.sites" \
    " TO aicensus_reader;"

/*
 * Version 1.  The group roles are cluster-wide, so another database of
 * the same cluster may have made them: an existing one is taken only
 * when it cannot log in and cannot bypass row-level security.
 */
static const char step1[] =
    "DO $$ BEGIN"
    " IF NOT EXISTS (SELECT 1 FROM pg_roles"
    "  WHERE rolname = '" CENTRAL_PG_WRITER "') THEN"
    "  CREATE ROLE " CENTRAL_PG_WRITER " NOLOGIN;"
    " END IF;"
    " IF NOT EXISTS (SELECT 1 FROM pg_roles"
    "  WHERE rolname = '" CENTRAL_PG_READER "') THEN"
    "  CREATE ROLE " CENTRAL_PG_READER " NOLOGIN;"
    " END IF;"
    " IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname IN ('"
    CENTRAL_PG_WRITER "', '" CENTRAL_PG_READER "')"
    "  AND (rolcanlogin OR rolsuper OR rolbypassrls)) THEN"
    "  RAISE EXCEPTION 'role " CENTRAL_PG_WRITER " or " CENTRAL_PG_READER
    " exists but can log in or bypass row-level security; it must be a"
    " NOLOGIN group role';"
    " END IF;"
    "END $$;"
    "CREATE SCHEMA IF NOT EXISTS aicensus;"
    "REVOKE ALL ON SCHEMA aicensus FROM PUBLIC;"
    "GRANT USAGE ON SCHEMA aicensus TO " CENTRAL_PG_WRITER ", "
    CENTRAL_PG_READER ";"
    "CREATE TABLE aicensus.meta(key text PRIMARY KEY, value text NOT NULL);"
    "INSERT INTO aicensus.meta VALUES ('method', 'ckm-1');"
    "GRANT SELECT ON aicensus.meta TO " CENTRAL_PG_WRITER ", "
    CENTRAL_PG_READER ";"
    STEP1_SITE STEP1_RLS STEP1_RELEASE STEP1_VIEWS;

/*
 * Version 2: the central secret, the key of the central cell keys
 * (central_pg_secret()).  Owner only: REVOKE from PUBLIC says so even
 * where a DBA granted default privileges on the schema.  One row at
 * most; the first central release fills it.
 */
static const char step2[] =
    "CREATE TABLE aicensus.secret("
    " id smallint PRIMARY KEY CHECK (id = 1),"
    " key bytea NOT NULL CHECK (length(key) = 16),"
    " created timestamptz NOT NULL DEFAULT now());"
    "REVOKE ALL ON aicensus.secret FROM PUBLIC, " CENTRAL_PG_WRITER ", "
    CENTRAL_PG_READER ";";

/*
 * Version 3: release scopes (docs/CENTRAL.md, "Scopes").  Every
 * release-side row belongs to one scope: "*" the organisation, or a
 * site's name; the rows a version 2 database holds were the
 * organisation's.  The views are replaced in place with the scope as a
 * last column (CREATE OR REPLACE keeps their grants and whatever a BI
 * tool built on them) and join period rows of the same scope only.
 * The method names the central release's (devices summed per site).
 * site.late_rows counts the rows a sensor shipped for a period already
 * released (deleted, never published); the writer role cannot change
 * it (its UPDATE grant is per column).
 *
 * site.coverage_hours goes: no sensor ever wrote it (a site's coverage
 * is its site_period rows, and once released its scope's period rows).
 * The sites view depends on it, so the view is dropped and made again,
 * and granted again (the reader's grant went with it); the writer's
 * column grant on it goes with the column.  The view now says what the
 * released weeks say of each site: its last released week with that
 * week's coverage, and whether it is silent (central_read.h: no
 * released period of its scope for the organisation's last released
 * week, or coverage 0).
 */
#define SCOPE_COL(t, cols) \
    "ALTER TABLE aicensus." t " ADD COLUMN site text NOT NULL DEFAULT '*'" \
    " CHECK (site = '*' OR" \
    "  site ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$');" \
    "ALTER TABLE aicensus." t " DROP CONSTRAINT " t "_pkey," \
    " ADD PRIMARY KEY (site, " cols ");"
#define CELL_VIEW_FROM3 \
    " FROM aicensus.cell c" \
    " JOIN aicensus.period p ON p.site = c.site AND p.kind = c.kind" \
    "  AND p.period = c.period" \
    " LEFT JOIN aicensus.service s ON s.sid = c.svc"
static const char step3[] =
    SCOPE_COL("period", "kind, period")
    SCOPE_COL("dim", "kind, period, axis, ord")
    SCOPE_COL("cell", "kind, period, dept, svc")
    SCOPE_COL("blind", "day, name")
    "ALTER TABLE aicensus.site ADD COLUMN late_rows bigint NOT NULL"
    " DEFAULT 0 CHECK (late_rows >= 0);"
    "UPDATE aicensus.meta SET value = 'ckm-central-1' WHERE key = 'method';"
    "CREATE OR REPLACE VIEW aicensus.released_week AS SELECT"
    " " ISO_WEEK("c.period") " AS week,"
    " to_date(" ISO_WEEK("c.period") ", 'IYYY-\"W\"IW') AS week_start,"
    CELL_VIEW_SEL ", c.site" CELL_VIEW_FROM3 " WHERE c.kind = 2;"
    "CREATE OR REPLACE VIEW aicensus.released_day AS SELECT"
    " to_date(c.period::text, 'YYYYMMDD') AS day,"
    " " ISO_WEEK("p.week") " AS week,"
    CELL_VIEW_SEL ", c.site" CELL_VIEW_FROM3 " WHERE c.kind = 1;"
    "CREATE OR REPLACE VIEW aicensus.released_blind AS SELECT"
    " to_date(b.day::text, 'YYYYMMDD') AS day, b.name, b.value, b.site"
    " FROM aicensus.blind b JOIN aicensus.period p"
    "  ON p.site = b.site AND p.kind = 1 AND p.period = b.day;"
    "CREATE OR REPLACE VIEW aicensus.released_periods AS SELECT"
    " CASE p.kind WHEN 1 THEN 'day' ELSE 'week' END AS kind,"
    " CASE p.kind WHEN 1 THEN p.period::text"
    "  ELSE " ISO_WEEK("p.period") " END AS period,"
    " " ISO_WEEK("p.week") " AS week,"
    " to_timestamp(p.released_at) AS released_at, p.coverage_hours,"
    " p.hours_total, p.complete = 1 AS complete,"
    " p.min_group AS min_group_size, p.site FROM aicensus.period p;"
    "DROP VIEW aicensus.sites;"
    "ALTER TABLE aicensus.site DROP COLUMN coverage_hours;"
    "CREATE VIEW aicensus.sites AS SELECT"
    " s.name AS site, s.created, s.last_seen,"
    " floor(extract(epoch FROM now() - s.last_seen) / 3600)::bigint"
    "  AS hours_since_seen, s.late_rows,"
    " CASE WHEN w.period IS NOT NULL THEN " ISO_WEEK("w.period") " END"
    "  AS week,"
    " w.coverage_hours, w.hours_total,"
    " NOT coalesce(w.period = o.period AND w.coverage_hours > 0, false)"
    "  AS silent"
    " FROM aicensus.site s"
    " LEFT JOIN LATERAL (SELECT p.period, p.coverage_hours, p.hours_total"
    "  FROM aicensus.period p WHERE p.site = s.name AND p.kind = 2"
    "  ORDER BY p.period DESC LIMIT 1) w ON true"
    " CROSS JOIN (SELECT max(m.period) AS period FROM aicensus.period m"
    "  WHERE m.site = '*' AND m.kind = 2) o;"
    "GRANT SELECT ON aicensus.sites TO " CENTRAL_PG_READER ";";

static const char *const ladder[CENTRAL_PG_VERSION] = { step1, step2, step3 };

/* ---- messages without secrets -------------------------------------- */

/* libpq's string forms: what it would parse as a connection string. */
static int
is_conninfo(const char *s)
{
	return strchr(s, '=') != NULL ||
	    strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0;
}

void
central_pg_describe(const char *conninfo, char *buf, size_t len)
{
	static const char *const keep[] = {
		"host", "hostaddr", "port", "dbname", "user", "sslmode", NULL
	};
	PQconninfoOption *opts, *o;
	char *perr = NULL;
	size_t n = 0;
	int i;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (!is_conninfo(conninfo)) {
		/* libpq takes it as a database name: no secret in it. */
		snprintf(buf, len, "%s%s", conninfo[0] ? "dbname=" :
		    "(libpq defaults)", conninfo);
		return;
	}
	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		PQfreemem(perr);
		snprintf(buf, len, "(a connection string libpq cannot parse)");
		return;
	}
	for (i = 0; keep[i] != NULL; i++)
		for (o = opts; o->keyword != NULL; o++) {
			if (strcmp(o->keyword, keep[i]) != 0 ||
			    o->val == NULL || o->val[0] == '\0' ||
			    strchr(o->val, '=') != NULL)
				continue;
			if (n < len)
				n += (size_t)snprintf(buf + n, len - n,
				    "%s%s=%s", n ? " " : "", o->keyword,
				    o->val);
		}
	PQconninfoFree(opts);
	if (buf[0] == '\0')
		snprintf(buf, len, "(libpq defaults)");
}

/*
 * src into dst on one line, with every secret of the connection string
 * replaced by "***": libpq does not quote passwords in its messages
 * today, and this keeps it so whatever a later libpq or server says.
 */
static void
clean(const struct central *c, const char *src, char *dst, size_t len)
{
	size_t n = 0;
	int i, hit;

	if (len == 0)
		return;
	while (*src != '\0' && n + 1 < len) {
		hit = 0;
		for (i = 0; i < NSECRET && c != NULL; i++) {
			size_t sl;

			if (c->secret[i] == NULL)
				continue;
			sl = strlen(c->secret[i]);
			if (strncmp(src, c->secret[i], sl) == 0) {
				n += (size_t)snprintf(dst + n, len - n, "***");
				if (n >= len)
					n = len - 1;
				src += sl;
				hit = 1;
				break;
			}
		}
		if (hit)
			continue;
		if (*src == '\n' || *src == '\t' || *src == '\r') {
			if (n > 0 && dst[n - 1] != ' ')
				dst[n++] = ' ';
		} else
			dst[n++] = *src;
		src++;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/*
 * err = "what: reason", the reason being the server's primary message
 * (res) or the connection's last error, cleaned whole (what may name
 * the connection); returns -1.
 */
static int
pgerr(const struct central *c, const PGresult *res, const char *what,
    char *err, size_t errlen)
{
	const char *m = NULL;
	char raw[1024];

	if (res != NULL)
		m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (m == NULL)
		m = PQerrorMessage(c->conn);
	snprintf(raw, sizeof(raw), "%s: %s", what, m != NULL && m[0] != '\0' ?
	    m : "unknown error");
	clean(c, raw, err, errlen);
	return -1;
}

/* ---- connecting ---------------------------------------------------- */

/* Notices ("... already exists, skipping") are not the user's business. */
static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

struct central *
central_pg_connect(const char *conninfo, char *err, size_t errlen)
{
	const char *keys[] = { "dbname", "fallback_application_name", NULL };
	const char *vals[] = { conninfo, "aicensus", NULL };
	PQconninfoOption *opts = NULL, *o;
	struct central *c;
	const char *pw;
	char *perr = NULL, what[320], name[sizeof(c->name)];
	int n = 0;

	if (is_conninfo(conninfo) &&
	    (opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		/* libpq's reason may quote the string: never shown. */
		PQfreemem(perr);
		snprintf(err, errlen, "the connection string is not one libpq "
		    "can parse (not shown: it may hold a password); use "
		    "\"host=H dbname=D user=U\" or postgresql://U@H/D");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		PQconninfoFree(opts);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (o = opts; o != NULL && o->keyword != NULL; o++)
		if ((strcmp(o->keyword, "password") == 0 ||
		    strcmp(o->keyword, "sslpassword") == 0) && o->val != NULL &&
		    o->val[0] != '\0' && n < NSECRET &&
		    (c->secret[n] = strdup(o->val)) != NULL)
			n++;
	PQconninfoFree(opts);
	if ((pw = getenv("PGPASSWORD")) != NULL && pw[0] != '\0' &&
	    n < NSECRET && (c->secret[n] = strdup(pw)) != NULL)
		n++;
	/* A secret may even hide in another key (host=/x/<password>). */
	central_pg_describe(conninfo, name, sizeof(name));
	clean(c, name, c->name, sizeof(c->name));
	c->conn = PQconnectdbParams(keys, vals, 1);
	if (c->conn == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (PQstatus(c->conn) != CONNECTION_OK) {
		snprintf(what, sizeof(what), "cannot connect to %s", c->name);
		pgerr(c, NULL, what, err, errlen);
		goto fail;
	}
	PQsetNoticeProcessor(c->conn, quiet, NULL);
	/* What libpq settled on, environment and defaults included. */
	snprintf(name, sizeof(name), "host=%s port=%s dbname=%s user=%s",
	    PQhost(c->conn), PQport(c->conn), PQdb(c->conn), PQuser(c->conn));
	clean(c, name, c->name, sizeof(c->name));
	return c;
fail:
	central_pg_close(c);
	return NULL;
}

void
central_pg_close(struct central *c)
{
	int i;

	if (c == NULL)
		return;
	if (c->conn != NULL)
		PQfinish(c->conn);
	for (i = 0; i < NSECRET; i++)
		if (c->secret[i] != NULL) {
			explicit_bzero(c->secret[i], strlen(c->secret[i]));
			free(c->secret[i]);
		}
	free(c);
}

const char *
central_pg_name(const struct central *c)
{
	return c->name;
}

struct pg_conn *
central_pg_conn(struct central *c)
{
	return c->conn;
}

int
central_pg_err(const struct central *c, const struct pg_result *res,
    const char *what, char *err, size_t errlen)
{
	return pgerr(c, res, what, err, errlen);
}

/* ---- statements ---------------------------------------------------- */

/* Runs sql (one or more statements, no result wanted); 0 or -1. */
static int
run(struct central *c, const char *sql, const char *what, char *err,
    size_t errlen)
{
	PGresult *res;
	ExecStatusType st;

	res = PQexec(c->conn, sql);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		pgerr(c, res, what, err, errlen);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/* Ends a failed transaction; the error already said why. */
static void
rollback(struct central *c)
{
	PQclear(PQexec(c->conn, "ROLLBACK"));
}

/* Rows of a one-parameter query, or NULL with err. */
static PGresult *
rows(struct central *c, const char *sql, const char *param, const char *what,
    char *err, size_t errlen)
{
	PGresult *res;

	res = PQexecParams(c->conn, sql, param ? 1 : 0, NULL, &param, NULL,
	    NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pgerr(c, res, what, err, errlen);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* A decimal version, nothing else; -1 when it is not one. */
static int
parse_version(const char *s)
{
	char *end;
	long v;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 1000000)
		return -1;
	return (int)v;
}

int
central_pg_version(struct central *c, int *version, char *err,
    size_t errlen)
{
	PGresult *res;
	int has_schema, has_meta, nrel, v;

	/* The catalogs, not to_regclass(): readable without USAGE. */
	res = rows(c, "SELECT count(*) > 0,"
	    " count(k.oid) FILTER (WHERE k.relname = 'meta' AND"
	    "  k.relkind = 'r') > 0, count(k.oid)"
	    " FROM pg_namespace n LEFT JOIN pg_class k"
	    "  ON k.relnamespace = n.oid WHERE n.nspname = 'aicensus'", NULL,
	    "cannot read the catalog", err, errlen);
	if (res == NULL)
		return -1;
	has_schema = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	has_meta = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	nrel = atoi(PQgetvalue(res, 0, 2));
	PQclear(res);
	if (!has_schema || (!has_meta && nrel == 0)) {
		*version = 0;
		return 0;
	}
	if (!has_meta) {
		snprintf(err, errlen, "schema aicensus holds tables but no "
		    "aicensus.meta: it was not made by aicensus; refusing to "
		    "touch it");
		return -1;
	}
	res = rows(c, "SELECT value FROM aicensus.meta WHERE key ="
	    " 'schema_version'", NULL, "cannot read aicensus.meta", err,
	    errlen);
	if (res == NULL)
		return -1;
	v = PQntuples(res) == 1 ? parse_version(PQgetvalue(res, 0, 0)) : -1;
	PQclear(res);
	if (v < 1) {
		snprintf(err, errlen, "aicensus.meta holds no valid "
		    "schema_version: not an aicensus central database; "
		    "refusing to touch it");
		return -1;
	}
	*version = v;
	return 0;
}

/* ---- the ladder ---------------------------------------------------- */

/* The version found is newer than this code: refuse, say what to do. */
static int
newer(int v, char *err, size_t errlen)
{
	snprintf(err, errlen, "the central database has schema version %d; "
	    "this aicensus knows versions up to %d: upgrade aicensus before "
	    "touching it", v, CENTRAL_PG_VERSION);
	return -1;
}

/*
 * Climbs one step per transaction until CENTRAL_PG_VERSION.  Each
 * transaction takes the ladder's lock first and reads the version under
 * it, so a concurrent migration finishes its step before this one looks;
 * a database at the top is only read, never written.
 */
static int
climb(struct central *c, int create, int top, int *from, char *err,
    size_t errlen)
{
	char sql[160], what[64];
	int v, first = 1;

	for (;;) {
		if (run(c, "BEGIN", "cannot begin a transaction", err,
		    errlen) != 0)
			return -1;
		if (run(c, "SELECT pg_advisory_xact_lock(" LADDER_LOCK ")",
		    "cannot lock the migration", err, errlen) != 0 ||
		    central_pg_version(c, &v, err, errlen) != 0)
			goto fail;
		if (first) {
			*from = v;
			first = 0;
		}
		if (v > CENTRAL_PG_VERSION) {
			newer(v, err, errlen);
			goto fail;
		}
		if (v == 0 && !create) {
			snprintf(err, errlen, "no aicensus schema in this "
			    "database: create it with 'aicensus central init'");
			goto fail;
		}
		if (v >= top) {
			rollback(c);	/* read only: nothing to keep */
			return 0;
		}
		snprintf(what, sizeof(what), "migration to version %d", v + 1);
		snprintf(sql, sizeof(sql), "INSERT INTO aicensus.meta VALUES"
		    " ('schema_version', '%d') ON CONFLICT (key) DO UPDATE"
		    " SET value = EXCLUDED.value", v + 1);
		if (run(c, ladder[v], what, err, errlen) != 0 ||
		    run(c, sql, what, err, errlen) != 0 ||
		    run(c, "COMMIT", what, err, errlen) != 0)
			goto fail;
	}
fail:
	rollback(c);
	return -1;
}

int
central_pg_init(struct central *c, int *from, char *err, size_t errlen)
{
	return climb(c, 1, CENTRAL_PG_VERSION, from, err, errlen);
}

int
central_pg_init_to(struct central *c, int top, int *from, char *err,
    size_t errlen)
{
	if (top < 1 || top > CENTRAL_PG_VERSION) {
		snprintf(err, errlen, "no schema version %d: 1 to %d", top,
		    CENTRAL_PG_VERSION);
		return -1;
	}
	return climb(c, 1, top, from, err, errlen);
}

int
central_pg_migrate(struct central *c, int *from, char *err, size_t errlen)
{
	return climb(c, 0, CENTRAL_PG_VERSION, from, err, errlen);
}

/* ---- sites --------------------------------------------------------- */

int
central_pg_site_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 63 || !isalnum((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("._-", s[i]) == NULL)
			return 0;
	return 1;
}

int
central_pg_role_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 63 || isdigit((unsigned char)s[0]) ||
	    s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("._-", s[i]) == NULL)
			return 0;
	return strncasecmp(s, "pg_", 3) != 0 && strcasecmp(s, "public") != 0 &&
	    strcmp(s, CENTRAL_PG_WRITER) != 0 &&
	    strcmp(s, CENTRAL_PG_READER) != 0;
}

/* The schema must be this code's version for anything but the ladder. */
static int
current(struct central *c, char *err, size_t errlen)
{
	int v;

	if (central_pg_version(c, &v, err, errlen) != 0)
		return -1;
	if (v > CENTRAL_PG_VERSION)
		return newer(v, err, errlen);
	if (v == 0) {
		snprintf(err, errlen, "no aicensus schema in this database: "
		    "create it with 'aicensus central init'");
		return -1;
	}
	if (v < CENTRAL_PG_VERSION) {
		snprintf(err, errlen, "the central database has schema version "
		    "%d: upgrade it with 'aicensus central migrate'", v);
		return -1;
	}
	return 0;
}

int
central_pg_add_site(struct central *c, const char *site, const char *role,
    char *err, size_t errlen)
{
	const char *params[2];
	PGresult *res = NULL;
	char *qrole = NULL, *sql = NULL;
	int bypass, owner, member, rc = -1;

	if (!central_pg_site_ok(site)) {
		snprintf(err, errlen, "site name: 1 to 63 letters, digits, "
		    "'.', '_' or '-', starting with a letter or digit");
		return -1;
	}
	if (!central_pg_role_ok(role)) {
		snprintf(err, errlen, "role name: 1 to 63 letters, digits, "
		    "'.', '_' or '-', not starting with a digit, '.' or '-', "
		    "and not pg_*, public or a group role of aicensus");
		return -1;
	}
	if (run(c, "BEGIN", "cannot begin a transaction", err, errlen) != 0)
		return -1;
	if (current(c, err, errlen) != 0)
		goto fail;
	/*
	 * Row-level security does not hold a superuser, a BYPASSRLS role or
	 * the tables' owner (or a role inheriting from it): such a role
	 * would write every site's rows, so it is never a site's writer.
	 */
	res = rows(c, "SELECT r.rolsuper OR r.rolbypassrls,"
	    " pg_has_role(r.oid, k.relowner, 'USAGE'),"
	    " pg_has_role(r.oid, '" CENTRAL_PG_WRITER "', 'MEMBER'),"
	    " (SELECT m.site FROM aicensus.site_role m WHERE m.role = $1::text)"
	    " FROM pg_roles r, pg_class k WHERE r.rolname::text = $1::text"
	    "  AND k.oid = 'aicensus.site_cell'::regclass",
	    role, "cannot read the roles", err, errlen);
	if (res == NULL)
		goto fail;
	if (PQntuples(res) != 1) {
		snprintf(err, errlen, "role %s does not exist: the DBA creates "
		    "it first (CREATE ROLE ... LOGIN; docs/CENTRAL.md)", role);
		goto fail;
	}
	bypass = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	owner = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	member = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	if (bypass || owner) {
		snprintf(err, errlen, "role %s %s: row-level security would "
		    "not hold it to one site; give the sensor a role of its "
		    "own", role, bypass ? "is a superuser or has BYPASSRLS" :
		    "owns the central tables");
		goto fail;
	}
	if (!PQgetisnull(res, 0, 3)) {
		if (strcmp(PQgetvalue(res, 0, 3), site) != 0) {
			snprintf(err, errlen, "role %s already writes for site "
			    "%s: one role, one site", role,
			    PQgetvalue(res, 0, 3));
			goto fail;
		}
		rc = 0;
	}
	PQclear(res);
	res = NULL;
	if (rc == -1) {
		params[0] = site;
		params[1] = role;
		res = PQexecParams(c->conn, "INSERT INTO aicensus.site(name)"
		    " VALUES ($1) ON CONFLICT DO NOTHING;", 1, NULL, params,
		    NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pgerr(c, res, "cannot add the site", err, errlen);
			goto fail;
		}
		PQclear(res);
		res = PQexecParams(c->conn, "INSERT INTO aicensus.site_role"
		    "(site, role) VALUES ($1, $2)", 2, NULL, params, NULL,
		    NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pgerr(c, res, "cannot map the role", err, errlen);
			goto fail;
		}
		PQclear(res);
		res = NULL;
	}
	if (!member) {
		if ((qrole = PQescapeIdentifier(c->conn, role,
		    strlen(role))) == NULL ||
		    (sql = malloc(strlen(qrole) + 64)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		sprintf(sql, "GRANT " CENTRAL_PG_WRITER " TO %s", qrole);
		if (run(c, sql, "cannot make the role a writer", err,
		    errlen) != 0)
			goto fail;
	}
	if (run(c, "COMMIT", "cannot commit", err, errlen) != 0)
		goto fail;
	PQfreemem(qrole);
	free(sql);
	return rc == 0 ? 0 : 1;
fail:
	PQclear(res);
	PQfreemem(qrole);
	free(sql);
	rollback(c);
	return -1;
}

/* ---- the central secret -------------------------------------------- */

/*
 * Drawn here, not by the server (pgcrypto may not be installed): a
 * candidate is offered with ON CONFLICT DO NOTHING, and whatever row is
 * there after is the secret, so two releases racing on the first run
 * agree on one.
 */
int
central_pg_secret(struct central *c, uint8_t key[CENTRAL_PG_SECRET],
    char *err, size_t errlen)
{
	uint8_t cand[CENTRAL_PG_SECRET];
	const char *vals[1];
	int lens[1], fmts[1];
	PGresult *res;
	int rc = -1;

	if (RAND_bytes(cand, sizeof(cand)) != 1) {
		snprintf(err, errlen, "cannot draw the central secret");
		return -1;
	}
	vals[0] = (const char *)cand;
	lens[0] = sizeof(cand);
	fmts[0] = 1;
	res = PQexecParams(c->conn, "INSERT INTO aicensus.secret(id, key)"
	    " VALUES (1, $1) ON CONFLICT (id) DO NOTHING", 1, NULL, vals,
	    lens, fmts, 0);
	explicit_bzero(cand, sizeof(cand));
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pgerr(c, res, "cannot keep the central secret (run 'aicensus "
		    "central migrate' as the administrator)", err, errlen);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	res = PQexecParams(c->conn, "SELECT key FROM aicensus.secret"
	    " WHERE id = 1", 0, NULL, NULL, NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pgerr(c, res, "cannot read the central secret", err, errlen);
		goto out;
	}
	if (PQntuples(res) != 1 || PQgetlength(res, 0, 0) !=
	    CENTRAL_PG_SECRET) {
		snprintf(err, errlen, "aicensus.secret does not hold one "
		    "%d-byte key", CENTRAL_PG_SECRET);
		goto out;
	}
	memcpy(key, PQgetvalue(res, 0, 0), CENTRAL_PG_SECRET);
	rc = 0;
out:
	if (PQntuples(res) > 0 && PQgetlength(res, 0, 0) > 0)
		explicit_bzero(PQgetvalue(res, 0, 0),
		    (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
	return rc;
}
