/*
 * released.c - the read side of the release database (released.h).
 *
 * Opens the store read-only (store/relstore.h) and returns released
 * periods and their whole grid, zeros included: the grid comes from the
 * period's recorded axes (the configuration at release time), the
 * figures from its stored cells, and a grid cell the store does not hold
 * is a released zero.  Which cells a level publishes, and which of their
 * measures, is decided here, the same for every store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/relstore.h"
#include "store/relstore_sqlite.h"
#include "release/released.h"

struct released {
	struct relstore	*st;
	char		 tz[64];
};

/* The read API over st; what names the store in an error message. */
static struct released *
released_over(struct relstore *st, const char *what, char *err,
    size_t errlen)
{
	struct released *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		relstore_close(st);
		return NULL;
	}
	r->st = st;
	if (relstore_timezone(st, r->tz, sizeof(r->tz)) != 0) {
		snprintf(err, errlen, "release database%s%s: %s", *what ? " " :
		    "", what, relstore_error(st));
		released_close(r);
		return NULL;
	}
	return r;
}

struct released *
released_open(const char *path, char *err, size_t errlen)
{
	struct relstore *st;

	if ((st = relstore_sqlite_open(path, RELSTORE_READ, err,
	    errlen)) == NULL)
		return NULL;
	return released_over(st, path, err, errlen);
}

struct released *
released_of(struct relstore *st, char *err, size_t errlen)
{
	return released_over(st, "", err, errlen);
}

void
released_close(struct released *r)
{
	if (r == NULL)
		return;
	relstore_close(r->st);
	free(r);
}

const char *
released_timezone(struct released *r)
{
	return r->tz;
}

int
released_central_site(struct released *r, char *site, size_t len)
{
	char by[32], name[64];
	int rc;

	if (site != NULL && len > 0)
		site[0] = '\0';
	if ((rc = relstore_meta(r->st, "published_by", by, sizeof(by))) != 0)
		return rc == 1 ? 0 : -1;
	if (strcmp(by, "central") != 0)
		return 0;
	if (relstore_meta(r->st, "site", name, sizeof(name)) < 0)
		return -1;
	if (site != NULL && len > 0)
		snprintf(site, len, "%s", name);
	return 1;
}

void
released_central_message(const char *site, char *buf, size_t len)
{
	snprintf(buf, len, "this sensor's figures are published in the "
	    "organisation's central release (site %s): aicensus report "
	    "--db \u2026 --site %s", site, site);
}

struct period_vec {
	struct rel_period	*v;
	size_t			 n, cap;
	int			 oom;
};

static int
period_add(void *arg, const struct rel_period *p)
{
	struct period_vec *pv = arg;
	struct rel_period *nv;
	size_t cap;

	if (pv->n == pv->cap) {
		cap = pv->cap ? pv->cap * 2 : 16;
		if ((nv = reallocarray(pv->v, cap, sizeof(*nv))) == NULL) {
			pv->oom = 1;
			return -1;
		}
		pv->v = nv;
		pv->cap = cap;
	}
	pv->v[pv->n++] = *p;
	return 0;
}

int
released_periods(struct released *r, enum rel_kind kind, int32_t from,
    int32_t to, struct rel_period **out, size_t *n, char *err, size_t errlen)
{
	struct period_vec pv = { NULL, 0, 0, 0 };

	*out = NULL;
	*n = 0;
	if (relstore_periods(r->st, kind, from, to, period_add, &pv) != 0) {
		free(pv.v);
		if (pv.oom)
			snprintf(err, errlen, "out of memory");
		else
			snprintf(err, errlen, "release database: %s",
			    relstore_error(r->st));
		return -1;
	}
	*out = pv.v;
	*n = pv.n;
	return 0;
}

int
released_period(struct released *r, enum rel_kind kind, int32_t period,
    struct rel_period *out)
{
	return relstore_period(r->st, kind, period, out);
}

/* An axis's names as the store gives them, one after another. */
struct name_buf {
	char		*b;
	size_t		 len, cap, cnt;
};

static int
name_add(void *arg, const char *name)
{
	struct name_buf *nb = arg;
	size_t l = strlen(name) + 1, cap;
	char *nv;

	if (nb->cap - nb->len < l) {
		for (cap = nb->cap ? nb->cap : 256; cap - nb->len < l; cap *= 2)
			;
		if ((nv = realloc(nb->b, cap)) == NULL)
			return -1;
		nb->b = nv;
		nb->cap = cap;
	}
	memcpy(nb->b + nb->len, name, l);
	nb->len += l;
	nb->cnt++;
	return 0;
}

/*
 * One axis of a period's grid, in order, as one malloc'd block: the
 * pointer array (NULL-terminated) followed by the strings.  The store
 * holds the configured names (departments and "unassigned"; services
 * and "cat:" categories); "*" closes every axis and is added here when
 * with_all is set.  0 ok, -1 error.
 */
static int
read_axis(struct released *r, enum rel_kind kind, int32_t period,
    enum relstore_axis axis, int with_all, char ***names, size_t *n)
{
	struct name_buf nb = { NULL, 0, 0, 0 };
	char **v, *p;
	size_t cnt, bytes, i;

	*names = NULL;
	*n = 0;
	if (relstore_axis(r->st, kind, period, axis, name_add, &nb) != 0 ||
	    (with_all && name_add(&nb, REL_ALL) != 0)) {
		free(nb.b);
		return -1;
	}
	cnt = nb.cnt;
	bytes = nb.len;
	if ((v = calloc(1, (cnt + 1) * sizeof(*v) + bytes)) == NULL) {
		free(nb.b);
		return -1;
	}
	p = (char *)(v + cnt + 1);
	if (bytes > 0)
		memcpy(p, nb.b, bytes);
	free(nb.b);
	for (i = 0; i < cnt; i++) {
		v[i] = p;
		p += strlen(p) + 1;
	}
	v[cnt] = NULL;
	*names = v;
	*n = cnt;
	return 0;
}

int
released_depts(struct released *r, enum rel_kind kind, int32_t period,
    char ***names, size_t *n)
{
	return read_axis(r, kind, period, RELSTORE_DEPT, 0, names, n);
}

int
released_svcs(struct released *r, enum rel_kind kind, int32_t period,
    char ***names, size_t *n)
{
	return read_axis(r, kind, period, RELSTORE_SVC, 0, names, n);
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

/* A stored cell's figures into c: only what its level publishes. */
static void
cell_fill(struct rel_cell *c, const uint64_t m[RM_N])
{
	int i;

	for (i = 0; i < RM_N; i++)
		c->m[i] = (c->published & (1u << i)) ? m[i] : 0;
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

/* The grid being filled from the stored cells. */
struct grid_fill {
	char		**dn, **sn;
	size_t		 nd, ns;
	size_t		*pos;		/* [dept * ns + svc]: place in v */
	struct rel_cell	*v;
};

static int
grid_put(void *arg, const char *d, const char *s, const uint64_t m[RM_N])
{
	struct grid_fill *gf = arg;
	size_t i, j;

	for (i = 0; i < gf->nd && strcmp(gf->dn[i], d) != 0; i++)
		;
	for (j = 0; j < gf->ns && strcmp(gf->sn[j], s) != 0; j++)
		;
	/* A row outside the recorded grid is never shown. */
	if (i < gf->nd && j < gf->ns && gf->pos[i * gf->ns + j] != SIZE_MAX)
		cell_fill(&gf->v[gf->pos[i * gf->ns + j]], m);
	return 0;
}

int
released_cells(struct released *r, enum rel_kind kind, int32_t period,
    struct rel_cell **out, size_t *n, char *err, size_t errlen)
{
	struct rel_period per;
	struct grid_fill gf;
	size_t i, j, cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	memset(&gf, 0, sizeof(gf));
	if ((rc = released_period(r, kind, period, &per)) != 0) {
		if (rc == 1)
			return 1;
		goto dberr;
	}
	if (read_axis(r, kind, period, RELSTORE_DEPT, 1, &gf.dn, &gf.nd) !=
	    0 || read_axis(r, kind, period, RELSTORE_SVC, 1, &gf.sn,
	    &gf.ns) != 0)
		goto dberr;
	/* pos[dept * ns + svc]: the cell's place in v, or SIZE_MAX. */
	if (gf.nd > 0 && gf.ns > 0 &&
	    ((gf.v = calloc(gf.nd * gf.ns, sizeof(*gf.v))) == NULL ||
	    (gf.pos = calloc(gf.nd * gf.ns, sizeof(*gf.pos))) == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < gf.nd; i++)
		for (j = 0; j < gf.ns; j++) {
			gf.pos[i * gf.ns + j] = SIZE_MAX;
			if (!level_has(kind, gf.dn[i], gf.sn[j]))
				continue;
			gf.pos[i * gf.ns + j] = cnt;
			cell_init(&gf.v[cnt++], kind, period, gf.dn[i],
			    gf.sn[j]);
		}
	if (relstore_cells(r->st, kind, period, grid_put, &gf) != 0)
		goto dberr;
	free(gf.dn);
	free(gf.sn);
	free(gf.pos);
	*out = gf.v;
	*n = cnt;
	return 0;
dberr:
	snprintf(err, errlen, "release database: %s", relstore_error(r->st));
fail:
	free(gf.dn);
	free(gf.sn);
	free(gf.pos);
	free(gf.v);
	return -1;
}

struct name_find {
	const char	*name;
	int		 found;
};

static int
name_find(void *arg, const char *name)
{
	struct name_find *nf = arg;

	if (strcmp(name, nf->name) == 0)
		nf->found = 1;
	return 0;
}

/* 1 when the period's recorded axis has name, 0 when not, -1 error. */
static int
axis_has(struct released *r, enum rel_kind kind, int32_t period,
    enum relstore_axis axis, const char *name)
{
	struct name_find nf = { name, 0 };

	if (relstore_axis(r->st, kind, period, axis, name_find, &nf) != 0)
		return -1;
	return nf.found;
}

int
released_cell(struct released *r, enum rel_kind kind, int32_t period,
    const char *dept, const char *svc, struct rel_cell *out)
{
	struct rel_period per;
	uint64_t m[RM_N];
	int rc;

	if ((rc = released_period(r, kind, period, &per)) != 0)
		return rc;
	if ((strcmp(dept, REL_ALL) != 0 &&
	    axis_has(r, kind, period, RELSTORE_DEPT, dept) != 1) ||
	    (strcmp(svc, REL_ALL) != 0 &&
	    axis_has(r, kind, period, RELSTORE_SVC, svc) != 1) ||
	    !level_has(kind, dept, svc))
		return 1;
	cell_init(out, kind, period, dept, svc);
	if ((rc = relstore_cell(r->st, kind, period, dept, svc, m)) == 0)
		cell_fill(out, m);
	return rc == 0 || rc == 1 ? 0 : -1;
}

struct service_vec {
	struct rel_service	*v;
	size_t			 n, cap;
};

static int
service_add(void *arg, const struct rel_service *s)
{
	struct service_vec *sv = arg;
	struct rel_service *nv;
	size_t cap;

	if (sv->n == sv->cap) {
		cap = sv->cap ? sv->cap * 2 : 32;
		if ((nv = reallocarray(sv->v, cap, sizeof(*nv))) == NULL)
			return -1;
		sv->v = nv;
		sv->cap = cap;
	}
	sv->v[sv->n++] = *s;
	return 0;
}

int
released_services(struct released *r, struct rel_service **out, size_t *n)
{
	struct service_vec sv = { NULL, 0, 0 };

	*out = NULL;
	*n = 0;
	if (relstore_services(r->st, service_add, &sv) != 0) {
		free(sv.v);
		return -1;
	}
	*out = sv.v;
	*n = sv.n;
	return 0;
}

int
released_blind(struct released *r, int32_t day, uint64_t v[RB_N])
{
	struct rel_period per;
	int rc;

	if ((rc = released_period(r, REL_DAY, day, &per)) != 0)
		return rc;
	return relstore_blind(r->st, day, v);
}
