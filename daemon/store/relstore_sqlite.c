/*
 * relstore_sqlite.c - the release database in one SQLite file
 * (relstore_sqlite.h): every SQL statement that touches it is here.
 *
 * One row per released period in `period`, its grid's axes in `dim`
 * (axis 0 departments, 1 services; "*" never stored), service facts in
 * `service`, cells with a non-zero figure in `cell` (a measure the level
 * does not publish is NULL), a day's blind-spot figures in `blind`.
 * A shipping sensor's periods (relstore_pub.central_site) have a period
 * row and blind figures only; meta published_by = central and site say
 * where their cells are.
 * The order of the writes inside publish() is part of the format: the
 * same release written in the same order gives the same bytes, which
 * the tests compare against earlier builds.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/dbutil.h"
#include "store/relstore_sqlite.h"

#define STR_(x)		#x
#define STR(x)		STR_(x)

struct sqlstore {
	struct relstore	 rs;		/* first: the handle callers hold */
	sqlite3		*db;
	char		 err[256];
};

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY,"
    " value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS period(kind INTEGER NOT NULL,"
    " period INTEGER NOT NULL, week INTEGER NOT NULL,"
    " released_at INTEGER NOT NULL, coverage_hours INTEGER NOT NULL,"
    " hours_total INTEGER NOT NULL, complete INTEGER NOT NULL,"
    " min_group INTEGER NOT NULL, PRIMARY KEY(kind, period));"
    "CREATE TABLE IF NOT EXISTS dim(kind INTEGER, period INTEGER,"
    " axis INTEGER, ord INTEGER, name TEXT NOT NULL,"
    " PRIMARY KEY(kind, period, axis, ord));"
    "CREATE TABLE IF NOT EXISTS service(sid TEXT PRIMARY KEY, name TEXT,"
    " vendor TEXT, category TEXT, jurisdiction TEXT, sanctioned INTEGER);"
    "CREATE TABLE IF NOT EXISTS cell(kind INTEGER, period INTEGER,"
    " dept TEXT, svc TEXT, devices, devhours, tls, quic, ech, conns, dns,"
    " nxdomain, bytes_up, bytes_down,"
    " PRIMARY KEY(kind, period, dept, svc)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS blind(day INTEGER, name TEXT,"
    " value INTEGER NOT NULL, PRIMARY KEY(day, name)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta VALUES('schema_version', '"
    STR(RELSTORE_SQLITE_VERSION) "');"
    "INSERT OR IGNORE INTO meta VALUES('method', 'ckm-1');";

/* The cell columns in rel_measure order. */
#define CELL_COLS	"devices, devhours, tls, quic, ech, conns, dns, " \
	"nxdomain, bytes_up, bytes_down"
#define PERIOD_COLS	"kind, period, week, released_at, coverage_hours, " \
	"hours_total, complete, min_group"

static const struct relstore_ops sqlite_ops;

static struct sqlstore *
sqs(struct relstore *rs)
{
	return (struct sqlstore *)rs;
}

/* Keeps SQLite's message for relstore_error(); returns -1. */
static int
dberr(struct sqlstore *s)
{
	snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
	return -1;
}

static int
seterr(struct sqlstore *s, const char *why)
{
	snprintf(s->err, sizeof(s->err), "%s", why);
	return -1;
}

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int
int_query(sqlite3 *db, const char *sql, long long *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* meta value of key into buf; 0 found, 1 absent, -1 error. */
static int
meta_get(sqlite3 *db, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(buf, len, "%s", t ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : -1;
}

/* ---- opening ------------------------------------------------------- */

/* 1 when the file's meta says a schema version this code does not know. */
static int
newer_schema(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = 0;

	if (db_has_table(db, "meta") != 1 || sqlite3_prepare_v2(db, "SELECT "
	    "CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'",
	    -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v > RELSTORE_SQLITE_VERSION;
}

static int
open_write(struct sqlstore *s, const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int fd, created = 0;

	/*
	 * Create the file ourselves so it is born 0640 (readers of reports
	 * are a group; nobody else), whatever the umask.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd != -1) {
		created = 1;
		if (fchmod(fd, 0640) == -1) {
			snprintf(err, errlen, "release database %s: chmod: %s",
			    path, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create release database %s: %s",
		    path, strerror(errno));
		return -1;
	} else if (stat(path, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "release database %s is not a regular "
		    "file", path);
		return -1;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open release database %s: %s",
		    path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		return -1;
	}
	sqlite3_busy_timeout(s->db, 2000);
	/* Never write tables into somebody else's database. */
	if (!created && (db_has_table(s->db, "delta") == 1 ||
	    db_has_table(s->db, "usage_hour") == 1)) {
		snprintf(err, errlen, "%s is the raw working database; the "
		    "release database must be another file (release_database "
		    "in aicensus.conf)", path);
		return -1;
	}
	if (!created && db_has_table(s->db, "meta") == 1 &&
	    db_has_table(s->db, "cell") != 1) {
		snprintf(err, errlen, "%s is not a release database; refusing "
		    "to touch it", path);
		return -1;
	}
	if (!created && newer_schema(s->db)) {
		snprintf(err, errlen, "release database %s was written by a "
		    "newer aicensus (schema version above %d): upgrade", path,
		    RELSTORE_SQLITE_VERSION);
		return -1;
	}
	/*
	 * A rollback journal, not WAL: releases are a few writes a day, and
	 * readers open the file read-only as another user, which WAL would
	 * make depend on a writable -shm file next to it.
	 */
	if (exec(s->db, "PRAGMA journal_mode = DELETE") != 0 ||
	    exec(s->db, "PRAGMA synchronous = FULL") != 0 ||
	    exec(s->db, "BEGIN IMMEDIATE") != 0) {
		snprintf(err, errlen, "release database %s: %s", path,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	if (exec(s->db, schema_sql) != 0 || exec(s->db, "COMMIT") != 0) {
		snprintf(err, errlen, "release database %s: %s", path,
		    sqlite3_errmsg(s->db));
		exec(s->db, "ROLLBACK");
		return -1;
	}
	return 0;
}

static int
open_read(struct sqlstore *s, const char *path, char *err, size_t errlen)
{
	char ver[32];
	long long uv = 0;
	int raw;

	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open release database %s: %s",
		    path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		return -1;
	}
	sqlite3_busy_timeout(s->db, 2000);
	if (int_query(s->db, "PRAGMA user_version", &uv) != 0) {
		snprintf(err, errlen, "%s is not a release database (%s)",
		    path, sqlite3_errmsg(s->db));
		return -1;
	}
	/* The vault (v2) or the v1 working database: name it as such. */
	raw = db_has_table(s->db, "delta") == 1 ||
	    ((uv == 1 || uv == 2) && db_has_table(s->db, "usage_hour") == 1);
	if (raw) {
		snprintf(err, errlen, "%s is the raw working database; read "
		    "the release database (release_database in aicensus.conf)",
		    path);
		return -1;
	}
	if (db_has_table(s->db, "meta") != 1 ||
	    db_has_table(s->db, "period") != 1 ||
	    db_has_table(s->db, "dim") != 1 ||
	    db_has_table(s->db, "cell") != 1 ||
	    db_has_table(s->db, "blind") != 1 ||
	    db_has_table(s->db, "service") != 1 ||
	    meta_get(s->db, "schema_version", ver, sizeof(ver)) != 0) {
		snprintf(err, errlen, "%s is not a release database", path);
		return -1;
	}
	if (atoi(ver) < 1 || atoi(ver) > RELSTORE_SQLITE_VERSION) {
		snprintf(err, errlen, "release database %s has schema version "
		    "%s; this program reads version %d: upgrade aicensus",
		    path, ver, RELSTORE_SQLITE_VERSION);
		return -1;
	}
	return 0;
}

struct relstore *
relstore_sqlite_open(const char *path, enum relstore_mode mode, char *err,
    size_t errlen)
{
	struct sqlstore *s;
	struct stat sb;

	/* A reader never creates the file (SQLite would). */
	if (mode == RELSTORE_READ && stat(path, &sb) == -1) {
		snprintf(err, errlen, "cannot open release database %s: %s",
		    path, strerror(errno));
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->rs.ops = &sqlite_ops;
	if ((mode == RELSTORE_WRITE ? open_write(s, path, err, errlen) :
	    open_read(s, path, err, errlen)) != 0) {
		sqlite3_close(s->db);
		free(s);
		return NULL;
	}
	return &s->rs;
}

static void
sq_close(struct relstore *rs)
{
	struct sqlstore *s = sqs(rs);

	sqlite3_close(s->db);
	free(s);
}

static const char *
sq_error(struct relstore *rs)
{
	return sqs(rs)->err;
}

/* ---- writing ------------------------------------------------------- */

/* SQLite integers are signed: clip (never reached). */
static sqlite3_int64
clip(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (sqlite3_int64)v;
}

static int
period_exists(sqlite3 *db, enum rel_kind kind, int32_t period)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM period WHERE kind = ? "
	    "AND period = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, (int)kind);
	sqlite3_bind_int(st, 2, period);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
write_cells(sqlite3 *db, const struct relstore_pub *p)
{
	sqlite3_stmt *st;
	size_t k;
	int i, rc = 0;

	if (sqlite3_prepare_v2(db, "INSERT INTO cell VALUES(?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (k = 0; k < p->ncell && rc == 0; k++) {
		const struct rel_cell *c = &p->cell[k];

		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, (int)c->kind);
		sqlite3_bind_int(st, 2, c->period);
		sqlite3_bind_text(st, 3, c->dept, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, c->svc, -1, SQLITE_STATIC);
		for (i = 0; i < RM_N; i++) {
			if (!(c->published & (1u << i)))
				sqlite3_bind_null(st, 5 + i);
			else
				sqlite3_bind_int64(st, 5 + i, clip(c->m[i]));
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
write_dims(sqlite3 *db, const struct relstore_pub *p)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "INSERT INTO dim VALUES(?, ?, ?, ?, ?)",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < p->ndept + p->nsvc; i++) {
		int axis = i >= p->ndept;
		size_t ord = axis ? i - p->ndept : i;

		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, (int)p->per.kind);
		sqlite3_bind_int(st, 2, p->per.period);
		sqlite3_bind_int(st, 3, axis);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)ord);
		sqlite3_bind_text(st, 5, axis ? p->svc[ord] : p->dept[ord], -1,
		    SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO service "
	    "VALUES(?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < p->nservice; i++) {
		const struct rel_service *s = &p->service[i];

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, s->sid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, s->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, s->vendor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, s->category, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, s->jurisdiction, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, s->sanctioned ? 1 : 0);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int
write_blind(sqlite3 *db, const struct relstore_pub *p)
{
	sqlite3_stmt *st;
	int i, rc = 0;

	if (sqlite3_prepare_v2(db, "INSERT INTO blind VALUES(?, ?, ?)", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < RB_N && rc == 0; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, p->per.period);
		sqlite3_bind_text(st, 2, rel_blind_names[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, clip(p->blind[i]));
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
write_period(sqlite3 *db, const struct relstore_pub *p)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO period VALUES(?, ?, ?, ?, ?, "
	    "?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, (int)p->per.kind);
	sqlite3_bind_int(st, 2, p->per.period);
	sqlite3_bind_int(st, 3, p->per.week);
	sqlite3_bind_int64(st, 4, p->per.released_at);
	sqlite3_bind_int64(st, 5, p->per.coverage_hours);
	sqlite3_bind_int64(st, 6, p->per.hours_total);
	sqlite3_bind_int(st, 7, p->per.complete ? 1 : 0);
	sqlite3_bind_int(st, 8, p->per.min_group);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	if (rc != 0)
		return -1;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta "
	    "VALUES('timezone', ?)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, p->timezone ? p->timezone : "", -1,
	    SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* Where a shipping sensor's cells are published: the file says so. */
static int
write_central(sqlite3 *db, const struct relstore_pub *p)
{
	sqlite3_stmt *st;
	int rc;

	if (exec(db, "INSERT OR REPLACE INTO meta VALUES('published_by', "
	    "'central')") != 0 || sqlite3_prepare_v2(db, "INSERT OR REPLACE "
	    "INTO meta VALUES('site', ?)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, p->central_site, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/*
 * The writes go in the order earlier versions made them (cells, axes,
 * services, blind figures, the period row, the zone): a file written
 * from the same release is the same file.  A shipping sensor's period
 * adds the central facts last.
 */
static int
sq_publish(struct relstore *rs, const struct relstore_pub *p)
{
	struct sqlstore *s = sqs(rs);
	int rc;

	if (exec(s->db, "BEGIN IMMEDIATE") != 0)
		return dberr(s);
	if ((rc = period_exists(s->db, p->per.kind, p->per.period)) != 0) {
		if (rc == 1) {
			exec(s->db, "ROLLBACK");
			return 0;
		}
		goto fail;
	}
	if (write_cells(s->db, p) != 0 || write_dims(s->db, p) != 0 ||
	    (p->blind != NULL && write_blind(s->db, p) != 0) ||
	    write_period(s->db, p) != 0 ||
	    (p->central_site != NULL && write_central(s->db, p) != 0) ||
	    exec(s->db, "COMMIT") != 0)
		goto fail;
	return 1;
fail:
	dberr(s);
	exec(s->db, "ROLLBACK");
	return -1;
}

static int
sq_retention(struct relstore *rs, int32_t cutoff_day, int32_t cutoff_week)
{
	static const char *const sql[] = {
		"DELETE FROM cell WHERE (kind = 1 AND period < ?1) OR "
		    "(kind = 2 AND period < ?2)",
		"DELETE FROM dim WHERE (kind = 1 AND period < ?1) OR "
		    "(kind = 2 AND period < ?2)",
		"DELETE FROM blind WHERE day < ?1",
		"DELETE FROM period WHERE (kind = 1 AND period < ?1) OR "
		    "(kind = 2 AND period < ?2)",
	};
	struct sqlstore *s = sqs(rs);
	sqlite3_stmt *st;
	size_t i;
	int changed = 0;

	if (exec(s->db, "BEGIN IMMEDIATE") != 0)
		return dberr(s);
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL) !=
		    SQLITE_OK)
			goto fail;
		sqlite3_bind_int(st, 1, cutoff_day);
		sqlite3_bind_int(st, 2, cutoff_week);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			goto fail;
		}
		changed += sqlite3_changes(s->db);
		sqlite3_finalize(st);
	}
	if (exec(s->db, "COMMIT") != 0)
		goto fail;
	return changed;
fail:
	dberr(s);
	exec(s->db, "ROLLBACK");
	return -1;
}

/* ---- reading ------------------------------------------------------- */

static int
sq_timezone(struct relstore *rs, char *buf, size_t len)
{
	struct sqlstore *s = sqs(rs);

	if (len > 0)
		buf[0] = '\0';
	return meta_get(s->db, "timezone", buf, len) < 0 ? dberr(s) : 0;
}

static void
period_row(sqlite3_stmt *st, struct rel_period *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = (enum rel_kind)sqlite3_column_int(st, 0);
	p->period = sqlite3_column_int(st, 1);
	p->week = sqlite3_column_int(st, 2);
	p->released_at = sqlite3_column_int64(st, 3);
	p->coverage_hours = (unsigned)sqlite3_column_int64(st, 4);
	p->hours_total = (unsigned)sqlite3_column_int64(st, 5);
	p->complete = sqlite3_column_int(st, 6);
	p->min_group = sqlite3_column_int(st, 7);
}

/* Ends a read loop: 0 when the rows ran out, else -1 with the reason. */
static int
read_end(struct sqlstore *s, sqlite3_stmt *st, int rc)
{
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return 0;
	}
	if (rc == SQLITE_ROW)
		seterr(s, "read stopped by its caller");
	else
		dberr(s);
	sqlite3_finalize(st);
	return -1;
}

static int
sq_periods(struct relstore *rs, enum rel_kind kind, int32_t from,
    int32_t to, relstore_period_fn fn, void *arg)
{
	struct sqlstore *s = sqs(rs);
	struct rel_period p;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT " PERIOD_COLS " FROM period "
	    "WHERE kind = ?1 AND (?2 = 0 OR period >= ?2) AND "
	    "(?3 = 0 OR period <= ?3) ORDER BY period", -1, &st, NULL) !=
	    SQLITE_OK)
		return dberr(s);
	sqlite3_bind_int(st, 1, (int)kind);
	sqlite3_bind_int(st, 2, from);
	sqlite3_bind_int(st, 3, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		period_row(st, &p);
		if (fn(arg, &p) != 0)
			break;
	}
	return read_end(s, st, rc);
}

static int
sq_period(struct relstore *rs, enum rel_kind kind, int32_t period,
    struct rel_period *out)
{
	struct sqlstore *s = sqs(rs);
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT " PERIOD_COLS " FROM period "
	    "WHERE kind = ? AND period = ?", -1, &st, NULL) != SQLITE_OK)
		return dberr(s);
	sqlite3_bind_int(st, 1, (int)kind);
	sqlite3_bind_int(st, 2, period);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		period_row(st, out);
	else if (rc != SQLITE_DONE)
		dberr(s);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : -1;
}

static int
sq_axis(struct relstore *rs, enum rel_kind kind, int32_t period,
    enum relstore_axis axis, relstore_name_fn fn, void *arg)
{
	struct sqlstore *s = sqs(rs);
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT name FROM dim WHERE kind = ? "
	    "AND period = ? AND axis = ? AND name <> '" REL_ALL "' "
	    "ORDER BY ord", -1, &st, NULL) != SQLITE_OK)
		return dberr(s);
	sqlite3_bind_int(st, 1, (int)kind);
	sqlite3_bind_int(st, 2, period);
	sqlite3_bind_int(st, 3, (int)axis);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		if (fn(arg, t ? (const char *)t : "") != 0)
			break;
	}
	return read_end(s, st, rc);
}

/* A row's figures from column first on: NULL (not published) reads 0. */
static void
cell_row(sqlite3_stmt *st, int first, uint64_t m[RM_N])
{
	int i;

	for (i = 0; i < RM_N; i++) {
		sqlite3_int64 v = sqlite3_column_int64(st, first + i);

		m[i] = v > 0 ? (uint64_t)v : 0;
	}
}

static int
sq_cells(struct relstore *rs, enum rel_kind kind, int32_t period,
    relstore_cell_fn fn, void *arg)
{
	struct sqlstore *s = sqs(rs);
	sqlite3_stmt *st;
	uint64_t m[RM_N];
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT dept, svc, " CELL_COLS
	    " FROM cell WHERE kind = ? AND period = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return dberr(s);
	sqlite3_bind_int(st, 1, (int)kind);
	sqlite3_bind_int(st, 2, period);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);

		if (d == NULL || v == NULL)
			continue;
		cell_row(st, 2, m);
		if (fn(arg, d, v, m) != 0)
			break;
	}
	return read_end(s, st, rc);
}

static int
sq_cell(struct relstore *rs, enum rel_kind kind, int32_t period,
    const char *dept, const char *svc, uint64_t m[RM_N])
{
	struct sqlstore *s = sqs(rs);
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT " CELL_COLS " FROM cell WHERE "
	    "kind = ? AND period = ? AND dept = ? AND svc = ?", -1, &st,
	    NULL) != SQLITE_OK)
		return dberr(s);
	sqlite3_bind_int(st, 1, (int)kind);
	sqlite3_bind_int(st, 2, period);
	sqlite3_bind_text(st, 3, dept, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, svc, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		cell_row(st, 0, m);
	else if (rc != SQLITE_DONE)
		dberr(s);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : -1;
}

static void
col_text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

static int
sq_services(struct relstore *rs, relstore_service_fn fn, void *arg)
{
	struct sqlstore *s = sqs(rs);
	struct rel_service sv;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT sid, name, vendor, category, "
	    "jurisdiction, sanctioned FROM service ORDER BY sid", -1, &st,
	    NULL) != SQLITE_OK)
		return dberr(s);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&sv, 0, sizeof(sv));
		col_text(st, 0, sv.sid, sizeof(sv.sid));
		col_text(st, 1, sv.name, sizeof(sv.name));
		col_text(st, 2, sv.vendor, sizeof(sv.vendor));
		col_text(st, 3, sv.category, sizeof(sv.category));
		col_text(st, 4, sv.jurisdiction, sizeof(sv.jurisdiction));
		sv.sanctioned = sqlite3_column_int(st, 5) != 0;
		if (fn(arg, &sv) != 0)
			break;
	}
	return read_end(s, st, rc);
}

static int
sq_blind(struct relstore *rs, int32_t day, uint64_t v[RB_N])
{
	struct sqlstore *s = sqs(rs);
	sqlite3_stmt *st;
	int rc, i;

	memset(v, 0, RB_N * sizeof(v[0]));
	if (sqlite3_prepare_v2(s->db, "SELECT name, value FROM blind WHERE "
	    "day = ?", -1, &st, NULL) != SQLITE_OK)
		return dberr(s);
	sqlite3_bind_int(st, 1, day);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		sqlite3_int64 x = sqlite3_column_int64(st, 1);

		for (i = 0; name != NULL && i < RB_N; i++)
			if (strcmp(name, rel_blind_names[i]) == 0) {
				v[i] = x > 0 ? (uint64_t)x : 0;
				break;
			}
	}
	return read_end(s, st, rc);
}

static int
sq_meta(struct relstore *rs, const char *key, char *buf, size_t len)
{
	struct sqlstore *s = sqs(rs);
	int rc;

	if ((rc = meta_get(s->db, key, buf, len)) < 0)
		return dberr(s);
	return rc;
}

static const struct relstore_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.error = sq_error,
	.publish = sq_publish,
	.retention = sq_retention,
	.timezone = sq_timezone,
	.periods = sq_periods,
	.period = sq_period,
	.axis = sq_axis,
	.cells = sq_cells,
	.cell = sq_cell,
	.services = sq_services,
	.blind = sq_blind,
	.meta = sq_meta,
};
