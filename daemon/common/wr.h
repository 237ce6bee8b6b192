/*
 * wr.h - bounds-checked write cursor for the vault's blobs; the mirror
 * of rd.h.
 *
 * The week accumulator (aggregate/wacc.c) and the device sketch
 * (aggregate/sketch.c) serialise through these, so both write LEB128
 * and bits the same way.  A cursor writes into a fixed buffer (cap
 * bytes; writing past it fails) or, made with wr_growing(), into a
 * buffer of its own that grows.  A put either succeeds or marks the
 * cursor bad; once bad, every later put does nothing, so a writer may
 * check once at the end.  Bits are packed most significant first; a
 * byte put while bits are pending is a caller's mistake (wr_flush first).
 */
#ifndef AIC_WR_H
#define AIC_WR_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct wr {
	uint8_t		*p;
	size_t		 len, cap;
	int		 bad;
	int		 grow;		/* p is ours: realloc when short */
	uint8_t		 acc;		/* pending bits, MSB-first */
	int		 nacc;
};

static inline struct wr
wr_fixed(uint8_t *buf, size_t cap)
{
	struct wr w = { buf, 0, cap, 0, 0, 0, 0 };
	return w;
}

static inline struct wr
wr_growing(void)
{
	struct wr w = { NULL, 0, 0, 0, 1, 0, 0 };
	return w;
}

/* Room for n more bytes (growing the buffer when it is ours). */
static inline int
wr_room(struct wr *w, size_t n)
{
	size_t nc;
	uint8_t *np;

	if (w->bad)
		return 0;
	if (n <= w->cap - w->len)
		return 1;
	if (!w->grow) {
		w->bad = 1;
		return 0;
	}
	for (nc = w->cap ? w->cap : 4096; nc - w->len < n; nc *= 2)
		;
	if ((np = realloc(w->p, nc)) == NULL) {
		w->bad = 1;
		return 0;
	}
	w->p = np;
	w->cap = nc;
	return 1;
}

static inline void
wr_u8(struct wr *w, uint8_t v)
{
	if (wr_room(w, 1))
		w->p[w->len++] = v;
}

static inline void
wr_bytes(struct wr *w, const void *b, size_t n)
{
	if (!wr_room(w, n))
		return;
	memcpy(w->p + w->len, b, n);
	w->len += n;
}

/* Bytes of v as LEB128 (7 bits a byte, least significant first). */
static inline size_t
wr_leb_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline void
wr_leb(struct wr *w, uint64_t v)
{
	while (v >= 0x80) {
		wr_u8(w, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	wr_u8(w, (uint8_t)v);
}

/* The low n bits of v, most significant first; a byte at a time (a
 * flush serialises tens of thousands of sketches). */
static inline void
wr_bits(struct wr *w, uint64_t v, int n)
{
	while (n > 0) {
		int take = 8 - w->nacc < n ? 8 - w->nacc : n;
		unsigned chunk = (unsigned)(v >> (n - take)) &
		    ((1u << take) - 1);

		w->acc = (uint8_t)((unsigned)w->acc << take | chunk);
		w->nacc += take;
		n -= take;
		if (w->nacc == 8) {
			wr_u8(w, w->acc);
			w->acc = 0;
			w->nacc = 0;
		}
	}
}

static inline void
wr_bit(struct wr *w, unsigned b)
{
	w->acc = (uint8_t)(w->acc << 1 | (b & 1));
	if (++w->nacc == 8) {
		wr_u8(w, w->acc);
		w->acc = 0;
		w->nacc = 0;
	}
}

/* Pad the pending bits with zeros to a whole byte. */
static inline void
wr_flush(struct wr *w)
{
	if (w->nacc != 0)
		wr_bits(w, 0, 8 - w->nacc);
}

#endif /* AIC_WR_H */
