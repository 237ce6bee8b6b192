/*
 * tmp_keys_stub.h - TEMPORARY stand-ins for weekkey.c and
 * sketch_cell_key() (branch h-keys) so test_release links before that
 * branch is merged.  Deleted at the merge.
 */
#include <stdlib.h>
#include <string.h>

#include "siphash.h"
#include "sketch.h"
#include "weekkey.h"

struct weekkey {
	int32_t	week[8];
	uint8_t	rk[8][16];
	size_t	n;
};

struct weekkey *
weekkey_open(const char *dir, char *err, size_t errlen)
{
	(void)dir; (void)err; (void)errlen;
	return calloc(1, sizeof(struct weekkey));
}

void
weekkey_close(struct weekkey *k)
{
	free(k);
}

int
weekkey_has(const struct weekkey *k, int32_t week)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->week[i] == week)
			return 1;
	return 0;
}

int
weekkey_ensure(struct weekkey *k, int32_t week)
{
	size_t j;

	if (weekkey_has(k, week))
		return 0;
	if (k->n == 8)
		return -1;
	k->week[k->n] = week;
	for (j = 0; j < 16; j++)
		k->rk[k->n][j] = (uint8_t)(rand() & 0xff);
	k->n++;
	return 0;
}

uint64_t
weekkey_prf(const struct weekkey *k, int32_t week, const void *msg,
    size_t len)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->week[i] == week)
			return siphash24(k->rk[i], msg, len);
	return 0;
}

uint64_t
sketch_cell_key(const struct sketch *s,
    uint64_t (*rk)(void *arg, uint64_t token),
    uint64_t (*dense)(void *arg, const uint8_t *regs, size_t n), void *arg)
{
	uint64_t ck = 0;
	uint32_t i;

	if (s->regs != NULL)
		return dense(arg, s->regs, SKETCH_REGS);
	for (i = 0; i < s->n; i++)
		ck += rk(arg, s->sp[i] >> SKETCH_DROP_BITS);
	return ck;
}
