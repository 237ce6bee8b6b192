/*
 * test_agg.c - usage cells, device sketches per hour / day / week,
 * blind-spot and anomaly counters, the caps (max_cells, mem_limit) with
 * what they refuse counted as lost, clearing, and re-keying on reload.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/agg.h"
#include "t.h"

/* 2026-11-16 (Monday of 2026-W47) 10:00 UTC, and offsets from it. */
#define T0	1794823200LL

static struct period
per(int64_t off)
{
	struct period p;

	period_of(T0 + off, &p);
	return p;
}

/* splitmix64 finaliser: device hashes look random, as siphash output does */
static uint64_t
mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
count_cells(const struct agg *a)
{
	const struct agg_cell *c;
	size_t n = 0;

	for (c = agg_cells(a); c != NULL; c = c->all)
		n++;
	return n;
}

static size_t
count_devs(const struct agg *a)
{
	const struct agg_dev *d;
	size_t n = 0;

	for (d = agg_devs(a); d != NULL; d = d->all)
		n++;
	return n;
}

static const struct agg_dev *
find_dev(const struct agg *a, int kind, int32_t period, int dept, int svc)
{
	const struct agg_dev *d;

	for (d = agg_devs(a); d != NULL; d = d->all)
		if (d->kind == kind && d->period == period &&
		    d->dept == dept && d->svc == svc)
			return d;
	return NULL;
}

static const struct agg_hour *
find_hour(const struct agg *a, int64_t hour)
{
	const struct agg_hour *h;

	for (h = agg_hours(a); h != NULL; h = h->next)
		if (h->per.hour == hour)
			return h;
	return NULL;
}

static void
test_cells(void)
{
	struct agg *a = agg_new(1000, (size_t)1 << 30);
	struct period p0 = per(0), p1 = per(3600);
	struct agg_cell *c, *c2;
	int i;

	T_CHECK(agg_empty(a));
	T_EQ_INT(agg_ncells(a), 0);
	c = agg_cell(a, &p0, 2, 7);
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_EQ_INT(c->per.hour, T0);
	T_EQ_INT(c->per.day, 20261116);
	T_EQ_INT(c->per.week, 202647);
	T_EQ_INT(c->dept, 2);
	T_EQ_INT(c->svc, 7);
	for (i = 0; i < C_N; i++)
		T_EQ_INT(c->c[i], 0);
	T_EQ_INT(sketch_estimate(&c->dev), 0);
	T_CHECK(!agg_empty(a));
	c->c[C_TLS] += 3;
	c->c[C_UP] += 1000;

	/* same key, same cell; any other key, another cell */
	T_CHECK(agg_cell(a, &p0, 2, 7) == c);
	T_EQ_INT(agg_cell(a, &p0, 2, 7)->c[C_TLS], 3);
	{
		struct period p0b = per(1799);	/* same hour */

		T_CHECK(agg_cell(a, &p0b, 2, 7) == c);
	}
	c2 = agg_cell(a, &p1, 2, 7);
	T_CHECK(c2 != NULL && c2 != c);
	T_CHECK(agg_cell(a, &p0, 3, 7) != c);
	T_CHECK(agg_cell(a, &p0, 2, 8) != c);
	T_CHECK(agg_cell(a, &p0, -1, 7) != c);	/* unassigned dept */
	T_EQ_INT(agg_ncells(a), 5);
	T_EQ_INT(count_cells(a), 5);
	T_EQ_INT(count_devs(a), 0);
	T_CHECK(agg_mem(a) > 0);

	/* many cells: every one found again (hash chains) */
	{
		int dept, svc, bad = 0;

		for (dept = 0; dept < 20; dept++)
			for (svc = 0; svc < 40; svc++)
				agg_cell(a, &p1, dept, svc)->c[C_DNS] =
				    (uint64_t)(dept * 100 + svc);
		for (dept = 0; dept < 20; dept++)
			for (svc = 0; svc < 40; svc++)
				if (agg_cell(a, &p1, dept, svc)->c[C_DNS] !=
				    (uint64_t)(dept * 100 + svc))
					bad++;
		T_EQ_INT(bad, 0);
		T_EQ_INT(agg_ncells(a), 4 + 800);
	}
	agg_free(a);
}

static void
test_devices(void)
{
	struct agg *a = agg_new(1000, (size_t)1 << 30);
	struct period h0 = per(0), h1 = per(3600);
	struct period d2 = per(86400), w2 = per(7 * 86400);
	const struct agg_dev *dd, *dw;
	struct agg_cell *c;
	uint64_t i;

	/* 3 devices in hour 0, one of them seen twice */
	agg_device(a, &h0, 1, 4, mix(0x1111));
	agg_device(a, &h0, 1, 4, mix(0x2222));
	agg_device(a, &h0, 1, 4, mix(0x3333));
	agg_device(a, &h0, 1, 4, mix(0x1111));
	/* 2 devices in hour 1 of the same day, one new */
	agg_device(a, &h1, 1, 4, mix(0x1111));
	agg_device(a, &h1, 1, 4, mix(0x4444));
	/* the next day, same week: one old, one new */
	agg_device(a, &d2, 1, 4, mix(0x2222));
	agg_device(a, &d2, 1, 4, mix(0x5555));
	/* the next week */
	agg_device(a, &w2, 1, 4, mix(0x1111));

	c = agg_cell(a, &h0, 1, 4);
	T_EQ_INT(sketch_estimate(&c->dev), 3);
	c = agg_cell(a, &h1, 1, 4);
	T_EQ_INT(sketch_estimate(&c->dev), 2);
	c = agg_cell(a, &d2, 1, 4);
	T_EQ_INT(sketch_estimate(&c->dev), 2);

	dd = find_dev(a, DEV_DAY, 20261116, 1, 4);
	T_CHECK(dd != NULL);
	if (dd != NULL) {
		T_EQ_INT(sketch_estimate(&dd->dev), 4);
		T_EQ_INT(dd->week, 202647);
	}
	dd = find_dev(a, DEV_DAY, 20261117, 1, 4);
	T_CHECK(dd != NULL && sketch_estimate(&dd->dev) == 2);
	dw = find_dev(a, DEV_WEEK, 202647, 1, 4);
	T_CHECK(dw != NULL);
	if (dw != NULL) {
		T_EQ_INT(sketch_estimate(&dw->dev), 5);
		T_EQ_INT(dw->week, 202647);
	}
	dw = find_dev(a, DEV_WEEK, 202648, 1, 4);
	T_CHECK(dw != NULL && sketch_estimate(&dw->dev) == 1);
	T_CHECK(dw != NULL && dw->week == 202648);
	/* 4 hour cells; 3 day cells; 2 week cells */
	T_EQ_INT(count_cells(a), 4);
	T_EQ_INT(count_devs(a), 5);
	T_EQ_INT(agg_ncells(a), 9);

	/* other department / service: separate device sets */
	agg_device(a, &h0, 2, 4, mix(0x1111));
	agg_device(a, &h0, 1, 5, mix(0x1111));
	dw = find_dev(a, DEV_WEEK, 202647, 1, 4);
	T_CHECK(dw != NULL && sketch_estimate(&dw->dev) == 5);
	dw = find_dev(a, DEV_WEEK, 202647, 2, 4);
	T_CHECK(dw != NULL && sketch_estimate(&dw->dev) == 1);

	/* memory accounting follows the sketches' growth */
	{
		size_t before = agg_mem(a);

		for (i = 0; i < 3000; i++)
			agg_device(a, &h0, 9, 9, mix(i));
		T_CHECK(agg_mem(a) > before + 3 * 8000);
		c = agg_cell(a, &h0, 9, 9);
		T_CHECK(sketch_estimate(&c->dev) > 2900 &&
		    sketch_estimate(&c->dev) < 3100);
	}
	agg_free(a);
}

static void
test_blind_anomaly(void)
{
	struct agg *a = agg_new(1000, (size_t)1 << 30);
	struct period h0 = per(0), h1 = per(3600), h0b = per(60);
	const struct agg_hour *h;
	int i;

	agg_blind(a, &h0, BL_PACKETS, 10);
	agg_blind(a, &h0b, BL_PACKETS, 5);
	agg_blind(a, &h0, BL_BYTES, 1500);
	agg_blind(a, &h1, BL_ECH, 1);
	agg_anomaly(a, &h0, ANOM_BAD_IP);
	agg_anomaly(a, &h0, ANOM_BAD_IP);
	agg_anomaly(a, &h1, ANOM_PLUGIN_OTHER);
	T_CHECK(!agg_empty(a));
	T_EQ_INT(agg_ncells(a), 0);		/* hour records are not cells */

	h = find_hour(a, T0);
	T_CHECK(h != NULL);
	if (h != NULL) {
		T_EQ_INT(h->b[BL_PACKETS], 15);
		T_EQ_INT(h->b[BL_BYTES], 1500);
		T_EQ_INT(h->b[BL_ECH], 0);
		T_EQ_INT(h->b[BL_LOST], 0);
		T_EQ_INT(h->anom[ANOM_BAD_IP], 2);
		T_EQ_INT(h->anom[ANOM_PLUGIN_OTHER], 0);
		T_EQ_INT(h->per.day, 20261116);
	}
	h = find_hour(a, T0 + 3600);
	T_CHECK(h != NULL);
	if (h != NULL) {
		T_EQ_INT(h->b[BL_ECH], 1);
		T_EQ_INT(h->b[BL_PACKETS], 0);
		T_EQ_INT(h->anom[ANOM_PLUGIN_OTHER], 1);
	}
	i = 0;
	for (h = agg_hours(a); h != NULL; h = h->next)
		i++;
	T_EQ_INT(i, 2);
	agg_clear(a);
	T_CHECK(agg_empty(a));
	T_CHECK(agg_hours(a) == NULL);
	agg_free(a);
}

static void
test_max_cells(void)
{
	struct agg *a = agg_new(5, (size_t)1 << 30);
	struct period h0 = per(0), h1 = per(3600);
	const struct agg_hour *h;
	struct agg_cell *c[5];
	int i;

	for (i = 0; i < 5; i++) {
		c[i] = agg_cell(a, &h0, 0, i);
		T_CHECK(c[i] != NULL);
	}
	T_EQ_INT(agg_ncells(a), 5);
	/* full: new cells refused and counted as lost, in their hour */
	T_CHECK(agg_cell(a, &h0, 0, 5) == NULL);
	T_CHECK(agg_cell(a, &h1, 0, 0) == NULL);
	T_CHECK(agg_cell(a, &h1, 0, 1) == NULL);
	T_EQ_INT(agg_ncells(a), 5);
	h = find_hour(a, T0);
	T_CHECK(h != NULL && h->b[BL_LOST] == 1 &&
	    h->anom[ANOM_CELLS_FULL] == 1);
	h = find_hour(a, T0 + 3600);
	T_CHECK(h != NULL && h->b[BL_LOST] == 2 &&
	    h->anom[ANOM_CELLS_FULL] == 2);
	/* ... but existing cells keep counting */
	for (i = 0; i < 5; i++)
		T_CHECK(agg_cell(a, &h0, 0, i) == c[i]);
	/* a device on an existing hour cell: the day and week cells it
	 * would need are refused (2 lost), the hour sketch still counts */
	agg_device(a, &h0, 0, 0, mix(0xabc));
	T_EQ_INT(sketch_estimate(&c[0]->dev), 1);
	h = find_hour(a, T0);
	T_CHECK(h != NULL && h->b[BL_LOST] == 3);
	T_EQ_INT(agg_ncells(a), 5);
	/* blind counters still work while cells are capped */
	agg_blind(a, &h0, BL_PACKETS, 7);
	h = find_hour(a, T0);
	T_CHECK(h != NULL && h->b[BL_PACKETS] == 7);

	/* a flush clears and lifts the cap */
	agg_clear(a);
	T_EQ_INT(agg_ncells(a), 0);
	T_CHECK(agg_empty(a));
	T_CHECK(agg_cells(a) == NULL && agg_devs(a) == NULL);
	agg_device(a, &h0, 0, 0, mix(0xabc));	/* 3 cells */
	T_EQ_INT(agg_ncells(a), 3);
	T_CHECK(agg_cell(a, &h0, 0, 1) != NULL);
	T_CHECK(agg_cell(a, &h0, 0, 2) != NULL);
	T_CHECK(agg_cell(a, &h0, 0, 3) == NULL);
	T_EQ_INT(agg_ncells(a), 5);
	h = find_hour(a, T0);
	T_CHECK(h != NULL && h->b[BL_LOST] == 1);

	/* device cells count toward the same cap */
	agg_clear(a);
	agg_device(a, &h0, 0, 0, mix(1));
	agg_device(a, &h1, 0, 0, mix(1));	/* hour cell only: 4 */
	agg_device(a, &h0, 0, 1, mix(1));	/* hour cell only: 5 */
	T_EQ_INT(agg_ncells(a), 5);
	T_EQ_INT(count_cells(a), 3);
	T_EQ_INT(count_devs(a), 2);
	T_CHECK(find_dev(a, DEV_DAY, 20261116, 0, 1) == NULL);
	agg_free(a);
}

static void
test_mem_limit(void)
{
	struct agg *probe = agg_new(10, (size_t)1 << 30);
	size_t base = agg_mem(probe);
	struct agg *a;
	struct period h0 = per(0);
	const struct agg_hour *h;
	int i, made = 0;

	agg_free(probe);
	/* room for a handful of cells above the fixed tables */
	a = agg_new(100000, base + 4 * sizeof(struct agg_cell));
	T_EQ_INT(agg_mem(a), base);
	for (i = 0; i < 100; i++)
		if (agg_cell(a, &h0, 0, i) != NULL)
			made++;
	T_CHECK(made >= 3 && made <= 4);
	T_EQ_INT(agg_ncells(a), made);
	h = find_hour(a, T0);
	T_CHECK(h != NULL && h->b[BL_LOST] == (uint64_t)(100 - made));
	T_CHECK(h != NULL && h->anom[ANOM_CELLS_FULL] ==
	    (uint64_t)(100 - made));
	agg_clear(a);
	T_EQ_INT(agg_mem(a), base);
	T_CHECK(agg_cell(a, &h0, 0, 0) != NULL);
	agg_free(a);
}

static void
test_clear(void)
{
	struct agg *a = agg_new(100000, (size_t)1 << 30);
	struct period h0 = per(0);
	size_t base = agg_mem(a);
	struct agg_cell *c;
	int i;

	for (i = 0; i < 2000; i++)
		agg_device(a, &h0, i % 7, i % 50, mix((uint64_t)i));
	agg_blind(a, &h0, BL_DOH, 3);
	T_CHECK(agg_mem(a) > base);
	agg_clear(a);
	T_CHECK(agg_empty(a));
	T_EQ_INT(agg_ncells(a), 0);
	T_EQ_INT(agg_mem(a), base);
	/* no stale cell is found again after a clear */
	c = agg_cell(a, &h0, 3, 3);
	T_CHECK(c != NULL && c->c[C_TLS] == 0 &&
	    sketch_estimate(&c->dev) == 0);
	T_EQ_INT(agg_ncells(a), 1);
	agg_clear(a);
	agg_clear(a);				/* twice is harmless */
	T_CHECK(agg_empty(a));
	agg_free(a);
	agg_free(NULL);
}

static void
test_remap(void)
{
	struct agg *a = agg_new(100000, (size_t)1 << 30);
	struct period h0 = per(0);
	/* old dept -1,0,1,2 -> -1, 2, gone, 0 */
	static const int32_t dmap[] = { -1, 2, INT32_MIN, 0 };
	/* old svc 0,1,2 -> 1, 0, gone */
	static const int32_t smap[] = { 1, 0, INT32_MIN };
	int dept, svc, bad = 0;
	size_t dropped, n_before, keep_cells = 0, keep_devs;
	struct agg_cell *c;
	const struct agg_dev *d;

	for (dept = -1; dept <= 2; dept++) {
		for (svc = 0; svc <= 3; svc++) {
			c = agg_cell(a, &h0, dept, svc);
			c->c[C_TLS] = (uint64_t)(1000 + (dept + 1) * 10 + svc);
			agg_device(a, &h0, dept, svc,
			    mix((uint64_t)(dept + 2) * 100 + (uint64_t)svc));
			if (dept != 1 && svc <= 1)
				keep_cells++;
		}
	}
	n_before = agg_ncells(a);
	T_EQ_INT(n_before, 16 * 3);
	keep_devs = 2 * keep_cells;
	/* svc 3 is beyond the map: dropped as well */
	dropped = agg_remap(a, dmap, 4, smap, 3);
	T_EQ_INT(dropped, n_before - 3 * keep_cells);
	T_EQ_INT(agg_ncells(a), 3 * keep_cells);
	T_EQ_INT(count_cells(a), keep_cells);
	T_EQ_INT(count_devs(a), keep_devs);

	/* survivors carry their counts under the new keys, and are found
	 * through the rebuilt hash (no duplicate cell is created) */
	for (dept = -1; dept <= 2; dept++) {
		for (svc = 0; svc <= 1; svc++) {
			int32_t nd = dmap[dept + 1], ns = smap[svc];

			if (nd == INT32_MIN)
				continue;
			c = agg_cell(a, &h0, nd, ns);
			if (c == NULL || c->c[C_TLS] !=
			    (uint64_t)(1000 + (dept + 1) * 10 + svc) ||
			    sketch_estimate(&c->dev) != 1)
				bad++;
			d = find_dev(a, DEV_WEEK, 202647, nd, ns);
			if (d == NULL || sketch_estimate(&d->dev) != 1)
				bad++;
		}
	}
	T_EQ_INT(bad, 0);
	T_EQ_INT(agg_ncells(a), 3 * keep_cells);
	/* adding a device on a re-keyed key lands in the moved dev cells */
	agg_device(a, &h0, 0, 1, mix(0xfeed));	/* was dept 2, svc 0 */
	d = find_dev(a, DEV_DAY, 20261116, 0, 1);
	T_CHECK(d != NULL && sketch_estimate(&d->dev) == 2);
	T_EQ_INT(agg_ncells(a), 3 * keep_cells);
	/* the old key of a moved cell is a new, empty cell */
	c = agg_cell(a, &h0, 1, 0);
	T_CHECK(c != NULL && c->c[C_TLS] == 0);
	T_EQ_INT(agg_ncells(a), 3 * keep_cells + 1);

	/* identity map drops nothing; an empty map drops everything */
	{
		static const int32_t id_d[] = { -1, 0, 1, 2 };
		static const int32_t id_s[] = { 0, 1, 2, 3 };
		size_t n = agg_ncells(a);

		T_EQ_INT(agg_remap(a, id_d, 4, id_s, 4), 0);
		T_EQ_INT(agg_ncells(a), n);
		T_EQ_INT(agg_remap(a, id_d, 4, id_s, 0), n);
		T_EQ_INT(agg_ncells(a), 0);
		T_CHECK(agg_cells(a) == NULL && agg_devs(a) == NULL);
	}
	agg_free(a);
}

/*
 * The daemon's double buffer: a pair shares the cap, a swap hands the
 * store one side while capture fills the other, and a failed flush gives
 * everything back (counters added, device sets merged) without loss.
 */
static void
test_pair_swap_absorb(void)
{
	struct agg *live = agg_new(10, (size_t)1 << 30);
	struct agg *frozen = agg_new(10, (size_t)1 << 30);
	struct period h0 = per(0), h1 = per(3600);
	const struct agg_hour *h;
	const struct agg_dev *d;
	struct agg_cell *c;
	uint32_t gen;
	int i;

	T_CHECK(live != NULL && frozen != NULL);
	agg_pair(live, frozen);
	for (i = 0; i < 3; i++)
		agg_device(live, &h0, 0, i, mix((uint64_t)i));	/* 9 cells */
	c = agg_cell(live, &h0, 0, 0);
	c->c[C_TLS] = 5;
	agg_blind(live, &h0, BL_PACKETS, 100);
	agg_anomaly(live, &h0, ANOM_BAD_IP);
	T_EQ_INT(agg_ncells(live), 9);
	gen = agg_generation(live);

	agg_swap(live, frozen);
	T_CHECK(agg_empty(live));
	T_EQ_INT(agg_ncells(frozen), 9);
	T_CHECK(agg_generation(live) != gen);
	T_CHECK(agg_cells(frozen) != NULL && find_hour(frozen, T0) != NULL);
	/* the pair's cap: one more cell fits, the next is lost and counted */
	T_CHECK(agg_cell(live, &h0, 0, 0) != NULL);
	T_CHECK(agg_cell(live, &h0, 0, 7) == NULL);
	h = find_hour(live, T0);
	T_CHECK(h != NULL && h->b[BL_LOST] == 1);
	/* capture goes on in the live side: the same cell and device again,
	 * and a new device (their day and week cells do not fit: 4 lost) */
	c = agg_cell(live, &h0, 0, 0);
	c->c[C_TLS] = 2;
	agg_device(live, &h0, 0, 0, mix(0));
	agg_device(live, &h0, 0, 0, mix(99));
	agg_blind(live, &h1, BL_PACKETS, 1);

	/* the flush failed: everything back into the live side */
	agg_absorb(live, frozen);
	T_CHECK(agg_empty(frozen));
	T_EQ_INT(agg_ncells(frozen), 0);
	c = agg_cell(live, &h0, 0, 0);
	T_EQ_INT(c->c[C_TLS], 7);
	T_EQ_INT(sketch_estimate(&c->dev), 2);		/* mix(0), mix(99) */
	d = find_dev(live, DEV_DAY, 20261116, 0, 0);
	T_CHECK(d != NULL && sketch_estimate(&d->dev) == 1);
	d = find_dev(live, DEV_WEEK, 202647, 0, 2);
	T_CHECK(d != NULL && sketch_estimate(&d->dev) == 1);
	h = find_hour(live, T0);
	T_CHECK(h != NULL && h->b[BL_PACKETS] == 100 && h->b[BL_LOST] == 5 &&
	    h->anom[ANOM_BAD_IP] == 1);
	h = find_hour(live, T0 + 3600);
	T_CHECK(h != NULL && h->b[BL_PACKETS] == 1);
	T_EQ_INT(count_cells(live), 3);
	T_EQ_INT(count_devs(live), 6);
	T_EQ_INT(agg_ncells(live), 9);
	agg_free(live);
	agg_free(frozen);
}

/* Two sketches hold the same devices: same estimate, same bytes. */
static int
same_sketch(const struct sketch *a, const struct sketch *b)
{
	uint8_t ba[65536], bb[65536];
	size_t na, nb;

	if (sketch_estimate(a) != sketch_estimate(b))
		return 0;
	na = sketch_serialize(a, ba, sizeof(ba));
	nb = sketch_serialize(b, bb, sizeof(bb));
	return na == nb && memcmp(ba, bb, na) == 0;
}

/*
 * Capture workers: the same events spread over three aggregates (by
 * event, so one device shows in several), merged with agg_merge, equal
 * one aggregate fed them all: counters summed, device sketches united
 * (small sets and ones past the sparse limit), blind spots and anomalies
 * summed, the same cells and nothing else.
 */
static void
test_merge_equals_single(void)
{
	struct agg *one = agg_new(100000, 512u << 20), *merged;
	struct agg *w[3];
	const struct agg_cell *c, *mc;
	const struct agg_dev *d, *md;
	const struct agg_hour *h, *mh;
	uint64_t r = 42;
	size_t i, k, ndiff = 0;

	merged = agg_new(100000, 512u << 20);
	for (k = 0; k < 3; k++)
		w[k] = agg_new(100000, 512u << 20);
	for (i = 0; i < 60000; i++) {
		struct period p;
		int dept, svc;
		uint64_t dev;
		struct agg *to;
		struct agg_cell *cc;

		r = mix(r);
		p = per((int64_t)(r % (3 * 86400)));	/* three days */
		dept = (int)((r >> 20) % 4) - 1;	/* -1 = unassigned */
		svc = (int)((r >> 24) % 5);
		dev = mix((r >> 32) % 10);	/* seen by every worker */
		to = w[(r >> 40) % 3];
		agg_packet(one, &p, 100);
		agg_packet(to, &p, 100);
		switch ((r >> 44) % 4) {
		case 0:
			agg_device(one, &p, dept, svc, dev);
			agg_device(to, &p, dept, svc, dev);
			/* FALLTHROUGH */
		case 1:
			cc = agg_cell(one, &p, dept, svc);
			cc->c[C_TLS]++;
			cc->c[C_UP] += r & 0xfff;
			cc = agg_cell(to, &p, dept, svc);
			cc->c[C_TLS]++;
			cc->c[C_UP] += r & 0xfff;
			break;
		case 2:
			agg_blind(one, &p, BL_ECH_UNATTRIBUTED, 1);
			agg_blind(to, &p, BL_ECH_UNATTRIBUTED, 1);
			break;
		default:
			agg_anomaly(one, &p, ANOM_BAD_IP);
			agg_anomaly(to, &p, ANOM_BAD_IP);
			break;
		}
	}
	/* one service past the sparse form: 2500 devices, each in turn */
	for (i = 0; i < 6000; i++) {
		struct period p = per((int64_t)(i * 37 % (2 * 86400)));

		agg_packet(one, &p, 60);
		agg_packet(w[i % 3], &p, 60);
		agg_device(one, &p, 0, 0, mix(1000000 + i % 2500));
		agg_device(w[i % 3], &p, 0, 0, mix(1000000 + i % 2500));
	}
	for (k = 0; k < 3; k++) {
		agg_merge(merged, w[k]);
		T_CHECK(agg_empty(w[k]));
	}
	T_EQ_INT(count_cells(merged), count_cells(one));
	T_EQ_INT(count_devs(merged), count_devs(one));
	T_EQ_INT(agg_ncells(merged), agg_ncells(one));
	for (c = agg_cells(one); c != NULL; c = c->all) {
		for (mc = agg_cells(merged); mc != NULL; mc = mc->all)
			if (mc->per.hour == c->per.hour && mc->dept == c->dept &&
			    mc->svc == c->svc)
				break;
		if (mc == NULL || memcmp(mc->c, c->c, sizeof(c->c)) != 0 ||
		    !same_sketch(&mc->dev, &c->dev))
			ndiff++;
	}
	for (d = agg_devs(one); d != NULL; d = d->all) {
		md = find_dev(merged, d->kind, d->period, d->dept, d->svc);
		if (md == NULL || md->week != d->week ||
		    !same_sketch(&md->dev, &d->dev))
			ndiff++;
	}
	for (h = agg_hours(one); h != NULL; h = h->next) {
		mh = find_hour(merged, h->per.hour);
		if (mh == NULL || memcmp(mh->b, h->b, sizeof(h->b)) != 0 ||
		    memcmp(mh->anom, h->anom, sizeof(h->anom)) != 0)
			ndiff++;
	}
	T_EQ_INT(ndiff, 0);
	/* the big cell is past the sparse form: a real union was tested */
	d = find_dev(one, DEV_WEEK, per(0).week, 0, 0);
	T_CHECK(d != NULL && sketch_is_dense(&d->dev) &&
	    sketch_estimate(&d->dev) > 2000);
	for (k = 0; k < 3; k++)
		agg_free(w[k]);
	agg_free(one);
	agg_free(merged);
}

/*
 * agg_merge keeps the receiver's limits (agg_absorb does not): a
 * worker's cells that do not fit are counted lost, like a packet's.
 */
static void
test_merge_limited(void)
{
	struct agg *live = agg_new(3, 64u << 20), *w = agg_new(100, 64u << 20);
	struct period h0 = per(0);
	const struct agg_hour *h;
	int s;

	agg_packet(w, &h0, 1);
	for (s = 0; s < 5; s++)
		agg_cell(w, &h0, 0, s)->c[C_DNS] = 1;
	agg_merge(live, w);
	T_CHECK(agg_empty(w));
	T_EQ_INT(count_cells(live), 3);
	h = find_hour(live, T0);
	T_CHECK(h != NULL && h->b[BL_PACKETS] == 1 && h->b[BL_LOST] == 2 &&
	    h->anom[ANOM_CELLS_FULL] == 2);
	agg_free(live);
	agg_free(w);
}

int
main(void)
{
	if (period_set_tz("UTC") != 0)
		return 2;
	T_RUN(test_cells);
	T_RUN(test_devices);
	T_RUN(test_blind_anomaly);
	T_RUN(test_max_cells);
	T_RUN(test_mem_limit);
	T_RUN(test_clear);
	T_RUN(test_remap);
	T_RUN(test_pair_swap_absorb);
	T_RUN(test_merge_equals_single);
	T_RUN(test_merge_limited);
	return T_DONE();
}
