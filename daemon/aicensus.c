/*
 * aicensus.c - the command-line tool: inspect a capture, query the
 * database, set up the central database.  It never writes a sensor's
 * databases; `central` creates and upgrades the central PostgreSQL
 * database and maps sites to roles in it (store/central_pg.h).
 */
#include <ctype.h>
#include <fcntl.h>
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
#include "store/central_read.h"
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
	    "       aicensus query [-c CONFIG] [--db DB] [--site NAME|all]\n"
	    "                [--week W | --day D | --from A --to B]\n"
	    "                [--by department,service,category,day|week]\n"
	    "                [--format table|csv|json]\n"
	    "       aicensus report [-c CONFIG] [--db DB] [--site NAME]\n"
	    "                --week WEEK|--quarter Q [--format ");
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
	    "query and report read the central release when --db is a CONNINFO,\n"
	    "or, without --db, when the configuration (-c, default\n"
	    AIC_SYSCONFDIR "/aicensus/aicensus.conf) has a central group: its\n"
	    "conninfo and password_file, a reader role's.  --site NAME reads one\n"
	    "site's figures (default: the organisation's); query --site all\n"
	    "prints the organisation (site \"*\") and every site, with a site\n"
	    "column.\n");
}

#define DEFAULT_CONFIG	AIC_SYSCONFDIR "/aicensus/aicensus.conf"

/*
 * Where query and report read: a release database file, or the central
 * release (a PostgreSQL connection string, from --db or from the
 * configuration's central group with its password) in one scope, or,
 * for query --site all, in every scope one after the other.
 */
struct source {
	struct released	*rel;
	struct relstore	*st;		/* central: the store under rel */
	struct central	*c;		/* central: meta, the sites */
	int		 central;
	char		 method[24];
	const char	*site;		/* central: "*", a site or "all" */
	char		**scopes;	/* all: "*", then the released sites */
	size_t		 nscopes;
};

static void
source_close(struct source *S)
{
	size_t i;

	released_close(S->rel);
	central_pg_close(S->c);
	for (i = 0; i < S->nscopes; i++)
		free(S->scopes[i]);
	free(S->scopes);
	memset(S, 0, sizeof(*S));
}

static int
add_scope(void *arg, const char *name)
{
	struct source *S = arg;
	char **v;

	if ((v = reallocarray(S->scopes, S->nscopes + 1, sizeof(*v))) ==
	    NULL)
		return -1;
	S->scopes = v;
	if ((v[S->nscopes] = strdup(name)) == NULL)
		return -1;
	S->nscopes++;
	return 0;
}

/* Is site one of the central database's registered sites? */
static int
site_known(struct central *c, const char *site, char *err, size_t errlen)
{
	struct central_read_site *v = NULL;
	size_t n = 0, i, at;
	int found = 0;

	if (central_read_sites(c, 0, 0, &v, &n, err, errlen) != 0)
		return -1;
	for (i = 0; i < n; i++)
		found |= strcmp(v[i].name, site) == 0;
	if (!found) {
		at = (size_t)snprintf(err, errlen, "no site \"%s\" in the "
		    "central database; its sites:", site);
		for (i = 0; i < n && at < errlen; i++)
			at += (size_t)snprintf(err + at, errlen - at, " %s",
			    v[i].name);
		if (n == 0 && at < errlen)
			snprintf(err + at, errlen - at, " none");
	}
	free(v);
	return found ? 0 : -1;
}

/*
 * Opens what db names (a file or a connection string), or without db
 * what the configuration names: the central release when it has a
 * central group, else its release database.  site (NULL: none given)
 * needs the central release.  0, 1 an error (err), 2 a usage error.
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

static int
source_open(struct source *S, const char *db, const struct config *cfg,
    const char *site, int allow_all, char *err, size_t errlen)
{
	char conninfo[4096];	/* escaped conninfo and password */
	int rc = 1;

	memset(S, 0, sizeof(*S));
	conninfo[0] = '\0';
	if (db != NULL && relstore_pg_is_conninfo(db))
		snprintf(conninfo, sizeof(conninfo), "%s", db);
	else if (db == NULL && cfg != NULL &&
	    cfg->api.source == CONFIG_API_CENTRAL) {
		if (central_read_conninfo(cfg->central.conninfo,
		    cfg->central.password, CENTRAL_READ_CONNECT_SEC, conninfo,
		    sizeof(conninfo), err, errlen) != 0)
			goto out;
	} else if (db == NULL && cfg != NULL)
		db = cfg->release_database;
	if (conninfo[0] == '\0') {
		if (site != NULL) {
			snprintf(err, errlen, "--site needs the central "
			    "release: --db CONNINFO, or a configuration with "
			    "a central group (%s is a sensor's release "
			    "database)", db);
			return 2;
		}
		if ((S->rel = refuse_central(released_open(db, err, errlen),
		    err, errlen)) == NULL)
			goto out;
		rc = 0;
		goto out;
	}
	S->central = 1;
	S->site = site != NULL ? site : REL_ALL;
	if (strcmp(S->site, "all") == 0 && !allow_all) {
		snprintf(err, errlen, "a report covers one scope: --site NAME "
		    "(query --site all lists every site)");
		rc = 2;
		goto out;
	}
	if (strcmp(S->site, REL_ALL) != 0 && strcmp(S->site, "all") != 0 &&
	    !central_pg_site_ok(S->site)) {
		snprintf(err, errlen, "--site: a site is 1 to 63 letters, "
		    "digits, '.', '_' or '-', starting with a letter or digit;"
		    " \"all\" (query) every site");
		rc = 2;
		goto out;
	}
	if ((S->c = central_pg_connect(conninfo, err, errlen)) == NULL ||
	    central_read_check(S->c, err, errlen) != 0 ||
	    central_read_method(S->c, S->method, sizeof(S->method), err,
	    errlen) != 0)
		goto out;
	if (strcmp(S->site, REL_ALL) != 0 && strcmp(S->site, "all") != 0 &&
	    site_known(S->c, S->site, err, errlen) != 0)
		goto out;
	if ((S->st = relstore_pg_open(conninfo, RELSTORE_READ, err,
	    errlen)) == NULL)
		goto out;
	if (strcmp(S->site, "all") == 0) {
		if (add_scope(S, REL_ALL) != 0 ||
		    relstore_pg_sites(S->st, add_scope, S) != 0) {
			snprintf(err, errlen, "reading the sites: %s",
			    relstore_error(S->st));
			relstore_close(S->st);
			S->st = NULL;
			goto out;
		}
	} else if (relstore_pg_set_site(S->st, S->site) != 0) {
		snprintf(err, errlen, "%s", relstore_error(S->st));
		relstore_close(S->st);
		S->st = NULL;
		goto out;
	}
	/* released_of() owns the store from here, failing or not */
	if ((S->rel = released_of(S->st, err, errlen)) == NULL) {
		S->st = NULL;
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(conninfo, sizeof(conninfo));
	if (rc != 0)
		source_close(S);
	return rc;
}

/*
 * The configuration query and report take their defaults from: -c, or
 * the default file when it exists and no --db is given.  *cfg NULL
 * when none; 0, or 1 with the error printed.
 */
static int
load_config(const char *cfgpath, const char *db, struct config **cfg)
{
	struct cfgerr e;
	char err[2048];

	*cfg = NULL;
	if (cfgpath == NULL && (db != NULL || access(DEFAULT_CONFIG, F_OK) !=
	    0))
		return 0;
	if (cfgpath == NULL)
		cfgpath = DEFAULT_CONFIG;
	memset(&e, 0, sizeof(e));
	if ((*cfg = config_load(cfgpath, &e)) == NULL) {
		cfgerr_format(&e, err, sizeof(err));
		fprintf(stderr, "aicensus: %s\n", err);
		return 1;
	}
	return 0;
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

/* One scope's result: "*" the organisation, or a site. */
struct scoped {
	const char	*site;
	struct qresult	 r;
};

/* The published columns of a result: those every row carries. */
static unsigned
columns(const struct scoped *v, size_t n)
{
	unsigned m = REL_ALL_MEASURES;
	size_t i, j, rows = 0;

	for (j = 0; j < n; j++)
		for (i = 0; i < v[j].r.n; i++, rows++)
			m &= v[j].r.rows[i].published;
	return rows > 0 ? m : 0;
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

/* with_site: a first column names each row's scope. */
static void
print_csv(const struct scoped *v, size_t n, int with_site)
{
	unsigned cols = columns(v, n);
	size_t i, j;
	int k;

	printf("%speriod,department,service", with_site ? "site," : "");
	for (k = 0; k < RM_N; k++)
		if (cols & (1u << k))
			printf(",%s", rel_measure_names[k]);
	putchar('\n');
	for (j = 0; j < n; j++)
		for (i = 0; i < v[j].r.n; i++) {
			const struct qrow *w = &v[j].r.rows[i];
			char lab[40];

			if (with_site) {
				csv_field(v[j].site);
				putchar(',');
			}
			query_row_label(w, v[j].r.derived, lab, sizeof(lab));
			printf("%s,", lab);
			csv_field(w->dept);
			putchar(',');
			csv_field(w->svc);
			for (k = 0; k < RM_N; k++)
				if (cols & (1u << k))
					printf(",%llu",
					    (unsigned long long)w->m[k]);
			putchar('\n');
		}
}

/* Columns padded to their widest cell; numbers right-aligned. */
static void
print_table(const struct scoped *v, size_t n, int with_site,
    const char *method)
{
	unsigned cols = columns(v, n);
	size_t wsite = strlen("site"), wl = strlen("period"),
	    wd = strlen("department"), ws = strlen("service"), wm[RM_N], i, j;
	size_t nrows = 0, nper = 0;
	char lab[40], num[32];
	int k, derived = 0, min_group = 0;

	for (k = 0; k < RM_N; k++)
		wm[k] = strlen(rel_measure_names[k]);
	for (j = 0; j < n; j++) {
		if (strlen(v[j].site) > wsite)
			wsite = strlen(v[j].site);
		nrows += v[j].r.n;
		nper += v[j].r.nperiods;
		derived |= v[j].r.derived;
		if (v[j].r.min_group > min_group)
			min_group = v[j].r.min_group;
		for (i = 0; i < v[j].r.n; i++) {
			const struct qrow *w = &v[j].r.rows[i];

			query_row_label(w, v[j].r.derived, lab, sizeof(lab));
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
	}
	if (with_site)
		printf("%-*s  ", (int)wsite, "site");
	printf("%-*s  %-*s  %-*s", (int)wl, "period", (int)wd, "department",
	    (int)ws, "service");
	for (k = 0; k < RM_N; k++)
		if (cols & (1u << k))
			printf("  %*s", (int)wm[k], rel_measure_names[k]);
	putchar('\n');
	for (j = 0; j < n; j++)
		for (i = 0; i < v[j].r.n; i++) {
			const struct qrow *w = &v[j].r.rows[i];

			query_row_label(w, v[j].r.derived, lab, sizeof(lab));
			if (with_site)
				printf("%-*s  ", (int)wsite, v[j].site);
			printf("%-*s  %-*s  %-*s", (int)wl, lab, (int)wd,
			    w->dept, (int)ws, w->svc);
			for (k = 0; k < RM_N; k++)
				if (cols & (1u << k))
					printf("  %*llu", (int)wm[k],
					    (unsigned long long)w->m[k]);
			putchar('\n');
		}
	fprintf(stderr, "%zu row(s) of %zu released period(s)%s%s; figures are "
	    "perturbed (cell key method, minimum group size %d): rows need "
	    "not add up%s%s\n", nrows, nper, with_site ? " in the scopes of "
	    "the organisation and its sites" : "", derived ? ", summed over "
	    "weeks (devices are device-weeks)" : "", min_group,
	    min_group == 1 ? "; min_group 1: NOT protected" : "",
	    method != NULL && strcmp(method, "ckm-central-1") == 0 ?
	    "; distinct devices are summed per site (a device's address "
	    "differs per site)" : "");
}

/* {"site": site, ...o} */
static json_t *
with_site_key(const char *site, json_t *o)
{
	json_t *n = json_object();

	if (n == NULL || json_object_set_new(n, "site", json_string(site)) !=
	    0 || json_object_update(n, o) != 0) {
		json_decref(n);
		return NULL;
	}
	return n;
}

/*
 * The query document (query.h); over a central release it names its
 * scope ("site"), and over several scopes every period and row does.
 */
static json_t *
scoped_json(const struct scoped *v, size_t n, int central, int with_site)
{
	json_t *root, *doc, *periods, *rows, *x, *names;
	size_t i, j;
	int min_group = -1;

	if (n == 0 || (root = query_json(&v[0].r)) == NULL)
		return NULL;
	if (!with_site) {
		if (central) {
			doc = json_object();
			json_object_set_new(doc, "method", json_incref(
			    json_object_get(root, "method")));
			json_object_set_new(doc, "site", json_string(
			    v[0].site));
			json_object_update_missing(doc, root);
			json_decref(root);
			return doc;
		}
		return root;
	}
	periods = json_array();
	rows = json_array();
	names = json_array();
	for (j = 0; j < n; j++) {
		if ((doc = j == 0 ? json_incref(root) : query_json(&v[j].r)) ==
		    NULL)
			goto fail;
		json_array_append_new(names, json_string(v[j].site));
		if (v[j].r.nperiods > 0 && v[j].r.min_group > min_group)
			min_group = v[j].r.min_group;
		json_array_foreach(json_object_get(doc, "periods"), i, x)
			json_array_append_new(periods, with_site_key(
			    v[j].site, x));
		json_array_foreach(json_object_get(doc, "rows"), i, x)
			json_array_append_new(rows, with_site_key(v[j].site,
			    x));
		json_decref(doc);
	}
	json_object_set_new(root, "min_group_size", min_group >= 0 ?
	    json_integer(min_group) : json_null());
	doc = json_object();
	json_object_set_new(doc, "method", json_incref(json_object_get(root,
	    "method")));
	json_object_set_new(doc, "sites", names);
	json_object_update_missing(doc, root);
	json_object_set_new(doc, "periods", periods);
	json_object_set_new(doc, "rows", rows);
	json_decref(root);
	return doc;
fail:
	json_decref(periods);
	json_decref(rows);
	json_decref(names);
	json_decref(root);
	return NULL;
}

static int
cmd_query(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "site", required_argument, NULL, 's' },
		{ "week", required_argument, NULL, 'w' },
		{ "day", required_argument, NULL, 'D' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "by", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	struct query q;
	struct source S;
	struct scoped *v = NULL;
	struct config *cfg = NULL;
	const char *db = NULL, *by = NULL, *from = NULL, *to = NULL,
	    *week = NULL, *day = NULL, *cfgpath = NULL, *site = NULL;
	const char *one = REL_ALL;
	enum fmt f = F_TABLE;
	char err[2048];
	size_t nv = 0, i;
	int ch, rc = 1, all;
	json_t *doc;

	memset(&q, 0, sizeof(q));
	memset(&S, 0, sizeof(S));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'd': db = optarg; break;
		case 's': site = optarg; break;
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
	if (optind != argc) {
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
	if (load_config(cfgpath, db, &cfg) != 0)
		return 1;
	if (db == NULL && cfg == NULL) {
		fprintf(stderr, "aicensus: query needs --db DB or -c CONFIG\n");
		usage(stderr);
		return 2;
	}
	if ((rc = source_open(&S, db, cfg, site, 1, err, sizeof(err))) != 0) {
		fprintf(stderr, "aicensus: %s\n", err);
		goto out;
	}
	rc = 1;
	/* epochs are shown in the zone the periods were released in */
	period_set_tz(strcmp(released_timezone(S.rel), "system") == 0 ? "" :
	    released_timezone(S.rel));
	all = S.central && strcmp(S.site, "all") == 0;
	if (S.central && !all)
		one = S.site;
	if ((v = calloc(all ? S.nscopes : 1, sizeof(*v))) == NULL) {
		fprintf(stderr, "aicensus: out of memory\n");
		goto out;
	}
	for (nv = 0; nv < (all ? S.nscopes : 1); nv++) {
		v[nv].site = all ? S.scopes[nv] : one;
		/*
		 * The scopes of one store, one after the other: the read
		 * API keeps nothing of a scope (the zone is the database's).
		 */
		if (all && relstore_pg_set_site(S.st, v[nv].site) != 0) {
			fprintf(stderr, "aicensus: %s\n",
			    relstore_error(S.st));
			goto out;
		}
		if (query_run(S.rel, &q, &v[nv].r, err, sizeof(err)) != 0) {
			fprintf(stderr, "aicensus: %s%s%s\n", all ? "site " :
			    "", all ? v[nv].site : "", err);
			goto out;
		}
		v[nv].r.method = S.central ? S.method : NULL;
	}
	rc = 0;
	if (f == F_JSON) {
		if ((doc = scoped_json(v, nv, S.central, all)) == NULL ||
		    json_dumpf(doc, stdout, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER) != 0)
			rc = 1;
		putchar('\n');
		json_decref(doc);
	} else if (f == F_CSV)
		print_csv(v, nv, all);
	else
		print_table(v, nv, all, S.central ? S.method : NULL);
	if (fflush(stdout) != 0)
		rc = 1;
out:
	for (i = 0; i < nv; i++)
		query_free(&v[i].r);
	free(v);
	source_close(&S);
	config_free(cfg);
	return rc;
}

/* --- report ------------------------------------------------------------ */

/*
 * Written next to FILE and renamed over it, so a reader (a mail job, the
 * web server) never sees half a report; mode 0640.  Anything but a regular file
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
	int fd;

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
	/*
	 * 0640 whatever the caller's umask: a report is for the aicensus
	 * group (report.dir is theirs), not for every account on the host,
	 * also when written by hand from a shell with umask 022.  Not
	 * through a symbolic link planted at the temporary name.
	 */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0640)) < 0) {
		snprintf(err, errlen, "%s: %m", tmp);
		return -1;
	}
	if (fchmod(fd, 0640) != 0 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %m", tmp);
		close(fd);
		unlink(tmp);
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
		{ "site", required_argument, NULL, 's' },
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
	struct source S;
	struct central_read_site *sites = NULL;
	const char *cfgpath = NULL, *db = NULL, *outpath = NULL, *lang = NULL;
	const char *week = NULL, *quarter = NULL, *site = NULL;
	char err[2048];
	size_t nsites = 0, i;
	int32_t wfrom, wto;
	int ch, rc = 1;

	report_opts_init(&o);
	memset(&S, 0, sizeof(S));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:o:", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'd': db = optarg; break;
		case 's': site = optarg; break;
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
	if (load_config(cfgpath, db, &cfg) != 0)
		return 1;
	if (cfg != NULL) {
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
	if (db == NULL && cfg == NULL) {
		fprintf(stderr, "aicensus: report needs --db DB or -c CONFIG\n");
		goto out;
	}
	if ((rc = source_open(&S, db, cfg, site, 0, err, sizeof(err))) != 0) {
		fprintf(stderr, "aicensus: %s\n", err);
		goto out;
	}
	rc = 1;
	if (S.central) {
		/* the sites and their coverage of the weeks reported */
		if (report_period_weeks(S.rel, &o, &wfrom, &wto, err,
		    sizeof(err)) != 0 || central_read_sites(S.c, wfrom, wto,
		    &sites, &nsites, err, sizeof(err)) != 0) {
			fprintf(stderr, "aicensus: report: %s\n", err);
			goto out;
		}
		/* a site's report lists that site */
		for (i = 0; strcmp(S.site, REL_ALL) != 0 && i < nsites; i++)
			if (strcmp(sites[i].name, S.site) == 0) {
				sites[0] = sites[i];
				nsites = 1;
				break;
			}
		o.scope = S.site;
		o.method = S.method;
		o.sites = sites;
		o.nsites = nsites;
	}
	if (outpath != NULL && strcmp(outpath, "-") != 0)
		rc = report_to_file(S.rel, &o, outpath, err, sizeof(err));
	else
		rc = report_write(S.rel, &o, stdout, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "aicensus: report: %s\n", err);
		rc = 1;
	}
out:
	free(sites);
	source_close(&S);
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
