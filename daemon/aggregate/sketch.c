/*
 * sketch.c - exact sparse set that turns into a HyperLogLog.
 *
 * Most (period, department, service) cells see a handful of devices, so
 * the sparse form keeps them exact and small; only the few busy cells
 * pay for the 16 KiB dense form.  The dense estimator is Ertl's improved
 * raw estimator (O. Ertl, "New cardinality estimation algorithms for
 * HyperLogLog sketches", arXiv 1702.01284), chosen because it is unbiased
 * from tiny to huge cardinalities without HLL++'s empirical tables.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rd.h"
#include "common/wr.h"
#include "aggregate/sketch.h"

#define FORMAT_VERSION	1
#define MODE_SPARSE	0
#define MODE_PACKED	1
#define MODE_RLE	2

#define Q		(64 - SKETCH_P)	/* hash bits left for the rank */
#define REG_MAX		(Q + 1)		/* rank of an all-zero remainder */
#define PACKED_LEN	(SKETCH_REGS * 6 / 8)

/* ---- registers ---------------------------------------------------- */

static void
reg_add(uint8_t *regs, uint64_t h)
{
	uint64_t w = h & ((UINT64_C(1) << Q) - 1);
	uint32_t idx = (uint32_t)(h >> Q);
	/* Leading zeros of the Q-bit remainder, plus one. */
	uint8_t rank = w ? (uint8_t)(__builtin_clzll(w) - (64 - Q) + 1) :
	    REG_MAX;

	if (regs[idx] < rank)
		regs[idx] = rank;
}

static uint8_t *
regs_from(const uint64_t *sp, uint32_t n)
{
	uint8_t *regs = calloc(SKETCH_REGS, 1);

	if (regs == NULL)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		reg_add(regs, sp[i]);
	return regs;
}

static int
to_dense(struct sketch *s)
{
	uint8_t *regs = regs_from(s->sp, s->n);

	if (regs == NULL)
		return -1;
	free(s->sp);
	s->sp = NULL;
	s->n = s->cap = 0;
	s->regs = regs;
	return 0;
}

/* ---- basic operations --------------------------------------------- */

void
sketch_init(struct sketch *s)
{
	s->sp = NULL;
	s->regs = NULL;
	s->n = s->cap = 0;
}

void
sketch_reset(struct sketch *s)
{
	free(s->sp);
	free(s->regs);
	sketch_init(s);
}

int
sketch_is_dense(const struct sketch *s)
{
	return s->regs != NULL;
}

size_t
sketch_mem(const struct sketch *s)
{
	return s->regs ? SKETCH_REGS : (size_t)s->cap * sizeof(uint64_t);
}

/* Index of the first entry >= h. */
static uint32_t
lower_bound(const uint64_t *a, uint32_t n, uint64_t h)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (a[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
grow(struct sketch *s)
{
	uint32_t ncap = s->cap ? s->cap * 2 : 4;
	uint64_t *p;

	if (ncap > SKETCH_SPARSE_MAX)
		ncap = SKETCH_SPARSE_MAX;
	p = realloc(s->sp, (size_t)ncap * sizeof(*p));
	if (p == NULL)
		return -1;
	s->sp = p;
	s->cap = ncap;
	return 0;
}

int
sketch_add(struct sketch *s, uint64_t h)
{
	uint32_t i;

	h &= SKETCH_HASH_MASK;
	if (s->regs) {
		reg_add(s->regs, h);
		return 0;
	}
	i = lower_bound(s->sp, s->n, h);
	if (i < s->n && s->sp[i] == h)
		return 0;
	if (s->n == SKETCH_SPARSE_MAX) {
		if (to_dense(s) < 0)
			return -1;
		reg_add(s->regs, h);
		return 0;
	}
	if (s->n == s->cap && grow(s) < 0)
		return -1;
	memmove(s->sp + i + 1, s->sp + i, (size_t)(s->n - i) * sizeof(*s->sp));
	s->sp[i] = h;
	s->n++;
	return 0;
}

/* ---- merge -------------------------------------------------------- */

static uint32_t
union_size(const uint64_t *a, uint32_t na, const uint64_t *b, uint32_t nb)
{
	uint32_t i = 0, j = 0, n = 0;

	while (i < na && j < nb) {
		if (a[i] < b[j])
			i++;
		else if (b[j] < a[i])
			j++;
		else
			i++, j++;
		n++;
	}
	return n + (na - i) + (nb - j);
}

static void
union_into(uint64_t *out, const uint64_t *a, uint32_t na, const uint64_t *b,
    uint32_t nb)
{
	uint32_t i = 0, j = 0, n = 0;

	while (i < na && j < nb) {
		if (a[i] < b[j])
			out[n++] = a[i++];
		else if (b[j] < a[i])
			out[n++] = b[j++];
		else
			out[n++] = a[i++], j++;
	}
	while (i < na)
		out[n++] = a[i++];
	while (j < nb)
		out[n++] = b[j++];
}

static int
merge_sparse(struct sketch *dst, const struct sketch *src)
{
	uint32_t n = union_size(dst->sp, dst->n, src->sp, src->n);
	uint32_t cap = 4;
	uint64_t *out;

	if (n == dst->n)
		return 0;	/* src adds nothing */
	if (n > SKETCH_SPARSE_MAX) {
		uint8_t *regs = regs_from(dst->sp, dst->n);

		if (regs == NULL)
			return -1;
		for (uint32_t i = 0; i < src->n; i++)
			reg_add(regs, src->sp[i]);
		free(dst->sp);
		sketch_init(dst);
		dst->regs = regs;
		return 0;
	}
	while (cap < n)
		cap *= 2;
	out = malloc((size_t)cap * sizeof(*out));
	if (out == NULL)
		return -1;
	union_into(out, dst->sp, dst->n, src->sp, src->n);
	free(dst->sp);
	dst->sp = out;
	dst->n = n;
	dst->cap = cap;
	return 0;
}

int
sketch_merge(struct sketch *dst, const struct sketch *src)
{
	if (dst == src)
		return 0;
	if (src->regs == NULL && dst->regs == NULL)
		return merge_sparse(dst, src);
	if (src->regs == NULL) {
		for (uint32_t i = 0; i < src->n; i++)
			reg_add(dst->regs, src->sp[i]);
		return 0;
	}
	if (dst->regs == NULL && to_dense(dst) < 0)
		return -1;
	for (uint32_t i = 0; i < SKETCH_REGS; i++)
		if (dst->regs[i] < src->regs[i])
			dst->regs[i] = src->regs[i];
	return 0;
}

/* ---- estimate ----------------------------------------------------- */

/* Ertl's sigma(x) = x + sum_k x^(2^k) 2^(k-1), for 0 <= x < 1. */
static double
ertl_sigma(double x)
{
	double y = 1, z = x, zp;

	for (int i = 0; i < 1000; i++) {
		x *= x;
		zp = z;
		z += x * y;
		y += y;
		if (z == zp)
			break;
	}
	return z;
}

/* Ertl's tau(x) = (1 - x - sum_k (1 - x^(2^-k))^2 2^-k) / 3. */
static double
ertl_tau(double x)
{
	double y = 1, z = 1 - x, zp;

	if (x == 0 || x == 1)
		return 0;
	for (int i = 0; i < 1000; i++) {
		x = sqrt(x);
		zp = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
		if (z == zp)
			break;
	}
	return z / 3;
}

static double
dense_estimate(const uint8_t *regs)
{
	uint32_t c[REG_MAX + 1] = { 0 };
	const double m = SKETCH_REGS;
	double z;

	for (uint32_t i = 0; i < SKETCH_REGS; i++)
		c[regs[i]]++;
	if (c[0] == SKETCH_REGS)
		return 0;
	z = m * ertl_tau(1 - c[REG_MAX] / m);
	for (int k = Q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * ertl_sigma(c[0] / m);
	return m * m / (2 * log(2)) / z;
}

uint64_t
sketch_estimate(const struct sketch *s)
{
	double e;

	if (s->regs == NULL)
		return s->n;
	e = dense_estimate(s->regs);
	if (!(e < 1.8e19))
		return UINT64_MAX;
	return (uint64_t)(e + 0.5);
}

/* ---- writing (common/wr.h) ------------------------------------------ */

/* Gap i: the first hash itself, then each difference minus one. */
static uint64_t
gap(const uint64_t *sp, uint32_t i)
{
	uint64_t cur = sp[i] >> SKETCH_DROP_BITS;

	return i == 0 ? cur : cur - (sp[i - 1] >> SKETCH_DROP_BITS) - 1;
}

/* Bits of the gaps Rice-coded with parameter k; UINT64_MAX when a
 * quotient is too large to be worth counting (never optimal anyway). */
static uint64_t
rice_cost(const uint64_t *sp, uint32_t n, int k)
{
	uint64_t cost = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint64_t q = gap(sp, i) >> k;

		if (q > UINT32_MAX)
			return UINT64_MAX;
		cost += q + 1 + (uint64_t)k;
	}
	return cost;
}

/*
 * Rice parameter with the fewest bits (the smallest such k); *bits gets
 * that size.  The size is a convex function of k: one step up halves
 * every quotient (rounding down), which saves fewer bits at each step,
 * and costs n bits.  So a walk from the k the mean gap suggests, down
 * while not worse and up while better, ends on the same k as trying all
 * 64, after a few steps.
 */
static int
rice_k(const uint64_t *sp, uint32_t n, uint64_t *bits)
{
	uint64_t sum = 0, c, cn, m;
	uint32_t i;
	int k = 0;

	for (i = 0; i < n; i++)
		sum += gap(sp, i);	/* < 2^40 each, n <= 2^10 */
	for (m = n ? sum / n : 0; m > 1; m >>= 1)
		k++;
	c = rice_cost(sp, n, k);
	if (c != UINT64_MAX)
		while (k > 0 && (cn = rice_cost(sp, n, k - 1)) <= c) {
			k--;
			c = cn;
		}
	while (k < 63 && (cn = rice_cost(sp, n, k + 1)) < c) {
		k++;
		c = cn;
	}
	*bits = c;
	return k;
}

/* Serialised size of a sparse sketch; *k gets its Rice parameter. */
static size_t
sparse_size(const struct sketch *s, int *k)
{
	uint64_t bits;

	*k = 0;
	if (s->n == 0)
		return 2 + wr_leb_size(0);
	*k = rice_k(s->sp, s->n, &bits);
	return 2 + wr_leb_size(s->n) + 1 + (size_t)((bits + 7) / 8);
}

static size_t
rle_size(const uint8_t *regs)
{
	size_t n = 0;

	for (uint32_t i = 0; i < SKETCH_REGS; ) {
		uint32_t j = i;

		if (regs[i] != 0) {
			n++;
			i++;
			continue;
		}
		while (j < SKETCH_REGS && regs[j] == 0)
			j++;
		n += 1 + wr_leb_size(j - i);
		i = j;
	}
	return n;
}

static int
dense_mode(const uint8_t *regs, size_t *size)
{
	size_t rle = rle_size(regs);

	if (rle < PACKED_LEN) {
		*size = 2 + rle;
		return MODE_RLE;
	}
	*size = 2 + PACKED_LEN;
	return MODE_PACKED;
}

size_t
sketch_serialized_size(const struct sketch *s)
{
	size_t size;
	int k;

	if (s->regs == NULL)
		return sparse_size(s, &k);
	dense_mode(s->regs, &size);
	return size;
}

static void
write_sparse(struct wr *w, const struct sketch *s, int k)
{
	wr_leb(w, s->n);
	if (s->n == 0)
		return;
	wr_u8(w, (uint8_t)k);
	for (uint32_t i = 0; i < s->n; i++) {
		uint64_t g = gap(s->sp, i);

		for (uint64_t q = g >> k; q > 0; q--)
			wr_bit(w, 1);
		wr_bit(w, 0);
		wr_bits(w, g, k);
	}
	wr_flush(w);
}

static void
write_rle(struct wr *w, const uint8_t *regs)
{
	for (uint32_t i = 0; i < SKETCH_REGS; ) {
		uint32_t j = i;

		if (regs[i] != 0) {
			wr_u8(w, regs[i++]);
			continue;
		}
		while (j < SKETCH_REGS && regs[j] == 0)
			j++;
		wr_u8(w, 0);
		wr_leb(w, j - i);
		i = j;
	}
}

size_t
sketch_serialize(const struct sketch *s, uint8_t *buf, size_t cap)
{
	struct wr w = wr_fixed(buf, cap);
	size_t size;
	int mode, k = 0;

	if (s->regs == NULL) {
		mode = MODE_SPARSE;
		size = sparse_size(s, &k);
	} else
		mode = dense_mode(s->regs, &size);
	if (cap < size)
		return 0;
	wr_u8(&w, FORMAT_VERSION);
	wr_u8(&w, (uint8_t)mode);
	if (mode == MODE_SPARSE)
		write_sparse(&w, s, k);
	else if (mode == MODE_RLE)
		write_rle(&w, s->regs);
	else
		for (uint32_t i = 0; i < SKETCH_REGS; i++)
			wr_bits(&w, s->regs[i], 6);
	if (w.bad || w.len != size)
		return 0;	/* size and writer disagree: a bug */
	return w.len;
}

/* ---- reading ------------------------------------------------------ */

struct bitrd {
	struct rd	*r;
	uint8_t		 cur;
	int		 left;	/* unread bits in cur */
};

static int
rd_bit(struct bitrd *b, unsigned *bit)
{
	if (b->left == 0) {
		b->cur = rd_u8(b->r);
		if (!rd_ok(b->r))
			return -1;
		b->left = 8;
	}
	b->left--;
	*bit = (b->cur >> b->left) & 1;
	return 0;
}

/* n <= 64 bits, MSB-first; takes whole bytes at a time when it can. */
static int
rd_bits(struct bitrd *b, int n, uint64_t *out)
{
	uint64_t v = 0;

	while (n > 0) {
		int t;

		if (b->left == 0) {
			b->cur = rd_u8(b->r);
			if (!rd_ok(b->r))
				return -1;
			b->left = 8;
		}
		t = n < b->left ? n : b->left;
		b->left -= t;
		n -= t;
		v = v << t | ((uint64_t)(b->cur >> b->left) & ((1u << t) - 1));
	}
	*out = v;
	return 0;
}

static int
rd_rice(struct bitrd *b, int k, uint64_t *out)
{
	uint64_t q = 0, low;
	unsigned bit;

	for (;;) {
		if (rd_bit(b, &bit) < 0)
			return -1;
		if (bit == 0)
			break;
		q++;
	}
	if (q > (UINT64_MAX >> k) || rd_bits(b, k, &low) < 0)
		return -1;
	*out = q << k | low;
	return 0;
}

static int
read_sparse(struct rd *r, uint64_t **spp, uint32_t *np)
{
	struct bitrd b = { r, 0, 0 };
	uint64_t n, g, prev = 0, *sp;
	uint8_t k;

	n = rd_leb(r);
	if (!rd_ok(r) || n > SKETCH_SPARSE_MAX)
		return -1;
	if (n == 0) {
		*spp = NULL;
		*np = 0;
		return rd_left(r) == 0 ? 0 : -1;
	}
	k = rd_u8(r);
	if (!rd_ok(r) || k > 63)
		return -1;
	sp = malloc((size_t)n * sizeof(*sp));
	if (sp == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (rd_rice(&b, k, &g) < 0)
			goto bad;
		if (i > 0) {
			/* Strictly increasing: a wrap means unsorted data. */
			if (prev == UINT64_MAX || g > UINT64_MAX - prev - 1)
				goto bad;
			g += prev + 1;
		}
		if (g >> (64 - SKETCH_DROP_BITS))
			goto bad;	/* more bits than a stored hash has */
		prev = g;
		sp[i] = g << SKETCH_DROP_BITS;
	}
	/* Canonical form: zero padding, nothing after it. */
	if ((b.cur & ((1u << b.left) - 1)) != 0 || rd_left(r) != 0)
		goto bad;
	*spp = sp;
	*np = (uint32_t)n;
	return 0;
bad:
	free(sp);
	return -1;
}

static int
read_packed(struct rd *r, uint8_t *regs)
{
	const uint8_t *p = rd_ptr(r, PACKED_LEN);

	if (p == NULL || rd_left(r) != 0)
		return -1;
	/* Four 6-bit registers in every three bytes. */
	for (uint32_t i = 0, j = 0; i < SKETCH_REGS; i += 4, j += 3) {
		uint32_t v = (uint32_t)p[j] << 16 | (uint32_t)p[j + 1] << 8 |
		    p[j + 2];

		regs[i] = (uint8_t)(v >> 18);
		regs[i + 1] = (uint8_t)(v >> 12 & 0x3f);
		regs[i + 2] = (uint8_t)(v >> 6 & 0x3f);
		regs[i + 3] = (uint8_t)(v & 0x3f);
	}
	for (uint32_t i = 0; i < SKETCH_REGS; i++)
		if (regs[i] > REG_MAX)
			return -1;
	return 0;
}

static int
read_rle(struct rd *r, uint8_t *regs)
{
	uint32_t i = 0;

	while (i < SKETCH_REGS) {
		uint8_t v = rd_u8(r);
		uint64_t run;

		if (!rd_ok(r) || v > REG_MAX)
			return -1;
		if (v != 0) {
			regs[i++] = v;
			continue;
		}
		run = rd_leb(r);
		if (!rd_ok(r) || run == 0 || run > SKETCH_REGS - i)
			return -1;
		memset(regs + i, 0, (size_t)run);
		i += (uint32_t)run;
	}
	return rd_left(r) == 0 ? 0 : -1;
}

static int
read_dense(struct rd *r, int mode, uint8_t **regsp)
{
	uint8_t *regs = malloc(SKETCH_REGS);
	int rc;

	if (regs == NULL)
		return -1;
	rc = mode == MODE_PACKED ? read_packed(r, regs) : read_rle(r, regs);
	if (rc < 0) {
		free(regs);
		return -1;
	}
	*regsp = regs;
	return 0;
}

int
sketch_deserialize(struct sketch *s, const uint8_t *p, size_t len)
{
	struct rd r = rd_init(p, len);
	struct sketch t;
	uint8_t version, mode;
	int rc;

	sketch_init(&t);
	version = rd_u8(&r);
	mode = rd_u8(&r);
	if (!rd_ok(&r) || version != FORMAT_VERSION)
		return -1;
	switch (mode) {
	case MODE_SPARSE:
		rc = read_sparse(&r, &t.sp, &t.n);
		t.cap = t.n;
		break;
	case MODE_PACKED:
	case MODE_RLE:
		rc = read_dense(&r, mode, &t.regs);
		break;
	default:
		return -1;
	}
	if (rc < 0)
		return -1;
	sketch_reset(s);
	*s = t;
	return 0;
}

int
sketch_merge_serialized(struct sketch *dst, const uint8_t *p, size_t len)
{
	struct sketch t;
	int rc;

	sketch_init(&t);
	if (sketch_deserialize(&t, p, len) < 0)
		return -1;
	rc = sketch_merge(dst, &t);
	sketch_reset(&t);
	return rc;
}

/* ---- cell key ----------------------------------------------------- */

/*
 * The sum (not a hash of the sorted list) is what lets the release
 * stage compute a cell's key from any union of its parts and get the
 * same value: addition mod 2^64 is commutative and the sparse set holds
 * each token once.  A dense sketch no longer knows its tokens, so its
 * registers, which are likewise a function of the set alone, stand in.
 */
uint64_t
sketch_cell_key(const struct sketch *s,
    uint64_t (*rk)(void *arg, uint64_t token),
    uint64_t (*dense)(void *arg, const uint8_t *regs, size_t n),
    void *arg)
{
	uint64_t ck = 0;
	uint32_t i;

	if (s->regs != NULL)
		return dense(arg, s->regs, SKETCH_REGS);
	for (i = 0; i < s->n; i++)
		ck += rk(arg, s->sp[i] >> SKETCH_DROP_BITS);
	return ck;
}
