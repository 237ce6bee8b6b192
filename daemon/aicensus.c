/*
 * aicensus.c - the command-line tool: inspect a capture, query the
 * database, set up the central database.  It never writes a sensor's
 * databases; `central` creates and upgrades the central PostgreSQL
 * database and maps sites to roles in it (store/central_pg.h).
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "aggregate/agg.h"
#include "capture/capture.h"
#include "decode/decode.h"
#include "detect/catalog.h"
#include "common/cfgerr.h"
#include "common/config.h"
#include "common/log.h"
#include "common/period.h"
#include "aggregate/pipeline.h"
#include "out/query.h"
#include "release/crelease.h"
#include "release/released.h"
#include "store/central_pg.h"
#include "store/relstore_pg.h"
#include "out/report/report.h"
#include "attribute/weekkey.h"

#ifndef AIC_VERSION
#define AIC_VERSION "dev"
#endif
#ifndef AIC_SYSCONFDIR
#define AIC_SYSCONFDIR "/etc"
#endif

/* The report formats, from the one table: "html|md|csv|json". */
static void
report_format_names(FILE *f, const char *sep, const char *last)
{
	const struct report_format *r;

	for (r = report_formats; r->name != NULL; r++)
		fprintf(f, "%s%s", r == report_formats ? "" : r[1].name ==
		    NULL ? last : sep, r->name);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: aicensus inspect [-c CONFIG] FILE\n"
	    "       aicensus query --db RELEASED.db [--week W | --day D |\n"
	    "                --from A --to B] [--by department,service,category,\n"
	    "                day|week] [--format table|csv|json]\n"
	    "       aicensus report [-c CONFIG] [--db RELEASED.db] --week WEEK|--quarter Q\n"
	    "                [--format ");
	report_format_names(f, "|", "|");
	fprintf(f, "] [--lang en|nl] [-o FILE]\n"
	    "       aicensus central init|migrate --db CONNINFO\n"
	    "       aicensus central add-site --db CONNINFO SITE ROLE\n"
	    "       aicensus central release --db CONNINFO -c CONFIG [--grace-hours H]\n"
	    "       aicensus --version\n"
	    "\n"
	    "A query reads released periods only: A and B are days (2026-11-16)\n"
	    "or ISO weeks (2026-W47), widened to whole released periods.\n"
	    "--by day gives day cells (no department x service), --by week\n"
	    "week cells; neither sums the weeks of the range (device-weeks).\n"
	    "A report covers an ISO week (2026-W47) or the ISO weeks of a quarter\n"
	    "(2026-Q4) from the release database; \"last\" is the last released week\n"
	    "or the last complete quarter.  -c takes the release database\n"
	    "(release_database), language and retention from the configuration.\n"
	    "central works on the central PostgreSQL database (CONNINFO: a libpq\n"
	    "\"host=... dbname=... user=...\" string or a postgresql:// URI; keep the\n"
	    "password in ~/.pgpass or PGPASSFILE): init creates it, migrate upgrades\n"
	    "it, add-site maps an existing login role to a site, release publishes\n"
	    "the organisation-wide figures of ended periods (docs/CENTRAL.md).\n"
	    "query and report read the central release when --db is a CONNINFO.\n");
}

/*
 * A release database by name: a PostgreSQL connection string reads the
 * central release (store/relstore_pg.h), anything else is a file.
 */
/*
 * A shipping sensor's file holds no cells (release.h, one publication
 * per figure): say where they are rather than show zeros.  The file is
 * closed then; NULL with err.
 */
static struct released *
refuse_central(struct released *r, char *err, size_t errlen)
{
	char site[64];

	if (r == NULL || released_central_site(r, site, sizeof(site)) != 1)
		return r;
	released_central_message(site, err, errlen);
	released_close(r);
	return NULL;
}

static struct released *
open_released(const char *db, char *err, size_t errlen)
{
	struct relstore *st;

	if (!relstore_pg_is_conninfo(db))
		return refuse_central(released_open(db, err, errlen), err,
		    errlen);
	if ((st = relstore_pg_open(db, RELSTORE_READ, err, errlen)) == NULL)
		return NULL;
	return released_of(st, err, errlen);
}

/* --- inspect ---------------------------------------------------------- */

struct inspect_ctx {
	struct capture	*cap;
	struct pipeline	*P;
	unsigned long	 n;
};

static void
print_name(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isprint(c) && c != '\t' && c != '\\')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
}

static void
on_detection(void *arg, const struct detection *d)
{
	time_t t = (time_t)(d->ts_usec / 1000000);
	struct tm tm;
	char ts[32];

	(void)arg;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("%s.%06uZ\t%s\t%s\t", ts, (unsigned)(d->ts_usec % 1000000),
	    d->detector, d->what);
	print_name(d->name, d->name_len);
	printf("\t%s\t%s\t%s\n", d->service ? d->service : "-",
	    d->department ? d->department : "-", d->outcome);
}

static void
on_packet(void *arg, uint64_t ts, const uint8_t *p, size_t caplen,
    size_t wirelen)
{
	struct inspect_ctx *c = arg;

	c->n++;
	pipeline_packet(c->P, capture_dlt(c->cap), ts, p, caplen, wirelen);
}

static int
cmd_inspect(int argc, char **argv)
{
	const char *cfgpath = AIC_SYSCONFDIR "/aicensus/aicensus.conf";
	struct cfgerr e;
	struct config *cfg;
	struct catalog *cat;
	struct agg *agg;
	struct weekkey *dk;
	struct inspect_ctx c;
	char err[1024];
	int ch, n, rc = 0;

	optind = 1;
	while ((ch = getopt(argc, argv, "c:")) != -1) {
		if (ch != 'c') {
			usage(stderr);
			return 2;
		}
		cfgpath = optarg;
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	memset(&e, 0, sizeof(e));
	if ((cfg = config_load(cfgpath, &e)) == NULL ||
	    (cat = catalog_load(cfg->catalog, &e)) == NULL) {
		cfgerr_format(&e, err, sizeof(err));
		fprintf(stderr, "aicensus: %s\n", err);
		config_free(cfg);
		return 1;
	}
	period_set_tz(cfg->timezone);
	memset(&c, 0, sizeof(c));
	agg = agg_new(1u << 20, (size_t)1 << 30);
	dk = weekkey_open(NULL, err, sizeof(err));
	if (agg == NULL || dk == NULL ||
	    (c.P = pipeline_new(cfg, cat, agg, dk, err, sizeof(err))) == NULL ||
	    (c.cap = capture_open_file(argv[optind],
	    decode_dlt_supported, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "aicensus: %s\n", err);
		rc = 1;
		goto out;
	}
	pipeline_set_inspect(c.P, on_detection, &c);
	while ((n = capture_dispatch(c.cap, 4096, on_packet, &c)) > 0)
		;
	if (n == -1) {
		fprintf(stderr, "aicensus: %s: read error after %lu packets: "
		    "%s\n", argv[optind], c.n, capture_error(c.cap));
		rc = 1;
	}
out:
	capture_close(c.cap);
	pipeline_free(c.P);
	weekkey_close(dk);
	agg_free(agg);
	catalog_free(cat);
	config_free(cfg);
	return rc;
}

/* --- query ------------------------------------------------------------ */

enum fmt { F_TABLE, F_CSV, F_JSON };

/* The published columns of a result: those every row carries. */
static unsigned
columns(const struct qresult *r)
{
	unsigned m = r->n > 0 ? REL_ALL_MEASURES : 0;
	size_t i;

	for (i = 0; i < r->n; i++)
		m &= r->rows[i].published;
	return m;
}

/* CSV: a field with a comma, a quote or a line break is quoted. */
static void
csv_field(const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void
print_csv(const struct qresult *r)
{
	unsigned cols = columns(r);
	size_t i;
	int k;

	printf("period,department,service");
	for (k = 0; k < RM_N; k++)
		if (cols & (1u << k))
			printf(",%s", rel_measure_names[k]);
	putchar('\n');
	for (i = 0; i < r->n; i++) {
		const struct qrow *w = &r->rows[i];
		char lab[40];

		query_row_label(w, r->derived, lab, sizeof(lab));
		printf("%s,", lab);
		csv_field(w->dept);
		putchar(',');
		csv_field(w->svc);
		for (k = 0; k < RM_N; k++)
			if (cols & (1u << k))
				printf(",%llu", (unsigned long long)w->m[k]);
		putchar('\n');
	}
}

/* Columns padded to their widest cell; numbers right-aligned. */
static void
print_table(const struct qresult *r)
{
	unsigned cols = columns(r);
	size_t wl = strlen("period"), wd = strlen("department"),
	    ws = strlen("service"), wm[RM_N], i;
	char lab[40], num[32];
	int k;

	for (k = 0; k < RM_N; k++)
		wm[k] = strlen(rel_measure_names[k]);
	for (i = 0; i < r->n; i++) {
		const struct qrow *w = &r->rows[i];

		query_row_label(w, r->derived, lab, sizeof(lab));
		if (strlen(lab) > wl)
			wl = strlen(lab);
		if (strlen(w->dept) > wd)
			wd = strlen(w->dept);
		if (strlen(w->svc) > ws)
			ws = strlen(w->svc);
		for (k = 0; k < RM_N; k++) {
			snprintf(num, sizeof(num), "%llu",
			    (unsigned long long)w->m[k]);
			if (strlen(num) > wm[k])
				wm[k] = strlen(num);
		}
	}
	printf("%-*s  %-*s  %-*s", (int)wl, "period", (int)wd, "department",
	    (int)ws, "service");
	for (k = 0; k < RM_N; k++)
		if (cols & (1u << k))
			printf("  %*s", (int)wm[k], rel_measure_names[k]);
	putchar('\n');
	for (i = 0; i < r->n; i++) {
		const struct qrow *w = &r->rows[i];

		query_row_label(w, r->derived, lab, sizeof(lab));
		printf("%-*s  %-*s  %-*s", (int)wl, lab, (int)wd, w->dept,
		    (int)ws, w->svc);
		for (k = 0; k < RM_N; k++)
			if (cols & (1u << k))
				printf("  %*llu", (int)wm[k],
				    (unsigned long long)w->m[k]);
		putchar('\n');
	}
	fprintf(stderr, "%zu row(s) of %zu released period(s)%s; figures are "
	    "perturbed (cell key method, minimum group size %d): rows need "
	    "not add up%s\n", r->n, r->nperiods, r->derived ? ", summed over "
	    "weeks (devices are device-weeks)" : "", r->min_group,
	    r->min_group == 1 ? "; min_group 1: NOT protected" : "");
}

static int
cmd_query(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "week", required_argument, NULL, 'w' },
		{ "day", required_argument, NULL, 'D' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "by", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	struct query q;
	struct qresult r;
	struct released *rel = NULL;
	const char *db = NULL, *by = NULL, *from = NULL, *to = NULL,
	    *week = NULL, *day = NULL;
	enum fmt f = F_TABLE;
	char err[512];
	int ch, rc = 1;
	json_t *doc;

	memset(&q, 0, sizeof(q));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'w': week = optarg; break;
		case 'D': day = optarg; break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'b': by = optarg; break;
		case 'F':
			if (strcmp(optarg, "table") == 0) f = F_TABLE;
			else if (strcmp(optarg, "csv") == 0) f = F_CSV;
			else if (strcmp(optarg, "json") == 0) f = F_JSON;
			else {
				fprintf(stderr, "aicensus: --format is table, "
				    "csv or json\n");
				return 2;
			}
			break;
		default: usage(stderr); return 2;
		}
	}
	if (db == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((week != NULL) + (day != NULL) + (from != NULL || to != NULL) >
	    1) {
		fprintf(stderr, "aicensus: --week, --day and --from/--to "
		    "exclude each other\n");
		return 2;
	}
	/* --day asks for day cells, --week for week cells */
	if (query_parse_by(by == NULL && day != NULL ? "day" : by, &q, err,
	    sizeof(err)) != 0 || ((week != NULL || day != NULL) &&
	    query_imply_level(&q, day != NULL ? REL_DAY : REL_WEEK, err,
	    sizeof(err)) != 0)) {
		fprintf(stderr, "aicensus: %s\n", err);
		return 2;
	}
	if (week != NULL) {
		if (period_week_parse(week) <= 0) {
			fprintf(stderr, "aicensus: --week %s: use 2026-W47\n",
			    week);
			return 2;
		}
		from = to = week;
	}
	if (day != NULL) {
		int32_t d;

		if (period_week_parse(day) > 0 || query_parse_when(day, 0, 0,
		    &d, err, sizeof(err)) != 0) {
			fprintf(stderr, "aicensus: --day %s: use 2026-11-18\n",
			    day);
			return 2;
		}
		from = to = day;
	}
	if ((from != NULL && query_parse_when(from, 0, 0, &q.from_day, err,
	    sizeof(err)) != 0) || (to != NULL && query_parse_when(to, 1, 0,
	    &q.to_day, err, sizeof(err)) != 0) ||
	    query_check_range(&q, err, sizeof(err)) != 0) {
		fprintf(stderr, "aicensus: %s\n", err);
		return 2;
	}
	if ((rel = open_released(db, err, sizeof(err))) == NULL) {
		fprintf(stderr, "aicensus: %s\n", err);
		return 1;
	}
	/* epochs are shown in the zone the periods were released in */
	period_set_tz(strcmp(released_timezone(rel), "system") == 0 ? "" :
	    released_timezone(rel));
	if (query_run(rel, &q, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "aicensus: %s\n", err);
		goto out;
	}
	rc = 0;
	if (f == F_JSON) {
		if ((doc = query_json(&r)) == NULL ||
		    json_dumpf(doc, stdout, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER) != 0)
			rc = 1;
		putchar('\n');
		json_decref(doc);
	} else if (f == F_CSV)
		print_csv(&r);
	else
		print_table(&r);
	query_free(&r);
	if (fflush(stdout) != 0)
		rc = 1;
out:
	released_close(rel);
	return rc;
}

/* --- report ------------------------------------------------------------ */

/*
 * Written next to FILE and renamed over it, so a reader (a mail job, the
 * web server) never sees half a report.  Anything but a regular file
 * (/dev/stdout, a pipe) is written in place: renaming over it would
 * replace the device.
 */
static int
report_to_file(struct released *h, const struct report_opts *o,
    const char *path,
    char *err, size_t errlen)
{
	struct stat sb;
	char tmp[1024];
	FILE *f;

	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		if ((f = fopen(path, "w")) == NULL) {
			snprintf(err, errlen, "%s: %m", path);
			return -1;
		}
		if (report_write(h, o, f, err, errlen) != 0) {
			fclose(f);
			return -1;
		}
		if (fclose(f) != 0) {
			snprintf(err, errlen, "%s: %m", path);
			return -1;
		}
		return 0;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((f = fopen(tmp, "w")) == NULL) {
		snprintf(err, errlen, "%s: %m", tmp);
		return -1;
	}
	if (report_write(h, o, f, err, errlen) != 0) {
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %m", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int
cmd_report(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "week", required_argument, NULL, 'w' },
		{ "quarter", required_argument, NULL, 'q' },
		{ "format", required_argument, NULL, 'F' },
		{ "lang", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "now", required_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 }
	};
	struct report_opts o;
	struct config *cfg = NULL;
	struct cfgerr e;
	const char *cfgpath = NULL, *db = NULL, *outpath = NULL, *lang = NULL;
	const char *week = NULL, *quarter = NULL;
	struct released *h = NULL;
	char err[2048];
	int ch, rc = 1;

	report_opts_init(&o);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:o:", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'd': db = optarg; break;
		case 'w': week = optarg; break;
		case 'q': quarter = optarg; break;
		case 'l': lang = optarg; break;
		case 'o': outpath = optarg; break;
		case 'N': o.now = strtoll(optarg, NULL, 10); break;
		case 'F':
			if ((o.format = report_format_find(optarg)) == NULL) {
				fprintf(stderr, "aicensus: --format is ");
				report_format_names(stderr, ", ", " or ");
				fprintf(stderr, "\n");
				return 2;
			}
			break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (week != NULL) == (quarter != NULL)) {
		fprintf(stderr, "aicensus: report needs one of --week or"
		    " --quarter\n");
		usage(stderr);
		return 2;
	}
	if ((week && report_parse_week(week, &o) != 0) ||
	    (quarter && report_parse_quarter(quarter, &o) != 0)) {
		fprintf(stderr, "aicensus: use --week 2026-W47 or --week last,"
		    " --quarter 2026-Q4 or --quarter last\n");
		return 2;
	}
	if (cfgpath != NULL) {
		memset(&e, 0, sizeof(e));
		if ((cfg = config_load(cfgpath, &e)) == NULL) {
			cfgerr_format(&e, err, sizeof(err));
			fprintf(stderr, "aicensus: %s\n", err);
			return 1;
		}
		if (db == NULL)
			db = cfg->release_database;
		snprintf(o.lang, sizeof(o.lang), "%s", cfg->language);
		o.retention_days = cfg->retention_days;
	}
	if (lang != NULL) {
		if (strcmp(lang, "en") != 0 && strcmp(lang, "nl") != 0) {
			fprintf(stderr, "aicensus: --lang is en or nl\n");
			goto out;
		}
		snprintf(o.lang, sizeof(o.lang), "%s", lang);
	}
	if (db == NULL) {
		fprintf(stderr, "aicensus: report needs --db DB or -c CONFIG\n");
		goto out;
	}
	if ((h = open_released(db, err, sizeof(err))) == NULL) {
		fprintf(stderr, "aicensus: %s\n", err);
		goto out;
	}
	if (outpath != NULL && strcmp(outpath, "-") != 0)
		rc = report_to_file(h, &o, outpath, err, sizeof(err));
	else
		rc = report_write(h, &o, stdout, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "aicensus: report: %s\n", err);
		rc = 1;
	}
out:
	if (h != NULL)
		released_close(h);
	config_free(cfg);
	return rc;
}

/* --- central ----------------------------------------------------------- */

/*
 * central release: the organisation's configuration (departments and
 * their order, catalog, sanctioned services, min_group_size, time zone)
 * over every site's cells.
 */
static int
central_release(const char *db, const char *cfgpath, int grace)
{
	struct config *cfg = NULL;
	struct catalog *cat = NULL;
	struct cfgerr e;
	struct rel_dims dims;
	struct crelease_opts o;
	struct crelease_result res;
	char **sanct = NULL, err[1024];
	size_t i;
	int rc = 1;

	memset(&e, 0, sizeof(e));
	if ((cfg = config_load(cfgpath, &e)) == NULL ||
	    (cat = catalog_load(cfg->catalog, &e)) == NULL) {
		cfgerr_format(&e, err, sizeof(err));
		fprintf(stderr, "aicensus: %s\n", err);
		goto out;
	}
	if (period_set_tz(cfg->timezone) != 0) {
		fprintf(stderr, "aicensus: unknown time zone in %s\n", cfgpath);
		goto out;
	}
	if ((sanct = calloc(cfg->n_sanctioned + 1, sizeof(*sanct))) == NULL)
		goto out;
	for (i = 0; i < cfg->n_sanctioned; i++)
		sanct[i] = cfg->sanctioned[i].s;
	memset(&dims, 0, sizeof(dims));
	dims.dept = cfg->dept_names;
	dims.ndept = cfg->n_depts;
	dims.cat = cat;
	dims.sanctioned = sanct;
	dims.nsanct = cfg->n_sanctioned;
	dims.timezone = cfg->timezone;
	memset(&o, 0, sizeof(o));
	o.dims = &dims;
	o.params.k = cfg->min_group_size;
	o.grace_hours = grace;
	o.retention_days = cfg->retention_days;
	o.now = (int64_t)time(NULL);
	if (crelease_run(db, &o, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "aicensus: central release: %s\n", err);
		goto out;
	}
	printf("central release: %u days, %u weeks published; %u periods "
	    "within the %d-hour grace\n", res.days, res.weeks, res.waiting,
	    grace);
	if (res.retention_rows > 0)
		printf("central release: %d rows older than retention_days "
		    "(%d) deleted\n", res.retention_rows, cfg->retention_days);
	if (res.unmapped_cells > 0)
		printf("central release: %zu site cells of departments not in "
		    "%s counted as \"unassigned\"\n", res.unmapped_cells,
		    cfgpath);
	if (res.dropped_cells > 0)
		printf("central release: %zu site cells of services not in the "
		    "catalog left out (still in the \"*\" totals)\n",
		    res.dropped_cells);
	if (res.silent_max > 0)
		printf("central release: up to %u sites silent in a period "
		    "(blind spot \"sites_silent\", view aicensus.sites)\n",
		    res.silent_max);
	rc = 0;
out:
	free(sanct);
	catalog_free(cat);
	config_free(cfg);
	return rc;
}

static int
cmd_central(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "grace-hours", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 }
	};
	struct central *c = NULL;
	const char *db = NULL, *sub, *cfgpath = NULL;
	char err[1024], *end;
	long grace = 6;
	int ch, from, nargs, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 'c':
			cfgpath = optarg;
			break;
		case 'g':
			grace = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || grace < 0 ||
			    grace > 24 * 366) {
				fprintf(stderr, "aicensus: --grace-hours is "
				    "0 to 8784\n");
				return 2;
			}
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	sub = argv[optind];
	nargs = argc - optind - 1;
	if (!((strcmp(sub, "init") == 0 && nargs == 0) ||
	    (strcmp(sub, "migrate") == 0 && nargs == 0) ||
	    (strcmp(sub, "release") == 0 && nargs == 0) ||
	    (strcmp(sub, "add-site") == 0 && nargs == 2))) {
		usage(stderr);
		return 2;
	}
	if (db == NULL) {
		fprintf(stderr, "aicensus: central %s needs --db CONNINFO\n",
		    sub);
		return 2;
	}
	if (strcmp(sub, "release") == 0) {
		if (cfgpath == NULL)
			cfgpath = AIC_SYSCONFDIR "/aicensus/aicensus.conf";
		return central_release(db, cfgpath, (int)grace);
	}
	if (strcmp(sub, "add-site") == 0 &&
	    (!central_pg_site_ok(argv[optind + 1]) ||
	    !central_pg_role_ok(argv[optind + 2]))) {
		fprintf(stderr, "aicensus: central add-site SITE ROLE: a site"
		    " is 1 to 63 letters, digits, '.', '_' or '-' starting"
		    " with a letter or digit; a role the same, not starting"
		    " with a digit, '.' or '-', and not pg_*, public or a"
		    " group role\n");
		return 2;
	}
	if ((c = central_pg_connect(db, err, sizeof(err))) == NULL) {
		fprintf(stderr, "aicensus: %s\n", err);
		return 1;
	}
	if (strcmp(sub, "add-site") == 0) {
		switch (central_pg_add_site(c, argv[optind + 1],
		    argv[optind + 2], err, sizeof(err))) {
		case 1:
			printf("site %s: role %s mapped, member of %s\n",
			    argv[optind + 1], argv[optind + 2],
			    CENTRAL_PG_WRITER);
			rc = 0;
			break;
		case 0:
			printf("site %s: role %s was already mapped\n",
			    argv[optind + 1], argv[optind + 2]);
			rc = 0;
			break;
		default:
			fprintf(stderr, "aicensus: %s: %s\n",
			    central_pg_name(c), err);
		}
		goto out;
	}
	if ((strcmp(sub, "init") == 0 ? central_pg_init(c, &from, err,
	    sizeof(err)) : central_pg_migrate(c, &from, err, sizeof(err))) !=
	    0) {
		fprintf(stderr, "aicensus: %s: %s\n", central_pg_name(c), err);
		goto out;
	}
	if (from == CENTRAL_PG_VERSION)
		printf("%s: schema version %d, nothing to do\n",
		    central_pg_name(c), from);
	else
		printf("%s: schema version %d (was %d%s)\n", central_pg_name(c),
		    CENTRAL_PG_VERSION, from, from == 0 ? ": created" : "");
	rc = 0;
out:
	central_pg_close(c);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("aicensus %s\n", AIC_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "inspect") == 0)
		return cmd_inspect(argc - 1, argv + 1);
	if (strcmp(argv[1], "query") == 0)
		return cmd_query(argc - 1, argv + 1);
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(argc - 1, argv + 1);
	if (strcmp(argv[1], "central") == 0)
		return cmd_central(argc - 1, argv + 1);
	usage(stderr);
	return 2;
}
