/*
 * released_tmp.c - TEMPORARY reader of the release database, so that the
 * outputs (query, API, metrics) build and are tested before the real
 * daemon/released.c (branch h-release) is merged.  It implements
 * released.h from the schema in spec.md, nothing more.  DELETE THIS FILE
 * when h-release is merged (the symbols would clash).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "released.h"

const char *const rel_measure_names[RM_N] = {
	"devices", "device_hours", "tls_conns", "quic_conns", "ech_conns",
	"connections", "dns_lookups", "dns_nxdomain", "bytes_up", "bytes_down"
};

const char *const rel_blind_names[RB_N] = {
	"packets", "bytes", "pcap_drops", "if_drops", "ech_unattributed",
	"nosni_conns", "doh_conns", "ignored", "lost", "parse_failures", "late"
};

struct released {
	sqlite3	*db;
	char	 tz[64];
};

struct released *
released_open(const char *path, char *err, size_t errlen)
{
	struct released *r = calloc(1, sizeof(*r));
	sqlite3_stmt *st = NULL;
	int ok = 0;

	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, r->db ?
		    sqlite3_errmsg(r->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(r->db, 250);
	if (sqlite3_prepare_v2(r->db, "SELECT key, value FROM meta", -1, &st,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s is not a release database", path);
		goto fail;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);

		if (k == NULL || v == NULL)
			continue;
		if (strcmp(k, "method") == 0)
			ok = 1;
		else if (strcmp(k, "timezone") == 0)
			snprintf(r->tz, sizeof(r->tz), "%s", v);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!ok) {
		snprintf(err, errlen, "%s is not a release database (no "
		    "method); read the release database", path);
		goto fail;
	}
	return r;
fail:
	sqlite3_finalize(st);
	sqlite3_close(r->db);
	free(r);
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

static void
period_row(sqlite3_stmt *st, struct rel_period *p)
{
	p->kind = (enum rel_kind)sqlite3_column_int(st, 0);
	p->period = sqlite3_column_int(st, 1);
	p->week = sqlite3_column_int(st, 2);
	p->released_at = sqlite3_column_int64(st, 3);
	p->coverage_hours = (unsigned)sqlite3_column_int(st, 4);
	p->hours_total = (unsigned)sqlite3_column_int(st, 5);
	p->complete = sqlite3_column_int(st, 6);
	p->min_group = sqlite3_column_int(st, 7);
}

#define PERIOD_COLS "kind, period, week, released_at, coverage_hours," \
	" hours_total, complete, min_group"

int
released_periods(struct released *r, enum rel_kind kind, int32_t from,
    int32_t to, struct rel_period **out, size_t *n, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(r->db, "SELECT " PERIOD_COLS " FROM period"
	    " WHERE kind = ?1 AND (?2 = 0 OR period >= ?2) AND"
	    " (?3 = 0 OR period <= ?3) ORDER BY period", -1, &st, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(r->db));
		return -1;
	}
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int(st, 2, from);
	sqlite3_bind_int(st, 3, to);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			struct rel_period *np;

			cap = cap ? cap * 2 : 16;
			if ((np = realloc(*out, cap * sizeof(*np))) == NULL) {
				sqlite3_finalize(st);
				free(*out);
				*out = NULL;
				*n = 0;
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			*out = np;
		}
		period_row(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	return 0;
}

int
released_period(struct released *r, enum rel_kind kind, int32_t period,
    struct rel_period *out)
{
	sqlite3_stmt *st;
	int rc = 1;

	if (sqlite3_prepare_v2(r->db, "SELECT " PERIOD_COLS " FROM period"
	    " WHERE kind = ?1 AND period = ?2", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int(st, 2, period);
	if (sqlite3_step(st) == SQLITE_ROW) {
		period_row(st, out);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Names of one axis in ord order; REL_ALL is not in dim. */
static int
axis(struct released *r, enum rel_kind kind, int32_t period, int ax,
    char ***names, size_t *n)
{
	sqlite3_stmt *st;
	size_t cnt = 0, bytes = 0, i;
	char **v, *p;

	*names = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(r->db, "SELECT name FROM dim WHERE kind = ?1"
	    " AND period = ?2 AND axis = ?3 AND name <> '*' ORDER BY ord",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int(st, 2, period);
	sqlite3_bind_int(st, 3, ax);
	while (sqlite3_step(st) == SQLITE_ROW) {
		cnt++;
		bytes += (size_t)sqlite3_column_bytes(st, 0) + 1;
	}
	sqlite3_reset(st);
	if ((v = malloc((cnt + 1) * sizeof(*v) + bytes + 1)) == NULL) {
		sqlite3_finalize(st);
		return -1;
	}
	p = (char *)(v + cnt + 1);
	for (i = 0; i < cnt && sqlite3_step(st) == SQLITE_ROW; i++) {
		const char *s = (const char *)sqlite3_column_text(st, 0);

		v[i] = p;
		p = stpcpy(p, s ? s : "") + 1;
	}
	v[i] = NULL;
	sqlite3_finalize(st);
	*names = v;
	*n = i;
	return 0;
}

int
released_depts(struct released *r, enum rel_kind kind, int32_t period,
    char ***names, size_t *n)
{
	return axis(r, kind, period, 0, names, n);
}

int
released_svcs(struct released *r, enum rel_kind kind, int32_t period,
    char ***names, size_t *n)
{
	return axis(r, kind, period, 1, names, n);
}

static int
load_cell(struct released *r, enum rel_kind kind, int32_t period,
    struct rel_cell *c)
{
	sqlite3_stmt *st;
	int i;

	memset(c->m, 0, sizeof(c->m));
	if (sqlite3_prepare_v2(r->db, "SELECT devices, devhours, tls, quic,"
	    " ech, conns, dns, nxdomain, bytes_up, bytes_down FROM cell WHERE"
	    " kind = ?1 AND period = ?2 AND dept = ?3 AND svc = ?4", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int(st, 2, period);
	sqlite3_bind_text(st, 3, c->dept, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->svc, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		for (i = 0; i < RM_N; i++)
			if (c->published & (1u << i))
				c->m[i] = (uint64_t)sqlite3_column_int64(st,
				    i);
	sqlite3_finalize(st);
	return 0;
}

int
released_cells(struct released *r, enum rel_kind kind, int32_t period,
    struct rel_cell **out, size_t *n, char *err, size_t errlen)
{
	struct rel_period p;
	char **d = NULL, **s = NULL;
	size_t nd, ns, i, j, cnt = 0, cap;
	struct rel_cell *v = NULL, *c;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = released_period(r, kind, period, &p)) != 0) {
		if (rc < 0)
			snprintf(err, errlen, "%s", sqlite3_errmsg(r->db));
		return rc;
	}
	if (released_depts(r, kind, period, &d, &nd) != 0 ||
	    released_svcs(r, kind, period, &s, &ns) != 0)
		goto fail;
	cap = (nd + 1) * (ns + 1);
	if ((v = calloc(cap, sizeof(*v))) == NULL)
		goto fail;
	for (i = 0; i <= nd; i++) {
		const char *dn = i < nd ? d[i] : REL_ALL;

		for (j = 0; j <= ns; j++) {
			const char *sn = j < ns ? s[j] : REL_ALL;
			int iscat = strncmp(sn, REL_CAT_PREFIX, 4) == 0;

			/* day: a service only for all departments */
			if (kind == REL_DAY && j < ns && !iscat && i < nd)
				continue;
			c = &v[cnt++];
			c->kind = kind;
			c->period = period;
			snprintf(c->dept, sizeof(c->dept), "%s", dn);
			snprintf(c->svc, sizeof(c->svc), "%s", sn);
			c->published = kind == REL_DAY ? REL_DAY_MEASURES :
			    REL_ALL_MEASURES;
			if (load_cell(r, kind, period, c) != 0)
				goto fail;
		}
	}
	free(d);
	free(s);
	*out = v;
	*n = cnt;
	return 0;
fail:
	snprintf(err, errlen, "%s", sqlite3_errmsg(r->db));
	free(d);
	free(s);
	free(v);
	return -1;
}

int
released_cell(struct released *r, enum rel_kind kind, int32_t period,
    const char *dept, const char *svc, struct rel_cell *out)
{
	struct rel_cell *v;
	size_t n, i;
	char err[128];
	int rc = 1;

	if (released_cells(r, kind, period, &v, &n, err, sizeof(err)) != 0)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(v[i].dept, dept) == 0 && strcmp(v[i].svc, svc) == 0) {
			*out = v[i];
			rc = 0;
			break;
		}
	free(v);
	return rc;
}

int
released_services(struct released *r, struct rel_service **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(r->db, "SELECT sid, name, vendor, category,"
	    " jurisdiction, sanctioned FROM service ORDER BY sid", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct rel_service *x;

		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			if ((x = realloc(*out, cap * sizeof(*x))) == NULL) {
				sqlite3_finalize(st);
				return -1;
			}
			*out = x;
		}
		x = &(*out)[(*n)++];
		memset(x, 0, sizeof(*x));
#define COL(i) (sqlite3_column_text(st, i) ? \
	(const char *)sqlite3_column_text(st, i) : "")
		snprintf(x->sid, sizeof(x->sid), "%s", COL(0));
		snprintf(x->name, sizeof(x->name), "%s", COL(1));
		snprintf(x->vendor, sizeof(x->vendor), "%s", COL(2));
		snprintf(x->category, sizeof(x->category), "%s", COL(3));
		snprintf(x->jurisdiction, sizeof(x->jurisdiction), "%s",
		    COL(4));
#undef COL
		x->sanctioned = sqlite3_column_int(st, 5);
	}
	sqlite3_finalize(st);
	return 0;
}

int
released_blind(struct released *r, int32_t day, uint64_t v[RB_N])
{
	sqlite3_stmt *st;
	struct rel_period p;
	int i;

	if (released_period(r, REL_DAY, day, &p) != 0)
		return 1;
	memset(v, 0, RB_N * sizeof(*v));
	if (sqlite3_prepare_v2(r->db, "SELECT name, value FROM blind WHERE"
	    " day = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, day);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *nm = (const char *)sqlite3_column_text(st, 0);

		for (i = 0; nm != NULL && i < RB_N; i++)
			if (strcmp(nm, rel_blind_names[i]) == 0)
				v[i] = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}
