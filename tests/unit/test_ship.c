/*
 * test_ship.c - what a sensor puts in its outbox for the central
 * database, with no database reachable (the shipper thread retries in
 * the background and never succeeds):
 *  - after a flush, every cell of the open day and week grids as
 *    release_true_cells builds them, the periods' coverage and the day's
 *    blind figures; never anything else;
 *  - after a flush with nothing new, nothing more: only changed cells
 *    are put;
 *  - new traffic in one department x service puts that cell, its
 *    margins and the coverage again, with the new cumulative values,
 *    and leaves the other cells alone;
 *  - after a release pass (ship_forget) the weeks are opened whole
 *    again and give the same figures (nothing put).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aggregate/agg.h"
#include "aggregate/wacc.h"
#include "attribute/weekkey.h"
#include "common/config.h"
#include "common/log.h"
#include "common/period.h"
#include "detect/catalog.h"
#include "out/ship.h"
#include "release/release.h"
#include "store/outbox.h"
#include "store/vault.h"
#include "store/vaultdb.h"
#include "t.h"

#define MONDAY	1794787200	/* 2026-11-16 00:00 UTC, ISO 2026-W47 */
#define W47	202647
#define DAY1	20261116
#define NDEPT	2
#define NSVC	3

static char *depts[NDEPT] = { "Legal", "Sales" };
static struct catalog *cat;
static struct rel_dims dims;
static char err[512];

/* Hour 9 of day 1: dept d, svc s, devices 0..d+s. */
static void
fill(struct agg *a, struct weekkey *k, int only_d, int only_s, int hour)
{
	struct period p;
	int d, s, i;

	period_of(MONDAY + hour * 3600, &p);
	agg_packet(a, &p, 100);
	for (d = 0; d < NDEPT; d++)
		for (s = 0; s < NSVC; s++) {
			struct agg_cell *c;

			if (only_d >= 0 && (d != only_d || s != only_s))
				continue;
			c = agg_cell(a, &p, d, s);
			c->c[C_TLS] += (uint64_t)(10 * d + s + 1);
			c->c[C_DNS] += 3;
			for (i = 0; i <= d + s; i++) {
				uint8_t ad[16] = { 10, (uint8_t)d, 7,
				    (uint8_t)i };

				agg_device(a, &p, d, s,
				    weekkey_devhash(k, p.week, ad));
			}
		}
}

/* Everything waiting, taken and acknowledged (what a push would do). */
static long
drain(struct outbox *ob, struct outbox_rec *got, size_t max)
{
	long n = outbox_take(ob, got, max);

	if (n > 0)
		outbox_ack(ob, got, (size_t)n);
	return n;
}

static const struct outbox_rec *
find(const struct outbox_rec *v, long n, int type, int kind,
    const char *d, const char *s)
{
	long i;

	for (i = 0; i < n; i++)
		if (v[i].type == type && v[i].kind == kind &&
		    strcmp(v[i].dept, d) == 0 && strcmp(v[i].svc, s) == 0)
			return &v[i];
	return NULL;
}

static void
test_collect(void)
{
	struct weekkey *k = weekkey_open(NULL, err, sizeof(err));
	struct vault *v = vault_open(NULL, k, &dims, NULL, NULL, err,
	    sizeof(err));
	struct vaultdb *db = vaultdb_open(NULL, err, sizeof(err));
	struct agg *a = agg_new(100000, (size_t)1 << 26);
	struct config_central cc;
	uint8_t key[OUTBOX_KEY_LEN];
	struct outbox *ob;
	struct ship *s;
	struct outbox_rec *got = calloc(4096, sizeof(*got));
	const struct outbox_rec *x;
	struct wacc *w;
	struct wacc_rel wr;
	struct rel_cell *cells;
	size_t nday, nweek, i;
	int64_t seq;
	long n;

	T_CHECK(k != NULL && v != NULL && db != NULL && a != NULL);
	vault_set_dims(v, depts, NDEPT, cat);
	T_EQ_INT(vaultdb_create(db), 0);
	memset(key, 7, sizeof(key));
	ob = outbox_open(db, key, 1 << 24, err, sizeof(err));
	memset(&cc, 0, sizeof(cc));
	snprintf(cc.conninfo, sizeof(cc.conninfo),
	    "host=/nonexistent-aicensus dbname=x user=y");
	snprintf(cc.site, sizeof(cc.site), "t");
	s = ship_new(&cc, ob, err, sizeof(err));
	T_CHECK(s != NULL);
	if (s == NULL)
		return;

	/* first flush: the whole grid of the open day and week */
	fill(a, k, -1, -1, 9);
	T_EQ_INT(vault_flush(v, a), 0);
	T_EQ_INT(ship_collect(s, v, &dims), 0);
	n = drain(ob, got, 4096);
	/* the expected records, from the vault's own week */
	T_EQ_INT(vault_week_load(v, W47, &w, &seq), 0);
	T_EQ_INT(wacc_rel_day(w, DAY1, &dims, &wr), 0);
	T_EQ_INT(release_true_cells(&dims, &wr.in, &cells, &nday), 0);
	for (i = 0; i < nday; i++) {
		x = find(got, n, OB_CELL, REL_DAY, cells[i].dept,
		    cells[i].svc);
		T_CHECK(x != NULL && x->period == DAY1 &&
		    x->v[RM_DEVICES] == cells[i].m[RM_DEVICES] &&
		    x->v[RM_DNS] == cells[i].m[RM_DNS]);
	}
	free(cells);
	wacc_rel_free(&wr);
	T_EQ_INT(wacc_rel_week(w, &dims, &wr), 0);
	T_EQ_INT(release_true_cells(&dims, &wr.in, &cells, &nweek), 0);
	for (i = 0; i < nweek; i++) {
		x = find(got, n, OB_CELL, REL_WEEK, cells[i].dept,
		    cells[i].svc);
		T_CHECK(x != NULL && x->period == W47 &&
		    memcmp(x->v, cells[i].m, sizeof(x->v)) == 0);
	}
	free(cells);
	wacc_rel_free(&wr);
	wacc_free(w);
	/* cells + 2 coverages + the day's blind figures, nothing else */
	T_EQ_INT(n, (long)(nday + nweek + 2 + RB_N));
	x = find(got, n, OB_CELL, REL_WEEK, "*", "*");
	T_CHECK(x != NULL && x->v[RM_DEVICES] == 3 + 4);	/* distinct addresses */
	x = find(got, n, OB_PERIOD, REL_DAY, "", "");
	T_CHECK(x != NULL && x->v[0] == 1 && x->v[1] == 24);
	x = find(got, n, OB_BLIND, REL_DAY, "", "packets");
	T_CHECK(x != NULL && x->v[0] == 1);

	/* nothing new: nothing put */
	T_EQ_INT(vault_flush(v, a), 0);
	T_EQ_INT(ship_collect(s, v, &dims), 0);
	T_EQ_INT(drain(ob, got, 4096), 0);

	/* Sales x svc 2 again in hour 10: that cell, its margins, coverage */
	fill(a, k, 1, 2, 10);
	T_EQ_INT(vault_flush(v, a), 0);
	T_EQ_INT(ship_collect(s, v, &dims), 0);
	n = drain(ob, got, 4096);
	T_CHECK(n > 0 && n < (long)(nday + nweek));
	x = find(got, n, OB_CELL, REL_WEEK, "Sales", catalog_service(cat,
	    2)->id);
	/* cumulative: 2 hours of 13 TLS connections, 4 devices */
	T_CHECK(x != NULL && x->v[RM_TLS] == 26 && x->v[RM_DEVICES] == 4 &&
	    x->v[RM_DEVHOURS] == 8);
	T_CHECK(find(got, n, OB_CELL, REL_WEEK, "*", "*") != NULL);
	T_CHECK(find(got, n, OB_CELL, REL_WEEK, "Legal",
	    catalog_service(cat, 0)->id) == NULL);
	x = find(got, n, OB_PERIOD, REL_WEEK, "", "");
	T_CHECK(x != NULL && x->v[0] == 2);

	/* opened whole again: the same figures, nothing put */
	ship_forget(s);
	T_EQ_INT(ship_collect(s, v, &dims), 0);
	T_EQ_INT(drain(ob, got, 4096), 0);

	ship_free(s);
	outbox_close(ob);
	vaultdb_close(db);
	vault_close(v);
	agg_free(a);
	weekkey_close(k);
	free(got);
}

/* Lines of fd 2 while fn runs that hold needle. */
static int
count_log(const char *needle, void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/aic-test-ship-XXXXXX", line[1024];
	int fd = mkstemp(path), saved = dup(2), n = 0;
	FILE *f;

	fflush(stderr);
	dup2(fd, 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			n += strstr(line, needle) != NULL;
		fclose(f);
	}
	unlink(path);
	return n;
}

struct full {
	struct ship		*s;
	struct vault		*v;
	struct agg		*a;
	struct weekkey		*k;
};

static void
three_flushes(void *arg)
{
	struct full *f = arg;
	int h;

	for (h = 11; h < 14; h++) {
		fill(f->a, f->k, -1, -1, h);
		T_EQ_INT(vault_flush(f->v, f->a), 0);
		T_EQ_INT(ship_collect(f->s, f->v, &dims), 0);
	}
}

/*
 * An outbox too small for a flush's changes: they are dropped and
 * counted, one log line for the whole incident (three flushes), and
 * once there is room the cells go with their newest values and an
 * outbox_dropped figure on the day.
 */
static void
test_full(void)
{
	struct full f;
	struct vaultdb *db = vaultdb_open(NULL, err, sizeof(err));
	struct config_central cc;
	uint8_t key[OUTBOX_KEY_LEN];
	struct outbox *ob;
	struct ship_stats st;
	struct outbox_rec *got = calloc(4096, sizeof(*got));
	const struct outbox_rec *x;
	long n;

	f.k = weekkey_open(NULL, err, sizeof(err));
	f.v = vault_open(NULL, f.k, &dims, NULL, NULL, err, sizeof(err));
	f.a = agg_new(100000, (size_t)1 << 26);
	vault_set_dims(f.v, depts, NDEPT, cat);
	T_EQ_INT(vaultdb_create(db), 0);
	memset(key, 9, sizeof(key));
	ob = outbox_open(db, key, 1500, err, sizeof(err));
	memset(&cc, 0, sizeof(cc));
	snprintf(cc.conninfo, sizeof(cc.conninfo),
	    "host=/nonexistent-aicensus dbname=x user=y");
	snprintf(cc.site, sizeof(cc.site), "t");
	f.s = ship_new(&cc, ob, err, sizeof(err));
	T_CHECK(f.s != NULL && ob != NULL);
	if (f.s == NULL || ob == NULL)
		return;
	log_set_level(LOG_LVL_WARN);
	T_EQ_INT(count_log("outbox is full", three_flushes, &f), 1);
	log_set_level(LOG_LVL_ERROR);
	ship_stats(f.s, &st);
	T_CHECK(st.dropped > 0);
	T_CHECK(outbox_bytes(ob) <= 1500);
	/* room again: drained, then one more flush goes whole */
	drain(ob, got, 4096);
	outbox_close(ob);
	ship_free(f.s);
	ob = outbox_open(db, key, 1 << 24, err, sizeof(err));
	f.s = ship_new(&cc, ob, err, sizeof(err));
	/* a new ship remembers nothing: everything open is put again */
	T_EQ_INT(ship_collect(f.s, f.v, &dims), 0);
	n = drain(ob, got, 4096);
	x = find(got, n, OB_CELL, REL_WEEK, "Sales", catalog_service(cat,
	    2)->id);
	/* 3 hours of 13 TLS connections */
	T_CHECK(x != NULL && x->v[RM_TLS] == 39);
	ship_free(f.s);
	outbox_close(ob);
	vaultdb_close(db);
	vault_close(f.v);
	agg_free(f.a);
	weekkey_close(f.k);
	free(got);
}

int
main(void)
{
	log_init("test_ship", 0, LOG_LVL_ERROR);
	period_set_tz("UTC");
	cat = catalog_synthetic(NSVC);
	dims.dept = depts;
	dims.ndept = NDEPT;
	dims.cat = cat;
	dims.timezone = "UTC";
	T_RUN(test_collect);
	T_RUN(test_full);
	catalog_free(cat);
	return T_DONE();
}
