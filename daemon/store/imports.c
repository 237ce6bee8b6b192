/*
 * imports.c - the record of imported capture files in the release
 * database (imports.h).
 *
 * Its own connection to the release database file: the tables are the
 * record's, the release stage never reads them, and every write here
 * happens before the run reads a packet (imports_plan) or after it has
 * released everything (imports_done), never while the release stage
 * writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "common/period.h"
#include "store/imports.h"

/* No file name: it may carry an identifier (imports.h). */
static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS import(id INTEGER PRIMARY KEY,"
    " fingerprint TEXT NOT NULL, size INTEGER NOT NULL,"
    " first_usec INTEGER NOT NULL, last_usec INTEGER NOT NULL,"
    " packets INTEGER NOT NULL, imported_at INTEGER NOT NULL,"
    " done INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS import_period(import INTEGER NOT NULL,"
    " kind INTEGER NOT NULL, period INTEGER NOT NULL,"
    " PRIMARY KEY(import, kind, period)) WITHOUT ROWID;";

enum { KIND_DAY = 1, KIND_WEEK = 2 };	/* rel_kind's values */

struct per {
	int		 kind;
	int32_t		 period;
};

struct pers {
	struct per	*v;
	size_t		 n, cap;
};

struct rec {
	int64_t		 id;
	char		 fingerprint[IMPORT_FP_HEX];
	int64_t		 first_usec, last_usec, at;
	uint64_t	 packets;
	int		 done;
	struct pers	 p;
	int		 in;		/* in the set being replaced */
};

struct imports {
	sqlite3		*db;
	int64_t		*ids;		/* this run's imports */
	size_t		 nids;
};

static int
pers_has(const struct pers *s, int kind, int32_t period)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].kind == kind && s->v[i].period == period)
			return 1;
	return 0;
}

/* 1 added, 0 already there, -1 out of memory */
static int
pers_add(struct pers *s, int kind, int32_t period)
{
	if (pers_has(s, kind, period))
		return 0;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct per *v = reallocarray(s->v, ncap, sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = ncap;
	}
	s->v[s->n].kind = kind;
	s->v[s->n].period = period;
	s->n++;
	return 1;
}

/* The days and ISO weeks from first to last packet, local time. */
static int
file_periods(const struct import_file *f, struct pers *s)
{
	struct period a, b;
	int32_t d;
	int guard = 0;

	period_of(f->first_usec / 1000000, &a);
	period_of(f->last_usec / 1000000, &b);
	for (d = a.day; ; d = period_day_add(d, 1)) {
		if (pers_add(s, KIND_DAY, d) < 0 ||
		    pers_add(s, KIND_WEEK, period_day_week(d)) < 0)
			return -1;
		if (d >= b.day || ++guard > 366 * 100)
			break;
	}
	return 0;
}

static void
fmt_time(int64_t sec, char *buf, size_t len)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)sec);
}

static void
fmt_period(const struct per *p, char *buf, size_t len)
{
	char s[16];

	if (p->kind == KIND_DAY)
		period_day_format(p->period, s, sizeof(s));
	else
		period_week_format(p->period, s, sizeof(s));
	snprintf(buf, len, "%s %s", p->kind == KIND_DAY ? "day" : "week", s);
}

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/*
 * A record written before names were dropped has a name column: the
 * table is copied without it.  secure_delete (set for this connection
 * in imports_open) overwrites the old rows' bytes as their pages are
 * freed, so no name is left in the file's free pages either.  1 done,
 * 0 nothing to do, -1 error.
 */
static int
drop_names(sqlite3 *db)
{
	sqlite3_stmt *st;
	int has;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM"
	    " pragma_table_info('import') WHERE name = 'name'", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	has = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	if (!has)
		return 0;
	if (exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (exec(db, "UPDATE import SET name = ''") != 0 ||
	    exec(db, "CREATE TABLE import_new(id INTEGER PRIMARY KEY,"
	    " fingerprint TEXT NOT NULL, size INTEGER NOT NULL,"
	    " first_usec INTEGER NOT NULL, last_usec INTEGER NOT NULL,"
	    " packets INTEGER NOT NULL, imported_at INTEGER NOT NULL,"
	    " done INTEGER NOT NULL)") != 0 ||
	    exec(db, "INSERT INTO import_new SELECT id, fingerprint, size,"
	    " first_usec, last_usec, packets, imported_at, done FROM"
	    " import") != 0 ||
	    exec(db, "DROP TABLE import") != 0 ||
	    exec(db, "ALTER TABLE import_new RENAME TO import") != 0 ||
	    exec(db, "COMMIT") != 0) {
		exec(db, "ROLLBACK");
		return -1;
	}
	return 1;
}

int
imports_migrate(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(db, 5000);
	if (exec(db, "PRAGMA secure_delete = ON") != 0 ||
	    (rc = drop_names(db)) < 0)
		goto fail;
	sqlite3_close(db);
	return rc;
fail:
	snprintf(err, errlen, "%s: cannot remove the file names of the "
	    "import record: %s", path, db ? sqlite3_errmsg(db) :
	    "cannot open");
	sqlite3_close(db);
	return -1;
}

struct imports *
imports_open(const char *path, char *err, size_t errlen)
{
	struct imports *im;

	if ((im = calloc(1, sizeof(*im))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &im->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, im->db ?
		    sqlite3_errmsg(im->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(im->db, 5000);
	if (exec(im->db, "PRAGMA secure_delete = ON") != 0 ||
	    drop_names(im->db) < 0 || exec(im->db, schema_sql) != 0) {
		snprintf(err, errlen, "%s: cannot keep the import record: %s",
		    path, sqlite3_errmsg(im->db));
		goto fail;
	}
	return im;
fail:
	imports_close(im);
	return NULL;
}

void
imports_close(struct imports *im)
{
	if (im == NULL)
		return;
	sqlite3_close(im->db);
	free(im->ids);
	free(im);
}

static void
recs_free(struct rec *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(r[i].p.v);
	free(r);
}

/* Every earlier import with the periods it fed. */
static int
recs_load(sqlite3 *db, struct rec **out, size_t *nout)
{
	sqlite3_stmt *st = NULL;
	struct rec *r = NULL, *nr;
	size_t n = 0, cap = 0, i;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT id, fingerprint,"
	    " first_usec, last_usec, imported_at, done, packets FROM import"
	    " ORDER BY id", -1, &st,
	    NULL) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nr = reallocarray(r, cap, sizeof(*r))) == NULL)
				goto fail;
			r = nr;
		}
		memset(&r[n], 0, sizeof(r[n]));
		r[n].id = sqlite3_column_int64(st, 0);
		snprintf(r[n].fingerprint, sizeof(r[n].fingerprint), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		r[n].first_usec = sqlite3_column_int64(st, 2);
		r[n].last_usec = sqlite3_column_int64(st, 3);
		r[n].at = sqlite3_column_int64(st, 4);
		r[n].done = sqlite3_column_int(st, 5);
		r[n].packets = (uint64_t)sqlite3_column_int64(st, 6);
		n++;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "SELECT import, kind, period FROM"
	    " import_period", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		for (i = 0; i < n; i++)
			if (r[i].id == id && pers_add(&r[i].p,
			    sqlite3_column_int(st, 1),
			    sqlite3_column_int(st, 2)) < 0)
				goto fail;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	*out = r;
	*nout = n;
	return 0;
fail:
	sqlite3_finalize(st);
	recs_free(r, n);
	return -1;
}

/* 1 when the release database holds the period, 0 not, -1 error. */
static int
released(sqlite3 *db, const struct per *p)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM period WHERE kind = ?1 AND"
	    " period = ?2", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, p->kind);
	sqlite3_bind_int(st, 2, p->period);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The same capture as an earlier import: the same fingerprint (size,
 * first and last MiB), time span and packet count.  Two captures that
 * share size, head and tail but not their span or count are different
 * files, whose time spans then decide.
 */
static int
same_file(const struct rec *r, const struct import_file *f)
{
	return strcmp(r->fingerprint, f->fingerprint) == 0 &&
	    r->first_usec == f->first_usec && r->last_usec == f->last_usec &&
	    r->packets == f->packets;
}

/*
 * An earlier import, by what the record keeps: a fingerprint prefix
 * (enough to tell imports apart; docs/SCHEMA.md says how to compute
 * a file's) and its time span, which the operator finds the file by.
 */
#define IMPORT_FP_SHORT	12

static void
import_desc(const struct rec *r, char *buf, size_t len)
{
	char at[40], t1[40], t2[40];

	fmt_time(r->at, at, sizeof(at));
	fmt_time(r->first_usec / 1000000, t1, sizeof(t1));
	fmt_time(r->last_usec / 1000000, t2, sizeof(t2));
	snprintf(buf, len, "the import with fingerprint %.*s (packets %s .. "
	    "%s, imported %s%s)", IMPORT_FP_SHORT, r->fingerprint, t1, t2, at,
	    r->done ? "" : ", a run that did not finish");
}

/*
 * Adds to the set every import that fed a period of q, and q every
 * period of the set, until nothing changes.  -1 with err when a period
 * was released without a record.
 */
static int
closure(sqlite3 *db, struct rec *r, size_t nr, struct pers *q,
    int flags, const char *who, char *err, size_t errlen)
{
	size_t i, j;
	int changed, rc;
	char ps[40];

	do {
		changed = 0;
		for (i = 0; i < nr; i++) {
			if (!r[i].in)
				continue;
			for (j = 0; j < r[i].p.n; j++) {
				if ((rc = pers_add(q, r[i].p.v[j].kind,
				    r[i].p.v[j].period)) < 0)
					goto oom;
				changed |= rc;
			}
		}
		for (j = 0; j < q->n; j++) {
			int owned = 0;

			if ((rc = released(db, &q->v[j])) < 0)
				goto dberr;
			for (i = 0; i < nr; i++)
				if (pers_has(&r[i].p, q->v[j].kind,
				    q->v[j].period)) {
					owned = 1;
					if (!r[i].in && rc == 1) {
						r[i].in = 1;
						changed = 1;
					}
				}
			if (rc == 1 && !owned &&
			    !(flags & IMPORT_UNRECORDED)) {
				fmt_period(&q->v[j], ps, sizeof(ps));
				snprintf(err, errlen, "%s falls in %s, which was "
				    "released without an import record (by a live "
				    "capture, or before import records were kept): "
				    "a period is released once, so its counts there "
				    "would be lost, and that release cannot be "
				    "replaced; refused", who, ps);
				return -1;
			}
		}
	} while (changed);
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
dberr:
	snprintf(err, errlen, "import record: %s", sqlite3_errmsg(db));
	return -1;
}

/* The first conflict of file f with an earlier import, as a refusal. */
static int
conflict(sqlite3 *db, const struct import_file *f, const struct pers *fp,
    struct rec *r, size_t nr, int flags, char *err, size_t errlen)
{
	char desc[512], ps[40];
	size_t i, j;
	int rc;

	for (i = 0; i < nr; i++)
		if (same_file(&r[i], f)) {
			import_desc(&r[i], desc, sizeof(desc));
			snprintf(err, errlen, "%s was already imported: %s has "
			    "the same fingerprint (size, first and last MiB), "
			    "time span and packets; reading it again would count "
			    "nothing (its periods are released once); pass "
			    "--replace to release them again from this reading",
			    f->path, desc);
			return 1;
		}
	for (i = 0; i < nr; i++)
		if (f->first_usec <= r[i].last_usec &&
		    r[i].first_usec <= f->last_usec) {
			import_desc(&r[i], desc, sizeof(desc));
			snprintf(err, errlen, "%s overlaps in time %s: the same traffic would be counted twice, or "
			    "dropped; pass --replace to release its periods "
			    "again from this reading", f->path, desc);
			return 1;
		}
	for (j = 0; j < fp->n; j++) {
		if ((rc = released(db, &fp->v[j])) < 0) {
			snprintf(err, errlen, "import record: %s",
			    sqlite3_errmsg(db));
			return -1;
		}
		if (rc == 0)
			continue;
		for (i = 0; i < nr; i++)
			if (pers_has(&r[i].p, fp->v[j].kind, fp->v[j].period))
				break;
		fmt_period(&fp->v[j], ps, sizeof(ps));
		if (i == nr && (flags & IMPORT_UNRECORDED))
			continue;
		if (i == nr) {
			snprintf(err, errlen, "%s falls in %s, which was released "
			    "without an import record (by a live capture, or "
			    "before import records were kept): a period is "
			    "released once, so its counts there would be lost; "
			    "refused", f->path, ps);
			return -1;
		}
		import_desc(&r[i], desc, sizeof(desc));
		snprintf(err, errlen, "%s falls in %s, already released from "
		    "%s: a period is released once, so the counts of %s there "
		    "would be lost; read the files of that period together in "
		    "one run with --replace", f->path, ps, desc, f->path);
		return 1;
	}
	return 0;
}

/* Does this run give r again (its bytes, or a file spanning its time)? */
static int
covered(const struct rec *r, const struct import_file *f, size_t n,
    int flags)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same_file(r, &f[i]) ||
		    (!(flags & IMPORT_SAME_ONLY) &&
		    f[i].first_usec <= r->first_usec &&
		    r->last_usec <= f[i].last_usec))
			return 1;
	return 0;
}

static int
delete_period(sqlite3 *db, const struct per *p)
{
	static const char *const sql[] = {
		"DELETE FROM cell WHERE kind = ?1 AND period = ?2",
		"DELETE FROM dim WHERE kind = ?1 AND period = ?2",
		"DELETE FROM blind WHERE ?1 = 1 AND day = ?2",
		"DELETE FROM period WHERE kind = ?1 AND period = ?2",
	};
	sqlite3_stmt *st;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return -1;
		sqlite3_bind_int(st, 1, p->kind);
		sqlite3_bind_int(st, 2, p->period);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return -1;
	}
	return 0;
}

static int
delete_import(sqlite3 *db, int64_t id)
{
	static const char *const sql[] = {
		"DELETE FROM import_period WHERE import = ?1",
		"DELETE FROM import WHERE id = ?1",
	};
	sqlite3_stmt *st;
	size_t i;
	int rc;

	for (i = 0; i < 2; i++) {
		if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return -1;
	}
	return 0;
}

static int
insert_import(sqlite3 *db, const struct import_file *f,
    const struct pers *fp, int64_t now, int64_t *id)
{
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO import(fingerprint, size,"
	    " first_usec, last_usec, packets, imported_at, done)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, 0)", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, f->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)f->size);
	sqlite3_bind_int64(st, 3, f->first_usec);
	sqlite3_bind_int64(st, 4, f->last_usec);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)f->packets);
	sqlite3_bind_int64(st, 6, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	*id = sqlite3_last_insert_rowid(db);
	if (sqlite3_prepare_v2(db, "INSERT INTO import_period VALUES(?1, ?2,"
	    " ?3)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < fp->n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int(st, 2, fp->v[i].kind);
		sqlite3_bind_int(st, 3, fp->v[i].period);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	return 0;
}

int
imports_plan(struct imports *im, const struct import_file *f, size_t n,
    int flags, int64_t now, size_t *replaced, char *err, size_t errlen)
{
	int replace = (flags & IMPORT_REPLACE) != 0;
	struct pers *fp = NULL, q;
	struct rec *r = NULL;
	size_t nr = 0, i, j;
	int rc = -1, c, began = 0;
	char desc[512], ps[40];

	*replaced = 0;
	memset(&q, 0, sizeof(q));
	free(im->ids);
	im->nids = 0;
	if ((im->ids = calloc(n ? n : 1, sizeof(*im->ids))) == NULL ||
	    (fp = calloc(n ? n : 1, sizeof(*fp))) == NULL)
		goto oom;
	/* a write lock from the start: nobody changes what is checked */
	if (exec(im->db, "BEGIN IMMEDIATE") != 0)
		goto dberr;
	began = 1;
	if (recs_load(im->db, &r, &nr) != 0)
		goto dberr;
	for (i = 0; i < n; i++)
		if (file_periods(&f[i], &fp[i]) != 0)
			goto oom;
	for (i = 0; i < n; i++) {
		if ((c = conflict(im->db, &f[i], &fp[i], r, nr, flags, err,
		    errlen)) < 0)
			goto out;
		if (c == 0)
			continue;
		if (!replace)
			goto out;
		/* replace: everything this run touches, and what it holds */
		for (j = 0; j < nr; j++)
			if (same_file(&r[j], &f[i]) ||
			    (f[i].first_usec <= r[j].last_usec &&
			    r[j].first_usec <= f[i].last_usec))
				r[j].in = 1;
	}
	err[0] = '\0';
	for (i = 0; i < n; i++)
		for (j = 0; j < fp[i].n; j++)
			if (pers_add(&q, fp[i].v[j].kind, fp[i].v[j].period) < 0)
				goto oom;
	if (closure(im->db, r, nr, &q, flags, n == 1 ? f[0].path :
	    "this run", err, errlen) != 0)
		goto out;
	for (i = 0; i < nr; i++) {
		if (!r[i].in)
			continue;
		if (!covered(&r[i], f, n, flags)) {
			import_desc(&r[i], desc, sizeof(desc));
			if (flags & IMPORT_SAME_ONLY) {
				snprintf(err, errlen, "--replace with a central "
				    "group: %s is not given again (the same "
				    "fingerprint, time span and packets), "
				    "and the central database keeps the cells "
				    "its reading shipped, which a different "
				    "reading cannot take back; refused", desc);
				goto out;
			}
			ps[0] = '\0';
			if (r[i].p.n > 0)
				fmt_period(&r[i].p.v[0], ps, sizeof(ps));
			snprintf(err, errlen, "--replace: the periods this run "
			    "would release again (%s among them) also hold %s, "
			    "which this run does not give again: give that file "
			    "too (or one spanning its time)", ps, desc);
			goto out;
		}
	}
	/*
	 * Central: the same file is read and shipped again; the periods
	 * stay as they are, and so do their import rows.
	 */
	for (i = 0; replace && i < nr; i++)
		if (r[i].in) {
			if (!(flags & IMPORT_SAME_ONLY) &&
			    delete_import(im->db, r[i].id) != 0)
				goto dberr;
			(*replaced)++;
		}
	for (i = 0; replace && !(flags & IMPORT_SAME_ONLY) && i < q.n; i++)
		if (delete_period(im->db, &q.v[i]) != 0)
			goto dberr;
	for (i = 0; i < n; i++) {
		for (j = 0; (flags & IMPORT_SAME_ONLY) && j < nr; j++)
			if (r[j].in && same_file(&r[j], &f[i]))
				break;
		if ((flags & IMPORT_SAME_ONLY) && j < nr)
			continue;
		if (insert_import(im->db, &f[i], &fp[i], now,
		    &im->ids[im->nids]) != 0)
			goto dberr;
		im->nids++;
	}
	if (exec(im->db, "COMMIT") != 0)
		goto dberr;
	began = 0;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
	goto out;
dberr:
	snprintf(err, errlen, "import record: %s", sqlite3_errmsg(im->db));
out:
	if (began)
		exec(im->db, "ROLLBACK");
	if (rc != 0) {
		*replaced = 0;
		im->nids = 0;
	}
	for (i = 0; fp != NULL && i < n; i++)
		free(fp[i].v);
	free(fp);
	free(q.v);
	recs_free(r, nr);
	return rc;
}

int
imports_done(struct imports *im)
{
	sqlite3_stmt *st;
	size_t i;
	int rc = 0;

	if (im == NULL)
		return 0;
	if (sqlite3_prepare_v2(im->db, "UPDATE import SET done = 1 WHERE"
	    " id = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < im->nids && rc == 0; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, im->ids[i]);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}
