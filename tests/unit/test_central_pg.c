/*
 * test_central_pg.c - the central database module (store/central_pg.h)
 * without a server: how a connection string is named in messages (never
 * a password, in any of libpq's forms), what a failed connection says
 * (the connection named, the secret blanked even where libpq repeats
 * it), and which site and role names are taken.  The schema, the ladder
 * and row-level security need a server: tests/e2e/central.sh.
 *
 * "test_central_pg init-to CONNINFO N" makes a database as an older
 * aicensus left it (the ladder stopped at version N), for the e2e tests
 * of a migration (tests/e2e/central_release.sh); exit 0 or 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/central_pg.h"
#include "t.h"

#define SECRET	"Sekr1tPw"

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_describe(void)
{
	char buf[256], small[12];

	central_pg_describe("host=db.example port=5433 dbname=central "
	    "user=site_a password=" SECRET " sslmode=verify-full "
	    "sslpassword=" SECRET "2 sslrootcert=/etc/ca.pem", buf,
	    sizeof(buf));
	T_EQ_STR(buf, "host=db.example port=5433 dbname=central user=site_a "
	    "sslmode=verify-full");
	T_CHECK(strstr(buf, SECRET) == NULL);

	central_pg_describe("postgresql://site_a:" SECRET "@db.example:5433/"
	    "central?sslmode=verify-full", buf, sizeof(buf));
	T_EQ_STR(buf, "host=db.example port=5433 dbname=central user=site_a "
	    "sslmode=verify-full");
	central_pg_describe("postgres://db.example/central?password=" SECRET,
	    buf, sizeof(buf));
	T_EQ_STR(buf, "host=db.example dbname=central");

	/* A bare name is a database name to libpq; "" is its defaults. */
	central_pg_describe("central", buf, sizeof(buf));
	T_EQ_STR(buf, "dbname=central");
	central_pg_describe("", buf, sizeof(buf));
	T_EQ_STR(buf, "(libpq defaults)");
	central_pg_describe("password=" SECRET, buf, sizeof(buf));
	T_EQ_STR(buf, "(libpq defaults)");

	/* libpq's parse error would quote the string: a fixed text. */
	central_pg_describe("dbname=central password='" SECRET, buf,
	    sizeof(buf));
	T_EQ_STR(buf, "(a connection string libpq cannot parse)");
	central_pg_describe("postgresql://u:" SECRET "@h/d?nosuchkey=1", buf,
	    sizeof(buf));
	T_CHECK(strstr(buf, SECRET) == NULL);

	/* A value that is itself a connection string is not shown. */
	central_pg_describe("dbname='host=x password=" SECRET "' user=u", buf,
	    sizeof(buf));
	T_EQ_STR(buf, "user=u");

	/* Cut short, still a string. */
	memset(small, 'x', sizeof(small));
	central_pg_describe("host=db.example dbname=central", small,
	    sizeof(small));
	T_EQ_INT(strlen(small), sizeof(small) - 1);
	T_CHECK(strncmp(small, "host=db.exa", sizeof(small) - 1) == 0);
}

static void
test_connect_fails(void)
{
	struct central *c;
	char err[512];

	/* No server behind the socket: the connection named, no secret. */
	err[0] = '\0';
	c = central_pg_connect("host=/nonexistent-aicensus port=5 dbname=d "
	    "user=u password=" SECRET " connect_timeout=2", err, sizeof(err));
	T_CHECK(c == NULL);
	T_CHECK(starts(err, "cannot connect to host=/nonexistent-aicensus "
	    "port=5 dbname=d user=u: "));
	T_CHECK(strstr(err, SECRET) == NULL);
	T_CHECK(strchr(err, '\n') == NULL && strchr(err, '\t') == NULL);

	/* libpq repeats the host in its message: the secret hidden there
	 * is blanked too. */
	c = central_pg_connect("host=/nonexistent/" SECRET " dbname=d user=u "
	    "password=" SECRET, err, sizeof(err));
	T_CHECK(c == NULL);
	T_CHECK(strstr(err, SECRET) == NULL);
	T_CHECK(strstr(err, "/nonexistent/***") != NULL);

	c = central_pg_connect("postgresql://u:" SECRET "@/d?host=/nonexistent"
	    "-aicensus", err, sizeof(err));
	T_CHECK(c == NULL);
	T_CHECK(starts(err, "cannot connect to host=/nonexistent-aicensus "
	    "dbname=d user=u: "));
	T_CHECK(strstr(err, SECRET) == NULL);

	/* A password from the environment is a secret as well. */
	setenv("PGPASSWORD", SECRET "env", 1);
	c = central_pg_connect("host=/nonexistent/" SECRET "env dbname=d",
	    err, sizeof(err));
	unsetenv("PGPASSWORD");
	T_CHECK(c == NULL);
	T_CHECK(strstr(err, SECRET "env") == NULL);
	T_CHECK(strstr(err, "/nonexistent/***") != NULL);

	c = central_pg_connect("dbname=d password='" SECRET, err, sizeof(err));
	T_CHECK(c == NULL);
	T_CHECK(strstr(err, "not shown") != NULL);
	T_CHECK(strstr(err, SECRET) == NULL);

	central_pg_close(NULL);
}

static void
test_names(void)
{
	char long_name[80];

	T_CHECK(central_pg_site_ok("A"));
	T_CHECK(central_pg_site_ok("den-haag.dc1"));
	T_CHECK(central_pg_site_ok("9th_floor"));
	T_CHECK(!central_pg_site_ok(""));
	T_CHECK(!central_pg_site_ok("-a"));
	T_CHECK(!central_pg_site_ok(".a"));
	T_CHECK(!central_pg_site_ok("a b"));
	T_CHECK(!central_pg_site_ok("a'b"));
	T_CHECK(!central_pg_site_ok("caf\xc3\xa9"));
	memset(long_name, 'a', sizeof(long_name));
	long_name[63] = '\0';
	T_CHECK(central_pg_site_ok(long_name));
	T_CHECK(central_pg_role_ok(long_name));
	long_name[63] = 'a';
	long_name[64] = '\0';
	T_CHECK(!central_pg_site_ok(long_name));
	T_CHECK(!central_pg_role_ok(long_name));

	T_CHECK(central_pg_role_ok("siteA"));
	T_CHECK(central_pg_role_ok("_sensor.dc-1"));
	T_CHECK(!central_pg_role_ok(""));
	T_CHECK(!central_pg_role_ok("1site"));
	T_CHECK(!central_pg_role_ok("-x"));
	T_CHECK(!central_pg_role_ok("a\"b"));
	T_CHECK(!central_pg_role_ok("a;b"));
	T_CHECK(!central_pg_role_ok("pg_monitor"));
	T_CHECK(!central_pg_role_ok("PG_x"));
	T_CHECK(!central_pg_role_ok("public"));
	T_CHECK(!central_pg_role_ok(CENTRAL_PG_WRITER));
	T_CHECK(!central_pg_role_ok(CENTRAL_PG_READER));
}

static void
test_init_to_range(void)
{
	char err[256];
	int from = -1;

	/* Refused before any statement: no connection needed. */
	err[0] = '\0';
	T_CHECK(central_pg_init_to(NULL, 0, &from, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "no schema version 0") != NULL);
	err[0] = '\0';
	T_CHECK(central_pg_init_to(NULL, CENTRAL_PG_VERSION + 1, &from, err,
	    sizeof(err)) == -1);
	T_CHECK(err[0] != '\0');
	T_CHECK(from == -1);
}

static int
init_to(const char *conninfo, const char *top)
{
	struct central *c;
	char err[512];
	int from, rc;

	if ((c = central_pg_connect(conninfo, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	rc = central_pg_init_to(c, atoi(top), &from, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "%s\n", err);
	central_pg_close(c);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "init-to") == 0)
		return init_to(argv[2], argv[3]);
	T_RUN(test_init_to_range);
	T_RUN(test_describe);
	T_RUN(test_connect_fails);
	T_RUN(test_names);
	return T_DONE();
}
