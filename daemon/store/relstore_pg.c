/*
 * relstore_pg.c - the release database in the central PostgreSQL
 * database (relstore_pg.h): every statement on its release-side tables.
 *
 * The rows are those of relstore_sqlite.c, one for one: a period row,
 * its grid's axes in `dim` ("*" never stored), service facts, cells
 * with a non-zero figure (a measure the level does not publish is
 * NULL), a day's blind figures.  A publish is one transaction that
 * writes the period row FIRST with ON CONFLICT DO NOTHING: of two
 * releases racing on one period, the second waits on the first's row
 * lock, then finds it there and writes nothing (0), so a period is
 * written once and whole.  Text orderings are byte orderings (COLLATE
 * "C"), as in SQLite, so a reader sees the same order from both.
 *
 * Scopes (schema version 3): every row belongs to one scope, "*" (the
 * organisation) or a site's name, and a store reads and publishes one
 * scope only; "@" in a statement below stands for the scope column.  A
 * reader of a database not yet migrated to version 3 sees the one
 * scope there is, the organisation's ("@" is then the constant '*').
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/central_pg.h"
#include "store/relstore_pg.h"

struct pgstore {
	struct relstore	 rs;		/* first: the handle callers hold */
	struct central	*c;
	PGconn		*conn;
	enum relstore_mode mode;
	uint64_t	 silent;
	int		 has_silent;
	int		 nested;	/* publish inside the caller's txn */
	int		 version;	/* the schema's */
	char		 site[64];	/* the scope: "*" or a site */
	char		 sql[2048];	/* scoped() */
	char		 err[512];
};

#define CELL_COLS	"devices, devhours, tls, quic, ech, conns, dns, " \
	"nxdomain, bytes_up, bytes_down"
#define PERIOD_COLS	"kind, period, week, released_at, coverage_hours, " \
	"hours_total, complete, min_group"

static const struct relstore_ops pg_ops;

static struct pgstore *
pgs(struct relstore *rs)
{
	return (struct pgstore *)rs;
}

static int
seterr(struct pgstore *s, const char *why)
{
	snprintf(s->err, sizeof(s->err), "%s", why);
	return -1;
}

/* The server's primary message only: its DETAIL may quote a row. */
static int
pgfail(struct pgstore *s, PGresult *res, const char *what)
{
	central_pg_err(s->c, res, what, s->err, sizeof(s->err));
	PQclear(res);
	return -1;
}

/* A statement with text parameters; the result, or NULL (s->err). */
static PGresult *
q(struct pgstore *s, const char *sql, int n, const char *const *v,
    ExecStatusType want, const char *what)
{
	PGresult *res;

	res = PQexecParams(s->conn, sql, n, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) != want) {
		pgfail(s, res, what);
		return NULL;
	}
	return res;
}

/*
 * sql with every "@" made the scope column: "site", or '*' on a schema
 * before version 3.  Into s->sql; statements are short constants.
 */
static const char *
scoped(struct pgstore *s, const char *sql)
{
	const char *col = s->version >= 3 ? "site" : "'*'::text";
	size_t n = 0, cl = strlen(col);

	for (; *sql != '\0' && n + cl + 1 < sizeof(s->sql); sql++) {
		if (*sql == '@') {
			memcpy(s->sql + n, col, cl);
			n += cl;
		} else
			s->sql[n++] = *sql;
	}
	s->sql[n] = '\0';
	return s->sql;
}

static int
cmd(struct pgstore *s, const char *sql, int n, const char *const *v,
    const char *what)
{
	PGresult *res;

	if ((res = q(s, sql, n, v, PGRES_COMMAND_OK, what)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

static void
rollback(struct pgstore *s)
{
	PQclear(PQexec(s->conn, "ROLLBACK"));
}

/* Undoes a publish: its savepoint when nested, else its transaction. */
static void
undo(struct pgstore *s)
{
	if (s->nested) {
		PQclear(PQexec(s->conn, "ROLLBACK TO SAVEPOINT publish"));
		PQclear(PQexec(s->conn, "RELEASE SAVEPOINT publish"));
	} else
		rollback(s);
}

static int64_t
num(const PGresult *res, int row, int col)
{
	const char *t;

	if (PQgetisnull(res, row, col))
		return 0;
	t = PQgetvalue(res, row, col);
	return strtoll(t, NULL, 10);
}

/* ---- opening ------------------------------------------------------- */

/* A URI, or a first word "keyword=": a path never starts that way
 * unless it is a bare "a=b" relative name, which nobody gives a db. */
int
relstore_pg_is_conninfo(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz_");

	return strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0 || (n > 0 && s[n] == '=');
}

struct relstore *
relstore_pg_of(struct central *c, enum relstore_mode mode, char *err,
    size_t errlen)
{
	struct pgstore *s;
	char why[512];
	int v;

	if (central_pg_version(c, &v, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", central_pg_name(c), why);
		goto fail;
	}
	if (v == 0) {
		snprintf(err, errlen, "%s: no aicensus schema: create it with "
		    "'aicensus central init'", central_pg_name(c));
		goto fail;
	}
	if (v > CENTRAL_PG_VERSION) {
		snprintf(err, errlen, "%s: the central database has schema "
		    "version %d; this aicensus knows versions up to %d: "
		    "upgrade aicensus", central_pg_name(c), v,
		    CENTRAL_PG_VERSION);
		goto fail;
	}
	if (mode == RELSTORE_WRITE && v < CENTRAL_PG_VERSION) {
		snprintf(err, errlen, "%s: schema version %d: run 'aicensus "
		    "central migrate' first", central_pg_name(c), v);
		goto fail;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->rs.ops = &pg_ops;
	s->c = c;
	s->conn = central_pg_conn(c);
	s->mode = mode;
	s->version = v;
	snprintf(s->site, sizeof(s->site), "%s", REL_ALL);
	return &s->rs;
fail:
	central_pg_close(c);
	return NULL;
}

struct relstore *
relstore_pg_open(const char *conninfo, enum relstore_mode mode, char *err,
    size_t errlen)
{
	struct central *c;

	if ((c = central_pg_connect(conninfo, err, errlen)) == NULL)
		return NULL;
	return relstore_pg_of(c, mode, err, errlen);
}

struct relstore *
relstore_pg_open_site(const char *conninfo, enum relstore_mode mode,
    const char *site, char *err, size_t errlen)
{
	struct relstore *st;

	if (site != NULL && strcmp(site, REL_ALL) != 0 &&
	    !central_pg_site_ok(site)) {
		snprintf(err, errlen, "site name: 1 to 63 letters, digits, "
		    "'.', '_' or '-', starting with a letter or digit");
		return NULL;
	}
	if ((st = relstore_pg_open(conninfo, mode, err, errlen)) == NULL)
		return NULL;
	if (relstore_pg_set_site(st, site) != 0) {
		snprintf(err, errlen, "%s", relstore_error(st));
		relstore_close(st);
		return NULL;
	}
	return st;
}

int
relstore_pg_set_site(struct relstore *rs, const char *site)
{
	struct pgstore *s = pgs(rs);

	if (site == NULL || strcmp(site, REL_ALL) == 0) {
		snprintf(s->site, sizeof(s->site), "%s", REL_ALL);
		return 0;
	}
	if (!central_pg_site_ok(site))
		return seterr(s, "site name: 1 to 63 letters, digits, '.', "
		    "'_' or '-', starting with a letter or digit");
	if (s->version < 3)
		return seterr(s, "the central database has schema version "
		    "< 3, without site scopes: run 'aicensus central "
		    "migrate'");
	snprintf(s->site, sizeof(s->site), "%s", site);
	return 0;
}

const char *
relstore_pg_site(struct relstore *rs)
{
	return pgs(rs)->site;
}

void
relstore_pg_set_nested(struct relstore *rs, int on)
{
	pgs(rs)->nested = on != 0;
}

/* Hands the first column of every row to fn, then frees res; 0 or -1. */
static int
name_rows(struct pgstore *s, PGresult *res, relstore_name_fn fn, void *arg)
{
	int i, rc = 0;

	for (i = 0; i < PQntuples(res); i++)
		if (fn(arg, PQgetvalue(res, i, 0)) != 0) {
			rc = seterr(s, "read stopped by its caller");
			break;
		}
	PQclear(res);
	return rc;
}

int
relstore_pg_sites(struct relstore *rs, relstore_name_fn fn, void *arg)
{
	struct pgstore *s = pgs(rs);
	PGresult *res;

	if (s->version < 3)
		return 0;	/* one scope: the organisation's */
	if ((res = q(s, "SELECT DISTINCT site COLLATE \"C\" AS site FROM"
	    " aicensus.period WHERE site <> '" REL_ALL "' ORDER BY 1", 0,
	    NULL, PGRES_TUPLES_OK, "cannot read the sites")) == NULL)
		return -1;
	return name_rows(s, res, fn, arg);
}

void
relstore_pg_set_silent(struct relstore *rs, uint64_t sites)
{
	pgs(rs)->silent = sites;
	pgs(rs)->has_silent = 1;
}

static void
pg_close(struct relstore *rs)
{
	struct pgstore *s = pgs(rs);

	central_pg_close(s->c);
	free(s);
}

static const char *
pg_error(struct relstore *rs)
{
	return pgs(rs)->err;
}

/* ---- writing ------------------------------------------------------- */

/* bigint is signed: clip (never reached). */
static void
fmt_u(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "%" PRIu64, v > INT64_MAX ? (uint64_t)INT64_MAX : v);
}

static int
write_period(struct pgstore *s, const struct relstore_pub *p)
{
	char b[8][24];
	const char *v[9];
	PGresult *res;
	int i, n;

	snprintf(b[0], sizeof(b[0]), "%d", (int)p->per.kind);
	snprintf(b[1], sizeof(b[1]), "%" PRId32, p->per.period);
	snprintf(b[2], sizeof(b[2]), "%" PRId32, p->per.week);
	snprintf(b[3], sizeof(b[3]), "%" PRId64, p->per.released_at);
	snprintf(b[4], sizeof(b[4]), "%u", p->per.coverage_hours);
	snprintf(b[5], sizeof(b[5]), "%u", p->per.hours_total);
	snprintf(b[6], sizeof(b[6]), "%d", p->per.complete ? 1 : 0);
	snprintf(b[7], sizeof(b[7]), "%d", p->per.min_group);
	for (i = 0; i < 8; i++)
		v[i] = b[i];
	v[8] = s->site;
	if ((res = q(s, "INSERT INTO aicensus.period(" PERIOD_COLS ", site)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO"
	    " NOTHING", 9, v,
	    PGRES_COMMAND_OK, "cannot write the period")) == NULL)
		return -1;
	n = atoi(PQcmdTuples(res));
	PQclear(res);
	return n == 1 ? 1 : 0;
}

/*
 * COPY ... FROM STDIN: a table's rows of a period in two round trips
 * (the statement, then the data and its end) instead of one INSERT
 * each, so the period's transaction, which holds the sites' raw tables
 * locked against the sensors' pushes, is short.  Rows are text format,
 * fields escaped as COPY reads them back; data messages need not end
 * at a row's end, so the buffer is sent whenever it is full.
 */
struct copyin {
	struct pgstore	*s;
	const char	*what;
	size_t		 n;
	int		 failed;
	char		 buf[16384];
};

static int
copy_begin(struct pgstore *s, struct copyin *cp, const char *sql,
    const char *what)
{
	PGresult *res;

	cp->s = s;
	cp->what = what;
	cp->n = 0;
	cp->failed = 0;
	res = PQexec(s->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		return pgfail(s, res, what);
	PQclear(res);
	return 0;
}

static void
copy_flush(struct copyin *cp)
{
	if (cp->n > 0 && !cp->failed &&
	    PQputCopyData(cp->s->conn, cp->buf, (int)cp->n) != 1) {
		central_pg_err(cp->s->c, NULL, cp->what, cp->s->err,
		    sizeof(cp->s->err));
		cp->failed = 1;
	}
	cp->n = 0;
}

static void
copy_byte(struct copyin *cp, char ch)
{
	if (cp->n == sizeof(cp->buf))
		copy_flush(cp);
	cp->buf[cp->n++] = ch;
}

/* One field (NULL: SQL NULL), then a tab, or the row's end if last. */
static void
copy_field(struct copyin *cp, const char *v, int last)
{
	if (v == NULL) {
		copy_byte(cp, '\\');
		copy_byte(cp, 'N');
	} else
		for (; *v != '\0'; v++)
			switch (*v) {
			case '\\':
				copy_byte(cp, '\\');
				copy_byte(cp, '\\');
				break;
			case '\t':
				copy_byte(cp, '\\');
				copy_byte(cp, 't');
				break;
			case '\n':
				copy_byte(cp, '\\');
				copy_byte(cp, 'n');
				break;
			case '\r':
				copy_byte(cp, '\\');
				copy_byte(cp, 'r');
				break;
			default:
				copy_byte(cp, *v);
			}
	copy_byte(cp, last ? '\n' : '\t');
}

/*
 * Ends the COPY: its rows are in (0), or it failed and wrote nothing
 * (-1, s->err); either way the connection is ready for the next
 * statement (the caller's undo()).
 */
static int
copy_end(struct copyin *cp)
{
	struct pgstore *s = cp->s;
	PGresult *res;
	int rc = 0;

	copy_flush(cp);
	if (PQputCopyEnd(s->conn, cp->failed ? "aborted by the client" :
	    NULL) != 1 && !cp->failed) {
		central_pg_err(s->c, NULL, cp->what, s->err, sizeof(s->err));
		cp->failed = 1;
	}
	while ((res = PQgetResult(s->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
			if (!cp->failed)
				central_pg_err(s->c, res, cp->what, s->err,
				    sizeof(s->err));
			rc = -1;
		}
		PQclear(res);
	}
	return cp->failed ? -1 : rc;
}

static int
write_cells(struct pgstore *s, const struct relstore_pub *p)
{
	struct copyin cp;
	char b[RM_N][24], kind[12], per[12];
	size_t k;
	int i;

	if (p->ncell == 0)
		return 0;
	if (copy_begin(s, &cp, "COPY aicensus.cell(kind, period, dept, svc, "
	    CELL_COLS ", site) FROM STDIN", "cannot write a cell") != 0)
		return -1;
	for (k = 0; k < p->ncell; k++) {
		const struct rel_cell *c = &p->cell[k];

		snprintf(kind, sizeof(kind), "%d", (int)c->kind);
		snprintf(per, sizeof(per), "%" PRId32, c->period);
		copy_field(&cp, kind, 0);
		copy_field(&cp, per, 0);
		copy_field(&cp, c->dept, 0);
		copy_field(&cp, c->svc, 0);
		for (i = 0; i < RM_N; i++) {
			if (!(c->published & (1u << i))) {
				copy_field(&cp, NULL, 0);
				continue;
			}
			fmt_u(b[i], sizeof(b[i]), c->m[i]);
			copy_field(&cp, b[i], 0);
		}
		copy_field(&cp, s->site, 1);
	}
	return copy_end(&cp);
}

/*
 * Service facts: an upsert, which COPY cannot do, so multi-row INSERTs
 * of up to SVC_ROWS services.  One statement may not touch a row twice:
 * of a service id given twice in one, only the last is sent, as the
 * last of one-by-one upserts would have won.
 */
#define SVC_ROWS	200

static int
write_services(struct pgstore *s, const struct relstore_pub *p)
{
	const char *v[SVC_ROWS * 6];
	char *sql = NULL;
	size_t at, i, j, end, nrow, len;
	int rc = -1, n;

	len = 512 + (size_t)SVC_ROWS * 48;
	if ((sql = malloc(len)) == NULL)
		return seterr(s, "out of memory");
	for (at = 0; at < p->nservice; at = end) {
		end = at + SVC_ROWS < p->nservice ? at + SVC_ROWS :
		    p->nservice;
		n = snprintf(sql, len, "INSERT INTO aicensus.service(sid,"
		    " name, vendor, category, jurisdiction, sanctioned)"
		    " VALUES");
		for (nrow = 0, i = at; i < end; i++) {
			const struct rel_service *sv = &p->service[i];

			for (j = i + 1; j < end; j++)
				if (strcmp(p->service[j].sid, sv->sid) == 0)
					break;
			if (j < end)
				continue;	/* a later one wins */
			v[nrow * 6] = sv->sid;
			v[nrow * 6 + 1] = sv->name;
			v[nrow * 6 + 2] = sv->vendor;
			v[nrow * 6 + 3] = sv->category;
			v[nrow * 6 + 4] = sv->jurisdiction;
			v[nrow * 6 + 5] = sv->sanctioned ? "1" : "0";
			n += snprintf(sql + n, len - n, "%s ($%zu, $%zu, $%zu,"
			    " $%zu, $%zu, $%zu::smallint)", nrow > 0 ? "," : "",
			    nrow * 6 + 1, nrow * 6 + 2, nrow * 6 + 3,
			    nrow * 6 + 4, nrow * 6 + 5, nrow * 6 + 6);
			nrow++;
		}
		snprintf(sql + n, len - n, " ON CONFLICT (sid) DO UPDATE SET"
		    " name = EXCLUDED.name, vendor = EXCLUDED.vendor,"
		    " category = EXCLUDED.category,"
		    " jurisdiction = EXCLUDED.jurisdiction,"
		    " sanctioned = EXCLUDED.sanctioned");
		if (cmd(s, sql, (int)nrow * 6, v,
		    "cannot write the services") != 0)
			goto out;
	}
	rc = 0;
out:
	free(sql);
	return rc;
}

static int
write_dims(struct pgstore *s, const struct relstore_pub *p)
{
	struct copyin cp;
	char head[32], ord[24];
	size_t i;

	if (p->ndept + p->nsvc > 0) {
		if (copy_begin(s, &cp, "COPY aicensus.dim(kind, period, axis,"
		    " ord, name, site) FROM STDIN",
		    "cannot write the grid") != 0)
			return -1;
		for (i = 0; i < p->ndept + p->nsvc; i++) {
			int axis = i >= p->ndept;
			size_t o = axis ? i - p->ndept : i;

			snprintf(head, sizeof(head), "%d", (int)p->per.kind);
			copy_field(&cp, head, 0);
			snprintf(head, sizeof(head), "%" PRId32, p->per.period);
			copy_field(&cp, head, 0);
			copy_field(&cp, axis ? "1" : "0", 0);
			snprintf(ord, sizeof(ord), "%zu", o);
			copy_field(&cp, ord, 0);
			copy_field(&cp, axis ? p->svc[o] : p->dept[o], 0);
			copy_field(&cp, s->site, 1);
		}
		if (copy_end(&cp) != 0)
			return -1;
	}
	return write_services(s, p);
}

static void
blind_row(struct copyin *cp, const char *day, const char *name,
    uint64_t x)
{
	char b[24];

	fmt_u(b, sizeof(b), x);
	copy_field(cp, day, 0);
	copy_field(cp, name, 0);
	copy_field(cp, b, 0);
	copy_field(cp, cp->s->site, 1);
}

static int
write_blind(struct pgstore *s, const struct relstore_pub *p)
{
	struct copyin cp;
	char day[24];
	int i;

	snprintf(day, sizeof(day), "%" PRId32, p->per.period);
	if (copy_begin(s, &cp, "COPY aicensus.blind(day, name, value, site)"
	    " FROM STDIN", "cannot write the blind-spot figures") != 0)
		return -1;
	for (i = 0; i < RB_N; i++)
		blind_row(&cp, day, rel_blind_names[i], p->blind[i]);
	if (s->has_silent)
		blind_row(&cp, day, "sites_silent", s->silent);
	return copy_end(&cp);
}

static int
pg_publish(struct relstore *rs, const struct relstore_pub *p)
{
	struct pgstore *s = pgs(rs);
	const char *v[1];
	int rc;

	if (s->mode != RELSTORE_WRITE)
		return seterr(s, "the store is open for reading");
	if (s->version < 3)
		return seterr(s, "schema version < 3: run 'aicensus central "
		    "migrate' first");
	if (cmd(s, s->nested ? "SAVEPOINT publish" : "BEGIN", 0, NULL,
	    "cannot begin a transaction") != 0)
		return -1;
	if ((rc = write_period(s, p)) != 1) {
		undo(s);
		return rc;
	}
	v[0] = p->timezone ? p->timezone : "";
	if (write_cells(s, p) != 0 || write_dims(s, p) != 0 ||
	    (p->blind != NULL && write_blind(s, p) != 0) ||
	    cmd(s, "INSERT INTO aicensus.meta VALUES ('timezone', $1)"
	    " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", 1, v,
	    "cannot write the time zone") != 0 ||
	    cmd(s, s->nested ? "RELEASE SAVEPOINT publish" : "COMMIT", 0,
	    NULL, "cannot commit the period") != 0) {
		undo(s);
		return -1;
	}
	if (p->blind != NULL)
		s->has_silent = 0;
	return 1;
}

static int
pg_retention(struct relstore *rs, int32_t cutoff_day, int32_t cutoff_week)
{
	static const char *const sql[] = {
		"DELETE FROM aicensus.cell WHERE (kind = 1 AND period < $1) OR"
		    " (kind = 2 AND period < $2)",
		"DELETE FROM aicensus.dim WHERE (kind = 1 AND period < $1) OR"
		    " (kind = 2 AND period < $2)",
		"DELETE FROM aicensus.blind WHERE day < $1",
		"DELETE FROM aicensus.period WHERE (kind = 1 AND period < $1)"
		    " OR (kind = 2 AND period < $2)",
	};
	struct pgstore *s = pgs(rs);
	char b[2][24];
	const char *v[2] = { b[0], b[1] };
	PGresult *res;
	size_t i;
	int changed = 0;

	if (s->mode != RELSTORE_WRITE)
		return seterr(s, "the store is open for reading");
	snprintf(b[0], sizeof(b[0]), "%" PRId32, cutoff_day);
	snprintf(b[1], sizeof(b[1]), "%" PRId32, cutoff_week);
	if (cmd(s, "BEGIN", 0, NULL, "cannot begin a transaction") != 0)
		return -1;
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if ((res = q(s, sql[i], i == 2 ? 1 : 2, v, PGRES_COMMAND_OK,
		    "retention failed")) == NULL) {
			rollback(s);
			return -1;
		}
		changed += atoi(PQcmdTuples(res));
		PQclear(res);
	}
	if (cmd(s, "COMMIT", 0, NULL, "retention failed") != 0) {
		rollback(s);
		return -1;
	}
	return changed;
}

/* ---- reading ------------------------------------------------------- */

static int
pg_timezone(struct relstore *rs, char *buf, size_t len)
{
	struct pgstore *s = pgs(rs);
	PGresult *res;

	if (len > 0)
		buf[0] = '\0';
	if ((res = q(s, "SELECT value FROM aicensus.meta WHERE key ="
	    " 'timezone'", 0, NULL, PGRES_TUPLES_OK,
	    "cannot read aicensus.meta")) == NULL)
		return -1;
	if (PQntuples(res) == 1)
		snprintf(buf, len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

static void
period_row(const PGresult *res, int r, struct rel_period *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = (enum rel_kind)num(res, r, 0);
	p->period = (int32_t)num(res, r, 1);
	p->week = (int32_t)num(res, r, 2);
	p->released_at = num(res, r, 3);
	p->coverage_hours = (unsigned)num(res, r, 4);
	p->hours_total = (unsigned)num(res, r, 5);
	p->complete = (int)num(res, r, 6);
	p->min_group = (int)num(res, r, 7);
}

static void
kp(char b[2][24], const char *v[2], enum rel_kind kind, int32_t period)
{
	snprintf(b[0], 24, "%d", (int)kind);
	snprintf(b[1], 24, "%" PRId32, period);
	v[0] = b[0];
	v[1] = b[1];
}

static int
pg_periods(struct relstore *rs, enum rel_kind kind, int32_t from,
    int32_t to, relstore_period_fn fn, void *arg)
{
	struct pgstore *s = pgs(rs);
	struct rel_period p;
	char b[3][24];
	const char *v[4] = { b[0], b[1], b[2], s->site };
	PGresult *res;
	int i, rc = 0;

	snprintf(b[0], sizeof(b[0]), "%d", (int)kind);
	snprintf(b[1], sizeof(b[1]), "%" PRId32, from);
	snprintf(b[2], sizeof(b[2]), "%" PRId32, to);
	if ((res = q(s, scoped(s, "SELECT " PERIOD_COLS " FROM"
	    " aicensus.period WHERE kind = $1 AND ($2 = 0 OR period >= $2)"
	    " AND ($3 = 0 OR period <= $3) AND @ = $4 ORDER BY period"), 4, v,
	    PGRES_TUPLES_OK, "cannot read the periods")) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		period_row(res, i, &p);
		if (fn(arg, &p) != 0) {
			rc = seterr(s, "read stopped by its caller");
			break;
		}
	}
	PQclear(res);
	return rc;
}

static int
pg_period(struct relstore *rs, enum rel_kind kind, int32_t period,
    struct rel_period *out)
{
	struct pgstore *s = pgs(rs);
	char b[2][24];
	const char *v[3];
	PGresult *res;
	int rc = 1;

	kp(b, v, kind, period);
	v[2] = s->site;
	if ((res = q(s, scoped(s, "SELECT " PERIOD_COLS " FROM"
	    " aicensus.period WHERE kind = $1 AND period = $2 AND @ = $3"),
	    3, v, PGRES_TUPLES_OK,
	    "cannot read the period")) == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		period_row(res, 0, out);
		rc = 0;
	}
	PQclear(res);
	return rc;
}

static int
pg_axis(struct relstore *rs, enum rel_kind kind, int32_t period,
    enum relstore_axis axis, relstore_name_fn fn, void *arg)
{
	struct pgstore *s = pgs(rs);
	char b[3][24];
	const char *v[4];
	PGresult *res;

	kp(b, v, kind, period);
	snprintf(b[2], sizeof(b[2]), "%d", (int)axis);
	v[2] = b[2];
	v[3] = s->site;
	if ((res = q(s, scoped(s, "SELECT name FROM aicensus.dim WHERE"
	    " kind = $1 AND period = $2 AND axis = $3 AND @ = $4 AND"
	    " name <> '" REL_ALL "' ORDER BY ord"), 4, v, PGRES_TUPLES_OK,
	    "cannot read the grid")) == NULL)
		return -1;
	return name_rows(s, res, fn, arg);
}

/* A row's figures from column first on: NULL (not published) reads 0. */
static void
cell_row(const PGresult *res, int r, int first, uint64_t m[RM_N])
{
	int i;

	for (i = 0; i < RM_N; i++) {
		int64_t x = num(res, r, first + i);

		m[i] = x > 0 ? (uint64_t)x : 0;
	}
}

static int
pg_cells(struct relstore *rs, enum rel_kind kind, int32_t period,
    relstore_cell_fn fn, void *arg)
{
	struct pgstore *s = pgs(rs);
	char b[2][24];
	const char *v[3];
	uint64_t m[RM_N];
	PGresult *res;
	int i, rc = 0;

	kp(b, v, kind, period);
	v[2] = s->site;
	if ((res = q(s, scoped(s, "SELECT dept, svc, " CELL_COLS " FROM"
	    " aicensus.cell WHERE kind = $1 AND period = $2 AND @ = $3"), 3,
	    v, PGRES_TUPLES_OK,
	    "cannot read the cells")) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		cell_row(res, i, 2, m);
		if (fn(arg, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    m) != 0) {
			rc = seterr(s, "read stopped by its caller");
			break;
		}
	}
	PQclear(res);
	return rc;
}

static int
pg_cell(struct relstore *rs, enum rel_kind kind, int32_t period,
    const char *dept, const char *svc, uint64_t m[RM_N])
{
	struct pgstore *s = pgs(rs);
	char b[2][24];
	const char *v[5];
	PGresult *res;
	int rc = 1;

	kp(b, v, kind, period);
	v[2] = dept;
	v[3] = svc;
	v[4] = s->site;
	if ((res = q(s, scoped(s, "SELECT " CELL_COLS " FROM aicensus.cell"
	    " WHERE kind = $1 AND period = $2 AND dept = $3 AND svc = $4 AND"
	    " @ = $5"), 5, v,
	    PGRES_TUPLES_OK, "cannot read a cell")) == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		cell_row(res, 0, 0, m);
		rc = 0;
	}
	PQclear(res);
	return rc;
}

static int
pg_services(struct relstore *rs, relstore_service_fn fn, void *arg)
{
	struct pgstore *s = pgs(rs);
	struct rel_service sv;
	PGresult *res;
	int i, rc = 0;

	if ((res = q(s, "SELECT sid, name, vendor, category, jurisdiction,"
	    " sanctioned FROM aicensus.service ORDER BY sid COLLATE \"C\"",
	    0, NULL, PGRES_TUPLES_OK, "cannot read the services")) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		memset(&sv, 0, sizeof(sv));
		snprintf(sv.sid, sizeof(sv.sid), "%s", PQgetvalue(res, i, 0));
		snprintf(sv.name, sizeof(sv.name), "%s",
		    PQgetvalue(res, i, 1));
		snprintf(sv.vendor, sizeof(sv.vendor), "%s",
		    PQgetvalue(res, i, 2));
		snprintf(sv.category, sizeof(sv.category), "%s",
		    PQgetvalue(res, i, 3));
		snprintf(sv.jurisdiction, sizeof(sv.jurisdiction), "%s",
		    PQgetvalue(res, i, 4));
		sv.sanctioned = num(res, i, 5) != 0;
		if (fn(arg, &sv) != 0) {
			rc = seterr(s, "read stopped by its caller");
			break;
		}
	}
	PQclear(res);
	return rc;
}

static int
pg_blind(struct relstore *rs, int32_t day, uint64_t v[RB_N])
{
	struct pgstore *s = pgs(rs);
	char b[24];
	const char *p[2] = { b, s->site };
	PGresult *res;
	int r, i;

	memset(v, 0, RB_N * sizeof(v[0]));
	snprintf(b, sizeof(b), "%" PRId32, day);
	if ((res = q(s, scoped(s, "SELECT name, value FROM aicensus.blind"
	    " WHERE day = $1 AND @ = $2"), 2, p, PGRES_TUPLES_OK,
	    "cannot read the blind-spot figures")) == NULL)
		return -1;
	for (r = 0; r < PQntuples(res); r++)
		for (i = 0; i < RB_N; i++)
			if (strcmp(PQgetvalue(res, r, 0),
			    rel_blind_names[i]) == 0) {
				int64_t x = num(res, r, 1);

				v[i] = x > 0 ? (uint64_t)x : 0;
				break;
			}
	PQclear(res);
	return 0;
}

static const struct relstore_ops pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.error = pg_error,
	.publish = pg_publish,
	.retention = pg_retention,
	.timezone = pg_timezone,
	.periods = pg_periods,
	.period = pg_period,
	.axis = pg_axis,
	.cells = pg_cells,
	.cell = pg_cell,
	.services = pg_services,
	.blind = pg_blind,
};
