/*
 * rd.h - bounds-checked read cursor for wire data.
 *
 * Every parser in aicensus reads attacker-controlled bytes through this
 * cursor.  A getter either succeeds and advances, or fails, marks the
 * cursor bad and returns 0; once bad, every later getter fails too, so a
 * parser may check once at the end of a structure instead of after every
 * field.  Nested lengths get their own sub-cursor (rd_sub) so a field can
 * never read past the structure that contains it.
 */
#ifndef AIC_RD_H
#define AIC_RD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t	*p;
	size_t		 len;
	int		 bad;
};

static inline struct rd
rd_init(const uint8_t *p, size_t len)
{
	struct rd r = { p, len, 0 };
	return r;
}

static inline int
rd_ok(const struct rd *r)
{
	return !r->bad;
}

static inline size_t
rd_left(const struct rd *r)
{
	return r->bad ? 0 : r->len;
}

static inline int
rd_need(struct rd *r, size_t n)
{
	if (r->bad || r->len < n) {
		r->bad = 1;
		return 0;
	}
	return 1;
}

static inline int
rd_skip(struct rd *r, size_t n)
{
	if (!rd_need(r, n))
		return 0;
	r->p += n;
	r->len -= n;
	return 1;
}

static inline uint8_t
rd_u8(struct rd *r)
{
	uint8_t v;

	if (!rd_need(r, 1))
		return 0;
	v = r->p[0];
	r->p++;
	r->len--;
	return v;
}

static inline uint16_t
rd_u16(struct rd *r)
{
	uint16_t v;

	if (!rd_need(r, 2))
		return 0;
	v = (uint16_t)((r->p[0] << 8) | r->p[1]);
	r->p += 2;
	r->len -= 2;
	return v;
}

static inline uint32_t
rd_u24(struct rd *r)
{
	uint32_t v;

	if (!rd_need(r, 3))
		return 0;
	v = ((uint32_t)r->p[0] << 16) | ((uint32_t)r->p[1] << 8) | r->p[2];
	r->p += 3;
	r->len -= 3;
	return v;
}

static inline uint32_t
rd_u32(struct rd *r)
{
	uint32_t v;

	if (!rd_need(r, 4))
		return 0;
	v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) |
	    ((uint32_t)r->p[2] << 8) | r->p[3];
	r->p += 4;
	r->len -= 4;
	return v;
}

/* Copy n bytes out; fails (and copies nothing) when fewer remain. */
static inline int
rd_bytes(struct rd *r, void *out, size_t n)
{
	if (!rd_need(r, n))
		return 0;
	memcpy(out, r->p, n);
	r->p += n;
	r->len -= n;
	return 1;
}

/* Point at the next n bytes without copying, then advance past them. */
static inline const uint8_t *
rd_ptr(struct rd *r, size_t n)
{
	const uint8_t *q;

	if (!rd_need(r, n))
		return NULL;
	q = r->p;
	r->p += n;
	r->len -= n;
	return q;
}

/*
 * Carve the next n bytes into their own cursor and advance past them.
 * On failure the sub-cursor is bad as well, so its users fail safely.
 */
static inline struct rd
rd_sub(struct rd *r, size_t n)
{
	struct rd s = { NULL, 0, 1 };

	if (!rd_need(r, n))
		return s;
	s.p = r->p;
	s.len = n;
	s.bad = 0;
	r->p += n;
	r->len -= n;
	return s;
}

/*
 * LEB128 (7 bits a byte, least significant first; common/wr.h writes
 * it), as the vault's blobs carry counts and lengths.  An encoding
 * longer than 64 bits fails: the tenth byte may only be 0 or 1.
 */
static inline uint64_t
rd_leb(struct rd *r)
{
	uint64_t v = 0;
	unsigned shift;
	uint8_t b;

	for (shift = 0; ; shift += 7) {
		b = rd_u8(r);
		if (r->bad || (shift == 63 && b > 1)) {
			r->bad = 1;
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
}

/* QUIC variable-length integer (RFC 9000 section 16). */
static inline uint64_t
rd_varint(struct rd *r)
{
	uint64_t v;
	size_t n, i;

	if (!rd_need(r, 1))
		return 0;
	n = (size_t)1 << (r->p[0] >> 6);
	if (!rd_need(r, n))
		return 0;
	v = r->p[0] & 0x3f;
	for (i = 1; i < n; i++)
		v = (v << 8) | r->p[i];
	r->p += n;
	r->len -= n;
	return v;
}

#endif /* AIC_RD_H */
