/*
 * siphash.c - SipHash-2-4 written from the algorithm description in the
 * SipHash paper: 2 compression rounds per 8-byte word, 4 finalisation
 * rounds, message length mod 256 in the top byte of the last word.
 */
#include "common/siphash.h"

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct sip {
	uint64_t v0, v1, v2, v3;
};

/* Bytes are assembled explicitly so the result is endian-independent. */
static uint64_t
load_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 |
	    (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	    (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static void
sipround(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

static void
absorb(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sipround(s);
	sipround(s);
	s->v0 ^= m;
}

uint64_t
siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	struct sip s = {
		k0 ^ 0x736f6d6570736575ULL,	/* "somepseu" */
		k1 ^ 0x646f72616e646f6dULL,	/* "dorandom" */
		k0 ^ 0x6c7967656e657261ULL,	/* "lygenera" */
		k1 ^ 0x7465646279746573ULL,	/* "tedbytes" */
	};
	uint64_t last = (uint64_t)(len & 0xff) << 56;
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8)
		absorb(&s, load_le64(p + i));
	for (size_t j = 0; j < tail; j++)
		last |= (uint64_t)p[i + j] << (8 * j);
	absorb(&s, last);

	s.v2 ^= 0xff;
	sipround(&s);
	sipround(&s);
	sipround(&s);
	sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
