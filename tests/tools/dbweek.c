/*
 * dbweek.c - how big do the vault and the release database get in a week
 * of a large organisation, and how long does releasing take?  Feeds the
 * real aggregation, vault and release code with a week in which each of
 * D departments uses each of S services every day (in two hours of the
 * working day, by a few of its devices), flushing every hour and
 * releasing each day after it ends as the daemon does, then releases the
 * week (k = 5) and prints the sizes and times.
 *
 * usage: dbweek DB [departments services]   (default 100 300)
 *   DB is the vault; DB.rel the release database.
 * Output (one line each): "vault_peak BYTES", "vault_before_week BYTES",
 * "day_release_ms MAX", "week_release_ms MS", "release_db BYTES",
 * "vault_rows_after N", "periods N", then a summary line.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aggregate/agg.h"
#include "detect/catalog.h"
#include "common/period.h"
#include "release/due.h"
#include "release/release.h"
#include "release/released.h"
#include "store/vault.h"
#include "attribute/weekkey.h"

/* deterministic, so every run writes the same amount */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The vault's file and WAL: what it holds on disk right now. */
static long long
disk(const char *path)
{
	char wal[4200];
	struct stat sb;
	long long n = 0;

	if (stat(path, &sb) == 0)
		n += sb.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &sb) == 0)
		n += sb.st_size;
	return n;
}

int
main(int argc, char **argv)
{
	size_t nd = argc > 3 ? strtoul(argv[2], NULL, 10) : 100;
	size_t ns = argc > 3 ? strtoul(argv[3], NULL, 10) : 300;
	struct catalog *cat = catalog_synthetic(ns);
	char **names = calloc(nd + 1, sizeof(*names));
	char err[512], relpath[4200];
	struct vault *v;
	struct reldb *rel;
	struct released *rd;
	struct rel_period *per = NULL;
	struct rel_dims dims;
	struct rel_params rp = { 5 };
	struct agg *agg;
	struct weekkey *dk;
	int64_t monday = 1794787200;	/* 2026-11-16 00:00 UTC, ISO 2026-W47 */
	long long peak = 0, before;
	double t0, dmax = 0, tweek;
	size_t d, s, day, i, np = 0, nw = 0;
	int h, rc;

	if (argc < 2 || cat == NULL || names == NULL) {
		fprintf(stderr, "usage: dbweek DB [departments services]\n");
		return 2;
	}
	period_set_tz("UTC");
	for (d = 0; d < nd; d++) {
		names[d] = malloc(32);
		snprintf(names[d], 32, "dept%03zu", d);
	}
	snprintf(relpath, sizeof(relpath), "%s.rel", argv[1]);
	dk = weekkey_open(NULL, err, sizeof(err));
	if (dk == NULL || (v = vault_open(argv[1], dk, NULL, NULL, NULL, err,
	    sizeof(err))) == NULL || (rel = reldb_open(relpath, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	vault_set_dims(v, names, nd, cat);
	memset(&dims, 0, sizeof(dims));
	dims.dept = names;
	dims.ndept = nd;
	dims.cat = cat;
	dims.timezone = "UTC";
	agg = agg_new(10000000, (size_t)1 << 31);
	for (day = 0; day < 7; day++) {
		struct period p;

		/* the day before is released at this day's first flush */
		period_of(monday + (int64_t)day * 86400, &p);
		t0 = now_ms();
		if (release_due_periods(v, rel, &dims, &rp, p.day, p.week,
		    monday + (int64_t)day * 86400) < 0) {
			fprintf(stderr, "release failed\n");
			return 1;
		}
		if (now_ms() - t0 > dmax)
			dmax = now_ms() - t0;
		if (disk(argv[1]) > peak)
			peak = disk(argv[1]);
		for (h = 8; h < 18; h++) {
			int64_t t = monday + (int64_t)day * 86400 + h * 3600;

			period_of(t, &p);
			agg_packet(agg, &p, 1500);
			for (d = 0; d < nd; d++) {
				for (s = 0; s < ns; s++) {
					struct agg_cell *c;
					uint8_t addr[16] = { 0 };
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
						addr[0] = 10;
						addr[1] = (uint8_t)d;
						addr[2] = (uint8_t)(d >> 8);
						addr[3] = (uint8_t)(next() % 60);
						agg_device(agg, &p, (int)d, (int)s,
						    weekkey_devhash(dk, p.week,
						    addr));
					}
				}
			}
			if (vault_flush(v, agg) != 0) {
				fprintf(stderr, "flush failed\n");
				return 1;
			}
			if (disk(argv[1]) > peak)
				peak = disk(argv[1]);
		}
	}
	before = disk(argv[1]);
	/* Monday of the next week: Sunday, then the week */
	t0 = now_ms();
	rc = release_due_periods(v, rel, &dims, &rp, 20261123, 202648,
	    monday + 7 * 86400);
	tweek = now_ms() - t0;
	if (rc < 0) {
		fprintf(stderr, "week release failed\n");
		return 1;
	}
	printf("vault_peak %lld\n", peak);
	printf("vault_before_week %lld\n", before);
	printf("day_release_ms %.0f\n", dmax);
	printf("week_release_ms %.0f\n", tweek);
	printf("vault_rows_after %llu\n", (unsigned long long)vault_bytes(v));
	vault_close(v);
	reldb_close(rel);
	if ((rd = released_open(relpath, err, sizeof(err))) != NULL) {
		released_periods(rd, REL_DAY, 0, 0, &per, &np, err,
		    sizeof(err));
		free(per);
		per = NULL;
		released_periods(rd, REL_WEEK, 0, 0, &per, &nw, err,
		    sizeof(err));
		free(per);
		released_close(rd);
	}
	printf("periods %zu\n", np + nw);
	printf("release_db %lld\n", disk(relpath));
	printf("departments %zu services %zu days 7: vault at most %lld bytes "
	    "(%.1f MB), release database %lld bytes (%.1f MB); a day released "
	    "in at most %.0f ms, the week in %.0f ms\n", nd, ns, peak,
	    (double)peak / 1e6, disk(relpath), (double)disk(relpath) / 1e6,
	    dmax, tweek);
	agg_free(agg);
	weekkey_close(dk);
	catalog_free(cat);
	for (d = 0; d < nd; d++)
		free(names[d]);
	free(names);
	return 0;
}
