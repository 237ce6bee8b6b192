/*
 * test_relstore_pg.c - the PostgreSQL backend of the release database
 * (store/relstore_pg.h) without a server: which --db strings are
 * connection strings rather than files, and what a failed open says
 * (the connection named, never its password, for readers and writers
 * alike).  Publishing and
 * reading rows need a server: tests/e2e/central_release.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/relstore_pg.h"
#include "t.h"

#define SECRET	"Sekr1tPw"

static void
test_is_conninfo(void)
{
	T_CHECK(relstore_pg_is_conninfo("postgresql://bi@central/aicensus"));
	T_CHECK(relstore_pg_is_conninfo("postgres://central/aicensus"));
	T_CHECK(relstore_pg_is_conninfo("dbname=aicensus user=bi"));
	T_CHECK(relstore_pg_is_conninfo("host=/run/pg dbname=aicensus"));
	T_CHECK(relstore_pg_is_conninfo("service=central"));
	T_CHECK(!relstore_pg_is_conninfo("released.db"));
	T_CHECK(!relstore_pg_is_conninfo("/var/lib/aicensus/released.db"));
	T_CHECK(!relstore_pg_is_conninfo("./a=b.db"));
	T_CHECK(!relstore_pg_is_conninfo("/tmp/x=y/released.db"));
	T_CHECK(!relstore_pg_is_conninfo("Released=1.db"));
	T_CHECK(!relstore_pg_is_conninfo(""));
}

static void
test_open_fails(void)
{
	static const enum relstore_mode modes[2] = {
		RELSTORE_READ, RELSTORE_WRITE
	};
	char err[512];
	struct relstore *st;
	int i;

	for (i = 0; i < 2; i++) {
		err[0] = '\0';
		st = relstore_pg_open("host=/nonexistent/aicensus-sock "
		    "dbname=central user=bi password=" SECRET
		    " connect_timeout=2", modes[i], err, sizeof(err));
		T_CHECK(st == NULL);
		T_CHECK(strstr(err, "cannot connect to host=") != NULL);
		T_CHECK(strstr(err, "user=bi") != NULL);
		T_CHECK(strstr(err, SECRET) == NULL);
	}
	/* A string libpq cannot parse is not echoed at all. */
	err[0] = '\0';
	st = relstore_pg_open("dbname='central password=" SECRET,
	    RELSTORE_READ, err, sizeof(err));
	T_CHECK(st == NULL && err[0] != '\0');
	T_CHECK(strstr(err, SECRET) == NULL);
}

int
main(void)
{
	T_RUN(test_is_conninfo);
	T_RUN(test_open_fails);
	return T_DONE();
}
