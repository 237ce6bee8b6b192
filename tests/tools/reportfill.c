/*
 * reportfill.c - a release database worth a report: eight ISO weeks
 * (2026-W40 to 2026-W47) of plausible use of the real catalog by six
 * departments and unmapped guests, published through the real release
 * stage (release_publish) as the daemon would at each day's and week's
 * end: the 7 days (D1, D2, B1) and then the week (W1).
 *
 * Built in, so the report's tests have something to find:
 *  - sanctioned (ChatGPT, Copilot, DeepL) and shadow services, vendors
 *    under EU, US, CN and other jurisdictions;
 *  - growth from week to week, and first uses in 2026-W47: DeepSeek in
 *    the organisation, Claude in Legal (6 devices), Perplexity in HR and
 *    Doubao in Sales (2 devices each: with k = 5 they publish as 0 or 5);
 *  - cells below k every week, and a small department (Board);
 *  - DeepSeek blocked by DNS policy for Finance: lookups answered
 *    NXDOMAIN and no connection;
 *  - blind spots per day: unattributed ECH, DNS-over-HTTPS, capture drops
 *    (an overloaded hour on Wednesday of W47), ClientHellos without a
 *    name;
 *  - 2026-W46 partly covered (150 of 168 hours), 2026-W44 released before
 *    its end (complete = 0).
 * Deterministic but for the week keys (k > 1 draws fresh ones, so the
 * noise differs from run to run; k = 1 publishes the true figures).
 *
 * usage: reportfill RELEASED.db CATALOG K
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/catalog.h"
#include "common/cfgerr.h"
#include "common/period.h"
#include "release/release.h"
#include "aggregate/sketch.h"
#include "attribute/weekkey.h"

#define NWEEKS	8
#define TZ	"Europe/Amsterdam"

static const int32_t weeks[NWEEKS] = {
	202640, 202641, 202642, 202643, 202644, 202645, 202646, 202647
};

static const struct {
	const char	*name;
	int		 devices;
} depts[] = {
	{ "Engineering", 120 }, { "Finance", 40 }, { "Sales", 60 },
	{ "HR", 25 }, { "Legal", 14 }, { "Board", 6 },
};
#define NDEPT	(sizeof(depts) / sizeof(depts[0]))
#define GUESTS	20

static char *const sanctioned[] = {
	"openai-chatgpt", "microsoft-copilot", "deepl"
};

enum kind { K_CHAT, K_CODE, K_WRITE, K_IMAGE, K_BLOCKED };

/*
 * Users per week (W45, W46, W47) in each department, then unassigned.
 * Columns follow depts[]: Engineering Finance Sales HR Legal Board guests.
 */
static const struct plan {
	const char	*sid;
	enum kind	 kind;
	int		 quic;		/* HTTP/3 capable */
	int		 users[NDEPT + 1][NWEEKS];
} plan[] = {
	{ "openai-chatgpt", K_CHAT, 1, { { 48, 50, 52 }, { 18, 19, 21 },
	    { 30, 31, 33 }, { 9, 10, 11 }, { 6, 6, 7 }, { 2, 5, 5 },
	    { 8, 9, 10 } } },
	{ "microsoft-copilot", K_CHAT, 0, { { 30, 31, 33 }, { 22, 23, 24 },
	    { 20, 21, 22 }, { 12, 12, 13 }, { 7, 7, 8 }, { 0, 2, 3 },
	    { 0, 0, 0 } } },
	{ "deepl", K_WRITE, 0, { { 10, 10, 11 }, { 12, 12, 13 },
	    { 15, 16, 16 }, { 6, 6, 7 }, { 9, 9, 10 }, { 0, 0, 0 },
	    { 0, 0, 0 } } },
	{ "anthropic-claude", K_CHAT, 0, { { 30, 34, 41 }, { 5, 6, 8 },
	    { 8, 9, 11 }, { 0, 0, 0 }, { 0, 0, 6 }, { 0, 0, 0 },
	    { 0, 0, 0 } } },
	{ "google-gemini", K_CHAT, 1, { { 15, 16, 16 }, { 6, 6, 7 },
	    { 10, 11, 12 }, { 5, 5, 6 }, { 2, 2, 2 }, { 0, 0, 0 },
	    { 6, 6, 7 } } },
	{ "github-copilot", K_CODE, 0, { { 45, 46, 48 } } },
	{ "cursor", K_CODE, 0, { { 18, 21, 25 } } },
	{ "mistral-le-chat", K_CHAT, 0, { { 4, 5, 6 }, { 0, 0, 0 },
	    { 5, 5, 5 } } },
	{ "deepseek-chat", K_CHAT, 0, { { 0, 0, 8 }, { 0, 0, 0 },
	    { 0, 0, 5 } } },
	{ "deepseek-chat", K_BLOCKED, 0, { { 0, 0, 0 }, { 0, 0, 6 } } },
	{ "perplexity", K_CHAT, 0, { { 6, 7, 7 }, { 0, 0, 0 }, { 5, 6, 6 },
	    { 0, 0, 2 } } },
	{ "midjourney", K_IMAGE, 0, { { 0, 0, 0 }, { 0, 0, 0 },
	    { 5, 5, 6 } } },
	{ "grammarly", K_WRITE, 0, { { 0, 0, 0 }, { 0, 0, 0 }, { 7, 7, 8 },
	    { 5, 6, 6 }, { 5, 5, 5 } } },
	{ "bytedance-doubao", K_CHAT, 0, { { 0, 0, 0 }, { 0, 0, 0 },
	    { 0, 0, 2 } } },
	{ "leonardo-ai", K_IMAGE, 0, { { 0, 0, 0 }, { 0, 0, 0 },
	    { 5, 6, 5 } } },
};
#define NPLAN	(sizeof(plan) / sizeof(plan[0]))

/*
 * Users of plan p in department d (NDEPT: guests) in week wi.  The table
 * gives W45..W47; earlier weeks ramp up to W45's figure, and a service
 * nobody used in W45 was not used before either (so W47's first uses
 * are first).
 */
static int
users(size_t p, size_t d, size_t wi)
{
	int w45 = plan[p].users[d][0];

	if (wi >= NWEEKS - 3)
		return plan[p].users[d][wi - (NWEEKS - 3)];
	if (w45 == 0)
		return 0;
	w45 -= (int)(NWEEKS - 3 - wi) / 2;
	return w45 > 1 ? w45 : 1;
}

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
h5(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return mix(mix(mix(mix(mix(a) ^ b) ^ c) ^ d) ^ e);
}

/* The leaves of one period: [dept (NDEPT = unassigned)][service]. */
struct grid {
	size_t		 nsvc;
	struct sketch	*sk;
	uint64_t	(*m)[RM_N];
};

static int
grid_init(struct grid *g, size_t nsvc)
{
	size_t i, n = (NDEPT + 1) * nsvc;

	g->nsvc = nsvc;
	g->sk = calloc(n, sizeof(*g->sk));
	g->m = calloc(n, sizeof(*g->m));
	if (g->sk == NULL || g->m == NULL)
		return -1;
	for (i = 0; i < n; i++)
		sketch_init(&g->sk[i]);
	return 0;
}

static void
grid_reset(struct grid *g)
{
	size_t i, n = (NDEPT + 1) * g->nsvc;

	for (i = 0; i < n; i++)
		sketch_reset(&g->sk[i]);
	memset(g->m, 0, n * sizeof(*g->m));
}

static void
grid_free(struct grid *g)
{
	grid_reset(g);
	free(g->sk);
	free(g->m);
}

/* One user's use of plan p on day dd of week wi (whether or not active). */
static void
use(struct grid *g, size_t p, size_t d, int u, size_t wi, int dd, int svc)
{
	const struct plan *pl = &plan[p];
	size_t li = d * g->nsvc + (size_t)svc;
	uint64_t r = h5(p, d + 1, (uint64_t)u, wi, (uint64_t)dd + 100);
	uint64_t hours = 1 + r % 4, conns = hours * (1 + (r >> 8) % 3), up;
	uint64_t *m = g->m[li];
	int ndev = d == NDEPT ? GUESTS : depts[d].devices, k;

	/* weekdays mostly, weekends a little */
	if ((r >> 56) % 100 >= (dd < 5 ? 70u : 8u))
		return;
	/* a service's users are consecutive devices from its own offset */
	k = (int)(((unsigned)u + (unsigned)p * 13u) % (unsigned)ndev);
	sketch_add(&g->sk[li], h5(weeks[wi], d + 1, (uint64_t)k, 7, 7) |
	    (1ULL << 63));
	m[RM_DEVHOURS] += hours;
	m[RM_DNS] += 1 + (r >> 12) % 5;
	if (pl->kind == K_BLOCKED) {
		m[RM_NXDOMAIN] += 1 + (r >> 16) % 5;
		return;
	}
	if ((r >> 20) % 20 == 0)
		m[RM_NXDOMAIN]++;
	if (pl->quic && (r >> 24) % 2)
		m[RM_QUIC] += conns;
	else
		m[RM_TLS] += conns;
	if ((r >> 28) % 12 == 0)
		m[RM_ECH]++;
	switch (pl->kind) {
	case K_CODE: up = 200000 + (r >> 32) % 1500000; break;
	case K_WRITE: up = 80000 + (r >> 32) % 900000; break;
	case K_IMAGE: up = 20000 + (r >> 32) % 300000; break;
	default: up = 15000 + (r >> 32) % 400000; break;
	}
	m[RM_UP] += up * conns;
	m[RM_DOWN] += up * conns * (3 + (r >> 40) % 6);
}

static void
fill_day(struct grid *g, const int *svc, size_t wi, int dd)
{
	size_t p, d;
	int u;

	for (p = 0; p < NPLAN; p++)
		for (d = 0; d <= NDEPT; d++)
			for (u = 0; u < users(p, d, wi); u++)
				use(g, p, d, u, wi, dd, svc[p]);
}

/* The week's leaves are its days' leaves folded together. */
static void
fold(struct grid *week, const struct grid *day)
{
	size_t i, k, n = (NDEPT + 1) * day->nsvc;

	for (i = 0; i < n; i++) {
		sketch_merge(&week->sk[i], &day->sk[i]);
		for (k = 0; k < RM_N; k++)
			week->m[i][k] += day->m[i][k];
	}
}

static size_t
leaves(const struct grid *g, struct rel_leaf *out)
{
	size_t d, s, n = 0;

	for (d = 0; d <= NDEPT; d++)
		for (s = 0; s < g->nsvc; s++) {
			size_t li = d * g->nsvc + s;

			if (sketch_estimate(&g->sk[li]) == 0)
				continue;
			out[n].dept = (int32_t)d;
			out[n].svc = (int32_t)s;
			memcpy(out[n].m, g->m[li], sizeof(out[n].m));
			out[n].dev = &g->sk[li];
			n++;
		}
	return n;
}

static void
blind(uint64_t b[RB_N], size_t wi, int dd)
{
	uint64_t r = h5(9, weeks[wi], (uint64_t)dd, 0, 3);
	uint64_t packets = dd < 5 ? 400000 + r % 200000 : 15000 + r % 9000;

	memset(b, 0, RB_N * sizeof(*b));
	b[RB_PACKETS] = packets;
	b[RB_BYTES] = packets * (600 + (r >> 16) % 400);
	b[RB_IGNORED] = dd < 5 ? 900 + (r >> 8) % 300 : 60;
	if (dd >= 5)
		return;
	b[RB_ECH_UNATTRIBUTED] = 10 + (r >> 24) % 20;
	b[RB_DOH] = 5 + (r >> 28) % 10;
	b[RB_NOSNI] = 3 + (r >> 32) % 6;
	/* one overloaded hour on Wednesday of the last week */
	if (wi == NWEEKS - 1 && dd == 2)
		b[RB_PCAP_DROPS] = 1250;
}

static int
publish(struct reldb *db, const struct rel_dims *dims,
    const struct rel_params *rp, struct weekkey *keys, struct rel_input *in,
    int64_t now)
{
	if (release_publish(db, dims, rp, in, keys, now) != 1) {
		fprintf(stderr, "reportfill: publishing %d failed\n",
		    in->period);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char *names[NDEPT], err[512];
	struct cfgerr ce;
	struct catalog *cat;
	struct reldb *db = NULL;
	struct weekkey *keys = NULL;
	struct rel_dims dims;
	struct rel_params rp;
	struct rel_leaf *lv = NULL;
	struct grid wg, dg;
	int svc[NPLAN];
	size_t i, wi;
	int rc = 1, dd;

	if (argc != 4 || (rp.k = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: reportfill RELEASED.db CATALOG K\n");
		return 2;
	}
	if (period_set_tz(TZ) != 0) {
		fprintf(stderr, "reportfill: time zone %s missing\n", TZ);
		return 1;
	}
	memset(&ce, 0, sizeof(ce));
	if ((cat = catalog_load(argv[2], &ce)) == NULL) {
		fprintf(stderr, "reportfill: %s: %s\n", argv[2], ce.msg);
		return 1;
	}
	for (i = 0; i < NPLAN; i++)
		if ((svc[i] = catalog_find_id(cat, plan[i].sid)) < 0) {
			fprintf(stderr, "reportfill: %s not in the catalog\n",
			    plan[i].sid);
			goto out;
		}
	for (i = 0; i < NDEPT; i++)
		names[i] = (char *)depts[i].name;
	memset(&dims, 0, sizeof(dims));
	dims.dept = names;
	dims.ndept = NDEPT;
	dims.cat = cat;
	dims.sanctioned = sanctioned;
	dims.nsanct = sizeof(sanctioned) / sizeof(sanctioned[0]);
	dims.timezone = TZ;
	memset(&wg, 0, sizeof(wg));
	memset(&dg, 0, sizeof(dg));
	if (grid_init(&wg, catalog_count(cat)) != 0 ||
	    grid_init(&dg, catalog_count(cat)) != 0 ||
	    (lv = calloc((NDEPT + 1) * catalog_count(cat), sizeof(*lv))) ==
	    NULL) {
		fprintf(stderr, "reportfill: out of memory\n");
		goto out;
	}
	if ((db = reldb_open(argv[1], err, sizeof(err))) == NULL ||
	    (rp.k > 1 && (keys = weekkey_open(NULL, err, sizeof(err))) ==
	    NULL)) {
		fprintf(stderr, "reportfill: %s\n", err);
		goto out;
	}
	for (wi = 0; wi < NWEEKS; wi++) {
		int64_t start = period_week_start(weeks[wi]);
		struct rel_input in;

		if (keys != NULL && weekkey_ensure(keys, weeks[wi]) != 0) {
			fprintf(stderr, "reportfill: no key for %d\n",
			    weeks[wi]);
			goto out;
		}
		grid_reset(&wg);
		for (dd = 0; dd < 7; dd++) {
			struct period per;

			period_of(start + dd * 86400 + 43200, &per);
			grid_reset(&dg);
			fill_day(&dg, svc, wi, dd);
			fold(&wg, &dg);
			memset(&in, 0, sizeof(in));
			in.kind = REL_DAY;
			in.period = per.day;
			in.week = weeks[wi];
			in.leaf = lv;
			in.nleaf = leaves(&dg, lv);
			blind(in.blind, wi, dd);
			in.hours_total = 24;
			in.coverage_hours = weeks[wi] == 202646 && dd == 6 ?
			    6 : 24;
			in.complete = !(weeks[wi] == 202644 && dd == 6);
			if (publish(db, &dims, &rp, keys, &in,
			    period_day_start(per.day) + 86400) != 0)
				goto out;
		}
		memset(&in, 0, sizeof(in));
		in.kind = REL_WEEK;
		in.period = weeks[wi];
		in.week = weeks[wi];
		in.leaf = lv;
		in.nleaf = leaves(&wg, lv);
		in.hours_total = 168;
		in.coverage_hours = weeks[wi] == 202646 ? 150 : 168;
		in.complete = weeks[wi] != 202644;
		if (publish(db, &dims, &rp, keys, &in, start + 7 * 86400) != 0)
			goto out;
	}
	rc = 0;
out:
	if (db != NULL)
		reldb_close(db);
	weekkey_close(keys);
	grid_free(&wg);
	grid_free(&dg);
	free(lv);
	catalog_free(cat);
	return rc;
}
