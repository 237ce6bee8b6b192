/*
 * test_outbox.c - the durable outbox: the latest value of a cell wins
 * (one row per cell however often it changes); an acknowledgement
 * deletes only the value shipped, never a newer one put meanwhile; the
 * bound drops and counts what does not fit, and room comes back after
 * an acknowledgement; rows survive closing and reopening the file; at
 * rest the file holds no figure, department or service name in clear;
 * a row sealed under another key is dropped, not shipped; the key file
 * is made 0600 and read back the same.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/outbox.h"
#include "store/vaultdb.h"
#include "t.h"

static char dir[64];
static char err[256];
static uint8_t key[OUTBOX_KEY_LEN];

static struct vaultdb *
open_db(const char *name)
{
	char p[128];
	struct vaultdb *d;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	d = vaultdb_open(p, err, sizeof(err));
	if (d != NULL && vaultdb_schema(d, &(int){ 0 }) == VDB_EMPTY)
		vaultdb_create(d);
	return d;
}

static void
cell(struct outbox_rec *r, const char *dept, const char *svc, uint64_t base)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->type = OB_CELL;
	r->kind = REL_WEEK;
	r->period = 202647;
	snprintf(r->dept, sizeof(r->dept), "%s", dept);
	snprintf(r->svc, sizeof(r->svc), "%s", svc);
	for (i = 0; i < RM_N; i++)
		r->v[i] = base + (uint64_t)i;
}

static void
test_latest_wins(void)
{
	struct vaultdb *d = open_db("a.db");
	struct outbox *o;
	struct outbox_rec r[3], got[8];

	T_CHECK(d != NULL);
	o = outbox_open(d, key, 1 << 20, err, sizeof(err));
	T_CHECK(o != NULL);
	cell(&r[0], "Legal", "chatgpt", 100);
	cell(&r[1], "Legal", "claude", 200);
	T_EQ_INT(outbox_put(o, r, 2), 0);
	cell(&r[0], "Legal", "chatgpt", 150);	/* a later flush */
	T_EQ_INT(outbox_put(o, r, 1), 0);
	T_EQ_INT(outbox_count(o), 2);
	T_EQ_INT(outbox_take(o, got, 8), 2);
	/* oldest first: claude (seq 2), then chatgpt's new value (seq 3) */
	T_EQ_STR(got[0].svc, "claude");
	T_EQ_INT(got[0].v[RM_DEVICES], 200);
	T_EQ_STR(got[1].svc, "chatgpt");
	T_EQ_INT(got[1].v[RM_DEVICES], 150);
	T_EQ_INT(got[1].v[RM_DOWN], 150 + RM_DOWN);
	T_EQ_INT(got[1].kind, REL_WEEK);
	T_EQ_INT(got[1].period, 202647);
	/* a value put while the batch is in flight survives its ack */
	cell(&r[0], "Legal", "chatgpt", 175);
	T_EQ_INT(outbox_put(o, r, 1), 0);
	T_EQ_INT(outbox_ack(o, got, 2), 0);
	T_EQ_INT(outbox_count(o), 1);
	T_EQ_INT(outbox_take(o, got, 8), 1);
	T_EQ_INT(got[0].v[RM_DEVICES], 175);
	T_EQ_INT(outbox_ack(o, got, 1), 0);
	T_EQ_INT(outbox_count(o), 0);
	outbox_close(o);
	vaultdb_close(d);
}

static void
test_bound(void)
{
	struct vaultdb *d = open_db("b.db");
	struct outbox *o;
	struct outbox_rec r[100], got[100];
	char svc[16];
	long dropped;
	int i;

	o = outbox_open(d, key, 2000, err, sizeof(err));
	T_CHECK(o != NULL);
	for (i = 0; i < 100; i++) {
		snprintf(svc, sizeof(svc), "svc%d", i);
		cell(&r[i], "Finance", svc, (uint64_t)i);
	}
	dropped = outbox_put(o, r, 100);
	T_CHECK(dropped > 0 && dropped < 100);
	T_EQ_INT(outbox_dropped(o), (uint64_t)dropped);
	T_CHECK(outbox_bytes(o) <= 2000);
	T_EQ_INT(outbox_count(o), 100 - dropped);
	/* shipped: room again */
	T_EQ_INT(outbox_take(o, got, 100), 100 - dropped);
	T_EQ_INT(outbox_ack(o, got, (size_t)(100 - dropped)), 0);
	T_EQ_INT(outbox_put(o, r + 99, 1), 0);
	T_EQ_INT(outbox_count(o), 1);
	outbox_close(o);
	vaultdb_close(d);
}

/* No figure, name or id-input in clear anywhere in the file or WAL. */
static int
file_has(const char *path, const void *needle, size_t n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len, i;
	int found = 0;

	if (f == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	if (buf != NULL && fread(buf, 1, (size_t)len, f) == (size_t)len)
		for (i = 0; i + (long)n <= len && !found; i++)
			found = memcmp(buf + i, needle, n) == 0;
	free(buf);
	fclose(f);
	return found;
}

static void
test_sealed_at_rest(void)
{
	struct vaultdb *d = open_db("c.db");
	struct outbox *o;
	struct outbox_rec r, got[2];
	uint8_t other[OUTBOX_KEY_LEN];
	uint64_t fig = 0x1122334455667788ULL;
	char p[128], w[140];
	int i;

	o = outbox_open(d, key, 1 << 20, err, sizeof(err));
	cell(&r, "Zebra-Marker-Dept", "quokka-marker-svc", fig);
	T_EQ_INT(outbox_put(o, &r, 1), 0);
	outbox_close(o);
	vaultdb_close(d);
	snprintf(p, sizeof(p), "%s/c.db", dir);
	snprintf(w, sizeof(w), "%s-wal", p);
	for (i = 0; i < 2; i++) {
		const char *f = i ? w : p;
		uint8_t le[8];
		int j;

		for (j = 0; j < 8; j++)
			le[j] = (uint8_t)(fig >> (8 * j));
		T_CHECK(!file_has(f, "Zebra-Marker-Dept", 17));
		T_CHECK(!file_has(f, "quokka-marker-svc", 17));
		T_CHECK(!file_has(f, le, 8));
	}
	/* reopened: the row is still there and opens */
	d = open_db("c.db");
	o = outbox_open(d, key, 1 << 20, err, sizeof(err));
	T_EQ_INT(outbox_take(o, got, 2), 1);
	T_EQ_STR(got[0].dept, "Zebra-Marker-Dept");
	T_CHECK(got[0].v[RM_DEVICES] == fig);
	outbox_close(o);
	/* under another key it does not open: dropped, counted */
	memset(other, 0x5a, sizeof(other));
	o = outbox_open(d, other, 1 << 20, err, sizeof(err));
	T_EQ_INT(outbox_take(o, got, 2), 0);
	T_EQ_INT(outbox_bad(o), 1);
	T_EQ_INT(outbox_count(o), 0);
	outbox_close(o);
	vaultdb_close(d);
}

static void
test_key_file(void)
{
	uint8_t a[OUTBOX_KEY_LEN], b[OUTBOX_KEY_LEN];
	char p[128];
	struct stat st;

	snprintf(p, sizeof(p), "%s/outbox.key", dir);
	T_EQ_INT(outbox_key_load(p, a, err, sizeof(err)), 0);
	T_CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
	T_EQ_INT(outbox_key_load(p, b, err, sizeof(err)), 0);
	T_CHECK(memcmp(a, b, sizeof(a)) == 0);
	chmod(p, 0644);
	T_EQ_INT(outbox_key_load(p, b, err, sizeof(err)), -1);
}

int
main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/aic-outbox.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	memset(key, 0x42, sizeof(key));
	T_RUN(test_latest_wins);
	T_RUN(test_bound);
	T_RUN(test_sealed_at_rest);
	T_RUN(test_key_file);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return T_DONE();
}
