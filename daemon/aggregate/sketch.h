/*
 * sketch.h - mergeable, serialisable distinct-device counter.
 *
 * A sketch counts distinct 64-bit device hashes (siphash24 of the client
 * address under the weekly key) without keeping anything that identifies
 * a device beyond that keyed hash.
 *
 * Promises:
 *  - Up to SKETCH_SPARSE_MAX distinct hashes the sketch is exact: it is
 *    a sorted array of the hashes, so estimate == true count (barring a
 *    64-bit collision).  Beyond that it turns into a HyperLogLog with
 *    2^14 registers (standard error about 0.81 %), estimated with
 *    Ertl's improved raw estimator (arXiv 1702.01284), which needs no
 *    bias tables.
 *  - The state depends only on the set of hashes added, not on order or
 *    on how it was split and merged: adding A then B, merging sketch(A)
 *    with sketch(B) in either order, and round-tripping through
 *    serialisation all give byte-identical serialisations.
 *  - Merging is union.  Merging only makes sense for hashes made under
 *    the same key (same ISO week); sketches of different weeks merge
 *    without error but count every device once per week.
 *  - Deserialisation validates everything and never reads past len; a
 *    corrupt blob yields -1, never a crash and never a half-made sketch.
 *  - Every function that can fail leaves its output untouched on error.
 *
 * struct sketch is transparent only so that callers can embed it; its
 * fields are private.  A zeroed struct is NOT valid: use sketch_init.
 * sizeof(struct sketch) is 24 bytes on LP64; the heap it holds grows by
 * doubling up to SKETCH_SPARSE_MAX * 8 bytes, then is 16 KiB when dense.
 *
 * The estimator uses sqrt/log: link with -lm.
 */
#ifndef AIC_SKETCH_H
#define AIC_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define SKETCH_SPARSE_MAX	1024	/* exact up to this many hashes */
/*
 * Only the top 40 bits of a hash are kept: a chance collision among the
 * at most 1024 hashes of a sparse sketch stays below 1 in a million, the
 * 26 bits below the register index give ranks up to 27 (cardinalities
 * far beyond any network), and a stored sparse hash costs 3 bytes less.
 */
#define SKETCH_DROP_BITS	24
#define SKETCH_HASH_MASK	(~(uint64_t)0 << SKETCH_DROP_BITS)
#define SKETCH_P		14
#define SKETCH_REGS		(1u << SKETCH_P)
/* Largest serialised size of any sketch (dense, 6-bit packed). */
#define SKETCH_SERIALIZED_MAX	(2 + SKETCH_REGS * 6 / 8)

struct sketch {
	uint64_t	*sp;	/* sorted unique hashes (masked) while sparse */
	uint8_t		*regs;	/* SKETCH_REGS registers once dense */
	uint32_t	 n;	/* entries used in sp */
	uint32_t	 cap;	/* entries allocated in sp */
};

void	 sketch_init(struct sketch *s);
/* Free everything and make s an empty sketch again. */
void	 sketch_reset(struct sketch *s);
/* 0 ok, -1 out of memory (the hash is then not counted). */
int	 sketch_add(struct sketch *s, uint64_t h);
/* dst |= src.  0 ok, -1 out of memory (dst unchanged). dst may be src. */
int	 sketch_merge(struct sketch *dst, const struct sketch *src);
/* Estimated number of distinct hashes, rounded to nearest. */
uint64_t sketch_estimate(const struct sketch *s);
int	 sketch_is_dense(const struct sketch *s);

/*
 * Serialised form (version 1):
 *   u8 version (1), u8 mode, then
 *   mode 0 sparse: LEB128 count (<= SKETCH_SPARSE_MAX); if count > 0,
 *          u8 k (0..63) and the sorted hashes as Rice-coded gaps
 *          (first value, then each difference minus one) with parameter
 *          k, bits MSB-first, zero-padded to a byte; the values coded
 *          are the hashes' top 40 bits (SKETCH_DROP_BITS).  About
 *          42 - log2(count) bits per hash.
 *   mode 1 dense packed: 16384 registers, 6 bits each, MSB-first
 *          (12288 bytes).
 *   mode 2 dense run-length: a byte 1..51 is one register, a 0 byte is
 *          followed by a LEB128 run length (>= 1) of zero registers;
 *          exactly 16384 registers.
 *   The writer picks mode 1 or 2, whichever is smaller (1 on a tie),
 *   so equal sketches always serialise to equal bytes; the reader
 *   accepts either.
 * Anything else is rejected: other versions or modes, truncation,
 * trailing bytes, non-zero padding, a count above SKETCH_SPARSE_MAX,
 * hashes that are not strictly increasing (a gap running past 2^64),
 * registers above 51, runs that are empty or overshoot 16384.
 */
size_t	 sketch_serialized_size(const struct sketch *s);
/* Bytes written, 0 if cap is too small. */
size_t	 sketch_serialize(const struct sketch *s, uint8_t *buf, size_t cap);
/*
 * s must be an initialised sketch; on success its old contents are
 * freed and replaced, on failure (-1: invalid blob or out of memory)
 * it is left as it was.
 */
int	 sketch_deserialize(struct sketch *s, const uint8_t *p, size_t len);
/* dst |= deserialize(p, len).  0 ok, -1 invalid or ENOMEM (dst unchanged). */
int	 sketch_merge_serialized(struct sketch *dst, const uint8_t *p,
	    size_t len);
/* Heap bytes held by s, for memory accounting. */
size_t	 sketch_mem(const struct sketch *s);

/*
 * The cell key of the set, for the release stage's cell key method:
 * while sparse, the sum mod 2^64 of rk(arg, token) over the stored
 * tokens (token = a stored hash >> SKETCH_DROP_BITS, the 40 bits that
 * stand for a device all week); once dense, dense(arg, registers,
 * SKETCH_REGS).  Depends only on the set of devices, never on order or
 * on how sketches were merged; 0 for an empty sketch.
 */
uint64_t sketch_cell_key(const struct sketch *s,
	    uint64_t (*rk)(void *arg, uint64_t token),
	    uint64_t (*dense)(void *arg, const uint8_t *regs, size_t n),
	    void *arg);

#endif /* AIC_SKETCH_H */
