/*
 * test_flow.c - the fixed-size flow table (both directions, LRU
 * recycling, expiry, removal, hash chains) and the bounded client-stream
 * reassembly (order, overlap, islands, buffer end, sequence wrap,
 * consume, pool exhaustion), and the server's stream beside it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/flow.h"
#include "t.h"

static void
mkpkt(struct pkt *p, uint8_t a, uint8_t b, uint16_t sp, uint16_t dp,
    uint8_t l4)
{
	memset(p, 0, sizeof(*p));
	p->src[10] = p->src[11] = 0xff;
	p->dst[10] = p->dst[11] = 0xff;
	p->src[12] = 10;
	p->src[15] = a;
	p->dst[12] = 192;
	p->dst[15] = b;
	p->sport = sp;
	p->dport = dp;
	p->l4 = l4;
	p->af = 4;
	p->vlan = -1;
}

static void
reverse(struct pkt *r, const struct pkt *p)
{
	*r = *p;
	memcpy(r->src, p->dst, 16);
	memcpy(r->dst, p->src, 16);
	r->sport = p->dport;
	r->dport = p->sport;
}

static struct flow *
find(struct flow_table *t, const struct pkt *p, int *dir)
{
	return flow_lookup(t, p, flow_hash(t, p), dir);
}

static struct flow *
mkflow(struct flow_table *t, uint8_t a, uint16_t sp, uint32_t now)
{
	struct pkt p;

	mkpkt(&p, a, 1, sp, 443, 6);
	return flow_create(t, &p, flow_hash(t, &p), now);
}

static int
alive(struct flow_table *t, uint8_t a, uint16_t sp)
{
	struct pkt p;
	int dir;

	mkpkt(&p, a, 1, sp, 443, 6);
	return find(t, &p, &dir) != NULL;
}

static void
test_table_new(void)
{
	struct flow_table *t;

	T_CHECK(flow_table_new(15, 4, 1) == NULL);
	T_CHECK(flow_table_new(16, 0, 1) == NULL);
	t = flow_table_new(16, 1, 1);
	T_CHECK(t != NULL);
	T_CHECK(flow_table_mem(t) >= 16 * sizeof(struct flow));
	T_EQ_INT(flow_stats(t)->in_use, 0);
	T_EQ_INT(flow_stats(t)->streams_in_use, 0);
	flow_table_free(t);
	flow_table_free(NULL);
}

static void
test_create_lookup(void)
{
	struct flow_table *t = flow_table_new(64, 4, 42);
	struct pkt p, r, o;
	struct flow *f, *g;
	int dir = -1;

	mkpkt(&p, 5, 9, 40000, 443, 6);
	p.vlan = 12;
	reverse(&r, &p);
	T_EQ_INT(flow_hash(t, &p), flow_hash(t, &r));	/* symmetric */
	T_CHECK(find(t, &p, &dir) == NULL);
	f = flow_create(t, &p, flow_hash(t, &p), 1000);
	T_CHECK(f != NULL);
	T_CHECK(memcmp(f->cli, p.src, 16) == 0);
	T_CHECK(memcmp(f->srv, p.dst, 16) == 0);
	T_EQ_INT(f->cport, 40000);
	T_EQ_INT(f->sport, 443);
	T_EQ_INT(f->l4, 6);
	T_EQ_INT(f->vlan, 12);
	T_EQ_INT(f->dept, -1);
	T_EQ_INT(f->svc, -1);
	T_EQ_INT(f->flags, 0);
	T_EQ_INT(f->slot, FLOW_NONE);
	T_EQ_INT(f->last_sec, 1000);

	T_CHECK(find(t, &p, &dir) == f);
	T_EQ_INT(dir, 1);
	dir = -1;
	T_CHECK(find(t, &r, &dir) == f);
	T_EQ_INT(dir, 0);

	/* same addresses, other port / other protocol: another flow */
	mkpkt(&o, 5, 9, 40001, 443, 6);
	T_CHECK(find(t, &o, &dir) == NULL);
	mkpkt(&o, 5, 9, 40000, 443, 17);
	T_CHECK(find(t, &o, &dir) == NULL);
	g = flow_create(t, &o, flow_hash(t, &o), 1001);
	T_CHECK(g != NULL && g != f);
	T_CHECK(find(t, &o, &dir) == g);
	T_EQ_INT(dir, 1);
	T_CHECK(find(t, &p, &dir) == f);
	/* swapped ports only is not the reverse direction */
	mkpkt(&o, 5, 9, 443, 40000, 6);
	T_CHECK(find(t, &o, &dir) == NULL);

	/* a different seed keys the hash differently */
	{
		struct flow_table *t2 = flow_table_new(64, 4, 43);

		T_CHECK(flow_hash(t, &p) != flow_hash(t2, &p));
		flow_table_free(t2);
	}
	T_EQ_INT(flow_stats(t)->created, 2);
	T_EQ_INT(flow_stats(t)->in_use, 2);
	flow_table_free(t);
}

/* IPv6 tuples and a tuple where both ends share an address. */
static void
test_lookup_v6(void)
{
	struct flow_table *t = flow_table_new(16, 1, 7);
	struct pkt p, r;
	struct flow *f;
	int dir;

	memset(&p, 0, sizeof(p));
	p.src[0] = 0x20;
	p.src[1] = 0x01;
	p.src[15] = 1;
	p.dst[0] = 0x20;
	p.dst[1] = 0x01;
	p.dst[15] = 2;
	p.sport = 5000;
	p.dport = 443;
	p.l4 = 17;
	p.af = 6;
	f = flow_create(t, &p, flow_hash(t, &p), 1);
	reverse(&r, &p);
	T_CHECK(find(t, &r, &dir) == f);
	T_EQ_INT(dir, 0);
	/* loopback-like: same address both sides, ports tell direction */
	memcpy(p.dst, p.src, 16);
	f = flow_create(t, &p, flow_hash(t, &p), 1);
	reverse(&r, &p);
	T_CHECK(find(t, &p, &dir) == f);
	T_EQ_INT(dir, 1);
	T_CHECK(find(t, &r, &dir) == f);
	T_EQ_INT(dir, 0);
	flow_table_free(t);
}

static void
test_lru_eviction(void)
{
	struct flow_table *t = flow_table_new(16, 2, 3);
	struct flow *f;
	uint16_t i;

	for (i = 0; i < 16; i++)
		T_CHECK(mkflow(t, (uint8_t)i, 1000, 100 + i) != NULL);
	T_EQ_INT(flow_stats(t)->in_use, 16);
	T_EQ_INT(flow_stats(t)->evicted, 0);

	/* flow 0 is the oldest, but it is used again */
	f = NULL;
	{
		struct pkt p;
		int dir;

		mkpkt(&p, 0, 1, 1000, 443, 6);
		f = find(t, &p, &dir);
		T_CHECK(f != NULL);
		flow_touch(t, f, 200);
		T_EQ_INT(f->last_sec, 200);
	}
	/* the 17th flow recycles flow 1, the least recently used */
	T_CHECK(mkflow(t, 100, 1000, 201) != NULL);
	T_EQ_INT(flow_stats(t)->in_use, 16);
	T_EQ_INT(flow_stats(t)->evicted, 1);
	T_CHECK(alive(t, 0, 1000));
	T_CHECK(!alive(t, 1, 1000));
	T_CHECK(alive(t, 2, 1000));
	T_CHECK(alive(t, 100, 1000));
	/* then flow 2, 3, ... in order */
	T_CHECK(mkflow(t, 101, 1000, 202) != NULL);
	T_CHECK(!alive(t, 2, 1000));
	T_CHECK(alive(t, 3, 1000));
	T_EQ_INT(flow_stats(t)->evicted, 2);

	/* a long flood keeps exactly max_flows flows, the newest ones */
	for (i = 0; i < 1000; i++)
		T_CHECK(mkflow(t, (uint8_t)(i & 0xff), (uint16_t)(2000 + i),
		    300 + i) != NULL);
	T_EQ_INT(flow_stats(t)->in_use, 16);
	for (i = 984; i < 1000; i++)
		T_CHECK(alive(t, (uint8_t)(i & 0xff), (uint16_t)(2000 + i)));
	T_CHECK(!alive(t, (uint8_t)(983 & 0xff), 2000 + 983));
	T_CHECK(!alive(t, 0, 1000));
	flow_table_free(t);
}

static void
count_fn(void *arg, struct flow *f)
{
	(void)f;
	(*(int *)arg)++;
}

static void
remove_odd_fn(void *arg, struct flow *f)
{
	if (f->cport & 1)
		flow_remove(arg, f);
}

static void
test_remove_and_foreach(void)
{
	struct flow_table *t = flow_table_new(32, 4, 9);
	struct flow *f[10];
	int i, n;

	for (i = 0; i < 10; i++)
		f[i] = mkflow(t, 1, (uint16_t)(1000 + i), 10);
	n = 0;
	flow_foreach(t, count_fn, &n);
	T_EQ_INT(n, 10);

	flow_stream_open(t, f[4], 1);
	T_EQ_INT(flow_stats(t)->streams_in_use, 1);
	flow_remove(t, f[4]);
	T_EQ_INT(flow_stats(t)->streams_in_use, 0);	/* freed with it */
	T_EQ_INT(flow_stats(t)->in_use, 9);
	T_CHECK(!alive(t, 1, 1004));
	T_CHECK(alive(t, 1, 1003));
	T_CHECK(alive(t, 1, 1005));

	/* removing from inside foreach is allowed (re-keying does it) */
	flow_foreach(t, remove_odd_fn, t);
	n = 0;
	flow_foreach(t, count_fn, &n);
	T_EQ_INT(n, 4);
	for (i = 0; i < 10; i++)
		T_EQ_INT(alive(t, 1, (uint16_t)(1000 + i)), i % 2 == 0 && i != 4);

	/* the freed slots are reused: 28 more fit without eviction */
	for (i = 0; i < 28; i++)
		mkflow(t, 2, (uint16_t)(3000 + i), 11);
	T_EQ_INT(flow_stats(t)->in_use, 32);
	T_EQ_INT(flow_stats(t)->evicted, 0);
	flow_table_free(t);
}

/* Crafted hashes that share a bucket: chains must stay intact. */
static void
test_hash_chains(void)
{
	struct flow_table *t = flow_table_new(16, 1, 5);
	struct flow *f[6];
	struct pkt p;
	int i, dir;

	for (i = 0; i < 6; i++) {
		mkpkt(&p, (uint8_t)i, 1, 1000, 443, 6);
		f[i] = flow_create(t, &p, 0x100, 1);	/* same bucket */
	}
	for (i = 0; i < 6; i++) {
		mkpkt(&p, (uint8_t)i, 1, 1000, 443, 6);
		T_CHECK(flow_lookup(t, &p, 0x100, &dir) == f[i]);
	}
	flow_remove(t, f[0]);			/* chain tail */
	flow_remove(t, f[5]);			/* chain head */
	flow_remove(t, f[2]);			/* middle */
	for (i = 0; i < 6; i++) {
		mkpkt(&p, (uint8_t)i, 1, 1000, 443, 6);
		T_EQ_INT(flow_lookup(t, &p, 0x100, &dir) != NULL,
		    i == 1 || i == 3 || i == 4);
	}
	/* same bucket, different full hash: not confused */
	mkpkt(&p, 1, 1, 1000, 443, 6);
	T_CHECK(flow_lookup(t, &p, 0x100 | (1ULL << 40), &dir) == NULL);
	flow_table_free(t);
}

static void
test_expire(void)
{
	struct flow_table *t = flow_table_new(16, 2, 11);
	struct flow *f;
	int i;

	for (i = 0; i < 10; i++)
		mkflow(t, (uint8_t)i, 1000, (uint32_t)(100 + i * 10));
	/* idle > 60 at now=200: flows last seen at 100..130 (4 flows) */
	T_EQ_INT(flow_expire(t, 200, 60, 100), 4);
	T_EQ_INT(flow_stats(t)->expired, 4);
	T_EQ_INT(flow_stats(t)->in_use, 6);
	T_CHECK(!alive(t, 3, 1000));
	T_CHECK(alive(t, 4, 1000));		/* exactly 60 s idle stays */
	/* touching saves a flow */
	{
		struct pkt p;
		int dir;

		mkpkt(&p, 4, 1, 1000, 443, 6);
		f = find(t, &p, &dir);
		flow_touch(t, f, 300);
	}
	/* max_scan bounds the work done per call */
	T_EQ_INT(flow_expire(t, 1000, 60, 2), 2);
	T_EQ_INT(flow_stats(t)->in_use, 4);
	T_EQ_INT(flow_expire(t, 1000, 60, 100), 4);
	T_EQ_INT(flow_stats(t)->in_use, 0);
	T_EQ_INT(flow_expire(t, 1000, 60, 100), 0);

	/* a clock that went backwards expires nothing */
	mkflow(t, 1, 1, 5000);
	T_EQ_INT(flow_expire(t, 4000, 60, 100), 0);
	T_EQ_INT(flow_stats(t)->in_use, 1);
	flow_table_free(t);

	/* wrap of the 32-bit second counter */
	t = flow_table_new(16, 2, 11);
	mkflow(t, 2, 2, 0xfffffff0u);
	T_EQ_INT(flow_expire(t, 0x10, 60, 100), 0);	/* 32 s idle */
	T_CHECK(alive(t, 2, 2));
	T_EQ_INT(flow_expire(t, 0x100, 60, 100), 1);
	T_CHECK(!alive(t, 2, 2));
	flow_table_free(t);
}

/* --- streams -------------------------------------------------------- */

static uint8_t ref[3 * STREAM_BUF];

static void
fill_ref(void)
{
	size_t i;

	for (i = 0; i < sizeof(ref); i++)
		ref[i] = (uint8_t)(i * 7 + (i >> 8));
}

/* Add stream bytes [a, b) of ref, with ISN base. */
static int
add(struct flow_table *t, struct flow *f, uint32_t base, size_t a, size_t b)
{
	return flow_stream_add(t, f, base + (uint32_t)a, ref + a, b - a);
}

/* The contiguous data is exactly ref[off .. off+want). */
static int
has(struct flow_table *t, struct flow *f, size_t want, uint64_t want_off)
{
	size_t len;
	uint64_t off = 99;
	const uint8_t *d = flow_stream_data(t, f, &len, &off);

	if (len != want || off != want_off)
		return 0;
	return len == 0 || (d != NULL && memcmp(d, ref + off, len) == 0);
}

static void
test_stream_order(void)
{
	struct flow_table *t = flow_table_new(16, 4, 1);
	struct flow *f = mkflow(t, 1, 1, 1);
	uint32_t isn = 123456;
	size_t len;

	fill_ref();
	T_CHECK(flow_stream_data(t, f, &len, NULL) == NULL);
	T_EQ_INT(len, 0);
	T_CHECK(flow_stream_empty_head(t, f));
	T_EQ_INT(add(t, f, isn, 0, 10), 0);	/* no stream: ignored */

	T_EQ_INT(flow_stream_open(t, f, isn), 0);
	T_CHECK(f->slot != FLOW_NONE);
	T_CHECK(flow_stream_empty_head(t, f));
	T_CHECK(has(t, f, 0, 0));
	/* in order */
	T_EQ_INT(add(t, f, isn, 0, 100), 1);
	T_CHECK(!flow_stream_empty_head(t, f));
	T_EQ_INT(add(t, f, isn, 100, 250), 1);
	T_CHECK(has(t, f, 250, 0));
	/* empty segment */
	T_EQ_INT(flow_stream_add(t, f, isn + 250, ref, 0), 0);
	flow_stream_close(t, f);
	T_EQ_INT(f->slot, FLOW_NONE);
	T_EQ_INT(flow_stats(t)->streams_in_use, 0);

	/* out of order: 2 before 1 */
	flow_stream_open(t, f, isn);
	T_EQ_INT(add(t, f, isn, 500, 1000), 0);
	T_CHECK(flow_stream_empty_head(t, f));
	T_CHECK(has(t, f, 0, 0));
	T_EQ_INT(add(t, f, isn, 0, 500), 1);
	T_CHECK(has(t, f, 1000, 0));
	/* 3 before 2 before 1, with a hole kept open */
	flow_stream_open(t, f, isn);		/* reopen resets */
	T_EQ_INT(flow_stats(t)->streams_in_use, 1);
	T_CHECK(has(t, f, 0, 0));
	T_EQ_INT(add(t, f, isn, 300, 400), 0);
	T_EQ_INT(add(t, f, isn, 100, 200), 0);
	T_EQ_INT(add(t, f, isn, 0, 100), 1);
	T_CHECK(has(t, f, 200, 0));
	T_EQ_INT(add(t, f, isn, 200, 300), 1);
	T_CHECK(has(t, f, 400, 0));
	flow_table_free(t);
}

static void
test_stream_overlap(void)
{
	struct flow_table *t = flow_table_new(16, 4, 1);
	struct flow *f = mkflow(t, 1, 1, 1);
	uint32_t isn = 1000;
	uint8_t junk[64];

	fill_ref();
	flow_stream_open(t, f, isn);
	T_EQ_INT(add(t, f, isn, 0, 10), 1);
	T_EQ_INT(add(t, f, isn, 5, 15), 1);	/* overlaps the end */
	T_CHECK(has(t, f, 15, 0));
	T_EQ_INT(add(t, f, isn, 0, 15), 0);	/* full retransmit */
	T_EQ_INT(add(t, f, isn, 3, 7), 0);	/* inside */
	T_CHECK(has(t, f, 15, 0));
	/* starts before the base: the part before is cut off */
	memset(junk, 0xee, sizeof(junk));
	memcpy(junk + 20, ref + 0, 30);
	T_EQ_INT(flow_stream_add(t, f, isn - 20, junk, 50), 1);
	T_CHECK(has(t, f, 30, 0));
	/* entirely before the base: ignored */
	T_EQ_INT(flow_stream_add(t, f, isn - 20, junk, 20), 0);
	T_EQ_INT(flow_stream_add(t, f, isn - 100000, junk, 64), 0);
	T_CHECK(has(t, f, 30, 0));
	/* an island that overlaps two islands and the gap between */
	T_EQ_INT(add(t, f, isn, 100, 110), 0);
	T_EQ_INT(add(t, f, isn, 120, 130), 0);
	T_EQ_INT(add(t, f, isn, 105, 125), 0);
	T_EQ_INT(add(t, f, isn, 30, 100), 1);
	T_CHECK(has(t, f, 130, 0));
	/* a segment that spans everything held and more */
	T_EQ_INT(add(t, f, isn, 50, 400), 1);
	T_CHECK(has(t, f, 400, 0));
	flow_table_free(t);
}

static void
test_stream_islands(void)
{
	struct flow_table *t = flow_table_new(16, 4, 1);
	struct flow *f = mkflow(t, 1, 1, 1);
	uint32_t isn = 77;
	size_t i;

	fill_ref();
	flow_stream_open(t, f, isn);
	T_EQ_INT(add(t, f, isn, 0, 50), 1);
	/* the head range counts as one: 7 more islands fit */
	for (i = 1; i < STREAM_RANGES; i++)
		T_EQ_INT(add(t, f, isn, 100 * i, 100 * i + 20), 0);
	T_EQ_INT(flow_stats(t)->stream_gaps_dropped, 0);
	/* one island too many is dropped and counted */
	T_EQ_INT(add(t, f, isn, 950, 960), 0);
	T_EQ_INT(flow_stats(t)->stream_gaps_dropped, 1);
	T_EQ_INT(add(t, f, isn, 5000, 5010), 0);
	T_EQ_INT(flow_stats(t)->stream_gaps_dropped, 2);
	/* segments that touch held ranges are still taken */
	T_EQ_INT(add(t, f, isn, 120, 130), 0);	/* extends an island */
	T_EQ_INT(add(t, f, isn, 190, 200), 0);	/* prepends one */
	T_EQ_INT(add(t, f, isn, 50, 100), 1);	/* joins head to island 1 */
	T_CHECK(has(t, f, 130, 0));
	/* with a slot free again the far island can come back */
	T_EQ_INT(add(t, f, isn, 950, 960), 0);
	T_EQ_INT(flow_stats(t)->stream_gaps_dropped, 2);
	/* fill every hole in order: the whole prefix appears */
	for (i = 130; i < 960; i += 10)
		add(t, f, isn, i, i + 10);
	T_CHECK(has(t, f, 960, 0));
	flow_table_free(t);
}

/*
 * Every island slot taken by far segments, then the very first one
 * arrives: it must be kept (the farthest island gives way), or the
 * stream could never start.
 */
static void
test_stream_islands_then_head(void)
{
	struct flow_table *t = flow_table_new(16, 4, 1);
	struct flow *f = mkflow(t, 1, 1, 1);
	uint32_t isn = 1000;
	size_t i;

	fill_ref();
	flow_stream_open(t, f, isn);
	for (i = 1; i <= STREAM_RANGES; i++)
		T_EQ_INT(add(t, f, isn, 200 * i, 200 * i + 100), 0);
	T_EQ_INT(add(t, f, isn, 0, 100), 1);
	T_CHECK(has(t, f, 100, 0));
	T_EQ_INT(add(t, f, isn, 100, 200), 1);
	T_CHECK(has(t, f, 300, 0));
	flow_table_free(t);
}

static void
test_stream_buffer_end(void)
{
	struct flow_table *t = flow_table_new(16, 4, 1);
	struct flow *f = mkflow(t, 1, 1, 1);
	uint32_t isn = 5;
	size_t i;

	fill_ref();
	flow_stream_open(t, f, isn);
	/* 1000-byte segments up to the first that crosses the end */
	for (i = 0; i < STREAM_BUF; i += 1000)
		add(t, f, isn, i, i + 1000);
	T_CHECK(has(t, f, STREAM_BUF, 0));
	T_EQ_INT(flow_stats(t)->stream_overflow, 1);	/* the last clipped */
	T_EQ_INT(add(t, f, isn, i, i + 100), 0);
	T_EQ_INT(add(t, f, isn, STREAM_BUF, STREAM_BUF + 1), 0);
	T_EQ_INT(flow_stats(t)->stream_overflow, 3);
	T_CHECK(has(t, f, STREAM_BUF, 0));
	/* far beyond the buffer (half the sequence space away) */
	T_EQ_INT(flow_stream_add(t, f, isn + 0x7fffff00u, ref, 100), 0);
	T_CHECK(has(t, f, STREAM_BUF, 0));

	/* consuming makes room; the clipped bytes can be re-sent */
	flow_stream_consume(t, f, 4096);
	T_CHECK(has(t, f, STREAM_BUF - 4096, 4096));
	T_EQ_INT(add(t, f, isn, STREAM_BUF, STREAM_BUF + 1000), 1);
	T_CHECK(has(t, f, STREAM_BUF - 4096 + 1000, 4096));
	T_EQ_INT(add(t, f, isn, STREAM_BUF + 1000, 2 * STREAM_BUF), 1);
	T_CHECK(has(t, f, STREAM_BUF, 4096));		/* clipped again */
	flow_table_free(t);
}

/*
 * Cutting framing out: kept bytes stay, later bytes move down, the
 * sequence numbers of what is still to come still land right, and
 * overlaps are still compared where bytes are held.
 */
static void
test_stream_cut(void)
{
	struct flow_table *t = flow_table_new(16, 4, 1);
	struct flow *f = mkflow(t, 1, 1, 1);
	uint32_t isn = 0xfffffff0u;		/* across the wrap, too */
	uint8_t want[STREAM_BUF];
	const uint8_t *d;
	size_t len, i, w;
	uint64_t off;

	fill_ref();
	flow_stream_open(t, f, isn);
	T_EQ_INT(flow_stream_cut(t, f, 0, 1), -1);	/* nothing held */
	T_EQ_INT(add(t, f, isn, 0, 100), 1);
	T_EQ_INT(add(t, f, isn, 300, 400), 0);		/* an island */
	/* cut 10 bytes at 20: ref[0..20) ref[30..100) */
	T_EQ_INT(flow_stream_cut(t, f, 20, 10), 0);
	T_EQ_INT(flow_stream_cut(t, f, 10, 1), -1);	/* inside the kept */
	T_EQ_INT(flow_stream_cut(t, f, 80, 11), -1);	/* past the data */
	d = flow_stream_data(t, f, &len, &off);
	T_EQ_INT(len, 90);
	T_CHECK(memcmp(d, ref, 20) == 0 && memcmp(d + 20, ref + 30, 70) == 0);
	/* a retransmission of cut or kept bytes is ignored */
	T_EQ_INT(add(t, f, isn, 0, 30), 0);
	T_EQ_INT(flow_stats(t)->overlap_conflict, 0);
	/* the gap fills and meets the island at its old sequence numbers */
	T_EQ_INT(add(t, f, isn, 100, 300), 1);
	d = flow_stream_data(t, f, &len, &off);
	T_EQ_INT(len, 390);
	T_CHECK(memcmp(d + 20, ref + 30, 370) == 0);
	/* overlaps are still compared against what is held */
	T_EQ_INT(add(t, f, isn, 350, 450), 1);
	T_EQ_INT(flow_stats(t)->overlap_conflict, 0);

	/* every sixth byte a cut, like 1-byte TLS records: fits 6x more */
	flow_stream_open(t, f, isn);
	w = 0;
	for (i = 0; i < 3 * STREAM_BUF; i += 600) {
		size_t at;

		add(t, f, isn, i, i + 600 < sizeof(ref) ? i + 600 :
		    sizeof(ref));
		d = flow_stream_data(t, f, &len, &off);
		/* cut the first 5 bytes of every unread group of 6 */
		for (at = w; at + 6 <= len; at++, w++) {
			T_EQ_INT(flow_stream_cut(t, f, at, 5), 0);
			d = flow_stream_data(t, f, &len, &off);
		}
	}
	d = flow_stream_data(t, f, &len, &off);
	T_EQ_INT(w, 3 * STREAM_BUF / 6);
	for (i = 0; i < w; i++)
		want[i] = ref[i * 6 + 5];
	T_CHECK(len >= w && memcmp(d, want, w) == 0);

	/* consuming across the kept part */
	flow_stream_open(t, f, isn);
	T_EQ_INT(add(t, f, isn, 0, 100), 1);
	T_EQ_INT(flow_stream_cut(t, f, 40, 10), 0);	/* keep ref[0..40) */
	flow_stream_consume(t, f, 30);			/* 10 kept left */
	T_EQ_INT(add(t, f, isn, 100, 150), 1);
	d = flow_stream_data(t, f, &len, &off);
	T_EQ_INT(len, 10 + 100);
	T_CHECK(memcmp(d, ref + 30, 10) == 0 && memcmp(d + 10, ref + 50, 100)
	    == 0);
	flow_stream_consume(t, f, 20);			/* into sequence */
	T_EQ_INT(add(t, f, isn, 150, 160), 1);
	d = flow_stream_data(t, f, &len, &off);
	T_EQ_INT(len, 100);
	T_CHECK(memcmp(d, ref + 60, 100) == 0);
	T_EQ_INT(off, 50);
	flow_table_free(t);
}

static void
test_stream_wrap(void)
{
	struct flow_table *t = flow_table_new(16, 4, 1);
	struct flow *f = mkflow(t, 1, 1, 1);
	uint32_t isn = 0xfffffff0u;
	uint8_t junk[40];

	fill_ref();
	flow_stream_open(t, f, isn);
	T_EQ_INT(add(t, f, isn, 0, 16), 1);	/* up to 2^32 - 1 */
	T_EQ_INT(flow_stream_add(t, f, 0, ref + 16, 16), 1);	/* wrapped */
	T_CHECK(has(t, f, 32, 0));

	/* out of order across the wrap */
	flow_stream_open(t, f, isn);
	T_EQ_INT(add(t, f, isn, 16, 100), 0);
	T_EQ_INT(add(t, f, isn, 0, 16), 1);
	T_CHECK(has(t, f, 100, 0));

	/* a retransmit starting before the base, across the wrap */
	flow_stream_open(t, f, 8);
	memset(junk, 0xcc, sizeof(junk));
	memcpy(junk + 16 + 8, ref, 16);
	T_EQ_INT(flow_stream_add(t, f, 0xfffffff0u, junk, 40), 1);
	T_CHECK(has(t, f, 16, 0));

	/* consume across the wrap and keep going */
	flow_stream_open(t, f, 0xffffff00u);
	T_EQ_INT(add(t, f, 0xffffff00u, 0, 300), 1);	/* crosses 2^32 */
	flow_stream_consume(t, f, 150);
	T_CHECK(has(t, f, 150, 150));
	T_EQ_INT(add(t, f, 0xffffff00u, 200, 600), 1);
	T_CHECK(has(t, f, 450, 150));
	flow_table_free(t);
}

static void
test_stream_consume(void)
{
	struct flow_table *t = flow_table_new(16, 4, 1);
	struct flow *f = mkflow(t, 1, 1, 1);
	uint32_t isn = 4242;
	uint8_t *fs;

	fill_ref();
	T_CHECK(flow_stream_fstate(t, f) == NULL);
	flow_stream_open(t, f, isn);
	fs = flow_stream_fstate(t, f);
	T_CHECK(fs != NULL);
	if (fs != NULL) {
		int i, zero = 1;

		for (i = 0; i < STREAM_FSTATE; i++)
			zero &= fs[i] == 0;
		T_CHECK(zero);
		memset(fs, 0xab, STREAM_FSTATE);
	}
	add(t, f, isn, 0, 10);
	add(t, f, isn, 20, 30);			/* island */
	flow_stream_consume(t, f, 5);
	T_CHECK(has(t, f, 5, 5));
	flow_stream_consume(t, f, 0);
	T_CHECK(has(t, f, 5, 5));
	T_EQ_INT(add(t, f, isn, 10, 20), 1);	/* joins the shifted island */
	T_CHECK(has(t, f, 25, 5));
	/* consuming more than is contiguous only takes what is there */
	flow_stream_consume(t, f, 1000);
	T_CHECK(has(t, f, 0, 30));
	T_CHECK(flow_stream_empty_head(t, f));
	/* old bytes, now before the base, are ignored */
	T_EQ_INT(add(t, f, isn, 0, 30), 0);
	T_CHECK(has(t, f, 0, 30));
	T_EQ_INT(add(t, f, isn, 25, 60), 1);
	T_CHECK(has(t, f, 30, 30));
	/* detector scratch survives consume; a reopen clears it */
	T_CHECK(fs != NULL && fs[0] == 0xab && fs[STREAM_FSTATE - 1] == 0xab);
	flow_stream_open(t, f, 1);
	fs = flow_stream_fstate(t, f);
	T_CHECK(fs != NULL && fs[0] == 0);
	flow_table_free(t);
}

static void
test_stream_pool_exhaustion(void)
{
	struct flow_table *t = flow_table_new(16, 2, 1);
	struct flow *a = mkflow(t, 1, 1, 1);
	struct flow *b = mkflow(t, 2, 2, 2);
	struct flow *c = mkflow(t, 3, 3, 3);
	struct flow *d = mkflow(t, 4, 4, 4);
	size_t len;

	fill_ref();
	flow_stream_open(t, a, 100);
	add(t, a, 100, 0, 10);
	flow_stream_open(t, b, 200);
	add(t, b, 200, 0, 20);
	T_EQ_INT(flow_stats(t)->streams_in_use, 2);
	/* the third stream takes the oldest one's buffer */
	flow_stream_open(t, c, 300);
	T_EQ_INT(a->slot, FLOW_NONE);
	T_CHECK((a->flags & FL_DONE) != 0);
	T_CHECK((b->flags & FL_DONE) == 0);
	T_CHECK((c->flags & FL_DONE) == 0);
	T_EQ_INT(flow_stats(t)->stream_evicted, 1);
	T_EQ_INT(flow_stats(t)->streams_in_use, 2);
	T_CHECK(has(t, c, 0, 0));		/* no bytes of a leak in */
	T_CHECK(has(t, b, 20, 0));
	T_EQ_INT(add(t, a, 100, 10, 20), 0);
	T_CHECK(flow_stream_data(t, a, &len, NULL) == NULL);
	T_EQ_INT(len, 0);
	T_CHECK(flow_stream_empty_head(t, a));
	T_CHECK(flow_stream_fstate(t, a) == NULL);
	add(t, c, 300, 0, 30);
	T_CHECK(has(t, c, 30, 0));

	/* a closed stream's buffer is reused before anything is evicted */
	flow_stream_close(t, b);
	T_EQ_INT(flow_stats(t)->streams_in_use, 1);
	flow_stream_open(t, d, 400);
	T_EQ_INT(flow_stats(t)->stream_evicted, 1);
	T_CHECK(has(t, c, 30, 0));
	T_CHECK((d->flags & FL_DONE) == 0);
	/* next eviction: c, the older of the two */
	flow_stream_open(t, b, 500);
	T_EQ_INT(c->slot, FLOW_NONE);
	T_CHECK((c->flags & FL_DONE) != 0);
	T_CHECK(d->slot != FLOW_NONE && b->slot != FLOW_NONE);
	T_EQ_INT(flow_stats(t)->stream_evicted, 2);
	/* evicting the owner of a stream via the LRU frees the stream */
	flow_remove(t, d);
	T_EQ_INT(flow_stats(t)->streams_in_use, 1);
	flow_table_free(t);
}

/* The server stream's contiguous data is exactly ref[off .. off+want). */
static int
srv_has(struct flow_table *t, struct flow *f, size_t want, uint64_t want_off)
{
	size_t len;
	uint64_t off = 99;
	const uint8_t *d = flow_srv_stream_data(t, f, &len, &off);

	if (len != want || off != want_off)
		return 0;
	return len == 0 || (d != NULL && memcmp(d, ref + off, len) == 0);
}

/*
 * Both sides of one flow: two buffers, each in its own order, consumed
 * and closed on its own; removing the flow frees both.
 */
static void
test_srv_stream(void)
{
	struct flow_table *t = flow_table_new(16, 4, 1);
	struct flow *f = mkflow(t, 1, 1, 1);
	uint32_t cisn = 1000, sisn = 0xfffffff0u;	/* server's wraps */
	size_t len;

	fill_ref();
	T_EQ_INT(f->sslot, FLOW_NONE);
	T_CHECK(flow_srv_stream_data(t, f, &len, NULL) == NULL);
	T_EQ_INT(len, 0);
	T_CHECK(flow_srv_stream_fstate(t, f) == NULL);
	T_EQ_INT(flow_srv_stream_add(t, f, sisn, ref, 10), 0);
	flow_srv_stream_consume(t, f, 5);		/* nothing to do */
	flow_srv_stream_close(t, f);

	flow_stream_open(t, f, cisn);
	flow_srv_stream_open(t, f, sisn);
	T_CHECK(f->slot != FLOW_NONE && f->sslot != FLOW_NONE &&
	    f->slot != f->sslot);
	T_EQ_INT(flow_stats(t)->streams_in_use, 2);
	T_CHECK(flow_srv_stream_fstate(t, f) != NULL &&
	    flow_srv_stream_fstate(t, f) != flow_stream_fstate(t, f));
	/* server: 2 before 1, across the wrap of the sequence space */
	T_EQ_INT(flow_srv_stream_add(t, f, sisn + 40, ref + 40, 60), 0);
	T_CHECK(srv_has(t, f, 0, 0));
	T_EQ_INT(add(t, f, cisn, 0, 30), 1);		/* client: in order */
	T_EQ_INT(flow_srv_stream_add(t, f, sisn, ref, 40), 1);
	T_CHECK(srv_has(t, f, 100, 0));
	T_CHECK(has(t, f, 30, 0));
	/* a resent server segment lands on itself */
	T_EQ_INT(flow_srv_stream_add(t, f, sisn + 20, ref + 20, 30), 0);
	T_CHECK(srv_has(t, f, 100, 0));
	flow_srv_stream_consume(t, f, 64);
	T_CHECK(srv_has(t, f, 36, 64));
	T_CHECK(has(t, f, 30, 0));			/* untouched */
	T_EQ_INT(flow_srv_stream_add(t, f, sisn + 100, ref + 100, 50), 1);
	T_CHECK(srv_has(t, f, 86, 64));
	/* the server's end leaves the client's stream */
	flow_srv_stream_close(t, f);
	T_EQ_INT(f->sslot, FLOW_NONE);
	T_CHECK(f->slot != FLOW_NONE);
	T_CHECK(has(t, f, 30, 0));
	T_EQ_INT(flow_stats(t)->streams_in_use, 1);
	/* and removing the flow frees both */
	flow_srv_stream_open(t, f, sisn);
	T_EQ_INT(flow_stats(t)->streams_in_use, 2);
	flow_remove(t, f);
	T_EQ_INT(flow_stats(t)->streams_in_use, 0);
	flow_table_free(t);
}

/*
 * One pool for both sides: losing a server stream to it ends the
 * server's side only (FS_SRV_DONE, no FL_DONE); losing a client stream
 * ends detection as before.
 */
static void
test_srv_stream_pool(void)
{
	struct flow_table *t = flow_table_new(16, 2, 1);
	struct flow *a = mkflow(t, 1, 1, 1);
	struct flow *b = mkflow(t, 2, 2, 2);
	size_t len;

	fill_ref();
	flow_stream_open(t, a, 100);
	flow_srv_stream_open(t, a, 900);
	flow_srv_stream_add(t, a, 900, ref, 10);
	/* b's client stream takes a's client stream, the oldest */
	flow_stream_open(t, b, 200);
	T_EQ_INT(a->slot, FLOW_NONE);
	T_CHECK((a->flags & FL_DONE) != 0);
	T_CHECK(a->sslot != FLOW_NONE && srv_has(t, a, 10, 0));
	/* b's server stream takes a's server stream */
	flow_srv_stream_open(t, b, 300);
	T_EQ_INT(a->sslot, FLOW_NONE);
	T_CHECK((a->sflags & FS_SRV_DONE) != 0);
	T_CHECK(flow_srv_stream_data(t, a, &len, NULL) == NULL);
	T_CHECK(srv_has(t, b, 0, 0));		/* none of a's bytes */
	T_EQ_INT(flow_stats(t)->stream_evicted, 2);
	T_EQ_INT(flow_stats(t)->streams_in_use, 2);
	/* a third: b's own client stream is the oldest now */
	flow_srv_stream_add(t, b, 300, ref, 5);
	flow_srv_stream_open(t, a, 400);
	T_EQ_INT(b->slot, FLOW_NONE);
	T_CHECK((b->flags & FL_DONE) != 0);
	T_CHECK(srv_has(t, b, 5, 0));
	T_CHECK((b->sflags & FS_SRV_DONE) == 0);
	T_EQ_INT(flow_stats(t)->streams_in_use, 2);
	flow_table_free(t);
}

/*
 * A conflicting copy on either side ends the flow's reading on both: the
 * flow is done and conflicted, and both its streams are back in the pool.
 */
static void
test_conflict_frees_both(void)
{
	int side;

	fill_ref();
	for (side = 0; side < 2; side++) {
		struct flow_table *t = flow_table_new(16, 4, 1);
		struct flow *f = mkflow(t, 1, 1, 1);
		uint8_t decoy[10];
		int r;

		memcpy(decoy, ref + 5, sizeof(decoy));
		decoy[3] ^= 0x55;
		flow_stream_open(t, f, 1000);
		flow_srv_stream_open(t, f, 5000);
		T_EQ_INT(add(t, f, 1000, 0, 30), 1);
		T_EQ_INT(flow_srv_stream_add(t, f, 5000, ref, 30), 1);
		T_EQ_INT(flow_stats(t)->streams_in_use, 2);
		r = side == 0 ? flow_stream_add(t, f, 1005, decoy, 10) :
		    flow_srv_stream_add(t, f, 5005, decoy, 10);
		T_EQ_INT(r, 0);
		T_CHECK((f->flags & (FL_DONE | FL_CONFLICT)) ==
		    (FL_DONE | FL_CONFLICT));
		T_EQ_INT(f->slot, FLOW_NONE);
		T_EQ_INT(f->sslot, FLOW_NONE);
		T_EQ_INT(flow_stats(t)->streams_in_use, 0);
		T_EQ_INT(flow_stats(t)->overlap_conflict, 1);
		flow_table_free(t);
	}
}

/* Random arrival order, duplicates and overlaps against a reference. */
static uint64_t rng = 88172645463325252ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void
test_stream_random(void)
{
	struct flow_table *t = flow_table_new(16, 1, 1);
	struct flow *f = mkflow(t, 1, 1, 1);
	int round, k, bad = 0, incomplete = 0;

	fill_ref();
	for (round = 0; round < 300; round++) {
		uint32_t isn = rnd();
		size_t total = 500 + rnd() % 9000, len, a, n;
		const uint8_t *d;

		flow_stream_open(t, f, isn);
		for (k = 0; k < 40; k++) {
			a = rnd() % total;
			n = 1 + rnd() % 1500;
			if (a + n > total)
				n = total - a;
			add(t, f, isn, a, a + n);
			d = flow_stream_data(t, f, &len, NULL);
			if (len > STREAM_BUF || (len > 0 &&
			    memcmp(d, ref, len) != 0))
				bad++;
		}
		/* an in-order replay always completes the prefix */
		for (a = 0; a < total; a += 1000)
			add(t, f, isn, a, a + 1000 > total ? total : a + 1000);
		d = flow_stream_data(t, f, &len, NULL);
		if (len != (total < STREAM_BUF ? total : STREAM_BUF))
			incomplete++;
		else if (memcmp(d, ref, len) != 0)
			bad++;
	}
	T_EQ_INT(bad, 0);
	T_EQ_INT(incomplete, 0);
	flow_table_free(t);
}

/*
 * Overlaps: the same bytes again are a retransmission; different bytes
 * where the stream holds data give the stream up (FL_CONFLICT), in
 * either order, in the contiguous prefix or in an island.
 */
static void
test_stream_conflict(void)
{
	struct flow_table *t = flow_table_new(16, 4, 1);
	struct flow *f = mkflow(t, 1, 1, 1);
	uint32_t isn = 1000;
	uint8_t decoy[200], junk[200];
	size_t i;

	fill_ref();
	/* identical retransmissions, partial and whole, keep the stream */
	flow_stream_open(t, f, isn);
	T_EQ_INT(add(t, f, isn, 0, 100), 1);
	T_EQ_INT(add(t, f, isn, 0, 100), 0);
	T_EQ_INT(add(t, f, isn, 50, 150), 1);
	T_EQ_INT(add(t, f, isn, 300, 400), 0);
	T_EQ_INT(add(t, f, isn, 250, 350), 0);	/* overlaps the island */
	T_EQ_INT(add(t, f, isn, 100, 250), 1);
	T_CHECK(has(t, f, 400, 0));
	T_EQ_INT(flow_stats(t)->overlap_conflict, 0);
	T_CHECK(!(f->flags & (FL_DONE | FL_CONFLICT)));

	/* decoy island first, then the real bytes on it: given up */
	for (i = 0; i < sizeof(decoy); i++)
		decoy[i] = ref[100 + i] ^ (i == 150 ? 0x20 : 0);
	flow_stream_open(t, f, isn);
	T_EQ_INT(add(t, f, isn, 0, 100), 1);
	T_EQ_INT(flow_stream_add(t, f, isn + 100, decoy, 200), 1);
	f->flags |= FL_CLAIMED;
	T_EQ_INT(add(t, f, isn, 200, 300), 0);	/* one byte differs */
	T_EQ_INT(f->slot, FLOW_NONE);
	T_CHECK((f->flags & (FL_DONE | FL_CONFLICT | FL_CLAIMED)) ==
	    (FL_DONE | FL_CONFLICT));
	T_EQ_INT(flow_stats(t)->overlap_conflict, 1);
	T_EQ_INT(flow_stats(t)->streams_in_use, 0);
	/* the flow has no stream any more: later segments are ignored */
	T_EQ_INT(add(t, f, isn, 100, 300), 0);

	/* real island first, then a decoy over it, before the head came */
	f->flags = 0;
	flow_stream_open(t, f, isn);
	T_EQ_INT(add(t, f, isn, 100, 300), 0);
	T_EQ_INT(flow_stream_add(t, f, isn + 100, decoy, 200), 0);
	T_CHECK(f->flags & FL_CONFLICT);
	T_EQ_INT(flow_stats(t)->overlap_conflict, 2);
	T_EQ_INT(add(t, f, isn, 0, 100), 0);	/* the head: nothing */

	/* a segment starting before the base is compared from the base */
	f->flags = 0;
	flow_stream_open(t, f, isn + 100);
	T_EQ_INT(flow_stream_add(t, f, isn + 100, ref + 100, 50), 1);
	memset(junk, 0xee, 20);			/* before the base: dropped */
	memcpy(junk + 20, ref + 100, 80);
	T_EQ_INT(flow_stream_add(t, f, isn + 80, junk, 100), 1);
	T_CHECK(!(f->flags & FL_CONFLICT));
	junk[20 + 30] ^= 1;			/* held byte 30 differs */
	T_EQ_INT(flow_stream_add(t, f, isn + 80, junk, 100), 0);
	T_CHECK(f->flags & FL_CONFLICT);
	T_EQ_INT(flow_stats(t)->overlap_conflict, 3);

	/* a consumed prefix is not held: a difference there is not seen */
	f->flags = 0;
	flow_stream_open(t, f, isn);
	T_EQ_INT(add(t, f, isn, 0, 300), 1);
	flow_stream_consume(t, f, 200);
	memcpy(junk, ref + 100, 200);
	junk[50] ^= 1;				/* stream byte 150, consumed */
	T_EQ_INT(flow_stream_add(t, f, isn + 100, junk, 200), 0);
	T_CHECK(!(f->flags & FL_CONFLICT));
	T_CHECK(has(t, f, 100, 200));
	junk[150] ^= 1;				/* stream byte 250, held */
	T_EQ_INT(flow_stream_add(t, f, isn + 100, junk, 200), 0);
	T_CHECK(f->flags & FL_CONFLICT);
	T_EQ_INT(flow_stats(t)->overlap_conflict, 4);
	flow_table_free(t);
}

int
main(void)
{
	T_RUN(test_table_new);
	T_RUN(test_create_lookup);
	T_RUN(test_lookup_v6);
	T_RUN(test_lru_eviction);
	T_RUN(test_remove_and_foreach);
	T_RUN(test_hash_chains);
	T_RUN(test_expire);
	T_RUN(test_stream_order);
	T_RUN(test_stream_overlap);
	T_RUN(test_stream_islands);
	T_RUN(test_stream_islands_then_head);
	T_RUN(test_stream_buffer_end);
	T_RUN(test_stream_wrap);
	T_RUN(test_stream_consume);
	T_RUN(test_stream_pool_exhaustion);
	T_RUN(test_srv_stream);
	T_RUN(test_srv_stream_pool);
	T_RUN(test_conflict_frees_both);
	T_RUN(test_stream_random);
	T_RUN(test_stream_conflict);
	T_RUN(test_stream_cut);
	return T_DONE();
}
