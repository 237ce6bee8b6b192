/*
 * test_wr.c - the write cursor (common/wr.h) and its reading half,
 * rd_leb (common/rd.h), which the week accumulator and the sketch share:
 * LEB128 both ways at every length, the 64-bit limit, bits MSB-first,
 * fixed buffers that refuse to overflow and buffers that grow.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rd.h"
#include "common/wr.h"
#include "t.h"

static void
test_leb_roundtrip(void)
{
	uint8_t buf[16];
	struct wr w;
	struct rd r;
	int i, d, bad = 0;

	/* every length: 2^(7k) - 1, 2^(7k) and their neighbours */
	for (i = 0; i < 64; i++)
		for (d = -1; d <= 1; d++) {
			uint64_t v = ((uint64_t)1 << i) + (uint64_t)(int64_t)d;
			size_t n;

			w = wr_fixed(buf, sizeof(buf));
			wr_leb(&w, v);
			n = w.len;
			if (w.bad || n != wr_leb_size(v) || n > 10)
				bad++;
			r = rd_init(buf, n);
			if (rd_leb(&r) != v || !rd_ok(&r) || rd_left(&r) != 0)
				bad++;
			/* one byte short never reads */
			r = rd_init(buf, n - 1);
			if (rd_leb(&r) != 0 || rd_ok(&r))
				bad++;
		}
	T_EQ_INT(bad, 0);
	w = wr_fixed(buf, sizeof(buf));
	wr_leb(&w, UINT64_MAX);
	T_EQ_INT(w.len, 10);
	T_EQ_INT(buf[9], 1);
	wr_leb(&w, 300);
	T_EQ_INT(w.len, 12);
	T_EQ_INT(buf[10], 0xac);
	T_EQ_INT(buf[11], 0x02);
	T_EQ_INT(wr_leb_size(0), 1);
	T_EQ_INT(wr_leb_size(127), 1);
	T_EQ_INT(wr_leb_size(128), 2);
}

static void
test_leb_limits(void)
{
	static const uint8_t ten1[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0x01 };
	static const uint8_t ten2[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0x02 };
	static const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	    0x80, 0x80, 0x80, 0x80, 0x00 };
	static const uint8_t ten81[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	    0x80, 0x80, 0x80, 0x81, 0x00 };
	static const uint8_t padded[] = { 0x81, 0x80, 0x00, 0x07 };
	struct rd r;

	r = rd_init(ten1, sizeof(ten1));
	T_CHECK(rd_leb(&r) == UINT64_MAX && rd_ok(&r));
	/* a 65th bit, an 11th byte: refused, and the cursor stays bad */
	r = rd_init(ten2, sizeof(ten2));
	T_CHECK(rd_leb(&r) == 0 && !rd_ok(&r));
	T_EQ_INT(rd_u8(&r), 0);
	r = rd_init(eleven, sizeof(eleven));
	T_CHECK(rd_leb(&r) == 0 && !rd_ok(&r));
	r = rd_init(ten81, sizeof(ten81));
	T_CHECK(rd_leb(&r) == 0 && !rd_ok(&r));
	/* a longer than needed encoding still reads (as both readers did) */
	r = rd_init(padded, sizeof(padded));
	T_EQ_INT(rd_leb(&r), 1);
	T_EQ_INT(rd_u8(&r), 7);
	T_CHECK(rd_ok(&r));
	r = rd_init(NULL, 0);
	T_CHECK(rd_leb(&r) == 0 && !rd_ok(&r));
}

static void
test_bits(void)
{
	uint8_t buf[8];
	struct wr w = wr_fixed(buf, sizeof(buf));

	wr_bit(&w, 1);
	wr_bits(&w, 0x5, 3);		/* 1 101 */
	wr_bits(&w, 0x3f, 6);		/* 1101 1111 | 11 */
	T_EQ_INT(w.len, 1);
	T_EQ_INT(buf[0], 0xdf);
	wr_flush(&w);			/* 11 000000 */
	T_EQ_INT(w.len, 2);
	T_EQ_INT(buf[1], 0xc0);
	wr_flush(&w);			/* nothing pending: nothing written */
	T_EQ_INT(w.len, 2);
	wr_bits(&w, 0x123456789aULL, 40);
	T_EQ_INT(w.len, 7);
	T_EQ_INT(buf[2], 0x12);
	T_EQ_INT(buf[6], 0x9a);
	T_CHECK(!w.bad);
}

static void
test_fixed_and_growing(void)
{
	uint8_t buf[4], big[10000];
	struct wr w = wr_fixed(buf, sizeof(buf));
	size_t i;

	memset(buf, 0xee, sizeof(buf));
	wr_bytes(&w, "abc", 3);
	wr_bytes(&w, "de", 2);		/* does not fit: nothing of it */
	T_CHECK(w.bad);
	T_EQ_INT(w.len, 3);
	T_EQ_INT(buf[3], 0xee);
	wr_u8(&w, 'x');			/* once bad, nothing more */
	T_EQ_INT(w.len, 3);
	T_EQ_INT(buf[3], 0xee);
	/* a sizing cursor (no buffer) refuses the first byte */
	w = wr_fixed(NULL, 0);
	wr_u8(&w, 1);
	T_CHECK(w.bad && w.len == 0);

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	w = wr_growing();
	for (i = 0; i < 5; i++)
		wr_bytes(&w, big, sizeof(big));
	wr_leb(&w, 1u << 20);
	T_CHECK(!w.bad);
	T_EQ_INT(w.len, 5 * sizeof(big) + 3);
	T_CHECK(w.cap >= w.len);
	T_CHECK(memcmp(w.p + 4 * sizeof(big), big, sizeof(big)) == 0);
	free(w.p);
}

int
main(void)
{
	T_RUN(test_leb_roundtrip);
	T_RUN(test_leb_limits);
	T_RUN(test_bits);
	T_RUN(test_fixed_and_growing);
	return T_DONE();
}
