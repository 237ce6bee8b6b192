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
 *   test_relstore_pg roundtrip CONNINFO SITE (a writer; schema version 3)
 *        publishes day 20260106 into the scope, names with every byte
 *        COPY escapes, more rows than one COPY message holds, measures
 *        not published, service ids given twice; reads it all back, a
 *        second publish writes nothing, a period a COPY refuses leaves
 *        nothing and the store goes on; exit 0 when every check holds
 */
#include <inttypes.h>
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

#define RT_DAY		20260106
#define RT_NDEPT	40
#define RT_NSVC		20
#define RT_NSERV	450	/* more than one multi-row upsert holds */

static char rt_dept[RT_NDEPT][64], rt_svc[RT_NSVC][48];

/* Names with what COPY's text format escapes, and more. */
static void
rt_names(void)
{
	static const char *const odd[] = { "Fin\tance", "tab\there",
	    "new\nline", "cr\rhere", "back\\slash\\", "\\N", "\"q'",
	    "caf\xc3\xa9 \xe2\x82\xac" };
	size_t i;

	for (i = 0; i < RT_NDEPT; i++)
		snprintf(rt_dept[i], sizeof(rt_dept[i]), "%s-%zu",
		    i < 8 ? odd[i] : "dept", i);
	for (i = 0; i < RT_NSVC; i++)
		snprintf(rt_svc[i], sizeof(rt_svc[i]), "%s%zu",
		    i == 0 ? "svc\t" : "svc", i);
}

static int
rt_count(void *arg, const char *dept, const char *svc,
    const uint64_t m[RM_N])
{
	(void)dept;
	(void)svc;
	(void)m;
	(*(size_t *)arg)++;
	return 0;
}

struct rt_axis {
	const char	*want[RT_NDEPT];
	size_t		 n, bad;
};

static int
rt_axis(void *arg, const char *name)
{
	struct rt_axis *a = arg;

	if (a->n >= RT_NDEPT || strcmp(a->want[a->n], name) != 0)
		a->bad++;
	a->n++;
	return 0;
}

static int
rt_service(void *arg, const struct rel_service *sv)
{
	size_t *n = arg;
	unsigned k;

	if (sscanf(sv->sid, "rt-svc-%u", &k) != 1)
		return 0;
	/* every id twice: the second (name "last", vendor its index) won */
	if (strcmp(sv->name, "last\tname") == 0 &&
	    atoi(sv->vendor) == (int)(k * 2 + 1) && sv->sanctioned == 1)
		n[0]++;
	else
		n[1]++;
	return 0;
}

static void
rt_pub(struct relstore_pub *p, struct rel_cell *cell, size_t ncell,
    struct rel_service *sv, const char **dn, const char **sn,
    const uint64_t *blind)
{
	memset(p, 0, sizeof(*p));
	p->per.kind = REL_DAY;
	p->per.period = RT_DAY;
	p->per.week = 202602;
	p->per.released_at = 1767700000;
	p->per.coverage_hours = 20;
	p->per.hours_total = 24;
	p->per.complete = 1;
	p->per.min_group = 5;
	p->timezone = "UTC";
	p->dept = dn;
	p->ndept = RT_NDEPT;
	p->svc = sn;
	p->nsvc = RT_NSVC;
	p->service = sv;
	p->nservice = RT_NSERV * 2;
	p->cell = cell;
	p->ncell = ncell;
	p->blind = blind;
}

/* The roundtrip mode (see the top). */
static int
roundtrip(const char *conninfo, const char *site)
{
	static struct rel_cell cell[RT_NDEPT * RT_NSVC];
	static struct rel_service sv[RT_NSERV * 2];
	const char *dn[RT_NDEPT], *sn[RT_NSVC];
	struct relstore_pub p;
	struct relstore *st;
	struct rt_axis ax;
	uint64_t blind[RB_N], got[RB_N], m[RM_N];
	size_t i, j, ncell = 0, n, bad, nsv[2] = { 0, 0 };
	char err[512];
	int r, k;

	rt_names();
	for (i = 0; i < RT_NDEPT; i++)
		dn[i] = rt_dept[i];
	for (i = 0; i < RT_NSVC; i++)
		sn[i] = rt_svc[i];
	/* 800 cells, ~60 KiB of COPY data: several messages */
	for (i = 0; i < RT_NDEPT; i++)
		for (j = 0; j < RT_NSVC; j++, ncell++) {
			struct rel_cell *c = &cell[ncell];

			c->kind = REL_DAY;
			c->period = RT_DAY;
			memcpy(c->dept, rt_dept[i], sizeof(c->dept));
			memcpy(c->svc, rt_svc[j], sizeof(c->svc));
			for (k = 0; k < RM_N; k++)
				c->m[k] = (uint64_t)(ncell * 1000 + k + 1);
			c->m[RM_UP] = UINT64_MAX;	/* clipped */
			/* odd cells publish devices and connections only */
			c->published = ncell % 2 ? (1u << RM_DEVICES) |
			    (1u << RM_CONNS) : REL_ALL_MEASURES;
		}
	for (i = 0; i < RT_NSERV * 2; i++) {
		/* ids twice: within one upsert and across two */
		snprintf(sv[i].sid, sizeof(sv[i].sid), "rt-svc-%zu",
		    i < RT_NSERV ? i : (i - RT_NSERV + RT_NSERV / 2) %
		    RT_NSERV);
		snprintf(sv[i].name, sizeof(sv[i].name), "first");
		sv[i].sanctioned = 0;
	}
	/* the later of each id: name "last<TAB>name", vendor its index */
	for (i = 0; i < RT_NSERV; i++) {
		size_t last = 0;

		for (j = 0; j < RT_NSERV * 2; j++)
			if (strcmp(sv[j].sid, sv[i].sid) == 0)
				last = j;
		snprintf(sv[last].name, sizeof(sv[last].name), "last\tname");
		snprintf(sv[last].vendor, sizeof(sv[last].vendor), "%zu",
		    i * 2 + 1);
		sv[last].sanctioned = 1;
	}
	for (k = 0; k < RB_N; k++)
		blind[k] = (uint64_t)(k + 1) * 7;

	if ((st = relstore_pg_open_site(conninfo, RELSTORE_WRITE, site, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* a COPY the server refuses (one cell twice): nothing is kept */
	cell[1] = cell[0];
	rt_pub(&p, cell, ncell, sv, dn, sn, blind);
	T_EQ_INT(relstore_publish(st, &p), -1);
	T_CHECK(strstr(relstore_error(st), "cannot write a cell") != NULL);
	T_EQ_INT(relstore_is_released(st, REL_DAY, RT_DAY), 0);
	cell[1] = cell[0];
	memcpy(cell[1].svc, rt_svc[1], sizeof(cell[1].svc));
	for (k = 0; k < RM_N; k++)
		cell[1].m[k] = (uint64_t)(1 * 1000 + k + 1);
	cell[1].m[RM_UP] = UINT64_MAX;
	cell[1].published = (1u << RM_DEVICES) | (1u << RM_CONNS);

	/* the store goes on: the period whole, then once */
	T_EQ_INT(relstore_publish(st, &p), 1);
	T_EQ_INT(relstore_publish(st, &p), 0);
	n = 0;
	T_EQ_INT(relstore_cells(st, REL_DAY, RT_DAY, rt_count, &n), 0);
	T_EQ_INT(n, ncell);
	for (i = 0, bad = 0; i < ncell; i++) {
		const struct rel_cell *c = &cell[i];

		if (relstore_cell(st, REL_DAY, RT_DAY, c->dept, c->svc,
		    m) != 0) {
			bad++;
			continue;
		}
		for (k = 0; k < RM_N; k++) {
			uint64_t want = !(c->published & (1u << k)) ? 0 :
			    c->m[k] > INT64_MAX ? INT64_MAX : c->m[k];

			if (m[k] != want)
				bad++;
		}
	}
	T_EQ_INT(bad, 0);
	memset(&ax, 0, sizeof(ax));
	for (i = 0; i < RT_NDEPT; i++)
		ax.want[i] = rt_dept[i];
	T_EQ_INT(relstore_axis(st, REL_DAY, RT_DAY, RELSTORE_DEPT, rt_axis,
	    &ax), 0);
	T_EQ_INT(ax.n, RT_NDEPT);
	T_EQ_INT(ax.bad, 0);
	memset(&ax, 0, sizeof(ax));
	for (i = 0; i < RT_NSVC; i++)
		ax.want[i] = rt_svc[i];
	T_EQ_INT(relstore_axis(st, REL_DAY, RT_DAY, RELSTORE_SVC, rt_axis,
	    &ax), 0);
	T_EQ_INT(ax.n, RT_NSVC);
	T_EQ_INT(ax.bad, 0);
	T_EQ_INT(relstore_blind(st, RT_DAY, got), 0);
	T_CHECK(memcmp(got, blind, sizeof(got)) == 0);
	T_EQ_INT(relstore_services(st, rt_service, nsv), 0);
	T_EQ_INT(nsv[0], RT_NSERV);
	T_EQ_INT(nsv[1], 0);
	r = relstore_timezone(st, err, sizeof(err));
	T_EQ_INT(r, 0);
	T_EQ_STR(err, "UTC");
	relstore_close(st);
	return T_DONE();
}

/* The server modes (see the top); exit 0 or 1 with the error. */
static int
serve(int argc, char **argv)
{
	struct relstore *st;
	char err[512];
	const char *site = argc > 3 ? argv[3] : NULL;
	int rc = -1;

	if (strcmp(argv[1], "roundtrip") == 0 && argc == 4)
		return roundtrip(argv[2], argv[3]);

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
