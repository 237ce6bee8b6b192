/*
 * flushbench.c - how long does the vault take to write a full hour?
 *
 * Fills the real aggregates with one hour in which each of D departments
 * uses each of S services (every usage cell present, 2..9 devices each,
 * with their day and week device cells), then times vault_flush() on a
 * database on disk, as the daemon would run it:
 *   - "new hour": the first flush of that hour (one sealed row: the
 *     hour's cells with their sketches, serialised and encrypted);
 *   - "same hour again": the same aggregates flushed again, as the next
 *     flush_interval's flush of a busy hour does (another sealed row;
 *     nothing is read back: rows are merged when a day is released).
 *   - "new hour, sliced": the first flush of the next hour written as
 *     the daemon writes it, in slices of 20 ms (vault_flush_step) with
 *     its event loop reading packets between them, and the COMMIT on a
 *     thread: the longest slice is how long capture waits, the total
 *     how long the write takes.
 * Each is repeated RUNS times on a fresh database; prints the median,
 * the minimum and the maximum in milliseconds.
 *
 * usage: flushbench DIR [departments services runs]   (default 100 300 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aggregate/agg.h"
#include "detect/catalog.h"
#include "common/period.h"
#include "store/vault.h"
#include "attribute/weekkey.h"

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

/* One full hour: every (department, service) cell used. */
static void
fill(struct agg *agg, struct weekkey *dk, int64_t t, size_t nd, size_t ns)
{
	struct period p;
	size_t d, s, i;

	period_of(t, &p);
	for (d = 0; d < nd; d++) {
		for (s = 0; s < ns; s++) {
			struct agg_cell *c = agg_cell(agg, &p, (int)d, (int)s);
			uint8_t addr[16] = { [10] = 0xff, [11] = 0xff };
			size_t ndev = 2 + next() % 8;

			if (c == NULL) {
				fprintf(stderr, "flushbench: aggregates full\n");
				exit(1);
			}
			c->c[C_TLS] += 3 + next() % 20;
			c->c[C_QUIC] += next() % 10;
			c->c[C_DNS] += 5 + next() % 40;
			c->c[C_UP] += next() % 2000000;
			c->c[C_DOWN] += next() % 20000000;
			for (i = 0; i < ndev; i++) {
				addr[12] = 10;
				addr[13] = (uint8_t)(d >> 8);
				addr[14] = (uint8_t)d;
				addr[15] = (uint8_t)(next() % 200);
				agg_device(agg, &p, (int)d, (int)s,
				    weekkey_devhash(dk, p.week, addr));
			}
		}
	}
	agg_blind(agg, &p, BL_PACKETS, 1000000);
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
report(const char *what, double *v, size_t n, const char *unit)
{
	qsort(v, n, sizeof(*v), cmpd);
	printf("%-16s median %7.1f %s  min %7.1f  max %7.1f  (%zu runs)\n",
	    what, v[n / 2], unit, v[0], v[n - 1], n);
}

int
main(int argc, char **argv)
{
	size_t nd = argc > 3 ? strtoul(argv[2], NULL, 10) : 100;
	size_t ns = argc > 3 ? strtoul(argv[3], NULL, 10) : 300;
	size_t runs = argc > 4 ? strtoul(argv[4], NULL, 10) : 5;
	int64_t hour = 1794819600;	/* 2026-11-16 09:00 UTC */
	struct catalog *cat = catalog_synthetic(ns);
	char **names = calloc(nd, sizeof(*names));
	double *tnew = calloc(runs ? runs : 1, sizeof(double));
	double *tagain = calloc(runs ? runs : 1, sizeof(double));
	double *tslice = calloc(runs ? runs : 1, sizeof(double));
	double *tsliced = calloc(runs ? runs : 1, sizeof(double));
	double *nslices = calloc(runs ? runs : 1, sizeof(double));
	char path[4096], err[512];
	size_t d, r, cells = 0;

	if (argc < 2 || cat == NULL || names == NULL || tnew == NULL ||
	    tagain == NULL || tslice == NULL || tsliced == NULL ||
	    nslices == NULL || nd == 0 || ns == 0 || runs == 0) {
		fprintf(stderr, "usage: flushbench DIR [departments services "
		    "runs]\n");
		return 2;
	}
	period_set_tz("UTC");
	for (d = 0; d < nd; d++) {
		names[d] = malloc(32);
		snprintf(names[d], 32, "dept%04zu", d);
	}
	for (r = 0; r < runs; r++) {
		struct vault *st;
		struct agg *agg = agg_new(10000000, (size_t)1 << 31);
		struct weekkey *dk = weekkey_open(NULL, err, sizeof(err));
		double t0;

		snprintf(path, sizeof(path), "%s/flushbench.db", argv[1]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/flushbench.db-wal", argv[1]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/flushbench.db-shm", argv[1]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/flushbench.db", argv[1]);
		if (agg == NULL || dk == NULL ||
		    (st = vault_open(path, dk, NULL, NULL, NULL, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "flushbench: %s\n", err);
			return 1;
		}
		vault_set_dims(st, names, nd, cat);
		/* the hour before, so the tables are not empty */
		fill(agg, dk, hour - 3600, nd, ns);
		if (vault_flush(st, agg) != 0)
			return 1;
		fill(agg, dk, hour, nd, ns);
		cells = agg_ncells(agg);
		t0 = now_ms();
		if (vault_flush(st, agg) != 0)
			return 1;
		tnew[r] = now_ms() - t0;
		fill(agg, dk, hour, nd, ns);
		t0 = now_ms();
		if (vault_flush(st, agg) != 0)
			return 1;
		tagain[r] = now_ms() - t0;
		/* the next hour, in slices */
		fill(agg, dk, hour + 3600, nd, ns);
		t0 = now_ms();
		if (vault_flush_begin(st, agg) != 1)
			return 1;
		for (;;) {
			double s0 = now_ms(), dt;
			int rc = vault_flush_step(st, agg, 20000);

			dt = now_ms() - s0;
			if (dt > tslice[r])
				tslice[r] = dt;
			if (rc == 2) {		/* the commit, on its thread */
				usleep(2000);
				continue;
			}
			nslices[r]++;
			if (rc < 0)
				return 1;
			if (rc == 0)
				break;
		}
		tsliced[r] = now_ms() - t0;
		vault_close(st);
		agg_free(agg);
		weekkey_close(dk);
	}
	printf("flush of one hour: %zu departments x %zu services = %zu usage "
	    "cells (%zu cells with the day and week device cells)\n", nd, ns,
	    nd * ns, cells);
	report("new hour", tnew, runs, "ms");
	report("same hour again", tagain, runs, "ms");
	report("sliced: total", tsliced, runs, "ms");
	report("sliced: longest", tslice, runs, "ms");
	report("sliced: slices", nslices, runs, "  ");
	for (d = 0; d < nd; d++)
		free(names[d]);
	free(names);
	free(tnew);
	free(tagain);
	free(tslice);
	free(tsliced);
	free(nslices);
	catalog_free(cat);
	return 0;
}
