/*
 * wacc.c - the week accumulator (see wacc.h): interned names, hour cells
 * and week leaves in arrays with an open-addressing index, serialisation.
 */
#include <stdlib.h>
#include <string.h>

#include "common/anomaly.h"
#include "detect/catalog.h"
#include "common/period.h"
#include "common/rd.h"
#include "common/wr.h"
#include "aggregate/sketch.h"
#include "aggregate/wacc.h"

struct hcell {
	int64_t		 hour;
	int32_t		 day;
	uint32_t	 dept, svc;	/* name indices */
	uint64_t	 c[C_N];
	struct sketch	 dev;
};

struct leaf {
	uint32_t	 dept, svc;
	uint64_t	 c[C_N];
	uint64_t	 devhours;
	struct sketch	 dev;
};

struct bhour {
	int64_t		 hour;
	int32_t		 day;
	uint64_t	 b[BL_N];
	uint64_t	 anom[ANOM_N];
};

/* Slots hold index + 1; 0 is empty.  cap is a power of two. */
struct idx {
	uint32_t	*slot;
	size_t		 cap;
};

struct wacc {
	int32_t		 week;
	char		**name;
	size_t		 nname, capname;
	struct idx	 nidx;
	int32_t		*rday;
	size_t		 nrday, caprday;
	uint64_t	 cover;		/* hours with packets of released days */
	struct leaf	*lf;
	size_t		 nlf, caplf;
	struct idx	 lidx;
	struct hcell	*hc;
	size_t		 nhc, caphc;
	struct idx	 hidx;
	struct bhour	*bh;
	size_t		 nbh, capbh;
};

static uint64_t
mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ULL;
	return mix(h);
}

static uint64_t
hash_cell(int64_t hour, uint32_t d, uint32_t s)
{
	return mix((uint64_t)hour * 0x9e3779b97f4a7c15ULL ^
	    ((uint64_t)d << 32 | s));
}

static void *
grow(void *p, size_t *cap, size_t need, size_t elsz)
{
	size_t nc = *cap ? *cap : 8;
	void *np;

	if (need <= *cap)
		return p;
	while (nc < need)
		nc *= 2;
	if ((np = realloc(p, nc * elsz)) == NULL)
		return NULL;
	*cap = nc;
	return np;
}

/*
 * The three indexed arrays (names, week leaves, hour cells) share one
 * open-addressing index: linear probing on a power-of-two table.  kind
 * says how element i of its array is hashed and compared with a key.
 */
enum { IX_NAME, IX_LEAF, IX_HCELL };

struct key {
	const char	*name;		/* IX_NAME */
	int64_t		 hour;		/* IX_HCELL; 0 for IX_LEAF */
	uint32_t	 dept, svc;	/* IX_LEAF, IX_HCELL */
};

static uint64_t
elem_hash(const struct wacc *w, int kind, size_t i)
{
	switch (kind) {
	case IX_NAME:
		return hash_str(w->name[i]);
	case IX_LEAF:
		return hash_cell(0, w->lf[i].dept, w->lf[i].svc);
	default:
		return hash_cell(w->hc[i].hour, w->hc[i].dept, w->hc[i].svc);
	}
}

static int
elem_eq(const struct wacc *w, int kind, size_t i, const struct key *k)
{
	switch (kind) {
	case IX_NAME:
		return strcmp(w->name[i], k->name) == 0;
	case IX_LEAF:
		return w->lf[i].dept == k->dept && w->lf[i].svc == k->svc;
	default:
		return w->hc[i].hour == k->hour && w->hc[i].dept == k->dept &&
		    w->hc[i].svc == k->svc;
	}
}

/* Index of the element equal to k (hash h), or -1 when there is none. */
static int64_t
idx_find(const struct wacc *w, const struct idx *x, int kind, uint64_t h,
    const struct key *k)
{
	size_t j;

	if (x->cap == 0)
		return -1;
	for (j = h & (x->cap - 1); x->slot[j] != 0; j = (j + 1) & (x->cap - 1))
		if (elem_eq(w, kind, x->slot[j] - 1, k))
			return (int64_t)x->slot[j] - 1;
	return -1;
}

/* Element i into the first free slot of its probe sequence. */
static void
idx_put(struct idx *x, uint64_t h, size_t i)
{
	size_t j = h & (x->cap - 1);

	while (x->slot[j] != 0)
		j = (j + 1) & (x->cap - 1);
	x->slot[j] = (uint32_t)i + 1;
}

static int
idx_rebuild(struct wacc *w, struct idx *x, int kind, size_t n, size_t want)
{
	struct idx nx = { NULL, 16 };
	size_t i;

	while (nx.cap < want * 2)
		nx.cap *= 2;
	if ((nx.slot = calloc(nx.cap, sizeof(*nx.slot))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		idx_put(&nx, elem_hash(w, kind, i), i);
	free(x->slot);
	*x = nx;
	return 0;
}

/* Make room for one more entry (n entries now). */
static int
idx_room(struct wacc *w, struct idx *x, int kind, size_t n)
{
	if (x->cap != 0 && (n + 1) * 2 <= x->cap)
		return 0;
	return idx_rebuild(w, x, kind, n, n + 1);
}

struct wacc *
wacc_new(int32_t week)
{
	struct wacc *w = calloc(1, sizeof(*w));

	if (w != NULL)
		w->week = week;
	return w;
}

void
wacc_free(struct wacc *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nname; i++)
		free(w->name[i]);
	for (i = 0; i < w->nlf; i++)
		sketch_reset(&w->lf[i].dev);
	for (i = 0; i < w->nhc; i++)
		sketch_reset(&w->hc[i].dev);
	free(w->name);
	free(w->nidx.slot);
	free(w->rday);
	free(w->lf);
	free(w->lidx.slot);
	free(w->hc);
	free(w->hidx.slot);
	free(w->bh);
	free(w);
}

int32_t
wacc_week(const struct wacc *w)
{
	return w->week;
}

int
wacc_empty(const struct wacc *w)
{
	return w->nlf == 0 && w->nhc == 0 && w->nbh == 0 && w->nrday == 0;
}

size_t
wacc_nhcells(const struct wacc *w)
{
	return w->nhc;
}

size_t
wacc_nleaves(const struct wacc *w)
{
	return w->nlf;
}

size_t
wacc_nblind(const struct wacc *w)
{
	return w->nbh;
}

/* Name index of s, interned; -1 out of memory or not a valid name. */
static int64_t
name_id(struct wacc *w, const char *s)
{
	struct key k = { s, 0, 0, 0 };
	size_t len = strlen(s);
	int64_t i;
	uint64_t h;
	char *dup;
	void *np;

	if (len == 0 || len > WACC_NAME_MAX)
		return -1;
	h = hash_str(s);
	if ((i = idx_find(w, &w->nidx, IX_NAME, h, &k)) >= 0)
		return i;
	if ((np = grow(w->name, &w->capname, w->nname + 1,
	    sizeof(*w->name))) == NULL)
		return -1;
	w->name = np;
	if (idx_room(w, &w->nidx, IX_NAME, w->nname) != 0 ||
	    (dup = strdup(s)) == NULL)
		return -1;
	w->name[w->nname] = dup;
	idx_put(&w->nidx, h, w->nname);
	return (int64_t)w->nname++;
}

static struct leaf *
leaf_get(struct wacc *w, uint32_t d, uint32_t s)
{
	struct key k = { NULL, 0, d, s };
	uint64_t h = hash_cell(0, d, s);
	struct leaf *l;
	int64_t i;
	void *np;

	if ((i = idx_find(w, &w->lidx, IX_LEAF, h, &k)) >= 0)
		return &w->lf[i];
	if ((np = grow(w->lf, &w->caplf, w->nlf + 1, sizeof(*w->lf))) == NULL)
		return NULL;
	w->lf = np;
	if (idx_room(w, &w->lidx, IX_LEAF, w->nlf) != 0)
		return NULL;
	l = &w->lf[w->nlf];
	memset(l, 0, sizeof(*l));
	l->dept = d;
	l->svc = s;
	sketch_init(&l->dev);
	idx_put(&w->lidx, h, w->nlf++);
	return l;
}

static struct hcell *
hcell_get(struct wacc *w, int64_t hour, int32_t day, uint32_t d, uint32_t s)
{
	struct key k = { NULL, hour, d, s };
	uint64_t h = hash_cell(hour, d, s);
	struct hcell *c;
	int64_t i;
	void *np;

	if ((i = idx_find(w, &w->hidx, IX_HCELL, h, &k)) >= 0)
		return &w->hc[i];
	if ((np = grow(w->hc, &w->caphc, w->nhc + 1, sizeof(*w->hc))) == NULL)
		return NULL;
	w->hc = np;
	if (idx_room(w, &w->hidx, IX_HCELL, w->nhc) != 0)
		return NULL;
	c = &w->hc[w->nhc];
	memset(c, 0, sizeof(*c));
	c->hour = hour;
	c->day = day;
	c->dept = d;
	c->svc = s;
	sketch_init(&c->dev);
	idx_put(&w->hidx, h, w->nhc++);
	return c;
}

static struct bhour *
bhour_get(struct wacc *w, int64_t hour, int32_t day)
{
	struct bhour *b;
	size_t i;
	void *np;

	for (i = w->nbh; i-- > 0; )
		if (w->bh[i].hour == hour)
			return &w->bh[i];
	if ((np = grow(w->bh, &w->capbh, w->nbh + 1, sizeof(*w->bh))) == NULL)
		return NULL;
	w->bh = np;
	b = &w->bh[w->nbh++];
	memset(b, 0, sizeof(*b));
	b->hour = hour;
	b->day = day;
	return b;
}

int
wacc_day_released(const struct wacc *w, int32_t day)
{
	size_t i;

	for (i = 0; i < w->nrday; i++)
		if (w->rday[i] == day)
			return 1;
	return 0;
}

static int
add_rday(struct wacc *w, int32_t day)
{
	size_t i;
	void *np;

	if (wacc_day_released(w, day))
		return 0;
	if ((np = grow(w->rday, &w->caprday, w->nrday + 1,
	    sizeof(*w->rday))) == NULL)
		return -1;
	w->rday = np;
	for (i = w->nrday; i > 0 && w->rday[i - 1] > day; i--)
		w->rday[i] = w->rday[i - 1];
	w->rday[i] = day;
	w->nrday++;
	return 0;
}

/* Counters and devices of one hour cell into the week part. */
static int
leaf_add(struct wacc *w, uint32_t d, uint32_t s, const uint64_t c[C_N],
    uint64_t devhours, const struct sketch *dev)
{
	struct leaf *l = leaf_get(w, d, s);
	size_t i;

	if (l == NULL || sketch_merge(&l->dev, dev) != 0)
		return -1;
	for (i = 0; i < C_N; i++)
		l->c[i] += c[i];
	l->devhours += devhours;
	return 0;
}

static int
cell_add_ids(struct wacc *w, int64_t hour, int32_t day, uint32_t d,
    uint32_t s, const uint64_t c[C_N], const struct sketch *dev)
{
	struct hcell *hc;
	size_t i;

	/*
	 * A late cell of a released day: the day's figures are out, so it
	 * can only count in the week (device-hours from its own sketch).
	 */
	if (wacc_day_released(w, day))
		return leaf_add(w, d, s, c, dev ? sketch_estimate(dev) : 0,
		    dev);
	if ((hc = hcell_get(w, hour, day, d, s)) == NULL)
		return -1;
	if (dev != NULL && sketch_merge(&hc->dev, dev) != 0)
		return -1;
	for (i = 0; i < C_N; i++)
		hc->c[i] += c[i];
	return 0;
}

int
wacc_add_cell(struct wacc *w, int64_t hour, int32_t day, const char *dept,
    const char *svc, const uint64_t c[C_N], const struct sketch *dev)
{
	int64_t d = name_id(w, dept), s = name_id(w, svc);

	if (d < 0 || s < 0)
		return -1;
	return cell_add_ids(w, hour, day, (uint32_t)d, (uint32_t)s, c, dev);
}

int
wacc_add_blind(struct wacc *w, int64_t hour, int32_t day,
    const uint64_t b[BL_N], const uint64_t anom[ANOM_N])
{
	struct bhour *bh;
	size_t i;

	if (wacc_day_released(w, day))
		return 0;	/* the day's blind figures are out */
	if ((bh = bhour_get(w, hour, day)) == NULL)
		return -1;
	for (i = 0; i < BL_N; i++)
		bh->b[i] += b[i];
	for (i = 0; anom != NULL && i < ANOM_N; i++)
		bh->anom[i] += anom[i];
	return 0;
}

int
wacc_add_agg(struct wacc *w, const struct agg *a, int32_t week,
    char *const *dept, size_t ndept, char *const *svc, size_t nsvc,
    size_t *skipped)
{
	const struct agg_cell *c;
	const struct agg_hour *h;
	int64_t *did = NULL, *sid = NULL, unas;
	size_t i;
	int rc = -1;

	/* names interned once, not once per cell */
	if ((did = calloc(ndept + 1, sizeof(*did))) == NULL ||
	    (sid = calloc(nsvc + 1, sizeof(*sid))) == NULL)
		goto out;
	if ((unas = name_id(w, REL_UNASSIGNED)) < 0)
		goto out;
	for (i = 0; i < ndept; i++)
		if ((did[i] = name_id(w, dept[i])) < 0)
			goto out;
	for (i = 0; i < nsvc; i++)
		if ((sid[i] = name_id(w, svc[i])) < 0)
			goto out;
	for (c = agg_cells(a); c != NULL; c = c->all) {
		int64_t d, s;

		if (c->per.week != week)
			continue;
		if (c->svc < 0 || (size_t)c->svc >= nsvc) {
			if (skipped != NULL)
				(*skipped)++;
			continue;
		}
		d = c->dept >= 0 && (size_t)c->dept < ndept ? did[c->dept] :
		    unas;
		s = sid[c->svc];
		if (cell_add_ids(w, c->per.hour, c->per.day, (uint32_t)d,
		    (uint32_t)s, c->c, &c->dev) != 0)
			goto out;
	}
	for (h = agg_hours(a); h != NULL; h = h->next)
		if (h->per.week == week && wacc_add_blind(w, h->per.hour,
		    h->per.day, h->b, h->anom) != 0)
			goto out;
	rc = 0;
out:
	free(did);
	free(sid);
	return rc;
}

int
wacc_merge(struct wacc *dst, const struct wacc *src)
{
	int64_t *map;
	size_t i;
	int rc = -1;

	if (dst->week != src->week)
		return -1;
	if ((map = calloc(src->nname + 1, sizeof(*map))) == NULL)
		return -1;
	for (i = 0; i < src->nname; i++)
		if ((map[i] = name_id(dst, src->name[i])) < 0)
			goto out;
	/*
	 * Released days first: src's hour cells of a day it released fold
	 * into the week part here too.
	 */
	for (i = 0; i < src->nrday; i++)
		if (!wacc_day_released(dst, src->rday[i]) &&
		    (wacc_fold_day(dst, src->rday[i]) != 0))
			goto out;
	dst->cover += src->cover;
	for (i = 0; i < src->nlf; i++) {
		const struct leaf *l = &src->lf[i];

		if (leaf_add(dst, (uint32_t)map[l->dept], (uint32_t)map[l->svc],
		    l->c, l->devhours, &l->dev) != 0)
			goto out;
	}
	for (i = 0; i < src->nhc; i++) {
		const struct hcell *c = &src->hc[i];

		if (cell_add_ids(dst, c->hour, c->day, (uint32_t)map[c->dept],
		    (uint32_t)map[c->svc], c->c, &c->dev) != 0)
			goto out;
	}
	for (i = 0; i < src->nbh; i++)
		if (wacc_add_blind(dst, src->bh[i].hour, src->bh[i].day,
		    src->bh[i].b, src->bh[i].anom) != 0)
			goto out;
	rc = 0;
out:
	free(map);
	return rc;
}

/* ---- folding ---- */

int
wacc_fold_day(struct wacc *w, int32_t day)
{
	size_t i, j;

	if (wacc_day_released(w, day))
		return 0;
	for (i = 0; i < w->nhc; i++) {
		struct hcell *c = &w->hc[i];

		if (c->day == day && leaf_add(w, c->dept, c->svc, c->c,
		    sketch_estimate(&c->dev), &c->dev) != 0)
			return -1;
	}
	if (add_rday(w, day) != 0)
		return -1;
	for (i = j = 0; i < w->nhc; i++) {
		if (w->hc[i].day == day) {
			sketch_reset(&w->hc[i].dev);
			continue;
		}
		w->hc[j++] = w->hc[i];
	}
	w->nhc = j;
	for (i = j = 0; i < w->nbh; i++) {
		if (w->bh[i].day == day) {
			if (w->bh[i].b[BL_PACKETS] > 0)
				w->cover++;
			continue;
		}
		w->bh[j++] = w->bh[i];
	}
	w->nbh = j;
	/* the index is rebuilt; if that fails, lookups scan nothing stale */
	if (idx_rebuild(w, &w->hidx, IX_HCELL, w->nhc, w->nhc) != 0) {
		free(w->hidx.slot);
		w->hidx.slot = NULL;
		w->hidx.cap = 0;
		return w->nhc == 0 ? 0 : -1;
	}
	return 0;
}

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

size_t
wacc_open_days(const struct wacc *w, int32_t *days, size_t max)
{
	int32_t *all;
	size_t n = 0, i, k = 0;

	if ((all = malloc((w->nhc + w->nbh + 1) * sizeof(*all))) == NULL)
		return 0;
	for (i = 0; i < w->nhc; i++)
		all[n++] = w->hc[i].day;
	for (i = 0; i < w->nbh; i++)
		all[n++] = w->bh[i].day;
	qsort(all, n, sizeof(*all), cmp_i32);
	for (i = 0; i < n; i++) {
		if (i > 0 && all[i] == all[i - 1])
			continue;
		if (k < max)
			days[k] = all[i];
		k++;
	}
	free(all);
	return k < max ? k : max;
}

/* ---- serialisation ---- */

static uint64_t
zz(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t
unzz(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void
put_sketch(struct wr *o, const struct sketch *s)
{
	size_t n, got;

	if (!o->grow) {
		n = sketch_serialized_size(s);
		wr_leb(o, n);
		if (!wr_room(o, n) || sketch_serialize(s, o->p + o->len, n) != n) {
			o->bad = 1;
			return;
		}
		o->len += n;
		return;
	}
	/*
	 * One pass: written 2 bytes on (a length below 2^14 is at most two
	 * LEB128 bytes), the length put before it afterwards.
	 */
	if (!wr_room(o, 2 + SKETCH_SERIALIZED_MAX))
		return;
	got = sketch_serialize(s, o->p + o->len + 2, SKETCH_SERIALIZED_MAX);
	if (got == 0 || got >= (1u << 14)) {
		o->bad = 1;
		return;
	}
	if (got < 0x80) {
		o->p[o->len] = (uint8_t)got;
		memmove(o->p + o->len + 1, o->p + o->len + 2, got);
		o->len += 1 + got;
	} else {
		o->p[o->len] = (uint8_t)(got | 0x80);
		o->p[o->len + 1] = (uint8_t)(got >> 7);
		o->len += 2 + got;
	}
}

/*
 * The writer, in sections so that it can stop and go on (the vault's
 * flush serialises a full hour in slices): the head (names, released
 * days, cover, the leaf count), each leaf, the hour cell count, each
 * hour cell, the blind hour count, each blind hour.  sizing: only count
 * the bytes (into *len); else write to o.
 */
struct em {
	struct wr	*o;
	size_t		 len;
	int		 sizing;
};

static void
em_leb(struct em *e, uint64_t v)
{
	if (e->sizing)
		e->len += wr_leb_size(v);
	else
		wr_leb(e->o, v);
}

static void
em_bytes(struct em *e, const void *b, size_t n)
{
	em_leb(e, n);
	if (e->sizing)
		e->len += n;
	else
		wr_bytes(e->o, b, n);
}

static void
em_sketch(struct em *e, const struct sketch *s)
{
	size_t n;

	if (e->sizing) {
		n = sketch_serialized_size(s);
		e->len += wr_leb_size(n) + n;
	} else
		put_sketch(e->o, s);
}

static void
em_head(const struct wacc *w, struct em *e)
{
	size_t i;

	if (e->sizing)
		e->len += 1;
	else
		wr_u8(e->o, WACC_VERSION);
	em_leb(e, zz(w->week));
	em_leb(e, w->nname);
	for (i = 0; i < w->nname; i++)
		em_bytes(e, w->name[i], strlen(w->name[i]));
	em_leb(e, w->nrday);
	for (i = 0; i < w->nrday; i++)
		em_leb(e, (uint64_t)(uint32_t)w->rday[i]);
	em_leb(e, w->cover);
	em_leb(e, w->nlf);
}

static void
em_leaf(const struct wacc *w, struct em *e, size_t i)
{
	const struct leaf *l = &w->lf[i];
	size_t k;

	em_leb(e, l->dept);
	em_leb(e, l->svc);
	for (k = 0; k < C_N; k++)
		em_leb(e, l->c[k]);
	em_leb(e, l->devhours);
	em_sketch(e, &l->dev);
}

static void
em_hcell(const struct wacc *w, struct em *e, size_t i)
{
	const struct hcell *c = &w->hc[i];
	size_t k;

	em_leb(e, zz(c->hour));
	em_leb(e, (uint64_t)(uint32_t)c->day);
	em_leb(e, c->dept);
	em_leb(e, c->svc);
	for (k = 0; k < C_N; k++)
		em_leb(e, c->c[k]);
	em_sketch(e, &c->dev);
}

static void
em_bhour(const struct wacc *w, struct em *e, size_t i)
{
	const struct bhour *b = &w->bh[i];
	size_t k, na;

	em_leb(e, zz(b->hour));
	em_leb(e, (uint64_t)(uint32_t)b->day);
	em_leb(e, BL_N);
	for (k = 0; k < BL_N; k++)
		em_leb(e, b->b[k]);
	for (k = na = 0; k < ANOM_N; k++)
		na += b->anom[k] != 0;
	em_leb(e, na);
	for (k = 0; k < ANOM_N; k++) {
		if (b->anom[k] == 0)
			continue;
		/* the name, so a changed anomaly list cannot mislabel */
		em_bytes(e, anomaly_name((enum anomaly)k),
		    strlen(anomaly_name((enum anomaly)k)));
		em_leb(e, b->anom[k]);
	}
}

/* Items (leaves, hour cells, blind hours) plus the three counts. */
static size_t
em_items(const struct wacc *w)
{
	return w->nlf + w->nhc + w->nbh + 2;
}

/* Item j of the sequence after the head. */
static void
em_item(const struct wacc *w, struct em *e, size_t j)
{
	if (j < w->nlf) {
		em_leaf(w, e, j);
		return;
	}
	j -= w->nlf;
	if (j == 0) {
		em_leb(e, w->nhc);
		return;
	}
	j--;
	if (j < w->nhc) {
		em_hcell(w, e, j);
		return;
	}
	j -= w->nhc;
	if (j == 0) {
		em_leb(e, w->nbh);
		return;
	}
	em_bhour(w, e, j - 1);
}

static size_t
emit(const struct wacc *w, struct wr *o, int sizing)
{
	struct em e = { o, 0, sizing };
	size_t j, n = em_items(w);

	em_head(w, &e);
	for (j = 0; j < n; j++)
		em_item(w, &e, j);
	if (sizing)
		return e.len;
	return o->bad ? 0 : o->len;
}

size_t
wacc_serialized_size(const struct wacc *w)
{
	struct wr o = wr_fixed(NULL, 0);

	return emit(w, &o, 1);
}

size_t
wacc_serialize(const struct wacc *w, uint8_t *buf, size_t cap)
{
	struct wr o = wr_fixed(buf, cap);

	return emit(w, &o, 0);
}

uint8_t *
wacc_serialize_alloc(const struct wacc *w, size_t *len)
{
	struct wr o = wr_growing();

	*len = emit(w, &o, 0);
	if (*len == 0) {
		free(o.p);
		return NULL;
	}
	return o.p;
}

struct wacc_ser {
	struct wr	 o;
	size_t		 next;		/* item; 0: the head is not written */
	int		 head;
};

struct wacc_ser *
wacc_ser_new(void)
{
	struct wacc_ser *z = calloc(1, sizeof(*z));

	if (z != NULL)
		z->o = wr_growing();
	return z;
}

int
wacc_ser_step(const struct wacc *w, struct wacc_ser *z, size_t items)
{
	struct em e = { &z->o, 0, 0 };
	size_t n = em_items(w);

	if (!z->head) {
		em_head(w, &e);
		z->head = 1;
	}
	while (z->next < n && items-- > 0)
		em_item(w, &e, z->next++);
	if (z->o.bad)
		return -1;
	return z->next < n ? 1 : 0;
}

uint8_t *
wacc_ser_take(struct wacc_ser *z, size_t *len)
{
	uint8_t *p = z->o.p;

	*len = z->o.len;
	z->o.p = NULL;
	z->o.len = z->o.cap = 0;
	return p;
}

void
wacc_ser_free(struct wacc_ser *z)
{
	if (z == NULL)
		return;
	if (z->o.p != NULL) {
		explicit_bzero(z->o.p, z->o.cap);
		free(z->o.p);
	}
	free(z);
}

/* A count of items each taking at least min bytes: bounded by the blob. */
static size_t
get_count(struct rd *r, size_t min)
{
	uint64_t n = rd_leb(r);

	if (r->bad || n > rd_left(r) / (min ? min : 1)) {
		r->bad = 1;
		return 0;
	}
	return (size_t)n;
}

static uint32_t
get_name(struct rd *r, const struct wacc *w)
{
	uint64_t v = rd_leb(r);

	if (v >= w->nname)
		r->bad = 1;
	return r->bad ? 0 : (uint32_t)v;
}

static int32_t
get_day(struct rd *r)
{
	uint64_t v = rd_leb(r);

	/* YYYYMMDD, well inside int32 */
	if (v < 10000101 || v > 99991231)
		r->bad = 1;
	return r->bad ? 0 : (int32_t)v;
}

static int
get_sketch(struct rd *r, struct sketch *s)
{
	size_t n = get_count(r, 1);
	const uint8_t *p = rd_ptr(r, n);

	if (p == NULL || n == 0 || sketch_deserialize(s, p, n) != 0) {
		r->bad = 1;
		return -1;
	}
	return 0;
}

struct wacc *
wacc_deserialize(int32_t week, const uint8_t *p, size_t len)
{
	struct rd r = rd_init(p, len);
	struct wacc *w = wacc_new(week);
	struct sketch sk;
	size_t i, n, k;
	uint64_t c[C_N];

	if (w == NULL)
		return NULL;
	sketch_init(&sk);
	if (rd_u8(&r) != WACC_VERSION || r.bad)
		goto bad;
	if (unzz(rd_leb(&r)) != week || r.bad)
		goto bad;
	n = get_count(&r, 2);
	for (i = 0; i < n && !r.bad; i++) {
		size_t l = get_count(&r, 1);
		char name[WACC_NAME_MAX + 1];

		if (r.bad || l == 0 || l > WACC_NAME_MAX)
			goto bad;
		rd_bytes(&r, name, l);	/* get_count checked l */
		name[l] = '\0';
		if (memchr(name, '\0', l) != NULL)
			goto bad;
		/* a name given twice would make two keys for one cell */
		if (name_id(w, name) != (int64_t)i)
			goto bad;
	}
	n = get_count(&r, 4);
	for (i = 0; i < n && !r.bad; i++) {
		int32_t d = get_day(&r);

		if (r.bad || (i > 0 && d <= w->rday[w->nrday - 1]) ||
		    add_rday(w, d) != 0)
			goto bad;
	}
	w->cover = rd_leb(&r);
	if (r.bad || w->cover > 24 * 8)
		goto bad;
	n = get_count(&r, 2 + C_N + 1 + 3);
	for (i = 0; i < n && !r.bad; i++) {
		uint32_t d = get_name(&r, w), s = get_name(&r, w);
		uint64_t dh;
		size_t before = w->nlf;
		struct leaf *l;

		for (k = 0; k < C_N; k++)
			c[k] = rd_leb(&r);
		dh = rd_leb(&r);
		if (r.bad || get_sketch(&r, &sk) != 0)
			goto bad;
		if ((l = leaf_get(w, d, s)) == NULL || w->nlf == before)
			goto bad;	/* out of memory, or a duplicate */
		memcpy(l->c, c, sizeof(c));
		l->devhours = dh;
		l->dev = sk;
		sketch_init(&sk);
	}
	n = get_count(&r, 4 + C_N + 3);
	for (i = 0; i < n && !r.bad; i++) {
		int64_t hour = unzz(rd_leb(&r));
		int32_t day = get_day(&r);
		uint32_t d = get_name(&r, w), s = get_name(&r, w);
		size_t before = w->nhc;
		struct hcell *hc;

		for (k = 0; k < C_N; k++)
			c[k] = rd_leb(&r);
		if (r.bad || get_sketch(&r, &sk) != 0)
			goto bad;
		/* a released day holds no hour cells */
		if (wacc_day_released(w, day))
			goto bad;
		if ((hc = hcell_get(w, hour, day, d, s)) == NULL ||
		    w->nhc == before)
			goto bad;
		memcpy(hc->c, c, sizeof(c));
		hc->dev = sk;
		sketch_init(&sk);
	}
	n = get_count(&r, 5);
	for (i = 0; i < n && !r.bad; i++) {
		int64_t hour = unzz(rd_leb(&r));
		int32_t day = get_day(&r);
		size_t nb, na, j;
		struct bhour *bh;

		if (r.bad || wacc_day_released(w, day))
			goto bad;
		for (j = 0; j < w->nbh; j++)
			if (w->bh[j].hour == hour)
				goto bad;
		if ((bh = bhour_get(w, hour, day)) == NULL)
			goto bad;
		nb = get_count(&r, 1);
		if (nb > BL_N)
			goto bad;
		for (j = 0; j < nb; j++)
			bh->b[j] = rd_leb(&r);
		na = get_count(&r, 2);
		for (j = 0; j < na && !r.bad; j++) {
			size_t l = get_count(&r, 1);
			enum anomaly an;

			if (r.bad || l == 0)
				goto bad;
			an = anomaly_from_name((const char *)rd_ptr(&r, l), l);
			bh->anom[an] += rd_leb(&r);
		}
	}
	if (r.bad || rd_left(&r) != 0)
		goto bad;
	return w;
bad:
	sketch_reset(&sk);
	wacc_free(w);
	return NULL;
}

/* ---- release inputs ---- */

struct relb {
	const struct wacc *w;
	const struct rel_dims *dims;
	int32_t		*slot;		/* (ndept + 1) * nsvc -> leaf + 1 */
	int32_t		*dmap, *smap;	/* name index -> config index or -1 */
	struct wacc_rel	*out;
	size_t		 nsvc, cap;
};

static int
relb_init(struct relb *b, const struct wacc *w, const struct rel_dims *dims,
    struct wacc_rel *out)
{
	size_t i, j;

	memset(out, 0, sizeof(*out));
	memset(b, 0, sizeof(*b));
	b->w = w;
	b->dims = dims;
	b->out = out;
	b->nsvc = dims->cat ? catalog_count(dims->cat) : 0;
	b->slot = calloc((dims->ndept + 1) * (b->nsvc ? b->nsvc : 1),
	    sizeof(*b->slot));
	b->dmap = calloc(w->nname + 1, sizeof(*b->dmap));
	b->smap = calloc(w->nname + 1, sizeof(*b->smap));
	if (b->slot == NULL || b->dmap == NULL || b->smap == NULL)
		return -1;
	for (i = 0; i < w->nname; i++) {
		b->dmap[i] = (int32_t)dims->ndept;
		for (j = 0; j < dims->ndept; j++)
			if (strcmp(dims->dept[j], w->name[i]) == 0) {
				b->dmap[i] = (int32_t)j;
				break;
			}
		b->smap[i] = dims->cat ? catalog_find_id(dims->cat,
		    w->name[i]) : -1;
	}
	return 0;
}

static void
relb_done(struct relb *b)
{
	free(b->slot);
	free(b->dmap);
	free(b->smap);
}

static int
relb_add(struct relb *b, uint32_t dn, uint32_t sn, const uint64_t c[C_N],
    uint64_t devhours, const struct sketch *dev)
{
	struct wacc_rel *o = b->out;
	int32_t d = b->dmap[dn], s = b->smap[sn];
	struct rel_leaf *l;
	size_t k;

	if (s < 0 || (size_t)s >= b->nsvc) {
		o->dropped++;
		return 0;
	}
	k = (size_t)d * b->nsvc + (size_t)s;
	if (b->slot[k] == 0) {
		void *nl, *ns;
		size_t cap = b->cap ? b->cap * 2 : 64;

		if (o->in.nleaf == b->cap) {
			if ((nl = realloc(o->leaf, cap * sizeof(*o->leaf))) ==
			    NULL)
				return -1;
			o->leaf = nl;
			if ((ns = realloc(o->sk, cap * sizeof(*o->sk))) == NULL)
				return -1;
			o->sk = ns;
			b->cap = cap;
		}
		l = &o->leaf[o->in.nleaf];
		memset(l, 0, sizeof(*l));
		l->dept = d;
		l->svc = s;
		sketch_init(&o->sk[o->in.nleaf]);
		b->slot[k] = (int32_t)++o->in.nleaf;
	}
	k = (size_t)b->slot[k] - 1;
	l = &o->leaf[k];
	if (dev != NULL && sketch_merge(&o->sk[k], dev) != 0)
		return -1;
	l->m[RM_DEVHOURS] += devhours;
	l->m[RM_TLS] += c[C_TLS];
	l->m[RM_QUIC] += c[C_QUIC];
	l->m[RM_ECH] += c[C_ECH];
	l->m[RM_DNS] += c[C_DNS];
	l->m[RM_NXDOMAIN] += c[C_NXDOMAIN];
	l->m[RM_UP] += c[C_UP];
	l->m[RM_DOWN] += c[C_DOWN];
	return 0;
}

/* Pointers are set once the arrays no longer move. */
static void
relb_finish(struct relb *b)
{
	size_t i;

	for (i = 0; i < b->out->in.nleaf; i++)
		b->out->leaf[i].dev = &b->out->sk[i];
	b->out->in.leaf = b->out->leaf;
}

static void
blind_map(const struct bhour *h, uint64_t v[RB_N])
{
	size_t i;

	v[RB_PACKETS] += h->b[BL_PACKETS];
	v[RB_BYTES] += h->b[BL_BYTES];
	v[RB_PCAP_DROPS] += h->b[BL_PCAP_DROPS];
	v[RB_IF_DROPS] += h->b[BL_IF_DROPS];
	v[RB_ECH_UNATTRIBUTED] += h->b[BL_ECH_UNATTRIBUTED];
	v[RB_NOSNI] += h->b[BL_NOSNI];
	v[RB_DOH] += h->b[BL_DOH];
	v[RB_IGNORED] += h->b[BL_IGNORED];
	v[RB_LOST] += h->b[BL_LOST];
	v[RB_LATE] += h->b[BL_LATE];
	/* as store.c counted them: fragments and evictions are not failures */
	for (i = 0; i < ANOM_N; i++)
		if (i != ANOM_IP_FRAGMENT && i != ANOM_FLOW_EVICTED)
			v[RB_PARSE_FAILURES] += h->anom[i];
	/* the anomalies reports name among the blind spots */
	v[RB_UNREADABLE] += h->anom[ANOM_TLS_UNREADABLE];
	v[RB_CONFLICT] += h->anom[ANOM_TCP_OVERLAP_CONFLICT] +
	    h->anom[ANOM_QUIC_CRYPTO_CONFLICT];
}

int
wacc_rel_day(const struct wacc *w, int32_t day, const struct rel_dims *dims,
    struct wacc_rel *out)
{
	struct relb b;
	size_t i;

	if (relb_init(&b, w, dims, out) != 0)
		goto fail;
	out->in.kind = REL_DAY;
	out->in.period = day;
	out->in.week = w->week;
	out->in.complete = 1;
	out->in.hours_total = period_day_hours(day);
	for (i = 0; i < w->nhc; i++) {
		const struct hcell *c = &w->hc[i];

		if (c->day == day && relb_add(&b, c->dept, c->svc, c->c,
		    sketch_estimate(&c->dev), &c->dev) != 0)
			goto fail;
	}
	for (i = 0; i < w->nbh; i++) {
		if (w->bh[i].day != day)
			continue;
		blind_map(&w->bh[i], out->in.blind);
		if (w->bh[i].b[BL_PACKETS] > 0)
			out->in.coverage_hours++;
	}
	relb_finish(&b);
	relb_done(&b);
	return 0;
fail:
	relb_done(&b);
	wacc_rel_free(out);
	return -1;
}

int
wacc_rel_week(const struct wacc *w, const struct rel_dims *dims,
    struct wacc_rel *out)
{
	struct relb b;
	size_t i;

	if (relb_init(&b, w, dims, out) != 0)
		goto fail;
	out->in.kind = REL_WEEK;
	out->in.period = w->week;
	out->in.week = w->week;
	out->in.complete = 1;
	out->in.hours_total = period_week_hours(w->week);
	out->in.coverage_hours = (unsigned)w->cover;
	for (i = 0; i < w->nlf; i++) {
		const struct leaf *l = &w->lf[i];

		if (relb_add(&b, l->dept, l->svc, l->c, l->devhours,
		    &l->dev) != 0)
			goto fail;
	}
	for (i = 0; i < w->nhc; i++) {
		const struct hcell *c = &w->hc[i];

		if (relb_add(&b, c->dept, c->svc, c->c,
		    sketch_estimate(&c->dev), &c->dev) != 0)
			goto fail;
	}
	/* blind figures are released per day only */
	for (i = 0; i < w->nbh; i++)
		if (w->bh[i].b[BL_PACKETS] > 0)
			out->in.coverage_hours++;
	relb_finish(&b);
	relb_done(&b);
	return 0;
fail:
	relb_done(&b);
	wacc_rel_free(out);
	return -1;
}

void
wacc_rel_free(struct wacc_rel *r)
{
	size_t i;

	for (i = 0; r->sk != NULL && i < r->in.nleaf; i++)
		sketch_reset(&r->sk[i]);
	free(r->leaf);
	free(r->sk);
	memset(r, 0, sizeof(*r));
}
