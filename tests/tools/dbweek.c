/*
 * dbweek.c - how big does a week of a large organisation make the
 * database?  Feeds the real aggregation and store code with a week in
 * which each of D departments uses each of S services every day (in two
 * hours of the working day, by a few of its devices), flushing as the
 * daemon does, and prints the database size.
 *
 * usage: dbweek DB [departments services]   (default 100 300)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agg.h"
#include "catalog.h"
#include "period.h"
#include "store.h"
#include "weekkey.h"

/* deterministic, so every run writes the same database */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int
main(int argc, char **argv)
{
	size_t nd = argc > 3 ? strtoul(argv[2], NULL, 10) : 100;
	size_t ns = argc > 3 ? strtoul(argv[3], NULL, 10) : 300;
	struct catalog *cat = catalog_synthetic(ns);
	char **names = calloc(nd, sizeof(*names));
	char err[512];
	struct store *st;
	struct agg *agg;
	struct weekkey *dk;
	struct stat sb;
	int64_t monday = 1794787200;	/* 2026-11-16 00:00 UTC, ISO 2026-W47 */
	size_t d, s, day, i;
	int h;

	if (argc < 2 || cat == NULL || names == NULL) {
		fprintf(stderr, "usage: dbweek DB [departments services]\n");
		return 2;
	}
	period_set_tz("UTC");
	for (d = 0; d < nd; d++) {
		names[d] = malloc(32);
		snprintf(names[d], 32, "dept%03zu", d);
	}
	if ((st = store_open(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (store_set_dims(st, names, nd, cat, NULL, 0, "UTC", 5) != 0)
		return 1;
	agg = agg_new(10000000, (size_t)1 << 31);
	dk = weekkey_open(NULL, err, sizeof(err));
	for (day = 0; day < 7; day++) {
		for (h = 8; h < 18; h++) {
			int64_t t = monday + (int64_t)day * 86400 + h * 3600;
			struct period p;

			period_of(t, &p);
			for (d = 0; d < nd; d++) {
				for (s = 0; s < ns; s++) {
					struct agg_cell *c;
					uint8_t addr[16] = { [10] = 0xff, [11] = 0xff };
					size_t ndev;

					/* each cell active in two of the ten hours */
					if ((s + d + day + (size_t)h) % 5 != 0)
						continue;
					c = agg_cell(agg, &p, (int)d, (int)s);
					c->c[C_TLS] += 3 + next() % 20;
					c->c[C_DNS] += 5 + next() % 40;
					c->c[C_UP] += next() % 2000000;
					c->c[C_DOWN] += next() % 20000000;
					ndev = 2 + next() % 6;
					for (i = 0; i < ndev; i++) {
						/* a department has 60 devices */
						addr[12] = 10;
						addr[13] = (uint8_t)d;
						addr[14] = 0;
						addr[15] = (uint8_t)(next() % 60);
						agg_device(agg, &p, (int)d, (int)s,
						    weekkey_devhash(dk, p.week, addr));
					}
				}
			}
			if (store_flush(st, agg, t + 3599) != 0) {
				fprintf(stderr, "flush failed\n");
				return 1;
			}
			store_retention(st, t + 3599, 400);
		}
	}
	store_close(st);
	if (stat(argv[1], &sb) != 0)
		return 1;
	printf("departments %zu services %zu days 7: database %lld bytes "
	    "(%.1f MB)\n", nd, ns, (long long)sb.st_size,
	    (double)sb.st_size / 1e6);
	agg_free(agg);
	weekkey_close(dk);
	catalog_free(cat);
	for (d = 0; d < nd; d++)
		free(names[d]);
	free(names);
	return 0;
}
