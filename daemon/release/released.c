/*
 * released.c - the read side of the release database (released.h).
 *
 * Opens the file read-only and returns released periods and their whole
 * grid, zeros included: the grid comes from the period's `dim` rows (the
 * configuration at release time), the figures from `cell`, and a grid
 * cell without a row is a released zero.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/dbutil.h"
#include "release/released.h"



#define RELEASED_SCHEMA	1

struct released {
	sqlite3		*db;
	char		 tz[64];
};

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

struct released *
released_open(const char *path, char *err, size_t errlen)
{
	struct released *r;
	struct stat sb;
	char ver[32];
	long long uv = 0;
	int raw;

	if (stat(path, &sb) == -1) {
		snprintf(err, errlen, "cannot open release database %s: %s",
		    path, strerror(errno));
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open release database %s: %s",
		    path, r->db ? sqlite3_errmsg(r->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(r->db, 2000);
	if (int_query(r->db, "PRAGMA user_version", &uv) != 0) {
		snprintf(err, errlen, "%s is not a release database (%s)",
		    path, sqlite3_errmsg(r->db));
		goto fail;
	}
	/* The vault (v2) or the v1 working database: name it as such. */
	raw = db_has_table(r->db, "delta") == 1 ||
	    ((uv == 1 || uv == 2) && db_has_table(r->db, "usage_hour") == 1);
	if (raw) {
		snprintf(err, errlen, "%s is the raw working database; read "
		    "the release database (release_database in aicensus.conf)",
		    path);
		goto fail;
	}
	if (db_has_table(r->db, "meta") != 1 ||
	    db_has_table(r->db, "period") != 1 ||
	    db_has_table(r->db, "dim") != 1 ||
	    db_has_table(r->db, "cell") != 1 ||
	    db_has_table(r->db, "blind") != 1 ||
	    db_has_table(r->db, "service") != 1 ||
	    meta_get(r->db, "schema_version", ver, sizeof(ver)) != 0) {
		snprintf(err, errlen, "%s is not a release database", path);
		goto fail;
	}
	if (atoi(ver) < 1 || atoi(ver) > RELEASED_SCHEMA) {
		snprintf(err, errlen, "release database %s has schema version "
		    "%s; this program reads version %d: upgrade aicensus",
		    path, ver, RELEASED_SCHEMA);
		goto fail;
	}
	if (meta_get(r->db, "timezone", r->tz, sizeof(r->tz)) < 0) {
		snprintf(err, errlen, "release database %s: %s", path,
		    sqlite3_errmsg(r->db));
		goto fail;
	}
	return r;
fail:
	released_close(r);
	return NULL;
}

void
released_close(struct released *r)
{
	if (r == NULL)
		return;
	sqlite3_close(r->db);
	free(r);
}

const char *
released_timezone(struct released *r)
{
	return r->tz;
}

#define PERIOD_COLS	"kind, period, week, released_at, coverage_hours, " \
	"hours_total, complete, min_group"

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

int
released_periods(struct released *r, enum rel_kind kind, int32_t from,
    int32_t to, struct rel_period **out, size_t *n, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct rel_period *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(r->db, "SELECT " PERIOD_COLS " FROM period "
	    "WHERE kind = ?1 AND (?2 = 0 OR period >= ?2) AND "
	    "(?3 = 0 OR period <= ?3) ORDER BY period", -1, &st, NULL) !=
	    SQLITE_OK)
		goto dberr;
	sqlite3_bind_int(st, 1, (int)kind);
	sqlite3_bind_int(st, 2, from);
	sqlite3_bind_int(st, 3, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				sqlite3_finalize(st);
				free(v);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			v = nv;
		}
		period_row(st, &v[cnt++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		goto dberr;
	}
	*out = v;
	*n = cnt;
	return 0;
dberr:
	snprintf(err, errlen, "release database: %s", sqlite3_errmsg(r->db));
	return -1;
}

int
released_period(struct released *r, enum rel_kind kind, int32_t period,
    struct rel_period *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(r->db, "SELECT " PERIOD_COLS " FROM period "
	    "WHERE kind = ? AND period = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, (int)kind);
	sqlite3_bind_int(st, 2, period);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		period_row(st, out);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : -1;
}

/*
 * One axis of a period's grid, in ord order, as one malloc'd block: the
 * pointer array (NULL-terminated) followed by the strings.  The `dim`
 * rows hold the configured names (departments and "unassigned";
 * services and "cat:" categories); "*" closes every axis and is added
 * here when with_all is set (a "*" row, if any, is not repeated).
 * 0 ok, -1 error.
 */
static int
read_axis(struct released *r, enum rel_kind kind, int32_t period, int axis,
    int with_all, char ***names, size_t *n)
{
	sqlite3_stmt *st;
	char **v = NULL, *p;
	size_t cnt = 0, bytes = 0, i;
	int rc, pass;

	*names = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(r->db, "SELECT name FROM dim WHERE kind = ? "
	    "AND period = ? AND axis = ? AND name <> '" REL_ALL "' "
	    "ORDER BY ord", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, (int)kind);
	sqlite3_bind_int(st, 2, period);
	sqlite3_bind_int(st, 3, axis);
	/* Pass 0 sizes the block, pass 1 fills it; should a release commit
	 * in between, pass 1 stops at what pass 0 sized. */
	for (pass = 0; pass < 2; pass++) {
		i = 0;
		p = pass ? (char *)(v + cnt + 1) : NULL;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *t;
			size_t len;

			t = (const char *)sqlite3_column_text(st, 0);
			len = (t ? strlen(t) : 0) + 1;
			if (pass == 0) {
				cnt++;
				bytes += len;
				continue;
			}
			if (i == cnt - (with_all ? 1 : 0))
				break;	/* the table grew under us */
			v[i++] = p;
			memcpy(p, t ? t : "", len);
			p += len;
		}
		if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
			sqlite3_finalize(st);
			free(v);
			return -1;
		}
		if (pass == 1)
			break;
		if (with_all) {
			cnt++;
			bytes += sizeof(REL_ALL);
		}
		if ((v = calloc(1, (cnt + 1) * sizeof(*v) + bytes)) == NULL) {
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (with_all) {
		v[i++] = p;
		memcpy(p, REL_ALL, sizeof(REL_ALL));
	}
	v[i] = NULL;
	*names = v;
	*n = i;
	return 0;
}

int
released_depts(struct released *r, enum rel_kind kind, int32_t period,
    char ***names, size_t *n)
{
	return read_axis(r, kind, period, 0, 0, names, n);
}

int
released_svcs(struct released *r, enum rel_kind kind, int32_t period,
    char ***names, size_t *n)
{
	return read_axis(r, kind, period, 1, 0, names, n);
}

static int
is_service(const char *svc)
{
	return strcmp(svc, REL_ALL) != 0 &&
	    strncmp(svc, REL_CAT_PREFIX, strlen(REL_CAT_PREFIX)) != 0;
}

/* Does the level publish (dept, svc)?  (released.h, PUBLISHED LEVELS) */
static int
level_has(enum rel_kind kind, const char *dept, const char *svc)
{
	if (kind == REL_WEEK)
		return 1;
	return !is_service(svc) || strcmp(dept, REL_ALL) == 0;
}

static void
cell_row(sqlite3_stmt *st, int first, struct rel_cell *c)
{
	int i;

	for (i = 0; i < RM_N; i++) {
		sqlite3_int64 v = sqlite3_column_int64(st, first + i);

		c->m[i] = (c->published & (1u << i)) && v > 0 ?
		    (uint64_t)v : 0;
	}
}

static void
cell_init(struct rel_cell *c, enum rel_kind kind, int32_t period,
    const char *dept, const char *svc)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->period = period;
	snprintf(c->dept, sizeof(c->dept), "%s", dept);
	snprintf(c->svc, sizeof(c->svc), "%s", svc);
	c->published = kind == REL_WEEK ? REL_ALL_MEASURES : REL_DAY_MEASURES;
}

#define CELL_COLS	"devices, devhours, tls, quic, ech, conns, dns, " \
	"nxdomain, bytes_up, bytes_down"

int
released_cells(struct released *r, enum rel_kind kind, int32_t period,
    struct rel_cell **out, size_t *n, char *err, size_t errlen)
{
	struct rel_period per;
	struct rel_cell *v = NULL;
	sqlite3_stmt *st = NULL;
	char **dn = NULL, **sn = NULL;
	size_t nd = 0, ns = 0, i, j, cnt = 0, *pos = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = released_period(r, kind, period, &per)) != 0) {
		if (rc == 1)
			return 1;
		goto dberr;
	}
	if (read_axis(r, kind, period, 0, 1, &dn, &nd) != 0 ||
	    read_axis(r, kind, period, 1, 1, &sn, &ns) != 0)
		goto dberr;
	/* pos[dept * ns + svc]: the cell's place in v, or SIZE_MAX. */
	if (nd > 0 && ns > 0 && ((v = calloc(nd * ns, sizeof(*v))) == NULL ||
	    (pos = calloc(nd * ns, sizeof(*pos))) == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < nd; i++)
		for (j = 0; j < ns; j++) {
			pos[i * ns + j] = SIZE_MAX;
			if (!level_has(kind, dn[i], sn[j]))
				continue;
			pos[i * ns + j] = cnt;
			cell_init(&v[cnt++], kind, period, dn[i], sn[j]);
		}
	if (sqlite3_prepare_v2(r->db, "SELECT dept, svc, " CELL_COLS
	    " FROM cell WHERE kind = ? AND period = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		goto dberr;
	sqlite3_bind_int(st, 1, (int)kind);
	sqlite3_bind_int(st, 2, period);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 0);
		const char *s = (const char *)sqlite3_column_text(st, 1);

		if (d == NULL || s == NULL)
			continue;
		for (i = 0; i < nd && strcmp(dn[i], d) != 0; i++)
			;
		for (j = 0; j < ns && strcmp(sn[j], s) != 0; j++)
			;
		/* A row outside the recorded grid is never shown. */
		if (i < nd && j < ns && pos[i * ns + j] != SIZE_MAX)
			cell_row(st, 2, &v[pos[i * ns + j]]);
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	free(dn);
	free(sn);
	free(pos);
	*out = v;
	*n = cnt;
	return 0;
dberr:
	snprintf(err, errlen, "release database: %s", sqlite3_errmsg(r->db));
fail:
	sqlite3_finalize(st);
	free(dn);
	free(sn);
	free(pos);
	free(v);
	return -1;
}

/* 1 when the period's recorded axis has name. */
static int
axis_has(struct released *r, enum rel_kind kind, int32_t period, int axis,
    const char *name)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(r->db, "SELECT 1 FROM dim WHERE kind = ? AND "
	    "period = ? AND axis = ? AND name = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, (int)kind);
	sqlite3_bind_int(st, 2, period);
	sqlite3_bind_int(st, 3, axis);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
released_cell(struct released *r, enum rel_kind kind, int32_t period,
    const char *dept, const char *svc, struct rel_cell *out)
{
	struct rel_period per;
	sqlite3_stmt *st;
	int rc;

	if ((rc = released_period(r, kind, period, &per)) != 0)
		return rc;
	if ((strcmp(dept, REL_ALL) != 0 &&
	    axis_has(r, kind, period, 0, dept) != 1) ||
	    (strcmp(svc, REL_ALL) != 0 &&
	    axis_has(r, kind, period, 1, svc) != 1) ||
	    !level_has(kind, dept, svc))
		return 1;
	cell_init(out, kind, period, dept, svc);
	if (sqlite3_prepare_v2(r->db, "SELECT " CELL_COLS " FROM cell WHERE "
	    "kind = ? AND period = ? AND dept = ? AND svc = ?", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, (int)kind);
	sqlite3_bind_int(st, 2, period);
	sqlite3_bind_text(st, 3, dept, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, svc, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		cell_row(st, 0, out);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static void
col_text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

int
released_services(struct released *r, struct rel_service **out, size_t *n)
{
	sqlite3_stmt *st;
	struct rel_service *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(r->db, "SELECT sid, name, vendor, category, "
	    "jurisdiction, sanctioned FROM service ORDER BY sid", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rel_service *s;

		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = nv;
		}
		s = &v[cnt++];
		memset(s, 0, sizeof(*s));
		col_text(st, 0, s->sid, sizeof(s->sid));
		col_text(st, 1, s->name, sizeof(s->name));
		col_text(st, 2, s->vendor, sizeof(s->vendor));
		col_text(st, 3, s->category, sizeof(s->category));
		col_text(st, 4, s->jurisdiction, sizeof(s->jurisdiction));
		s->sanctioned = sqlite3_column_int(st, 5) != 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return -1;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int
released_blind(struct released *r, int32_t day, uint64_t v[RB_N])
{
	struct rel_period per;
	sqlite3_stmt *st;
	int rc, i;

	if ((rc = released_period(r, REL_DAY, day, &per)) != 0)
		return rc;
	memset(v, 0, RB_N * sizeof(v[0]));
	if (sqlite3_prepare_v2(r->db, "SELECT name, value FROM blind WHERE "
	    "day = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
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
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
