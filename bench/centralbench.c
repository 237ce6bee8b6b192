/*
 * centralbench.c - S simulated sites ship one ISO week into one central
 * PostgreSQL database, flush by flush, through the sensor's own
 * shipping code (the benchmark's "central" row, bench/bench.py).
 *
 * Each site is what aicensusd runs when it has a `central` group: an
 * in-memory vault (store/vault.h), the durable outbox over the vault's
 * storage (store/outbox.h) and the shipper thread with its own
 * connection (out/ship.h).  The week is played hour by hour, all sites
 * in turn as real sensors would ship side by side: every flush_seconds
 * of simulated time each site's aggregates get that slice's traffic,
 * vault_flush() seals them, ship_collect() puts the changed cells of
 * the open days and the week into the outbox, and the shipper threads
 * upsert them (one transaction per batch of up to 500 records, exactly
 * as a sensor does).  Before the next slice every outbox has drained.
 *
 * The traffic is a gateway's, made up from a fixed seed: a site serves
 * D of the organisation's departments (site i: departments (i + 10 j)
 * mod O, so each department is spread over several sites), each with
 * 20 to 150 devices; a device uses one to four catalog services drawn
 * from a Zipf-like popularity (ChatGPT-like services everywhere, a long
 * tail rarely), active mostly in weekday office hours, seldom at night
 * and at the weekend; a few guest devices are unassigned.  After each
 * collect the site's local release pass runs as in aicensusd
 * (flush_finished: a release database in memory, min_group_size 5), so
 * that a closed day leaves the open set as on a real sensor.
 *
 * Prints, on stdout, one line per figure ("key value"), for bench.py:
 * the flushes, the records shipped, the wall time of the whole ingest
 * and the part of it spent waiting for the outboxes to drain, and this
 * process's CPU time.  Exit 1 when a site cannot ship (message on
 * stderr, never the password).
 *
 * usage: centralbench -c CONNINFO -p PASSFILE -k CATALOG -m MONDAY
 *            [-s sites] [-d depts_per_site] [-o org_depts]
 *            [-f flush_seconds] [-x seed] [-t timezone] [-w workdir]
 * flush_seconds divides an hour, or is a whole number of hours that
 * divides a day.
 * CONNINFO without user=: the sites connect as sensorNNN (NNN = the
 * site's number from 000), site names siteNNN; PASSFILE holds the one
 * password of all the sensors' roles; MONDAY is the epoch of the
 * week's Monday 00:00 in the time zone.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "aggregate/agg.h"
#include "attribute/weekkey.h"
#include "common/cfgerr.h"
#include "common/config.h"
#include "common/log.h"
#include "common/period.h"
#include "detect/catalog.h"
#include "out/ship.h"
#include "release/due.h"
#include "release/release.h"
#include "store/outbox.h"
#include "store/vault.h"

#define DEV_MIN		20
#define DEV_SPAN	131		/* devices per department: 20..150 */
#define GUESTS		12		/* unassigned devices per site */
#define STALL_SEC	60		/* no record shipped for this long: fail */

struct site {
	char		 name[16];
	int		 idx;
	char		*dept[64];
	size_t		 ndept;
	int		 ndev[64];
	struct rel_dims	 dims;
	struct weekkey	*keys;
	struct vault	*vault;
	struct outbox	*ob;
	struct ship	*ship;
	struct agg	*agg;
	struct reldb	*rel;		/* the site's own release database */
};

static uint64_t seed = 1;
static double *zipf;			/* cumulative popularity by rank */
static int *rank_svc;			/* rank -> catalog index */
static size_t nsvc;

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
h4(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	return mix(mix(mix(mix(seed ^ a) ^ b) ^ c) ^ d);
}

/* A uniform double in [0, 1) from r's top 53 bits. */
static double
unit(uint64_t r)
{
	return (double)(r >> 11) / 9007199254740992.0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Popularity: weight 1 / (rank + 1)^1.1 over a fixed shuffle. */
static int
zipf_init(void)
{
	double sum = 0;
	size_t i;

	if ((zipf = calloc(nsvc, sizeof(*zipf))) == NULL ||
	    (rank_svc = calloc(nsvc, sizeof(*rank_svc))) == NULL)
		return -1;
	for (i = 0; i < nsvc; i++)
		rank_svc[i] = (int)i;
	/* the catalog's first service (the most used one) stays first */
	for (i = nsvc - 1; i > 1; i--) {
		size_t j = 1 + mix(seed ^ (0x5eed0000 + i)) % i;
		int t = rank_svc[i];

		rank_svc[i] = rank_svc[j];
		rank_svc[j] = t;
	}
	for (i = 0; i < nsvc; i++) {
		sum += 1.0 / pow((double)i + 1, 1.1);
		zipf[i] = sum;
	}
	for (i = 0; i < nsvc; i++)
		zipf[i] /= sum;
	return 0;
}

static int
zipf_pick(double u)
{
	size_t lo = 0, hi = nsvc - 1;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (zipf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return rank_svc[lo];
}

/* How likely a device is busy in this hour of the week (0 = Monday 0h). */
static double
activity(int hour)
{
	int day = hour / 24, h = hour % 24;

	if (day >= 5)
		return h >= 10 && h < 18 ? 0.08 : 0.02;
	if (h >= 8 && h < 18)
		return h == 12 ? 0.6 : 1.0;
	if (h == 7 || h == 18 || h == 19)
		return 0.3;
	return 0.03;
}

/*
 * One device's use of its services in one hour of the week, the part
 * that falls in slot `slot` of nslots: into the site's aggregates.
 * dept == ndept: an unassigned (guest) device.
 */
static void
device_hour(struct site *s, size_t dept, int dev, int hour, int64_t t0,
    int slot, int nslots)
{
	uint64_t prof = h4(s->idx, dept, dev, 0xdead);
	uint64_t r = h4(s->idx, dept, dev, 0x10000 + hour);
	double busy = dept == s->ndept ? 0.15 : 0.4;
	int nuse = 1 + (prof % 100 >= 50) + (prof % 100 >= 80) +
	    (prof % 100 >= 95), u;
	uint8_t addr[16] = { 10, (uint8_t)s->idx, (uint8_t)dept,
	    (uint8_t)dev, [10] = 0 };

	if (unit(r) >= busy * activity(hour))
		return;
	for (u = 0; u < nuse; u++) {
		uint64_t q = h4(r, u, 0x77, 0);
		struct period p;
		struct agg_cell *c;
		int svc, sl;

		if (u > 0 && q % 10 >= 7)
			continue;
		sl = (int)(h4(q, 1, 2, 3) % (uint64_t)nslots);
		if (sl != slot)
			continue;
		svc = zipf_pick(unit(h4(prof, u, 0x5e7, 0)));
		period_of(t0 + (int64_t)sl * (3600 / nslots), &p);
		if ((c = agg_cell(s->agg, &p, (int)dept, svc)) == NULL) {
			fprintf(stderr, "centralbench: aggregates full\n");
			exit(1);
		}
		c->c[C_TLS] += 1 + q % 15;
		c->c[C_QUIC] += (q >> 8) % 4 == 0 ? (q >> 12) % 6 : 0;
		c->c[C_DNS] += 2 + (q >> 16) % 11;
		c->c[C_NXDOMAIN] += (q >> 24) % 50 == 0;
		c->c[C_UP] += 5000 + (q >> 28) % 500000;
		c->c[C_DOWN] += 20000 + (q >> 34) % 5000000;
		agg_device(s->agg, &p, (int)dept, svc,
		    weekkey_devhash(s->keys, p.week, addr));
	}
}

/* A slice of the week, all of a site's devices, then its flush. */
static void
site_slice(struct site *s, int hour, int64_t t0, int slot, int nslots)
{
	struct period p;
	size_t d;
	int i;

	period_of(t0 + (int64_t)slot * (3600 / nslots), &p);
	/* the sensor saw traffic: the hour is covered */
	agg_packet(s->agg, &p, 1200);
	agg_blind(s->agg, &p, BL_PACKETS, 1000 + h4(s->idx, hour, slot, 9) %
	    50000);
	for (d = 0; d < s->ndept; d++)
		for (i = 0; i < s->ndev[d]; i++)
			device_hour(s, d, i, hour, t0, slot, nslots);
	for (i = 0; i < GUESTS; i++)
		device_hour(s, s->ndept, i, hour, t0, slot, nslots);
}

static int
site_open(struct site *s, int idx, size_t ndept, size_t norg,
    const char *conninfo, const char *password, struct catalog *cat,
    const char *tz)
{
	struct config_central cc;
	uint8_t key[OUTBOX_KEY_LEN];
	char err[512];
	size_t j;

	memset(s, 0, sizeof(*s));
	s->idx = idx;
	snprintf(s->name, sizeof(s->name), "site%03d", idx);
	s->ndept = ndept;
	for (j = 0; j < ndept; j++) {
		if ((s->dept[j] = malloc(16)) == NULL)
			return -1;
		snprintf(s->dept[j], 16, "dept%04zu", ((size_t)idx + 10 * j) %
		    norg);
		s->ndev[j] = DEV_MIN + (int)(h4(idx, j, 0xde7, 0) % DEV_SPAN);
	}
	s->dims.dept = s->dept;
	s->dims.ndept = ndept;
	s->dims.cat = cat;
	s->dims.timezone = tz;
	if ((s->keys = weekkey_open(NULL, err, sizeof(err))) == NULL ||
	    (s->vault = vault_open(NULL, s->keys, &s->dims, NULL, NULL, err,
	    sizeof(err))) == NULL)
		goto fail;
	vault_set_dims(s->vault, s->dept, ndept, cat);
	if (outbox_key_load(NULL, key, err, sizeof(err)) != 0 ||
	    (s->ob = outbox_open(vault_db(s->vault), key, (uint64_t)64 << 20,
	    err, sizeof(err))) == NULL)
		goto fail;
	if ((s->rel = reldb_open(":memory:", err, sizeof(err))) == NULL)
		goto fail;
	if ((s->agg = agg_new(1000000, (size_t)1 << 28)) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	memset(&cc, 0, sizeof(cc));
	snprintf(cc.conninfo, sizeof(cc.conninfo), "%s user=sensor%03d",
	    conninfo, idx);
	snprintf(cc.password, sizeof(cc.password), "%s", password);
	snprintf(cc.site, sizeof(cc.site), "%s", s->name);
	cc.outbox_max_mb = 64;
	if ((s->ship = ship_new(&cc, s->ob, err, sizeof(err))) == NULL)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "centralbench: %s: %s\n", s->name, err);
	return -1;
}

static void
site_close(struct site *s)
{
	size_t j;

	ship_free(s->ship);
	outbox_close(s->ob);
	vault_close(s->vault);
	reldb_close(s->rel);
	weekkey_close(s->keys);
	agg_free(s->agg);
	for (j = 0; j < s->ndept; j++)
		free(s->dept[j]);
}

/*
 * Pump every site until every outbox is empty.  0 ok, -1 when nothing
 * was shipped for STALL_SEC (a site cannot reach the database).
 */
static int
drain(struct site *s, size_t n, struct pollfd *pfd)
{
	uint64_t last = 0;
	double since = now_s();
	size_t i;

	for (;;) {
		int64_t left = 0;
		uint64_t shipped = 0;

		for (i = 0; i < n; i++) {
			struct ship_stats st;
			int64_t l;

			ship_pump(s[i].ship);
			if ((l = outbox_count(s[i].ob)) < 0)
				return -1;
			left += l;
			ship_stats(s[i].ship, &st);
			shipped += st.shipped;
		}
		if (left == 0)
			return 0;
		if (shipped != last) {
			last = shipped;
			since = now_s();
		} else if (now_s() - since > STALL_SEC) {
			for (i = 0; i < n; i++) {
				struct ship_stats st;

				ship_stats(s[i].ship, &st);
				if (!st.up)
					fprintf(stderr, "centralbench: %s "
					    "does not ship (see its log line "
					    "above)\n", s[i].name);
			}
			return -1;
		}
		for (i = 0; i < n; i++) {
			pfd[i].fd = ship_fd(s[i].ship);
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, n, 200) < 0 && errno != EINTR)
			return -1;
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: centralbench -c CONNINFO -p PASSFILE -k "
	    "CATALOG -m MONDAY [-s sites] [-d depts_per_site] [-o org_depts] "
	    "[-f flush_seconds] [-x seed] [-t timezone] [-w workdir]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *conninfo = NULL, *passfile = NULL, *catpath = NULL;
	const char *tz = "UTC", *workdir = NULL;
	size_t nsites = 100, ndept = 10, norg = 100, i;
	int64_t monday = -1;
	int flush = 3600, nslots, fhours, hour, slot, c;
	char password[CONFIG_CENTRAL_PASS_MAX];
	struct cfgerr cerr;
	struct catalog *cat;
	struct site *s;
	struct pollfd *pfd;
	uint64_t shipped = 0, batches = 0, dropped = 0, smin = UINT64_MAX,
	    smax = 0;
	struct rel_params params = { 5 };
	double t0, tcol = 0, twait = 0, c0, tflush = 0, tcollect = 0,
	    trelease = 0;
	FILE *f;

	while ((c = getopt(argc, argv, "c:d:f:k:m:o:p:s:t:w:x:")) != -1) {
		switch (c) {
		case 'c': conninfo = optarg; break;
		case 'd': ndept = strtoul(optarg, NULL, 10); break;
		case 'f': flush = atoi(optarg); break;
		case 'k': catpath = optarg; break;
		case 'm': monday = strtoll(optarg, NULL, 10); break;
		case 'o': norg = strtoul(optarg, NULL, 10); break;
		case 'p': passfile = optarg; break;
		case 's': nsites = strtoul(optarg, NULL, 10); break;
		case 't': tz = optarg; break;
		case 'w': workdir = optarg; break;
		case 'x': seed = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (conninfo == NULL || passfile == NULL || catpath == NULL ||
	    monday < 0 || nsites < 1 || nsites > 1000 || ndept < 1 ||
	    ndept > 64 || norg < ndept || norg > 9999 || flush < 1 ||
	    (flush <= 3600 && 3600 % flush != 0) ||
	    (flush > 3600 && (flush % 3600 != 0 || 86400 % flush != 0)))
		usage();
	/* a flush every slice of an hour, or every fhours hours */
	/*
	 * relstore_sqlite creates the file it is given before SQLite opens
	 * it, also ":memory:" (then an empty file): in the work directory.
	 */
	if (workdir != NULL && chdir(workdir) != 0) {
		fprintf(stderr, "centralbench: %s: %s\n", workdir,
		    strerror(errno));
		return 1;
	}
	nslots = flush < 3600 ? 3600 / flush : 1;
	fhours = flush > 3600 ? flush / 3600 : 1;
	log_init("centralbench", 0, LOG_LVL_WARN);
	if (period_set_tz(tz) != 0) {
		fprintf(stderr, "centralbench: unknown time zone %s\n", tz);
		return 1;
	}
	if ((f = fopen(passfile, "r")) == NULL ||
	    fgets(password, sizeof(password), f) == NULL) {
		fprintf(stderr, "centralbench: cannot read %s\n", passfile);
		return 1;
	}
	fclose(f);
	password[strcspn(password, "\r\n")] = '\0';
	memset(&cerr, 0, sizeof(cerr));
	if ((cat = catalog_load(catpath, &cerr)) == NULL) {
		fprintf(stderr, "centralbench: %s: %s\n", catpath, cerr.msg);
		return 1;
	}
	nsvc = catalog_count(cat);
	if (zipf_init() != 0 || (s = calloc(nsites, sizeof(*s))) == NULL ||
	    (pfd = calloc(nsites, sizeof(*pfd))) == NULL)
		return 1;
	for (i = 0; i < nsites; i++)
		if (site_open(&s[i], (int)i, ndept, norg, conninfo, password,
		    cat, tz) != 0)
			return 1;
	t0 = now_s();
	c0 = cpu_s();
	for (hour = 0; hour < 7 * 24; hour++) {
		int64_t th = monday + (int64_t)hour * 3600;

		for (slot = 0; slot < nslots; slot++) {
			/* the flush at the slice's end, as the timer fires */
			int64_t tf = th + (int64_t)(slot + 1) * (3600 / nslots);
			struct period pf;
			double a = now_s(), b;

			period_of(tf, &pf);
			b = now_s();
			for (i = 0; i < nsites; i++)
				site_slice(&s[i], hour, th, slot, nslots);
			tflush += now_s() - b;
			if ((hour + 1) % fhours != 0) {
				tcol += now_s() - a;
				continue;	/* the aggregates keep it */
			}
			for (i = 0; i < nsites; i++) {
				int n;

				b = now_s();
				if (vault_flush(s[i].vault, s[i].agg) != 0) {
					fprintf(stderr, "centralbench: %s: "
					    "vault_flush failed\n", s[i].name);
					return 1;
				}
				tflush += now_s() - b;
				/*
				 * As flush_finished(): the changed cells into
				 * the outbox (which pumps), then the local
				 * release pass, which closes yesterday.
				 */
				b = now_s();
				if (ship_collect(s[i].ship, s[i].vault,
				    &s[i].dims) != 0)
					return 1;
				tcollect += now_s() - b;
				b = now_s();
				n = release_due_periods(s[i].vault, s[i].rel,
				    &s[i].dims, &params, pf.day, pf.week, tf);
				if (n < 0) {
					fprintf(stderr, "centralbench: %s: the "
					    "local release failed\n", s[i].name);
					return 1;
				}
				if (n > 0)
					ship_forget(s[i].ship);
				trelease += now_s() - b;
			}
			tcol += now_s() - a;
			a = now_s();
			if (drain(s, nsites, pfd) != 0) {
				fprintf(stderr, "centralbench: the outboxes "
				    "do not drain (hour %d)\n", hour);
				return 1;
			}
			twait += now_s() - a;
		}
		if (hour % 24 == 23)
			fprintf(stderr, "centralbench: day %d shipped, %.1f s\n",
			    hour / 24 + 1, now_s() - t0);
	}
	printf("sites %zu\n", nsites);
	printf("departments_per_site %zu\n", ndept);
	printf("org_departments %zu\n", norg);
	printf("flush_seconds %d\n", flush);
	printf("flushes %zu\n", nsites * 7 * 24 * (size_t)nslots /
	    (size_t)fhours);
	{
		uint64_t devs = 0;
		size_t d;

		for (i = 0; i < nsites; i++)
			for (d = 0; d < s[i].ndept; d++)
				devs += (uint64_t)s[i].ndev[d];
		printf("devices %" PRIu64 "\n", devs + nsites * GUESTS);
	}
	printf("ingest_wall_s %.3f\n", now_s() - t0);
	printf("sensor_side_wall_s %.3f\n", tcol);
	printf("sensor_flush_s %.3f\n", tflush);
	printf("sensor_collect_s %.3f\n", tcollect);
	printf("sensor_release_s %.3f\n", trelease);
	printf("drain_wait_s %.3f\n", twait);
	printf("client_cpu_s %.3f\n", cpu_s() - c0);
	for (i = 0; i < nsites; i++) {
		struct ship_stats st;

		ship_stats(s[i].ship, &st);
		shipped += st.shipped;
		batches += st.batches;
		dropped += st.dropped;
		if (st.shipped < smin)
			smin = st.shipped;
		if (st.shipped > smax)
			smax = st.shipped;
	}
	printf("records_shipped %" PRIu64 "\n", shipped);
	printf("records_per_site_min %" PRIu64 "\n", smin);
	printf("records_per_site_max %" PRIu64 "\n", smax);
	printf("batches %" PRIu64 "\n", batches);
	printf("outbox_dropped %" PRIu64 "\n", dropped);
	for (i = 0; i < nsites; i++)
		site_close(&s[i]);
	free(s);
	free(pfd);
	free(zipf);
	free(rank_svc);
	catalog_free(cat);
	return dropped == 0 ? 0 : 1;
}
