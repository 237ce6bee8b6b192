/*
 * test_dnscache.c - put/get, expiry, refresh in place, oldest-first
 * overwriting, and a fixed footprint however many answers arrive.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/dnscache.h"
#include "t.h"

/* Address number i, v4-mapped (client side) or IPv6 (server side). */
static void
addr(uint8_t a[16], uint32_t i, int v6)
{
	memset(a, 0, 16);
	if (v6) {
		a[0] = 0x20;
		a[1] = 0x01;
		a[2] = 0x0d;
		a[3] = 0xb8;
	} else {
		a[10] = a[11] = 0xff;
	}
	a[12] = (uint8_t)(i >> 24);
	a[13] = (uint8_t)(i >> 16);
	a[14] = (uint8_t)(i >> 8);
	a[15] = (uint8_t)i;
}

static void
test_put_get(void)
{
	struct dnscache *c = dnscache_new(100, 1);
	uint8_t cl[16], sv[16], o[16];

	addr(cl, 1, 0);
	addr(sv, 2, 1);
	T_EQ_INT(dnscache_get(c, cl, sv, 1000), -1);
	dnscache_put(c, cl, sv, 5, 1000, 60);
	T_EQ_INT(dnscache_get(c, cl, sv, 1000), 5);
	T_EQ_INT(dnscache_get(c, cl, sv, 1059), 5);
	/* another client, another server, or the pair swapped: no match */
	addr(o, 3, 0);
	T_EQ_INT(dnscache_get(c, o, sv, 1000), -1);
	addr(o, 3, 1);
	T_EQ_INT(dnscache_get(c, cl, o, 1000), -1);
	T_EQ_INT(dnscache_get(c, sv, cl, 1000), -1);
	/* same client, second server of the same answer */
	dnscache_put(c, cl, o, 5, 1000, 60);
	T_EQ_INT(dnscache_get(c, cl, o, 1001), 5);
	T_EQ_INT(dnscache_get(c, cl, sv, 1001), 5);
	/* service index 0 is a service, not "none" */
	addr(o, 4, 1);
	dnscache_put(c, cl, o, 0, 1000, 60);
	T_EQ_INT(dnscache_get(c, cl, o, 1000), 0);
	dnscache_free(c);
	dnscache_free(NULL);
}

static void
test_expiry(void)
{
	struct dnscache *c = dnscache_new(16, 7);
	uint8_t cl[16], sv[16];

	addr(cl, 1, 0);
	addr(sv, 2, 0);
	dnscache_put(c, cl, sv, 3, 1000, 60);
	T_EQ_INT(dnscache_get(c, cl, sv, 1059), 3);
	T_EQ_INT(dnscache_get(c, cl, sv, 1060), -1);	/* ttl is exact */
	T_EQ_INT(dnscache_get(c, cl, sv, 5000), -1);
	/* a TTL of 0 still lives for the second it was seen in */
	dnscache_put(c, cl, sv, 4, 2000, 0);
	T_EQ_INT(dnscache_get(c, cl, sv, 2000), 4);
	T_EQ_INT(dnscache_get(c, cl, sv, 2001), -1);
	/* a timestamp before the put (out-of-order packets) still matches */
	dnscache_put(c, cl, sv, 6, 3000, 60);
	T_EQ_INT(dnscache_get(c, cl, sv, 2990), 6);
	/* the 32-bit clock wraps */
	dnscache_put(c, cl, sv, 8, 0xfffffff0u, 100);
	T_EQ_INT(dnscache_get(c, cl, sv, 0xfffffffeu), 8);
	T_EQ_INT(dnscache_get(c, cl, sv, 0x20), 8);
	T_EQ_INT(dnscache_get(c, cl, sv, 0x54), -1);
	/* expiry landing exactly on 0 (which means "empty") */
	dnscache_put(c, cl, sv, 9, 0xffffff00u, 0x100);
	T_EQ_INT(dnscache_get(c, cl, sv, 0xffffff00u), 9);
	dnscache_free(c);
}

static void
test_refresh_in_place(void)
{
	struct dnscache *c = dnscache_new(8, 3);	/* one probe window */
	uint8_t cl[16], sv[16];
	uint32_t i;
	int r, miss = 0;

	addr(cl, 1, 0);
	for (i = 0; i < 8; i++) {
		addr(sv, i, 1);
		dnscache_put(c, cl, sv, (int)i, 100, 1000);
	}
	for (i = 0; i < 8; i++) {
		addr(sv, i, 1);
		T_EQ_INT(dnscache_get(c, cl, sv, 100), (int)i);
	}
	/* refreshing one name many times must not take other slots */
	addr(sv, 3, 1);
	for (i = 0; i < 1000; i++)
		dnscache_put(c, cl, sv, 33, 100 + i, 1000);
	for (i = 0; i < 8; i++) {
		addr(sv, i, 1);
		r = dnscache_get(c, cl, sv, 1099);
		if (r != (i == 3 ? 33 : (int)i))
			miss++;
	}
	T_EQ_INT(miss, 0);
	/* the refresh extended the lifetime: the others expire first */
	addr(sv, 3, 1);
	T_EQ_INT(dnscache_get(c, cl, sv, 1500), 33);
	addr(sv, 2, 1);
	T_EQ_INT(dnscache_get(c, cl, sv, 1500), -1);
	dnscache_free(c);
}

static void
test_oldest_loses(void)
{
	struct dnscache *c = dnscache_new(8, 3);
	uint8_t cl[16], sv[16];
	uint32_t i;

	addr(cl, 9, 0);
	for (i = 0; i < 8; i++) {
		addr(sv, i, 1);
		dnscache_put(c, cl, sv, (int)i, 100, 100 + i);
	}
	/* full: the ninth answer overwrites the one expiring first */
	addr(sv, 8, 1);
	dnscache_put(c, cl, sv, 8, 101, 300);
	T_EQ_INT(dnscache_get(c, cl, sv, 101), 8);
	addr(sv, 0, 1);
	T_EQ_INT(dnscache_get(c, cl, sv, 101), -1);
	for (i = 1; i < 8; i++) {
		addr(sv, i, 1);
		T_EQ_INT(dnscache_get(c, cl, sv, 101), (int)i);
	}
	/* expired entries are reused before live ones are overwritten */
	for (i = 100; i < 107; i++) {
		addr(sv, i, 1);
		dnscache_put(c, cl, sv, (int)i, 250, 100);
	}
	addr(sv, 8, 1);
	T_EQ_INT(dnscache_get(c, cl, sv, 250), 8);	/* lives to 401 */
	for (i = 100; i < 107; i++) {
		addr(sv, i, 1);
		T_EQ_INT(dnscache_get(c, cl, sv, 250), (int)i);
	}
	dnscache_free(c);
}

static void
test_bounded(void)
{
	struct dnscache *c = dnscache_new(1000, 12345);
	size_t mem = dnscache_mem(c);
	uint8_t cl[16], sv[16];
	uint32_t i, n = 10 * 1000;
	int lost_now = 0, recent_missing = 0, alive = 0;

	T_CHECK(mem >= 1000 * 32);
	T_CHECK(mem < 1000 * 200);
	for (i = 0; i < n; i++) {
		addr(cl, i % 97, 0);
		addr(sv, i, 1);
		dnscache_put(c, cl, sv, (int)(i % 500), 1000 + i, 3600);
		if (dnscache_get(c, cl, sv, 1000 + i) != (int)(i % 500))
			lost_now++;
	}
	T_EQ_INT(lost_now, 0);
	T_EQ_INT(dnscache_mem(c), mem);
	/* the newest answers are all still there ... */
	for (i = n - 64; i < n; i++) {
		addr(cl, i % 97, 0);
		addr(sv, i, 1);
		if (dnscache_get(c, cl, sv, 1000 + n) != (int)(i % 500))
			recent_missing++;
	}
	T_EQ_INT(recent_missing, 0);
	/* ... and at most the table's size of them in all */
	for (i = 0; i < n; i++) {
		addr(cl, i % 97, 0);
		addr(sv, i, 1);
		if (dnscache_get(c, cl, sv, 1000 + n) >= 0)
			alive++;
	}
	T_CHECK(alive > 500);
	T_CHECK(alive <= 2 * 1000);
	dnscache_free(c);

	/* degenerate sizes still work */
	c = dnscache_new(0, 0);
	T_CHECK(c != NULL);
	addr(cl, 1, 0);
	addr(sv, 1, 1);
	dnscache_put(c, cl, sv, 1, 10, 10);
	T_EQ_INT(dnscache_get(c, cl, sv, 10), 1);
	for (i = 0; i < 1000; i++) {
		addr(sv, i, 1);
		dnscache_put(c, cl, sv, 2, 10, 10);
		T_EQ_INT(dnscache_get(c, cl, sv, 10), 2);
	}
	dnscache_free(c);
}

/* The seed keys the table: two caches place the same key differently,
 * but each finds its own entries. */
static void
test_seeds(void)
{
	struct dnscache *a = dnscache_new(256, 1), *b = dnscache_new(256, 2);
	uint8_t cl[16], sv[16];
	uint32_t i;
	int bad = 0;

	for (i = 0; i < 40; i++) {
		addr(cl, i, 0);
		addr(sv, i * 3, 1);
		dnscache_put(a, cl, sv, (int)i, 5, 50);
		dnscache_put(b, cl, sv, (int)i + 100, 5, 50);
	}
	for (i = 0; i < 40; i++) {
		addr(cl, i, 0);
		addr(sv, i * 3, 1);
		if (dnscache_get(a, cl, sv, 6) != (int)i ||
		    dnscache_get(b, cl, sv, 6) != (int)i + 100)
			bad++;
	}
	T_EQ_INT(bad, 0);
	dnscache_free(a);
	dnscache_free(b);
}

/*
 * The cache capture workers share: one thread stores answers while
 * another looks up the same keys (a worker following the connections).
 * A lookup finds nothing or the right service, never another's or a
 * torn entry; afterwards every answer is there (room for all of them);
 * the footprint is the private cache's plus the locks.
 */
#define SH_N	20000

struct sh_arg {
	struct dnscache	*c;
	uint32_t	 base;		/* which answers this thread stores */
	int		 wrong, found;
};

static void *
sh_writer(void *p)
{
	struct sh_arg *a = p;
	uint8_t cl[16], sv[16];
	uint32_t i;

	for (i = 0; i < SH_N; i++) {
		addr(cl, a->base + i, 0);
		addr(sv, (a->base + i) * 7, 1);
		dnscache_put(a->c, cl, sv, (int)((a->base + i) % 97), 100,
		    600);
	}
	return NULL;
}

static void *
sh_reader(void *p)
{
	struct sh_arg *a = p;
	uint8_t cl[16], sv[16];
	uint32_t i, round;
	int svc;

	for (round = 0; round < 3; round++)
		for (i = 0; i < SH_N; i++) {
			addr(cl, i, 0);
			addr(sv, i * 7, 1);
			svc = dnscache_get(a->c, cl, sv, 101);
			if (svc >= 0 && svc != (int)(i % 97))
				a->wrong++;
			else if (svc >= 0)
				a->found++;
		}
	return NULL;
}

static void
test_shared_threads(void)
{
	struct dnscache *c = dnscache_new_shared(4 * SH_N, 7);
	struct dnscache *priv = dnscache_new(4 * SH_N, 7);
	struct sh_arg w1 = { c, 0, 0, 0 }, w2 = { c, SH_N, 0, 0 };
	struct sh_arg r = { c, 0, 0, 0 };
	pthread_t t[3];
	uint8_t cl[16], sv[16];
	uint32_t i;
	int missing = 0;

	T_CHECK(c != NULL && priv != NULL);
	pthread_create(&t[0], NULL, sh_writer, &w1);
	pthread_create(&t[1], NULL, sh_writer, &w2);
	pthread_create(&t[2], NULL, sh_reader, &r);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	T_EQ_INT(r.wrong, 0);
	for (i = 0; i < 2 * SH_N; i++) {
		addr(cl, i, 0);
		addr(sv, i * 7, 1);
		if (dnscache_get(c, cl, sv, 101) != (int)(i % 97))
			missing++;
	}
	/* a full probe window may drop a few (oldest loses), as privately */
	T_CHECK(missing < 2 * SH_N / 1000);
	T_CHECK(dnscache_mem(c) > dnscache_mem(priv));
	T_CHECK(dnscache_mem(c) < dnscache_mem(priv) + 256 * 64);
	dnscache_free(c);
	dnscache_free(priv);
}

/*
 * Shared, answers reach the cache out of packet-time order: a hello at
 * t is attributed by an answer of t or before, never by a later one
 * (which one thread would not have seen yet); a refresh keeps the
 * earliest time and the latest expiry.  A private cache is unchanged.
 */
static void
test_shared_order(void)
{
	struct dnscache *c = dnscache_new_shared(1024, 3);
	struct dnscache *p = dnscache_new(1024, 3);
	uint8_t cl[16], sv[16];

	addr(cl, 1, 0);
	addr(sv, 2, 1);
	dnscache_put(c, cl, sv, 5, 1000, 60);
	dnscache_put(p, cl, sv, 5, 1000, 60);
	T_EQ_INT(dnscache_get(c, cl, sv, 999), -1);	/* before the answer */
	T_EQ_INT(dnscache_get(c, cl, sv, 1000), 5);
	T_EQ_INT(dnscache_get(p, cl, sv, 999), 5);	/* as it always was */
	/* an earlier answer read later: known since 990, live to 1060 */
	dnscache_put(c, cl, sv, 5, 990, 60);
	T_EQ_INT(dnscache_get(c, cl, sv, 995), 5);
	T_EQ_INT(dnscache_get(c, cl, sv, 1055), 5);
	T_EQ_INT(dnscache_get(c, cl, sv, 1060), -1);
	dnscache_free(c);
	dnscache_free(p);
}

int
main(void)
{
	T_RUN(test_put_get);
	T_RUN(test_expiry);
	T_RUN(test_refresh_in_place);
	T_RUN(test_oldest_loses);
	T_RUN(test_bounded);
	T_RUN(test_seeds);
	T_RUN(test_shared_threads);
	T_RUN(test_shared_order);
	return T_DONE();
}
