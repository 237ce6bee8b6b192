/*
 * agg.c - hash tables of cells; one allocation per new cell, never per
 * packet.
 */
#include <stdlib.h>
#include <string.h>

#include "aggregate/agg.h"

#define NBUCKETS	65536

struct agg {
	struct agg_cell	**cb;		/* buckets */
	struct agg_dev	**db;
	struct agg_cell	*cells;		/* all cells, for the store */
	struct agg_dev	*devs;
	struct agg_hour	*hours;
	struct agg_hour	*hlast;		/* the hour used last: every packet's */
	size_t		 ncells, ndevs, max_cells;
	size_t		 mem, mem_limit;
	uint32_t	 gen;		/* see agg_generation() */
	const struct agg *peer;		/* shares the limits (agg_pair) */
};

static inline size_t
cell_bucket(int64_t hour, int dept, int svc)
{
	uint64_t h = (uint64_t)hour * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)(uint32_t)dept << 32) | (uint32_t)svc;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (size_t)(h >> 48) & (NBUCKETS - 1);
}

struct agg *
agg_new(size_t max_cells, size_t mem_limit)
{
	struct agg *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->cb = calloc(NBUCKETS, sizeof(*a->cb));
	a->db = calloc(NBUCKETS, sizeof(*a->db));
	if (a->cb == NULL || a->db == NULL) {
		agg_free(a);
		return NULL;
	}
	a->max_cells = max_cells;
	a->mem_limit = mem_limit;
	a->mem = 2 * NBUCKETS * sizeof(void *);
	return a;
}

void
agg_free(struct agg *a)
{
	if (a == NULL)
		return;
	agg_clear(a);
	free(a->cb);
	free(a->db);
	free(a);
}

static struct agg_hour *
hour_rec(struct agg *a, const struct period *p)
{
	struct agg_hour *h = a->hlast;

	if (h != NULL && h->per.hour == p->hour)
		return h;
	for (h = a->hours; h != NULL; h = h->next)
		if (h->per.hour == p->hour)
			return a->hlast = h;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->per = *p;
	h->next = a->hours;
	a->hours = h;
	a->mem += sizeof(*h);
	return a->hlast = h;
}

void
agg_blind(struct agg *a, const struct period *p, enum blind b, uint64_t n)
{
	struct agg_hour *h = hour_rec(a, p);

	if (h != NULL)
		h->b[b] += n;
}

void
agg_packet(struct agg *a, const struct period *p, uint64_t wirelen)
{
	struct agg_hour *h = a->hlast;

	if (h == NULL || h->per.hour != p->hour)
		h = hour_rec(a, p);
	if (h != NULL) {
		h->b[BL_PACKETS]++;
		h->b[BL_BYTES] += wirelen;
	}
}

void
agg_anomaly(struct agg *a, const struct period *p, enum anomaly an)
{
	struct agg_hour *h = hour_rec(a, p);

	if (h != NULL)
		h->anom[an]++;
}

static int
full(struct agg *a, const struct period *p)
{
	size_t n = a->ncells + a->ndevs, mem = a->mem;

	if (a->peer != NULL) {
		n += a->peer->ncells + a->peer->ndevs;
		mem += a->peer->mem;
	}
	if (n < a->max_cells && mem < a->mem_limit)
		return 0;
	agg_blind(a, p, BL_LOST, 1);
	agg_anomaly(a, p, ANOM_CELLS_FULL);
	return 1;
}

static struct agg_cell *
cell_get(struct agg *a, const struct period *p, int dept, int svc,
    int limited)
{
	size_t b = cell_bucket(p->hour, dept, svc);
	struct agg_cell *c;

	for (c = a->cb[b]; c != NULL; c = c->next)
		if (c->per.hour == p->hour && c->dept == dept && c->svc == svc)
			return c;
	if ((limited && full(a, p)) || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->per = *p;
	c->dept = dept;
	c->svc = svc;
	sketch_init(&c->dev);
	c->next = a->cb[b];
	a->cb[b] = c;
	c->all = a->cells;
	a->cells = c;
	a->ncells++;
	a->mem += sizeof(*c);
	return c;
}

struct agg_cell *
agg_cell(struct agg *a, const struct period *p, int dept, int svc)
{
	return cell_get(a, p, dept, svc, 1);
}

static struct agg_dev *
dev_get(struct agg *a, const struct period *p, int kind, int32_t per,
    int32_t week, int dept, int svc, int limited)
{
	size_t b = cell_bucket(((int64_t)kind << 40) | per, dept, svc);
	struct agg_dev *d;

	for (d = a->db[b]; d != NULL; d = d->next)
		if (d->kind == kind && d->period == per && d->dept == dept &&
		    d->svc == svc)
			return d;
	if ((limited && full(a, p)) || (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->kind = kind;
	d->period = per;
	d->week = week;
	d->dept = dept;
	d->svc = svc;
	sketch_init(&d->dev);
	d->next = a->db[b];
	a->db[b] = d;
	d->all = a->devs;
	a->devs = d;
	a->ndevs++;
	a->mem += sizeof(*d);
	return d;
}

static struct agg_dev *
dev_cell(struct agg *a, const struct period *p, int kind, int dept, int svc)
{
	return dev_get(a, p, kind, kind == DEV_DAY ? p->day : p->week,
	    p->week, dept, svc, 1);
}

static void
add_hash(struct agg *a, struct sketch *s, uint64_t h)
{
	size_t before = sketch_mem(s);

	if (sketch_add(s, h) == 0)
		a->mem += sketch_mem(s) - before;
}

void
agg_device(struct agg *a, const struct period *p, int dept, int svc,
    uint64_t devhash)
{
	struct agg_cell *c = agg_cell(a, p, dept, svc);
	struct agg_dev *d;

	if (c != NULL)
		add_hash(a, &c->dev, devhash);
	if ((d = dev_cell(a, p, DEV_DAY, dept, svc)) != NULL)
		add_hash(a, &d->dev, devhash);
	if ((d = dev_cell(a, p, DEV_WEEK, dept, svc)) != NULL)
		add_hash(a, &d->dev, devhash);
}

struct agg_cell *
agg_cells(const struct agg *a)
{
	return a->cells;
}

struct agg_dev *
agg_devs(const struct agg *a)
{
	return a->devs;
}

struct agg_hour *
agg_hours(const struct agg *a)
{
	return a->hours;
}

int
agg_empty(const struct agg *a)
{
	return a->cells == NULL && a->devs == NULL && a->hours == NULL;
}

size_t
agg_ncells(const struct agg *a)
{
	return a->ncells + a->ndevs;
}

size_t
agg_mem(const struct agg *a)
{
	return a->mem;
}

uint32_t
agg_generation(const struct agg *a)
{
	return a->gen;
}

void
agg_clear(struct agg *a)
{
	struct agg_cell *c, *cn;
	struct agg_dev *d, *dn;
	struct agg_hour *h, *hn;

	for (c = a->cells; c != NULL; c = cn) {
		cn = c->all;
		sketch_reset(&c->dev);
		free(c);
	}
	for (d = a->devs; d != NULL; d = dn) {
		dn = d->all;
		sketch_reset(&d->dev);
		free(d);
	}
	for (h = a->hours; h != NULL; h = hn) {
		hn = h->next;
		free(h);
	}
	a->cells = NULL;
	a->devs = NULL;
	a->hours = NULL;
	a->hlast = NULL;
	if (a->cb != NULL)
		memset(a->cb, 0, NBUCKETS * sizeof(*a->cb));
	if (a->db != NULL)
		memset(a->db, 0, NBUCKETS * sizeof(*a->db));
	a->ncells = a->ndevs = 0;
	a->mem = 2 * NBUCKETS * sizeof(void *);
	a->gen++;
}

/*
 * After a reload department and service indices may have moved: map[] is
 * indexed by old index (+1 for departments, so -1 "unassigned" is slot
 * 0) and gives the new one, or INT32_MIN when it left the configuration.
 * Cells are re-keyed in place; the dropped ones are freed and counted.
 */
static int
remap_one(const int32_t *map, size_t n, int32_t old, int off, int32_t *out)
{
	size_t i = (size_t)(old + off);

	if (i >= n || map[i] == INT32_MIN)
		return -1;
	*out = map[i];
	return 0;
}

size_t
agg_remap(struct agg *a, const int32_t *dmap, size_t nd, const int32_t *smap,
    size_t ns)
{
	struct agg_cell *c, *cn, *keep = NULL;
	struct agg_dev *d, *dn, *keepd = NULL;
	size_t dropped = 0, b;

	a->gen++;
	memset(a->cb, 0, NBUCKETS * sizeof(*a->cb));
	memset(a->db, 0, NBUCKETS * sizeof(*a->db));
	for (c = a->cells; c != NULL; c = cn) {
		cn = c->all;
		if (remap_one(dmap, nd, c->dept, 1, &c->dept) != 0 ||
		    remap_one(smap, ns, c->svc, 0, &c->svc) != 0) {
			a->mem -= sizeof(*c) + sketch_mem(&c->dev);
			sketch_reset(&c->dev);
			free(c);
			a->ncells--;
			dropped++;
			continue;
		}
		b = cell_bucket(c->per.hour, c->dept, c->svc);
		c->next = a->cb[b];
		a->cb[b] = c;
		c->all = keep;
		keep = c;
	}
	a->cells = keep;
	for (d = a->devs; d != NULL; d = dn) {
		dn = d->all;
		if (remap_one(dmap, nd, d->dept, 1, &d->dept) != 0 ||
		    remap_one(smap, ns, d->svc, 0, &d->svc) != 0) {
			a->mem -= sizeof(*d) + sketch_mem(&d->dev);
			sketch_reset(&d->dev);
			free(d);
			a->ndevs--;
			dropped++;
			continue;
		}
		b = cell_bucket(((int64_t)d->kind << 40) | d->period, d->dept,
		    d->svc);
		d->next = a->db[b];
		a->db[b] = d;
		d->all = keepd;
		keepd = d;
	}
	a->devs = keepd;
	return dropped;
}

void
agg_pair(struct agg *a, struct agg *b)
{
	a->peer = b;
	b->peer = a;
}

/*
 * Everything but the pairing changes place.  Both generations move past
 * either old one: a cell pointer cached from the live side must not be
 * taken for valid in what the live side now holds.
 */
void
agg_swap(struct agg *a, struct agg *b)
{
	struct agg t = *a;
	uint32_t gen = (a->gen > b->gen ? a->gen : b->gen) + 1;

	*a = *b;
	*b = t;
	a->peer = b->peer;
	b->peer = t.peer;
	a->gen = b->gen = gen;
}

static void
sketch_absorb(struct agg *a, struct sketch *dst, struct sketch *src)
{
	size_t before = sketch_mem(dst);

	if (sketch_merge(dst, src) == 0)
		a->mem += sketch_mem(dst) - before;
}

/*
 * agg_absorb: no limit is checked: what comes back was held in memory
 * already, and the from side is freed as it goes, so the pair never
 * holds more than before (a cell present on both sides holds less).
 * agg_merge (a worker's counts into the live side) checks the limits as
 * counting does: a cell that does not fit is lost and counted so.
 */
static void
absorb(struct agg *a, struct agg *from, int limited)
{
	struct agg_cell *c, *fc;
	struct agg_dev *d, *fd;
	struct agg_hour *h, *fh;
	size_t i;

	for (fc = from->cells; fc != NULL; fc = fc->all) {
		if ((c = cell_get(a, &fc->per, fc->dept, fc->svc,
		    limited)) == NULL)
			continue;
		for (i = 0; i < C_N; i++)
			c->c[i] += fc->c[i];
		sketch_absorb(a, &c->dev, &fc->dev);
	}
	for (fd = from->devs; fd != NULL; fd = fd->all) {
		struct period p = { 0 };

		/* a lost device cell is counted in the hour of the flush */
		if (limited && from->hours != NULL)
			p = from->hours->per;
		if ((d = dev_get(a, &p, fd->kind, fd->period, fd->week,
		    fd->dept, fd->svc, limited && from->hours != NULL)) != NULL)
			sketch_absorb(a, &d->dev, &fd->dev);
	}
	for (fh = from->hours; fh != NULL; fh = fh->next) {
		if ((h = hour_rec(a, &fh->per)) == NULL)
			continue;
		for (i = 0; i < BL_N; i++)
			h->b[i] += fh->b[i];
		for (i = 0; i < ANOM_N; i++)
			h->anom[i] += fh->anom[i];
	}
	agg_clear(from);
	a->gen++;
}

void
agg_absorb(struct agg *a, struct agg *from)
{
	absorb(a, from, 0);
}

void
agg_merge(struct agg *a, struct agg *from)
{
	absorb(a, from, 1);
}
