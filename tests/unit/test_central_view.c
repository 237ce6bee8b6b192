/*
 * test_central_view.c - store/central_view.c without a server: the
 * connection string the dashboard connects with (the configuration's
 * conninfo, its password and a connect timeout), as libpq parses it back
 * for every form a conninfo may take; a connection that fails names no
 * secret.  The queries are run against a real cluster by
 * tests/e2e/central_dashboard.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/central_view.h"
#include "t.h"

/* The value libpq parses out of s for key, into buf ("" when unset). */
static int
parsed(const char *s, const char *key, char *buf, size_t len)
{
	PQconninfoOption *opts, *o;
	char *perr = NULL;

	buf[0] = '\0';
	if ((opts = PQconninfoParse(s, &perr)) == NULL) {
		PQfreemem(perr);
		return -1;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, key) == 0 && o->val != NULL)
			snprintf(buf, len, "%s", o->val);
	PQconninfoFree(opts);
	return 0;
}

static void
test_keyvalue(void)
{
	static const char pw[] = "it's a \\ p@ss w%rd=&?";
	char out[1024], v[256];

	T_EQ_INT(central_view_conninfo("host=/tmp dbname=c user=bi", pw, 5,
	    out, sizeof(out)), 0);
	T_EQ_INT(parsed(out, "password", v, sizeof(v)), 0);
	T_EQ_STR(v, pw);
	T_EQ_INT(parsed(out, "connect_timeout", v, sizeof(v)), 0);
	T_EQ_STR(v, "5");
	T_EQ_INT(parsed(out, "user", v, sizeof(v)), 0);
	T_EQ_STR(v, "bi");
	/* its own timeout wins; no password: none added */
	T_EQ_INT(central_view_conninfo("host=h connect_timeout=30", NULL, 5,
	    out, sizeof(out)), 0);
	T_EQ_INT(parsed(out, "connect_timeout", v, sizeof(v)), 0);
	T_EQ_STR(v, "30");
	T_EQ_INT(parsed(out, "password", v, sizeof(v)), 0);
	T_EQ_STR(v, "");
	/* a bare word is a database name */
	T_EQ_INT(central_view_conninfo("aicensus", "x'y", 5, out,
	    sizeof(out)), 0);
	T_EQ_INT(parsed(out, "dbname", v, sizeof(v)), 0);
	T_EQ_STR(v, "aicensus");
	T_EQ_INT(parsed(out, "password", v, sizeof(v)), 0);
	T_EQ_STR(v, "x'y");
}

static void
test_uri(void)
{
	static const char pw[] = "p@ss/w?rd&x=1 %";
	char out[1024], v[256];

	T_EQ_INT(central_view_conninfo("postgresql://bi@db.example.org/c",
	    pw, 7, out, sizeof(out)), 0);
	T_EQ_INT(parsed(out, "password", v, sizeof(v)), 0);
	T_EQ_STR(v, pw);
	T_EQ_INT(parsed(out, "connect_timeout", v, sizeof(v)), 0);
	T_EQ_STR(v, "7");
	T_EQ_INT(parsed(out, "host", v, sizeof(v)), 0);
	T_EQ_STR(v, "db.example.org");
	T_EQ_INT(central_view_conninfo("postgres://bi@h/c?sslmode=require",
	    pw, 7, out, sizeof(out)), 0);
	T_EQ_INT(parsed(out, "sslmode", v, sizeof(v)), 0);
	T_EQ_STR(v, "require");
	T_EQ_INT(parsed(out, "password", v, sizeof(v)), 0);
	T_EQ_STR(v, pw);
}

/* Too small: -1, and nothing of the password left in the buffer. */
static void
test_too_long(void)
{
	char out[40];

	memset(out, 'x', sizeof(out));
	T_EQ_INT(central_view_conninfo("host=/tmp dbname=c user=bi",
	    "Sekrit-Marker-Passw0rd", 5, out, sizeof(out)), -1);
	T_CHECK(memmem(out, sizeof(out), "Sekrit", 6) == NULL);
}

/* A server that is not there: NULL, and the message has no password. */
static void
test_no_server(void)
{
	char ci[512], err[512];
	struct central_view *v;

	T_EQ_INT(central_view_conninfo("host=/nonexistent-aicensus-dir "
	    "dbname=c user=bi", "Sekrit-Marker-Passw0rd", 2, ci,
	    sizeof(ci)), 0);
	v = central_view_open(ci, err, sizeof(err));
	T_CHECK(v == NULL);
	T_CHECK(strstr(err, "Sekrit") == NULL);
	T_CHECK(strstr(err, "cannot connect") != NULL);
	central_view_close(v);
}

int
main(void)
{
	T_RUN(test_keyvalue);
	T_RUN(test_uri);
	T_RUN(test_too_long);
	T_RUN(test_no_server);
	return T_DONE();
}
