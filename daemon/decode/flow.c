/*
 * flow.c - fixed-size flow table, LRU recycling, stream reassembly
 * (the client's stream, and the server's where a detector reads it).
 */
#include <stdlib.h>
#include <string.h>

#include "decode/flow.h"

struct range {
	uint32_t	 s, e;		/* [s, e) relative to stream base */
};

struct stream {
	uint32_t	 owner;		/* flow index, FLOW_NONE when free */
	uint32_t	 srv;		/* the owner's server stream */
	uint32_t	 older, newer;	/* in use: allocation order; free:
					 * newer links the free stack */
	uint32_t	 base;		/* sequence number of buf[keep] */
	uint64_t	 off;		/* stream offset of buf[0] */
	uint32_t	 keep;		/* buf[0..keep): bytes the detector
					 * kept while cutting framing out
					 * (flow_stream_cut); they are out of
					 * sequence space */
	uint32_t	 contig;	/* bytes in order from buf[0] */
	uint32_t	 nranges;	/* r[] in buffer positions */
	struct range	 r[STREAM_RANGES];
	uint8_t		 fstate[STREAM_FSTATE];
	uint8_t		 buf[STREAM_BUF];
};

/*
 * Entries and stream buffers never used yet are handed out in index
 * order (fresh, s_fresh) and are not touched before: the memory of a
 * large table costs nothing until the traffic needs it.  Freed ones go
 * on a free list and are reused first, the most recently freed (and so
 * most likely still cached) first.
 */
struct flow_table {
	struct flow	*flows;
	uint32_t	*buckets;
	size_t		 nflows, nbuckets;
	uint32_t	 free_head;		/* freed entries */
	uint32_t	 fresh;			/* first never-used entry */
	uint32_t	 lru_head, lru_tail;	/* head = most recent */
	struct stream	*streams;
	size_t		 nstreams;
	uint32_t	 s_free;		/* freed stream buffers */
	uint32_t	 s_fresh;		/* first never-used buffer */
	uint32_t	 s_old, s_new;		/* in use, oldest and newest */
	uint64_t	 k0, k1;
	struct flow_stats st;
};

static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ULL;
	return rotl(h, 29) ^ (h >> 32);
}

static uint64_t
addr_mix(uint64_t h, const uint8_t *a)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	return mix(mix(h, x), y);
}

/*
 * Keyed with random 128 bits per process, and symmetric, so both
 * directions of a flow land on the same chain.  Not a MAC: it only has
 * to keep an outsider from choosing colliding tuples.
 */
uint64_t
flow_hash(const struct flow_table *t, const struct pkt *p)
{
	uint64_t a = addr_mix(t->k0, p->src) + ((uint64_t)p->sport << 1);
	uint64_t b = addr_mix(t->k0, p->dst) + ((uint64_t)p->dport << 1);
	uint64_t h = mix(t->k1 ^ p->l4, a ^ b);

	return mix(h, a + b);
}

struct flow_table *
flow_table_new(size_t max_flows, size_t max_streams, uint64_t seed)
{
	struct flow_table *t;
	size_t i;

	if (max_flows < 16 || max_flows >= FLOW_NONE || max_streams < 1 ||
	    max_streams >= FLOW_NONE)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->nflows = max_flows;
	t->nbuckets = 1;
	while (t->nbuckets < max_flows)
		t->nbuckets <<= 1;
	t->flows = calloc(max_flows, sizeof(*t->flows));
	t->buckets = malloc(t->nbuckets * sizeof(*t->buckets));
	t->streams = calloc(max_streams, sizeof(*t->streams));
	if (!t->flows || !t->buckets || !t->streams) {
		flow_table_free(t);
		return NULL;
	}
	t->nstreams = max_streams;
	for (i = 0; i < t->nbuckets; i++)
		t->buckets[i] = FLOW_NONE;
	t->free_head = FLOW_NONE;
	t->fresh = 0;
	t->lru_head = t->lru_tail = FLOW_NONE;
	t->s_free = t->s_old = t->s_new = FLOW_NONE;
	t->s_fresh = 0;
	t->k0 = mix(seed, 0x736f6d6570736575ULL);
	t->k1 = mix(seed ^ 0x646f72616e646f6dULL, t->k0);
	return t;
}

void
flow_table_free(struct flow_table *t)
{
	if (t == NULL)
		return;
	free(t->flows);
	free(t->buckets);
	free(t->streams);
	free(t);
}

size_t
flow_table_mem(const struct flow_table *t)
{
	return sizeof(*t) + t->nflows * sizeof(struct flow) +
	    t->nbuckets * sizeof(uint32_t) +
	    t->nstreams * sizeof(struct stream);
}

const struct flow_stats *
flow_stats(const struct flow_table *t)
{
	return &t->st;
}

static inline uint32_t
idx_of(const struct flow_table *t, const struct flow *f)
{
	return (uint32_t)(f - t->flows);
}

static void
lru_unlink(struct flow_table *t, struct flow *f)
{
	if (f->lru_prev != FLOW_NONE)
		t->flows[f->lru_prev].lru_next = f->lru_next;
	else
		t->lru_head = f->lru_next;
	if (f->lru_next != FLOW_NONE)
		t->flows[f->lru_next].lru_prev = f->lru_prev;
	else
		t->lru_tail = f->lru_prev;
}

static void
lru_push(struct flow_table *t, struct flow *f)
{
	uint32_t i = idx_of(t, f);

	f->lru_prev = FLOW_NONE;
	f->lru_next = t->lru_head;
	if (t->lru_head != FLOW_NONE)
		t->flows[t->lru_head].lru_prev = i;
	t->lru_head = i;
	if (t->lru_tail == FLOW_NONE)
		t->lru_tail = i;
}

struct flow *
flow_lookup(struct flow_table *t, const struct pkt *p, uint64_t hash,
    int *from_client)
{
	uint32_t i = t->buckets[hash & (t->nbuckets - 1)];

	while (i != FLOW_NONE) {
		struct flow *f = &t->flows[i];

		if (f->hash == hash && f->l4 == p->l4) {
			if (f->cport == p->sport && f->sport == p->dport &&
			    memcmp(f->cli, p->src, 16) == 0 &&
			    memcmp(f->srv, p->dst, 16) == 0) {
				*from_client = 1;
				return f;
			}
			if (f->cport == p->dport && f->sport == p->sport &&
			    memcmp(f->cli, p->dst, 16) == 0 &&
			    memcmp(f->srv, p->src, 16) == 0) {
				*from_client = 0;
				return f;
			}
		}
		i = f->hnext;
	}
	return NULL;
}

void
flow_touch(struct flow_table *t, struct flow *f, uint32_t now)
{
	f->last_sec = now;
	if (t->lru_head == idx_of(t, f))
		return;
	lru_unlink(t, f);
	lru_push(t, f);
}

void
flow_remove(struct flow_table *t, struct flow *f)
{
	uint32_t i = idx_of(t, f);
	uint32_t *pp = &t->buckets[f->hash & (t->nbuckets - 1)];

	while (*pp != FLOW_NONE && *pp != i)
		pp = &t->flows[*pp].hnext;
	if (*pp == i)
		*pp = f->hnext;
	lru_unlink(t, f);
	flow_stream_close(t, f);
	flow_srv_stream_close(t, f);
	memset(f, 0, sizeof(*f));
	f->slot = f->sslot = FLOW_NONE;
	f->hnext = t->free_head;
	t->free_head = i;
	t->st.in_use--;
}

struct flow *
flow_create(struct flow_table *t, const struct pkt *p, uint64_t hash,
    uint32_t now)
{
	struct flow *f;
	uint32_t i, *b;

	if (t->free_head == FLOW_NONE && t->fresh < t->nflows) {
		i = t->fresh++;
		f = &t->flows[i];
	} else {
		if (t->free_head == FLOW_NONE) {
			flow_remove(t, &t->flows[t->lru_tail]);
			t->st.evicted++;
		}
		i = t->free_head;
		f = &t->flows[i];
		t->free_head = f->hnext;
	}
	memset(f, 0, sizeof(*f));
	memcpy(f->cli, p->src, 16);
	memcpy(f->srv, p->dst, 16);
	f->cport = p->sport;
	f->sport = p->dport;
	f->l4 = p->l4;
	f->vlan = (int16_t)p->vlan;
	f->dept = -1;
	f->svc = -1;
	f->slot = f->sslot = FLOW_NONE;
	f->hash = hash;
	f->last_sec = now;
	b = &t->buckets[hash & (t->nbuckets - 1)];
	f->hnext = *b;
	*b = i;
	lru_push(t, f);
	t->st.in_use++;
	t->st.created++;
	return f;
}

size_t
flow_expire(struct flow_table *t, uint32_t now, uint32_t idle_sec,
    size_t max_scan)
{
	size_t n = 0;

	while (t->lru_tail != FLOW_NONE && max_scan-- > 0) {
		struct flow *f = &t->flows[t->lru_tail];

		if (now - f->last_sec <= idle_sec || (int32_t)(now - f->last_sec) < 0)
			break;
		flow_remove(t, f);
		t->st.expired++;
		n++;
	}
	return n;
}

/* --- streams -------------------------------------------------------- */

static struct stream *
stream_of(const struct flow_table *t, const struct flow *f)
{
	if (f->slot == FLOW_NONE)
		return NULL;
	return &t->streams[f->slot];
}

/* Take stream i out of the in-use list. */
static void
stream_unlink(struct flow_table *t, uint32_t i)
{
	struct stream *s = &t->streams[i];

	if (s->older != FLOW_NONE)
		t->streams[s->older].newer = s->newer;
	else
		t->s_old = s->newer;
	if (s->newer != FLOW_NONE)
		t->streams[s->newer].older = s->older;
	else
		t->s_new = s->older;
}

/*
 * A stream buffer for f's client (srv 0) or server (srv 1) side: a freed
 * one, else one never used, else the oldest in use.  A flow that loses
 * its client stream stops being detected; one that loses its server
 * stream only stops reading the server (a stream is never picked up
 * again in the middle, where its framing is unknown).
 */
static uint32_t
stream_take(struct flow_table *t, struct flow *f, uint32_t base_seq,
    int srv)
{
	struct stream *s;
	uint32_t i;

	if (t->s_free != FLOW_NONE) {
		i = t->s_free;
		t->s_free = t->streams[i].newer;
	} else if (t->s_fresh < t->nstreams) {
		i = t->s_fresh++;
	} else {
		struct flow *victim;

		i = t->s_old;
		victim = &t->flows[t->streams[i].owner];
		stream_unlink(t, i);
		if (t->streams[i].srv) {
			victim->sslot = FLOW_NONE;
			victim->sflags |= FS_SRV_DONE;
		} else {
			victim->slot = FLOW_NONE;
			victim->flags |= FL_DONE;
		}
		t->st.streams_in_use--;
		t->st.stream_evicted++;
	}
	s = &t->streams[i];
	s->older = t->s_new;
	s->newer = FLOW_NONE;
	if (t->s_new != FLOW_NONE)
		t->streams[t->s_new].newer = i;
	else
		t->s_old = i;
	t->s_new = i;
	s->owner = idx_of(t, f);
	s->srv = (uint32_t)srv;
	s->base = base_seq;
	s->off = 0;
	s->keep = 0;
	s->contig = 0;
	s->nranges = 0;
	memset(s->fstate, 0, sizeof(s->fstate));
	t->st.streams_in_use++;
	return i;
}

int
flow_stream_open(struct flow_table *t, struct flow *f, uint32_t base_seq)
{
	flow_stream_close(t, f);
	f->slot = stream_take(t, f, base_seq, 0);
	return 0;
}

void
flow_stream_close(struct flow_table *t, struct flow *f)
{
	struct stream *s = stream_of(t, f);

	if (s == NULL)
		return;
	stream_unlink(t, f->slot);
	s->owner = FLOW_NONE;
	s->newer = t->s_free;
	t->s_free = f->slot;
	f->slot = FLOW_NONE;
	t->st.streams_in_use--;
}

/*
 * The server's stream is kept by the client-stream code itself: for the
 * length of one call the flow's slot names its server stream, so both
 * directions follow one set of insertion, overlap and bound rules.
 */
static void
swap_slots(struct flow *f)
{
	uint32_t x = f->slot;

	f->slot = f->sslot;
	f->sslot = x;
}

int
flow_srv_stream_open(struct flow_table *t, struct flow *f, uint32_t base_seq)
{
	flow_srv_stream_close(t, f);
	f->sslot = stream_take(t, f, base_seq, 1);
	return 0;
}

int
flow_srv_stream_add(struct flow_table *t, struct flow *f, uint32_t seq,
    const uint8_t *p, size_t len)
{
	int grew;

	swap_slots(f);
	grew = flow_stream_add(t, f, seq, p, len);
	swap_slots(f);
	return grew;
}

/* Readers of a const flow look through a copy naming the server stream. */
const uint8_t *
flow_srv_stream_data(const struct flow_table *t, const struct flow *f,
    size_t *len, uint64_t *off)
{
	struct flow v = { .slot = f->sslot, .sslot = f->slot };

	return flow_stream_data(t, &v, len, off);
}

void *
flow_srv_stream_fstate(struct flow_table *t, struct flow *f)
{
	void *fs;

	swap_slots(f);
	fs = flow_stream_fstate(t, f);
	swap_slots(f);
	return fs;
}

void
flow_srv_stream_consume(struct flow_table *t, struct flow *f, size_t n)
{
	swap_slots(f);
	flow_stream_consume(t, f, n);
	swap_slots(f);
}

void
flow_srv_stream_close(struct flow_table *t, struct flow *f)
{
	swap_slots(f);
	flow_stream_close(t, f);
	swap_slots(f);
}

/* Insert [a, b) into the sorted, disjoint range list; merge neighbours. */
static int
range_add(struct stream *s, uint32_t a, uint32_t b)
{
	uint32_t i, j, n = s->nranges;

	for (i = 0; i < n && s->r[i].e < a; i++)
		;
	/* i: first range that ends at or after a */
	j = i;
	while (j < n && s->r[j].s <= b) {
		if (s->r[j].s < a)
			a = s->r[j].s;
		if (s->r[j].e > b)
			b = s->r[j].e;
		j++;
	}
	if (j == i) {			/* no overlap: insert at i */
		if (n == STREAM_RANGES) {
			/*
			 * Full: keep the islands nearest the start, which
			 * are the ones that can become contiguous soonest.
			 */
			if (i == n)
				return -1;
			n = --s->nranges;
		}
		memmove(&s->r[i + 1], &s->r[i], (n - i) * sizeof(s->r[0]));
		s->nranges++;
	} else if (j > i + 1) {		/* swallowed several */
		memmove(&s->r[i + 1], &s->r[j], (n - j) * sizeof(s->r[0]));
		s->nranges -= j - i - 1;
	}
	s->r[i].s = a;
	s->r[i].e = b;
	return 0;
}

/*
 * Do the held bytes that [a, b) overlaps differ from p?  Only the
 * ranges say what is held (an island dropped by range_add() is not),
 * and a segment that overlaps nothing - the in-order case - costs one
 * pass over at most STREAM_RANGES ranges.
 */
static int
overlap_differs(const struct stream *s, uint32_t a, uint32_t b,
    const uint8_t *p)
{
	uint32_t i, lo, hi;

	for (i = 0; i < s->nranges && s->r[i].s < b; i++) {
		if (s->r[i].e <= a)
			continue;
		lo = s->r[i].s > a ? s->r[i].s : a;
		hi = s->r[i].e < b ? s->r[i].e : b;
		if (memcmp(s->buf + lo, p + (lo - a), hi - lo) != 0)
			return 1;
	}
	return 0;
}

int
flow_stream_add(struct flow_table *t, struct flow *f, uint32_t seq,
    const uint8_t *p, size_t len)
{
	struct stream *s = stream_of(t, f);
	int32_t rel;
	uint32_t a, b, before;

	if (s == NULL || len == 0)
		return 0;
	rel = (int32_t)(seq - s->base);
	if (rel < 0) {			/* starts before what we keep */
		if ((size_t)-(int64_t)rel >= len)
			return 0;
		p += -(int64_t)rel;
		len -= (size_t)-(int64_t)rel;
		rel = 0;
	}
	if ((uint32_t)rel >= STREAM_BUF - s->keep) {
		t->st.stream_overflow++;
		return 0;
	}
	a = s->keep + (uint32_t)rel;
	b = a + (uint32_t)len;
	if (b > STREAM_BUF) {
		b = STREAM_BUF;
		t->st.stream_overflow++;
	}
	if (overlap_differs(s, a, b, p)) {
		/*
		 * The flow counts nothing more, from either side: both its
		 * streams go back to the pool now (the other one is the
		 * server's, or the client's while a server stream is added).
		 */
		flow_stream_close(t, f);
		flow_srv_stream_close(t, f);
		f->flags = (uint8_t)((f->flags & ~FL_CLAIMED) | FL_DONE |
		    FL_CONFLICT);
		t->st.overlap_conflict++;
		return 0;
	}
	if (range_add(s, a, b) < 0) {
		t->st.stream_gaps_dropped++;
		return 0;
	}
	memcpy(s->buf + a, p, b - a);
	before = s->contig;
	if (s->nranges > 0 && s->r[0].s == 0)
		s->contig = s->r[0].e;
	return s->contig > before;
}

const uint8_t *
flow_stream_data(const struct flow_table *t, const struct flow *f,
    size_t *len, uint64_t *off)
{
	const struct stream *s = stream_of(t, f);

	if (s == NULL) {
		*len = 0;
		return NULL;
	}
	*len = s->contig;
	if (off)
		*off = s->off;
	return s->buf;
}

int
flow_stream_empty_head(const struct flow_table *t, const struct flow *f)
{
	const struct stream *s = stream_of(t, f);

	return s == NULL || s->contig == 0;
}

void *
flow_stream_fstate(struct flow_table *t, struct flow *f)
{
	struct stream *s = stream_of(t, f);

	return s ? s->fstate : NULL;
}

void
flow_stream_consume(struct flow_table *t, struct flow *f, size_t n)
{
	struct stream *s = stream_of(t, f);
	uint32_t i, k = 0, hi;

	if (s == NULL || n == 0)
		return;
	if (n > s->contig)
		n = s->contig;
	if (n == 0)
		return;
	/* only what is held moves, not the whole buffer */
	hi = s->r[s->nranges - 1].e;
	memmove(s->buf, s->buf + n, hi - n);
	if (n <= s->keep) {
		s->keep -= (uint32_t)n;
	} else {
		s->base += (uint32_t)n - s->keep;
		s->keep = 0;
	}
	s->off += n;
	s->contig -= (uint32_t)n;
	for (i = 0; i < s->nranges; i++) {
		if (s->r[i].e <= n)
			continue;
		s->r[k].s = s->r[i].s > n ? s->r[i].s - (uint32_t)n : 0;
		s->r[k].e = s->r[i].e - (uint32_t)n;
		k++;
	}
	s->nranges = k;
}

int
flow_stream_cut(struct flow_table *t, struct flow *f, size_t at, size_t n)
{
	struct stream *s = stream_of(t, f);
	uint32_t i, hi;

	if (s == NULL || at < s->keep || at > s->contig ||
	    n > s->contig - at)
		return -1;
	if (n == 0)
		return 0;
	hi = s->r[s->nranges - 1].e;
	memmove(s->buf + at, s->buf + at + n, hi - at - n);
	/* [keep, at) and the n cut bytes leave sequence space */
	s->base += (uint32_t)(at - s->keep + n);
	s->keep = (uint32_t)at;
	s->contig -= (uint32_t)n;
	/* r[0] is [0, contig + n); every other range lies beyond it */
	s->r[0].e -= (uint32_t)n;
	for (i = 1; i < s->nranges; i++) {
		s->r[i].s -= (uint32_t)n;
		s->r[i].e -= (uint32_t)n;
	}
	return 0;
}

void
flow_foreach(struct flow_table *t, void (*fn)(void *, struct flow *),
    void *arg)
{
	uint32_t i = t->lru_head, next;

	while (i != FLOW_NONE) {
		next = t->flows[i].lru_next;
		fn(arg, &t->flows[i]);
		i = next;
	}
}
