/*
 * test_central_read.c - store/central_read.c without a server: the
 * connection string a configuration's central group makes
 * (central_read_conninfo) for both readers, the CLI and the dashboard:
 * every key of a "key=value" string, a URI or a bare database name
 * survives, libpq reads the password back exactly whatever quotes,
 * backslashes or URI delimiters it holds, connect_timeout is added
 * unless the string sets one, a string that does not fit fails and
 * leaves no password behind, no message quotes the string, and a
 * connection that fails names no secret.
 *
 * "test_central_read sites CONNINFO [FROM TO]" prints what
 * central_read_sites() reads, a line per site, for the e2e tests that
 * have a server (tests/e2e/central_release.sh):
 *   name,last_seen>0,hours_since_seen,late_rows,stale,week,
 *   coverage_hours,hours_total,weeks,weeks_silent,hours_covered,silent
 * and "test_central_read check CONNINFO" central_read_check()'s result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/central_pg.h"
#include "store/central_read.h"
#include "t.h"

/* The value libpq parses out of s for key ("" when unset). */
static const char *
val(const char *s, const char *key, char *buf, size_t n)
{
	PQconninfoOption *opts, *o;
	char *perr = NULL;

	snprintf(buf, n, "(unparsable)");
	if ((opts = PQconninfoParse(s, &perr)) == NULL) {
		PQfreemem(perr);
		return buf;
	}
	snprintf(buf, n, "%s", "");
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, key) == 0 && o->val != NULL)
			snprintf(buf, n, "%s", o->val);
	PQconninfoFree(opts);
	return buf;
}

static void
test_keywords(void)
{
	const char *pw = "it's a \\secret\\ 'pw' with spaces";
	char out[1024], err[256], b[256];

	T_EQ_INT(central_read_conninfo("host=/run/pg dbname=central "
	    "user=bi sslmode='verify-full' connect_timeout=30", pw, 5, out,
	    sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(val(out, "host", b, sizeof(b)), "/run/pg");
	T_EQ_STR(val(out, "dbname", b, sizeof(b)), "central");
	T_EQ_STR(val(out, "user", b, sizeof(b)), "bi");
	T_EQ_STR(val(out, "sslmode", b, sizeof(b)), "verify-full");
	/* its own timeout wins, and is not given twice */
	T_EQ_STR(val(out, "connect_timeout", b, sizeof(b)), "30");
	T_CHECK(strstr(strstr(out, "connect_timeout") + 1,
	    "connect_timeout") == NULL);
	T_EQ_STR(val(out, "password", b, sizeof(b)), pw);
}

static void
test_timeout(void)
{
	char out[1024], err[256], b[256];

	/* none set: the caller's is added */
	T_EQ_INT(central_read_conninfo("host=/tmp dbname=c user=bi", "x", 5,
	    out, sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(val(out, "connect_timeout", b, sizeof(b)), "5");
	T_EQ_STR(val(out, "user", b, sizeof(b)), "bi");
	/* a name that merely contains the word is not a timeout */
	T_EQ_INT(central_read_conninfo("host=connect_timeout.example.org "
	    "dbname=c", NULL, 7, out, sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(val(out, "connect_timeout", b, sizeof(b)), "7");
	T_EQ_STR(val(out, "host", b, sizeof(b)),
	    "connect_timeout.example.org");
	/* in a URI's parameters it is one */
	T_EQ_INT(central_read_conninfo("postgresql://bi@h/c?connect_timeout"
	    "=12", NULL, 5, out, sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(val(out, "connect_timeout", b, sizeof(b)), "12");
	/* 0: none added (libpq waits as long as it does) */
	T_EQ_INT(central_read_conninfo("host=h", NULL, 0, out, sizeof(out),
	    err, sizeof(err)), 0);
	T_EQ_STR(val(out, "connect_timeout", b, sizeof(b)), "");
}

static void
test_uri(void)
{
	static const char pw[] = "p@ss/w?rd&x=1 %'\\";
	char out[1024], err[256], b[256];

	T_EQ_INT(central_read_conninfo("postgresql://cio@db.example.org:5433/"
	    "aicensus?sslmode=verify-full", "pw", 5, out, sizeof(out), err,
	    sizeof(err)), 0);
	T_EQ_STR(val(out, "host", b, sizeof(b)), "db.example.org");
	T_EQ_STR(val(out, "port", b, sizeof(b)), "5433");
	T_EQ_STR(val(out, "user", b, sizeof(b)), "cio");
	T_EQ_STR(val(out, "dbname", b, sizeof(b)), "aicensus");
	T_EQ_STR(val(out, "sslmode", b, sizeof(b)), "verify-full");
	T_EQ_STR(val(out, "connect_timeout", b, sizeof(b)), "5");
	T_EQ_STR(val(out, "password", b, sizeof(b)), "pw");
	/* URI delimiters in the password: it is a quoted key, not a
	 * URI component */
	T_EQ_INT(central_read_conninfo("postgres://bi@h/c?sslmode=require",
	    pw, 5, out, sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(val(out, "sslmode", b, sizeof(b)), "require");
	T_EQ_STR(val(out, "password", b, sizeof(b)), pw);
}

static void
test_bare_and_none(void)
{
	char out[1024], err[256], b[256];

	/* a bare name is a database, as libpq takes it */
	T_EQ_INT(central_read_conninfo("aicensus", NULL, 5, out, sizeof(out),
	    err, sizeof(err)), 0);
	T_EQ_STR(val(out, "dbname", b, sizeof(b)), "aicensus");
	T_EQ_STR(val(out, "password", b, sizeof(b)), "");
	T_EQ_STR(val(out, "connect_timeout", b, sizeof(b)), "5");
	T_EQ_INT(central_read_conninfo("aicensus", "x'y", 5, out,
	    sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(val(out, "password", b, sizeof(b)), "x'y");
	/* no password file: libpq finds one itself (~/.pgpass) */
	T_EQ_INT(central_read_conninfo("host=h user=u", "", 5, out,
	    sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(val(out, "password", b, sizeof(b)), "");
	T_EQ_STR(val(out, "user", b, sizeof(b)), "u");
	/* the file's password wins over one in the string */
	T_EQ_INT(central_read_conninfo("host=h password=old", "new", 5, out,
	    sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(val(out, "password", b, sizeof(b)), "new");
	T_CHECK(strstr(out, "old") == NULL);
}

static void
test_refusals(void)
{
	char out[40], err[256];
	size_t i;
	int wiped = 1;

	/* too long: fails, and the buffer holds nothing of the password */
	memset(err, 0, sizeof(err));
	memset(out, 'x', sizeof(out));
	T_EQ_INT(central_read_conninfo("host=a.long.host.name.example.org "
	    "dbname=central", "sekrit-pw", 5, out, sizeof(out), err,
	    sizeof(err)), -1);
	for (i = 0; i < sizeof(out); i++)
		wiped &= out[i] == '\0';
	T_CHECK(wiped);
	T_CHECK(strstr(err, "too long") != NULL);
	T_CHECK(strstr(err, "sekrit") == NULL);
	/* the string fits, the password does not: no part of it is left */
	memset(out, 'x', sizeof(out));
	T_EQ_INT(central_read_conninfo("host=h", "Sekrit-Marker-Passw0rd", 5,
	    out, sizeof(out), err, sizeof(err)), -1);
	T_CHECK(memmem(out, sizeof(out), "Sekrit", 6) == NULL);
	/* unparsable: the message does not quote the string */
	T_EQ_INT(central_read_conninfo("host='h password=sekrit", NULL, 5,
	    out, sizeof(out), err, sizeof(err)), -1);
	T_CHECK(strstr(err, "not a connection string") != NULL);
	T_CHECK(strstr(err, "sekrit") == NULL);
}

/* A server that is not there: no connection, a message with no secret. */
static void
test_no_server(void)
{
	char ci[512], err[512];
	struct central *c;

	T_EQ_INT(central_read_conninfo("host=/nonexistent-aicensus-dir "
	    "dbname=c user=bi", "Sekrit-Marker-Passw0rd", 2, ci, sizeof(ci),
	    err, sizeof(err)), 0);
	c = central_pg_connect(ci, err, sizeof(err));
	T_CHECK(c == NULL);
	T_CHECK(strstr(err, "Sekrit") == NULL);
	T_CHECK(strstr(err, "cannot connect") != NULL);
	central_pg_close(c);
}

/* The e2e tests' view of central_read_sites() and central_read_check(). */
static int
serve(int argc, char **argv)
{
	struct central_read_site *s = NULL;
	struct central *c;
	char err[1024];
	size_t n = 0, i;
	int rc;

	if ((c = central_pg_connect(argv[2], err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (strcmp(argv[1], "check") == 0 && argc == 3) {
		rc = central_read_check(c, err, sizeof(err));
		printf("%d\n", rc);
		if (rc != 0)
			fprintf(stderr, "%s\n", err);
		central_pg_close(c);
		return 0;
	}
	if (strcmp(argv[1], "sites") != 0 || (argc != 3 && argc != 5)) {
		central_pg_close(c);
		fprintf(stderr, "usage: test_central_read sites CONNINFO "
		    "[FROM TO] | check CONNINFO\n");
		return 2;
	}
	rc = central_read_sites(c, argc == 5 ? atoi(argv[3]) : 0,
	    argc == 5 ? atoi(argv[4]) : 0, &s, &n, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "%s (%d)\n", err, rc);
	for (i = 0; rc == 0 && i < n; i++)
		printf("%s,%d,%lld,%lld,%d,%d,%lld,%lld,%u,%u,%lld,%d\n",
		    s[i].name, s[i].last_seen > 0,
		    (long long)s[i].hours_since_seen,
		    (long long)s[i].late_rows, s[i].stale, (int)s[i].week,
		    (long long)s[i].coverage_hours,
		    (long long)s[i].hours_total, s[i].weeks,
		    s[i].weeks_silent, (long long)s[i].hours_covered,
		    s[i].silent);
	free(s);
	central_pg_close(c);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc >= 3)
		return serve(argc, argv);
	T_RUN(test_keywords);
	T_RUN(test_timeout);
	T_RUN(test_uri);
	T_RUN(test_bare_and_none);
	T_RUN(test_refusals);
	T_RUN(test_no_server);
	return T_DONE();
}
