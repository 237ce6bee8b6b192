/*
 * dnscache.c - open addressing, bounded probe, oldest entry loses.
 */
#include <stdlib.h>
#include <string.h>

#include "detect/dnscache.h"

#define PROBE	8

struct entry {
	uint8_t		 client[16], server[16];
	uint32_t	 expire;	/* 0 = empty */
	int32_t		 svc;
};

struct dnscache {
	struct entry	*e;
	size_t		 mask;
	uint64_t	 seed;
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

void
dnscache_free(struct dnscache *c)
{
	if (c == NULL)
		return;
	free(c->e);
	free(c);
}

size_t
dnscache_mem(const struct dnscache *c)
{
	return sizeof(*c) + (c->mask + 1) * sizeof(struct entry);
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
	size_t i, h = hash32(c->seed, client, server);
	struct entry *victim = NULL;

	for (i = 0; i < PROBE; i++) {
		struct entry *e = &c->e[(h + i) & c->mask];

		if (live(e, now) && memcmp(e->client, client, 16) == 0 &&
		    memcmp(e->server, server, 16) == 0) {
			victim = e;	/* refresh in place */
			break;
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
	victim->expire = now + (ttl ? ttl : 1);
	if (victim->expire == 0)
		victim->expire = 1;
}

int
dnscache_get(const struct dnscache *c, const uint8_t client[16],
    const uint8_t server[16], uint32_t now)
{
	size_t i, h = hash32(c->seed, client, server);

	for (i = 0; i < PROBE; i++) {
		const struct entry *e = &c->e[(h + i) & c->mask];

		if (live(e, now) && memcmp(e->client, client, 16) == 0 &&
		    memcmp(e->server, server, 16) == 0)
			return e->svc;
	}
	return -1;
}
