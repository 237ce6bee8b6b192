/*
 * fuzz_wacc.c - the week accumulator's reader: wacc_deserialize() on the
 * whole input.  Its promises are checked: a blob it accepts serialises
 * again to bytes it accepts, and those round-trip byte for byte (the
 * writer is canonical); every truncation of the canonical form is
 * rejected; what it accepted can be merged, folded day by day and turned
 * into release inputs (whose leaves name configured services only)
 * without a fault.  The first input byte picks the week the blob must
 * claim, so a wrong week is exercised too.
 */
#include "fuzz.h"
#include "detect/catalog.h"
#include "common/log.h"
#include "common/period.h"
#include "aggregate/sketch.h"
#include "aggregate/wacc.h"

int FUZZ_INIT(wacc)(int *argc, char ***argv);
int FUZZ_ONE(wacc)(const uint8_t *data, size_t size);

static struct catalog *fw_cat;
static char *fw_depts[] = { "Legal", "Finance", "unassigned" };

int
FUZZ_INIT(wacc)(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 0, LOG_LVL_ERROR);
	period_set_tz("UTC");
	fw_cat = catalog_synthetic(8);
	return 0;
}

static void
fw_rel(const struct wacc *w)
{
	struct rel_dims dims = { fw_depts, 2, fw_cat, NULL, 0, "UTC" };
	struct wacc_rel r;
	int32_t days[16];
	size_t n, i, j;

	n = wacc_open_days(w, days, 16);
	FUZZ_ASSERT(n <= 16);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(i == 0 || days[i] > days[i - 1]);
		if (wacc_rel_day(w, days[i], &dims, &r) != 0)
			continue;
		for (j = 0; j < r.in.nleaf; j++) {
			FUZZ_ASSERT(r.leaf[j].dept >= 0 && r.leaf[j].dept <= 2);
			FUZZ_ASSERT(r.leaf[j].svc >= 0 && r.leaf[j].svc < 8);
			FUZZ_ASSERT(r.leaf[j].dev != NULL);
		}
		wacc_rel_free(&r);
	}
	if (wacc_rel_week(w, &dims, &r) == 0) {
		for (j = 0; j < r.in.nleaf; j++)
			FUZZ_ASSERT(r.leaf[j].svc >= 0 && r.leaf[j].svc < 8);
		wacc_rel_free(&r);
	}
}

int
FUZZ_ONE(wacc)(const uint8_t *data, size_t size)
{
	struct wacc *w, *w2, *m;
	uint8_t *b1, *b2;
	size_t n1, n2, i;
	int32_t week, days[16];

	if (size < 1)
		return 0;
	/* mostly the week the blob claims (202647 = zigzag 405294) */
	week = (data[0] & 7) == 7 ? 202648 : 202647;
	w = wacc_deserialize(week, data + 1, size - 1);
	if (w == NULL)
		return 0;
	FUZZ_ASSERT(wacc_week(w) == week);
	b1 = wacc_serialize_alloc(w, &n1);
	FUZZ_ASSERT(b1 != NULL && n1 == wacc_serialized_size(w));
	w2 = wacc_deserialize(week, b1, n1);
	FUZZ_ASSERT(w2 != NULL);
	b2 = wacc_serialize_alloc(w2, &n2);
	FUZZ_ASSERT(b2 != NULL && n2 == n1 && memcmp(b1, b2, n1) == 0);
	/* every truncation of the canonical form is refused (a sample) */
	for (i = 0; i < n1; i += 1 + n1 / 64) {
		struct wacc *t = wacc_deserialize(week, b1, i);

		FUZZ_ASSERT(t == NULL);
	}
	fw_rel(w);
	/* merge into a copy of itself, then fold every open day */
	m = wacc_deserialize(week, b1, n1);
	FUZZ_ASSERT(m != NULL);
	FUZZ_ASSERT(wacc_merge(m, w) == 0);
	n2 = wacc_open_days(m, days, 16);
	for (i = 0; i < n2; i++)
		FUZZ_ASSERT(wacc_fold_day(m, days[i]) == 0);
	FUZZ_ASSERT((wacc_nhcells(m) == 0 && wacc_nblind(m) == 0) || n2 == 16);
	fw_rel(m);
	free(b1);
	free(b2);
	wacc_free(w);
	wacc_free(w2);
	wacc_free(m);
	return 0;
}
