/*
 * aicensus.c - the command-line tool: inspect a capture, query the
 * database, write a report, list the catalog's services, set up the
 * central database.  One table of commands; each takes -c and --help,
 * and says every error in one line that starts with its name.  It
 * never writes a sensor's databases; `central` creates and upgrades
 * the central PostgreSQL database and maps sites to roles in it
 * (store/central_pg.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
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
#include "out/table.h"

#ifndef AIC_VERSION
#define AIC_VERSION "dev"
#endif
#ifndef AIC_SYSCONFDIR
#define AIC_SYSCONFDIR "/etc"
#endif

#define DEFAULT_CONFIG	AIC_SYSCONFDIR "/aicensus/aicensus.conf"

/*
 * "aicensus" or "aicensus query": every error line starts with the
 * command it comes from, so a line in a cron mail says who wrote it.
 */
static char prog[40] = "aicensus";

static void complain(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* One line on stderr: "aicensus query: problem". */
static void
complain(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * getopt's complaint as one line of ours (opterr is 0 and optstrings
 * start with ':'), pointing to the command's --help; exit status 2.
 */
static int
bad_option(int ch, char **argv)
{
	const char *opt = argv[optind - 1];

	if (ch == ':')
		complain("%s needs a value (see %s --help)", opt, prog);
	else if (optopt != 0 && strncmp(opt, "--", 2) != 0)
		complain("unknown option '-%c' (see %s --help)", optopt,
		    prog);
	else
		complain("unknown option '%s' (see %s --help)", opt, prog);
	return 2;
}

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
usage_inspect(FILE *f)
{
	fprintf(f,
	    "usage: aicensus inspect [-c CONFIG] FILE\n"
	    "\n"
	    "Reads a capture FILE (pcap or pcapng) as the sensor would, with\n"
	    "the configuration's catalog and departments (-c, default\n"
	    DEFAULT_CONFIG "), and prints every name seen:\n"
	    "time, detector, what, name, service, department, outcome.  On a\n"
	    "terminal the rows are aligned under a header; piped, they are\n"
	    "tab-separated lines without one.  stderr says first which\n"
	    "configuration and catalog were used and last sums the run up:\n"
	    "packets, names seen, names counted per service, anomalies.\n"
	    "Nothing is written, no key is kept.\n");
}

static void
usage_query(FILE *f)
{
	fprintf(f,
	    "usage: aicensus query [-c CONFIG] [--db DB] [--site NAME|all]\n"
	    "                [--week W | --day D | --from A --to B]\n"
	    "                [--by department,service,category,day|week]\n"
	    "                [--min-group N] [--format table|csv|json]\n"
	    "\n"
	    "A query reads released periods only: A and B are days (2026-11-16)\n"
	    "or ISO weeks (2026-W47), widened to whole released periods.\n"
	    "--by day gives day cells (no department x service), --by week\n"
	    "week cells; neither sums the weeks of the range (device-weeks).\n"
	    "The figures were protected when they were released (minimum group\n"
	    "size, cell key method); --min-group N below that size is raised to\n"
	    "it with a note, above it is refused: protection is applied at\n"
	    "release (min_group_size), never afterwards.\n"
	    "DB is the release database (default: release_database of the\n"
	    "configuration, -c, default " DEFAULT_CONFIG ")\n"
	    "or, as a CONNINFO, the central release; without --db a\n"
	    "configuration with a central group reads the central release\n"
	    "(its conninfo and password_file, a reader role's).  --site NAME\n"
	    "reads one site's figures (default: the organisation's); --site\n"
	    "all prints the organisation (site \"*\") and every site, with a\n"
	    "site column.  The table is aligned with a header, its footnote on\n"
	    "stderr; csv and json are for programs.\n");
}

static void
usage_report(FILE *f)
{
	fprintf(f,
	    "usage: aicensus report [-c CONFIG] [--db DB] [--site NAME]\n"
	    "                --week WEEK|--quarter Q [--format ");
	report_format_names(f, "|", "|");
	fprintf(f, "] [--lang en|nl] [-o FILE]\n"
	    "\n"
	    "A report covers an ISO week (2026-W47) or the ISO weeks of a quarter\n"
	    "(2026-Q4) from the release database; \"last\" is the last released week\n"
	    "or the last complete quarter.  -c takes the release database\n"
	    "(release_database), language and retention from the configuration\n"
	    "(default " DEFAULT_CONFIG "); --db DB or a\n"
	    "central group reads the central release as query does, --site NAME\n"
	    "one site's.  -o writes FILE whole or not at all (default: stdout).\n");
}

static void
usage_services(FILE *f)
{
	fprintf(f,
	    "usage: aicensus services [-c CONFIG] [SEARCH]\n"
	    "\n"
	    "Lists the services of the configuration's catalog (-c, default\n"
	    DEFAULT_CONFIG "): id, name, vendor, category,\n"
	    "jurisdiction, and whether the configuration lists it as\n"
	    "sanctioned.  SEARCH keeps the services whose id, name or vendor\n"
	    "contains it, ignoring case; none is exit 1.  The id is what\n"
	    "sanctioned, ignore and the outputs use.  On a terminal the columns\n"
	    "are aligned under a header; piped, tab-separated lines without one.\n");
}

static void
usage_central(FILE *f)
{
	fprintf(f,
	    "usage: aicensus central init|migrate --db CONNINFO\n"
	    "       aicensus central add-site --db CONNINFO SITE ROLE\n"
	    "       aicensus central release --db CONNINFO [-c CONFIG] [--grace-hours H]\n"
	    "\n"
	    "central works on the central PostgreSQL database (CONNINFO: a libpq\n"
	    "\"host=... dbname=... user=...\" string or a postgresql:// URI; keep the\n"
	    "password in ~/.pgpass or PGPASSFILE): init creates it, migrate upgrades\n"
	    "it, add-site maps an existing login role to a site, release publishes\n"
	    "the organisation-wide figures of ended periods (docs/CENTRAL.md) with\n"
	    "the organisation's configuration (-c, default\n"
	    DEFAULT_CONFIG ").\n");
}

static int	cmd_inspect(int, char **);
static int	cmd_query(int, char **);
static int	cmd_report(int, char **);
static int	cmd_services(int, char **);
static int	cmd_central(int, char **);
static int	cmd_catalog(int, char **);

/*
 * The commands: main() dispatches through this table and the short
 * usage lists it.  A command answers -c and --help itself (getopt_long
 * with ":c:h" and bad_option() for the rest).
 */
static const struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*what;
} commands[] = {
	{ "inspect", cmd_inspect,
	    "the names a capture file holds, as the sensor counts them" },
	{ "query", cmd_query,
	    "released figures, as a table, CSV or JSON" },
	{ "report", cmd_report,
	    "the report of a week or a quarter (HTML, Markdown, CSV, JSON)" },
	{ "services", cmd_services,
	    "the catalog's services and which are sanctioned" },
	{ "central", cmd_central,
	    "set up, map sites to and release the central database" },
	{ "catalog", cmd_catalog,
	    "check a catalog file, or compare two (what an update changes)" },
	{ NULL, NULL, NULL }
};

/* The short usage: the commands, one line each. */
static void
usage(FILE *f)
{
	const struct command *c;

	fprintf(f, "usage: aicensus COMMAND [-c CONFIG] [OPTION...]\n"
	    "       aicensus --version\n"
	    "commands:\n");
	for (c = commands; c->name != NULL; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->what);
	fprintf(f, "'aicensus COMMAND --help' shows a command's options.\n");
}

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
		complain("%s", err);
		return 1;
	}
	return 0;
}

/* --- inspect ---------------------------------------------------------- */

/* The rows' columns; piped, the tab-separated lines tests/pcaps_compare.py reads. */
static const char *const inspect_head[] = {
	"time", "detector", "what", "name", "service", "department",
	"outcome"
};
#define INSPECT_COLS	(sizeof(inspect_head) / sizeof(inspect_head[0]))
/* On a terminal, widths come from the first rows; later ones follow them. */
#define INSPECT_HOLD	1000

struct inspect_ctx {
	struct capture	*cap;
	struct pipeline	*P;
	const struct catalog *cat;
	struct table	*t;
	unsigned long	 n;		/* packets */
	unsigned long	 names;		/* detections (rows) */
	unsigned long	 counted;	/* of them counted for a service */
	unsigned long	*per_svc;	/* counted, per catalog index */
};

/* A name as a cell: bytes other than printable ASCII as \xNN. */
static void
name_cell(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, at = 0;

	for (i = 0; i < n && at + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isprint(c) && c != '\t' && c != '\\')
			out[at++] = (char)c;
		else
			at += (size_t)snprintf(out + at, outlen - at,
			    "\\x%02x", c);
	}
	out[at] = '\0';
}

static void
on_detection(void *arg, const struct detection *d)
{
	struct inspect_ctx *c = arg;
	time_t t = (time_t)(d->ts_usec / 1000000);
	struct tm tm;
	char ts[48], day[32], name[CATALOG_NAME_MAX * 4 + 8];
	const char *row[INSPECT_COLS];
	int i;

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts, sizeof(ts), "%s.%06uZ", day,
	    (unsigned)(d->ts_usec % 1000000));
	name_cell(d->name, d->name_len, name, sizeof(name));
	row[0] = ts;
	row[1] = d->detector;
	row[2] = d->what;
	row[3] = name;
	row[4] = d->service ? d->service : "-";
	row[5] = d->department ? d->department : "-";
	row[6] = d->outcome;
	table_row(c->t, row);
	c->names++;
	if (d->service != NULL && strncmp(d->outcome, "counted", 7) == 0) {
		c->counted++;
		if ((i = catalog_find_id(c->cat, d->service)) >= 0)
			c->per_svc[i]++;
	}
}

static void
on_packet(void *arg, uint64_t ts, const uint8_t *p, size_t caplen,
    size_t wirelen)
{
	struct inspect_ctx *c = arg;

	c->n++;
	pipeline_packet(c->P, capture_dlt(c->cap), ts, p, caplen, wirelen);
}

/*
 * The run summed up on stderr: packets, names seen, counted per service
 * (most first), anomalies (the counted events the metrics export).
 */
static void
inspect_summary(const struct inspect_ctx *c, struct agg *agg)
{
	const struct agg_hour *h;
	uint64_t anom[ANOM_N];
	size_t i, j, nsvc = catalog_count(c->cat), shown = 0, *ord;
	int a, any = 0;

	fprintf(stderr, "%s: %lu packet%s, %lu name%s seen, %lu counted for "
	    "a service\n", prog, c->n, c->n == 1 ? "" : "s", c->names,
	    c->names == 1 ? "" : "s", c->counted);
	if ((ord = calloc(nsvc + 1, sizeof(*ord))) != NULL) {
		for (i = 0; i < nsvc; i++)
			if (c->per_svc[i] > 0)
				ord[shown++] = i;
		/* insertion sort: most counted first, then catalog order */
		for (i = 1; i < shown; i++)
			for (j = i; j > 0 && c->per_svc[ord[j]] >
			    c->per_svc[ord[j - 1]]; j--) {
				size_t x = ord[j];

				ord[j] = ord[j - 1];
				ord[j - 1] = x;
			}
		fprintf(stderr, "%s: counted per service:", prog);
		for (i = 0; i < shown; i++)
			fprintf(stderr, "%s %s %lu", i > 0 ? "," : "",
			    catalog_service(c->cat, ord[i])->id,
			    c->per_svc[ord[i]]);
		fprintf(stderr, "%s\n", shown > 0 ? "" : " none");
		free(ord);
	}
	memset(anom, 0, sizeof(anom));
	for (h = agg_hours(agg); h != NULL; h = h->next)
		for (a = 0; a < ANOM_N; a++)
			anom[a] += h->anom[a];
	fprintf(stderr, "%s: anomalies:", prog);
	for (a = 0; a < ANOM_N; a++)
		if (anom[a] > 0) {
			fprintf(stderr, "%s %s %llu", any ? "," : "",
			    anomaly_name((enum anomaly)a),
			    (unsigned long long)anom[a]);
			any = 1;
		}
	fprintf(stderr, "%s\n", any ? "" : " none");
}

static int
cmd_inspect(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgpath = DEFAULT_CONFIG;
	struct cfgerr e;
	struct config *cfg;
	struct catalog *cat;
	struct agg *agg;
	struct weekkey *dk;
	struct inspect_ctx c;
	char err[1024];
	int ch, n, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, ":c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'h': usage_inspect(stdout); return 0;
		default: return bad_option(ch, argv);
		}
	}
	if (optind + 1 != argc) {
		complain(optind == argc ? "which capture? aicensus inspect "
		    "[-c CONFIG] FILE" : "one capture FILE at a time");
		return 2;
	}
	/*
	 * The log is the daemon's voice: a key drawn for a week, a file
	 * it could not write.  Here nothing is kept, so only warnings,
	 * under this command's name, may reach stderr.
	 */
	log_init(prog, 0, LOG_LVL_WARN);
	memset(&e, 0, sizeof(e));
	memset(&c, 0, sizeof(c));
	if ((cfg = config_load(cfgpath, &e)) == NULL ||
	    (cat = catalog_load_all(cfg->catalog, cfg->catalog_dir,
	    &e)) == NULL) {
		cfgerr_format(&e, err, sizeof(err));
		complain("%s", err);
		config_free(cfg);
		return 1;
	}
	fprintf(stderr, "%s: configuration %s, catalog %s (%zu services), "
	    "%zu department%s, time zone %s\n", prog, cfgpath, cfg->catalog,
	    catalog_count(cat), cfg->n_depts, cfg->n_depts == 1 ? "" : "s",
	    cfg->timezone[0] != '\0' ? cfg->timezone : "system");
	period_set_tz(cfg->timezone);
	c.cat = cat;
	agg = agg_new(1u << 20, (size_t)1 << 30);
	dk = weekkey_open(NULL, err, sizeof(err));
	if ((c.per_svc = calloc(catalog_count(cat) + 1,
	    sizeof(*c.per_svc))) == NULL || (c.t = table_new(stdout,
	    isatty(STDOUT_FILENO), INSPECT_COLS, inspect_head, 0,
	    INSPECT_HOLD)) == NULL) {
		complain("out of memory");
		rc = 1;
		goto out;
	}
	if (agg == NULL || dk == NULL ||
	    (c.P = pipeline_new(cfg, cat, agg, dk, err, sizeof(err))) == NULL ||
	    (c.cap = capture_open_file(argv[optind],
	    decode_dlt_supported, err, sizeof(err))) ==
	    NULL) {
		complain("%s", err);
		rc = 1;
		goto out;
	}
	pipeline_set_inspect(c.P, on_detection, &c);
	while ((n = capture_dispatch(c.cap, 4096, on_packet, &c)) > 0)
		;
	if (table_end(c.t) != 0) {
		complain("writing the rows: %s", strerror(errno));
		rc = 1;
	}
	c.t = NULL;
	if (n == -1) {
		complain("%s: read error after %lu packets: %s", argv[optind],
		    c.n, capture_error(c.cap));
		rc = 1;
	}
	inspect_summary(&c, agg);
out:
	table_end(c.t);
	free(c.per_svc);
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

/*
 * --min-group N against the sizes the periods were released with: the
 * figures were protected once, at release (min_group_size and the cell
 * key method).  A reader can neither lower that (N below: raised, and
 * said on stderr, never silently) nor add to it afterwards (N above:
 * refused).  0, or -1 with the error printed.
 */
static int
min_group_check(const struct scoped *v, size_t n, int want)
{
	const struct rel_period *lo = NULL, *hi = NULL, *p;
	char lab[40];
	size_t i, j;

	for (j = 0; j < n; j++)
		for (i = 0; i < v[j].r.nperiods; i++) {
			p = &v[j].r.periods[i];
			if (lo == NULL || p->min_group < lo->min_group)
				lo = p;
			if (hi == NULL || p->min_group > hi->min_group)
				hi = p;
		}
	if (lo == NULL)
		return 0;
	if (want > lo->min_group) {
		query_period_label(lo->kind, lo->period, lab, sizeof(lab));
		complain("--min-group %d: %s was released with minimum group "
		    "size %d; protection is applied when figures are released "
		    "(min_group_size), it cannot be raised afterwards", want,
		    lab, lo->min_group);
		return -1;
	}
	if (want < hi->min_group)
		complain("--min-group %d raised to %d: the figures were "
		    "released with minimum group size %d and a reader cannot "
		    "lower it", want, hi->min_group, hi->min_group);
	return 0;
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
		{ "min-group", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
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
	char err[2048], *end;
	size_t nv = 0, i;
	long min_group = 0;
	int ch, rc = 1, all;
	json_t *doc;

	memset(&q, 0, sizeof(q));
	memset(&S, 0, sizeof(S));
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': usage_query(stdout); return 0;
		case 'm':
			errno = 0;
			min_group = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    min_group < 1 || min_group > 1000000) {
				complain("--min-group: '%s' is not a group size "
				    "(a whole number, 1 or more)", optarg);
				return 2;
			}
			break;
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
				complain("--format: '%s' is not a format "
				    "(table, csv or json)", optarg);
				return 2;
			}
			break;
		default: return bad_option(ch, argv);
		}
	}
	if (optind != argc) {
		complain("unexpected argument '%s' (the period is --week, "
		    "--day or --from/--to)", argv[optind]);
		return 2;
	}
	if ((week != NULL) + (day != NULL) + (from != NULL || to != NULL) >
	    1) {
		complain("--week, --day and --from/--to "
		    "exclude each other");
		return 2;
	}
	/* --day asks for day cells, --week for week cells */
	if (query_parse_by(by == NULL && day != NULL ? "day" : by, &q, err,
	    sizeof(err)) != 0 || ((week != NULL || day != NULL) &&
	    query_imply_level(&q, day != NULL ? REL_DAY : REL_WEEK, err,
	    sizeof(err)) != 0)) {
		complain("%s", err);
		return 2;
	}
	if (week != NULL) {
		if (period_week_parse(week) <= 0) {
			complain("--week: '%s' is not an ISO week (YYYY-Www, "
			    "e.g. 2026-W47)", week);
			return 2;
		}
		from = to = week;
	}
	if (day != NULL) {
		if (period_week_parse(day) > 0 || period_day_parse(day) <= 0) {
			complain("--day: '%s' is not a date (YYYY-MM-DD)", day);
			return 2;
		}
		from = to = day;
	}
	if (from != NULL && week == NULL && day == NULL &&
	    query_parse_when(from, 0, 0, &q.from_day, err, sizeof(err)) != 0) {
		complain("--from: '%s' is not a date (YYYY-MM-DD) or an ISO "
		    "week (YYYY-Www)", from);
		return 2;
	}
	if (to != NULL && week == NULL && day == NULL &&
	    query_parse_when(to, 1, 0, &q.to_day, err, sizeof(err)) != 0) {
		complain("--to: '%s' is not a date (YYYY-MM-DD) or an ISO "
		    "week (YYYY-Www)", to);
		return 2;
	}
	if ((week != NULL || day != NULL) && (query_parse_when(from, 0, 0,
	    &q.from_day, err, sizeof(err)) != 0 || query_parse_when(to, 1, 0,
	    &q.to_day, err, sizeof(err)) != 0)) {
		complain("%s", err);
		return 2;
	}
	if (query_check_range(&q, err, sizeof(err)) != 0) {
		complain("--from %s is after --to %s: the range is reversed",
		    from, to);
		return 2;
	}
	if (load_config(cfgpath, db, &cfg) != 0)
		return 1;
	if (db == NULL && cfg == NULL) {
		complain("no release database to read: give --db FILE (or a "
		    "central CONNINFO), or -c CONFIG naming release_database "
		    "(%s does not exist)", DEFAULT_CONFIG);
		return 2;
	}
	if (db == NULL && cfg->api.source != CONFIG_API_CENTRAL &&
	    access(cfg->release_database, F_OK) != 0) {
		complain("no release database %s (release_database of %s; "
		    "--db FILE reads another)", cfg->release_database,
		    cfgpath != NULL ? cfgpath : DEFAULT_CONFIG);
		rc = 1;
		goto out;
	}
	if ((rc = source_open(&S, db, cfg, site, 1, err, sizeof(err))) != 0) {
		complain("%s", err);
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
		complain("out of memory");
		goto out;
	}
	for (nv = 0; nv < (all ? S.nscopes : 1); nv++) {
		v[nv].site = all ? S.scopes[nv] : one;
		/*
		 * The scopes of one store, one after the other: the read
		 * API keeps nothing of a scope (the zone is the database's).
		 */
		if (all && relstore_pg_set_site(S.st, v[nv].site) != 0) {
			complain("%s",
			    relstore_error(S.st));
			goto out;
		}
		if (query_run(S.rel, &q, &v[nv].r, err, sizeof(err)) != 0) {
			complain("%s%s%s", all ? "site " :
			    "", all ? v[nv].site : "", err);
			goto out;
		}
		v[nv].r.method = S.central ? S.method : NULL;
	}
	if (min_group > 0 && min_group_check(v, nv, (int)min_group) != 0) {
		rc = 2;
		goto out;
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
		{ "help", no_argument, NULL, 'h' },
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
	while ((ch = getopt_long(argc, argv, ":c:o:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': usage_report(stdout); return 0;
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
				fprintf(stderr, "%s: --format: '%s' is not a "
				    "format (", prog, optarg);
				report_format_names(stderr, ", ", " or ");
				fprintf(stderr, ")\n");
				return 2;
			}
			break;
		default: return bad_option(ch, argv);
		}
	}
	if (optind != argc) {
		complain("unexpected argument '%s' (the period is --week or "
		    "--quarter)", argv[optind]);
		return 2;
	}
	if ((week != NULL) == (quarter != NULL)) {
		complain("%s", week == NULL ? "which period? --week 2026-W47 "
		    "(or last) or --quarter 2026-Q4 (or last)" : "--week and "
		    "--quarter exclude each other");
		return 2;
	}
	if (week && report_parse_week(week, &o) != 0) {
		complain("--week: '%s' is not an ISO week (YYYY-Www, e.g. "
		    "2026-W47) or last", week);
		return 2;
	}
	if (quarter && report_parse_quarter(quarter, &o) != 0) {
		complain("--quarter: '%s' is not a quarter (YYYY-Qn, e.g. "
		    "2026-Q4) or last", quarter);
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
			complain("--lang: '%s' is not a language (en or "
			    "nl)", lang);
			goto out;
		}
		snprintf(o.lang, sizeof(o.lang), "%s", lang);
	}
	if (db == NULL && cfg == NULL) {
		complain("no release database to read: give --db FILE (or a "
		    "central CONNINFO), or -c CONFIG naming release_database "
		    "(%s does not exist)", DEFAULT_CONFIG);
		rc = 2;
		goto out;
	}
	if ((rc = source_open(&S, db, cfg, site, 0, err, sizeof(err))) != 0) {
		complain("%s", err);
		goto out;
	}
	rc = 1;
	if (S.central) {
		/* the sites and their coverage of the weeks reported */
		if (report_period_weeks(S.rel, &o, &wfrom, &wto, err,
		    sizeof(err)) != 0 || central_read_sites(S.c, wfrom, wto,
		    &sites, &nsites, err, sizeof(err)) != 0) {
			complain("%s", err);
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
		complain("%s", err);
		rc = 1;
	}
out:
	free(sites);
	source_close(&S);
	config_free(cfg);
	return rc;
}

/* --- services ---------------------------------------------------------- */

static int
is_sanctioned(const struct config *cfg, const char *id)
{
	size_t i;

	for (i = 0; i < cfg->n_sanctioned; i++)
		if (strcmp(cfg->sanctioned[i].s, id) == 0)
			return 1;
	return 0;
}

/*
 * The ids sanctioned, ignore and the outputs use, with what a person
 * knows a service by, so an id can be looked up by name or vendor.
 */
static int
cmd_services(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const head[] = {
		"id", "name", "vendor", "category", "jurisdiction",
		"sanctioned"
	};
	const char *cfgpath = DEFAULT_CONFIG, *search = NULL, *row[6];
	const struct service *sv;
	struct config *cfg = NULL;
	struct catalog *cat = NULL;
	struct table *t = NULL;
	struct cfgerr e;
	char err[1024];
	size_t i, shown = 0;
	int ch, rc = 1, tty = isatty(STDOUT_FILENO);

	optind = 1;
	while ((ch = getopt_long(argc, argv, ":c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'h': usage_services(stdout); return 0;
		default: return bad_option(ch, argv);
		}
	}
	if (argc - optind > 1) {
		complain("one SEARCH at a time ('%s', then '%s')",
		    argv[optind], argv[optind + 1]);
		return 2;
	}
	if (optind < argc)
		search = argv[optind];
	memset(&e, 0, sizeof(e));
	if ((cfg = config_load(cfgpath, &e)) == NULL ||
	    (cat = catalog_load_all(cfg->catalog, cfg->catalog_dir,
	    &e)) == NULL) {
		cfgerr_format(&e, err, sizeof(err));
		complain("%s", err);
		goto out;
	}
	if ((t = table_new(stdout, tty, 6, head, 0, 0)) == NULL) {
		complain("out of memory");
		goto out;
	}
	for (i = 0; i < catalog_count(cat); i++) {
		sv = catalog_service(cat, i);
		if (search != NULL && strcasestr(sv->id, search) == NULL &&
		    strcasestr(sv->name, search) == NULL &&
		    strcasestr(sv->vendor, search) == NULL)
			continue;
		row[0] = sv->id;
		row[1] = sv->name;
		row[2] = sv->vendor;
		row[3] = sv->category;
		row[4] = sv->jurisdiction;
		row[5] = is_sanctioned(cfg, sv->id) ? "yes" : "no";
		if (table_row(t, row) != 0)
			break;
		shown++;
	}
	if (shown == 0 && search != NULL) {
		/* no header alone on a terminal: the table is not printed */
		complain("no service's id, name or vendor contains '%s' (%zu "
		    "services in %s)", search, catalog_count(cat),
		    cfg->catalog);
		rc = 1;
		goto out;
	}
	rc = table_end(t) == 0 ? 0 : 1;
	t = NULL;
	if (rc != 0)
		complain("writing the list: %s", strerror(errno));
	else if (tty)
		fprintf(stderr, "%zu of %zu services, catalog %s, sanctioned "
		    "per %s\n", shown, catalog_count(cat), cfg->catalog,
		    cfgpath);
out:
	table_discard(t);	/* an error was said instead */
	catalog_free(cat);
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
	    (cat = catalog_load_all(cfg->catalog, cfg->catalog_dir,
	    &e)) == NULL) {
		cfgerr_format(&e, err, sizeof(err));
		complain("%s", err);
		goto out;
	}
	if (period_set_tz(cfg->timezone) != 0) {
		complain("release: unknown time zone in %s", cfgpath);
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
		complain("release: %s", err);
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
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct central *c = NULL;
	const char *db = NULL, *sub, *cfgpath = NULL;
	char err[1024], *end;
	long grace = 6;
	int ch, from, nargs, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, ":c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage_central(stdout);
			return 0;
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
				complain("--grace-hours: '%s' is not 0 to "
				    "8784 hours", optarg);
				return 2;
			}
			break;
		default:
			return bad_option(ch, argv);
		}
	}
	if (optind >= argc) {
		complain("which command? init, migrate, add-site SITE ROLE "
		    "or release (see %s --help)", prog);
		return 2;
	}
	sub = argv[optind];
	nargs = argc - optind - 1;
	if (strcmp(sub, "init") != 0 && strcmp(sub, "migrate") != 0 &&
	    strcmp(sub, "release") != 0 && strcmp(sub, "add-site") != 0) {
		complain("unknown command '%s' (init, migrate, add-site or "
		    "release)", sub);
		return 2;
	}
	if (nargs != (strcmp(sub, "add-site") == 0 ? 2 : 0)) {
		complain("%s takes %s", sub, strcmp(sub, "add-site") == 0 ?
		    "SITE and ROLE" : "no argument");
		return 2;
	}
	if (db == NULL) {
		complain("%s needs --db CONNINFO (the central database)", sub);
		return 2;
	}
	if (strcmp(sub, "release") == 0) {
		if (cfgpath == NULL)
			cfgpath = DEFAULT_CONFIG;
		return central_release(db, cfgpath, (int)grace);
	}
	if (strcmp(sub, "add-site") == 0 &&
	    (!central_pg_site_ok(argv[optind + 1]) ||
	    !central_pg_role_ok(argv[optind + 2]))) {
		complain("add-site SITE ROLE: a site"
		    " is 1 to 63 letters, digits, '.', '_' or '-' starting"
		    " with a letter or digit; a role the same, not starting"
		    " with a digit, '.' or '-', and not pg_*, public or a"
		    " group role");
		return 2;
	}
	if ((c = central_pg_connect(db, err, sizeof(err))) == NULL) {
		complain("%s", err);
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
			complain("%s: %s",
			    central_pg_name(c), err);
		}
		goto out;
	}
	if ((strcmp(sub, "init") == 0 ? central_pg_init(c, &from, err,
	    sizeof(err)) : central_pg_migrate(c, &from, err, sizeof(err))) !=
	    0) {
		complain("%s: %s", central_pg_name(c), err);
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

/* --- catalog ---------------------------------------------------------- */

/*
 * catalog check [-c CONFIG] [FILE...]: every problem of the files, read
 * together in order (a catalog, then local additions), or without FILE
 * of what the daemon would load (catalog and catalog_dir); exit 0 or 1.
 * catalog diff [-c CONFIG] [OLD] NEW: what installing NEW changes
 * (OLD defaults to the configured catalog); exit 0 when they are the
 * same, 1 when they differ, 2 on an error.
 */
static int
cmd_catalog(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char use[] =
	    "usage: aicensus catalog check [-c CONFIG] [FILE...]\n"
	    "       aicensus catalog diff [-c CONFIG] [OLD] NEW\n"
	    "check reports every problem of FILE (a catalog, then files of\n"
	    "local additions checked against it), or, without FILE, of the\n"
	    "configured catalog and catalog_dir; exit 0 when there is none.\n"
	    "diff lists the services, names and facts NEW adds, removes or\n"
	    "changes (OLD: the configured catalog) and warns about every id\n"
	    "that data may have been collected under; exit 0 when the same,\n"
	    "1 when they differ, 2 on an error.\n";
	const char *cfgpath = DEFAULT_CONFIG, *sub, **paths = NULL;
	struct catalog *a = NULL, *b = NULL;
	struct config *cfg = NULL;
	struct cfgerr e;
	char **local = NULL, buf[1024];
	size_t nlocal = 0, n = 0, nsvc = 0, i;
	int ch, rc = 2, np;

	if (argc < 2) {
		complain("a command is needed, check or diff (see aicensus "
		    "catalog --help)");
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(use, stdout);
		return 0;
	}
	sub = argv[1];
	if (strcmp(sub, "check") != 0 && strcmp(sub, "diff") != 0) {
		complain("unknown command '%s', not check or diff (see "
		    "aicensus catalog --help)", sub);
		return 2;
	}
	argc--;
	argv++;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":c:h", lo, NULL)) != -1) {
		if (ch == 'h') {
			fputs(use, stdout);
			return 0;
		}
		if (ch != 'c')
			return bad_option(ch, argv);
		cfgpath = optarg;
	}
	argc -= optind;
	argv += optind;
	memset(&e, 0, sizeof(e));
	/* the configured catalog: check without FILE, diff without OLD */
	if ((strcmp(sub, "check") == 0 && argc == 0) ||
	    (strcmp(sub, "diff") == 0 && argc == 1)) {
		if ((cfg = config_load(cfgpath, &e)) == NULL) {
			complain("%s",
			    cfgerr_format(&e, buf, sizeof(buf)));
			return strcmp(sub, "check") == 0 ? 1 : 2;
		}
		if (strcmp(sub, "check") == 0 && catalog_dir_files(
		    cfg->catalog_dir, &local, &nlocal, &e) == -1) {
			fprintf(stderr, "%s\n",
			    cfgerr_format(&e, buf, sizeof(buf)));
			rc = 1;
			goto out;
		}
	}
	if (strcmp(sub, "check") == 0) {
		n = argc > 0 ? (size_t)argc : 1 + nlocal;
		if ((paths = calloc(n, sizeof(*paths))) == NULL)
			goto out;
		for (i = 0; i < n; i++)
			paths[i] = argc > 0 ? argv[i] : i == 0 ?
			    cfg->catalog : local[i - 1];
		np = catalog_check_files(paths, n, catalog_report_print,
		    stderr, &nsvc);
		if (np == 0)
			printf("%s%s: catalog OK (%zu services)\n", paths[0],
			    n > 1 ? " and its local additions" : "", nsvc);
		else
			fprintf(stderr, "%d problem%s found\n", np,
			    np == 1 ? "" : "s");
		rc = np == 0 ? 0 : 1;
		goto out;
	}
	if (argc < 1 || argc > 2) {
		complain("diff takes %s",
		    argc < 1 ? "NEW, or OLD and NEW" : "at most two files, "
		    "OLD and NEW");
		goto usage;
	}
	if (argc == 1)
		a = catalog_load(cfg->catalog, &e);
	else
		a = catalog_load(argv[0], &e);
	if (a == NULL || (b = catalog_load(argv[argc - 1], &e)) == NULL) {
		complain("%s — run 'aicensus catalog check' "
		    "on it", cfgerr_format(&e, buf, sizeof(buf)));
		goto out;
	}
	np = catalog_diff(a, b, stdout, stderr, !isatty(STDOUT_FILENO));
	rc = np < 0 ? 2 : np > 0 ? 1 : 0;
	if (np < 0)
		complain("out of memory");
	goto out;
usage:
	fputs(use, stderr);
out:
	free(paths);
	catalog_files_free(local, nlocal);
	catalog_free(a);
	catalog_free(b);
	config_free(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		complain("which command?");
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
	for (c = commands; c->name != NULL; c++)
		if (strcmp(argv[1], c->name) == 0) {
			snprintf(prog, sizeof(prog), "aicensus %s", c->name);
			opterr = 0;	/* bad_option() says it, once */
			return c->run(argc - 1, argv + 1);
		}
	if (argv[1][0] == '-')
		complain("unknown option '%s'", argv[1]);
	else {
		const char *names[sizeof(commands) / sizeof(commands[0])];
		const char *near;
		size_t i;

		for (i = 0; commands[i].name != NULL; i++)
			names[i] = commands[i].name;
		names[i] = NULL;
		if ((near = config_closest(argv[1], names)) != NULL)
			complain("unknown command '%s' (did you mean '%s'?)",
			    argv[1], near);
		else
			complain("unknown command '%s'", argv[1]);
	}
	usage(stderr);
	return 2;
}
