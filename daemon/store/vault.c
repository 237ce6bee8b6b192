/*
 * vault.c - the raw working database: sealed week accumulators, flushes
 * in slices, day and week release, crypto-shredding, v1 migration.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "aggregate/agg.h"
#include "detect/catalog.h"
#include "store/dbutil.h"
#include "common/log.h"
#include "common/period.h"
#include "release/release.h"
#include "aggregate/sketch.h"
#include "store/vault.h"
#include "aggregate/wacc.h"
#include "attribute/weekkey.h"

#define VAULT_AAD_LABEL	"aicensus-vault-1"

static const char schema_v2[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
	"  WITHOUT ROWID;"
	"CREATE TABLE delta(week INTEGER NOT NULL, seq INTEGER NOT NULL,"
	"  blob BLOB NOT NULL, PRIMARY KEY(week, seq));"
	"CREATE TABLE finalised(week INTEGER PRIMARY KEY, at INTEGER NOT NULL);"
	"INSERT INTO meta(key, value) VALUES('schema_version', '2');"
	"PRAGMA user_version = 2;";

/* One week of a flush under way. */
struct fweek {
	int32_t		 week;
	int		 drop;		/* finalised: counted late, not sealed */
	struct wacc	*w;
};

struct vault {
	sqlite3		*db;
	struct weekkey	*keys;
	char		**dept, **svc;
	size_t		 ndept, nsvc;
	int		 failing;
	uint64_t	 late;		/* committed as BL_LATE */
	uint64_t	 late_pending;	/* counted, not yet in a sealed hour */
	/*
	 * Days sealed since the last release pass (kept in memory only), so
	 * that a pass with nothing due opens no row; scan_all after open or
	 * a failed pass: every week is opened.
	 */
	struct wday { int32_t week, day; } *pd, *fl_pd;
	size_t		 npd, capd, nfl_pd, capfl_pd;
	int		 scan_all;
	uint64_t	 bytes;		/* vault_bytes() last time */
	/* a flush in slices */
	struct agg	*fl_agg;
	int		 fl_phase;
	struct fweek	*fw;
	size_t		 nfw;
	size_t		 fl_next;
	const struct agg_cell *fl_cell;
	const struct agg_hour *fl_hour;
	uint64_t	 fl_late;
	uint64_t	 fl_late_used;
	struct wacc_ser	*fl_ser;	/* the week being serialised */
	uint8_t		*fl_pt;		/* serialised, to be sealed */
	size_t		 fl_ptlen;
	/* its COMMIT on a thread */
	pthread_t	 fl_thr;
	int		 fl_thr_on;
	atomic_int	 fl_thr_done;
	int		 fl_thr_rc;
	char		 fl_why[256];
};

enum { PH_CELLS, PH_HOURS, PH_SEAL, PH_COMMIT };

static int
exec(struct vault *v, const char *sql)
{
	return sqlite3_exec(v->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void
aad_make(uint8_t aad[sizeof(VAULT_AAD_LABEL) - 1 + 12], int32_t week,
    int64_t seq)
{
	size_t n = sizeof(VAULT_AAD_LABEL) - 1;
	int i;

	memcpy(aad, VAULT_AAD_LABEL, n);
	for (i = 0; i < 4; i++)
		aad[n + i] = (uint8_t)((uint32_t)week >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		aad[n + 4 + i] = (uint8_t)((uint64_t)seq >> (56 - 8 * i));
}
#define AADLEN	(sizeof(VAULT_AAD_LABEL) - 1 + 12)

/* Seal a serialised wacc of the week; *out malloc'd.  0 ok, -1 failed. */
static int
seal_buf(struct vault *v, int32_t week, int64_t seq, const uint8_t *pt,
    size_t n, uint8_t **out, size_t *outlen)
{
	uint8_t *ct, aad[AADLEN];

	*out = NULL;
	if ((ct = malloc(n + WEEKKEY_SEAL_OVERHEAD)) == NULL)
		return -1;
	aad_make(aad, week, seq);
	if (weekkey_seal(v->keys, week, aad, AADLEN, pt, n, ct) != 0) {
		free(ct);
		return -1;
	}
	*out = ct;
	*outlen = n + WEEKKEY_SEAL_OVERHEAD;
	return 0;
}

static void
free_pt(uint8_t *pt, size_t n)
{
	if (pt != NULL) {
		explicit_bzero(pt, n);
		free(pt);
	}
}

/* Seal w; *out malloc'd.  0 ok, -1 failed. */
static int
seal_wacc(struct vault *v, const struct wacc *w, int64_t seq, uint8_t **out,
    size_t *outlen)
{
	size_t n;
	uint8_t *pt;
	int rc;

	*out = NULL;
	if ((pt = wacc_serialize_alloc(w, &n)) == NULL)
		return -1;
	rc = seal_buf(v, wacc_week(w), seq, pt, n, out, outlen);
	free_pt(pt, n);
	return rc;
}

static int64_t
scalar(struct vault *v, const char *sql, int64_t a, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t r = dflt;

	if (sqlite3_prepare_v2(v->db, sql, -1, &st, NULL) != SQLITE_OK)
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

static int
put_row(struct vault *v, int32_t week, int64_t seq, const uint8_t *blob,
    size_t len)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(v->db, "INSERT INTO delta(week, seq, blob)"
	    " VALUES(?1, ?2, ?3)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, week);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- opening ---- */

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

static int
n_tables(sqlite3 *db)
{
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sqlite_master",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * The raw database is for its owner only: refuse one that others may
 * read (the fix is named), create a new one 0600 before SQLite opens it.
 */
static int
check_mode(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	if (stat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode)) {
			snprintf(err, errlen, "database %s is not a regular "
			    "file", path);
			return -1;
		}
		if (sb.st_mode & 077) {
			snprintf(err, errlen, "database %s is accessible to "
			    "group or others (mode %04o); it holds the raw "
			    "counts: chmod 600 %s", path,
			    (unsigned)(sb.st_mode & 07777), path);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "database %s: %s", path, strerror(errno));
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0) {
		snprintf(err, errlen, "cannot create database %s: %s", path,
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int migrate_v1(struct vault *, struct reldb *, const struct rel_dims *,
	    const struct rel_params *, char *, size_t);

struct vault *
vault_open(const char *path, struct weekkey *keys, struct reldb *rel,
    const struct rel_dims *dims, const struct rel_params *params, char *err,
    size_t errlen)
{
	struct vault *v;
	sqlite3_stmt *st;
	int rc, ver, migrated = 0;

	if ((v = calloc(1, sizeof(*v))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->keys = keys;
	v->scan_all = 1;
	if (path != NULL && check_mode(path, err, errlen) != 0)
		goto fail2;
	rc = sqlite3_open_v2(path ? path : ":memory:", &v->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s",
		    path ? path : "(memory)",
		    v->db ? sqlite3_errmsg(v->db) : "out of memory");
		goto fail;
	}
	/* a damaged or foreign file is refused, never "repaired" */
	rc = sqlite3_prepare_v2(v->db, "PRAGMA quick_check", -1, &st, NULL);
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
	if ((path != NULL && exec(v, "PRAGMA journal_mode = WAL") != 0) ||
	    exec(v, "PRAGMA synchronous = NORMAL") != 0 ||
	    exec(v, "PRAGMA secure_delete = ON") != 0) {
		snprintf(err, errlen, "database %s: %s", path,
		    sqlite3_errmsg(v->db));
		goto fail;
	}
	sqlite3_busy_timeout(v->db, 250);
	if (user_version(v->db, &ver) != 0) {
		snprintf(err, errlen, "database %s: %s", path,
		    sqlite3_errmsg(v->db));
		goto fail;
	}
	if (ver > VAULT_SCHEMA_VERSION) {
		snprintf(err, errlen, "database %s: schema version %d is newer "
		    "than this aicensusd understands (%d): use a newer "
		    "aicensusd", path, ver, VAULT_SCHEMA_VERSION);
		goto fail;
	}
	if (ver == 1 && db_has_table(v->db, "usage_hour") == 1) {
		if (migrate_v1(v, rel, dims, params, err, errlen) != 0)
			goto fail;
		migrated = 1;
	} else if (ver == 0) {
		if (n_tables(v->db) != 0) {
			snprintf(err, errlen, "database %s has tables but no "
			    "aicensus schema version; refusing to touch it",
			    path);
			goto fail;
		}
		if (exec(v, "BEGIN IMMEDIATE") != 0 ||
		    exec(v, schema_v2) != 0 || exec(v, "COMMIT") != 0) {
			snprintf(err, errlen, "database %s: cannot create the "
			    "schema: %s", path, sqlite3_errmsg(v->db));
			exec(v, "ROLLBACK");
			goto fail;
		}
	} else if (ver != VAULT_SCHEMA_VERSION ||
	    db_has_table(v->db, "delta") != 1) {
		snprintf(err, errlen, "database %s: schema version %d is not "
		    "one this aicensusd can use", path, ver);
		goto fail;
	}
	/* the zone its days and weeks are local to (bookkeeping, plaintext) */
	if (dims != NULL && dims->timezone != NULL) {
		if (sqlite3_prepare_v2(v->db, "INSERT OR REPLACE INTO meta(key,"
		    " value) VALUES('timezone', ?1)", -1, &st, NULL) ==
		    SQLITE_OK) {
			sqlite3_bind_text(st, 1, *dims->timezone ?
			    dims->timezone : "system", -1, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	/* after a migration the WAL ends empty: no old page image in it */
	if (migrated)
		sqlite3_wal_checkpoint_v2(v->db, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return v;
fail:
	vault_close(v);
	return NULL;
fail2:
	free(v);
	return NULL;
}

static void
free_dims(struct vault *v)
{
	size_t i;

	for (i = 0; v->dept && i < v->ndept; i++)
		free(v->dept[i]);
	for (i = 0; v->svc && i < v->nsvc; i++)
		free(v->svc[i]);
	free(v->dept);
	free(v->svc);
	v->dept = v->svc = NULL;
	v->ndept = v->nsvc = 0;
}

static void
fl_free(struct vault *v)
{
	size_t i;

	for (i = 0; i < v->nfw; i++)
		wacc_free(v->fw[i].w);
	free(v->fw);
	v->fw = NULL;
	v->nfw = 0;
	v->nfl_pd = 0;
	wacc_ser_free(v->fl_ser);
	v->fl_ser = NULL;
	free_pt(v->fl_pt, v->fl_ptlen);
	v->fl_pt = NULL;
	v->fl_ptlen = 0;
	v->fl_agg = NULL;
}

void
vault_close(struct vault *v)
{
	if (v == NULL)
		return;
	vault_flush_abort(v);
	if (v->db != NULL)
		sqlite3_close(v->db);
	free_dims(v);
	free(v->pd);
	free(v->fl_pd);
	free(v);
}

void
vault_set_dims(struct vault *v, char *const *dept, size_t ndept,
    const struct catalog *cat)
{
	size_t i, n = cat ? catalog_count(cat) : 0;

	free_dims(v);
	v->dept = calloc(ndept + 1, sizeof(*v->dept));
	v->svc = calloc(n + 1, sizeof(*v->svc));
	if (v->dept == NULL || v->svc == NULL)
		goto fail;
	for (i = 0; i < ndept; i++, v->ndept++)
		if ((v->dept[i] = strdup(dept[i])) == NULL)
			goto fail;
	for (i = 0; i < n; i++, v->nsvc++)
		if ((v->svc[i] = strdup(catalog_service(cat, i)->id)) == NULL)
			goto fail;
	return;
fail:
	/* nothing named: cells are kept in the agg until a flush can name them */
	log_warn("vault: out of memory naming departments and services");
	free_dims(v);
}

uint64_t
vault_late(const struct vault *v)
{
	return v->late;
}

uint64_t
vault_bytes(struct vault *v)
{
	int64_t n;

	/* the connection is the COMMIT thread's while it runs */
	if (v->fl_thr_on)
		return v->bytes;
	n = scalar(v, "SELECT SUM(length(blob)) FROM delta", 0, 0);
	v->bytes = n > 0 ? (uint64_t)n : 0;
	return v->bytes;
}

/* ---- flushing ---- */

static uint64_t
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
flush_failed(struct vault *v, const char *why)
{
	if (!v->failing)
		log_warn("database flush failed (%s); keeping counts in memory "
		    "and retrying at the next flush", why);
	v->failing = 1;
	fl_free(v);
}

static struct fweek *
fweek_of(struct vault *v, int32_t week)
{
	size_t i;

	for (i = 0; i < v->nfw; i++)
		if (v->fw[i].week == week)
			return &v->fw[i];
	return NULL;
}

static int
fweek_add(struct vault *v, int32_t week)
{
	struct fweek *f;
	int64_t fin;

	if (fweek_of(v, week) != NULL)
		return 0;
	if ((f = realloc(v->fw, (v->nfw + 1) * sizeof(*f))) == NULL)
		return -1;
	v->fw = f;
	f = &v->fw[v->nfw];
	memset(f, 0, sizeof(*f));
	f->week = week;
	fin = scalar(v, "SELECT 1 FROM finalised WHERE week = ?1", week, 0);
	if (fin == INT64_MIN)
		return -1;
	f->drop = fin == 1;
	if (!f->drop && ((f->w = wacc_new(week)) == NULL ||
	    weekkey_ensure(v->keys, week) != 0)) {
		wacc_free(f->w);
		return -1;
	}
	v->nfw++;
	return 0;
}

int
vault_flush_begin(struct vault *v, struct agg *a)
{
	const struct agg_cell *c;
	const struct agg_hour *h;
	char why[256];

	if (v->fl_agg != NULL)
		return -1;	/* one at a time: a caller's bug */
	if (agg_empty(a))
		return 0;
	if (exec(v, "BEGIN IMMEDIATE") != 0) {
		snprintf(why, sizeof(why), "%s", sqlite3_errmsg(v->db));
		flush_failed(v, why);
		return -1;
	}
	v->fl_agg = a;
	for (c = agg_cells(a); c != NULL; c = c->all)
		if (fweek_add(v, c->per.week) != 0)
			goto fail;
	for (h = agg_hours(a); h != NULL; h = h->next)
		if (fweek_add(v, h->per.week) != 0)
			goto fail;
	v->fl_phase = PH_CELLS;
	v->fl_cell = agg_cells(a);
	v->fl_hour = agg_hours(a);
	v->fl_next = 0;
	v->fl_late = 0;
	v->fl_late_used = 0;
	return 1;
fail:
	snprintf(why, sizeof(why), "%s", *sqlite3_errmsg(v->db) &&
	    sqlite3_errcode(v->db) != SQLITE_OK ? sqlite3_errmsg(v->db) :
	    "cannot prepare the week's accumulator or key");
	exec(v, "ROLLBACK");
	flush_failed(v, why);
	return -1;
}

int
vault_flush_busy(const struct vault *v)
{
	return v->fl_agg != NULL;
}

static int
wday_add(struct wday **a, size_t *n, size_t *cap, int32_t week, int32_t day)
{
	size_t i;

	for (i = *n; i-- > 0; )
		if ((*a)[i].day == day)
			return 0;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		void *np = realloc(*a, nc * sizeof(**a));

		if (np == NULL)
			return -1;
		*a = np;
		*cap = nc;
	}
	(*a)[*n].week = week;
	(*a)[(*n)++].day = day;
	return 0;
}

static int
flush_cell(struct vault *v, const struct agg_cell *c)
{
	struct fweek *f = fweek_of(v, c->per.week);
	const char *dept;

	if (f == NULL)
		return -1;
	if (f->drop) {
		/* a released week: never sealed, never published */
		v->fl_late += c->c[C_TLS] + c->c[C_QUIC] + c->c[C_ECH] +
		    c->c[C_DNS];
		return 0;
	}
	if (c->svc < 0 || (size_t)c->svc >= v->nsvc)
		return 0;	/* left the configuration: nowhere to go */
	dept = c->dept >= 0 && (size_t)c->dept < v->ndept ? v->dept[c->dept] :
	    REL_UNASSIGNED;
	if (wday_add(&v->fl_pd, &v->nfl_pd, &v->capfl_pd, c->per.week,
	    c->per.day) != 0)
		return -1;
	return wacc_add_cell(f->w, c->per.hour, c->per.day, dept,
	    v->svc[c->svc], c->c, &c->dev);
}

static int
flush_hour(struct vault *v, const struct agg_hour *h)
{
	struct fweek *f = fweek_of(v, h->per.week);

	if (f == NULL)
		return -1;
	if (f->drop)
		return 0;
	if (wday_add(&v->fl_pd, &v->nfl_pd, &v->capfl_pd, h->per.week,
	    h->per.day) != 0)
		return -1;
	return wacc_add_blind(f->w, h->per.hour, h->per.day, h->b, h->anom);
}

/*
 * What was dropped as late is counted in the newest hour of a week still
 * open (the day it arrived); with none in this flush it waits for the
 * next.
 */
static int
place_late(struct vault *v)
{
	const struct agg_hour *h, *best = NULL;
	uint64_t b[BL_N] = { 0 };
	struct fweek *f;

	b[BL_LATE] = v->fl_late + v->late_pending;
	if (b[BL_LATE] == 0)
		return 0;
	for (h = agg_hours(v->fl_agg); h != NULL; h = h->next)
		if ((f = fweek_of(v, h->per.week)) != NULL && !f->drop &&
		    (best == NULL || h->per.hour > best->per.hour))
			best = h;
	if (best == NULL)
		return 0;
	f = fweek_of(v, best->per.week);
	if (wacc_add_blind(f->w, best->per.hour, best->per.day, b, NULL) != 0)
		return -1;
	v->fl_late_used = b[BL_LATE];
	return 0;
}

/* The serialised week (v->fl_pt) sealed and written as its next row. */
static int
seal_week(struct vault *v, const struct fweek *f)
{
	int64_t seq;
	uint8_t *blob;
	size_t len;
	int rc;

	seq = scalar(v, "SELECT MAX(seq) FROM delta WHERE week = ?1", f->week,
	    0);
	if (seq == INT64_MIN)
		return -1;
	rc = seal_buf(v, f->week, seq + 1, v->fl_pt, v->fl_ptlen, &blob, &len);
	free_pt(v->fl_pt, v->fl_ptlen);
	v->fl_pt = NULL;
	v->fl_ptlen = 0;
	if (rc != 0) {
		snprintf(v->fl_why, sizeof(v->fl_why), "cannot seal week %d",
		    (int)f->week);
		return -2;
	}
	rc = put_row(v, f->week, seq + 1, blob, len);
	free(blob);
	return rc;
}

/*
 * COMMIT, then copy the flush into the database file now, so the next
 * flush writes the WAL from its start again, into space it already has
 * (left to the auto-checkpoint the WAL grows until a full disk stops
 * every commit; tests/e2e/faults.sh).  PASSIVE never waits.  The reason
 * of a failed COMMIT is kept before ROLLBACK replaces it.
 */
static int
commit_now(struct vault *v)
{
	if (exec(v, "COMMIT") != 0) {
		snprintf(v->fl_why, sizeof(v->fl_why), "%s",
		    sqlite3_errmsg(v->db));
		sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	sqlite3_wal_checkpoint_v2(v->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	return 0;
}

/*
 * Nothing else uses this connection while a flush is under way, so a
 * thread may run the COMMIT (every page of the flush into the WAL)
 * while the loop reads packets.
 */
static void *
commit_thread(void *arg)
{
	struct vault *v = arg;

	v->fl_thr_rc = commit_now(v);
	atomic_store(&v->fl_thr_done, 1);
	return NULL;
}

static void
flush_done(struct vault *v, struct agg *a)
{
	size_t i;

	if (v->failing)
		log_info("database writable again; counts kept in memory "
		    "are now stored");
	v->failing = 0;
	if (v->fl_late_used != 0) {
		v->late += v->fl_late_used;
		v->late_pending = 0;
	} else
		v->late_pending += v->fl_late;
	for (i = 0; i < v->nfl_pd; i++)
		if (wday_add(&v->pd, &v->npd, &v->capd, v->fl_pd[i].week,
		    v->fl_pd[i].day) != 0)
			v->scan_all = 1;
	fl_free(v);
	agg_clear(a);
}

int
vault_flush_step(struct vault *v, struct agg *a, uint64_t budget_usec)
{
	uint64_t stop = budget_usec ? mono_usec() + budget_usec : 0;
	unsigned rows = 0;
	char why[256];
	int rc;

	if (v->fl_agg != a || a == NULL)
		return -1;
	for (;;) {
		if (stop != 0 && (++rows & 15) == 0 && mono_usec() >= stop)
			return 1;
		switch (v->fl_phase) {
		case PH_CELLS:
			if (v->fl_cell != NULL) {
				if (flush_cell(v, v->fl_cell) != 0)
					goto oom;
				v->fl_cell = v->fl_cell->all;
				continue;
			}
			v->fl_phase = PH_HOURS;
			continue;
		case PH_HOURS:
			if (v->fl_hour != NULL) {
				if (flush_hour(v, v->fl_hour) != 0)
					goto oom;
				v->fl_hour = v->fl_hour->next;
				continue;
			}
			if (place_late(v) != 0)
				goto oom;
			v->fl_phase = PH_SEAL;
			v->fl_next = 0;
			continue;
		case PH_SEAL:
			if (v->fl_next < v->nfw) {
				struct fweek *f = &v->fw[v->fl_next];

				if (v->fl_pt == NULL && (f->drop ||
				    f->w == NULL || wacc_empty(f->w))) {
					v->fl_next++;
					continue;
				}
				if (v->fl_pt == NULL) {
					/*
					 * Serialising a full hour is the long
					 * part (about 1 us a cell): 256 cells
					 * between looks at the clock.
					 */
					if (v->fl_ser == NULL &&
					    (v->fl_ser = wacc_ser_new()) == NULL)
						goto oom;
					rc = wacc_ser_step(f->w, v->fl_ser, 256);
					if (rc < 0)
						goto oom;
					if (rc == 0) {
						v->fl_pt = wacc_ser_take(
						    v->fl_ser, &v->fl_ptlen);
						wacc_ser_free(v->fl_ser);
						v->fl_ser = NULL;
						if (v->fl_pt == NULL)
							goto oom;
						/*
						 * Not needed any more: freed
						 * here, not in the last slice
						 */
						wacc_free(f->w);
						f->w = NULL;
					}
					if (stop != 0 && (rc == 0 ||
					    mono_usec() >= stop))
						return 1;
					continue;
				}
				/* seal and write: a slice of its own */
				rc = seal_week(v, f);
				v->fl_next++;
				if (rc == -2) {
					snprintf(why, sizeof(why), "%s",
					    v->fl_why);
					goto rollback_why;
				}
				if (rc != 0)
					goto rollback;
				if (stop != 0)
					return 1;
				continue;
			}
			v->fl_phase = PH_COMMIT;
			if (stop != 0)
				return 1;
			continue;
		default:	/* PH_COMMIT */
			if (stop != 0 && !v->fl_thr_on) {
				atomic_store(&v->fl_thr_done, 0);
				if (pthread_create(&v->fl_thr, NULL,
				    commit_thread, v) == 0) {
					v->fl_thr_on = 1;
					return 2;
				}
			}
			if (v->fl_thr_on) {
				if (stop != 0 &&
				    !atomic_load(&v->fl_thr_done))
					return 2;
				pthread_join(v->fl_thr, NULL);
				v->fl_thr_on = 0;
				rc = v->fl_thr_rc;
			} else
				rc = commit_now(v);
			if (rc != 0) {
				flush_failed(v, v->fl_why);
				return -1;
			}
			flush_done(v, a);
			return 0;
		}
	}
oom:
	snprintf(why, sizeof(why), "out of memory");
	goto rollback_why;
rollback:
	snprintf(why, sizeof(why), "%s", sqlite3_errmsg(v->db));
rollback_why:
	sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
	flush_failed(v, why);
	return -1;
}

void
vault_flush_abort(struct vault *v)
{
	if (v->fl_agg == NULL)
		return;
	if (v->fl_thr_on) {	/* too late to take back: let it end */
		pthread_join(v->fl_thr, NULL);
		v->fl_thr_on = 0;
	} else
		sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
	fl_free(v);
}

int
vault_flush(struct vault *v, struct agg *a)
{
	int rc;

	if ((rc = vault_flush_begin(v, a)) <= 0)
		return rc;
	return vault_flush_step(v, a, 0);
}

/* ---- loading, compaction, release ---- */

/*
 * Every delta of the week, opened and merged in order.  0 ok (*out, or
 * NULL when the week has no rows; *maxseq), -1 database or memory
 * failure, -2 a row does not open (key lost, tampering) or is invalid.
 */
static int
load_week(struct vault *v, int32_t week, struct wacc **out, int64_t *maxseq)
{
	sqlite3_stmt *st;
	struct wacc *acc = NULL, *w;
	uint8_t aad[AADLEN], *pt = NULL;
	size_t cap = 0;
	int rc, ret = -1;

	*out = NULL;
	*maxseq = 0;
	if (sqlite3_prepare_v2(v->db, "SELECT seq, blob FROM delta WHERE"
	    " week = ?1 ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, week);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const uint8_t *b = sqlite3_column_blob(st, 1);
		size_t n = (size_t)sqlite3_column_bytes(st, 1), ptlen;

		if (b == NULL || n <= WEEKKEY_SEAL_OVERHEAD) {
			ret = -2;
			goto out;
		}
		ptlen = n - WEEKKEY_SEAL_OVERHEAD;
		if (ptlen > cap) {
			uint8_t *np = malloc(ptlen);

			if (np == NULL)
				goto out;
			if (pt != NULL) {
				explicit_bzero(pt, cap);
				free(pt);
			}
			pt = np;
			cap = ptlen;
		}
		aad_make(aad, week, seq);
		if (weekkey_unseal(v->keys, week, aad, AADLEN, b, n, pt) != 0 ||
		    (w = wacc_deserialize(week, pt, ptlen)) == NULL) {
			ret = -2;
			goto out;
		}
		if (acc == NULL)
			acc = w;
		else {
			rc = wacc_merge(acc, w);
			wacc_free(w);
			if (rc != 0)
				goto out;
		}
		*maxseq = seq;
	}
	if (rc != SQLITE_DONE)
		goto out;
	*out = acc;
	acc = NULL;
	ret = 0;
out:
	sqlite3_finalize(st);
	if (pt != NULL) {
		explicit_bzero(pt, cap);
		free(pt);
	}
	wacc_free(acc);
	return ret;
}

/* Every delta up to maxseq replaced by one sealed snapshot of w. */
static int
compact(struct vault *v, const struct wacc *w, int64_t maxseq)
{
	sqlite3_stmt *st;
	uint8_t *blob;
	size_t len;
	int rc;

	if (seal_wacc(v, w, maxseq, &blob, &len) != 0)
		return -1;
	if (exec(v, "BEGIN IMMEDIATE") != 0) {
		free(blob);
		return -1;
	}
	if (sqlite3_prepare_v2(v->db, "DELETE FROM delta WHERE week = ?1 AND"
	    " seq <= ?2", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(st, 1, wacc_week(w));
	sqlite3_bind_int64(st, 2, maxseq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || put_row(v, wacc_week(w), maxseq, blob,
	    len) != 0 || commit_now(v) != 0)
		goto fail;
	free(blob);
	return 0;
fail:
	free(blob);
	exec(v, "ROLLBACK");
	return -1;
}

/* All rows of the week deleted, the week recorded as finalised. */
static int
finalise(struct vault *v, int32_t week, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (exec(v, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (sqlite3_prepare_v2(v->db, "DELETE FROM delta WHERE week = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(st, 1, week);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE || sqlite3_prepare_v2(v->db, "INSERT OR IGNORE"
	    " INTO finalised(week, at) VALUES(?1, ?2)", -1, &st,
	    NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(st, 1, week);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || commit_now(v) != 0)
		goto fail;
	return 0;
fail:
	exec(v, "ROLLBACK");
	return -1;
}

static int
publish(struct vault *v, struct reldb *rel, const struct rel_dims *dims,
    const struct rel_params *params, struct wacc_rel *r, int64_t now)
{
	char per[16];
	int rc;

	if (r->in.kind == REL_DAY)
		period_day_format(r->in.period, per, sizeof(per));
	else
		period_week_format(r->in.period, per, sizeof(per));
	if (r->dropped != 0)
		log_info("release of %s: %zu cells of services no longer in "
		    "the catalog dropped", per, r->dropped);
	rc = release_publish(rel, dims, params, &r->in, v->keys, now);
	if (rc < 0)
		log_warn("release of %s failed; retried at the next flush",
		    per);
	return rc;
}

static int
release_week(struct vault *v, struct reldb *rel, const struct rel_dims *dims,
    const struct rel_params *params, int32_t week, int32_t today,
    int32_t curweek, int64_t now)
{
	struct wacc *w = NULL;
	struct wacc_rel r;
	int64_t maxseq;
	int32_t days[16];
	size_t nd, i;
	int due = curweek == 0 || week < curweek, folded = 0, n = 0, rc;
	char per[16];

	period_week_format(week, per, sizeof(per));
	rc = load_week(v, week, &w, &maxseq);
	if (rc == -2) {
		log_warn("vault: the rows of week %s cannot be opened (key lost "
		    "or damaged); they are deleted, never released", per);
		if (finalise(v, week, now) != 0)
			return -1;
		weekkey_destroy(v->keys, week);
		return 0;
	}
	if (rc != 0)
		return -1;
	if (w == NULL)
		return 0;
	nd = wacc_open_days(w, days, sizeof(days) / sizeof(days[0]));
	for (i = 0; i < nd; i++) {
		int64_t end;

		if (!due && today != 0 && days[i] >= today)
			continue;
		if (wacc_rel_day(w, days[i], dims, &r) != 0)
			goto fail;
		end = period_day_start(days[i]) +
		    3600 * (int64_t)wacc_day_hours(days[i]);
		r.in.complete = now >= end;
		rc = publish(v, rel, dims, params, &r, now);
		wacc_rel_free(&r);
		if (rc < 0)
			goto fail;
		n += rc;
		/* released (now or before a crash): into the week part */
		if (wacc_fold_day(w, days[i]) != 0)
			goto fail;
		folded = 1;
	}
	if (due) {
		int64_t end = period_week_start(week) +
		    3600 * (int64_t)wacc_week_hours(week);

		if (wacc_rel_week(w, dims, &r) != 0)
			goto fail;
		r.in.complete = now >= end;
		rc = publish(v, rel, dims, params, &r, now);
		wacc_rel_free(&r);
		if (rc < 0)
			goto fail;
		n += rc;
		/* release DB first, then the vault, then the key */
		if (finalise(v, week, now) != 0)
			goto fail;
		if (weekkey_destroy(v->keys, week) != 0)
			log_warn("vault: the key of week %s could not be "
			    "destroyed; retried at the next release", per);
	} else if (folded && compact(v, w, maxseq) != 0)
		goto fail;
	wacc_free(w);
	return n;
fail:
	wacc_free(w);
	return -1;
}

int
vault_release_due(struct vault *v, struct reldb *rel,
    const struct rel_dims *dims, const struct rel_params *params,
    int32_t today, int32_t week, int64_t now)
{
	sqlite3_stmt *st;
	int32_t *weeks = NULL, kw[64];
	size_t nw = 0, cap = 0, nk, i, j;
	int total = 0, rc, failed = 0;

	if (v->fl_agg != NULL)
		return -1;	/* after the flush has ended */
	if (sqlite3_prepare_v2(v->db, "SELECT DISTINCT week FROM delta ORDER"
	    " BY week", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (nw == cap) {
			void *np = realloc(weeks, (cap ? cap * 2 : 8) *
			    sizeof(*weeks));

			if (np == NULL)
				break;
			weeks = np;
			cap = cap ? cap * 2 : 8;
		}
		weeks[nw++] = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	for (i = 0; i < nw; i++) {
		if (!v->scan_all && !(week == 0 || weeks[i] < week)) {
			/* a week not due: opened only when a day of it is */
			for (j = 0; j < v->npd; j++)
				if (v->pd[j].week == weeks[i] &&
				    (today == 0 || v->pd[j].day < today))
					break;
			if (j == v->npd)
				continue;
		}
		if ((rc = release_week(v, rel, dims, params, weeks[i], today,
		    week, now)) < 0) {
			failed = 1;
			continue;
		}
		total += rc;
	}
	/* keys of past weeks without data (or whose rows went above) */
	nk = weekkey_list(v->keys, kw, sizeof(kw) / sizeof(kw[0]));
	for (i = 0; i < nk; i++) {
		if (week != 0 && kw[i] >= week)
			continue;
		for (j = 0; j < nw; j++)
			if (weeks[j] == kw[i])
				break;
		if (j < nw && scalar(v, "SELECT 1 FROM delta WHERE week = ?1"
		    " LIMIT 1", kw[i], 0) != 0)
			continue;	/* not released yet (failed above) */
		if (weekkey_destroy(v->keys, kw[i]) != 0)
			failed = 1;
	}
	free(weeks);
	if (!failed) {
		v->scan_all = 0;
		for (i = j = 0; i < v->npd; i++)
			if (!(today == 0 || week == 0 || v->pd[i].day < today ||
			    v->pd[i].week < week))
				v->pd[j++] = v->pd[i];
		v->npd = j;
	} else
		v->scan_all = 1;
	return failed ? -1 : total;
}

/* ---- v1 migration ---- */

static const char *const v1_tables[] = {
	"usage_hour", "sketch_hour", "devices_day", "devices_week",
	"capture_hour", "anomaly_hour", "hour_dim", "department", "service",
	"meta",
};

static int
count_rows(struct vault *v, const char *table)
{
	char sql[128];

	if (db_has_table(v->db, table) != 1)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
	return (int)scalar(v, sql, 0, 0);
}

/*
 * One old week into a W1 release: counters and device-hours summed from
 * usage_hour, devices from devices_week.  Record keys need a K_rk: the
 * old hashes were made under a key that is gone, so a throw-away one,
 * in memory only and wiped after, stands in.
 */
static int
v1_release_week(struct vault *v, struct reldb *rel,
    const struct rel_dims *dims, const struct rel_params *params,
    int32_t week, int64_t now)
{
	struct weekkey *tk = NULL, *saved = v->keys;
	struct rel_input in;
	struct rel_leaf *leaf = NULL;
	struct sketch *sk = NULL;
	int32_t *slot = NULL;
	size_t nsvc = dims->cat ? catalog_count(dims->cat) : 0, nleaf = 0;
	size_t cap, dropped = 0, k;
	sqlite3_stmt *st = NULL, *q = NULL;
	char err[256], per[16];
	int rc = -1, srow;

	memset(&in, 0, sizeof(in));
	cap = (dims->ndept + 1) * (nsvc ? nsvc : 1);
	if ((slot = calloc(cap, sizeof(*slot))) == NULL ||
	    (leaf = calloc(cap, sizeof(*leaf))) == NULL ||
	    (sk = calloc(cap, sizeof(*sk))) == NULL)
		goto out;
	if (sqlite3_prepare_v2(v->db, "SELECT d.name, s.sid,"
	    " SUM(u.tls_conns), SUM(u.quic_conns), SUM(u.ech_conns),"
	    " SUM(u.dns_lookups), SUM(u.dns_nxdomain), SUM(u.bytes_up),"
	    " SUM(u.bytes_down), SUM(u.device_hours), u.dept, u.svc"
	    " FROM usage_hour u JOIN hour_dim h ON h.hour = u.hour"
	    " JOIN department d ON d.id = u.dept JOIN service s ON s.id = u.svc"
	    " WHERE h.week = ?1 GROUP BY u.dept, u.svc", -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(v->db, "SELECT sketch FROM"
	    " devices_week WHERE week = ?1 AND dept = ?2 AND svc = ?3", -1,
	    &q, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int(st, 1, week);
	while ((srow = sqlite3_step(st)) == SQLITE_ROW) {
		const char *dn = (const char *)sqlite3_column_text(st, 0);
		const char *sn = (const char *)sqlite3_column_text(st, 1);
		int32_t d = (int32_t)dims->ndept, s;
		struct rel_leaf *l;
		size_t i;

		for (i = 0; dn && i < dims->ndept; i++)
			if (strcmp(dims->dept[i], dn) == 0)
				d = (int32_t)i;
		s = sn && dims->cat ? catalog_find_id(dims->cat, sn) : -1;
		if (s < 0 || (size_t)s >= nsvc) {
			dropped++;
			continue;
		}
		i = (size_t)d * nsvc + (size_t)s;
		if (slot[i] == 0) {
			slot[i] = (int32_t)++nleaf;
			leaf[nleaf - 1].dept = d;
			leaf[nleaf - 1].svc = s;
			sketch_init(&sk[nleaf - 1]);
		}
		k = (size_t)slot[i] - 1;
		l = &leaf[k];
		l->m[RM_TLS] += (uint64_t)sqlite3_column_int64(st, 2);
		l->m[RM_QUIC] += (uint64_t)sqlite3_column_int64(st, 3);
		l->m[RM_ECH] += (uint64_t)sqlite3_column_int64(st, 4);
		l->m[RM_DNS] += (uint64_t)sqlite3_column_int64(st, 5);
		l->m[RM_NXDOMAIN] += (uint64_t)sqlite3_column_int64(st, 6);
		l->m[RM_UP] += (uint64_t)sqlite3_column_int64(st, 7);
		l->m[RM_DOWN] += (uint64_t)sqlite3_column_int64(st, 8);
		l->m[RM_DEVHOURS] += (uint64_t)sqlite3_column_int64(st, 9);
		sqlite3_reset(q);
		sqlite3_bind_int(q, 1, week);
		sqlite3_bind_int64(q, 2, sqlite3_column_int64(st, 10));
		sqlite3_bind_int64(q, 3, sqlite3_column_int64(st, 11));
		if (sqlite3_step(q) == SQLITE_ROW && sketch_merge_serialized(
		    &sk[k], sqlite3_column_blob(q, 0),
		    (size_t)sqlite3_column_bytes(q, 0)) != 0)
			log_warn("database migration: an unreadable old sketch "
			    "counts no devices");
	}
	if (srow != SQLITE_DONE)
		goto out;
	for (k = 0; k < nleaf; k++)
		leaf[k].dev = &sk[k];
	in.kind = REL_WEEK;
	in.period = in.week = week;
	in.leaf = leaf;
	in.nleaf = nleaf;
	in.hours_total = wacc_week_hours(week);
	in.coverage_hours = (unsigned)scalar(v, "SELECT COUNT(*) FROM"
	    " capture_hour WHERE week = ?1 AND packets > 0", week, 0);
	in.complete = 1;
	if ((tk = weekkey_open(NULL, err, sizeof(err))) == NULL ||
	    weekkey_ensure(tk, week) != 0)
		goto out;
	period_week_format(week, per, sizeof(per));
	if (dropped != 0)
		log_info("database migration: week %s: %zu cells of services "
		    "no longer in the catalog dropped", per, dropped);
	rc = release_publish(rel, dims, params, &in, tk, now);
	if (rc < 0)
		log_warn("database migration: release of week %s failed", per);
out:
	v->keys = saved;
	sqlite3_finalize(st);
	sqlite3_finalize(q);
	for (k = 0; sk != NULL && k < nleaf; k++)
		sketch_reset(&sk[k]);
	free(sk);
	free(leaf);
	free(slot);
	weekkey_close(tk);
	return rc;
}

static int
migrate_v1(struct vault *v, struct reldb *rel, const struct rel_dims *dims,
    const struct rel_params *params, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int32_t weeks[512];
	size_t nw = 0, i;
	int nrel = 0, ndrop = 0, nsk, rc;
	int64_t now = time(NULL);
	struct period cur;
	char sql[128];

	period_of(now, &cur);
	nsk = count_rows(v, "sketch_hour") + count_rows(v, "devices_day") +
	    count_rows(v, "devices_week");
	if (sqlite3_prepare_v2(v->db, "SELECT DISTINCT week FROM hour_dim"
	    " UNION SELECT DISTINCT week FROM devices_week ORDER BY 1", -1,
	    &st, NULL) != SQLITE_OK)
		goto fail;
	while (sqlite3_step(st) == SQLITE_ROW && nw < 512)
		weeks[nw++] = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	for (i = 0; i < nw; i++) {
		/* only complete weeks: the current one cannot be continued */
		if (rel == NULL || dims == NULL || params == NULL ||
		    weeks[i] >= cur.week) {
			ndrop++;
			continue;
		}
		rc = v1_release_week(v, rel, dims, params, weeks[i], now);
		if (rc < 0) {
			snprintf(err, errlen, "database migration: releasing "
			    "old week %d failed; the old database is left as "
			    "it was", (int)weeks[i]);
			return -1;
		}
		nrel++;
	}
	if (exec(v, "BEGIN IMMEDIATE") != 0)
		goto fail;
	for (i = 0; i < sizeof(v1_tables) / sizeof(v1_tables[0]); i++) {
		snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s",
		    v1_tables[i]);
		if (exec(v, sql) != 0)
			goto rollback;
	}
	if (exec(v, schema_v2) != 0 || exec(v, "COMMIT") != 0)
		goto rollback;
	/* the old pages (plaintext tokens) out of the file and the WAL */
	if (exec(v, "VACUUM") != 0)
		goto fail;
	sqlite3_wal_checkpoint_v2(v->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	    NULL, NULL);
	log_info("database migrated from version 1: %d old weeks released, "
	    "%d not released (incomplete or no release database), %d sketch "
	    "rows destroyed, old tables dropped", nrel, ndrop, nsk);
	return 0;
rollback:
	exec(v, "ROLLBACK");
fail:
	snprintf(err, errlen, "database migration from version 1 failed: %s",
	    sqlite3_errmsg(v->db));
	return -1;
}
