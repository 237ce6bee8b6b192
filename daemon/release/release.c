/*
 * release.c - the release stage: build the fixed grid of a closed day or
 * week from its leaves, protect every cell with the cell key method and
 * write the result, once, to the release database.
 *
 * Everything in the noise path is integer arithmetic (unsigned __int128
 * where a product needs 128 bits), nothing fractional and no libm, so
 * the same inputs and keys give the same published figures on every
 * machine (test_release greps this file to keep it so).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "detect/catalog.h"
#include "store/dbutil.h"
#include "common/log.h"
#include "release/release.h"
#include "aggregate/sketch.h"
#include "attribute/weekkey.h"

/* ---- protection ---------------------------------------------------- */

typedef unsigned __int128 u128;
typedef __int128 i128;

/*
 * The p-table for n >= k: e in [-d, d], d = min(k - 1, n - k), with the
 * triangular weights w(e) = d + 1 - |e| (total (d + 1)^2), the sum of two
 * independent uniform draws on [0, d] minus d.  Zero mean by symmetry,
 * variance d(d + 2)/6 ((k^2 - 1)/6 once d = k - 1: 4 for k = 5), and
 * n + e >= k because d <= n - k.
 *
 * The u-space [0, 2^64) is laid out in ascending order of the result:
 * e = -d at the bottom, ..., e = 0 in the middle, ..., e = +d at the top,
 * the positive side the mirror image of the negative side.  Interval
 * lengths c(|e|) = floor(w(e) 2^64 / W) are the same on both sides, so
 * the mean over the whole u-space is exactly n.
 */
static uint64_t
ptab_len(uint64_t d, uint64_t a)
{
	u128 w = d + 1 - a, tot = (u128)(d + 1) * (d + 1);

	return (uint64_t)((w << 64) / tot);
}

uint64_t
rel_count(const struct rel_params *p, uint64_t n, uint64_t u)
{
	uint64_t k = p->k > 1 ? (uint64_t)p->k : 1, d, v, a, c;

	if (k == 1 || n == 0)
		return n;
	if (n < k) {
		/*
		 * k with probability n/k (to within 2^-64: 2^64 is not a
		 * multiple of k), at the top of the u-space so the result
		 * ascends with u; else 0.
		 */
		c = (uint64_t)(((u128)n << 64) / k);
		return c > 0 && u >= 0 - c ? k : 0;
	}
	d = n - k < k - 1 ? n - k : k - 1;
	if (d == 0)
		return n;
	/* Bottom side: e = -d first; top side: its mirror image. */
	if (u < UINT64_MAX / 2) {
		v = u;
		for (a = d; a > 0; a--) {
			c = ptab_len(d, a);
			if (v < c)
				return n - a;
			v -= c;
		}
	} else {
		v = UINT64_MAX - u;
		for (a = d; a > 0; a--) {
			c = ptab_len(d, a);
			if (v < c)
				return n + a;
			v -= c;
		}
	}
	return n;
}

/*
 * x + round(x s / 2^63), s uniform on [-S, S], S = floor(2^63 pct / 100):
 * at most pct % of x (plus the rounding's half unit), zero mean (s is
 * symmetric and the rounding, half away from zero, is too), clipped to
 * [0, 2^64).  Rounding rather than spec.md's floor: floor would pull
 * every small value down by half a unit on average.
 */
uint64_t
rel_magnitude(const struct rel_params *p, uint64_t x, uint64_t u)
{
	const u128 S = ((u128)1 << 63) * REL_MAG_PCT / 100;
	i128 s, q, noise;
	u128 r;

	if (p->k <= 1 || x == 0)
		return x;
	s = (i128)(((u128)u * (2 * S + 1)) >> 64) - (i128)S;
	q = (i128)x * s;
	/* Round half away from zero, symmetric in the sign of s. */
	if (q >= 0)
		noise = (i128)(((u128)q + ((u128)1 << 62)) >> 63);
	else
		noise = -(i128)(((u128)(-q) + ((u128)1 << 62)) >> 63);
	r = (u128)((i128)x + noise);
	if ((i128)x + noise < 0)
		return 0;
	if (r > UINT64_MAX)
		return UINT64_MAX;
	return (uint64_t)r;
}

/* ---- the draws ----------------------------------------------------- */

struct draw {
	const struct weekkey	*keys;
	int32_t			 week;
};

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Record key of a device: PRF("rk" || token). */
static uint64_t
draw_rk(void *arg, uint64_t token)
{
	struct draw *dr = arg;
	uint8_t msg[2 + 8];

	memcpy(msg, "rk", 2);
	put64(msg + 2, token);
	return weekkey_prf(dr->keys, dr->week, msg, sizeof(msg));
}

/* Cell key of a dense sketch: PRF("hll" || registers). */
static uint64_t
draw_dense(void *arg, const uint8_t *regs, size_t n)
{
	struct draw *dr = arg;
	uint8_t *msg;
	uint64_t v;

	if ((msg = malloc(3 + n)) == NULL)
		return 0;	/* a fixed key: consistent, still noised */
	memcpy(msg, "hll", 3);
	memcpy(msg + 3, regs, n);
	v = weekkey_prf(dr->keys, dr->week, msg, 3 + n);
	free(msg);
	return v;
}

/* u = PRF("cnt" || ck || measure): the same devices, the same count. */
static uint64_t
draw_cnt(const struct draw *dr, uint64_t ck, int measure)
{
	uint8_t msg[3 + 8 + 1];

	memcpy(msg, "cnt", 3);
	put64(msg + 3, ck);
	msg[11] = (uint8_t)measure;
	return weekkey_prf(dr->keys, dr->week, msg, sizeof(msg));
}

/* u = PRF("mag" || ck || measure || x): the value is part of the seed. */
static uint64_t
draw_mag(const struct draw *dr, uint64_t ck, int measure, uint64_t x)
{
	uint8_t msg[3 + 8 + 1 + 8];

	memcpy(msg, "mag", 3);
	put64(msg + 3, ck);
	msg[11] = (uint8_t)measure;
	put64(msg + 12, x);
	return weekkey_prf(dr->keys, dr->week, msg, sizeof(msg));
}

/* Blind figures have no devices: ck = PRF("blind" || day || class). */
static uint64_t
draw_blind_ck(const struct draw *dr, int32_t day, int cls)
{
	uint8_t msg[5 + 4 + 1];
	uint32_t d = (uint32_t)day;

	memcpy(msg, "blind", 5);
	msg[5] = (uint8_t)d;
	msg[6] = (uint8_t)(d >> 8);
	msg[7] = (uint8_t)(d >> 16);
	msg[8] = (uint8_t)(d >> 24);
	msg[9] = (uint8_t)cls;
	return weekkey_prf(dr->keys, dr->week, msg, sizeof(msg));
}

/* Blind classes draw under measure codes no cell measure uses. */
#define BLIND_MEASURE(c)	(0x80 | (c))

/* ---- the release database ------------------------------------------ */

#define DEPT_MAX	sizeof(((struct rel_cell *)0)->dept)

struct reldb {
	sqlite3		*db;
	char		*path;
	release_cell_cb	 cb;
	void		*cbarg;
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
    "INSERT OR IGNORE INTO meta VALUES('schema_version', '1');"
    "INSERT OR IGNORE INTO meta VALUES('method', 'ckm-1');";

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

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
	return v > 1;
}

struct reldb *
reldb_open(const char *path, char *err, size_t errlen)
{
	struct reldb *r;
	struct stat sb;
	int fd, created = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(r);
		return NULL;
	}
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
			goto fail;
		}
		close(fd);
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create release database %s: %s",
		    path, strerror(errno));
		goto fail;
	} else if (stat(path, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "release database %s is not a regular "
		    "file", path);
		goto fail;
	}
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open release database %s: %s",
		    path, r->db ? sqlite3_errmsg(r->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(r->db, 2000);
	/* Never write tables into somebody else's database. */
	if (!created && (db_has_table(r->db, "delta") == 1 ||
	    db_has_table(r->db, "usage_hour") == 1)) {
		snprintf(err, errlen, "%s is the raw working database; the "
		    "release database must be another file (release_database "
		    "in aicensus.conf)", path);
		goto fail;
	}
	if (!created && db_has_table(r->db, "meta") == 1 &&
	    db_has_table(r->db, "cell") != 1) {
		snprintf(err, errlen, "%s is not a release database; refusing "
		    "to touch it", path);
		goto fail;
	}
	if (!created && newer_schema(r->db)) {
		snprintf(err, errlen, "release database %s was written by a "
		    "newer aicensus (schema version above 1): upgrade", path);
		goto fail;
	}
	/*
	 * A rollback journal, not WAL: releases are a few writes a day, and
	 * readers open the file read-only as another user, which WAL would
	 * make depend on a writable -shm file next to it.
	 */
	if (exec(r->db, "PRAGMA journal_mode = DELETE") != 0 ||
	    exec(r->db, "PRAGMA synchronous = FULL") != 0 ||
	    exec(r->db, "BEGIN IMMEDIATE") != 0) {
		snprintf(err, errlen, "release database %s: %s", path,
		    sqlite3_errmsg(r->db));
		goto fail;
	}
	if (exec(r->db, schema_sql) != 0 || exec(r->db, "COMMIT") != 0) {
		snprintf(err, errlen, "release database %s: %s", path,
		    sqlite3_errmsg(r->db));
		exec(r->db, "ROLLBACK");
		goto fail;
	}
	return r;
fail:
	reldb_close(r);
	return NULL;
}

void
reldb_close(struct reldb *r)
{
	if (r == NULL)
		return;
	sqlite3_close(r->db);
	free(r->path);
	free(r);
}

void
release_set_cell_cb(struct reldb *r, release_cell_cb cb, void *arg)
{
	r->cb = cb;
	r->cbarg = arg;
}

int
reldb_is_released(struct reldb *r, enum rel_kind kind, int32_t period)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(r->db, "SELECT 1 FROM period WHERE kind = ? "
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

/*
 * Released periods that ended before cutoff_day (local YYYYMMDD; a week
 * whose Sunday is before it) are deleted whole: period, grid, cells and
 * blind figures.  They hold no personal data; retention_days is the
 * organisation's choice of how long its history reaches.
 */
int
reldb_retention(struct reldb *r, int32_t cutoff_day, int32_t cutoff_week)
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
	sqlite3_stmt *st;
	size_t i;
	int changed = 0;

	if (exec(r->db, "BEGIN IMMEDIATE") != 0)
		return -1;
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (sqlite3_prepare_v2(r->db, sql[i], -1, &st, NULL) !=
		    SQLITE_OK)
			goto fail;
		sqlite3_bind_int(st, 1, cutoff_day);
		sqlite3_bind_int(st, 2, cutoff_week);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			goto fail;
		}
		changed += sqlite3_changes(r->db);
		sqlite3_finalize(st);
	}
	if (exec(r->db, "COMMIT") != 0)
		goto fail;
	return changed;
fail:
	log_warnx("release database: retention failed: %s",
	    sqlite3_errmsg(r->db));
	exec(r->db, "ROLLBACK");
	return -1;
}

/* ---- building the grid --------------------------------------------- */

/* One grid cell being accumulated: merged devices, summed counters. */
struct acc {
	struct sketch	 dev;
	uint64_t	 m[RM_N];
	int		 used;
};

struct grid {
	size_t		 nd;		/* ndept + unassigned + "*" */
	size_t		 ns, nc;	/* services, categories */
	size_t		 nv;		/* ns + nc + "*" */
	const char	**cat;		/* distinct categories, catalog order */
	size_t		*svc_cat;	/* service -> category index */
	struct acc	*a;		/* nd x nv */
};

static void
grid_free(struct grid *g)
{
	size_t i;

	if (g->a != NULL)
		for (i = 0; i < g->nd * g->nv; i++)
			sketch_reset(&g->a[i].dev);
	free(g->a);
	free(g->cat);
	free(g->svc_cat);
	memset(g, 0, sizeof(*g));
}

static int
grid_init(struct grid *g, const struct rel_dims *dims)
{
	size_t i, j;

	memset(g, 0, sizeof(*g));
	g->nd = dims->ndept + 2;
	g->ns = catalog_count(dims->cat);
	if ((g->cat = calloc(g->ns + 1, sizeof(*g->cat))) == NULL ||
	    (g->svc_cat = calloc(g->ns + 1, sizeof(*g->svc_cat))) == NULL)
		goto fail;
	for (i = 0; i < g->ns; i++) {
		const char *c = catalog_service(dims->cat, i)->category;

		for (j = 0; j < g->nc && strcmp(g->cat[j], c) != 0; j++)
			;
		if (j == g->nc)
			g->cat[g->nc++] = c;
		g->svc_cat[i] = j;
	}
	g->nv = g->ns + g->nc + 1;
	if ((g->a = calloc(g->nd * g->nv, sizeof(*g->a))) == NULL)
		goto fail;
	for (i = 0; i < g->nd * g->nv; i++)
		sketch_init(&g->a[i].dev);
	return 0;
fail:
	grid_free(g);
	return -1;
}

static int
acc_add(struct acc *a, const struct rel_leaf *l, const uint64_t *m)
{
	int i;

	if (l->dev != NULL && sketch_merge(&a->dev, l->dev) != 0)
		return -1;
	for (i = 0; i < RM_N; i++)
		a->m[i] += m[i];
	a->used = 1;
	return 0;
}

/* Does the level publish cell (di, vi)? */
static int
grid_has(const struct grid *g, enum rel_kind kind, size_t di, size_t vi)
{
	if (kind == REL_WEEK)
		return 1;
	/* D1: every dept x {categories, *}; D2: * x services. */
	return vi >= g->ns || di == g->nd - 1;
}

static void
dept_name(const struct rel_dims *dims, size_t di, char *buf, size_t len)
{
	if (di < dims->ndept)
		snprintf(buf, len, "%s", dims->dept[di]);
	else if (di == dims->ndept)
		snprintf(buf, len, "%s", REL_UNASSIGNED);
	else
		snprintf(buf, len, "%s", REL_ALL);
}

static void
svc_name(const struct rel_dims *dims, const struct grid *g, size_t vi,
    char *buf, size_t len)
{
	if (vi < g->ns)
		snprintf(buf, len, "%s", catalog_service(dims->cat, vi)->id);
	else if (vi < g->ns + g->nc)
		snprintf(buf, len, "%s%s", REL_CAT_PREFIX, g->cat[vi - g->ns]);
	else
		snprintf(buf, len, "%s", REL_ALL);
}

/* Protect one accumulated cell into out->m. */
/*
 * A cell of fewer than k devices published as k carries magnitudes
 * scaled with it, x k / n: otherwise its figures would contradict each
 * other (five devices with two device-hours between them can only be a
 * cell of at most two) and tell the reader that it is a small cell
 * moved up.  The figure per device stays what it was, and the mean is
 * kept: such a count becomes k with probability n/k, so E[x k/n] = x.
 * Counts of k or more move by at most k-1 and are not scaled (that
 * would cost up to (k-1)/k of the figure); the device-hours clamp in
 * protect() covers what their move could contradict.
 */
static uint64_t
rel_scale(uint64_t x, uint64_t n, uint64_t published, uint64_t k)
{
	u128 r;

	if (n == 0 || n >= k || published == n)
		return x;
	r = ((u128)x * published + n / 2) / n;
	return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

static void
protect(const struct rel_params *p, struct draw *dr, struct acc *a,
    unsigned published, struct rel_cell *out)
{
	uint64_t n, ck = 0;
	int i;

	memset(out->m, 0, sizeof(out->m));
	n = a->used ? sketch_estimate(&a->dev) : 0;
	if (p->k > 1 && n > 0)
		ck = sketch_cell_key(&a->dev, draw_rk, draw_dense, dr);
	out->m[RM_DEVICES] = p->k > 1 && n > 0 ?
	    rel_count(p, n, draw_cnt(dr, ck, RM_DEVICES)) : n;
	/* A hidden cell is indistinguishable from an empty one. */
	if (out->m[RM_DEVICES] == 0)
		return;
	for (i = 0; i < RM_N; i++) {
		if (i == RM_DEVICES || !(published & (1u << i)))
			continue;
		out->m[i] = p->k > 1 && a->m[i] > 0 ?
		    rel_magnitude(p, rel_scale(a->m[i], n, out->m[RM_DEVICES],
		    (uint64_t)p->k),
		    draw_mag(dr, ck, i, a->m[i])) : a->m[i];
	}
	/*
	 * Every device was seen in at least one hour: noise must not make a
	 * cell claim fewer device-hours than devices.  A clamp of published
	 * figures against each other tells nothing new.
	 */
	if ((published & (1u << RM_DEVHOURS)) &&
	    out->m[RM_DEVHOURS] < out->m[RM_DEVICES])
		out->m[RM_DEVHOURS] = out->m[RM_DEVICES];
}

static int
bind_cell(sqlite3_stmt *st, const struct rel_cell *c)
{
	int i;

	sqlite3_reset(st);
	sqlite3_bind_int(st, 1, (int)c->kind);
	sqlite3_bind_int(st, 2, c->period);
	sqlite3_bind_text(st, 3, c->dept, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->svc, -1, SQLITE_STATIC);
	for (i = 0; i < RM_N; i++) {
		/* SQLite integers are signed: clip (never reached). */
		if (!(c->published & (1u << i)))
			sqlite3_bind_null(st, 5 + i);
		else
			sqlite3_bind_int64(st, 5 + i, c->m[i] > INT64_MAX ?
			    INT64_MAX : (sqlite3_int64)c->m[i]);
	}
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

static int
is_sanctioned(const struct rel_dims *dims, const char *sid)
{
	size_t i;

	for (i = 0; i < dims->nsanct; i++)
		if (strcmp(dims->sanctioned[i], sid) == 0)
			return 1;
	return 0;
}

static int
write_dims(sqlite3 *db, const struct rel_dims *dims, const struct grid *g,
    const struct rel_input *in)
{
	sqlite3_stmt *st = NULL;
	char name[96];
	size_t i;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "INSERT INTO dim VALUES(?, ?, ?, ?, ?)",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	/* The configured names; "*" closes both axes implicitly. */
	for (i = 0; i < g->nd + g->nv; i++) {
		int axis = i >= g->nd;
		size_t ord = axis ? i - g->nd : i;

		if (ord == (axis ? g->nv : g->nd) - 1)
			continue;
		if (axis)
			svc_name(dims, g, ord, name, sizeof(name));
		else
			dept_name(dims, ord, name, sizeof(name));
		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, (int)in->kind);
		sqlite3_bind_int(st, 2, in->period);
		sqlite3_bind_int(st, 3, axis);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)ord);
		sqlite3_bind_text(st, 5, name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO service "
	    "VALUES(?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < g->ns; i++) {
		const struct service *s = catalog_service(dims->cat, i);

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, s->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, s->vendor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, s->category, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, s->jurisdiction, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, is_sanctioned(dims, s->id));
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int
write_blind(sqlite3 *db, const struct rel_params *p, const struct draw *dr,
    const struct rel_input *in)
{
	sqlite3_stmt *st;
	uint64_t v;
	int i, rc = 0;

	if (sqlite3_prepare_v2(db, "INSERT INTO blind VALUES(?, ?, ?)", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < RB_N && rc == 0; i++) {
		v = in->blind[i];
		if (p->k > 1 && v > 0)
			v = rel_magnitude(p, v, draw_mag(dr,
			    draw_blind_ck(dr, in->period, i), BLIND_MEASURE(i),
			    v));
		if (v > INT64_MAX)
			v = INT64_MAX;
		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, in->period);
		sqlite3_bind_text(st, 2, rel_blind_names[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)v);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
write_period(sqlite3 *db, const struct rel_params *p,
    const struct rel_dims *dims, const struct rel_input *in, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO period VALUES(?, ?, ?, ?, ?, "
	    "?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, (int)in->kind);
	sqlite3_bind_int(st, 2, in->period);
	sqlite3_bind_int(st, 3, in->week);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, in->coverage_hours);
	sqlite3_bind_int64(st, 6, in->hours_total);
	sqlite3_bind_int(st, 7, in->complete ? 1 : 0);
	sqlite3_bind_int(st, 8, p->k);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	if (rc != 0)
		return -1;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta "
	    "VALUES('timezone', ?)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, dims->timezone ? dims->timezone : "", -1,
	    SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

int
release_publish(struct reldb *r, const struct rel_dims *dims,
    const struct rel_params *p, const struct rel_input *in,
    const struct weekkey *keys, int64_t now)
{
	struct grid g;
	struct draw dr = { keys, in->week };
	struct rel_cell *cells = NULL;
	struct rel_period per;
	sqlite3_stmt *st = NULL;
	const char *why = "out of memory";
	size_t i, di, vi, ncell = 0;
	int in_tx = 0, rc;

	memset(&g, 0, sizeof(g));
	if (p->k < 1 || (in->kind != REL_DAY && in->kind != REL_WEEK)) {
		log_warnx("release: bad parameters for period %" PRId32,
		    in->period);
		return -1;
	}
	if (p->k > 1 && (keys == NULL || !weekkey_has(keys, in->week))) {
		log_warnx("release: no key of week %" PRId32 " to protect "
		    "period %" PRId32 "; not published", in->week, in->period);
		return -1;
	}
	if (exec(r->db, "BEGIN IMMEDIATE") != 0) {
		why = sqlite3_errmsg(r->db);
		goto fail;
	}
	in_tx = 1;
	if ((rc = reldb_is_released(r, in->kind, in->period)) != 0) {
		exec(r->db, "ROLLBACK");
		if (rc == 1)
			return 0;
		why = sqlite3_errmsg(r->db);
		in_tx = 0;
		goto fail;
	}
	/* Names are stored whole or not at all (rel_cell.dept is 64 bytes). */
	for (i = 0; i < dims->ndept; i++)
		if (strlen(dims->dept[i]) >= DEPT_MAX) {
			why = "a department name longer than 63 bytes";
			goto fail;
		}
	if (grid_init(&g, dims) != 0)
		goto fail;
	/* Each leaf feeds its cell and the margins above it. */
	for (i = 0; i < in->nleaf; i++) {
		const struct rel_leaf *l = &in->leaf[i];
		uint64_t m[RM_N];
		size_t dv[2], sv[3];
		int a, b;

		if (l->dept < 0 || (size_t)l->dept > dims->ndept ||
		    l->svc < 0 || (size_t)l->svc >= g.ns) {
			why = "a leaf outside the grid";
			goto fail;
		}
		memcpy(m, l->m, sizeof(m));
		m[RM_DEVICES] = 0;
		m[RM_CONNS] = m[RM_TLS] + m[RM_QUIC] + m[RM_ECH];
		dv[0] = (size_t)l->dept;
		dv[1] = g.nd - 1;
		sv[0] = (size_t)l->svc;
		sv[1] = g.ns + g.svc_cat[l->svc];
		sv[2] = g.nv - 1;
		for (a = 0; a < 2; a++)
			for (b = 0; b < 3; b++)
				if (acc_add(&g.a[dv[a] * g.nv + sv[b]], l,
				    m) != 0)
					goto fail;
	}
	if ((cells = calloc(g.nd * g.nv, sizeof(*cells))) == NULL)
		goto fail;
	why = "cannot write";
	if (sqlite3_prepare_v2(r->db, "INSERT INTO cell VALUES(?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	for (di = 0; di < g.nd; di++) {
		for (vi = 0; vi < g.nv; vi++) {
			struct rel_cell *c = &cells[ncell];
			int j, nz = 0;

			if (!grid_has(&g, in->kind, di, vi))
				continue;
			c->kind = in->kind;
			c->period = in->period;
			c->published = in->kind == REL_WEEK ?
			    REL_ALL_MEASURES : REL_DAY_MEASURES;
			dept_name(dims, di, c->dept, sizeof(c->dept));
			svc_name(dims, &g, vi, c->svc, sizeof(c->svc));
			protect(p, &dr, &g.a[di * g.nv + vi], c->published, c);
			for (j = 0; j < RM_N; j++)
				nz |= c->m[j] != 0;
			if (!nz)
				continue;	/* absent = a released zero */
			if (bind_cell(st, c) != 0)
				goto fail;
			ncell++;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (write_dims(r->db, dims, &g, in) != 0 ||
	    (in->kind == REL_DAY && write_blind(r->db, p, &dr, in) != 0) ||
	    write_period(r->db, p, dims, in, now) != 0 ||
	    exec(r->db, "COMMIT") != 0) {
		why = sqlite3_errmsg(r->db);
		goto fail;
	}
	in_tx = 0;
	if (p->k == 1)
		log_warnx("release: %s %" PRId32 " published WITHOUT protection "
		    "(min_group_size 1: validation only)",
		    in->kind == REL_DAY ? "day" : "week", in->period);
	if (r->cb != NULL) {
		memset(&per, 0, sizeof(per));
		per.kind = in->kind;
		per.period = in->period;
		per.week = in->week;
		per.released_at = now;
		per.coverage_hours = in->coverage_hours;
		per.hours_total = in->hours_total;
		per.complete = in->complete ? 1 : 0;
		per.min_group = p->k;
		for (i = 0; i < ncell; i++)
			r->cb(r->cbarg, &per, &cells[i]);
	}
	free(cells);
	grid_free(&g);
	return 1;
fail:
	log_warnx("release: %s %" PRId32 " not published: %s",
	    in->kind == REL_DAY ? "day" : "week", in->period, why);
	sqlite3_finalize(st);
	if (in_tx)
		exec(r->db, "ROLLBACK");
	free(cells);
	grid_free(&g);
	return -1;
}
