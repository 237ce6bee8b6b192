/*
 * test_dept.c - longest-prefix match and the prefix parser.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/dept.h"
#include "t.h"

static int
add(struct dept_map *m, const char *s, int v)
{
	uint8_t a[16];
	unsigned plen;
	int af;

	if (dept_parse_prefix(s, &af, a, &plen) != DEPT_PREFIX_OK)
		return -100;
	return dept_map_add(m, af, a, plen, v);
}

static int
look(const struct dept_map *m, const char *s)
{
	uint8_t a[16];
	int af = strchr(s, ':') ? AF_INET6 : AF_INET;

	memset(a, 0, sizeof(a));
	if (inet_pton(af, s, a) != 1)
		return -100;
	return dept_map_lookup(m, af, a);
}

static void
test_longest_wins(void)
{
	struct dept_map *m = dept_map_new();

	T_CHECK(m != NULL);
	T_EQ_INT(add(m, "10.0.0.0/8", 1), 0);
	T_EQ_INT(add(m, "10.1.2.0/24", 3), 0);	/* out of order on purpose */
	T_EQ_INT(add(m, "10.1.0.0/16", 2), 0);
	T_EQ_INT(look(m, "10.9.9.9"), 1);
	T_EQ_INT(look(m, "10.1.9.9"), 2);
	T_EQ_INT(look(m, "10.1.2.200"), 3);
	T_EQ_INT(look(m, "10.1.3.0"), 2);
	T_EQ_INT(look(m, "11.0.0.0"), -1);
	T_EQ_INT(look(m, "9.255.255.255"), -1);
	T_EQ_INT(dept_map_count(m), 3);
	/* Odd lengths exercise the expansion inside one node. */
	T_EQ_INT(add(m, "10.1.2.128/25", 4), 0);
	T_EQ_INT(add(m, "10.1.2.192/27", 5), 0);
	T_EQ_INT(look(m, "10.1.2.127"), 3);
	T_EQ_INT(look(m, "10.1.2.128"), 4);
	T_EQ_INT(look(m, "10.1.2.191"), 4);
	T_EQ_INT(look(m, "10.1.2.192"), 5);
	T_EQ_INT(look(m, "10.1.2.223"), 5);
	T_EQ_INT(look(m, "10.1.2.224"), 4);
	dept_map_free(m);
}

static void
test_default_and_hosts(void)
{
	struct dept_map *m = dept_map_new();

	T_EQ_INT(look(m, "1.2.3.4"), -1);
	T_EQ_INT(look(m, "::1"), -1);
	T_EQ_INT(add(m, "0.0.0.0/0", 7), 0);
	T_EQ_INT(look(m, "1.2.3.4"), 7);
	T_EQ_INT(look(m, "255.255.255.255"), 7);
	T_EQ_INT(look(m, "::1"), -1);		/* families independent */
	T_EQ_INT(add(m, "::/0", 8), 0);
	T_EQ_INT(look(m, "2001:db8::1"), 8);
	T_EQ_INT(add(m, "192.0.2.1", 9), 0);	/* bare = /32 */
	T_EQ_INT(add(m, "192.0.2.2/32", 10), 0);
	T_EQ_INT(look(m, "192.0.2.1"), 9);
	T_EQ_INT(look(m, "192.0.2.2"), 10);
	T_EQ_INT(look(m, "192.0.2.3"), 7);
	T_EQ_INT(add(m, "2001:db8::1", 11), 0);	/* bare = /128 */
	T_EQ_INT(add(m, "2001:db8::ffff/128", 12), 0);
	T_EQ_INT(look(m, "2001:db8::1"), 11);
	T_EQ_INT(look(m, "2001:db8::ffff"), 12);
	T_EQ_INT(look(m, "2001:db8::fffe"), 8);
	T_EQ_INT(look(m, "2001:db8::"), 8);
	dept_map_free(m);
}

static void
test_families_independent(void)
{
	struct dept_map *m = dept_map_new();
	uint8_t a[16];

	/* The same leading bytes in both families must not collide. */
	T_EQ_INT(add(m, "10.0.0.0/8", 1), 0);
	T_EQ_INT(add(m, "a00::/8", 2), 0);
	T_EQ_INT(look(m, "10.1.1.1"), 1);
	T_EQ_INT(look(m, "a01::1"), 2);
	T_EQ_INT(look(m, "b00::1"), -1);
	T_EQ_INT(add(m, "2001:db8:1::/48", 3), 0);
	T_EQ_INT(add(m, "2001:db8:1:2::/64", 4), 0);
	T_EQ_INT(look(m, "2001:db8:1:3::5"), 3);
	T_EQ_INT(look(m, "2001:db8:1:2:ffff:ffff:ffff:ffff"), 4);
	T_EQ_INT(look(m, "2001:db8:2::"), -1);
	memset(a, 10, sizeof(a));
	T_EQ_INT(dept_map_lookup(m, AF_UNIX, a), -1);
	T_EQ_INT(dept_map_lookup(NULL, AF_INET, a), -1);
	T_EQ_INT(dept_map_lookup(m, AF_INET, NULL), -1);
	dept_map_free(m);
}

static void
test_duplicates_and_bad_args(void)
{
	struct dept_map *m = dept_map_new();
	uint8_t a[16] = { 10 };

	T_EQ_INT(add(m, "10.0.0.0/8", 1), 0);
	T_EQ_INT(add(m, "10.0.0.0/8", 1), 0);	/* same value: fine */
	T_EQ_INT(add(m, "10.0.0.0/8", 2), -1);
	T_EQ_INT(add(m, "10.0.0.0/9", 2), 0);	/* different length */
	T_EQ_INT(add(m, "0.0.0.0/0", 3), 0);
	T_EQ_INT(add(m, "0.0.0.0/0", 4), -1);
	/* Duplicate of a prefix fully shadowed by longer ones. */
	T_EQ_INT(add(m, "10.128.0.0/9", 5), 0);
	T_EQ_INT(add(m, "10.0.0.0/8", 6), -1);
	T_EQ_INT(dept_map_count(m), 4);
	T_EQ_INT(dept_map_exact(m, AF_INET, a, 8), 1);
	T_EQ_INT(dept_map_exact(m, AF_INET, a, 9), 2);
	T_EQ_INT(dept_map_exact(m, AF_INET, a, 10), -1);
	T_EQ_INT(dept_map_exact(m, AF_INET, a, 0), 3);
	T_EQ_INT(dept_map_exact(m, AF_INET, a, 33), -1);
	T_EQ_INT(dept_map_exact(m, AF_INET6, a, 8), -1);
	T_EQ_INT(dept_map_add(m, AF_INET, a, 33, 1), -1);
	T_EQ_INT(dept_map_add(m, AF_INET6, a, 129, 1), -1);
	T_EQ_INT(dept_map_add(m, AF_UNIX, a, 8, 1), -1);
	T_EQ_INT(dept_map_add(m, AF_INET, a, 8, -1), -1);
	T_EQ_INT(dept_map_add(NULL, AF_INET, a, 8, 1), -1);
	/* Host bits beyond plen are ignored by add. */
	a[1] = 0x7f;
	T_EQ_INT(dept_map_add(m, AF_INET, a, 8, 1), 0);
	T_EQ_INT(dept_map_count(m), 4);
	dept_map_free(m);
	dept_map_free(NULL);
}

static void
test_parse_valid(void)
{
	uint8_t a[16], want[16];
	unsigned plen;
	int af;

	T_EQ_INT(dept_parse_prefix("10.1.0.0/16", &af, a, &plen), 0);
	T_EQ_INT(af, AF_INET);
	T_EQ_INT(plen, 16);
	T_CHECK(a[0] == 10 && a[1] == 1 && a[2] == 0 && a[3] == 0);
	T_EQ_INT(dept_parse_prefix("2001:db8::/32", &af, a, &plen), 0);
	T_EQ_INT(af, AF_INET6);
	T_EQ_INT(plen, 32);
	inet_pton(AF_INET6, "2001:db8::", want);
	T_CHECK(memcmp(a, want, 16) == 0);
	T_EQ_INT(dept_parse_prefix("192.0.2.7", &af, a, &plen), 0);
	T_EQ_INT(plen, 32);
	T_EQ_INT(dept_parse_prefix("::1", &af, a, &plen), 0);
	T_EQ_INT(plen, 128);
	T_EQ_INT(dept_parse_prefix("0.0.0.0/0", &af, a, &plen), 0);
	T_EQ_INT(plen, 0);
	T_EQ_INT(dept_parse_prefix("::/0", &af, a, &plen), 0);
	T_EQ_INT(dept_parse_prefix("::ffff:10.0.0.0/104", &af, a, &plen), 0);
	T_EQ_INT(af, AF_INET6);
	T_EQ_INT(dept_parse_prefix("10.0.0.0/008", &af, a, &plen), 0);
	T_EQ_INT(plen, 8);
}

static void
test_parse_hostbits(void)
{
	char buf[DEPT_PREFIX_STRLEN];
	uint8_t a[16];
	unsigned plen;
	int af;

	T_EQ_INT(dept_parse_prefix("10.1.2.3/16", &af, a, &plen),
	    DEPT_PREFIX_HOSTBITS);
	T_EQ_STR(dept_format_prefix(af, a, plen, buf, sizeof(buf)),
	    "10.1.0.0/16");
	T_EQ_INT(dept_parse_prefix("2001:db8::1/32", &af, a, &plen),
	    DEPT_PREFIX_HOSTBITS);
	T_EQ_STR(dept_format_prefix(af, a, plen, buf, sizeof(buf)),
	    "2001:db8::/32");
	T_EQ_INT(dept_parse_prefix("10.0.0.1/0", &af, a, &plen),
	    DEPT_PREFIX_HOSTBITS);
	T_EQ_INT(dept_parse_prefix("10.0.0.128/25", &af, a, &plen), 0);
	T_EQ_INT(dept_parse_prefix("10.0.0.64/25", &af, a, &plen),
	    DEPT_PREFIX_HOSTBITS);
}

static void
test_parse_malformed(void)
{
	static const char *const bad_syntax[] = {
		"", "/8", "10.0.0/8", "10.0.0.256", " 10.0.0.0/8",
		"10.0.0.0 /8", "10.0.0.0.0", "x", "fe80::1%eth0",
		"2001:db8:::/32", "10.0.0.0:8", "1::2::3",
		"0123456789012345678901234567890123456789012345678901234/8",
	};
	static const char *const bad_len[] = {
		"10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/8/8", "10.0.0.0/8 ", "10.0.0.0/0x8", "::/129",
		"::/1000", "10.0.0.0/0008", "10.0.0.0/a",
	};
	char buf[DEPT_PREFIX_STRLEN];
	uint8_t a[16];
	unsigned plen;
	size_t i;
	int af;

	for (i = 0; i < sizeof(bad_syntax) / sizeof(bad_syntax[0]); i++)
		T_EQ_INT(dept_parse_prefix(bad_syntax[i], &af, a, &plen),
		    DEPT_PREFIX_SYNTAX);
	for (i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++)
		T_EQ_INT(dept_parse_prefix(bad_len[i], &af, a, &plen),
		    DEPT_PREFIX_LEN);
	T_EQ_INT(dept_parse_prefix(NULL, &af, a, &plen), DEPT_PREFIX_SYNTAX);
	T_EQ_STR(dept_format_prefix(AF_UNIX, a, 8, buf, sizeof(buf)), "?");
	T_EQ_STR(dept_format_prefix(AF_INET, a, 8, buf, 4), "?");
}

/* Every truncation of a valid prefix is either a valid shorter one or
 * rejected; none may read past its end (ASan watches the copy). */
static void
test_parse_truncated(void)
{
	static const char *const full[] = {
		"10.1.2.0/24", "2001:db8:aa:bb::/64", "::ffff:1.2.3.4/128",
	};
	uint8_t a[16];
	unsigned plen;
	size_t i, n;
	int af, rc;

	for (i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
		size_t len = strlen(full[i]);

		for (n = 0; n < len; n++) {
			char *s = malloc(n + 1);

			memcpy(s, full[i], n);
			s[n] = '\0';
			rc = dept_parse_prefix(s, &af, a, &plen);
			T_CHECK(rc == DEPT_PREFIX_OK ||
			    rc == DEPT_PREFIX_SYNTAX ||
			    rc == DEPT_PREFIX_LEN ||
			    rc == DEPT_PREFIX_HOSTBITS);
			free(s);
		}
	}
	/* Specific truncations with a known outcome. */
	T_EQ_INT(dept_parse_prefix("10.1.2.0/2", &af, a, &plen),
	    DEPT_PREFIX_HOSTBITS);
	T_EQ_INT(dept_parse_prefix("10.1.2.0/", &af, a, &plen),
	    DEPT_PREFIX_LEN);
	T_EQ_INT(dept_parse_prefix("10.1.2.0", &af, a, &plen), 0);
	T_EQ_INT(dept_parse_prefix("10.1.2.", &af, a, &plen),
	    DEPT_PREFIX_SYNTAX);
}

/* ---- random comparison against a linear reference ---- */

struct ref {
	int	af;
	uint8_t	addr[16];
	unsigned plen;
	int	value;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
match(const struct ref *r, int af, const uint8_t *addr)
{
	unsigned full = r->plen / 8, rem = r->plen % 8;

	if (r->af != af || memcmp(r->addr, addr, full) != 0)
		return 0;
	return rem == 0 ||
	    ((r->addr[full] ^ addr[full]) & (0xff00u >> rem) & 0xff) == 0;
}

static int
linear(const struct ref *refs, size_t n, int af, const uint8_t *addr)
{
	int best = -1, bestlen = -1;
	size_t i;

	for (i = 0; i < n; i++)
		if (match(&refs[i], af, addr) && (int)refs[i].plen > bestlen) {
			best = refs[i].value;
			bestlen = (int)refs[i].plen;
		}
	return best;
}

static void
random_addr(uint8_t *a)
{
	uint64_t x = next(), y = next();

	memcpy(a, &x, 8);
	memcpy(a + 8, &y, 8);
}

static void
test_random_vs_linear(void)
{
	enum { NPREFIX = 1000, NLOOKUP = 100000 };
	struct ref *refs = calloc(NPREFIX, sizeof(*refs));
	struct dept_map *m = dept_map_new();
	size_t n = 0, i, j, mismatches = 0, hits = 0;

	while (n < NPREFIX) {
		struct ref r;
		int dup = -1, rc;

		memset(&r, 0, sizeof(r));
		r.af = next() & 1 ? AF_INET6 : AF_INET;
		random_addr(r.addr);
		/* Cluster IPv6 under a few /16s so prefixes nest. */
		if (r.af == AF_INET6)
			r.addr[0] = 0x20, r.addr[1] = (uint8_t)(next() & 3);
		else
			memset(r.addr + 4, 0, 12);
		r.plen = (unsigned)(next() % (r.af == AF_INET ? 33 : 129));
		r.value = (int)(next() % 50);
		dept_prefix_mask(r.af, r.addr, r.plen);
		for (j = 0; j < n; j++)
			if (refs[j].af == r.af && refs[j].plen == r.plen &&
			    memcmp(refs[j].addr, r.addr, 16) == 0)
				dup = refs[j].value;
		rc = dept_map_add(m, r.af, r.addr, r.plen, r.value);
		if (dup >= 0) {
			T_EQ_INT(rc, dup == r.value ? 0 : -1);
			continue;
		}
		T_EQ_INT(rc, 0);
		refs[n++] = r;
	}
	T_EQ_INT(dept_map_count(m), NPREFIX);
	for (i = 0; i < NLOOKUP; i++) {
		uint8_t a[16];
		int af = i & 1 ? AF_INET6 : AF_INET, want, got;

		random_addr(a);
		/* Half the addresses fall inside a configured prefix with
		 * random host bits, so deep matches are exercised too. */
		if (i & 2) {
			const struct ref *r = &refs[next() % n];
			unsigned k;

			af = r->af;
			for (k = 0; k < 16; k++) {
				uint8_t keep = k * 8 >= r->plen ? 0 :
				    r->plen >= (k + 1) * 8 ? 0xff :
				    (uint8_t)(0xff00u >> (r->plen - k * 8));

				a[k] = (uint8_t)((r->addr[k] & keep) |
				    (a[k] & ~keep));
			}
		} else if (af == AF_INET6) {
			a[0] = 0x20;
			a[1] = (uint8_t)(next() & 3);
		}
		want = linear(refs, n, af, a);
		got = dept_map_lookup(m, af, a);
		if (want != got)
			mismatches++;
		if (want >= 0)
			hits++;
	}
	T_EQ_INT(mismatches, 0);
	T_CHECK(hits > NLOOKUP / 2);	/* the test really exercises matches */
	for (i = 0; i < n; i++)
		T_EQ_INT(dept_map_exact(m, refs[i].af, refs[i].addr,
		    refs[i].plen), refs[i].value);
	dept_map_free(m);
	free(refs);
}

/* Lookup cost must not grow with the number of prefixes. */
static void
test_cost_flat(void)
{
	static const size_t sizes[] = { 10, 1000, 100000 };
	double ns[3];
	size_t s, i;
	volatile int sink = 0;

	for (s = 0; s < 3; s++) {
		struct dept_map *m = dept_map_new();
		struct timespec t0, t1;
		uint8_t a[16] = { 0 };

		for (i = 0; i < sizes[s]; i++) {
			uint32_t v = (uint32_t)(10u << 24 | (i << 8));

			a[0] = (uint8_t)(v >> 24), a[1] = (uint8_t)(v >> 16);
			a[2] = (uint8_t)(v >> 8), a[3] = 0;
			T_CHECK(dept_map_add(m, AF_INET, a, 24, (int)i % 97)
			    == 0);
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < 200000; i++) {
			uint32_t v = (uint32_t)(10u << 24) |
			    (uint32_t)(next() & 0xffffff);

			a[0] = (uint8_t)(v >> 24), a[1] = (uint8_t)(v >> 16);
			a[2] = (uint8_t)(v >> 8), a[3] = (uint8_t)v;
			sink += dept_map_lookup(m, AF_INET, a);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns[s] = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		    (double)(t1.tv_nsec - t0.tv_nsec)) / 200000;
		dept_map_free(m);
	}
	fprintf(stderr, "lookup ns: %zu prefixes %.1f, %zu %.1f, %zu %.1f\n",
	    sizes[0], ns[0], sizes[1], ns[1], sizes[2], ns[2]);
	/* Generous: caches differ, but a linear scan would be ~10^4 x. */
	T_CHECK(ns[2] < ns[0] * 20 + 200);
	(void)sink;
}

int
main(void)
{
	T_RUN(test_longest_wins);
	T_RUN(test_default_and_hosts);
	T_RUN(test_families_independent);
	T_RUN(test_duplicates_and_bad_args);
	T_RUN(test_parse_valid);
	T_RUN(test_parse_hostbits);
	T_RUN(test_parse_malformed);
	T_RUN(test_parse_truncated);
	T_RUN(test_random_vs_linear);
	T_RUN(test_cost_flat);
	return T_DONE();
}
