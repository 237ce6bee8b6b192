/*
 * test_sketch.c - SipHash-2-4 vectors and the distinct-count sketch:
 * exactness, accuracy, merge, serialisation and hostile blobs.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/siphash.h"
#include "aggregate/sketch.h"
#include "t.h"

/*
 * SipHash-2-4 reference vectors (paper appendix / reference code):
 * key 00..0f, message 00 01 .. (len-1), len 0..63, as 64-bit values.
 * Entries 0, 1 and 15 are the ones the paper prints; all 64 were also
 * checked against OpenSSL 3's EVP_MAC "SIPHASH" with size 8.
 */
static const uint64_t sip_vec[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
	0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
	0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
	0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
	0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
	0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
	0x958a324ceb064572ULL,
};

static uint64_t rng_state;

/* splitmix64: deterministic, so a failure reproduces. */
static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
rnd_key(uint8_t key[16])
{
	uint64_t a = rnd(), b = rnd();

	memcpy(key, &a, 8);
	memcpy(key + 8, &b, 8);
}

/* Hash of "device" i under key, the way the daemon makes hashes. */
static uint64_t
dev(const uint8_t key[16], uint64_t i)
{
	uint8_t addr[16] = { 0 };

	memcpy(addr + 8, &i, 8);
	return siphash24(key, addr, sizeof(addr));
}

/* Add devices lo..hi-1; returns how many adds failed. */
static int
fill(struct sketch *s, const uint8_t key[16], uint64_t lo, uint64_t hi)
{
	int bad = 0;

	for (uint64_t i = lo; i < hi; i++)
		bad += sketch_add(s, dev(key, i)) != 0;
	return bad;
}

/* Serialise into a fresh heap buffer of exactly the right size. */
static uint8_t *
ser(const struct sketch *s, size_t *len)
{
	size_t n = sketch_serialized_size(s);
	uint8_t *buf = malloc(n);

	*len = buf ? sketch_serialize(s, buf, n) : 0;
	return buf;
}

static int
same_bytes(const struct sketch *a, const struct sketch *b)
{
	size_t la, lb;
	uint8_t *pa = ser(a, &la), *pb = ser(b, &lb);
	int eq = la != 0 && la == lb && memcmp(pa, pb, la) == 0;

	free(pa);
	free(pb);
	return eq;
}

/* ---- SipHash ------------------------------------------------------ */

static void
test_siphash_vectors(void)
{
	uint8_t key[16], msg[64];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (int len = 0; len < 64; len++)
		T_CHECK(siphash24(key, msg, (size_t)len) == sip_vec[len]);
}

static void
test_siphash_unaligned(void)
{
	uint8_t key[16], buf[80];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	/* Same bytes at every misalignment give the same hash. */
	for (int off = 0; off < 8; off++) {
		for (int i = 0; i < 64; i++)
			buf[off + i] = (uint8_t)i;
		T_CHECK(siphash24(key, buf + off, 63) == sip_vec[63]);
		T_CHECK(siphash24(key, buf + off, 17) == sip_vec[17]);
	}
	/* Another key gives an unrelated value. */
	key[0] ^= 1;
	T_CHECK(siphash24(key, buf, 0) != sip_vec[0]);
}

/* ---- exactness ---------------------------------------------------- */

static void
test_empty(void)
{
	struct sketch s;

	sketch_init(&s);
	T_EQ_INT(sketch_estimate(&s), 0);
	T_EQ_INT(sketch_mem(&s), 0);
	T_CHECK(!sketch_is_dense(&s));
	sketch_reset(&s);
	sketch_reset(&s);	/* reset twice is harmless */
	T_EQ_INT(sketch_estimate(&s), 0);
}

static void
test_exact_small(void)
{
	uint64_t pool[50];
	int wrong = 0;

	rng_state = 1;
	for (int trial = 0; trial < 3000; trial++) {
		struct sketch s;
		int n = trial % 50, adds = 0;

		sketch_init(&s);
		for (int i = 0; i < n; i++)
			pool[i] = rnd();
		/* Extremes of the hash range must count like any other. */
		if (n > 0 && trial % 7 == 0)
			pool[0] = 0;
		if (n > 1 && trial % 11 == 0)
			pool[1] = UINT64_MAX;
		/* Every distinct value once, then random repeats. */
		for (int i = 0; i < n; i++)
			adds += sketch_add(&s, pool[i]) != 0;
		for (int i = 0; n > 0 && i < 2 * n; i++)
			adds += sketch_add(&s, pool[rnd() % (uint64_t)n]) != 0;
		wrong += adds != 0 || sketch_estimate(&s) != (uint64_t)n ||
		    sketch_is_dense(&s);
		sketch_reset(&s);
	}
	T_EQ_INT(wrong, 0);
}

static void
test_sparse_limit(void)
{
	struct sketch s;
	uint8_t key[16];
	int wrong = 0;

	rng_state = 2;
	rnd_key(key);
	sketch_init(&s);
	/* Exact all the way up to the sparse limit. */
	for (uint64_t n = 1; n <= SKETCH_SPARSE_MAX; n++) {
		wrong += fill(&s, key, n - 1, n);
		wrong += sketch_estimate(&s) != n;
	}
	T_EQ_INT(wrong, 0);
	T_CHECK(!sketch_is_dense(&s));
	T_EQ_INT(sketch_mem(&s), SKETCH_SPARSE_MAX * 8);
	/* Re-adding known devices keeps it sparse. */
	T_EQ_INT(fill(&s, key, 0, 100), 0);
	T_CHECK(!sketch_is_dense(&s));
	/* One more device turns it dense, still about right. */
	T_EQ_INT(fill(&s, key, SKETCH_SPARSE_MAX, SKETCH_SPARSE_MAX + 1), 0);
	T_CHECK(sketch_is_dense(&s));
	T_EQ_INT(sketch_mem(&s), SKETCH_REGS);
	T_CHECK(fabs((double)sketch_estimate(&s) / (SKETCH_SPARSE_MAX + 1) -
	    1) < 0.02);
	sketch_reset(&s);
}

static void
test_order_independent(void)
{
	static uint64_t v[3000];
	struct sketch a, b;

	rng_state = 3;
	for (size_t i = 0; i < 3000; i++)
		v[i] = rnd();
	/* Sparse and dense: forward and backward give the same state. */
	for (size_t n = 40; n <= 3000; n += 2960) {
		sketch_init(&a);
		sketch_init(&b);
		for (size_t i = 0; i < n; i++) {
			T_EQ_INT(sketch_add(&a, v[i]), 0);
			T_EQ_INT(sketch_add(&b, v[n - 1 - i]), 0);
		}
		T_CHECK(same_bytes(&a, &b));
		sketch_reset(&a);
		sketch_reset(&b);
	}
}

/* ---- accuracy ----------------------------------------------------- */

static const uint64_t acc_n[] = {
	1000, 2000, 5000, 10000, 20000, 50000, 100000, 1000000,
};
#define ACC_N	(sizeof(acc_n) / sizeof(acc_n[0]))
#define ACC_KEYS	6

/*
 * One stream per key, checked at every target n on the way; only the
 * first key runs on to 1,000,000 so the test stays fast.
 */
static void
test_accuracy(void)
{
	double worst[ACC_N] = { 0 };
	int over = 0;

	rng_state = 4;
	for (int k = 0; k < ACC_KEYS; k++) {
		uint64_t top = k == 0 ? 1000000 : 100000, done = 0;
		struct sketch s;
		uint8_t key[16];

		rnd_key(key);
		sketch_init(&s);
		for (size_t c = 0; c < ACC_N && acc_n[c] <= top; c++) {
			double err;

			T_EQ_INT(fill(&s, key, done, acc_n[c]), 0);
			done = acc_n[c];
			err = fabs((double)sketch_estimate(&s) / done - 1);
			if (err > worst[c])
				worst[c] = err;
			if (err > 0.02) {
				over++;
				fprintf(stderr, "key %d n=%llu error %.3f%%\n",
				    k, (unsigned long long)done, 100 * err);
			}
		}
		sketch_reset(&s);
	}
	for (size_t c = 0; c < ACC_N; c++)
		fprintf(stderr, "  n=%-8llu worst error %.3f%%\n",
		    (unsigned long long)acc_n[c], 100 * worst[c]);
	T_EQ_INT(over, 0);
}

/* Between the exact range and the 2 % targets: still close. */
static void
test_accuracy_middle(void)
{
	double worst = 0;

	rng_state = 5;
	for (int k = 0; k < 4; k++) {
		struct sketch s;
		uint8_t key[16];
		uint64_t done = 0;

		rnd_key(key);
		sketch_init(&s);
		for (uint64_t n = 50; n <= 1500; n += 25) {
			double err;

			T_EQ_INT(fill(&s, key, done, n), 0);
			done = n;
			err = fabs((double)sketch_estimate(&s) / n - 1);
			if (err > worst)
				worst = err;
			if (n <= SKETCH_SPARSE_MAX)
				T_EQ_INT(sketch_estimate(&s), n);
		}
		sketch_reset(&s);
	}
	fprintf(stderr, "  n=50..1500 worst error %.3f%%\n", 100 * worst);
	T_CHECK(worst < 0.025);
}

/* ---- merge -------------------------------------------------------- */

struct mcase {
	uint64_t a_lo, a_hi, b_lo, b_hi;
	const char *what;
};

static void
test_merge(void)
{
	static const struct mcase cases[] = {
		{ 0, 0, 0, 0, "empty+empty" },
		{ 0, 30, 0, 0, "sparse+empty" },
		{ 0, 30, 20, 45, "sparse+sparse" },
		{ 0, 30, 0, 30, "sparse+same" },
		{ 0, 700, 400, 1024, "sparse+sparse, union at limit" },
		{ 0, 700, 400, 1100, "sparse+sparse, union dense" },
		{ 0, 100, 50, 5000, "sparse+dense" },
		{ 0, 3000, 2000, 2030, "dense+sparse" },
		{ 0, 3000, 1500, 60000, "dense+dense" },
	};
	uint8_t key[16];

	rng_state = 6;
	rnd_key(key);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mcase *c = &cases[i];
		struct sketch a, b, ab, ba, u;
		uint64_t lo = c->a_lo < c->b_lo ? c->a_lo : c->b_lo;
		uint64_t hi = c->a_hi > c->b_hi ? c->a_hi : c->b_hi;
		int ok;

		sketch_init(&a);
		sketch_init(&b);
		sketch_init(&ab);
		sketch_init(&ba);
		sketch_init(&u);
		T_EQ_INT(fill(&a, key, c->a_lo, c->a_hi), 0);
		T_EQ_INT(fill(&b, key, c->b_lo, c->b_hi), 0);
		T_EQ_INT(fill(&u, key, lo, c->b_hi > c->b_lo ? hi : c->a_hi),
		    0);
		T_EQ_INT(sketch_merge(&ab, &a), 0);
		T_EQ_INT(sketch_merge(&ab, &b), 0);
		T_EQ_INT(sketch_merge(&ba, &b), 0);
		T_EQ_INT(sketch_merge(&ba, &a), 0);
		ok = same_bytes(&ab, &u) && same_bytes(&ba, &u);
		if (!ok)
			fprintf(stderr, "merge case %s differs\n", c->what);
		T_CHECK(ok);
		T_EQ_INT(sketch_estimate(&ab), sketch_estimate(&u));
		/* Merging a sketch into itself changes nothing. */
		T_EQ_INT(sketch_merge(&ab, &ab), 0);
		T_CHECK(same_bytes(&ab, &u));
		sketch_reset(&a);
		sketch_reset(&b);
		sketch_reset(&ab);
		sketch_reset(&ba);
		sketch_reset(&u);
	}
}

static void
test_merge_exact_counts(void)
{
	struct sketch a, b;
	uint8_t key[16];

	rng_state = 7;
	rnd_key(key);
	sketch_init(&a);
	sketch_init(&b);
	T_EQ_INT(fill(&a, key, 0, 30), 0);
	T_EQ_INT(fill(&b, key, 10, 49), 0);
	T_EQ_INT(sketch_merge(&a, &b), 0);
	T_EQ_INT(sketch_estimate(&a), 49);
	sketch_reset(&a);
	sketch_reset(&b);
}

static void
test_merge_serialized(void)
{
	struct sketch a, b, u;
	uint8_t key[16], *buf;
	size_t len;

	rng_state = 8;
	rnd_key(key);
	sketch_init(&a);
	sketch_init(&b);
	sketch_init(&u);
	T_EQ_INT(fill(&a, key, 0, 800), 0);
	T_EQ_INT(fill(&b, key, 500, 4000), 0);
	T_EQ_INT(fill(&u, key, 0, 4000), 0);
	buf = ser(&b, &len);
	T_CHECK(len > 0);
	T_EQ_INT(sketch_merge_serialized(&a, buf, len), 0);
	T_CHECK(same_bytes(&a, &u));
	/* A bad blob leaves the destination as it was. */
	T_EQ_INT(sketch_merge_serialized(&a, buf, len - 1), -1);
	T_CHECK(same_bytes(&a, &u));
	free(buf);
	sketch_reset(&a);
	sketch_reset(&b);
	sketch_reset(&u);
}

/* ---- serialisation ------------------------------------------------ */

static const uint64_t rt_n[] = {
	0, 1, 5, 50, 200, 1000, SKETCH_SPARSE_MAX, SKETCH_SPARSE_MAX + 1,
	5000, 20000, 100000,
};
#define RT_N	(sizeof(rt_n) / sizeof(rt_n[0]))

static void
test_roundtrip(void)
{
	uint8_t key[16];

	rng_state = 9;
	rnd_key(key);
	for (size_t i = 0; i < RT_N; i++) {
		struct sketch s, t;
		size_t size, len;
		uint8_t *buf;

		sketch_init(&s);
		sketch_init(&t);
		T_EQ_INT(fill(&s, key, 0, rt_n[i]), 0);
		size = sketch_serialized_size(&s);
		T_CHECK(size <= SKETCH_SERIALIZED_MAX);
		buf = malloc(size + 1);
		T_EQ_INT(sketch_serialize(&s, buf, size - 1), 0);
		len = sketch_serialize(&s, buf, size + 1);
		T_EQ_INT(len, size);
		T_EQ_INT(sketch_deserialize(&t, buf, len), 0);
		T_EQ_INT(sketch_estimate(&t), sketch_estimate(&s));
		T_EQ_INT(sketch_is_dense(&t), sketch_is_dense(&s));
		T_CHECK(same_bytes(&s, &t));
		/* Sparse: at most 8 bytes a hash plus a 5-byte header. */
		if (!sketch_is_dense(&s))
			T_CHECK(len <= 5 + 8 * rt_n[i]);
		if (rt_n[i] == 5 || rt_n[i] == 50 || rt_n[i] == 1000 ||
		    rt_n[i] == 100000)
			fprintf(stderr, "  n=%-6llu %zu bytes (%s)\n",
			    (unsigned long long)rt_n[i], len,
			    sketch_is_dense(&s) ? "dense" : "sparse");
		/* A deserialised sketch keeps working. */
		T_EQ_INT(sketch_add(&t, 12345), 0);
		free(buf);
		sketch_reset(&s);
		sketch_reset(&t);
	}
}

/* Sketches whose encodings cover every mode and branch. */
static void
corpus(uint8_t **blob, size_t *len, int *count)
{
	static const uint64_t n[] = { 0, 1, 3, 50, 300, 1500, 100000 };
	uint8_t key[16];
	struct sketch s;

	rng_state = 10;
	rnd_key(key);
	*count = 0;
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		sketch_init(&s);
		fill(&s, key, 0, n[i]);
		blob[*count] = ser(&s, &len[*count]);
		(*count)++;
		sketch_reset(&s);
	}
	/* Clustered hashes: tiny gaps, small Rice parameter. */
	sketch_init(&s);
	for (uint64_t h = 0; h < 40; h++)
		sketch_add(&s, h * 3);
	blob[*count] = ser(&s, &len[*count]);
	(*count)++;
	sketch_reset(&s);
}

#define CORPUS_MAX	16

static void
test_truncated(void)
{
	uint8_t *blob[CORPUS_MAX];
	size_t len[CORPUS_MAX];
	int count, wrong = 0, modes[3] = { 0 };

	corpus(blob, len, &count);
	for (int i = 0; i < count; i++) {
		struct sketch s;

		T_CHECK(len[i] > 2);
		modes[blob[i][1] % 3]++;
		sketch_init(&s);
		sketch_add(&s, 77);
		for (size_t l = 0; l < len[i]; l++) {
			/* Copy so ASan catches any read past the prefix. */
			uint8_t *p = malloc(l ? l : 1);

			memcpy(p, blob[i], l);
			wrong += sketch_deserialize(&s, p, l) != -1;
			if (l < 64 || l % 64 == 0)
				wrong += sketch_merge_serialized(&s, p, l) != -1;
			free(p);
		}
		/* Failures left the sketch alone. */
		T_EQ_INT(sketch_estimate(&s), 1);
		T_EQ_INT(sketch_deserialize(&s, blob[i], len[i]), 0);
		sketch_reset(&s);
		free(blob[i]);
	}
	T_EQ_INT(wrong, 0);
	/* The corpus did exercise sparse, packed and run-length. */
	T_CHECK(modes[0] > 0 && modes[1] > 0 && modes[2] > 0);
}

static int
bad_blob(const uint8_t *p, size_t len)
{
	struct sketch s;
	int rc;

	sketch_init(&s);
	rc = sketch_deserialize(&s, p, len);
	sketch_reset(&s);
	return rc == -1;
}

/* MSB-first bit writer for hand-made blobs. */
struct bits {
	uint8_t	 buf[64];
	size_t	 n;		/* bits written */
};

static void
put(struct bits *b, uint64_t v, int nbits)
{
	while (nbits-- > 0) {
		if ((v >> nbits) & 1)
			b->buf[b->n / 8] |= (uint8_t)(0x80 >> (b->n % 8));
		b->n++;
	}
}

static size_t
put_done(const struct bits *b)
{
	return (b->n + 7) / 8;
}

/* Sparse blob of two hashes, Rice k=63: first, then gap (diff - 1). */
static size_t
two_hashes(struct bits *b, uint64_t first, uint64_t gap)
{
	memset(b, 0, sizeof(*b));
	put(b, 1, 8);		/* version */
	put(b, 0, 8);		/* sparse */
	put(b, 2, 8);		/* count */
	put(b, 63, 8);		/* k */
	put(b, first >> 63 ? 2 : 0, first >> 63 ? 2 : 1);
	put(b, first, 63);
	put(b, gap >> 63 ? 2 : 0, gap >> 63 ? 2 : 1);
	put(b, gap, 63);
	return put_done(b);
}

static void
test_malformed(void)
{
	uint8_t b[SKETCH_SERIALIZED_MAX + 8];
	struct bits bb;
	struct sketch s;
	size_t n;

	/* Hand-made sparse blob, k=0: hashes 0 and 1 are bits "0" "0". */
	sketch_init(&s);
	T_EQ_INT(sketch_deserialize(&s, (const uint8_t[]){ 1, 0, 2, 0, 0 },
	    5), 0);
	T_EQ_INT(sketch_estimate(&s), 2);
	sketch_reset(&s);
	T_CHECK(bad_blob((const uint8_t[]){ 1, 0, 2, 0, 0x01 }, 5)); /* pad */
	T_CHECK(bad_blob((const uint8_t[]){ 1, 0, 2, 0, 0, 0 }, 6)); /* tail */
	/* k=0, first 1 ("10"), then a unary run that never ends. */
	T_CHECK(bad_blob((const uint8_t[]){ 1, 0, 2, 0, 0xbf, 0xff }, 6));

	/* Empty sketch and its variants. */
	T_CHECK(!bad_blob((const uint8_t[]){ 1, 0, 0 }, 3));
	T_CHECK(bad_blob((const uint8_t[]){ 2, 0, 0 }, 3));	/* version */
	T_CHECK(bad_blob((const uint8_t[]){ 0, 0, 0 }, 3));
	T_CHECK(bad_blob((const uint8_t[]){ 1, 3, 0 }, 3));	/* mode */
	T_CHECK(bad_blob((const uint8_t[]){ 1, 255, 0 }, 3));
	T_CHECK(bad_blob((const uint8_t[]){ 1, 0, 0, 0 }, 4));	/* trailing */
	T_CHECK(bad_blob((const uint8_t[]){ 1 }, 1));
	T_CHECK(bad_blob(NULL, 0));

	/* Sparse count above the limit (1025 = 0x81 0x08). */
	memset(b, 0, sizeof(b));
	b[0] = 1; b[1] = 0; b[2] = 0x81; b[3] = 0x08; b[4] = 63;
	T_CHECK(bad_blob(b, 5 + 1025 * 8));
	/* Overlong count varint. */
	memcpy(b, (const uint8_t[]){ 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0x7f }, 12);
	T_CHECK(bad_blob(b, 12));
	/* Rice parameter out of range. */
	T_CHECK(bad_blob((const uint8_t[]){ 1, 0, 1, 64, 0, 0, 0, 0, 0, 0,
	    0, 0, 0 }, 13));
	/* Rice quotient too big for 64 bits (k=63, q=2). */
	n = two_hashes(&bb, 0, 0);
	T_CHECK(!bad_blob(bb.buf, n));
	memset(&bb, 0, sizeof(bb));
	put(&bb, 0x0100013f, 32);	/* v1, sparse, count 1, k 63 */
	put(&bb, 6, 3);			/* q = 2 */
	put(&bb, 0, 63);
	T_CHECK(bad_blob(bb.buf, put_done(&bb)));

	/*
	 * Coded values are the hashes' top 40 bits: from 2^39 + 1 the
	 * largest gap is 2^39 - 3 (reaching 2^40 - 1); one more needs a
	 * 41st bit, which no stored hash has.
	 */
	n = two_hashes(&bb, (1ULL << 39) + 1, (1ULL << 39) - 3);
	sketch_init(&s);
	T_EQ_INT(sketch_deserialize(&s, bb.buf, n), 0);
	T_EQ_INT(sketch_estimate(&s), 2);
	sketch_reset(&s);
	n = two_hashes(&bb, (1ULL << 39) + 1, (1ULL << 39) - 2);
	T_CHECK(bad_blob(bb.buf, n));
	n = two_hashes(&bb, UINT64_MAX, 0);
	T_CHECK(bad_blob(bb.buf, n));
	/* Duplicates cannot be encoded: gaps are "difference minus one". */

	/* Packed registers: all zero is valid, 52 is not. */
	memset(b, 0, sizeof(b));
	b[0] = 1; b[1] = 1;
	T_CHECK(!bad_blob(b, 2 + SKETCH_REGS * 6 / 8));
	T_CHECK(bad_blob(b, 2 + SKETCH_REGS * 6 / 8 + 1));
	b[2 + 600] = 51 << 2;			/* register 800 = 51 */
	T_CHECK(!bad_blob(b, 2 + SKETCH_REGS * 6 / 8));
	b[2 + 600] = 52 << 2;
	T_CHECK(bad_blob(b, 2 + SKETCH_REGS * 6 / 8));
	b[2 + 600] = 0;
	b[2 + SKETCH_REGS * 6 / 8 - 1] = 63;	/* last register = 63 */
	T_CHECK(bad_blob(b, 2 + SKETCH_REGS * 6 / 8));

	/* Run-length: one run of 16384 zeros (0x80 0x80 0x01). */
	T_CHECK(!bad_blob((const uint8_t[]){ 1, 2, 0, 0x80, 0x80, 0x01 }, 6));
	/* Run too long by one. */
	T_CHECK(bad_blob((const uint8_t[]){ 1, 2, 0, 0x81, 0x80, 0x01 }, 6));
	/* Run of zero length. */
	T_CHECK(bad_blob((const uint8_t[]){ 1, 2, 0, 0, 0, 0x80, 0x80,
	    0x01 }, 8));
	/* Register value 52, then 51 followed by the rest as zeros. */
	T_CHECK(bad_blob((const uint8_t[]){ 1, 2, 52, 0, 0xff, 0x7f }, 6));
	T_CHECK(!bad_blob((const uint8_t[]){ 1, 2, 51, 0, 0xff, 0x7f }, 6));
	/* Too few registers, trailing bytes. */
	T_CHECK(bad_blob((const uint8_t[]){ 1, 2, 51, 0, 0xfe, 0x7f }, 6));
	T_CHECK(bad_blob((const uint8_t[]){ 1, 2, 51, 0, 0xff, 0x7f, 0 },
	    7));
	/* Huge run length. */
	T_CHECK(bad_blob((const uint8_t[]){ 1, 2, 0, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 13));
}

/* Every accepted blob must yield a usable sketch. */
static int
try_blob(const uint8_t *p, size_t len, int *accepted)
{
	struct sketch s, d;
	size_t n;
	uint8_t *out;
	int ok = 1;

	sketch_init(&s);
	sketch_init(&d);
	if (sketch_deserialize(&s, p, len) == 0) {
		(*accepted)++;
		(void)sketch_estimate(&s);
		out = ser(&s, &n);
		ok = n > 0 && n <= SKETCH_SERIALIZED_MAX;
		free(out);
		ok &= sketch_add(&s, 42) == 0;
		ok &= sketch_merge(&d, &s) == 0;
	}
	ok &= sketch_merge_serialized(&d, p, len) == 0 ||
	    sketch_estimate(&d) == 0;
	sketch_reset(&s);
	sketch_reset(&d);
	return ok;
}

static void
test_garbage(void)
{
	uint8_t *blob[CORPUS_MAX];
	size_t len[CORPUS_MAX];
	int count, bad = 0, accepted = 0;

	rng_state = 11;
	/* Random blobs; most start with a valid header to get further. */
	for (int i = 0; i < 10000; i++) {
		size_t n = rnd() % 300;
		uint8_t *p = malloc(n ? n : 1);

		for (size_t j = 0; j < n; j++)
			p[j] = (uint8_t)rnd();
		if (n > 0 && i % 4 != 0)
			p[0] = 1;
		if (n > 1 && i % 4 != 0)
			p[1] = (uint8_t)(rnd() % 3);
		bad += !try_blob(p, n, &accepted);
		free(p);
	}
	fprintf(stderr, "  random blobs accepted: %d\n", accepted);
	accepted = 0;
	/* Mutations of valid blobs. */
	corpus(blob, len, &count);
	for (int i = 0; i < count; i++) {
		int reps = len[i] > 4096 ? 150 : 1000;

		for (int r = 0; r < reps; r++) {
			uint8_t *p = malloc(len[i]);
			size_t n = len[i];

			memcpy(p, blob[i], n);
			for (int f = 1 + (int)(rnd() % 3); f > 0; f--)
				p[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
			if (rnd() % 4 == 0)
				n -= rnd() % n;
			bad += !try_blob(p, n, &accepted);
			free(p);
		}
		free(blob[i]);
	}
	fprintf(stderr, "  mutated blobs accepted: %d\n", accepted);
	T_EQ_INT(bad, 0);
}

/* ---- cell key ---- */

static const uint8_t ck_key[16] = { 'c', 'e', 'l', 'l', '-', 'k', 'e', 'y' };

struct ck_calls {
	unsigned	 rk, dense;
	int		 bad_token;	/* a token wider than 40 bits */
	const uint8_t	*regs;
	size_t		 n;
};

static uint64_t
ck_rk(void *arg, uint64_t token)
{
	struct ck_calls *c = arg;
	uint8_t b[8];
	int i;

	c->rk++;
	if (token >> (64 - SKETCH_DROP_BITS))
		c->bad_token = 1;
	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(token >> (8 * i));
	return siphash24(ck_key, b, sizeof(b));
}

static uint64_t
ck_dense(void *arg, const uint8_t *regs, size_t n)
{
	struct ck_calls *c = arg;

	c->dense++;
	c->regs = regs;
	c->n = n;
	return siphash24(ck_key, regs, n) | 1;	/* never 0 */
}

static uint64_t
cell_key(const struct sketch *s, struct ck_calls *c)
{
	memset(c, 0, sizeof(*c));
	return sketch_cell_key(s, ck_rk, ck_dense, c);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_cell_key_empty(void)
{
	struct ck_calls c;
	struct sketch s;

	sketch_init(&s);
	T_EQ_INT(cell_key(&s, &c), 0);
	T_EQ_INT(c.rk, 0);
	T_EQ_INT(c.dense, 0);
	sketch_reset(&s);
}

/* Sparse: the sum of rk over the distinct 40-bit tokens, whatever the order. */
static void
test_cell_key_sparse(void)
{
	enum { N = 300 };
	uint64_t h[N], tok[N + 2], want = 0;
	struct ck_calls c;
	struct sketch s, a, b, r;
	size_t i, nt = 0, distinct;

	rng_state = 7;
	for (i = 0; i < N; i++)
		h[i] = rnd();
	/* a second hash of device 0 that differs below the kept 40 bits */
	h[N - 1] = h[0] ^ 0x00ffffffULL;
	for (i = 0; i < N; i++)
		tok[nt++] = h[i] >> SKETCH_DROP_BITS;
	qsort(tok, nt, sizeof(tok[0]), cmp_u64);
	for (i = 0, distinct = 0; i < nt; i++) {
		if (i > 0 && tok[i] == tok[i - 1])
			continue;
		distinct++;
		want += ck_rk(&c, tok[i]);
	}
	T_EQ_INT(distinct, N - 1);

	sketch_init(&s);
	sketch_init(&a);
	sketch_init(&b);
	sketch_init(&r);
	for (i = 0; i < N; i++)
		T_EQ_INT(sketch_add(&s, h[i]), 0);
	T_EQ_INT(sketch_add(&s, h[5]), 0);		/* again */
	T_CHECK(!sketch_is_dense(&s));
	T_EQ_INT(cell_key(&s, &c), want);
	T_EQ_INT(c.rk, N - 1);
	T_EQ_INT(c.dense, 0);
	T_EQ_INT(c.bad_token, 0);
	/* reverse order */
	for (i = N; i > 0; i--)
		T_EQ_INT(sketch_add(&r, h[i - 1]), 0);
	T_EQ_INT(cell_key(&r, &c), want);
	/* split in overlapping halves and merged either way */
	for (i = 0; i < N; i++) {
		if (i < 2 * N / 3)
			T_EQ_INT(sketch_add(&a, h[i]), 0);
		if (i >= N / 3)
			T_EQ_INT(sketch_add(&b, h[i]), 0);
	}
	T_CHECK(cell_key(&a, &c) != want);
	T_EQ_INT(sketch_merge(&a, &b), 0);
	T_EQ_INT(cell_key(&a, &c), want);
	sketch_reset(&a);
	for (i = 0; i < 2 * N / 3; i++)
		T_EQ_INT(sketch_add(&a, h[i]), 0);
	T_EQ_INT(sketch_merge(&b, &a), 0);
	T_EQ_INT(cell_key(&b, &c), want);
	/* one device less changes the key */
	sketch_reset(&a);
	for (i = 1; i < N - 1; i++)
		T_EQ_INT(sketch_add(&a, h[i]), 0);
	T_CHECK(cell_key(&a, &c) != want);
	sketch_reset(&s);
	sketch_reset(&a);
	sketch_reset(&b);
	sketch_reset(&r);
}

static void
test_cell_key_dense(void)
{
	enum { N = 5000 };
	uint64_t *h = malloc(N * sizeof(*h)), k1, k2;
	struct ck_calls c;
	struct sketch s, a, b;
	size_t i;

	T_CHECK(h != NULL);
	if (h == NULL)
		return;
	rng_state = 99;
	for (i = 0; i < N; i++)
		h[i] = rnd();
	sketch_init(&s);
	sketch_init(&a);
	sketch_init(&b);
	for (i = 0; i < N; i++)
		T_EQ_INT(sketch_add(&s, h[i]), 0);
	T_CHECK(sketch_is_dense(&s));
	k1 = cell_key(&s, &c);
	T_EQ_INT(c.dense, 1);
	T_EQ_INT(c.rk, 0);
	T_CHECK(c.regs == s.regs);			/* the registers */
	T_EQ_INT(c.n, SKETCH_REGS);
	T_EQ_INT(k1, siphash24(ck_key, s.regs, SKETCH_REGS) | 1);
	/* built from two sparse halves merged into dense: the same key */
	for (i = 0; i < N; i++)
		T_EQ_INT(sketch_add(i % 2 ? &a : &b, h[N - 1 - i]), 0);
	T_EQ_INT(sketch_merge(&b, &a), 0);
	T_CHECK(sketch_is_dense(&b));
	k2 = cell_key(&b, &c);
	T_EQ_INT(k2, k1);
	T_EQ_INT(c.dense, 1);
	sketch_reset(&s);
	sketch_reset(&a);
	sketch_reset(&b);
	free(h);
}

/* The same set gives the same key after serialise/deserialise. */
static void
test_cell_key_serialized(void)
{
	static const size_t sizes[] = { 1, 17, SKETCH_SPARSE_MAX, 3000 };
	uint8_t *buf = malloc(SKETCH_SERIALIZED_MAX);
	struct ck_calls c;
	struct sketch s, t;
	size_t i, j, len;
	uint64_t k;

	T_CHECK(buf != NULL);
	if (buf == NULL)
		return;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		sketch_init(&s);
		sketch_init(&t);
		rng_state = 1000 + i;
		for (j = 0; j < sizes[i]; j++)
			T_EQ_INT(sketch_add(&s, rnd()), 0);
		k = cell_key(&s, &c);
		T_CHECK(k != 0);
		len = sketch_serialize(&s, buf, SKETCH_SERIALIZED_MAX);
		T_CHECK(len > 0);
		T_EQ_INT(sketch_deserialize(&t, buf, len), 0);
		T_EQ_INT(cell_key(&t, &c), k);
		T_EQ_INT(c.dense, sketch_is_dense(&s) ? 1 : 0);
		sketch_reset(&s);
		sketch_reset(&t);
	}
	free(buf);
}

int
main(void)
{
	T_RUN(test_siphash_vectors);
	T_RUN(test_siphash_unaligned);
	T_RUN(test_empty);
	T_RUN(test_exact_small);
	T_RUN(test_sparse_limit);
	T_RUN(test_order_independent);
	T_RUN(test_accuracy);
	T_RUN(test_accuracy_middle);
	T_RUN(test_merge);
	T_RUN(test_merge_exact_counts);
	T_RUN(test_merge_serialized);
	T_RUN(test_roundtrip);
	T_RUN(test_truncated);
	T_RUN(test_malformed);
	T_RUN(test_garbage);
	T_RUN(test_cell_key_empty);
	T_RUN(test_cell_key_sparse);
	T_RUN(test_cell_key_dense);
	T_RUN(test_cell_key_serialized);
	return T_DONE();
}
