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
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/catalog.h"
#include "common/log.h"
#include "common/siphash.h"
#include "release/release.h"
#include "aggregate/sketch.h"
#include "attribute/weekkey.h"
#include "store/relstore.h"
#include "store/relstore_sqlite.h"

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

/*
 * Whose key draws: a sensor's week key (K_rk of the week), or, for the
 * central release, the central secret (ckey, 16 bytes).
 */
struct draw {
	const struct weekkey	*keys;
	int32_t			 week;
	const uint8_t		*ckey;
};

static uint64_t
prf(const struct draw *dr, const void *msg, size_t len)
{
	if (dr->ckey != NULL)
		return siphash24(dr->ckey, msg, len);
	return weekkey_prf(dr->keys, dr->week, msg, len);
}

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
	return prf(dr, msg, sizeof(msg));
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
	v = prf(dr, msg, 3 + n);
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
	return prf(dr, msg, sizeof(msg));
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
	return prf(dr, msg, sizeof(msg));
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
	return prf(dr, msg, sizeof(msg));
}

/* Blind classes draw under measure codes no cell measure uses. */
#define BLIND_MEASURE(c)	(0x80 | (c))

/* ---- the release database ------------------------------------------ */

#define DEPT_MAX	sizeof(((struct rel_cell *)0)->dept)
#define SVC_MAX		sizeof(((struct rel_cell *)0)->svc)

/*
 * The stage's handle on the release database: the store (relstore.h)
 * keeps what is published; what may be published is decided here.
 */
struct reldb {
	struct relstore	*st;
	release_cell_cb	 cb;
	void		*cbarg;
	char		 site[64];	/* "": cells are published here */
};

struct reldb *
reldb_of(struct relstore *st)
{
	struct reldb *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		relstore_close(st);
		return NULL;
	}
	r->st = st;
	return r;
}

struct reldb *
reldb_open(const char *path, char *err, size_t errlen)
{
	struct relstore *st;
	struct reldb *r;

	if ((st = relstore_sqlite_open(path, RELSTORE_WRITE, err,
	    errlen)) == NULL)
		return NULL;
	if ((r = reldb_of(st)) == NULL)
		snprintf(err, errlen, "out of memory");
	return r;
}

void
reldb_close(struct reldb *r)
{
	if (r == NULL)
		return;
	relstore_close(r->st);
	free(r);
}

void
release_set_cell_cb(struct reldb *r, release_cell_cb cb, void *arg)
{
	r->cb = cb;
	r->cbarg = arg;
}

int
reldb_set_central(struct reldb *r, const char *site)
{
	if (site == NULL) {
		r->site[0] = '\0';
		return 0;
	}
	if (*site == '\0' || strlen(site) >= sizeof(r->site))
		return -1;
	snprintf(r->site, sizeof(r->site), "%s", site);
	return 0;
}

int
reldb_is_released(struct reldb *r, enum rel_kind kind, int32_t period)
{
	return relstore_is_released(r->st, kind, period);
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
	int rc;

	if ((rc = relstore_retention(r->st, cutoff_day, cutoff_week)) < 0)
		log_warnx("release database: retention failed: %s",
		    relstore_error(r->st));
	return rc;
}

/* ---- building the grid --------------------------------------------- */

/*
 * One grid cell being accumulated: merged devices, summed counters; or,
 * for already-summed cells (the central release), the summed device
 * figure in n (summed set).
 */
struct acc {
	struct sketch	 dev;
	uint64_t	 m[RM_N];
	int		 used;
	int		 summed;
	uint64_t	 n;
};

struct grid {
	size_t		 nd;		/* ndept + unassigned + "*" */
	size_t		 ns, nc;	/* services, categories */
	size_t		 nv;		/* ns + nc + "*" */
	const char	**cat;		/* distinct categories, catalog order */
	size_t		*svc_cat;	/* service -> category index */
	struct acc	*a;		/* nd x nv */
	/* The axes' names in grid order, "*" last (it closes both). */
	const char	**dname;	/* departments, "unassigned", "*" */
	const char	**vname;	/* services, "cat:" categories, "*" */
	char		(*catname)[SVC_MAX];
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
	free(g->dname);
	free(g->vname);
	free(g->catname);
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
	if ((g->dname = calloc(g->nd, sizeof(*g->dname))) == NULL ||
	    (g->vname = calloc(g->nv, sizeof(*g->vname))) == NULL ||
	    (g->catname = calloc(g->nc + 1, sizeof(*g->catname))) == NULL)
		goto fail;
	for (i = 0; i < dims->ndept; i++)
		g->dname[i] = dims->dept[i];
	g->dname[i] = REL_UNASSIGNED;
	g->dname[g->nd - 1] = REL_ALL;
	for (i = 0; i < g->ns; i++)
		g->vname[i] = catalog_service(dims->cat, i)->id;
	for (j = 0; j < g->nc; j++) {
		snprintf(g->catname[j], sizeof(g->catname[j]), "%s%s",
		    REL_CAT_PREFIX, g->cat[j]);
		g->vname[g->ns + j] = g->catname[j];
	}
	g->vname[g->nv - 1] = REL_ALL;
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

/*
 * The central cell key: no record keys exist centrally (sensors never
 * ship device material), so the key is a PRF under the central secret
 * of the cell's place and its true device figure.  The same cell with
 * the same figure always draws the same noise (repeated or overlapping
 * reads gain nothing); unlike the sensor's CKM, two cells with the same
 * devices do not share a key (docs/PRIVACY.md, "The central release").
 */
static uint64_t
draw_central_ck(const struct draw *dr, const struct rel_cell *c, uint64_t n)
{
	uint8_t msg[3 + 1 + 4 + DEPT_MAX + SVC_MAX + 8];
	size_t dl = strnlen(c->dept, DEPT_MAX - 1);
	size_t sl = strnlen(c->svc, SVC_MAX - 1), off = 0;

	memcpy(msg, "cck", 3);
	off = 3;
	msg[off++] = (uint8_t)c->kind;
	msg[off++] = (uint8_t)((uint32_t)c->period);
	msg[off++] = (uint8_t)((uint32_t)c->period >> 8);
	msg[off++] = (uint8_t)((uint32_t)c->period >> 16);
	msg[off++] = (uint8_t)((uint32_t)c->period >> 24);
	memcpy(msg + off, c->dept, dl);
	off += dl;
	msg[off++] = 0;
	memcpy(msg + off, c->svc, sl);
	off += sl;
	msg[off++] = 0;
	put64(msg + off, n);
	off += 8;
	return prf(dr, msg, off);
}

static void
protect(const struct rel_params *p, struct draw *dr, struct acc *a,
    unsigned published, struct rel_cell *out)
{
	uint64_t n, ck = 0;
	int i;

	memset(out->m, 0, sizeof(out->m));
	if (a->summed)
		n = a->n;
	else
		n = a->used ? sketch_estimate(&a->dev) : 0;
	if (p->k > 1 && n > 0)
		ck = a->summed ? draw_central_ck(dr, out, n) :
		    sketch_cell_key(&a->dev, draw_rk, draw_dense, dr);
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
is_sanctioned(const struct rel_dims *dims, const char *sid)
{
	size_t i;

	for (i = 0; i < dims->nsanct; i++)
		if (strcmp(dims->sanctioned[i], sid) == 0)
			return 1;
	return 0;
}

/* The catalog's facts as published with the period; NULL on failure. */
static struct rel_service *
service_facts(const struct rel_dims *dims, size_t ns)
{
	struct rel_service *v;
	size_t i;

	if ((v = calloc(ns + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < ns; i++) {
		const struct service *s = catalog_service(dims->cat, i);

		snprintf(v[i].sid, sizeof(v[i].sid), "%s", s->id);
		snprintf(v[i].name, sizeof(v[i].name), "%s", s->name);
		snprintf(v[i].vendor, sizeof(v[i].vendor), "%s", s->vendor);
		snprintf(v[i].category, sizeof(v[i].category), "%s",
		    s->category);
		snprintf(v[i].jurisdiction, sizeof(v[i].jurisdiction), "%s",
		    s->jurisdiction);
		v[i].sanctioned = is_sanctioned(dims, s->id);
	}
	return v;
}

/* A day's blind-spot figures, protected like magnitudes. */
static void
protect_blind(const struct rel_params *p, const struct draw *dr,
    int32_t day, const uint64_t in[RB_N], uint64_t out[RB_N])
{
	uint64_t v;
	int i;

	for (i = 0; i < RB_N; i++) {
		v = in[i];
		if (p->k > 1 && v > 0)
			v = rel_magnitude(p, v, draw_mag(dr,
			    draw_blind_ck(dr, day, i), BLIND_MEASURE(i),
			    v));
		out[i] = v;
	}
}

/*
 * The grid of in's period filled from its leaves: each leaf feeds its
 * cell and the margins above it (its department's and "*" row, its
 * service's, its category's and "*" column), devices as the union of
 * the leaves' sketches, counters summed.  0 ok, -1 with *why.
 */
static int
grid_build(struct grid *g, const struct rel_dims *dims,
    const struct rel_input *in, const char **why)
{
	size_t i;

	*why = "out of memory";
	if (grid_init(g, dims) != 0)
		return -1;
	for (i = 0; i < in->nleaf; i++) {
		const struct rel_leaf *l = &in->leaf[i];
		uint64_t m[RM_N];
		size_t dv[2], sv[3];
		int a, b;

		if (l->dept < 0 || (size_t)l->dept > dims->ndept ||
		    l->svc < 0 || (size_t)l->svc >= g->ns) {
			*why = "a leaf outside the grid";
			return -1;
		}
		memcpy(m, l->m, sizeof(m));
		m[RM_DEVICES] = 0;
		m[RM_CONNS] = m[RM_TLS] + m[RM_QUIC] + m[RM_ECH];
		dv[0] = (size_t)l->dept;
		dv[1] = g->nd - 1;
		sv[0] = (size_t)l->svc;
		sv[1] = g->ns + g->svc_cat[l->svc];
		sv[2] = g->nv - 1;
		for (a = 0; a < 2; a++)
			for (b = 0; b < 3; b++)
				if (acc_add(&g->a[dv[a] * g->nv + sv[b]], l,
				    m) != 0)
					return -1;
	}
	return 0;
}

static void
cell_names(const struct grid *g, size_t di, size_t vi, struct rel_cell *c)
{
	snprintf(c->dept, sizeof(c->dept), "%s", g->dname[di]);
	snprintf(c->svc, sizeof(c->svc), "%s", g->vname[vi]);
}

/*
 * Every cell of the level, protected by p (k = 1: as counted; dr is
 * then never drawn from), into cells (room for nd x nv); cells with
 * every measure 0 are left out (absent = a released zero).  How many.
 */
static size_t
grid_cells(struct grid *g, const struct rel_params *p, struct draw *dr,
    enum rel_kind kind, int32_t period, struct rel_cell *cells)
{
	size_t di, vi, ncell = 0;

	for (di = 0; di < g->nd; di++) {
		for (vi = 0; vi < g->nv; vi++) {
			struct rel_cell *c = &cells[ncell];
			struct acc *a = &g->a[di * g->nv + vi];
			int j, nz = 0;

			if (!grid_has(g, kind, di, vi))
				continue;
			c->kind = kind;
			c->period = period;
			c->published = kind == REL_WEEK ?
			    REL_ALL_MEASURES : REL_DAY_MEASURES;
			/*
			 * Names only for the cells kept (most of a large grid
			 * is empty), unless the central cell key needs them.
			 */
			if (a->summed)
				cell_names(g, di, vi, c);
			protect(p, dr, a, c->published, c);
			for (j = 0; j < RM_N; j++)
				nz |= c->m[j] != 0;
			if (!nz)
				continue;
			if (!a->summed)
				cell_names(g, di, vi, c);
			ncell++;
		}
	}
	return ncell;
}

int
release_true_cells(const struct rel_dims *dims, const struct rel_input *in,
    struct rel_cell **out, size_t *nout)
{
	static const struct rel_params k1 = { 1 };
	struct grid g;
	struct rel_cell *cells = NULL;
	const char *why;
	size_t i;

	*out = NULL;
	*nout = 0;
	memset(&g, 0, sizeof(g));
	if (in->kind != REL_DAY && in->kind != REL_WEEK)
		return -1;
	for (i = 0; i < dims->ndept; i++)
		if (strlen(dims->dept[i]) >= DEPT_MAX)
			return -1;
	if (grid_build(&g, dims, in, &why) != 0 ||
	    (cells = calloc(g.nd * g.nv, sizeof(*cells))) == NULL) {
		grid_free(&g);
		return -1;
	}
	*nout = grid_cells(&g, &k1, NULL, in->kind, in->period, cells);
	*out = cells;
	grid_free(&g);
	return 0;
}

/*
 * Protect g's cells and publish them with the period's facts: the one
 * tail of release_publish() and release_publish_summed().  1, 0 (already
 * released: nothing written) or -1 with *why.
 */
/*
 * The period row of a release; one place for the sensor's and the
 * central release, whose inputs carry the same header fields.
 */
static void
period_record(struct rel_period *per, enum rel_kind kind, int32_t period,
    int32_t week, unsigned coverage_hours, unsigned hours_total,
    int complete, int k, int64_t now)
{
	memset(per, 0, sizeof(*per));
	per->kind = kind;
	per->period = period;
	per->week = week;
	per->released_at = now;
	per->coverage_hours = coverage_hours;
	per->hours_total = hours_total;
	per->complete = complete ? 1 : 0;
	per->min_group = k;
}

static int
publish_grid(struct reldb *r, const struct rel_dims *dims,
    const struct rel_params *p, struct grid *g, struct draw *dr,
    const struct rel_period *per, const uint64_t *blind_in,
    const char **why)
{
	struct rel_cell *cells = NULL;
	struct rel_service *facts = NULL;
	struct relstore_pub pub;
	uint64_t blind[RB_N];
	size_t i, ncell;
	int rc = -1;

	*why = "out of memory";
	if ((cells = calloc(g->nd * g->nv, sizeof(*cells))) == NULL ||
	    (facts = service_facts(dims, g->ns)) == NULL)
		goto out;
	/*
	 * A shipping sensor publishes its cells through the central release
	 * only: none are even protected here, so none can leave by a
	 * plugin either.
	 */
	ncell = r->site[0] != '\0' ? 0 :
	    grid_cells(g, p, dr, per->kind, per->period, cells);
	memset(&pub, 0, sizeof(pub));
	pub.per = *per;
	pub.timezone = dims->timezone ? dims->timezone : "";
	pub.dept = g->dname;
	pub.ndept = g->nd - 1;
	pub.svc = g->vname;
	pub.nsvc = g->nv - 1;
	pub.service = facts;
	pub.nservice = g->ns;
	pub.cell = cells;
	pub.ncell = ncell;
	if (r->site[0] != '\0') {
		pub.ndept = pub.nsvc = pub.nservice = 0;
		pub.central_site = r->site;
	}
	if (per->kind == REL_DAY) {
		protect_blind(p, dr, per->period, blind_in, blind);
		pub.blind = blind;
	}
	if ((rc = relstore_publish(r->st, &pub)) != 1) {
		if (rc < 0)
			*why = relstore_error(r->st);
		goto out;
	}
	if (p->k == 1)
		log_warnx("release: %s %" PRId32 " published WITHOUT protection "
		    "(min_group_size 1: validation only)",
		    per->kind == REL_DAY ? "day" : "week", per->period);
	if (r->cb != NULL)
		for (i = 0; i < ncell; i++)
			r->cb(r->cbarg, &pub.per, &cells[i]);
out:
	free(cells);
	free(facts);
	return rc;
}

/* Checks shared by both entry points; 0 or -1 with *why. */
static int
publish_check(const struct rel_dims *dims, const struct rel_params *p,
    enum rel_kind kind, const char **why)
{
	size_t i;

	*why = "bad parameters";
	if (p->k < 1 || (kind != REL_DAY && kind != REL_WEEK))
		return -1;
	/* Names are stored whole or not at all (rel_cell.dept is 64 bytes). */
	for (i = 0; i < dims->ndept; i++)
		if (strlen(dims->dept[i]) >= DEPT_MAX) {
			*why = "a department name longer than 63 bytes";
			return -1;
		}
	return 0;
}

int
release_publish(struct reldb *r, const struct rel_dims *dims,
    const struct rel_params *p, const struct rel_input *in,
    const struct weekkey *keys, int64_t now)
{
	struct grid g;
	struct draw dr = { keys, in->week, NULL };
	struct rel_period per;
	const char *why = "out of memory";
	int rc;

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
	/* Released once: the store refuses a second time too (below). */
	if ((rc = relstore_is_released(r->st, in->kind, in->period)) != 0) {
		if (rc == 1)
			return 0;
		why = relstore_error(r->st);
		goto fail;
	}
	if (publish_check(dims, p, in->kind, &why) != 0 ||
	    grid_build(&g, dims, in, &why) != 0)
		goto fail;
	period_record(&per, in->kind, in->period, in->week, in->coverage_hours,
	    in->hours_total, in->complete, p->k, now);
	if ((rc = publish_grid(r, dims, p, &g, &dr, &per, in->blind,
	    &why)) < 0)
		goto fail;
	grid_free(&g);
	return rc;
fail:
	log_warnx("release: %s %" PRId32 " not published: %s",
	    in->kind == REL_DAY ? "day" : "week", in->period, why);
	grid_free(&g);
	return -1;
}

/* Index of name among n names, or n. */
static size_t
name_at(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n && strcmp(names[i], name) != 0; i++)
		;
	return i;
}

int
release_publish_summed(struct reldb *r, const struct rel_dims *dims,
    const struct rel_params *p, const struct rel_summed *in,
    const uint8_t key[16], int64_t now, struct rel_summed_stats *st)
{
	struct grid g;
	struct draw dr = { NULL, in->week, key };
	struct rel_period per;
	const char *why = "out of memory";
	size_t i, di, vi;
	int j, rc;

	memset(&g, 0, sizeof(g));
	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (p->k > 1 && key == NULL) {
		why = "no central secret";
		goto fail;
	}
	if ((rc = relstore_is_released(r->st, in->kind, in->period)) != 0) {
		if (rc == 1)
			return 0;
		why = relstore_error(r->st);
		goto fail;
	}
	if (publish_check(dims, p, in->kind, &why) != 0 ||
	    grid_init(&g, dims) != 0)
		goto fail;
	for (i = 0; i < in->ncell; i++) {
		const struct rel_cell *c = &in->cell[i];
		struct acc *a;

		if (c->kind != in->kind || c->period != in->period) {
			why = "a cell of another period";
			goto fail;
		}
		if ((vi = name_at(g.vname, g.nv, c->svc)) == g.nv) {
			if (st != NULL)
				st->dropped_cells++;
			continue;
		}
		/* A department the configuration lacks is "unassigned". */
		if ((di = name_at(g.dname, g.nd, c->dept)) == g.nd) {
			di = dims->ndept;
			if (st != NULL)
				st->unmapped_cells++;
		}
		a = &g.a[di * g.nv + vi];
		a->summed = a->used = 1;
		a->n += c->m[RM_DEVICES];
		for (j = 0; j < RM_N; j++)
			if (j != RM_DEVICES)
				a->m[j] += c->m[j];
	}
	/* Cells nothing fed are zeros, summed like the others. */
	for (i = 0; i < g.nd * g.nv; i++)
		g.a[i].summed = 1;
	period_record(&per, in->kind, in->period, in->week, in->coverage_hours,
	    in->hours_total, in->complete, p->k, now);
	if ((rc = publish_grid(r, dims, p, &g, &dr, &per, in->blind,
	    &why)) < 0)
		goto fail;
	grid_free(&g);
	return rc;
fail:
	log_warnx("release: central %s %" PRId32 " not published: %s",
	    in->kind == REL_DAY ? "day" : "week", in->period, why);
	grid_free(&g);
	return -1;
}
