/*
 * test_relstore_pg.c - the PostgreSQL backend of the release database
 * (store/relstore_pg.h) without a server: which --db strings are
 * connection strings rather than files, and what a failed open says
 * (the connection named, never its password, for readers and writers
 * alike), and that a site scope's name is checked before connecting.
 * Publishing and reading rows need a server: tests/e2e/central_release.sh
 * runs this program against its cluster:
 *   test_relstore_pg sites CONNINFO          relstore_pg_sites(), a line each
 *   test_relstore_pg cells CONNINFO SITE KIND PERIOD
 *                                            the scope's cells, CSV, unsorted
 *   test_relstore_pg periods CONNINFO SITE KIND   the scope's periods
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

static void
test_open_site_name(void)
{
	static const char *const bad[] = {
		"", "-a", ".a", "a b", "a;b", "a'b", "**",
		"a23456789012345678901234567890123456789012345678901234567890"
		    "1234", NULL
	};
	char err[512];
	struct relstore *st;
	int i;

	/* A bad name is refused before any connection is tried. */
	for (i = 0; bad[i] != NULL; i++) {
		err[0] = '\0';
		st = relstore_pg_open_site("host=/nonexistent/aicensus-sock "
		    "dbname=central user=bi password=" SECRET
		    " connect_timeout=2", RELSTORE_READ, bad[i], err,
		    sizeof(err));
		T_CHECK(st == NULL);
		T_CHECK(strncmp(err, "site name:", 10) == 0);
		T_CHECK(strstr(err, SECRET) == NULL);
	}
	/* NULL, "*" and a good name get as far as connecting. */
	for (i = 0; i < 3; i++) {
		err[0] = '\0';
		st = relstore_pg_open_site("host=/nonexistent/aicensus-sock "
		    "dbname=central user=bi password=" SECRET
		    " connect_timeout=2", RELSTORE_READ,
		    i == 0 ? NULL : i == 1 ? "*" : "site-a.1", err,
		    sizeof(err));
		T_CHECK(st == NULL);
		T_CHECK(strstr(err, "cannot connect to host=") != NULL);
		T_CHECK(strstr(err, SECRET) == NULL);
	}
}

static int
print_name(void *arg, const char *name)
{
	(void)arg;
	printf("%s\n", name);
	return 0;
}

static int
print_cell(void *arg, const char *dept, const char *svc,
    const uint64_t m[RM_N])
{
	int i;

	(void)arg;
	printf("%s,%s", dept, svc);
	for (i = 0; i < RM_N; i++)
		printf(",%llu", (unsigned long long)m[i]);
	printf("\n");
	return 0;
}

static int
print_period(void *arg, const struct rel_period *p)
{
	(void)arg;
	printf("%d,%d,%u,%u,%d\n", (int)p->period, p->min_group,
	    p->coverage_hours, p->hours_total, p->complete);
	return 0;
}

/* The server modes (see the top); exit 0 or 1 with the error. */
static int
serve(int argc, char **argv)
{
	struct relstore *st;
	char err[512];
	const char *site = argc > 3 ? argv[3] : NULL;
	int rc = -1;

	if ((st = relstore_pg_open_site(argv[2], RELSTORE_READ, site, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (strcmp(argv[1], "sites") == 0 && argc == 3)
		rc = relstore_pg_sites(st, print_name, NULL);
	else if (strcmp(argv[1], "cells") == 0 && argc == 6)
		rc = relstore_cells(st, (enum rel_kind)atoi(argv[4]),
		    (int32_t)atol(argv[5]), print_cell, NULL);
	else if (strcmp(argv[1], "periods") == 0 && argc == 5)
		rc = relstore_periods(st, (enum rel_kind)atoi(argv[4]), 0, 0,
		    print_period, NULL);
	else
		fprintf(stderr, "usage: see tests/unit/test_relstore_pg.c\n");
	if (rc != 0 && argc >= 3)
		fprintf(stderr, "%s\n", relstore_error(st));
	relstore_close(st);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc >= 3)
		return serve(argc, argv);
	T_RUN(test_open_site_name);
	T_RUN(test_is_conninfo);
	T_RUN(test_open_fails);
	return T_DONE();
}
