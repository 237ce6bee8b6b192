/*
 * test_wacc.c - the week accumulator's serialised form and its index.
 *
 * The bytes of a small accumulator are pinned: they were written by the
 * build before issue 11 (/work/base-build), and the vault keeps such
 * blobs across upgrades, so the shared writer (common/wr.h) and reader
 * (rd_leb) must keep them exactly.  Then the round trip, every
 * truncation and a trailing byte, and the one open-addressing index
 * (idx_find) over many names and cells, across its rebuilds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/anomaly.h"
#include "common/period.h"
#include "aggregate/sketch.h"
#include "aggregate/wacc.h"
#include "t.h"

static const uint8_t pinned[] = {
	0x01, 0xae, 0xde, 0x18, 0x03, 0x07, 0x46, 0x69, 0x6e, 0x61, 0x6e, 0x63,
	0x65, 0x0e, 0x6f, 0x70, 0x65, 0x6e, 0x61, 0x69, 0x2d, 0x63, 0x68, 0x61,
	0x74, 0x67, 0x70, 0x74, 0x05, 0x53, 0x61, 0x6c, 0x65, 0x73, 0x01, 0xfc,
	0xd1, 0xd4, 0x09, 0x00, 0x01, 0x00, 0x01, 0x01, 0xe9, 0x07, 0xd1, 0x0f,
	0xb9, 0x17, 0xa1, 0x1f, 0x89, 0x27, 0xf1, 0x2e, 0x02, 0x0f, 0x01, 0x00,
	0x02, 0x26, 0x02, 0x46, 0x8a, 0xcf, 0x13, 0xde, 0xdc, 0xba, 0x98, 0x76,
	0x00, 0x01, 0xa0, 0xb4, 0x87, 0xb0, 0x0d, 0xfd, 0xd1, 0xd4, 0x09, 0x02,
	0x01, 0xac, 0x02, 0xe9, 0x07, 0xd1, 0x0f, 0xb9, 0x17, 0xa1, 0x1f, 0x89,
	0x27, 0xf1, 0x2e, 0x0f, 0x01, 0x00, 0x02, 0x26, 0x02, 0x46, 0x8a, 0xcf,
	0x13, 0xde, 0xdc, 0xba, 0x98, 0x76, 0x00, 0x01, 0xa0, 0xb4, 0x87, 0xb0,
	0x0d, 0xfd, 0xd1, 0xd4, 0x09, 0x0b, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
	0x06, 0x07, 0x08, 0x09, 0x0a, 0x01, 0x06, 0x62, 0x61, 0x64, 0x5f, 0x69,
	0x70, 0x02
};

/* Two hour cells (one on a day then folded into the week), one blind
 * hour with one anomaly. */
static struct wacc *
small(void)
{
	struct wacc *w = wacc_new(202647);
	struct sketch s;
	uint64_t c[C_N], b[BL_N], an[ANOM_N];
	size_t i;

	sketch_init(&s);
	sketch_add(&s, 0x0123456789abcdefULL);
	sketch_add(&s, 0xfedcba9876543210ULL);
	for (i = 0; i < C_N; i++)
		c[i] = i * 1000 + 1;
	T_EQ_INT(wacc_add_cell(w, 1795132800, 20261116, "Finance",
	    "openai-chatgpt", c, &s), 0);
	c[0] = 300;
	T_EQ_INT(wacc_add_cell(w, 1795222800, 20261117, "Sales",
	    "openai-chatgpt", c, &s), 0);
	for (i = 0; i < BL_N; i++)
		b[i] = i;
	memset(an, 0, sizeof(an));
	an[anomaly_from_name("bad_ip", 6)] = 2;
	T_EQ_INT(wacc_add_blind(w, 1795222800, 20261117, b, an), 0);
	T_EQ_INT(wacc_fold_day(w, 20261116), 0);
	sketch_reset(&s);
	return w;
}

static void
test_pinned_bytes(void)
{
	struct wacc *w = small();
	uint8_t buf[sizeof(pinned)], *p, *q;
	struct wacc_ser *z;
	size_t len;

	T_EQ_INT(wacc_serialized_size(w), sizeof(pinned));
	T_EQ_INT(wacc_serialize(w, buf, sizeof(buf)), sizeof(pinned));
	T_CHECK(memcmp(buf, pinned, sizeof(pinned)) == 0);
	/* one byte short of room: nothing, not a cut blob */
	T_EQ_INT(wacc_serialize(w, buf, sizeof(buf) - 1), 0);
	p = wacc_serialize_alloc(w, &len);
	T_CHECK(p != NULL && len == sizeof(pinned) &&
	    memcmp(p, pinned, len) == 0);
	free(p);
	/* the vault's sliced writer, one item a step */
	T_CHECK((z = wacc_ser_new()) != NULL);
	while (wacc_ser_step(w, z, 1) == 1)
		;
	q = wacc_ser_take(z, &len);
	T_CHECK(q != NULL && len == sizeof(pinned) &&
	    memcmp(q, pinned, len) == 0);
	free(q);
	wacc_ser_free(z);
	wacc_free(w);
}

static void
test_read_back(void)
{
	uint8_t more[sizeof(pinned) + 1], *p;
	struct wacc *w;
	size_t n, len;
	int bad = 0;

	T_CHECK((w = wacc_deserialize(202647, pinned, sizeof(pinned))) !=
	    NULL);
	T_EQ_INT(wacc_nleaves(w), 1);
	T_EQ_INT(wacc_nhcells(w), 1);
	T_EQ_INT(wacc_nblind(w), 1);
	T_CHECK(wacc_day_released(w, 20261116));
	p = wacc_serialize_alloc(w, &len);
	T_CHECK(p != NULL && len == sizeof(pinned) &&
	    memcmp(p, pinned, len) == 0);
	free(p);
	wacc_free(w);
	/* another week's blob is refused */
	T_CHECK(wacc_deserialize(202648, pinned, sizeof(pinned)) == NULL);
	/* every truncation, and a trailing byte, are refused */
	for (n = 0; n < sizeof(pinned); n++)
		if ((w = wacc_deserialize(202647, pinned, n)) != NULL) {
			bad++;
			wacc_free(w);
		}
	T_EQ_INT(bad, 0);
	memcpy(more, pinned, sizeof(pinned));
	more[sizeof(pinned)] = 0;
	T_CHECK(wacc_deserialize(202647, more, sizeof(more)) == NULL);
}

/* Many names and cells: each found again, none made twice. */
static void
test_index(void)
{
	struct wacc *w = wacc_new(202647), *r;
	struct sketch s;
	uint64_t c[C_N];
	char d[32], v[32];
	uint8_t *p;
	size_t i, len;
	int bad = 0;

	sketch_init(&s);
	memset(c, 0, sizeof(c));
	c[0] = 1;
	for (i = 0; i < 3000; i++) {
		snprintf(d, sizeof(d), "dept-%zu", i % 300);
		snprintf(v, sizeof(v), "svc-%zu", i % 7);
		if (wacc_add_cell(w, 1795132800 + 3600 * (int64_t)(i % 11),
		    20261116, d, v, c, &s) != 0)
			bad++;
	}
	T_EQ_INT(bad, 0);
	/* lcm(300, 7, 11) > 3000: 3000 distinct cells, 2100 pairs */
	T_EQ_INT(wacc_nhcells(w), 3000);
	for (i = 0; i < 3000; i++) {
		snprintf(d, sizeof(d), "dept-%zu", i % 300);
		snprintf(v, sizeof(v), "svc-%zu", i % 7);
		wacc_add_cell(w, 1795132800 + 3600 * (int64_t)(i % 11),
		    20261116, d, v, c, &s);
	}
	T_EQ_INT(wacc_nhcells(w), 3000);
	/* folded: one leaf per (department, service) */
	T_EQ_INT(wacc_fold_day(w, 20261116), 0);
	T_EQ_INT(wacc_nleaves(w), 2100);
	T_EQ_INT(wacc_nhcells(w), 0);
	/* read back, the index is built anew and finds every name */
	p = wacc_serialize_alloc(w, &len);
	T_CHECK(p != NULL && (r = wacc_deserialize(202647, p, len)) != NULL);
	T_EQ_INT(wacc_merge(r, w), 0);
	T_EQ_INT(wacc_nleaves(r), 2100);
	free(p);
	wacc_free(r);
	wacc_free(w);
	sketch_reset(&s);
}

int
main(void)
{
	period_set_tz("UTC");
	T_RUN(test_pinned_bytes);
	T_RUN(test_read_back);
	T_RUN(test_index);
	return T_DONE();
}
