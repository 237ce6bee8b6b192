/*
 * test_central_read.c - the connection string a configuration's central
 * group makes (central_read_conninfo): every key of a "key=value"
 * string, a URI or a bare database name survives, libpq reads the
 * password back exactly whatever quotes and backslashes it holds, a
 * string that does not fit fails and leaves no password behind, and no
 * message quotes the string.  The reads that need a server are
 * tests/e2e/central_report.sh's.
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

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
	    "user=bi sslmode='verify-full' connect_timeout=5", pw, out,
	    sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(val(out, "host", b, sizeof(b)), "/run/pg");
	T_EQ_STR(val(out, "dbname", b, sizeof(b)), "central");
	T_EQ_STR(val(out, "user", b, sizeof(b)), "bi");
	T_EQ_STR(val(out, "sslmode", b, sizeof(b)), "verify-full");
	T_EQ_STR(val(out, "connect_timeout", b, sizeof(b)), "5");
	T_EQ_STR(val(out, "password", b, sizeof(b)), pw);
}

static void
test_uri(void)
{
	char out[1024], err[256], b[256];

	T_EQ_INT(central_read_conninfo("postgresql://cio@db.example.org:5433/"
	    "aicensus?sslmode=verify-full", "pw", out, sizeof(out), err,
	    sizeof(err)), 0);
	T_EQ_STR(val(out, "host", b, sizeof(b)), "db.example.org");
	T_EQ_STR(val(out, "port", b, sizeof(b)), "5433");
	T_EQ_STR(val(out, "user", b, sizeof(b)), "cio");
	T_EQ_STR(val(out, "dbname", b, sizeof(b)), "aicensus");
	T_EQ_STR(val(out, "sslmode", b, sizeof(b)), "verify-full");
	T_EQ_STR(val(out, "password", b, sizeof(b)), "pw");
}

static void
test_bare_and_none(void)
{
	char out[1024], err[256], b[256];

	/* a bare name is a database, as libpq takes it */
	T_EQ_INT(central_read_conninfo("aicensus", NULL, out, sizeof(out),
	    err, sizeof(err)), 0);
	T_EQ_STR(val(out, "dbname", b, sizeof(b)), "aicensus");
	T_EQ_STR(val(out, "password", b, sizeof(b)), "");
	/* no password file: libpq finds one itself (~/.pgpass) */
	T_EQ_INT(central_read_conninfo("host=h user=u", "", out, sizeof(out),
	    err, sizeof(err)), 0);
	T_EQ_STR(val(out, "password", b, sizeof(b)), "");
	T_EQ_STR(val(out, "user", b, sizeof(b)), "u");
	/* the file's password wins over one in the string */
	T_EQ_INT(central_read_conninfo("host=h password=old", "new", out,
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
	T_EQ_INT(central_read_conninfo("host=a.long.host.name.example.org "
	    "dbname=central", "sekrit-pw", out, sizeof(out), err,
	    sizeof(err)), -1);
	for (i = 0; i < sizeof(out); i++)
		wiped &= out[i] == '\0';
	T_CHECK(wiped);
	T_CHECK(strstr(err, "too long") != NULL);
	T_CHECK(strstr(err, "sekrit") == NULL);
	T_EQ_INT(central_read_conninfo("host=h", "a-password-too-long-to-fit"
	    "-in-forty-bytes", out, sizeof(out), err, sizeof(err)), -1);
	/* unparsable: the message does not quote the string */
	T_EQ_INT(central_read_conninfo("host='h password=sekrit", NULL, out,
	    sizeof(out), err, sizeof(err)), -1);
	T_CHECK(strstr(err, "not a connection string") != NULL);
	T_CHECK(strstr(err, "sekrit") == NULL);
}

int
main(void)
{
	T_RUN(test_keywords);
	T_RUN(test_uri);
	T_RUN(test_bare_and_none);
	T_RUN(test_refusals);
	return T_DONE();
}
