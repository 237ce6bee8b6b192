/*
 * aicensus.c - the command-line tool: inspect a capture, query the
 * database.  It reads; it never writes the database.
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
#include <sqlite3.h>

#include "agg.h"
#include "capture.h"
#include "catalog.h"
#include "cfgerr.h"
#include "config.h"
#include "period.h"
#include "pipeline.h"
#include "query.h"
#include "released.h"
#include "report.h"
#include "weekkey.h"

#ifndef AIC_VERSION
#define AIC_VERSION "dev"
#endif
#ifndef AIC_SYSCONFDIR
#define AIC_SYSCONFDIR "/etc"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: aicensus inspect [-c CONFIG] FILE\n"
	    "       aicensus query --db DB [--from WHEN] [--to WHEN]\n"
	    "                [--by department,service,category[,hour|day|week]]\n"
	    "                [--format table|csv|json] [--min-group N]\n"
	    "       aicensus report [-c CONFIG] [--db RELEASED.db] --week WEEK|--quarter Q\n"
	    "                [--format html|md|csv|json] [--lang en|nl] [-o FILE]\n"
	    "       aicensus --version\n"
	    "\n"
	    "WHEN is a day (2026-11-16), an ISO week (2026-W47) or a quarter\n"
	    "(2026-Q4); --to includes the whole day, week or quarter.\n"
	    "A report covers an ISO week (2026-W47) or the ISO weeks of a quarter\n"
	    "(2026-Q4) from the release database; \"last\" is the last released week\n"
	    "or the last complete quarter.  -c takes the release database\n"
	    "(release_database), language and retention from the configuration.\n");
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
	    (c.cap = capture_open_file(argv[optind], err, sizeof(err))) ==
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

static int
parse_by(const char *s, struct query *q)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "department") == 0)
			q->by_dept = 1;
		else if (strcmp(tok, "service") == 0)
			q->by_svc = 1;
		else if (strcmp(tok, "category") == 0)
			q->by_cat = 1;
		else if (strcmp(tok, "hour") == 0)
			q->interval = QI_HOUR;
		else if (strcmp(tok, "day") == 0)
			q->interval = QI_DAY;
		else if (strcmp(tok, "week") == 0)
			q->interval = QI_WEEK;
		else
			return -1;
	}
	return 0;
}

static void
print_json(const struct query *q, const struct qresult *r)
{
	json_t *root = json_object(), *rows = json_array();
	size_t i;
	int k;
	char label[40];

	json_object_set_new(root, "interval",
	    json_string(query_interval_name(q->interval)));
	json_object_set_new(root, "from", json_integer(q->from));
	json_object_set_new(root, "to", json_integer(q->to));
	json_object_set_new(root, "min_group_size",
	    json_integer(r->min_group));
	json_object_set_new(root, "suppressed_cells",
	    json_integer((json_int_t)r->suppressed));
	for (i = 0; i < r->n; i++) {
		const struct qrow *w = &r->rows[i];
		json_t *o = json_object();

		if (q->interval != QI_NONE) {
			query_period_label(q->interval, w->period, label,
			    sizeof(label));
			json_object_set_new(o, "period", json_string(label));
		}
		if (q->by_dept)
			json_object_set_new(o, "department",
			    json_string(w->dept));
		if (q->by_svc) {
			json_object_set_new(o, "service", json_string(w->svc));
			json_object_set_new(o, "service_name",
			    json_string(w->svc_name));
		}
		if (q->by_cat || q->by_svc)
			json_object_set_new(o, "category",
			    json_string(w->category));
		json_object_set_new(o, "suppressed",
		    json_boolean(w->suppressed));
		if (!w->suppressed) {
			for (k = 0; k < QM_N; k++)
				json_object_set_new(o, q_metric_names[k],
				    json_integer((json_int_t)w->m[k]));
			json_object_set_new(o, "devices",
			    json_integer((json_int_t)w->devices));
			json_object_set_new(o, "devices_exact",
			    json_boolean(w->devices_exact));
			if (w->withheld > 0)
				json_object_set_new(o, "withheld_cells",
				    json_integer(w->withheld));
		}
		json_array_append_new(rows, o);
	}
	json_object_set_new(root, "rows", rows);
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(root);
}

static void
print_rows(const struct query *q, const struct qresult *r, enum fmt f)
{
	const char *sep = f == F_CSV ? "," : "\t";
	char label[40];
	size_t i;
	int k;

	if (q->interval != QI_NONE)
		printf("period%s", sep);
	if (q->by_dept)
		printf("department%s", sep);
	if (q->by_svc)
		printf("service%s", sep);
	if (q->by_cat || q->by_svc)
		printf("category%s", sep);
	for (k = 0; k < QM_N; k++)
		printf("%s%s", q_metric_names[k], sep);
	printf("devices\n");
	for (i = 0; i < r->n; i++) {
		const struct qrow *w = &r->rows[i];

		if (q->interval != QI_NONE) {
			query_period_label(q->interval, w->period, label,
			    sizeof(label));
			printf("%s%s", label, sep);
		}
		if (q->by_dept)
			printf("%s%s", w->dept, sep);
		if (q->by_svc)
			printf("%s%s", w->svc, sep);
		if (q->by_cat || q->by_svc)
			printf("%s%s", w->category, sep);
		for (k = 0; k < QM_N; k++)
			if (w->suppressed)
				printf("%s%s", f == F_CSV ? "" : "*", sep);
			else
				printf("%llu%s", (unsigned long long)w->m[k],
				    sep);
		if (w->suppressed)
			printf("%s\n", f == F_CSV ? "suppressed" : "*");
		else
			printf("%llu%s\n", (unsigned long long)w->devices,
			    w->devices_exact ? "" : (f == F_CSV ? "" : "+"));
	}
	if (f == F_TABLE)
		fprintf(stderr, "%zu row(s); %zu suppressed (fewer than %d "
		    "devices, shown as *)%s\n", r->n, r->suppressed,
		    r->min_group, "");
}

static int
cmd_query(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "by", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'F' },
		{ "min-group", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	struct query q;
	struct qresult r;
	const char *db = NULL, *by = "department,service", *from = NULL,
	    *to = NULL;
	enum fmt f = F_TABLE;
	sqlite3 *h = NULL;
	char err[512], tz[64] = "";
	int ch, rc = 1;
	int64_t a, b;
	sqlite3_stmt *st;

	memset(&q, 0, sizeof(q));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'b': by = optarg; break;
		case 'm': q.min_group = atoi(optarg); break;
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
	if (parse_by(by, &q) != 0) {
		fprintf(stderr, "aicensus: --by takes department, service, "
		    "category and one of hour, day, week\n");
		return 2;
	}
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "aicensus: %s: %s\n", db, sqlite3_errmsg(h));
		goto out;
	}
	sqlite3_busy_timeout(h, 2000);
	/* dates are read in the zone the daemon counted in */
	if (sqlite3_prepare_v2(h, "SELECT value FROM meta WHERE key ="
	    " 'timezone'", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(tz, sizeof(tz), "%s",
			    (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	} else {
		fprintf(stderr, "aicensus: %s is not an aicensus database\n",
		    db);
		goto out;
	}
	period_set_tz(strcmp(tz, "system") == 0 ? "" : tz);
	q.from = 0;
	q.to = QUERY_END_OF_TIME;
	if (from && query_parse_range(from, &q.from, &b) != 0) {
		fprintf(stderr, "aicensus: --from %s: use 2026-11-16, 2026-W47 "
		    "or 2026-Q4\n", from);
		goto out;
	}
	if (to && query_parse_range(to, &a, &q.to) != 0) {
		fprintf(stderr, "aicensus: --to %s: use 2026-11-16, 2026-W47 "
		    "or 2026-Q4\n", to);
		goto out;
	}
	if (query_run(h, &q, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "aicensus: %s\n", err);
		goto out;
	}
	if (f == F_JSON)
		print_json(&q, &r);
	else
		print_rows(&q, &r, f);
	query_free(&r);
	rc = 0;
out:
	sqlite3_close(h);
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
			if (report_format_parse(optarg, &o.format) != 0) {
				fprintf(stderr, "aicensus: --format is html, md,"
				    " csv or json\n");
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
	if ((h = released_open(db, err, sizeof(err))) == NULL) {
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
	usage(stderr);
	return 2;
}
