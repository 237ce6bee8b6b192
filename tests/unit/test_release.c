/*
 * test_release.c - the release stage (release.c) and its read side
 * (released.c): the exact distribution of the count p-table, the bounds
 * of the magnitude noise, a synthetic week and day published and read
 * back as the full grid, and the refusal of the wrong database.
 */
#include <sys/stat.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "detect/catalog.h"
#include "common/log.h"
#include "release/release.h"
#include "release/released.h"
#include "aggregate/sketch.h"
#include "attribute/weekkey.h"
#include "t.h"
#include "tsql.h"

typedef unsigned __int128 u128;

static uint64_t rng_state = 0x5eed;

/* splitmix64: deterministic, so a failure reproduces. */
static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- (a) the p-table, exactly ---------------------------------------- */

/*
 * The exact distribution of rel_count(n, u) over all 2^64 values of u:
 * rel_count ascends with u, so each output value is one interval, found
 * by binary search for its last u.  Random probes then check that every
 * u falls in the interval of its value (the ascent really holds).
 */
struct dist {
	uint64_t	val[64];
	uint64_t	lo[64], hi[64];
	int		n;
};

static int
exact_dist(const struct rel_params *p, uint64_t n, struct dist *d)
{
	uint64_t lo = 0, v, a, b, m;
	int i;

	d->n = 0;
	for (;;) {
		v = rel_count(p, n, lo);
		/* Largest u >= lo with rel_count == v. */
		a = lo;
		b = UINT64_MAX;
		while (a < b) {
			m = a + (b - a) / 2 + 1;
			if (rel_count(p, n, m) == v)
				a = m;
			else
				b = m - 1;
		}
		if (d->n == 64)
			return -1;
		d->val[d->n] = v;
		d->lo[d->n] = lo;
		d->hi[d->n] = a;
		d->n++;
		if (a == UINT64_MAX)
			break;
		lo = a + 1;
	}
	for (i = 0; i < 200; i++) {
		int j;

		m = rnd();
		for (j = 0; j < d->n && m > d->hi[j]; j++)
			;
		if (j == d->n || rel_count(p, n, m) != d->val[j])
			return -1;
	}
	for (i = 1; i < d->n; i++)
		if (d->val[i] <= d->val[i - 1])
			return -1;
	return 0;
}

static u128
cnt_of(const struct dist *d, int i)
{
	return (u128)(d->hi[i] - d->lo[i]) + 1;
}

static void
test_ptable(void)
{
	static const int ks[] = { 1, 2, 3, 5, 7, 10 };
	const u128 two64 = (u128)1 << 64;
	size_t ki;
	uint64_t n;
	int i;

	for (ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
		struct rel_params p = { ks[ki] };
		uint64_t k = (uint64_t)ks[ki];
		u128 var_num = 0;
		int bad_dist = 0, bad_range = 0, bad_mean = 0, bad_w = 0;
		int bad_var = 0, var_rows = 0;

		for (n = 0; n <= 300; n++) {
			struct dist d;
			u128 sum = 0, tot = 0, vsum = 0;

			if (exact_dist(&p, n, &d) != 0) {
				bad_dist++;
				continue;
			}
			for (i = 0; i < d.n; i++) {
				uint64_t v = d.val[i];

				tot += cnt_of(&d, i);
				sum += cnt_of(&d, i) * v;
				if (k > 1 && v >= 1 && v < k)
					bad_range++;
				if (n == 0 && v != 0)
					bad_range++;
				if (k == 1 && v != n)
					bad_range++;
				if (n >= k && (v < k || (v > n ?
				    v - n : n - v) > k - 1))
					bad_range++;
				if (n >= 1 && n < k && v != 0 && v != k)
					bad_range++;
				vsum += cnt_of(&d, i) * (u128)((v > n ? v - n :
				    n - v) * (v > n ? v - n : n - v));
			}
			if (tot != two64)
				bad_dist++;
			if (n >= 1 && n < k) {
				/*
				 * {0, k} with P(k) = n/k: 2^64 is no multiple
				 * of k, so the interval is floor(n 2^64 / k)
				 * and the mean is n to within k / 2^64.
				 */
				u128 want = ((u128)n << 64) / k;

				if (d.n != 2 || cnt_of(&d, 1) != want ||
				    n * two64 - sum >= k)
					bad_mean++;
			} else if (sum != n * two64) {
				bad_mean++;	/* exact: the mirror layout */
			}
			if (n >= k && k > 1) {
				/* Triangular: d + 1 - |e| over (d+1)^2. */
				uint64_t dd = n - k < k - 1 ? n - k : k - 1;
				u128 W = (u128)(dd + 1) * (dd + 1);

				if ((uint64_t)d.n != 2 * dd + 1)
					bad_w++;
				for (i = 0; i < d.n && (uint64_t)d.n ==
				    2 * dd + 1; i++) {
					uint64_t a = d.val[i] > n ?
					    d.val[i] - n : n - d.val[i];
					u128 ideal = ((u128)(dd + 1 - a) << 64)
					    / W;
					u128 c = cnt_of(&d, i);

					if (a > 0 && c != ideal)
						bad_w++;
					if (a == 0 && (c < ideal ||
					    c > ideal + 2 * dd))
						bad_w++;
				}
			}
			if (k > 1 && n >= k + 4 && n >= 2 * k - 1) {
				/* Full width d = k - 1: (k^2 - 1) / 6. */
				var_num = vsum;
				var_rows++;
				if (vsum * 6 / two64 != (k * k - 1) &&
				    vsum * 6 / two64 + 1 != (k * k - 1))
					bad_var++;
			}
		}
		T_EQ_INT(bad_dist, 0);
		T_EQ_INT(bad_range, 0);
		T_EQ_INT(bad_mean, 0);
		T_EQ_INT(bad_w, 0);
		T_EQ_INT(bad_var, 0);
		if (k > 1) {
			/* variance x 10^6, integer arithmetic */
			u128 v6 = var_num * 1000000 / two64;

			fprintf(stderr, "  k=%" PRIu64 ": variance for n >= "
			    "%" PRIu64 " = %" PRIu64 ".%06" PRIu64
			    " ((k^2-1)/6), %d rows\n", k, 2 * k - 1 > k + 4 ?
			    2 * k - 1 : k + 4, (uint64_t)(v6 / 1000000),
			    (uint64_t)(v6 % 1000000), var_rows);
		}
	}
}

/* ---- (b) magnitudes ------------------------------------------------- */

static void
test_magnitude(void)
{
	static const uint64_t xs[] = { 0, 1, 2, 5, 9, 10, 11, 19, 20, 99, 100,
	    1000, 12345, 123456789, 1ULL << 40, (1ULL << 62) + 7,
	    UINT64_MAX / 2, UINT64_MAX - 1, UINT64_MAX };
	struct rel_params p5 = { 5 }, p1 = { 1 };
	size_t i;
	int j, bad = 0, bad1 = 0, zero = 0;

	for (i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
		uint64_t x = xs[i];
		int up = 0, down = 0;

		for (j = 0; j < 4000; j++) {
			uint64_t u = j == 0 ? 0 : j == 1 ? UINT64_MAX :
			    j == 2 ? 1ULL << 63 : rnd();
			uint64_t y = rel_magnitude(&p5, x, u);
			u128 lim = (u128)x * REL_MAG_PCT / 100 + 1;
			u128 dev = y > x ? y - x : x - y;

			if (dev > lim)
				bad++;
			if (x == 0 && y != 0)
				zero++;
			up += y > x;
			down += y < x;
			if (rel_magnitude(&p1, x, u) != x)
				bad1++;
		}
		/* Spread: both signs once a 10 % step is a whole unit. */
		if (x >= 20 && x < UINT64_MAX - UINT64_MAX / 8) {
			T_CHECK(up > 1000);
			T_CHECK(down > 1000);
		}
	}
	T_EQ_INT(bad, 0);
	T_EQ_INT(zero, 0);
	T_EQ_INT(bad1, 0);
	/* The extremes of the draw reach (nearly) the full +-10 %. */
	T_CHECK(rel_magnitude(&p5, 1000000, 0) == 900000);
	T_CHECK(rel_magnitude(&p5, 1000000, UINT64_MAX) == 1100000);
}

/* ---- (c) a synthetic week and day ---------------------------------- */

static const char catalog_text[] =
    "version = 1;\n"
    "services = (\n"
    "  { id = \"a-chat\"; name = \"A Chat\"; vendor = \"A\"; category = "
    "\"chat\"; jurisdiction = \"US\"; domains = [ \"a.example\" ]; "
    "hosts = [ ]; },\n"
    "  { id = \"b-code\"; name = \"B Code\"; vendor = \"B\"; category = "
    "\"code\"; jurisdiction = \"EU\"; domains = [ \"b.example\" ]; "
    "hosts = [ ]; },\n"
    "  { id = \"c-chat\"; name = \"C Chat\"; vendor = \"C\"; category = "
    "\"chat\"; jurisdiction = \"other\"; domains = [ \"c.example\" ]; "
    "hosts = [ ]; }\n"
    ");\n";

static char *const depts[] = { "Legal", "Sales" };
static char *const sanct[] = { "b-code" };

#define WEEK	202647
#define DAY	20261118

/* Device i's hash: distinct in the 40 bits the sketch keeps. */
static uint64_t
dev(int i)
{
	uint64_t z = (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct fixture {
	struct catalog	*cat;
	struct rel_dims	 dims;
	struct sketch	 sk[5];
	struct rel_leaf	 leaf[5];
	struct rel_input in;
};

static void
add_range(struct sketch *s, int a, int b)
{
	int i;

	for (i = a; i <= b; i++)
		sketch_add(s, dev(i));
}

/*
 * Legal: one device, a-chat only.  Sales: a-chat {2..8}, b-code {5..14},
 * c-chat {20..22}.  unassigned: c-chat {30..40}.
 */
static int
fixture_init(struct fixture *f, enum rel_kind kind)
{
	struct cfgerr err;
	char path[64];
	FILE *fp;
	int i, j;

	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), "/tmp/aicensus-test-rel-%d.conf",
	    (int)getpid());
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fputs(catalog_text, fp);
	fclose(fp);
	f->cat = catalog_load(path, &err);
	unlink(path);
	if (f->cat == NULL) {
		fprintf(stderr, "catalog: %d: %s\n", err.line, err.msg);
		return -1;
	}
	f->dims.dept = depts;
	f->dims.ndept = 2;
	f->dims.cat = f->cat;
	f->dims.sanctioned = sanct;
	f->dims.nsanct = 1;
	f->dims.timezone = "Europe/Amsterdam";
	for (i = 0; i < 5; i++)
		sketch_init(&f->sk[i]);
	add_range(&f->sk[0], 1, 1);
	add_range(&f->sk[1], 2, 8);
	add_range(&f->sk[2], 5, 14);
	add_range(&f->sk[3], 20, 22);
	add_range(&f->sk[4], 30, 40);
	{
		static const int ld[5] = { 0, 1, 1, 1, 2 };
		static const int ls[5] = { 0, 0, 1, 2, 2 };

		for (i = 0; i < 5; i++) {
			f->leaf[i].dept = ld[i];
			f->leaf[i].svc = ls[i];
			f->leaf[i].dev = &f->sk[i];
			for (j = 0; j < RM_N; j++)
				f->leaf[i].m[j] = (uint64_t)(100 * (i + 1) +
				    10 * j + 7);
			f->leaf[i].m[RM_DEVICES] = 999999;	/* ignored */
			f->leaf[i].m[RM_CONNS] = 999999;	/* ignored */
		}
	}
	f->in.kind = kind;
	f->in.period = kind == REL_WEEK ? WEEK : DAY;
	f->in.week = WEEK;
	f->in.leaf = f->leaf;
	f->in.nleaf = 5;
	for (i = 0; i < RB_N; i++)
		f->in.blind[i] = (uint64_t)(1000 * (i + 1));
	f->in.blind[RB_LATE] = 0;
	f->in.coverage_hours = kind == REL_WEEK ? 160 : 24;
	f->in.hours_total = kind == REL_WEEK ? 168 : 24;
	f->in.complete = 1;
	return 0;
}

static void
fixture_free(struct fixture *f)
{
	int i;

	for (i = 0; i < 5; i++)
		sketch_reset(&f->sk[i]);
	catalog_free(f->cat);
}

static int cb_calls;

static void
count_cb(void *arg, const struct rel_period *p, const struct rel_cell *c)
{
	(void)arg;
	(void)c;
	if (p->min_group >= 1)
		cb_calls++;
}

static const struct rel_cell *
find(const struct rel_cell *v, size_t n, const char *d, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].dept, d) == 0 && strcmp(v[i].svc, s) == 0)
			return &v[i];
	return NULL;
}

/* Week grid order: depts, unassigned, *; services, categories, *. */
static const char *const wd[] = { "Legal", "Sales", "unassigned", "*" };
static const char *const wsv[] = { "a-chat", "b-code", "c-chat",
    "cat:chat", "cat:code", "*" };

static void
test_publish_k1(void)
{
	char path[64], err[256];
	struct fixture f;
	struct reldb *r;
	struct released *rd;
	struct rel_cell *c = NULL;
	const struct rel_cell *x;
	struct rel_params p = { 1 };
	size_t n, i, j;
	uint64_t b[RB_N];

	snprintf(path, sizeof(path), "/tmp/aicensus-test-rel1-%d.db",
	    (int)getpid());
	unlink(path);
	T_CHECK(fixture_init(&f, REL_WEEK) == 0);
	r = reldb_open(path, err, sizeof(err));
	T_CHECK(r != NULL);
	if (r == NULL)
		return;
	/* A name that a cell could not hold whole: refused, nothing kept. */
	{
		char longname[80];
		char *ld[2];

		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		ld[0] = depts[0];
		ld[1] = longname;
		f.dims.dept = ld;
		T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, NULL, 1000),
		    -1);
		f.dims.dept = depts;
		T_EQ_INT(reldb_is_released(r, REL_WEEK, WEEK), 0);
	}
	/* k = 1 needs no key at all. */
	T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, NULL, 1000), 1);
	rd = released_open(path, err, sizeof(err));
	T_CHECK(rd != NULL);
	T_EQ_INT(released_cells(rd, REL_WEEK, WEEK, &c, &n, err,
	    sizeof(err)), 0);
	T_EQ_INT(n, 24);
	for (i = 0; i < 4 && n == 24; i++)
		for (j = 0; j < 6; j++) {
			T_EQ_STR(c[i * 6 + j].dept, wd[i]);
			T_EQ_STR(c[i * 6 + j].svc, wsv[j]);
		}
	/* Exact truths; margins count distinct devices, not a sum. */
	x = find(c, n, "*", "*");
	T_CHECK(x != NULL && x->m[RM_DEVICES] == 1 + 13 + 3 + 11);
	x = find(c, n, "Sales", "*");
	T_CHECK(x != NULL && x->m[RM_DEVICES] == 13 + 3);
	x = find(c, n, "Sales", "cat:chat");
	T_CHECK(x != NULL && x->m[RM_DEVICES] == 7 + 3);
	x = find(c, n, "*", "a-chat");
	T_CHECK(x != NULL && x->m[RM_DEVICES] == 8);
	x = find(c, n, "*", "cat:chat");
	T_CHECK(x != NULL && x->m[RM_DEVICES] == 1 + 7 + 3 + 11);
	T_CHECK(x != NULL && x->m[RM_DEVHOURS] == 117 + 217 + 417 + 517);
	T_CHECK(x != NULL && x->m[RM_UP] == 187 + 287 + 487 + 587);
	/* connections = tls + quic + ech, not the leaf's RM_CONNS. */
	x = find(c, n, "Legal", "a-chat");
	T_CHECK(x != NULL && x->m[RM_DEVICES] == 1 &&
	    x->m[RM_CONNS] == 127 + 137 + 147 && x->m[RM_TLS] == 127);
	x = find(c, n, "Legal", "b-code");
	T_CHECK(x != NULL && x->m[RM_DEVICES] == 0 && x->m[RM_DEVHOURS] == 0 &&
	    x->published == REL_ALL_MEASURES);
	x = find(c, n, "unassigned", "cat:code");
	T_CHECK(x != NULL && x->m[RM_DEVICES] == 0);
	free(c);
	T_EQ_INT(t_sql_int(path, "SELECT min_group FROM period"), 1);
	/* A day, k = 1: blind figures exact. */
	fixture_free(&f);
	T_CHECK(fixture_init(&f, REL_DAY) == 0);
	T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, NULL, 2000), 1);
	T_EQ_INT(released_blind(rd, DAY, b), 0);
	for (i = 0; i < RB_N; i++)
		T_EQ_INT(b[i], i == RB_LATE ? 0 : 1000 * (i + 1));
	T_EQ_INT(released_blind(rd, DAY + 1, b), 1);
	/* retention: nothing before the cutoffs yet, then both go whole */
	T_EQ_INT(reldb_retention(r, DAY, WEEK), 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM period"), 2);
	T_CHECK(reldb_retention(r, DAY + 1, WEEK + 1) > 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM period"), 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM cell"), 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM dim"), 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM blind"), 0);
	released_close(rd);
	reldb_close(r);
	fixture_free(&f);
	unlink(path);
}

/*
 * A shipping sensor (reldb_set_central, spec12 D2): the period rows and
 * a day's blind figures, no cell, no axis, no service, no plugin call;
 * the file names the site.  A period published before stays whole.
 */
static void
test_publish_central(void)
{
	char path[64], err[256], site[64], longsite[80];
	struct fixture f;
	struct reldb *r;
	struct released *rd;
	struct rel_params p = { 1 };
	uint64_t b[RB_N];
	long long nc;
	size_t i;

	snprintf(path, sizeof(path), "/tmp/aicensus-test-relc-%d.db",
	    (int)getpid());
	unlink(path);
	T_CHECK(fixture_init(&f, REL_WEEK) == 0);
	r = reldb_open(path, err, sizeof(err));
	T_CHECK(r != NULL);
	if (r == NULL)
		return;
	T_EQ_INT(reldb_set_central(r, ""), -1);
	memset(longsite, 's', sizeof(longsite) - 1);
	longsite[sizeof(longsite) - 1] = '\0';
	T_EQ_INT(reldb_set_central(r, longsite), -1);
	/* Published before the central group: cells, and no central facts. */
	T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, NULL, 1000), 1);
	rd = released_open(path, err, sizeof(err));
	T_CHECK(rd != NULL);
	if (rd == NULL)
		return;
	T_EQ_INT(released_central_site(rd, site, sizeof(site)), 0);
	T_EQ_STR(site, "");
	nc = t_sql_int(path, "SELECT COUNT(*) FROM cell");
	T_CHECK(nc > 0);
	T_EQ_INT(reldb_set_central(r, "north"), 0);
	T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, NULL, 1001), 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM cell"), nc);
	T_EQ_INT(released_central_site(rd, site, sizeof(site)), 0);
	/* The next week and a day: no cells anywhere, nothing to plugins. */
	cb_calls = 0;
	release_set_cell_cb(r, count_cb, NULL);
	f.in.period = f.in.week = WEEK + 1;
	T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, NULL, 2000), 1);
	fixture_free(&f);
	T_CHECK(fixture_init(&f, REL_DAY) == 0);
	T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, NULL, 2001), 1);
	T_EQ_INT(cb_calls, 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM period"), 3);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM cell"), nc);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM cell WHERE period <> "
	    "202647"), 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM dim WHERE period <> "
	    "202647"), 0);
	T_EQ_INT(t_sql_int(path, "SELECT coverage_hours FROM period WHERE "
	    "kind = 1"), 24);
	T_EQ_INT(released_blind(rd, DAY, b), 0);
	for (i = 0; i < RB_N; i++)
		T_EQ_INT(b[i], i == RB_LATE ? 0 : 1000 * (i + 1));
	T_EQ_INT(released_central_site(rd, site, sizeof(site)), 1);
	T_EQ_STR(site, "north");
	T_EQ_INT(released_central_site(rd, NULL, 0), 1);
	released_central_message(site, err, sizeof(err));
	T_CHECK(strstr(err, "central release (site north)") != NULL &&
	    strstr(err, "--site north") != NULL);
	released_close(rd);
	reldb_close(r);
	fixture_free(&f);
	unlink(path);
}

/*
 * release_true_cells (what a sensor ships to the central database) is
 * what release_publish publishes at k = 1, cell by cell, margins
 * included, for a week and a day; all-zero cells are left out.
 */
static void
test_true_cells(void)
{
	static const enum rel_kind kinds[2] = { REL_WEEK, REL_DAY };
	char path[64], err[256];
	struct rel_params p = { 1 };
	struct fixture f;
	struct reldb *r;
	struct released *rd;
	struct rel_cell *c, *t;
	const struct rel_cell *x;
	size_t n, nt, i, nz;
	int k, j, zero;

	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "/tmp/aicensus-test-true-%d.db",
		    (int)getpid());
		unlink(path);
		T_CHECK(fixture_init(&f, kinds[k]) == 0);
		r = reldb_open(path, err, sizeof(err));
		T_CHECK(r != NULL);
		if (r == NULL)
			return;
		T_EQ_INT(release_true_cells(&f.dims, &f.in, &t, &nt), 0);
		T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, NULL, 1000), 1);
		rd = released_open(path, err, sizeof(err));
		T_CHECK(rd != NULL);
		c = NULL;
		n = 0;
		T_EQ_INT(released_cells(rd, kinds[k], f.in.period, &c, &n, err,
		    sizeof(err)), 0);
		T_CHECK(n > 0 && nt > 0);
		for (i = nz = 0; i < n; i++) {
			x = find(t, nt, c[i].dept, c[i].svc);
			for (j = 0, zero = 1; j < RM_N; j++)
				zero &= c[i].m[j] == 0;
			if (x == NULL) {
				T_CHECK(zero);
				continue;
			}
			nz++;
			T_CHECK(x->kind == kinds[k] &&
			    x->period == f.in.period &&
			    x->published == c[i].published);
			for (j = 0; j < RM_N; j++)
				if (c[i].published & (1u << j))
					T_EQ_INT(x->m[j], c[i].m[j]);
		}
		/* every true cell was found among the released ones */
		T_EQ_INT(nz, nt);
		x = find(t, nt, "*", "*");
		T_CHECK(x != NULL && x->m[RM_DEVICES] == 1 + 13 + 3 + 11);
		free(t);
		free(c);
		released_close(rd);
		reldb_close(r);
		fixture_free(&f);
		unlink(path);
	}
}

/*
 * release_publish_summed (the central release): cells already summed
 * over sites go through the same grid and protection.  Two "sites" ship
 * the fixture's true cells; a third ships a department the grid lacks
 * (counted as unassigned) and a service outside the catalog (left out).
 * k = 1: every cell is the sum.  k = 5: counts 0 or >= 5, zeros stay
 * zero, the same key gives the same figures in another database, a
 * second publish writes nothing; day blind figures are published.
 */
static void
test_publish_summed(void)
{
	static const enum rel_kind kinds[2] = { REL_WEEK, REL_DAY };
	static const uint8_t key[16] = "central-secret-1";
	static const uint8_t key2[16] = "central-secret-2";
	char path[3][64], err[256];
	struct rel_params p1 = { 1 }, p5 = { 5 };
	struct rel_summed_stats st;
	struct rel_summed in;
	struct fixture f;
	struct reldb *r;
	struct released *rd;
	struct rel_cell *t, *all, *c[3];
	const struct rel_cell *x;
	size_t nt, n[3], i, na;
	uint64_t b[RB_N];
	int k, j, m, differ;

	for (k = 0; k < 2; k++) {
		T_CHECK(fixture_init(&f, kinds[k]) == 0);
		T_EQ_INT(release_true_cells(&f.dims, &f.in, &t, &nt), 0);
		all = calloc(2 * nt + 2, sizeof(*all));
		T_CHECK(all != NULL);
		if (all == NULL)
			return;
		memcpy(all, t, nt * sizeof(*t));
		memcpy(all + nt, t, nt * sizeof(*t));
		na = 2 * nt;
		all[na] = t[0];
		snprintf(all[na].dept, sizeof(all[na].dept), "Lab");
		snprintf(all[na].svc, sizeof(all[na].svc), "*");
		memset(all[na].m, 0, sizeof(all[na].m));
		all[na].m[RM_DEVICES] = 4;
		all[na].m[RM_CONNS] = 40;
		na++;
		all[na] = t[0];
		snprintf(all[na].svc, sizeof(all[na].svc), "zz-unknown");
		na++;
		memset(&in, 0, sizeof(in));
		in.kind = kinds[k];
		in.period = f.in.period;
		in.week = WEEK;
		in.cell = all;
		in.ncell = na;
		for (i = 0; i < RB_N; i++)
			in.blind[i] = 2000 * (i + 1);
		in.coverage_hours = f.in.coverage_hours;
		in.hours_total = f.in.hours_total;
		in.complete = 1;
		for (m = 0; m < 3; m++) {
			snprintf(path[m], sizeof(path[m]),
			    "/tmp/aicensus-test-sum%d-%d.db", m, (int)getpid());
			unlink(path[m]);
			r = reldb_open(path[m], err, sizeof(err));
			T_CHECK(r != NULL);
			if (r == NULL)
				return;
			T_EQ_INT(release_publish_summed(r, &f.dims, m == 0 ?
			    &p1 : &p5, &in, m == 2 ? key2 : key, 1000, &st), 1);
			T_EQ_INT(st.unmapped_cells, 1);
			T_EQ_INT(st.dropped_cells, 1);
			T_EQ_INT(release_publish_summed(r, &f.dims, &p5, &in,
			    key, 1000, NULL), 0);
			reldb_close(r);
			rd = released_open(path[m], err, sizeof(err));
			T_CHECK(rd != NULL);
			c[m] = NULL;
			T_EQ_INT(released_cells(rd, kinds[k], in.period, &c[m],
			    &n[m], err, sizeof(err)), 0);
			T_EQ_INT(released_blind(rd, DAY, b), kinds[k] == REL_DAY ?
			    0 : 1);
			if (kinds[k] == REL_DAY && m == 0)
				for (i = 0; i < RB_N; i++)
					T_EQ_INT(b[i], 2000 * (i + 1));
			released_close(rd);
			unlink(path[m]);
		}
		T_CHECK(n[0] == n[1] && n[1] == n[2] && n[0] > 0);
		/* k = 1: the sums, Lab in unassigned's "*" only. */
		for (i = 0; i < n[0]; i++) {
			int lab = strcmp(c[0][i].dept, "unassigned") == 0 &&
			    strcmp(c[0][i].svc, "*") == 0;

			x = find(t, nt, c[0][i].dept, c[0][i].svc);
			for (j = 0; j < RM_N; j++) {
				uint64_t want = x != NULL ? 2 * x->m[j] : 0;

				if (lab && j == RM_DEVICES)
					want += 4;
				if (lab && j == RM_CONNS)
					want += 40;
				if (c[0][i].published & (1u << j))
					T_EQ_INT(c[0][i].m[j], want);
			}
		}
		/* k = 5: 0 or >= 5, zeros stay zero; the key decides. */
		differ = 0;
		for (i = 0; i < n[1]; i++) {
			uint64_t d = c[1][i].m[RM_DEVICES];

			T_CHECK(d == 0 || d >= 5);
			if (c[0][i].m[RM_DEVICES] == 0)
				T_EQ_INT(d, 0);
			for (j = 0; j < RM_N; j++)
				differ |= c[1][i].m[j] != c[2][i].m[j];
		}
		T_CHECK(differ);
		free(c[0]);
		free(c[1]);
		free(c[2]);
		free(all);
		free(t);
		fixture_free(&f);
	}
}

static int
same_cells(const struct rel_cell *a, const struct rel_cell *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(a[i].dept, b[i].dept) != 0 ||
		    strcmp(a[i].svc, b[i].svc) != 0 ||
		    memcmp(a[i].m, b[i].m, sizeof(a[i].m)) != 0)
			return 0;
	return 1;
}

static void
test_publish_k5(void)
{
	char path[64], err[256];
	struct fixture f, fd;
	struct reldb *r;
	struct released *rd;
	struct weekkey *keys;
	struct rel_cell *c = NULL, *c2 = NULL, *dc = NULL;
	const struct rel_cell *x, *y, *z;
	struct rel_params p = { 5 };
	struct rel_period per;
	struct stat sb;
	size_t n = 0, n2 = 0, nd = 0, i, j;
	long long rows;
	char **names;
	struct rel_service *sv;
	uint64_t b[RB_N];
	int nz;

	snprintf(path, sizeof(path), "/tmp/aicensus-test-rel5-%d.db",
	    (int)getpid());
	unlink(path);
	T_CHECK(fixture_init(&f, REL_WEEK) == 0);
	T_CHECK(fixture_init(&fd, REL_DAY) == 0);
	keys = weekkey_open(NULL, err, sizeof(err));
	T_CHECK(keys != NULL);
	if (keys == NULL)
		return;
	r = reldb_open(path, err, sizeof(err));
	T_CHECK(r != NULL);
	if (r == NULL)
		return;
	T_CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640);
	release_set_cell_cb(r, count_cb, NULL);
	/* No key for the week: refused, nothing written. */
	T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, keys, 1000), -1);
	T_EQ_INT(reldb_is_released(r, REL_WEEK, WEEK), 0);
	T_CHECK(weekkey_ensure(keys, WEEK) == 0);
	cb_calls = 0;
	T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, keys, 1000), 1);
	T_EQ_INT(reldb_is_released(r, REL_WEEK, WEEK), 1);
	rows = t_sql_int(path, "SELECT COUNT(*) FROM cell");
	T_EQ_INT(cb_calls, rows);
	T_EQ_INT(release_publish(r, &fd.dims, &p, &fd.in, keys, 1001), 1);

	rd = released_open(path, err, sizeof(err));
	T_CHECK(rd != NULL);
	if (rd == NULL)
		return;
	T_EQ_STR(released_timezone(rd), "Europe/Amsterdam");
	T_EQ_INT(released_cells(rd, REL_WEEK, WEEK, &c, &n, err,
	    sizeof(err)), 0);
	T_EQ_INT(n, 24);
	for (i = 0; i < 4 && n == 24; i++)
		for (j = 0; j < 6; j++) {
			T_EQ_STR(c[i * 6 + j].dept, wd[i]);
			T_EQ_STR(c[i * 6 + j].svc, wsv[j]);
		}
	/* Never a count in 1..k-1; a hidden cell is all zeros. */
	for (i = 0; i < n; i++) {
		T_CHECK(c[i].m[RM_DEVICES] == 0 || c[i].m[RM_DEVICES] >= 5);
		for (nz = 0, j = 1; j < RM_N; j++)
			nz |= c[i].m[j] != 0;
		T_CHECK(c[i].m[RM_DEVICES] > 0 || !nz);
	}
	/* Legal's one device: the same set in three cells, one answer. */
	x = find(c, n, "Legal", "a-chat");
	y = find(c, n, "Legal", "cat:chat");
	z = find(c, n, "Legal", "*");
	T_CHECK(x && y && z && x->m[RM_DEVICES] == y->m[RM_DEVICES] &&
	    y->m[RM_DEVICES] == z->m[RM_DEVICES]);
	T_CHECK(x && (x->m[RM_DEVICES] == 0 || x->m[RM_DEVICES] == 5));
	/*
	 * Moved up to 5, its magnitudes move with it (x 5 / 1, then +-10 %):
	 * the cell must not read "five devices, 117 device-hours in all,
	 * 127 TLS connections" as one device's figures would.
	 */
	if (x && x->m[RM_DEVICES] == 5) {
		T_CHECK(x->m[RM_DEVHOURS] >= 585 - 59 &&
		    x->m[RM_DEVHOURS] <= 585 + 59);
		T_CHECK(x->m[RM_TLS] >= 635 - 64 && x->m[RM_TLS] <= 635 + 64);
	}
	/* unassigned's only service is c-chat: the same set again. */
	x = find(c, n, "unassigned", "c-chat");
	y = find(c, n, "unassigned", "*");
	T_CHECK(x && y && x->m[RM_DEVICES] == y->m[RM_DEVICES]);
	/* Within the p-table of the truth (11 devices: 11 +- 4). */
	T_CHECK(x && x->m[RM_DEVICES] >= 7 && x->m[RM_DEVICES] <= 15);
	/* Magnitudes within 10 % of the truth (k=1 values above). */
	x = find(c, n, "*", "*");
	T_CHECK(x && x->m[RM_DEVICES] >= 24 && x->m[RM_DEVICES] <= 32);
	if (x && x->m[RM_DEVICES] > 0) {
		uint64_t t = 117 + 217 + 317 + 417 + 517;

		T_CHECK(x->m[RM_DEVHOURS] + t / 10 + 1 >= t &&
		    x->m[RM_DEVHOURS] <= t + t / 10 + 1);
	}
	x = find(c, n, "Legal", "b-code");
	T_CHECK(x && x->m[RM_DEVICES] == 0 && x->m[RM_DEVHOURS] == 0);

	/* The day: D1 then D2, day measures only. */
	T_EQ_INT(released_cells(rd, REL_DAY, DAY, &dc, &nd, err,
	    sizeof(err)), 0);
	T_EQ_INT(nd, 15);
	if (nd == 15) {
		static const char *const dsv[] = { "cat:chat", "cat:code",
		    "*" };

		for (i = 0; i < 3; i++)
			for (j = 0; j < 3; j++) {
				T_EQ_STR(dc[i * 3 + j].dept, wd[i]);
				T_EQ_STR(dc[i * 3 + j].svc, dsv[j]);
			}
		for (i = 0; i < 6; i++) {
			T_EQ_STR(dc[9 + i].dept, "*");
			T_EQ_STR(dc[9 + i].svc, wsv[i]);
		}
	}
	for (i = 0; i < nd; i++) {
		T_EQ_INT(dc[i].published, REL_DAY_MEASURES);
		T_CHECK(dc[i].m[RM_TLS] == 0 && dc[i].m[RM_QUIC] == 0 &&
		    dc[i].m[RM_ECH] == 0 && dc[i].m[RM_UP] == 0 &&
		    dc[i].m[RM_DOWN] == 0);
	}
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM cell WHERE kind = 1 AND "
	    "(tls IS NOT NULL OR bytes_up IS NOT NULL)"), 0);
	T_CHECK(t_sql_int(path, "SELECT COUNT(*) FROM cell WHERE kind = 1 AND "
	    "devhours > 0") > 0);
	/* Same devices in the day and the week cell: the same count. */
	x = find(dc, nd, "Legal", "cat:chat");
	y = find(c, n, "Legal", "cat:chat");
	T_CHECK(x && y && x->m[RM_DEVICES] == y->m[RM_DEVICES]);
	/* No day x department x service cell. */
	T_CHECK(find(dc, nd, "Sales", "a-chat") == NULL);
	{
		struct rel_cell one;

		T_EQ_INT(released_cell(rd, REL_DAY, DAY, "Sales", "a-chat",
		    &one), 1);
		T_EQ_INT(released_cell(rd, REL_DAY, DAY, "*", "a-chat", &one),
		    0);
		x = find(dc, nd, "*", "a-chat");
		T_CHECK(x && memcmp(one.m, x->m, sizeof(one.m)) == 0);
		T_EQ_INT(released_cell(rd, REL_WEEK, WEEK, "Legal", "b-code",
		    &one), 0);
		T_EQ_INT(one.m[RM_DEVICES], 0);
		T_EQ_INT(released_cell(rd, REL_WEEK, WEEK, "Nobody", "*",
		    &one), 1);
		T_EQ_INT(released_cell(rd, REL_WEEK, WEEK + 1, "*", "*",
		    &one), 1);
	}
	/* B1: noised within 10 %, late stays 0. */
	T_EQ_INT(released_blind(rd, DAY, b), 0);
	for (i = 0; i < RB_N; i++) {
		uint64_t t = fd.in.blind[i];

		T_CHECK(b[i] + t / 10 + 1 >= t && b[i] <= t + t / 10 + 1);
	}
	T_EQ_INT(b[RB_LATE], 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM blind"), RB_N);

	/* Periods, axes, services. */
	T_EQ_INT(released_period(rd, REL_WEEK, WEEK, &per), 0);
	T_CHECK(per.week == WEEK && per.released_at == 1000 &&
	    per.coverage_hours == 160 && per.hours_total == 168 &&
	    per.complete == 1 && per.min_group == 5);
	T_EQ_INT(released_period(rd, REL_DAY, DAY + 1, &per), 1);
	{
		struct rel_period *pv;
		size_t np;

		T_EQ_INT(released_periods(rd, REL_DAY, 0, 0, &pv, &np, err,
		    sizeof(err)), 0);
		T_CHECK(np == 1 && pv[0].period == DAY);
		free(pv);
		T_EQ_INT(released_periods(rd, REL_DAY, DAY + 1, 0, &pv, &np,
		    err, sizeof(err)), 0);
		T_EQ_INT(np, 0);
		free(pv);
	}
	T_EQ_INT(released_depts(rd, REL_WEEK, WEEK, &names, &i), 0);
	/* The axes: configured names, "*" implied (not listed). */
	T_CHECK(i == 3 && strcmp(names[0], "Legal") == 0 &&
	    strcmp(names[2], "unassigned") == 0 && names[3] == NULL);
	free(names);
	T_EQ_INT(released_svcs(rd, REL_DAY, DAY, &names, &i), 0);
	T_CHECK(i == 5 && strcmp(names[0], "a-chat") == 0 &&
	    strcmp(names[3], "cat:chat") == 0 &&
	    strcmp(names[4], "cat:code") == 0 && names[5] == NULL);
	free(names);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM dim WHERE name = '*'"), 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM dim WHERE kind = 2"),
	    3 + 5);
	/* A "*" row written into dim by hand is not repeated. */
	{
		sqlite3 *db;
		struct rel_cell *c4 = NULL;
		size_t n4 = 0;

		if (sqlite3_open(path, &db) == SQLITE_OK)
			sqlite3_exec(db, "INSERT INTO dim VALUES(2, 202647, 0, "
			    "99, '*')", NULL, NULL, NULL);
		sqlite3_close(db);
		T_EQ_INT(released_cells(rd, REL_WEEK, WEEK, &c4, &n4, err,
		    sizeof(err)), 0);
		T_CHECK(n4 == n && same_cells(c, c4, n));
		free(c4);
		if (sqlite3_open(path, &db) == SQLITE_OK)
			sqlite3_exec(db, "DELETE FROM dim WHERE name = '*'",
			    NULL, NULL, NULL);
		sqlite3_close(db);
	}
	T_EQ_INT(released_services(rd, &sv, &i), 0);
	T_CHECK(i == 3 && strcmp(sv[1].sid, "b-code") == 0 &&
	    sv[1].sanctioned == 1 && sv[0].sanctioned == 0 &&
	    strcmp(sv[2].category, "chat") == 0);
	free(sv);

	/* Published once: publishing again (other data) changes nothing. */
	f.leaf[0].m[RM_DEVHOURS] += 5000;
	rows = t_sql_int(path, "SELECT COUNT(*) FROM cell") +
	    t_sql_int(path, "SELECT COUNT(*) FROM dim") +
	    t_sql_int(path, "SELECT COUNT(*) FROM period");
	cb_calls = 0;
	T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, keys, 5000), 0);
	T_EQ_INT(release_publish(r, &fd.dims, &p, &fd.in, keys, 5000), 0);
	T_EQ_INT(cb_calls, 0);
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM cell") +
	    t_sql_int(path, "SELECT COUNT(*) FROM dim") +
	    t_sql_int(path, "SELECT COUNT(*) FROM period"), rows);
	T_EQ_INT(released_cells(rd, REL_WEEK, WEEK, &c2, &n2, err,
	    sizeof(err)), 0);
	T_CHECK(n2 == n && same_cells(c, c2, n));
	T_EQ_INT(released_period(rd, REL_WEEK, WEEK, &per), 0);
	T_EQ_INT(per.released_at, 1000);
	/* Nothing but released cells: no cell row is all zeros. */
	T_EQ_INT(t_sql_int(path, "SELECT COUNT(*) FROM cell WHERE devices = 0 "
	    "OR devices IS NULL"), 0);

	/* The same data under the same key gives the same figures. */
	{
		char p2[80];
		struct reldb *r2;
		struct released *rd2;
		struct rel_cell *c3 = NULL;
		size_t n3 = 0;

		snprintf(p2, sizeof(p2), "%s-again", path);
		unlink(p2);
		f.leaf[0].m[RM_DEVHOURS] -= 5000;
		r2 = reldb_open(p2, err, sizeof(err));
		T_CHECK(r2 != NULL);
		T_EQ_INT(release_publish(r2, &f.dims, &p, &f.in, keys, 1), 1);
		rd2 = released_open(p2, err, sizeof(err));
		T_CHECK(rd2 != NULL);
		T_EQ_INT(released_cells(rd2, REL_WEEK, WEEK, &c3, &n3, err,
		    sizeof(err)), 0);
		T_CHECK(n3 == n && same_cells(c, c3, n));
		free(c3);
		released_close(rd2);
		reldb_close(r2);
		unlink(p2);
	}
	free(c);
	free(c2);
	free(dc);
	released_close(rd);
	reldb_close(r);
	weekkey_close(keys);
	fixture_free(&f);
	fixture_free(&fd);
	unlink(path);
}

/*
 * Many random cells: the published device count always obeys the
 * p-table of the true count, and a one-device cell is 0 or k.
 */
static void
test_publish_many(void)
{
	char path[64], err[256];
	struct fixture f;
	struct reldb *r;
	struct released *rd;
	struct weekkey *keys;
	struct rel_params p = { 5 };
	struct rel_cell *c = NULL;
	size_t n = 0;
	int wk, zeros = 0, fives = 0, bad = 0;

	snprintf(path, sizeof(path), "/tmp/aicensus-test-relm-%d.db",
	    (int)getpid());
	unlink(path);
	T_CHECK(fixture_init(&f, REL_WEEK) == 0);
	keys = weekkey_open(NULL, err, sizeof(err));
	r = reldb_open(path, err, sizeof(err));
	rd = NULL;
	T_CHECK(keys != NULL && r != NULL);
	if (keys == NULL || r == NULL)
		return;
	/* Each "week" another key: Legal's one device comes out 0 or 5. */
	for (wk = 0; wk < 8; wk++) {
		const struct rel_cell *x;

		f.in.period = f.in.week = 202601 + wk;
		T_CHECK(weekkey_ensure(keys, f.in.week) == 0);
		T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, keys, 1), 1);
		if (rd == NULL)
			rd = released_open(path, err, sizeof(err));
		T_CHECK(rd != NULL);
		if (rd == NULL)
			break;
		T_EQ_INT(released_cells(rd, REL_WEEK, f.in.period, &c, &n,
		    err, sizeof(err)), 0);
		x = find(c, n, "Legal", "*");
		if (x == NULL || (x->m[RM_DEVICES] != 0 &&
		    x->m[RM_DEVICES] != 5))
			bad++;
		else if (x->m[RM_DEVICES] == 0)
			zeros++;
		else
			fives++;
		x = find(c, n, "Sales", "*");	/* 16 devices */
		if (x == NULL || x->m[RM_DEVICES] < 12 ||
		    x->m[RM_DEVICES] > 20)
			bad++;
		free(c);
		c = NULL;
	}
	T_EQ_INT(bad, 0);
	T_EQ_INT(zeros + fives, 8);
	fprintf(stderr, "  one-device cell over 8 keys: %d x 0, %d x 5\n",
	    zeros, fives);
	released_close(rd);
	reldb_close(r);
	weekkey_close(keys);
	fixture_free(&f);
	unlink(path);
}

/*
 * A department past the exact range (dense sketch, 3000 devices) whose
 * only service is a-chat: the cell key comes from the registers, and the
 * three cells with that one set still agree.  The exporter callback sees
 * exactly the non-zero cells that were stored.
 */
static struct rel_cell cb_cells[64];
static size_t cb_n;

static void
keep_cb(void *arg, const struct rel_period *p, const struct rel_cell *c)
{
	(void)arg;
	if (p->kind == REL_WEEK && p->period == WEEK && p->min_group == 5 &&
	    cb_n < 64)
		cb_cells[cb_n++] = *c;
}

static void
test_publish_dense(void)
{
	char path[64], err[256];
	struct fixture f;
	struct reldb *r;
	struct released *rd = NULL;
	struct weekkey *keys;
	struct rel_params p = { 5 }, p1 = { 1 };
	struct rel_cell *c = NULL, one;
	const struct rel_cell *x, *y, *z;
	size_t n = 0, i, nz = 0;
	int j, bad = 0;

	snprintf(path, sizeof(path), "/tmp/aicensus-test-reld-%d.db",
	    (int)getpid());
	unlink(path);
	T_CHECK(fixture_init(&f, REL_WEEK) == 0);
	add_range(&f.sk[0], 1000, 3999);
	T_CHECK(sketch_is_dense(&f.sk[0]));
	keys = weekkey_open(NULL, err, sizeof(err));
	r = reldb_open(path, err, sizeof(err));
	T_CHECK(keys != NULL && r != NULL);
	if (keys == NULL || r == NULL)
		return;
	T_CHECK(weekkey_ensure(keys, WEEK) == 0);
	cb_n = 0;
	release_set_cell_cb(r, keep_cb, NULL);
	T_EQ_INT(release_publish(r, &f.dims, &p, &f.in, keys, 7), 1);
	rd = released_open(path, err, sizeof(err));
	T_CHECK(rd != NULL);
	if (rd == NULL)
		return;
	T_EQ_INT(released_cells(rd, REL_WEEK, WEEK, &c, &n, err,
	    sizeof(err)), 0);
	x = find(c, n, "Legal", "a-chat");
	y = find(c, n, "Legal", "cat:chat");
	z = find(c, n, "Legal", "*");
	T_CHECK(x && y && z && x->m[RM_DEVICES] == y->m[RM_DEVICES] &&
	    x->m[RM_DEVICES] == z->m[RM_DEVICES]);
	/* HLL estimate within 5 %, then at most k - 1 away. */
	T_CHECK(x && x->m[RM_DEVICES] > 2850 && x->m[RM_DEVICES] < 3160);
	/* The same device count, but other values: independent noise. */
	for (i = 0; i < n; i++) {
		if (c[i].m[RM_DEVICES] == 0)
			continue;
		nz++;
		if (released_cell(rd, REL_WEEK, WEEK, c[i].dept, c[i].svc,
		    &one) != 0 || memcmp(one.m, c[i].m, sizeof(one.m)) != 0)
			bad++;
	}
	/* The callback saw exactly the stored non-zero cells, in order. */
	T_EQ_INT(cb_n, nz);
	for (i = 0, j = 0; i < n && (size_t)j < cb_n; i++) {
		if (c[i].m[RM_DEVICES] == 0)
			continue;
		if (strcmp(cb_cells[j].dept, c[i].dept) != 0 ||
		    strcmp(cb_cells[j].svc, c[i].svc) != 0 ||
		    memcmp(cb_cells[j].m, c[i].m, sizeof(c[i].m)) != 0 ||
		    cb_cells[j].published != REL_ALL_MEASURES)
			bad++;
		j++;
	}
	T_EQ_INT(bad, 0);
	free(c);
	released_close(rd);
	reldb_close(r);
	unlink(path);
	/* k = 1: the estimate itself, same in all three cells. */
	r = reldb_open(path, err, sizeof(err));
	T_CHECK(r != NULL);
	if (r == NULL)
		return;
	T_EQ_INT(release_publish(r, &f.dims, &p1, &f.in, NULL, 7), 1);
	rd = released_open(path, err, sizeof(err));
	T_CHECK(rd != NULL);
	if (rd != NULL && released_cell(rd, REL_WEEK, WEEK, "Legal", "*",
	    &one) == 0)
		T_EQ_INT(one.m[RM_DEVICES], sketch_estimate(&f.sk[0]));
	released_close(rd);
	reldb_close(r);
	weekkey_close(keys);
	fixture_free(&f);
	unlink(path);
}

/* ---- (d) the wrong database ---------------------------------------- */

static void
make_db(const char *path, const char *sql)
{
	sqlite3 *db;

	unlink(path);
	if (sqlite3_open(path, &db) == SQLITE_OK)
		sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
}

static void
test_wrong_db(void)
{
	char path[64], err[256];
	struct released *rd;
	struct reldb *r;

	snprintf(path, sizeof(path), "/tmp/aicensus-test-relw-%d.db",
	    (int)getpid());
	/* The vault (v2). */
	make_db(path, "PRAGMA user_version = 2; CREATE TABLE meta(key TEXT "
	    "PRIMARY KEY, value TEXT NOT NULL); CREATE TABLE delta(week "
	    "INTEGER, seq INTEGER, blob BLOB NOT NULL, PRIMARY KEY(week, "
	    "seq));");
	err[0] = '\0';
	rd = released_open(path, err, sizeof(err));
	T_CHECK(rd == NULL);
	T_CHECK(strstr(err, "is the raw working database; read the release "
	    "database (release_database in aicensus.conf)") != NULL);
	err[0] = '\0';
	r = reldb_open(path, err, sizeof(err));
	T_CHECK(r == NULL && strstr(err, "raw working database") != NULL);
	reldb_close(r);
	/* The v1 working database. */
	make_db(path, "PRAGMA user_version = 1; CREATE TABLE usage_hour(hour "
	    "INTEGER, dept TEXT, svc TEXT, tls INTEGER);");
	err[0] = '\0';
	T_CHECK(released_open(path, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "is the raw working database") != NULL);
	/* Any other SQLite file. */
	make_db(path, "CREATE TABLE meta(key TEXT, value TEXT); "
	    "CREATE TABLE other(x);");
	err[0] = '\0';
	T_CHECK(released_open(path, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "is not a release database") != NULL);
	/* A release database of a newer version. */
	unlink(path);
	r = reldb_open(path, err, sizeof(err));
	T_CHECK(r != NULL);
	reldb_close(r);
	rd = released_open(path, err, sizeof(err));
	T_CHECK(rd != NULL);
	released_close(rd);
	{
		sqlite3 *db;

		if (sqlite3_open(path, &db) == SQLITE_OK)
			sqlite3_exec(db, "UPDATE meta SET value = '2' WHERE "
			    "key = 'schema_version'", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	T_CHECK(released_open(path, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "upgrade") != NULL);
	r = reldb_open(path, err, sizeof(err));
	T_CHECK(r == NULL && strstr(err, "newer") != NULL);
	reldb_close(r);
	/* Absent. */
	unlink(path);
	err[0] = '\0';
	T_CHECK(released_open(path, err, sizeof(err)) == NULL && err[0]);
	/* released_open never creates the file. */
	T_CHECK(access(path, F_OK) != 0);
	/* A text file. */
	{
		FILE *fp = fopen(path, "w");

		if (fp != NULL) {
			fputs("not a database at all\n", fp);
			fclose(fp);
		}
		T_CHECK(released_open(path, err, sizeof(err)) == NULL);
	}
	unlink(path);
}

/* ---- (e) nothing fractional in the noise path ----------------------- */

static void
test_no_float(void)
{
	FILE *fp = fopen("daemon/release/release.c", "r");
	char line[512];
	int hits = 0;

	/* Run from the top of the tree (make test does). */
	T_CHECK(fp != NULL);
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "double") || strstr(line, "float") ||
		    strstr(line, "<math.h>"))
			hits++;
	fclose(fp);
	T_EQ_INT(hits, 0);
}

int
main(void)
{
	log_init("test_release", 0, LOG_LVL_ERROR);
	T_RUN(test_ptable);
	T_RUN(test_magnitude);
	T_RUN(test_publish_k1);
	T_RUN(test_true_cells);
	T_RUN(test_publish_central);
	T_RUN(test_publish_summed);
	T_RUN(test_publish_k5);
	T_RUN(test_publish_many);
	T_RUN(test_publish_dense);
	T_RUN(test_wrong_db);
	T_RUN(test_no_float);
	return T_DONE();
}
