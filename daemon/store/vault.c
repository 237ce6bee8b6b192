/*
 * vault.c - the raw working database: sealed week accumulators, flushes
 * in slices, the week primitives a release needs (load, compact,
 * finalise), v1 migration.  What is due and its publication are the
 * release stage's (release/due.c); the SQL is vaultdb_sqlite.c's.
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

#include "aggregate/agg.h"
#include "common/clock.h"
#include "detect/catalog.h"
#include "common/log.h"
#include "common/period.h"
#include "aggregate/sketch.h"
#include "store/vault.h"
#include "store/vaultdb.h"
#include "aggregate/wacc.h"
#include "attribute/weekkey.h"

#define VAULT_AAD_LABEL	"aicensus-vault-1"

_Static_assert(VAULT_SCHEMA_VERSION == VAULTDB_VERSION,
    "the vault and its storage agree on the schema");

/* One week of a flush under way. */
struct fweek {
	int32_t		 week;
	int		 drop;		/* finalised: counted late, not sealed */
	struct wacc	*w;
};

struct vault {
	struct vaultdb	*db;
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

/* ---- opening ---- */

/*
 * The raw database is for its owner only: refuse one that others may
 * read (the fix is named), create a new one 0600 before SQLite opens it.
 */
int
vault_check_file(const char *path, char *err, size_t errlen)
{
	struct stat sb;

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
	return 0;
}

static int
check_mode(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	if (vault_check_file(path, err, errlen) != 0)
		return -1;
	if (stat(path, &sb) == 0)
		return 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0) {
		snprintf(err, errlen, "cannot create database %s: %s", path,
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int migrate_v1(struct vault *, const struct rel_dims *,
	    vault_publish_fn, void *, char *, size_t);

struct vault *
vault_open(const char *path, struct weekkey *keys,
    const struct rel_dims *dims, vault_publish_fn publish, void *arg,
    char *err, size_t errlen)
{
	struct vault *v;
	int ver, migrated = 0;

	if ((v = calloc(1, sizeof(*v))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->keys = keys;
	v->scan_all = 1;
	if (path != NULL && check_mode(path, err, errlen) != 0)
		goto fail2;
	if ((v->db = vaultdb_open(path, err, errlen)) == NULL)
		goto fail;
	switch (vaultdb_schema(v->db, &ver)) {
	case VDB_ERROR:
		snprintf(err, errlen, "database %s: %s", path,
		    vaultdb_errmsg(v->db));
		goto fail;
	case VDB_NEWER:
		snprintf(err, errlen, "database %s: schema version %d is newer "
		    "than this aicensusd understands (%d): use a newer "
		    "aicensusd", path, ver, VAULT_SCHEMA_VERSION);
		goto fail;
	case VDB_V1:
		if (migrate_v1(v, dims, publish, arg, err, errlen) != 0)
			goto fail;
		migrated = 1;
		break;
	case VDB_UNVERSIONED:
		snprintf(err, errlen, "database %s has tables but no "
		    "aicensus schema version; refusing to touch it", path);
		goto fail;
	case VDB_EMPTY:
		if (vaultdb_create(v->db) != 0) {
			snprintf(err, errlen, "database %s: cannot create the "
			    "schema: %s", path, vaultdb_errmsg(v->db));
			vaultdb_rollback(v->db);
			goto fail;
		}
		break;
	case VDB_CURRENT:
		break;
	default:
		snprintf(err, errlen, "database %s: schema version %d is not "
		    "one this aicensusd can use", path, ver);
		goto fail;
	}
	/* the zone its days and weeks are local to (bookkeeping, plaintext) */
	if (dims != NULL && dims->timezone != NULL)
		vaultdb_meta_set(v->db, "timezone", *dims->timezone ?
		    dims->timezone : "system");
	/* after a migration the WAL ends empty: no old page image in it */
	if (migrated)
		vaultdb_truncate_wal(v->db);
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
	vaultdb_close(v->db);
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
	log_warnx("vault: out of memory naming departments and services");
	free_dims(v);
}

struct weekkey *
vault_keys(struct vault *v)
{
	return v->keys;
}

uint64_t
vault_late(const struct vault *v)
{
	return v->late;
}

struct vaultdb *
vault_db(struct vault *v)
{
	return v->db;
}

uint64_t
vault_bytes(struct vault *v)
{
	/* the connection is the COMMIT thread's while it runs */
	if (v->fl_thr_on)
		return v->bytes;
	v->bytes = vaultdb_bytes(v->db);
	return v->bytes;
}

/* ---- flushing ---- */

static void
flush_failed(struct vault *v, const char *why)
{
	if (!v->failing)
		log_warnx("database flush failed (%s); keeping counts in memory "
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
	int fin;

	if (fweek_of(v, week) != NULL)
		return 0;
	if ((f = realloc(v->fw, (v->nfw + 1) * sizeof(*f))) == NULL)
		return -1;
	v->fw = f;
	f = &v->fw[v->nfw];
	memset(f, 0, sizeof(*f));
	f->week = week;
	if ((fin = vaultdb_is_finalised(v->db, week)) < 0)
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
	if (vaultdb_begin(v->db) != 0) {
		snprintf(why, sizeof(why), "%s", vaultdb_errmsg(v->db));
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
	snprintf(why, sizeof(why), "%s", vaultdb_failed(v->db) ?
	    vaultdb_errmsg(v->db) :
	    "cannot prepare the week's accumulator or key");
	vaultdb_rollback(v->db);
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

	if (vaultdb_last_seq(v->db, f->week, &seq) != 0)
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
	rc = vaultdb_put(v->db, f->week, seq + 1, blob, len);
	free(blob);
	return rc;
}

/* COMMIT (and checkpoint, vaultdb.h); the reason of a failure is kept. */
static int
commit_now(struct vault *v)
{
	return vaultdb_commit(v->db, v->fl_why, sizeof(v->fl_why));
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
	snprintf(why, sizeof(why), "%s", vaultdb_errmsg(v->db));
rollback_why:
	vaultdb_rollback(v->db);
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
		vaultdb_rollback(v->db);
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

/* ---- the week primitives of a release (release/due.c) ---- */

int
vault_weeks(struct vault *v, int32_t **weeks, size_t *n)
{
	*weeks = NULL;
	*n = 0;
	if (v->fl_agg != NULL)
		return -1;	/* the connection is the flush's */
	return vaultdb_weeks(v->db, weeks, n);
}

int
vault_week_pending(const struct vault *v, int32_t week, int32_t today,
    int32_t curweek)
{
	size_t j;

	if (v->scan_all || curweek == 0 || week < curweek)
		return 1;
	/* a week not due: opened only when a day of it is */
	for (j = 0; j < v->npd; j++)
		if (v->pd[j].week == week &&
		    (today == 0 || v->pd[j].day < today))
			return 1;
	return 0;
}

void
vault_pass_end(struct vault *v, int failed, int32_t today, int32_t curweek)
{
	size_t i, j;

	if (failed) {
		v->scan_all = 1;
		return;
	}
	v->scan_all = 0;
	for (i = j = 0; i < v->npd; i++)
		if (!(today == 0 || curweek == 0 || v->pd[i].day < today ||
		    v->pd[i].week < curweek))
			v->pd[j++] = v->pd[i];
	v->npd = j;
}

struct load {
	struct vault	*v;
	int32_t		 week;
	struct wacc	*acc;
	uint8_t		*pt;
	size_t		 cap;
	int64_t		 maxseq;
	int64_t		 after;		/* rows up to this seq are skipped */
};

/* One row opened and merged: 0 go on, -1 memory, -2 invalid. */
static int
load_row(void *arg, int64_t seq, const uint8_t *b, size_t n)
{
	struct load *l = arg;
	uint8_t aad[AADLEN];
	struct wacc *w;
	size_t ptlen;
	int rc;

	if (seq <= l->after)
		return 0;
	if (b == NULL || n <= WEEKKEY_SEAL_OVERHEAD)
		return -2;
	ptlen = n - WEEKKEY_SEAL_OVERHEAD;
	if (ptlen > l->cap) {
		uint8_t *np = malloc(ptlen);

		if (np == NULL)
			return -1;
		if (l->pt != NULL) {
			explicit_bzero(l->pt, l->cap);
			free(l->pt);
		}
		l->pt = np;
		l->cap = ptlen;
	}
	aad_make(aad, l->week, seq);
	if (weekkey_unseal(l->v->keys, l->week, aad, AADLEN, b, n,
	    l->pt) != 0 ||
	    (w = wacc_deserialize(l->week, l->pt, ptlen)) == NULL)
		return -2;
	if (l->acc == NULL)
		l->acc = w;
	else {
		rc = wacc_merge(l->acc, w);
		wacc_free(w);
		if (rc != 0)
			return -1;
	}
	l->maxseq = seq;
	return 0;
}

int
vault_week_load(struct vault *v, int32_t week, struct wacc **out,
    int64_t *maxseq)
{
	return vault_week_load_after(v, week, INT64_MIN, out, maxseq);
}

int
vault_week_load_after(struct vault *v, int32_t week, int64_t after,
    struct wacc **out, int64_t *maxseq)
{
	struct load l;
	int rc;

	*out = NULL;
	*maxseq = 0;
	if (v->fl_agg != NULL)
		return -1;
	memset(&l, 0, sizeof(l));
	l.v = v;
	l.week = week;
	l.after = after;
	rc = vaultdb_rows(v->db, week, load_row, &l);
	if (l.pt != NULL) {
		explicit_bzero(l.pt, l.cap);
		free(l.pt);
	}
	if (rc != 0) {
		wacc_free(l.acc);
		return rc == -2 ? -2 : -1;
	}
	*out = l.acc;
	*maxseq = l.maxseq;
	return 0;
}

int
vault_week_compact(struct vault *v, const struct wacc *w, int64_t maxseq)
{
	uint8_t *blob;
	size_t len;
	int rc;

	if (v->fl_agg != NULL)
		return -1;
	if (seal_wacc(v, w, maxseq, &blob, &len) != 0)
		return -1;
	rc = vaultdb_replace(v->db, wacc_week(w), maxseq, blob, len);
	free(blob);
	return rc;
}

int
vault_week_finalise(struct vault *v, int32_t week, int64_t now)
{
	if (v->fl_agg != NULL)
		return -1;
	return vaultdb_finalise(v->db, week, now);
}

int
vault_week_has_rows(struct vault *v, int32_t week)
{
	if (v->fl_agg != NULL)
		return -1;
	return vaultdb_has_rows(v->db, week);
}

/* ---- v1 migration ---- */

/* One old week being summed into a W1 release input. */
struct v1week {
	const struct rel_dims *dims;
	size_t		 nsvc;
	int32_t		*slot;
	struct rel_leaf	*leaf;
	struct sketch	*sk;
	size_t		 nleaf, dropped;
};

static void
v1_leaf(void *arg, const struct vaultdb_v1_leaf *o)
{
	struct v1week *a = arg;
	const struct rel_dims *dims = a->dims;
	int32_t d = (int32_t)dims->ndept, s;
	struct rel_leaf *l;
	size_t i, k;

	for (i = 0; o->dept && i < dims->ndept; i++)
		if (strcmp(dims->dept[i], o->dept) == 0)
			d = (int32_t)i;
	s = o->svc && dims->cat ? catalog_find_id(dims->cat, o->svc) : -1;
	if (s < 0 || (size_t)s >= a->nsvc) {
		a->dropped++;
		return;
	}
	i = (size_t)d * a->nsvc + (size_t)s;
	if (a->slot[i] == 0) {
		a->slot[i] = (int32_t)++a->nleaf;
		a->leaf[a->nleaf - 1].dept = d;
		a->leaf[a->nleaf - 1].svc = s;
		sketch_init(&a->sk[a->nleaf - 1]);
	}
	k = (size_t)a->slot[i] - 1;
	l = &a->leaf[k];
	l->m[RM_TLS] += o->m[V1_TLS];
	l->m[RM_QUIC] += o->m[V1_QUIC];
	l->m[RM_ECH] += o->m[V1_ECH];
	l->m[RM_DNS] += o->m[V1_DNS];
	l->m[RM_NXDOMAIN] += o->m[V1_NXDOMAIN];
	l->m[RM_UP] += o->m[V1_UP];
	l->m[RM_DOWN] += o->m[V1_DOWN];
	l->m[RM_DEVHOURS] += o->m[V1_DEVHOURS];
	if (o->has_sketch && sketch_merge_serialized(&a->sk[k], o->sketch,
	    o->sketch_len) != 0)
		log_warnx("database migration: an unreadable old sketch "
		    "counts no devices");
}

/*
 * One old week into a W1 release: counters and device-hours summed from
 * usage_hour, devices from devices_week.  Record keys need a K_rk: the
 * old hashes were made under a key that is gone, so a throw-away one,
 * in memory only and wiped after, stands in.
 */
static int
v1_release_week(struct vault *v, const struct rel_dims *dims,
    vault_publish_fn publish, void *arg, int32_t week, int64_t now)
{
	struct weekkey *tk = NULL;
	struct rel_input in;
	struct v1week a;
	size_t cap, k;
	char err[256], per[16];
	int rc = -1;

	memset(&in, 0, sizeof(in));
	memset(&a, 0, sizeof(a));
	a.dims = dims;
	a.nsvc = dims->cat ? catalog_count(dims->cat) : 0;
	cap = (dims->ndept + 1) * (a.nsvc ? a.nsvc : 1);
	if ((a.slot = calloc(cap, sizeof(*a.slot))) == NULL ||
	    (a.leaf = calloc(cap, sizeof(*a.leaf))) == NULL ||
	    (a.sk = calloc(cap, sizeof(*a.sk))) == NULL)
		goto out;
	if (vaultdb_v1_leaves(v->db, week, v1_leaf, &a) != 0)
		goto out;
	for (k = 0; k < a.nleaf; k++)
		a.leaf[k].dev = &a.sk[k];
	in.kind = REL_WEEK;
	in.period = in.week = week;
	in.leaf = a.leaf;
	in.nleaf = a.nleaf;
	in.hours_total = period_week_hours(week);
	in.coverage_hours = (unsigned)vaultdb_v1_coverage(v->db, week);
	in.complete = 1;
	if ((tk = weekkey_open(NULL, err, sizeof(err))) == NULL ||
	    weekkey_ensure(tk, week) != 0)
		goto out;
	period_week_format(week, per, sizeof(per));
	if (a.dropped != 0)
		log_info("database migration: week %s: %zu cells of services "
		    "no longer in the catalog dropped", per, a.dropped);
	rc = publish(arg, &in, tk, now);
	if (rc < 0)
		log_warnx("database migration: release of week %s failed", per);
out:
	for (k = 0; a.sk != NULL && k < a.nleaf; k++)
		sketch_reset(&a.sk[k]);
	free(a.sk);
	free(a.leaf);
	free(a.slot);
	weekkey_close(tk);
	return rc;
}

static int
migrate_v1(struct vault *v, const struct rel_dims *dims,
    vault_publish_fn publish, void *arg, char *err, size_t errlen)
{
	int32_t weeks[512];
	size_t nw, i;
	int nrel = 0, ndrop = 0, nsk, rc;
	int64_t now = time(NULL);
	struct period cur;

	period_of(now, &cur);
	nsk = vaultdb_v1_sketch_rows(v->db);
	if ((rc = vaultdb_v1_weeks(v->db, weeks, 512)) < 0)
		goto fail;
	nw = (size_t)rc;
	for (i = 0; i < nw; i++) {
		/* only complete weeks: the current one cannot be continued */
		if (publish == NULL || dims == NULL || weeks[i] >= cur.week) {
			ndrop++;
			continue;
		}
		rc = v1_release_week(v, dims, publish, arg, weeks[i], now);
		if (rc < 0) {
			snprintf(err, errlen, "database migration: releasing "
			    "old week %d failed; the old database is left as "
			    "it was", (int)weeks[i]);
			return -1;
		}
		nrel++;
	}
	if (vaultdb_v1_replace(v->db) != 0)
		goto fail;
	log_info("database migrated from version 1: %d old weeks released, "
	    "%d not released (incomplete or no release database), %d sketch "
	    "rows destroyed, old tables dropped", nrel, ndrop, nsk);
	return 0;
fail:
	snprintf(err, errlen, "database migration from version 1 failed: %s",
	    vaultdb_errmsg(v->db));
	return -1;
}
