/*
 * dnscache.c - open addressing, bounded probe, oldest entry loses.
 *
 * Shared by capture workers (dnscache_new_shared): the table is cut into
 * stripes of whole probe windows, each behind its own mutex, so a
 * lookup locks one stripe and workers rarely meet.  A private cache
 * takes no lock at all.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "detect/dnscache.h"

#define PROBE	8
#define STRIPES_MAX	256

struct entry {
	uint8_t		 client[16], server[16];
	uint32_t	 expire;	/* 0 = empty */
	uint32_t	 first_ms;	/* shared: earliest answer, ms (wraps) */
	int32_t		 svc;
};

struct dnscache {
	struct entry	*e;
	size_t		 mask;
	uint64_t	 seed;
	/* shared: stripe s holds entries [s << sshift, (s + 1) << sshift) */
	pthread_mutex_t	*mu;		/* NULL: private, no lock */
	size_t		 nstripes;
	unsigned	 sshift;
};

static uint64_t
hash32(uint64_t seed, const uint8_t *a, const uint8_t *b)
{
	uint64_t h = seed, w;
	int i;

	for (i = 0; i < 16; i += 8) {
		memcpy(&w, a + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 31;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 29;
	}
	return h;
}

struct dnscache *
dnscache_new(size_t entries, uint64_t seed)
{
	struct dnscache *c;
	size_t n = PROBE;

	while (n < entries)
		n <<= 1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->e = calloc(n, sizeof(*c->e))) == NULL) {
		free(c);
		return NULL;
	}
	c->mask = n - 1;
	c->seed = seed | 1;
	return c;
}

/*
 * The same table (same size: the bound is the configuration's), with
 * up to STRIPES_MAX locks.  A probe window stays inside one stripe: the
 * window wraps within its stripe instead of running into the next.
 */
struct dnscache *
dnscache_new_shared(size_t entries, uint64_t seed)
{
	struct dnscache *c;
	size_t i, n;

	if ((c = dnscache_new(entries, seed)) == NULL)
		return NULL;
	n = c->mask + 1;
	c->nstripes = 1;
	while (c->nstripes < STRIPES_MAX && n / (c->nstripes * 2) >= PROBE)
		c->nstripes <<= 1;
	for (c->sshift = 0; ((size_t)1 << c->sshift) < n / c->nstripes;
	    c->sshift++)
		;
	if ((c->mu = calloc(c->nstripes, sizeof(*c->mu))) == NULL) {
		dnscache_free(c);
		return NULL;
	}
	for (i = 0; i < c->nstripes; i++)
		pthread_mutex_init(&c->mu[i], NULL);
	return c;
}

void
dnscache_free(struct dnscache *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->mu != NULL)
		for (i = 0; i < c->nstripes; i++)
			pthread_mutex_destroy(&c->mu[i]);
	free(c->mu);
	free(c->e);
	free(c);
}

/*
 * Slot i of the probe window of hash h, and the lock of that window.
 * Private: the window runs on over the table as it always did.
 */
static size_t
slot(const struct dnscache *c, size_t h, size_t i)
{
	size_t base, span;

	if (c->mu == NULL)
		return (h + i) & c->mask;
	span = (size_t)1 << c->sshift;
	base = h & c->mask & ~(span - 1);
	return base | ((h + i) & (span - 1));
}

static pthread_mutex_t *
stripe_lock(const struct dnscache *c, size_t h)
{
	pthread_mutex_t *m;

	if (c->mu == NULL)
		return NULL;
	m = &c->mu[(h & c->mask) >> c->sshift];
	pthread_mutex_lock(m);
	return m;
}

static void
stripe_unlock(pthread_mutex_t *m)
{
	if (m != NULL)
		pthread_mutex_unlock(m);
}

size_t
dnscache_mem(const struct dnscache *c)
{
	return sizeof(*c) + (c->mask + 1) * sizeof(struct entry) +
	    c->nstripes * sizeof(pthread_mutex_t);
}

static int
live(const struct entry *e, uint32_t now)
{
	return e->expire != 0 && (int32_t)(e->expire - now) > 0;
}

void
dnscache_put(struct dnscache *c, const uint8_t client[16],
    const uint8_t server[16], int svc, uint32_t now, uint32_t ttl)
{
	dnscache_put_at(c, client, server, svc, (uint64_t)now * 1000000, ttl);
}

void
dnscache_put_at(struct dnscache *c, const uint8_t client[16],
    const uint8_t server[16], int svc, uint64_t ts_usec, uint32_t ttl)
{
	uint32_t now = (uint32_t)(ts_usec / 1000000);
	uint32_t ms = (uint32_t)(ts_usec / 1000);
	size_t i, h = hash32(c->seed, client, server);
	struct entry *victim = NULL;
	pthread_mutex_t *m = stripe_lock(c, h);

	for (i = 0; i < PROBE; i++) {
		struct entry *e = &c->e[slot(c, h, i)];

		if (live(e, now) && memcmp(e->client, client, 16) == 0 &&
		    memcmp(e->server, server, 16) == 0) {
			uint32_t exp = now + (ttl ? ttl : 1);

			/*
			 * Refresh in place.  Shared, answers come in from
			 * workers out of packet-time order: the entry keeps
			 * the earliest answer's time and the latest expiry.
			 */
			e->svc = svc;
			if (c->mu == NULL || (int32_t)(exp - e->expire) > 0)
				e->expire = exp != 0 ? exp : 1;
			if ((int32_t)(ms - e->first_ms) < 0)
				e->first_ms = ms;
			stripe_unlock(m);
			return;
		}
		if (!live(e, now)) {
			if (victim == NULL || live(victim, now))
				victim = e;
		} else if (victim == NULL || (live(victim, now) &&
		    (int32_t)(e->expire - victim->expire) < 0)) {
			victim = e;
		}
	}
	memcpy(victim->client, client, 16);
	memcpy(victim->server, server, 16);
	victim->svc = svc;
	victim->first_ms = ms;
	victim->expire = now + (ttl ? ttl : 1);
	if (victim->expire == 0)
		victim->expire = 1;
	stripe_unlock(m);
}

int
dnscache_get(const struct dnscache *c, const uint8_t client[16],
    const uint8_t server[16], uint32_t now)
{
	return dnscache_get_at(c, client, server, (uint64_t)now * 1000000);
}

int
dnscache_get_at(const struct dnscache *c, const uint8_t client[16],
    const uint8_t server[16], uint64_t ts_usec)
{
	uint32_t now = (uint32_t)(ts_usec / 1000000);
	uint32_t ms = (uint32_t)(ts_usec / 1000);
	size_t i, h = hash32(c->seed, client, server);
	pthread_mutex_t *m = stripe_lock(c, h);
	int svc = -1;

	for (i = 0; i < PROBE; i++) {
		const struct entry *e = &c->e[slot(c, h, i)];

		if (live(e, now) && memcmp(e->client, client, 16) == 0 &&
		    memcmp(e->server, server, 16) == 0) {
			/*
			 * Shared: a worker may ask after another stored a
			 * later answer; one thread would not have had it yet.
			 */
			if (c->mu == NULL || (int32_t)(ms - e->first_ms) >= 0)
				svc = e->svc;
			break;
		}
	}
	stripe_unlock(m);
	return svc;
}
