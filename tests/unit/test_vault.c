/*
 * test_vault.c - the vault and its week accumulator: what a flush seals
 * comes back exactly through a k = 1 release; nothing identifying is in
 * the file or its WAL; release deletes the rows and the key; flushing in
 * slices equals flushing at once; a failed flush keeps its counts; a
 * crash between the release commit and the vault's own step releases
 * once; late data for a released week is counted, never stored; mode
 * 0644 is refused; a v1 database written as the old store.c did is
 * released and scrubbed; the wacc reader rejects every truncation.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "aggregate/agg.h"
#include "detect/catalog.h"
#include "common/log.h"
#include "common/period.h"
#include "release/due.h"
#include "release/release.h"
#include "release/released.h"
#include "aggregate/sketch.h"
#include "t.h"
#include "tsql.h"
#include "store/vault.h"
#include "aggregate/wacc.h"
#include "attribute/weekkey.h"

#define MONDAY	1794787200	/* 2026-11-16 00:00 UTC, ISO 2026-W47 */
#define W47	202647
#define W48	202648
#define DAY1	20261116
#define DAY2	20261117
#define NDEPT	3
#define NSVC	4

static char *depts[NDEPT] = { "Legal-Marker-Dept", "Finance-Marker-Dept",
	"Sales-Marker-Dept" };
static struct catalog *cat;
static struct rel_dims dims;
static struct rel_params k1 = { 1 };
static char dir[64];
static char err[1024];

static void
path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static void
rm_db(const char *name)
{
	char p[256], q[300];

	path_of(p, sizeof(p), name);
	unlink(p);
	snprintf(q, sizeof(q), "%s-wal", p);
	unlink(q);
	snprintf(q, sizeof(q), "%s-shm", p);
	unlink(q);
}

static uint8_t
addr_of(int dept, int dev, uint8_t a[16])
{
	memset(a, 0, 16);
	a[0] = 10;
	a[1] = (uint8_t)dept;
	a[2] = 7;
	a[3] = (uint8_t)dev;
	return a[3];
}

/*
 * A known traffic pattern: dept d, svc s, hour h of days 1 and 2: devices
 * 0..(d+s) of dept d; tls = 10*d + s + 1 each hour; dns = 3.
 * Hours 9 and 14 of each day.  Hashes recorded in hashes[] (when given).
 */
static size_t
fill(struct agg *a, struct weekkey *k, int64_t monday, int ndays,
    uint64_t *hashes, size_t maxh)
{
	size_t nh = 0;
	int day, h, d, s, i;

	for (day = 0; day < ndays; day++)
		for (h = 9; h <= 14; h += 5) {
			struct period p;

			period_of(monday + day * 86400 + h * 3600, &p);
			agg_packet(a, &p, 100);
			agg_blind(a, &p, BL_NOSNI, 2);
			agg_anomaly(a, &p, ANOM_TLS_MALFORMED);
			if (h == 14) {	/* blind spots reports name */
				agg_anomaly(a, &p, ANOM_TLS_UNREADABLE);
				agg_anomaly(a, &p, ANOM_TCP_OVERLAP_CONFLICT);
				agg_anomaly(a, &p,
				    ANOM_QUIC_CRYPTO_CONFLICT);
			}
			for (d = 0; d < NDEPT; d++)
				for (s = 0; s < NSVC; s++) {
					struct agg_cell *c = agg_cell(a, &p, d,
					    s);

					c->c[C_TLS] += (uint64_t)(10 * d + s + 1);
					c->c[C_DNS] += 3;
					for (i = 0; i <= d + s; i++) {
						uint8_t ad[16];
						uint64_t hv;

						addr_of(d, i, ad);
						hv = weekkey_devhash(k, p.week, ad);
						agg_device(a, &p, d, s, hv);
						if (hashes != NULL && nh < maxh)
							hashes[nh++] = hv;
					}
				}
		}
	return nh;
}

static struct reldb *
relopen(const char *name)
{
	char p[256];
	struct reldb *r;

	rm_db(name);
	path_of(p, sizeof(p), name);
	if ((r = reldb_open(p, err, sizeof(err))) == NULL)
		fprintf(stderr, "reldb_open: %s\n", err);
	return r;
}

static struct released *
rdopen(const char *name)
{
	char p[256];
	struct released *r;

	path_of(p, sizeof(p), name);
	if ((r = released_open(p, err, sizeof(err))) == NULL)
		fprintf(stderr, "released_open: %s\n", err);
	return r;
}

/* The expected exact week figures of fill() over ndays days. */
static void
check_week(struct released *rd, int ndays)
{
	struct rel_cell c;
	int d, s;
	uint64_t all = 0;

	for (d = 0; d < NDEPT; d++)
		for (s = 0; s < NSVC; s++) {
			char sid[16];

			snprintf(sid, sizeof(sid), "svc-%d", s);
			T_EQ_INT(released_cell(rd, REL_WEEK, W47, depts[d], sid,
			    &c), 0);
			T_EQ_INT(c.m[RM_DEVICES], d + s + 1);
			T_EQ_INT(c.m[RM_TLS], (10 * d + s + 1) * 2 * ndays);
			T_EQ_INT(c.m[RM_DNS], 3 * 2 * ndays);
			/* device-hours: (d + s + 1) devices in 2 hours a day */
			T_EQ_INT(c.m[RM_DEVHOURS], (d + s + 1) * 2 * ndays);
			all += (uint64_t)(10 * d + s + 1) * 2 * ndays;
		}
	T_EQ_INT(released_cell(rd, REL_WEEK, W47, REL_ALL, REL_ALL, &c), 0);
	T_EQ_INT(c.m[RM_TLS], all);
	/* devices of different departments are different */
	T_EQ_INT(c.m[RM_DEVICES], 3 + 4 + 5 + 3);
}

static int64_t
count_sql(const char *name, const char *sql)
{
	char p[256];

	path_of(p, sizeof(p), name);
	return t_sql_int(p, sql);
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1)) != NULL)
		*len = fread(b, 1, (size_t)n, f);
	fclose(f);
	return b;
}

static int
contains(const uint8_t *h, size_t hl, const void *n, size_t nl)
{
	return hl >= nl && memmem(h, hl, n, nl) != NULL;
}

/* Any of the hashes (8 bytes, 5-byte tokens, either order) or names. */
static size_t
scan_file(const char *path, const uint64_t *hs, size_t nh)
{
	size_t len, i, found = 0;
	uint8_t *b = slurp(path, &len), le[8], be[8];
	int j;

	if (b == NULL)
		return 0;
	for (i = 0; i < nh; i++) {
		for (j = 0; j < 8; j++) {
			le[j] = (uint8_t)(hs[i] >> (8 * j));
			be[j] = (uint8_t)(hs[i] >> (56 - 8 * j));
		}
		/* 5-byte token = the top 40 bits: be[0..4], le[3..7] */
		if (contains(b, len, le, 8) || contains(b, len, be, 8) ||
		    contains(b, len, be, 5) || contains(b, len, le + 3, 5))
			found++;
	}
	for (i = 0; i < NDEPT; i++)
		if (contains(b, len, depts[i], strlen(depts[i])))
			found++;
	free(b);
	return found;
}

static struct vault *
vopen(const char *name, struct weekkey *k)
{
	char p[256];
	struct vault *v;

	if (name != NULL)
		path_of(p, sizeof(p), name);
	if ((v = vault_open(name ? p : NULL, k, &dims, NULL, NULL, err,
	    sizeof(err))) == NULL)
		fprintf(stderr, "vault_open: %s\n", err);
	else
		vault_set_dims(v, depts, NDEPT, cat);
	return v;
}

static void
test_wacc_roundtrip(void)
{
	struct wacc *w = wacc_new(W47), *r;
	struct agg *a = agg_new(100000, (size_t)1 << 28);
	struct weekkey *k = weekkey_open(NULL, err, sizeof(err));
	char *sv[NSVC] = { "svc-0", "svc-1", "svc-2", "svc-3" };
	uint8_t *b1, *b2;
	size_t n1, n2, i, rejected = 0;
	int32_t days[8];

	fill(a, k, MONDAY, 3, NULL, 0);
	T_EQ_INT(wacc_add_agg(w, a, W47, depts, NDEPT, sv, NSVC, NULL), 0);
	T_EQ_INT(wacc_nhcells(w), 3 * 2 * NDEPT * NSVC);
	T_EQ_INT(wacc_open_days(w, days, 8), 3);
	T_EQ_INT(wacc_fold_day(w, DAY1), 0);
	T_EQ_INT(wacc_open_days(w, days, 8), 2);
	T_EQ_INT(days[0], DAY2);
	T_EQ_INT(wacc_nleaves(w), NDEPT * NSVC);
	n1 = wacc_serialized_size(w);
	b1 = malloc(n1 + 1);
	T_EQ_INT(wacc_serialize(w, b1, n1), n1);
	T_EQ_INT(wacc_serialize(w, b1, n1 - 1), 0);	/* cap short */
	/* the one-pass writer the vault uses makes the same bytes */
	b2 = wacc_serialize_alloc(w, &n2);
	T_CHECK(b2 != NULL && n2 == n1 && memcmp(b1, b2, n1) == 0);
	free(b2);
	T_CHECK((r = wacc_deserialize(W47, b1, n1)) != NULL);
	T_CHECK(wacc_deserialize(W48, b1, n1) == NULL);	/* other week */
	if (r != NULL) {
		n2 = wacc_serialized_size(r);
		b2 = malloc(n2);
		T_EQ_INT(wacc_serialize(r, b2, n2), n1);
		T_CHECK(n2 == n1 && memcmp(b1, b2, n1) == 0);
		T_CHECK(wacc_day_released(r, DAY1));
		free(b2);
		wacc_free(r);
	}
	/* every truncation, and one trailing byte, is rejected */
	for (i = 0; i < n1; i++) {
		struct wacc *t = wacc_deserialize(W47, b1, i);

		if (t == NULL)
			rejected++;
		wacc_free(t);
	}
	T_EQ_INT(rejected, n1);
	b1[n1] = 0;
	T_CHECK(wacc_deserialize(W47, b1, n1 + 1) == NULL);
	free(b1);
	wacc_free(w);
	agg_free(a);
	weekkey_close(k);
}

static void
test_wacc_rel(void)
{
	struct wacc *w = wacc_new(W47);
	struct agg *a = agg_new(100000, (size_t)1 << 28);
	struct weekkey *k = weekkey_open(NULL, err, sizeof(err));
	/* svc-9 is not in the catalog; dept "Gone" is not configured */
	char *sv[NSVC] = { "svc-0", "svc-1", "svc-9", "svc-3" };
	char *dp[NDEPT] = { "Legal-Marker-Dept", "Gone", "Sales-Marker-Dept" };
	struct wacc_rel r;
	size_t i;
	int unas = 0;

	fill(a, k, MONDAY, 2, NULL, 0);
	T_EQ_INT(wacc_add_agg(w, a, W47, dp, NDEPT, sv, NSVC, NULL), 0);
	T_EQ_INT(wacc_rel_day(w, DAY1, &dims, &r), 0);
	T_EQ_INT(r.in.kind, REL_DAY);
	T_EQ_INT(r.in.period, DAY1);
	T_EQ_INT(r.in.hours_total, 24);
	T_EQ_INT(r.in.coverage_hours, 2);
	T_EQ_INT(r.in.blind[RB_PACKETS], 2);
	T_EQ_INT(r.in.blind[RB_NOSNI], 4);
	T_EQ_INT(r.in.blind[RB_PARSE_FAILURES], 5);
	T_EQ_INT(r.in.blind[RB_UNREADABLE], 1);
	T_EQ_INT(r.in.blind[RB_CONFLICT], 2);
	T_EQ_INT(r.in.nleaf, NDEPT * (NSVC - 1));
	T_EQ_INT(r.dropped, 2 * NDEPT);
	for (i = 0; i < r.in.nleaf; i++)
		if (r.leaf[i].dept == NDEPT) {
			unas++;
			T_EQ_INT(r.leaf[i].m[RM_TLS], 2 * (10 + r.leaf[i].svc +
			    1));
		}
	T_EQ_INT(unas, NSVC - 1);
	wacc_rel_free(&r);
	T_EQ_INT(wacc_fold_day(w, DAY1), 0);
	T_EQ_INT(wacc_rel_week(w, &dims, &r), 0);
	T_EQ_INT(r.in.hours_total, 168);
	T_EQ_INT(r.in.coverage_hours, 4);
	T_EQ_INT(r.in.blind[RB_PACKETS], 0);
	T_EQ_INT(r.in.nleaf, NDEPT * (NSVC - 1));
	for (i = 0; i < r.in.nleaf; i++)
		if (r.leaf[i].dept == 0 && r.leaf[i].svc == 3) {
			T_EQ_INT(r.leaf[i].m[RM_DEVHOURS], 4 * 4);
			T_EQ_INT(sketch_estimate(r.leaf[i].dev), 4);
		}
	wacc_rel_free(&r);
	wacc_free(w);
	agg_free(a);
	weekkey_close(k);
}

/* hours_total is the local day's: 23 and 25 at the DST changes. */
static void
test_hours(void)
{
	T_EQ_INT(period_set_tz("Europe/Amsterdam"), 0);
	T_EQ_INT(period_day_hours(20261024), 24);
	T_EQ_INT(period_day_hours(20261025), 25);
	T_EQ_INT(period_day_hours(20260329), 23);
	T_EQ_INT(period_week_hours(202643), 169);	/* Oct 19..25 */
	T_EQ_INT(period_week_hours(202613), 167);	/* Mar 23..29 */
	T_EQ_INT(period_week_hours(202647), 168);
	period_set_tz("UTC");
	T_EQ_INT(period_day_hours(20261025), 24);
}

/* Flush, then a k = 1 release of everything: exact figures come back. */
static void
test_roundtrip_release(void)
{
	struct weekkey *k = weekkey_open(NULL, err, sizeof(err));
	struct vault *v = vopen("rt.db", k);
	struct agg *a = agg_new(100000, (size_t)1 << 28);
	struct reldb *rel = relopen("rt-rel.db");
	struct released *rd;
	struct rel_cell c;
	uint64_t bl[RB_N];
	int n;

	T_CHECK(v != NULL && rel != NULL);
	if (v == NULL || rel == NULL)
		return;
	fill(a, k, MONDAY, 1, NULL, 0);
	T_EQ_INT(vault_flush(v, a), 0);
	T_CHECK(agg_empty(a));
	fill(a, k, MONDAY + 86400, 1, NULL, 0);
	T_EQ_INT(vault_flush(v, a), 0);
	T_CHECK(vault_bytes(v) > 0);
	T_EQ_INT(count_sql("rt.db", "SELECT COUNT(*) FROM delta"), 2);
	/* day 1 is due on day 2: released and folded, nothing else */
	n = release_due_periods(v, rel, &dims, &k1, DAY2, W47,
	    MONDAY + 90000);
	T_EQ_INT(n, 1);
	T_EQ_INT(count_sql("rt.db", "SELECT COUNT(*) FROM delta"), 1);
	T_EQ_INT(reldb_is_released(rel, REL_DAY, DAY1), 1);
	T_EQ_INT(reldb_is_released(rel, REL_DAY, DAY2), 0);
	/* the week: its last day, then the week, then rows and key gone */
	n = release_due_periods(v, rel, &dims, &k1, 20261123, W48,
	    MONDAY + 7 * 86400 + 60);
	T_EQ_INT(n, 2);
	T_EQ_INT(count_sql("rt.db", "SELECT COUNT(*) FROM delta"), 0);
	T_EQ_INT(count_sql("rt.db", "SELECT COUNT(*) FROM finalised"), 1);
	T_EQ_INT(vault_bytes(v), 0);
	T_CHECK(!weekkey_has(k, W47));
	reldb_close(rel);
	if ((rd = rdopen("rt-rel.db")) != NULL) {
		check_week(rd, 2);
		T_EQ_INT(released_cell(rd, REL_DAY, DAY1, depts[1], "cat:other",
		    &c), 0);
		T_EQ_INT(c.m[RM_DEVICES], 5);
		T_EQ_INT(c.m[RM_DNS], 3 * 2 * NSVC);
		T_EQ_INT(released_blind(rd, DAY1, bl), 0);
		T_EQ_INT(bl[RB_PACKETS], 2);
		T_EQ_INT(bl[RB_BYTES], 200);
		T_EQ_INT(bl[RB_NOSNI], 4);
		T_EQ_INT(bl[RB_PARSE_FAILURES], 5);
		T_EQ_INT(bl[RB_UNREADABLE], 1);
		T_EQ_INT(bl[RB_CONFLICT], 2);
		released_close(rd);
	}
	vault_close(v);
	agg_free(a);
	weekkey_close(k);
}

/* Neither hashes, tokens nor names are in the file or its WAL. */
static void
test_no_plaintext(void)
{
	char sd[128], p[256], wal[300];
	struct weekkey *k;
	struct vault *v;
	struct agg *a = agg_new(100000, (size_t)1 << 28);
	struct reldb *rel = relopen("np-rel.db");
	uint64_t hs[512];
	size_t nh;
	sqlite3 *db;
	sqlite3_stmt *st;
	uint8_t *blob = NULL, *pt;
	size_t blen = 0;
	uint8_t aad[64];

	snprintf(sd, sizeof(sd), "%s/state", dir);
	mkdir(sd, 0700);
	k = weekkey_open(sd, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		return;
	v = vopen("np.db", k);
	nh = fill(a, k, MONDAY, 2, hs, 512);
	T_CHECK(nh > 100);
	T_EQ_INT(vault_flush(v, a), 0);
	fill(a, k, MONDAY + 2 * 86400, 1, NULL, 0);
	T_EQ_INT(vault_flush(v, a), 0);
	path_of(p, sizeof(p), "np.db");
	snprintf(wal, sizeof(wal), "%s-wal", p);
	T_EQ_INT(scan_file(p, hs, nh), 0);
	T_EQ_INT(scan_file(wal, hs, nh), 0);
	/* a copy of a sealed row, as a backup would keep it */
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT blob FROM delta WHERE seq = 1", -1,
	    &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			blen = (size_t)sqlite3_column_bytes(st, 0);
			blob = malloc(blen);
			memcpy(blob, sqlite3_column_blob(st, 0), blen);
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	T_CHECK(blob != NULL && blen > WEEKKEY_SEAL_OVERHEAD);
	/* release the week: rows gone, the key destroyed */
	T_CHECK(release_due_periods(v, rel, &dims, &k1, 20261123, W48,
	    MONDAY + 7 * 86400) == 4);
	T_EQ_INT(count_sql("np.db", "SELECT COUNT(*) FROM delta"), 0);
	T_CHECK(!weekkey_has(k, W47));
	vault_close(v);
	weekkey_close(k);
	/* the state directory again, as after a restart: no key, no opening */
	k = weekkey_open(sd, err, sizeof(err));
	T_CHECK(k != NULL && !weekkey_has(k, W47));
	if (blob != NULL && k != NULL) {
		memcpy(aad, "aicensus-vault-1", 16);
		memset(aad + 16, 0, 12);
		pt = malloc(blen);
		T_EQ_INT(weekkey_unseal(k, W47, aad, 28, blob, blen, pt), -1);
		free(pt);
	}
	T_EQ_INT(scan_file(p, hs, nh), 0);
	T_EQ_INT(scan_file(wal, hs, nh), 0);
	free(blob);
	weekkey_close(k);
	reldb_close(rel);
	agg_free(a);
}

static void
release_all(struct vault *v, const char *relname)
{
	struct reldb *rel = relopen(relname);

	T_CHECK(release_due_periods(v, rel, &dims, &k1, 0, 0,
	    MONDAY + 7 * 86400) > 0);
	reldb_close(rel);
}

static int
same_cells(const char *x, const char *y, enum rel_kind kind, int32_t per)
{
	struct released *a = rdopen(x), *b = rdopen(y);
	struct rel_cell *ca = NULL, *cb = NULL;
	size_t na = 0, nb = 0, i;
	int same = 0;

	if (a != NULL && b != NULL &&
	    released_cells(a, kind, per, &ca, &na, err, sizeof(err)) == 0 &&
	    released_cells(b, kind, per, &cb, &nb, err, sizeof(err)) == 0 &&
	    na == nb && na > 0) {
		same = 1;
		for (i = 0; i < na; i++)
			if (memcmp(ca[i].m, cb[i].m, sizeof(ca[i].m)) != 0 ||
			    strcmp(ca[i].dept, cb[i].dept) != 0 ||
			    strcmp(ca[i].svc, cb[i].svc) != 0)
				same = 0;
	}
	free(ca);
	free(cb);
	released_close(a);
	released_close(b);
	return same;
}

static void
test_sliced(void)
{
	/* one key hashes for both; each vault seals under its own */
	struct weekkey *k = weekkey_open(NULL, err, sizeof(err));
	struct weekkey *ka = weekkey_open(NULL, err, sizeof(err));
	struct weekkey *kb = weekkey_open(NULL, err, sizeof(err));
	struct vault *v1 = vopen(NULL, ka), *v2 = vopen("sl.db", kb);
	struct agg *a1 = agg_new(100000, (size_t)1 << 28);
	struct agg *a2 = agg_new(100000, (size_t)1 << 28);
	int rc, steps = 0, twos = 0;

	fill(a1, k, MONDAY, 3, NULL, 0);
	fill(a2, k, MONDAY, 3, NULL, 0);
	T_EQ_INT(vault_flush(v1, a1), 0);
	T_EQ_INT(vault_flush_begin(v2, a2), 1);
	T_CHECK(vault_flush_busy(v2));
	T_EQ_INT(vault_flush_begin(v2, a2), -1);	/* one at a time */
	while ((rc = vault_flush_step(v2, a2, 1)) > 0) {
		steps++;
		twos += rc == 2;
		if (rc == 2)
			usleep(200);
	}
	T_EQ_INT(rc, 0);
	T_CHECK(steps > 3);
	T_CHECK(agg_empty(a2));
	T_CHECK(!vault_flush_busy(v2));
	release_all(v1, "sl-rel1.db");
	release_all(v2, "sl-rel2.db");
	T_CHECK(same_cells("sl-rel1.db", "sl-rel2.db", REL_WEEK, W47));
	T_CHECK(same_cells("sl-rel1.db", "sl-rel2.db", REL_DAY, DAY2));
	vault_close(v1);
	vault_close(v2);
	agg_free(a1);
	agg_free(a2);
	weekkey_close(k);
	weekkey_close(ka);
	weekkey_close(kb);
}

/* Another writer holds the lock: the flush fails, the counts stay. */
static void
test_failed_flush(void)
{
	struct weekkey *k = weekkey_open(NULL, err, sizeof(err));
	struct vault *v = vopen("ff.db", k);
	struct agg *a = agg_new(100000, (size_t)1 << 28);
	struct reldb *rel;
	struct released *rd;
	sqlite3 *db;
	char p[256];

	fill(a, k, MONDAY, 2, NULL, 0);
	path_of(p, sizeof(p), "ff.db");
	T_CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	T_CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
	    SQLITE_OK);
	T_EQ_INT(vault_flush(v, a), -1);
	T_CHECK(!agg_empty(a));
	T_CHECK(!vault_flush_busy(v));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	T_EQ_INT(vault_flush(v, a), 0);
	T_CHECK(agg_empty(a));
	rel = relopen("ff-rel.db");
	T_CHECK(release_due_periods(v, rel, &dims, &k1, 0, 0,
	    MONDAY + 7 * 86400) == 3);
	reldb_close(rel);
	if ((rd = rdopen("ff-rel.db")) != NULL) {
		check_week(rd, 2);
		released_close(rd);
	}
	vault_close(v);
	agg_free(a);
	weekkey_close(k);
}

static int
copy_file(const char *from, const char *to)
{
	size_t len;
	uint8_t *b = slurp(from, &len);
	int fd, ok;

	unlink(to);
	if (b == NULL)
		return -1;	/* absent: nothing to copy */
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok = fd >= 0 && write(fd, b, len) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	free(b);
	return ok ? 0 : -1;
}

static void
snapshot(const char *sd, const char *name, int restore)
{
	char a[256], b[300], ka[256], kb[300];
	const char *sfx[] = { "", "-wal", "-shm" };
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(a, sizeof(a), "%s/%s%s", dir, name, sfx[i]);
		snprintf(b, sizeof(b), "%s.snap", a);
		if (restore) {
			unlink(a);
			copy_file(b, a);
		} else
			copy_file(a, b);
	}
	snprintf(ka, sizeof(ka), "%s/week-%d.key", sd, W47);
	snprintf(kb, sizeof(kb), "%s/../key.snap", sd);
	if (restore)
		copy_file(kb, ka);
	else
		copy_file(ka, kb);
}

/*
 * The release database committed, then the process died before the
 * vault compacted / finalised and before the key went: restored copies
 * of the vault and key file stand for that state.  The next run
 * publishes nothing twice, finishes the vault's part and the key's.
 */
static void
test_crash(void)
{
	char sd[128];
	struct weekkey *k;
	struct vault *v;
	struct agg *a = agg_new(100000, (size_t)1 << 28);
	struct reldb *rel = relopen("cr-rel.db");
	struct released *rd;
	int n;

	snprintf(sd, sizeof(sd), "%s/crstate", dir);
	mkdir(sd, 0700);
	k = weekkey_open(sd, err, sizeof(err));
	v = vopen("cr.db", k);
	fill(a, k, MONDAY, 2, NULL, 0);
	T_EQ_INT(vault_flush(v, a), 0);
	vault_close(v);
	weekkey_close(k);
	/* day 1: published, then "crash" before the compaction */
	snapshot(sd, "cr.db", 0);
	k = weekkey_open(sd, err, sizeof(err));
	v = vopen("cr.db", k);
	T_EQ_INT(release_due_periods(v, rel, &dims, &k1, DAY2, W47,
	    MONDAY + 86400), 1);
	vault_close(v);
	weekkey_close(k);
	snapshot(sd, "cr.db", 1);
	k = weekkey_open(sd, err, sizeof(err));
	v = vopen("cr.db", k);
	T_EQ_INT(count_sql("cr.db", "SELECT COUNT(*) FROM delta"), 1);
	T_EQ_INT(release_due_periods(v, rel, &dims, &k1, DAY2, W47,
	    MONDAY + 86400), 0);	/* already out: nothing again */
	vault_close(v);
	weekkey_close(k);
	/* the week: published, then "crash" before finalise and key */
	snapshot(sd, "cr.db", 0);
	k = weekkey_open(sd, err, sizeof(err));
	v = vopen("cr.db", k);
	T_EQ_INT(release_due_periods(v, rel, &dims, &k1, 20261123, W48,
	    MONDAY + 7 * 86400), 2);
	T_CHECK(!weekkey_has(k, W47));
	vault_close(v);
	weekkey_close(k);
	snapshot(sd, "cr.db", 1);
	k = weekkey_open(sd, err, sizeof(err));
	T_CHECK(weekkey_has(k, W47));		/* the crash kept it */
	v = vopen("cr.db", k);
	T_CHECK(count_sql("cr.db", "SELECT COUNT(*) FROM delta") > 0);
	n = release_due_periods(v, rel, &dims, &k1, 20261123, W48,
	    MONDAY + 7 * 86400);
	T_EQ_INT(n, 0);
	T_EQ_INT(count_sql("cr.db", "SELECT COUNT(*) FROM delta"), 0);
	T_EQ_INT(count_sql("cr.db", "SELECT COUNT(*) FROM finalised"), 1);
	T_CHECK(!weekkey_has(k, W47));
	vault_close(v);
	weekkey_close(k);
	k = weekkey_open(sd, err, sizeof(err));
	T_CHECK(k != NULL && !weekkey_has(k, W47));
	weekkey_close(k);
	reldb_close(rel);
	T_EQ_INT(count_sql("cr-rel.db", "SELECT COUNT(*) FROM period"), 3);
	/* the days were folded once: the week is exact */
	if ((rd = rdopen("cr-rel.db")) != NULL) {
		check_week(rd, 2);
		released_close(rd);
	}
	agg_free(a);
}

/* After the week: its counts are refused, counted late in the new day. */
static void
test_late(void)
{
	struct weekkey *k = weekkey_open(NULL, err, sizeof(err));
	struct vault *v = vopen("late.db", k);
	struct agg *a = agg_new(100000, (size_t)1 << 28);
	struct reldb *rel = relopen("late-rel.db");
	struct released *rd;
	struct period p;
	uint64_t bl[RB_N], expect = 0;
	int d, s;

	fill(a, k, MONDAY, 1, NULL, 0);
	T_EQ_INT(vault_flush(v, a), 0);
	T_EQ_INT(release_due_periods(v, rel, &dims, &k1, 20261123, W48,
	    MONDAY + 7 * 86400), 2);
	/* late week-47 cells, and one packet of Monday of week 48 */
	fill(a, k, MONDAY, 1, NULL, 0);
	for (d = 0; d < NDEPT; d++)
		for (s = 0; s < NSVC; s++)
			expect += 2 * (uint64_t)(10 * d + s + 1 + 3);
	period_of(MONDAY + 7 * 86400 + 3600, &p);
	agg_packet(a, &p, 60);
	T_EQ_INT(vault_flush(v, a), 0);
	T_EQ_INT(vault_late(v), expect);
	T_EQ_INT(count_sql("late.db",
	    "SELECT COUNT(*) FROM delta WHERE week = 202647"), 0);
	T_EQ_INT(count_sql("late.db",
	    "SELECT COUNT(*) FROM delta WHERE week = 202648"), 1);
	T_EQ_INT(release_due_periods(v, rel, &dims, &k1, 0, 0,
	    MONDAY + 14 * 86400), 2);
	reldb_close(rel);
	if ((rd = rdopen("late-rel.db")) != NULL) {
		T_EQ_INT(released_blind(rd, 20261123, bl), 0);
		T_EQ_INT(bl[RB_LATE], expect);
		T_EQ_INT(bl[RB_PACKETS], 1);
		check_week(rd, 1);	/* week 47 unchanged by the late data */
		released_close(rd);
	}
	vault_close(v);
	agg_free(a);
	weekkey_close(k);
}

/* The key is gone (lost state directory): rows deleted, nothing released. */
static void
test_key_lost(void)
{
	struct weekkey *k = weekkey_open(NULL, err, sizeof(err));
	struct vault *v = vopen("kl.db", k);
	struct agg *a = agg_new(100000, (size_t)1 << 28);
	struct reldb *rel = relopen("kl-rel.db");

	fill(a, k, MONDAY, 2, NULL, 0);
	T_EQ_INT(vault_flush(v, a), 0);
	T_EQ_INT(weekkey_destroy(k, W47), 0);
	T_EQ_INT(release_due_periods(v, rel, &dims, &k1, 20261123, W48,
	    MONDAY + 7 * 86400), 0);
	T_EQ_INT(count_sql("kl.db", "SELECT COUNT(*) FROM delta"), 0);
	T_EQ_INT(count_sql("kl.db", "SELECT COUNT(*) FROM finalised"), 1);
	T_EQ_INT(reldb_is_released(rel, REL_WEEK, W47), 0);
	T_EQ_INT(reldb_is_released(rel, REL_DAY, DAY1), 0);
	reldb_close(rel);
	vault_close(v);
	agg_free(a);
	weekkey_close(k);
}

static void
test_modes(void)
{
	struct weekkey *k = weekkey_open(NULL, err, sizeof(err));
	struct vault *v;
	char p[256];
	struct stat sb;
	sqlite3 *db;

	v = vopen("mode.db", k);
	T_CHECK(v != NULL);
	vault_close(v);
	path_of(p, sizeof(p), "mode.db");
	T_CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	T_EQ_INT(count_sql("mode.db", "PRAGMA user_version"), 2);
	/* the WAL of a vault with a flush in it is the owner's only too */
	{
		struct agg *a = agg_new(100000, (size_t)1 << 28);
		char wal[300];

		v = vopen("mode.db", k);
		fill(a, k, MONDAY, 1, NULL, 0);
		T_EQ_INT(vault_flush(v, a), 0);
		snprintf(wal, sizeof(wal), "%s-wal", p);
		T_CHECK(stat(wal, &sb) == 0 && (sb.st_mode & 0777) == 0600);
		vault_close(v);
		agg_free(a);
	}
	/* vault_check_file (aicensusd -n) refuses what vault_open refuses */
	T_EQ_INT(vault_check_file(p, err, sizeof(err)), 0);
	chmod(p, 0644);
	T_EQ_INT(vault_check_file(p, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "mode 0644") != NULL && strstr(err, "chmod 600"));
	T_CHECK(vault_open(p, k, &dims, NULL, NULL, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "chmod 600") != NULL);
	chmod(p, 0640);
	T_EQ_INT(vault_check_file(p, err, sizeof(err)), -1);
	T_CHECK(vault_open(p, k, &dims, NULL, NULL, err, sizeof(err)) == NULL);
	chmod(p, 0600);
	{
		char q[300];

		/* absent: fine (vault_open makes it 0600), and not made here */
		path_of(q, sizeof(q), "absent.db");
		T_EQ_INT(vault_check_file(q, err, sizeof(err)), 0);
		T_CHECK(access(q, F_OK) != 0);
		/* a directory is not a database */
		T_EQ_INT(vault_check_file(dir, err, sizeof(err)), -1);
		T_CHECK(strstr(err, "not a regular file") != NULL);
	}
	/* a newer schema is refused */
	T_CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	sqlite3_exec(db, "PRAGMA user_version = 3", NULL, NULL, NULL);
	sqlite3_close(db);
	T_CHECK(vault_open(p, k, &dims, NULL, NULL, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "newer") != NULL);
	weekkey_close(k);
}

/* The v1 schema exactly as store.c created it. */
static const char v1_schema[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
	"  WITHOUT ROWID;"
	"CREATE TABLE department(id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE service(id INTEGER PRIMARY KEY, sid TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL, vendor TEXT NOT NULL, category TEXT NOT NULL,"
	"  jurisdiction TEXT NOT NULL, sanctioned INTEGER NOT NULL DEFAULT 0,"
	"  in_catalog INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE hour_dim(hour INTEGER PRIMARY KEY,"
	"  day INTEGER NOT NULL, week INTEGER NOT NULL);"
	"CREATE TABLE usage_hour(hour INTEGER NOT NULL,"
	"  dept INTEGER NOT NULL, svc INTEGER NOT NULL,"
	"  tls_conns INTEGER NOT NULL DEFAULT 0,"
	"  quic_conns INTEGER NOT NULL DEFAULT 0,"
	"  ech_conns INTEGER NOT NULL DEFAULT 0,"
	"  dns_lookups INTEGER NOT NULL DEFAULT 0,"
	"  dns_nxdomain INTEGER NOT NULL DEFAULT 0,"
	"  bytes_up INTEGER NOT NULL DEFAULT 0,"
	"  bytes_down INTEGER NOT NULL DEFAULT 0,"
	"  device_hours INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY(hour, dept, svc)) WITHOUT ROWID;"
	"CREATE TABLE sketch_hour(hour INTEGER NOT NULL, dept INTEGER NOT NULL,"
	"  svc INTEGER NOT NULL, sketch BLOB NOT NULL,"
	"  PRIMARY KEY(hour, dept, svc));"
	"CREATE TABLE devices_day(day INTEGER NOT NULL, week INTEGER NOT NULL,"
	"  dept INTEGER NOT NULL, svc INTEGER NOT NULL,"
	"  devices INTEGER NOT NULL, sketch BLOB NOT NULL,"
	"  PRIMARY KEY(day, dept, svc)) WITHOUT ROWID;"
	"CREATE TABLE devices_week(week INTEGER NOT NULL,"
	"  dept INTEGER NOT NULL, svc INTEGER NOT NULL,"
	"  devices INTEGER NOT NULL, sketch BLOB NOT NULL,"
	"  PRIMARY KEY(week, dept, svc));"
	"CREATE TABLE capture_hour(hour INTEGER PRIMARY KEY,"
	"  day INTEGER NOT NULL, week INTEGER NOT NULL,"
	"  packets INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
	"  pcap_drops INTEGER NOT NULL DEFAULT 0,"
	"  if_drops INTEGER NOT NULL DEFAULT 0,"
	"  ech_conns INTEGER NOT NULL DEFAULT 0,"
	"  ech_unattributed INTEGER NOT NULL DEFAULT 0,"
	"  nosni_conns INTEGER NOT NULL DEFAULT 0,"
	"  doh_conns INTEGER NOT NULL DEFAULT 0,"
	"  ignored INTEGER NOT NULL DEFAULT 0,"
	"  lost INTEGER NOT NULL DEFAULT 0,"
	"  parse_failures INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE anomaly_hour(hour INTEGER NOT NULL, name TEXT NOT NULL,"
	"  count INTEGER NOT NULL, PRIMARY KEY(hour, name)) WITHOUT ROWID;"
	"PRAGMA user_version = 1;";

static uint8_t v1blob[2][64];
static size_t v1blen[2];

static void
put_sketch(sqlite3 *db, const char *sql, int64_t a, int64_t b, int64_t c,
    const struct sketch *sk, int which)
{
	sqlite3_stmt *st;
	uint8_t buf[SKETCH_SERIALIZED_MAX];
	size_t n = sketch_serialize(sk, buf, sizeof(buf));

	if (n <= sizeof(v1blob[0])) {
		memcpy(v1blob[which], buf, n);
		v1blen[which] = n;
	}

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	sqlite3_bind_int64(st, 3, c);
	sqlite3_bind_blob(st, 4, buf, (int)n, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static int
blob_in(const char *path, int which)
{
	size_t len;
	uint8_t *b = slurp(path, &len);
	int in = b != NULL && v1blen[which] > 4 &&
	    contains(b, len, v1blob[which], v1blen[which]);

	free(b);
	return in;
}

static void
test_migrate_v1(void)
{
	struct weekkey *k = weekkey_open(NULL, err, sizeof(err));
	struct reldb *rel = relopen("v1-rel.db");
	struct release_target rt = { rel, &dims, &k1 };
	struct released *rd;
	struct rel_cell c;
	struct vault *v;
	struct sketch sk;
	uint64_t hs[64];
	char p[256], sql[2048];
	sqlite3 *db;
	int fd, i, s;
	int64_t hour = MONDAY + 10 * 3600;

	rm_db("v1.db");
	path_of(p, sizeof(p), "v1.db");
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	close(fd);
	T_CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
	T_CHECK(sqlite3_exec(db, v1_schema, NULL, NULL, NULL) == SQLITE_OK);
	snprintf(sql, sizeof(sql), "INSERT INTO department(id, name) VALUES"
	    "(1, 'unassigned'), (2, '%s'), (3, 'Old-Dept');"
	    "INSERT INTO service(id, sid, name, vendor, category, jurisdiction)"
	    " VALUES(1, 'svc-1', 'a', 'b', 'other', 'US'),"
	    " (2, 'svc-2', 'a', 'b', 'other', 'US'),"
	    " (3, 'gone-svc', 'a', 'b', 'other', 'US');"
	    "INSERT INTO hour_dim VALUES(%lld, %d, %d), (%lld, %d, %d);"
	    "INSERT INTO usage_hour(hour, dept, svc, tls_conns, dns_lookups,"
	    " bytes_up, device_hours) VALUES"
	    " (%lld, 2, 1, 7, 11, 1000, 3), (%lld, 2, 1, 5, 1, 10, 2),"
	    " (%lld, 3, 2, 4, 0, 0, 1), (%lld, 2, 3, 9, 9, 9, 1);"
	    "INSERT INTO capture_hour(hour, day, week, packets) VALUES"
	    " (%lld, %d, %d, 50);", depts[0],
	    (long long)hour, DAY1, W47, (long long)hour + 3600, DAY1, W47,
	    (long long)hour, (long long)hour + 3600, (long long)hour,
	    (long long)hour, (long long)hour, DAY1, W47);
	T_CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	/* sketches of 3 devices (dept 2 x svc 1), 1 (dept 3 x svc 2) */
	for (i = 0; i < 4; i++)
		hs[i] = 0x5a5a000000000000ULL ^ ((uint64_t)(i + 1) *
		    0x9e3779b97f4a7c15ULL);
	for (s = 0; s < 2; s++) {
		sketch_init(&sk);
		for (i = 0; i < (s == 0 ? 3 : 1); i++)
			sketch_add(&sk, hs[s == 0 ? i : 3]);
		put_sketch(db, "INSERT INTO devices_week(week, dept, svc,"
		    " devices, sketch) VALUES(?1, ?2, ?3, 0, ?4)", W47,
		    s == 0 ? 2 : 3, s == 0 ? 1 : 2, &sk, s);
		put_sketch(db, "INSERT INTO sketch_hour(hour, dept, svc,"
		    " sketch) VALUES(?1, ?2, ?3, ?4)", hour, s == 0 ? 2 : 3,
		    s == 0 ? 1 : 2, &sk, s);
		sketch_reset(&sk);
	}
	sqlite3_close(db);
	T_CHECK(scan_file(p, hs, 4) > 0);	/* the test can see names */
	T_CHECK(blob_in(p, 0) && blob_in(p, 1));	/* and sketches */
	v = vault_open(p, k, &dims, release_target_publish, &rt, err,
	    sizeof(err));
	T_CHECK(v != NULL);
	if (v == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	T_EQ_INT(count_sql("v1.db", "PRAGMA user_version"), 2);
	T_EQ_INT(count_sql("v1.db", "SELECT COUNT(*) FROM sqlite_master"
	    " WHERE name IN ('usage_hour', 'sketch_hour', 'devices_week',"
	    " 'devices_day', 'capture_hour', 'anomaly_hour', 'hour_dim',"
	    " 'department', 'service')"), 0);
	T_EQ_INT(count_sql("v1.db", "SELECT COUNT(*) FROM delta"), 0);
	{
		char wal[300];
		size_t n;

		snprintf(wal, sizeof(wal), "%s-wal", p);
		T_EQ_INT(scan_file(p, hs, 4), 0);
		T_EQ_INT(scan_file(wal, hs, 4), 0);
		T_CHECK(!blob_in(p, 0) && !blob_in(p, 1));
		free(slurp(wal, &n));
		T_EQ_INT(n, 0);		/* truncated */
	}
	vault_close(v);
	reldb_close(rel);
	if ((rd = rdopen("v1-rel.db")) != NULL) {
		T_EQ_INT(released_cell(rd, REL_WEEK, W47, depts[0], "svc-1",
		    &c), 0);
		T_EQ_INT(c.m[RM_DEVICES], 3);
		T_EQ_INT(c.m[RM_TLS], 12);
		T_EQ_INT(c.m[RM_DNS], 12);
		T_EQ_INT(c.m[RM_UP], 1010);
		T_EQ_INT(c.m[RM_DEVHOURS], 5);
		/* a department no longer configured: unassigned */
		T_EQ_INT(released_cell(rd, REL_WEEK, W47, REL_UNASSIGNED,
		    "svc-2", &c), 0);
		T_EQ_INT(c.m[RM_DEVICES], 1);
		T_EQ_INT(c.m[RM_TLS], 4);
		T_EQ_INT(released_cell(rd, REL_WEEK, W47, REL_ALL, REL_ALL,
		    &c), 0);
		T_EQ_INT(c.m[RM_TLS], 16);	/* gone-svc dropped */
		released_close(rd);
	}
	weekkey_close(k);
}

int
main(void)
{
	char cmd[128];

	log_init("test_vault", 0, getenv("TV_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
	period_set_tz("UTC");
	umask(022);
	snprintf(dir, sizeof(dir), "/tmp/unittests-vault-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 2;
	cat = catalog_synthetic(NSVC);
	dims.dept = depts;
	dims.ndept = NDEPT;
	dims.cat = cat;
	dims.timezone = "UTC";
	T_RUN(test_wacc_roundtrip);
	T_RUN(test_wacc_rel);
	T_RUN(test_hours);
	T_RUN(test_roundtrip_release);
	T_RUN(test_no_plaintext);
	T_RUN(test_sliced);
	T_RUN(test_failed_flush);
	T_RUN(test_crash);
	T_RUN(test_late);
	T_RUN(test_key_lost);
	T_RUN(test_modes);
	T_RUN(test_migrate_v1);
	catalog_free(cat);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return T_DONE();
}
