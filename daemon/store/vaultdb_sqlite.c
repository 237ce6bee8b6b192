/*
 * vaultdb_sqlite.c - the vault's storage in SQLite: every statement the
 * vault runs, and nothing that decides what is stored (vault.c does).
 * Schema in docs/SCHEMA.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/dbutil.h"
#include "store/vaultdb.h"

struct vaultdb {
	sqlite3		*db;
	/* prepared once: a flush puts hundreds of outbox rows */
	sqlite3_stmt	*ob_put, *ob_del;
};

static const char schema_v2[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
	"  WITHOUT ROWID;"
	"CREATE TABLE delta(week INTEGER NOT NULL, seq INTEGER NOT NULL,"
	"  blob BLOB NOT NULL, PRIMARY KEY(week, seq));"
	"CREATE TABLE finalised(week INTEGER PRIMARY KEY, at INTEGER NOT NULL);"
	"INSERT INTO meta(key, value) VALUES('schema_version', '2');"
	"PRAGMA user_version = 2;";

static const char *const v1_tables[] = {
	"usage_hour", "sketch_hour", "devices_day", "devices_week",
	"capture_hour", "anomaly_hour", "hour_dim", "department", "service",
	"meta",
};

static int
exec(struct vaultdb *d, const char *sql)
{
	return sqlite3_exec(d->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* One integer from a statement with at most one parameter; dflt when no
 * row or NULL, INT64_MIN on error. */
static int64_t
scalar(struct vaultdb *d, const char *sql, int64_t a, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t r = dflt;

	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
		return INT64_MIN;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			r = sqlite3_column_int64(st, 0);
		break;
	case SQLITE_DONE:
		break;
	default:
		r = INT64_MIN;
	}
	sqlite3_finalize(st);
	return r;
}

/* ---- opening ---- */

struct vaultdb *
vaultdb_open(const char *path, char *err, size_t errlen)
{
	struct vaultdb *d;
	sqlite3_stmt *st;
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc = sqlite3_open_v2(path ? path : ":memory:", &d->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s",
		    path ? path : "(memory)",
		    d->db ? sqlite3_errmsg(d->db) : "out of memory");
		goto fail;
	}
	/* a damaged or foreign file is refused, never "repaired" */
	rc = sqlite3_prepare_v2(d->db, "PRAGMA quick_check", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && strcmp((const char *)
		    sqlite3_column_text(st, 0), "ok") != 0)
			rc = SQLITE_CORRUPT;
		else if (rc == SQLITE_ROW)
			rc = SQLITE_OK;
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "database %s is damaged or not an "
		    "aicensus database (%s); refusing to touch it: move it "
		    "aside or restore a backup", path, sqlite3_errstr(rc));
		goto fail;
	}
	/*
	 * secure_delete: a deleted row's bytes are overwritten, so what
	 * release and compaction remove is gone from the file too.
	 */
	if ((path != NULL && exec(d, "PRAGMA journal_mode = WAL") != 0) ||
	    exec(d, "PRAGMA synchronous = NORMAL") != 0 ||
	    exec(d, "PRAGMA secure_delete = ON") != 0) {
		snprintf(err, errlen, "database %s: %s", path,
		    sqlite3_errmsg(d->db));
		goto fail;
	}
	sqlite3_busy_timeout(d->db, 250);
	return d;
fail:
	vaultdb_close(d);
	return NULL;
}

void
vaultdb_close(struct vaultdb *d)
{
	if (d == NULL)
		return;
	sqlite3_finalize(d->ob_put);
	sqlite3_finalize(d->ob_del);
	if (d->db != NULL)
		sqlite3_close(d->db);
	free(d);
}

const char *
vaultdb_errmsg(struct vaultdb *d)
{
	return sqlite3_errmsg(d->db);
}

int
vaultdb_failed(struct vaultdb *d)
{
	return *sqlite3_errmsg(d->db) && sqlite3_errcode(d->db) != SQLITE_OK;
}

static int
user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

enum vaultdb_schema
vaultdb_schema(struct vaultdb *d, int *ver)
{
	*ver = -1;
	if (user_version(d->db, ver) != 0)
		return VDB_ERROR;
	if (*ver > VAULTDB_VERSION)
		return VDB_NEWER;
	if (*ver == 1 && db_has_table(d->db, "usage_hour") == 1)
		return VDB_V1;
	if (*ver == 0)
		return scalar(d, "SELECT COUNT(*) FROM sqlite_master", 0,
		    -1) != 0 ? VDB_UNVERSIONED : VDB_EMPTY;
	if (*ver != VAULTDB_VERSION || db_has_table(d->db, "delta") != 1)
		return VDB_OTHER;
	return VDB_CURRENT;
}

int
vaultdb_create(struct vaultdb *d)
{
	if (exec(d, "BEGIN IMMEDIATE") != 0 || exec(d, schema_v2) != 0 ||
	    exec(d, "COMMIT") != 0)
		return -1;
	return 0;
}

void
vaultdb_meta_set(struct vaultdb *d, const char *key, const char *value)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(d->db, "INSERT OR REPLACE INTO meta(key,"
	    " value) VALUES(?1, ?2)", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

void
vaultdb_truncate_wal(struct vaultdb *d)
{
	sqlite3_wal_checkpoint_v2(d->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	    NULL, NULL);
}

/* ---- transactions ---- */

int
vaultdb_begin(struct vaultdb *d)
{
	return exec(d, "BEGIN IMMEDIATE");
}

/*
 * COMMIT, then copy it into the database file now, so the next flush
 * writes the WAL from its start again, into space it already has (left
 * to the auto-checkpoint the WAL grows until a full disk stops every
 * commit; tests/e2e/faults.sh).  PASSIVE never waits.
 */
int
vaultdb_commit(struct vaultdb *d, char *why, size_t whylen)
{
	if (exec(d, "COMMIT") != 0) {
		snprintf(why, whylen, "%s", sqlite3_errmsg(d->db));
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	sqlite3_wal_checkpoint_v2(d->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	return 0;
}

void
vaultdb_rollback(struct vaultdb *d)
{
	sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- rows ---- */

int
vaultdb_last_seq(struct vaultdb *d, int32_t week, int64_t *seq)
{
	*seq = scalar(d, "SELECT MAX(seq) FROM delta WHERE week = ?1", week,
	    0);
	return *seq == INT64_MIN ? -1 : 0;
}

int
vaultdb_put(struct vaultdb *d, int32_t week, int64_t seq,
    const uint8_t *blob, size_t len)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(d->db, "INSERT INTO delta(week, seq, blob)"
	    " VALUES(?1, ?2, ?3)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, week);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
vaultdb_rows(struct vaultdb *d, int32_t week, vaultdb_row_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(d->db, "SELECT seq, blob FROM delta WHERE"
	    " week = ?1 ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, week);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = fn(arg, sqlite3_column_int64(st, 0),
		    sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1));
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = -1;
	sqlite3_finalize(st);
	return ret;
}

int
vaultdb_has_rows(struct vaultdb *d, int32_t week)
{
	int64_t r;

	r = scalar(d, "SELECT 1 FROM delta WHERE week = ?1 LIMIT 1", week, 0);
	return r == INT64_MIN ? -1 : r != 0;
}

int
vaultdb_weeks(struct vaultdb *d, int32_t **weeks, size_t *n)
{
	sqlite3_stmt *st;
	int32_t *w = NULL;
	size_t nw = 0, cap = 0;

	*weeks = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(d->db, "SELECT DISTINCT week FROM delta ORDER"
	    " BY week", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (nw == cap) {
			void *np = realloc(w, (cap ? cap * 2 : 8) *
			    sizeof(*w));

			if (np == NULL)
				break;
			w = np;
			cap = cap ? cap * 2 : 8;
		}
		w[nw++] = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	*weeks = w;
	*n = nw;
	return 0;
}

/* ---- the outbox ---- */

int
vaultdb_outbox_init(struct vaultdb *d)
{
	/* WITHOUT ROWID: the id is the key, rows are replaced in place */
	return exec(d, "CREATE TABLE IF NOT EXISTS outbox(id BLOB PRIMARY KEY,"
	    " seq INTEGER NOT NULL, blob BLOB NOT NULL) WITHOUT ROWID;"
	    "CREATE INDEX IF NOT EXISTS outbox_seq ON outbox(seq);");
}

int
vaultdb_outbox_put(struct vaultdb *d, const uint8_t *id, int64_t seq,
    const uint8_t *blob, size_t len)
{
	sqlite3_stmt *st;
	int rc;

	if (len > INT32_MAX)
		return -1;
	if (d->ob_put == NULL && sqlite3_prepare_v2(d->db, "INSERT INTO"
	    " outbox(id, seq, blob) VALUES(?1, ?2, ?3) ON CONFLICT(id) DO"
	    " UPDATE SET seq = excluded.seq, blob = excluded.blob", -1,
	    &d->ob_put, NULL) != SQLITE_OK)
		return -1;
	st = d->ob_put;
	sqlite3_bind_blob(st, 1, id, VAULTDB_OUTBOX_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
vaultdb_outbox_rows(struct vaultdb *d, size_t max, vaultdb_outbox_fn fn,
    void *arg)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(d->db, "SELECT id, seq, blob FROM outbox"
	    " ORDER BY seq LIMIT ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* an id of another length is not ours: skipped, kept */
		if (sqlite3_column_bytes(st, 0) != VAULTDB_OUTBOX_ID)
			continue;
		ret = fn(arg, sqlite3_column_blob(st, 0),
		    sqlite3_column_int64(st, 1), sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2));
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = -1;
	sqlite3_finalize(st);
	return ret;
}

int
vaultdb_outbox_del(struct vaultdb *d, const uint8_t *id, int64_t seq)
{
	sqlite3_stmt *st;
	int rc;

	if (d->ob_del == NULL && sqlite3_prepare_v2(d->db, "DELETE FROM outbox"
	    " WHERE id = ?1 AND seq = ?2", -1, &d->ob_del, NULL) != SQLITE_OK)
		return -1;
	st = d->ob_del;
	sqlite3_bind_blob(st, 1, id, VAULTDB_OUTBOX_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int64_t
vaultdb_outbox_count(struct vaultdb *d)
{
	int64_t n = scalar(d, "SELECT COUNT(*) FROM outbox", 0, 0);

	return n == INT64_MIN ? -1 : n;
}

int64_t
vaultdb_outbox_bytes(struct vaultdb *d)
{
	int64_t n = scalar(d, "SELECT SUM(length(blob) + length(id))"
	    " FROM outbox", 0, 0);

	return n == INT64_MIN ? -1 : n;
}

int64_t
vaultdb_outbox_maxseq(struct vaultdb *d)
{
	int64_t n = scalar(d, "SELECT MAX(seq) FROM outbox", 0, 0);

	return n == INT64_MIN ? -1 : n;
}

uint64_t
vaultdb_bytes(struct vaultdb *d)
{
	int64_t n;

	n = scalar(d, "SELECT SUM(length(blob)) FROM delta", 0, 0);
	return n > 0 ? (uint64_t)n : 0;
}

int
vaultdb_replace(struct vaultdb *d, int32_t week, int64_t maxseq,
    const uint8_t *blob, size_t len)
{
	sqlite3_stmt *st;
	char why[256];
	int rc;

	if (exec(d, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (sqlite3_prepare_v2(d->db, "DELETE FROM delta WHERE week = ?1 AND"
	    " seq <= ?2", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(st, 1, week);
	sqlite3_bind_int64(st, 2, maxseq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || vaultdb_put(d, week, maxseq, blob, len) != 0 ||
	    vaultdb_commit(d, why, sizeof(why)) != 0)
		goto fail;
	return 0;
fail:
	exec(d, "ROLLBACK");
	return -1;
}

int
vaultdb_is_finalised(struct vaultdb *d, int32_t week)
{
	int64_t r;

	r = scalar(d, "SELECT 1 FROM finalised WHERE week = ?1", week, 0);
	return r == INT64_MIN ? -1 : r == 1;
}

int
vaultdb_finalise(struct vaultdb *d, int32_t week, int64_t now)
{
	sqlite3_stmt *st = NULL;
	char why[256];
	int rc;

	if (exec(d, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (sqlite3_prepare_v2(d->db, "DELETE FROM delta WHERE week = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(st, 1, week);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE || sqlite3_prepare_v2(d->db, "INSERT OR IGNORE"
	    " INTO finalised(week, at) VALUES(?1, ?2)", -1, &st,
	    NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(st, 1, week);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || vaultdb_commit(d, why, sizeof(why)) != 0)
		goto fail;
	return 0;
fail:
	exec(d, "ROLLBACK");
	return -1;
}

/* ---- version 1 ---- */

static int
count_rows(struct vaultdb *d, const char *table)
{
	char sql[128];

	if (db_has_table(d->db, table) != 1)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
	return (int)scalar(d, sql, 0, 0);
}

int
vaultdb_v1_sketch_rows(struct vaultdb *d)
{
	return count_rows(d, "sketch_hour") + count_rows(d, "devices_day") +
	    count_rows(d, "devices_week");
}

int
vaultdb_v1_weeks(struct vaultdb *d, int32_t *weeks, size_t max)
{
	sqlite3_stmt *st;
	size_t nw = 0;

	if (sqlite3_prepare_v2(d->db, "SELECT DISTINCT week FROM hour_dim"
	    " UNION SELECT DISTINCT week FROM devices_week ORDER BY 1", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	while (nw < max && sqlite3_step(st) == SQLITE_ROW)
		weeks[nw++] = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (int)nw;
}

int
vaultdb_v1_leaves(struct vaultdb *d, int32_t week, vaultdb_v1_fn fn,
    void *arg)
{
	sqlite3_stmt *st = NULL, *q = NULL;
	struct vaultdb_v1_leaf l;
	int srow, i, rc = -1;

	if (sqlite3_prepare_v2(d->db, "SELECT d.name, s.sid,"
	    " SUM(u.tls_conns), SUM(u.quic_conns), SUM(u.ech_conns),"
	    " SUM(u.dns_lookups), SUM(u.dns_nxdomain), SUM(u.bytes_up),"
	    " SUM(u.bytes_down), SUM(u.device_hours), u.dept, u.svc"
	    " FROM usage_hour u JOIN hour_dim h ON h.hour = u.hour"
	    " JOIN department d ON d.id = u.dept JOIN service s ON s.id = u.svc"
	    " WHERE h.week = ?1 GROUP BY u.dept, u.svc", -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(d->db, "SELECT sketch FROM"
	    " devices_week WHERE week = ?1 AND dept = ?2 AND svc = ?3", -1,
	    &q, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int(st, 1, week);
	while ((srow = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&l, 0, sizeof(l));
		l.dept = (const char *)sqlite3_column_text(st, 0);
		l.svc = (const char *)sqlite3_column_text(st, 1);
		for (i = 0; i < V1_N; i++)
			l.m[i] = (uint64_t)sqlite3_column_int64(st, 2 + i);
		sqlite3_reset(q);
		sqlite3_bind_int(q, 1, week);
		sqlite3_bind_int64(q, 2, sqlite3_column_int64(st, 10));
		sqlite3_bind_int64(q, 3, sqlite3_column_int64(st, 11));
		if (sqlite3_step(q) == SQLITE_ROW) {
			l.has_sketch = 1;
			l.sketch = sqlite3_column_blob(q, 0);
			l.sketch_len = (size_t)sqlite3_column_bytes(q, 0);
		}
		fn(arg, &l);
	}
	if (srow == SQLITE_DONE)
		rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(q);
	return rc;
}

int64_t
vaultdb_v1_coverage(struct vaultdb *d, int32_t week)
{
	return scalar(d, "SELECT COUNT(*) FROM capture_hour WHERE week = ?1"
	    " AND packets > 0", week, 0);
}

int
vaultdb_v1_replace(struct vaultdb *d)
{
	char sql[128];
	size_t i;

	if (exec(d, "BEGIN IMMEDIATE") != 0)
		return -1;
	for (i = 0; i < sizeof(v1_tables) / sizeof(v1_tables[0]); i++) {
		snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s",
		    v1_tables[i]);
		if (exec(d, sql) != 0)
			goto rollback;
	}
	if (exec(d, schema_v2) != 0 || exec(d, "COMMIT") != 0)
		goto rollback;
	/* the old pages (plaintext tokens) out of the file and the WAL */
	if (exec(d, "VACUUM") != 0)
		return -1;
	vaultdb_truncate_wal(d);
	return 0;
rollback:
	exec(d, "ROLLBACK");
	return -1;
}
