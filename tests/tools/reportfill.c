/*
 * reportfill.c - a database worth a report: three ISO weeks (2026-W45 to
 * 2026-W47) of plausible use of the real catalog by six departments and
 * unmapped guests, written through the real aggregation and store code
 * (as the daemon would, flushing every hour).
 *
 * Built in, so the report's tests have something to find:
 *  - sanctioned (ChatGPT, Copilot, DeepL) and shadow services, vendors
 *    under EU, US, CN and other jurisdictions;
 *  - growth from week to week, and first uses in 2026-W47: DeepSeek in
 *    the organisation, Claude in Legal (both shown), Perplexity in HR and
 *    Doubao in Sales (both below the minimum group: must not be listed);
 *  - cells below the minimum group size (5) every week, and in W45 a whole
 *    department below it (the organisation total must not give it away);
 *  - DeepSeek blocked by DNS policy for Finance: lookups answered
 *    NXDOMAIN and no connection;
 *  - blind spots: attributed and unattributed ECH, DNS-over-HTTPS, capture
 *    drops, ClientHellos without a name, unmapped clients.
 * Deterministic: the same database every run (the device key aside).
 *
 * usage: reportfill DB CATALOG
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "catalog.h"
#include "period.h"
#include "store.h"
#include "weekkey.h"

#define NWEEKS	3
#define TZ	"Europe/Amsterdam"

static const int32_t weeks[NWEEKS] = { 202645, 202646, 202647 };

/* -1 is "unassigned" to the store */
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

/* The address of device k of department d (or of the guest network). */
static void
addr_of(int d, int k, uint8_t a[16])
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = 10;
	a[13] = (uint8_t)(d < 0 ? 200 : 10 + d);
	a[14] = (uint8_t)(k / 250);
	a[15] = (uint8_t)(1 + k % 250);
}

/*
 * Whether user u of plan p in department d is active this hour: about
 * six working hours a week, a little in the evening, none at night.
 */
static int
active(size_t p, int d, int u, int64_t hour, int local_hour, int weekday)
{
	uint64_t r = h5(p, (uint64_t)(d + 1), (uint64_t)u, (uint64_t)hour, 1);
	unsigned pct;

	if (local_hour < 7 || local_hour > 21)
		return 0;
	pct = weekday >= 5 ? 1 : local_hour >= 9 && local_hour <= 17 ? 13 : 3;
	return r % 100 < pct;
}

static void
use(struct agg *agg, struct weekkey *dk, const struct period *per, size_t p,
    int d, int u, int svc)
{
	const struct plan *pl = &plan[p];
	struct agg_cell *c = agg_cell(agg, per, d, svc);
	uint64_t r = h5(p, (uint64_t)(d + 1), (uint64_t)u, (uint64_t)per->hour,
	    2);
	uint64_t conns = 1 + r % 4, up;
	uint8_t a[16];
	int k;

	if (c == NULL)
		return;
	/* users of a service are consecutive devices from its own offset */
	k = (int)(((unsigned)u + (unsigned)p * 13u) %
	    (unsigned)(d < 0 ? GUESTS : depts[d].devices));
	addr_of(d, k, a);
	agg_device(agg, per, d, svc, weekkey_devhash(dk, per->week, a));
	c->c[C_DNS] += 1 + (r >> 8) % 5;
	if (pl->kind == K_BLOCKED) {
		c->c[C_NXDOMAIN] += 1 + (r >> 8) % 5;
		c->c[C_DNS] += (r >> 8) % 5;
		return;
	}
	if ((r >> 12) % 20 == 0)
		c->c[C_NXDOMAIN]++;
	if (pl->quic && (r >> 16) % 2) {
		c->c[C_QUIC] += conns;
	} else {
		c->c[C_TLS] += conns;
	}
	if ((r >> 20) % 12 == 0)
		c->c[C_ECH]++;
	switch (pl->kind) {
	case K_CODE: up = 200000 + (r >> 24) % 1500000; break;
	case K_WRITE: up = 80000 + (r >> 24) % 900000; break;
	case K_IMAGE: up = 20000 + (r >> 24) % 300000; break;
	default: up = 15000 + (r >> 24) % 400000; break;
	}
	c->c[C_UP] += up * conns;
	c->c[C_DOWN] += up * conns * (3 + (r >> 40) % 6);
}

static void
blind(struct agg *agg, const struct period *per, int local_hour, int weekday,
    int32_t week)
{
	uint64_t r = h5(9, (uint64_t)per->hour, 0, 0, 3);
	int busy = weekday < 5 && local_hour >= 8 && local_hour <= 18;
	uint64_t packets = busy ? 18000 + r % 20000 : 600 + r % 900;

	agg_blind(agg, per, BL_PACKETS, packets);
	agg_blind(agg, per, BL_BYTES, packets * (600 + (r >> 16) % 400));
	agg_blind(agg, per, BL_IGNORED, busy ? 40 + (r >> 8) % 30 : 3);
	if (!busy)
		return;
	agg_blind(agg, per, BL_ECH, 4 + (r >> 20) % 6);
	agg_blind(agg, per, BL_ECH_UNATTRIBUTED, 1 + (r >> 24) % 4);
	agg_blind(agg, per, BL_DOH, (r >> 28) % 4);
	agg_blind(agg, per, BL_NOSNI, (r >> 32) % 3);
	/* one overloaded hour on Wednesday of the last week */
	if (week == weeks[NWEEKS - 1] && weekday == 2 && local_hour == 11)
		agg_blind(agg, per, BL_PCAP_DROPS, 1250);
}

static int flushed;

static int
fill_hour(struct store *st, struct agg *agg, struct weekkey *dk,
    const struct catalog *cat, size_t wi, int64_t hour)
{
	struct period per;
	size_t p;
	int d, u, local_hour, weekday;

	period_of(hour, &per);
	local_hour = (int)((hour - period_day_start(per.day)) / 3600);
	weekday = (int)((period_day_start(per.day) -
	    period_week_start(per.week) + 43200) / 86400);
	for (p = 0; p < NPLAN; p++) {
		int svc = catalog_find_id(cat, plan[p].sid);

		if (svc < 0) {
			fprintf(stderr, "reportfill: %s not in the catalog\n",
			    plan[p].sid);
			return -1;
		}
		for (d = -1; d < (int)NDEPT; d++) {
			int n = plan[p].users[d < 0 ? NDEPT : (size_t)d][wi];

			for (u = 0; u < n; u++)
				if (active(p, d, u, hour, local_hour, weekday))
					use(agg, dk, &per, p, d, u, svc);
		}
	}
	blind(agg, &per, local_hour, weekday, weeks[wi]);
	/*
	 * The quiet first hours are flushed with the first busy one:
	 * store_flush() hands qsort() a NULL array when its very first flush
	 * has no usage cell (UBSan; reported to the store's owner).
	 */
	if (agg_ncells(agg) == 0 && !flushed)
		return 0;
	flushed = 1;
	if (store_flush(st, agg, hour + 3599) != 0) {
		fprintf(stderr, "reportfill: flush failed\n");
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
	struct store *st;
	struct agg *agg;
	struct weekkey *dk;
	size_t i, wi;
	int rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: reportfill DB CATALOG\n");
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
	for (i = 0; i < NDEPT; i++)
		names[i] = (char *)depts[i].name;
	if ((st = store_open(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "reportfill: %s\n", err);
		return 1;
	}
	if (store_set_dims(st, names, NDEPT, cat, sanctioned,
	    sizeof(sanctioned) / sizeof(sanctioned[0]), TZ, 5) != 0) {
		fprintf(stderr, "reportfill: cannot set up %s\n", argv[1]);
		return 1;
	}
	agg = agg_new(1000000, (size_t)1 << 30);
	dk = weekkey_open(NULL, err, sizeof(err));
	for (wi = 0; wi < NWEEKS && rc == 0 && agg && dk; wi++) {
		int64_t t = period_week_start(weeks[wi]);
		int64_t end = period_week_start(weeks[wi]) + 7 * 86400;

		for (; t < end && rc == 0; t += 3600)
			rc = fill_hour(st, agg, dk, cat, wi, t);
		store_retention(st, end, 3650);
	}
	if (agg == NULL || dk == NULL)
		rc = -1;
	store_close(st);
	agg_free(agg);
	weekkey_close(dk);
	catalog_free(cat);
	return rc == 0 ? 0 : 1;
}
