/*
 * relfix.h - a small release database for the output tests (test_api,
 * the api fuzz target): the release stage creates the file and its
 * schema (reldb_open), the rows are written here with SQL, without
 * releasing anything.
 *
 * Not the same database as tests/relfixture.py's, on purpose: this one
 * is fixed and its figures are formulas (relfix_devices, relfix_measure)
 * a C test can assert without reading a JSON truth file; relfixture.py
 * draws seeded random cells over any weeks and grid (--grid-from a
 * configuration, --from-truth the synthesizer) and writes the truth for
 * the end-to-end scripts.  What they do share, the schema, neither keeps:
 * both have the daemon create the file (relfixture.py through
 * tests/tools/relschema).
 *
 * Grid: departments Finance, Sales, unassigned (and "*"); services
 * openai-chatgpt, anthropic-claude (category chat), github-copilot
 * (code); released: week 2026-W47 with its seven days, and the days
 * 2026-11-23 and 2026-11-24 of week 2026-W48 (not released).  A cell
 * whose relfix_devices() is 0 is absent from `cell` (a released zero);
 * every other measure of a cell is relfix_measure().  min_group 5.
 */
#ifndef AIC_RELFIX_H
#define AIC_RELFIX_H

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "release/release.h"

static const char *const relfix_depts[] = {
	"Finance", "Sales", "unassigned", "*"
};
static const char *const relfix_week_svcs[] = {
	"openai-chatgpt", "anthropic-claude", "github-copilot", "cat:chat",
	"cat:code", "*"
};
#define RELFIX_NDEPT	4	/* with "*" */
#define RELFIX_NSVC	6	/* with "*" */
#define RELFIX_WEEK	202647
#define RELFIX_NDAYS	9
static const int relfix_days[RELFIX_NDAYS] = {
	20261116, 20261117, 20261118, 20261119, 20261120, 20261121, 20261122,
	20261123, 20261124
};

/* Devices of a cell: 0 (absent) or >= 5, from its coordinates. */
static unsigned long long
relfix_devices(int period, int d, int s)
{
	unsigned v = (unsigned)(period % 97) * 31u + (unsigned)d * 7u +
	    (unsigned)s * 13u;

	return v % 3 == 0 ? 0 : 5 + v % 23;
}

/* Measure m (1..9, released.h order) of a non-zero cell. */
static unsigned long long
relfix_measure(int period, int d, int s, int m)
{
	return relfix_devices(period, d, s) * (unsigned long long)(m + 1) +
	    (unsigned long long)m;
}

/* Is (d, s) in the day grid?  Services only for all departments. */
static int
relfix_day_cell(int d, int s)
{
	return s >= 3 || d == 3;
}

static int
relfix_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "relfix: %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
relfix_period(sqlite3 *db, int kind, int period, int week, long long start,
    int hours)
{
	char sql[512];
	int i;

	snprintf(sql, sizeof(sql), "INSERT INTO period VALUES (%d, %d, %d,"
	    " %lld, %d, %d, 1, 5)", kind, period, week,
	    start + hours * 3600LL + 60, hours, hours);
	if (relfix_exec(db, sql) != 0)
		return -1;
	for (i = 0; i < RELFIX_NDEPT - 1; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO dim VALUES (%d, %d, 0,"
		    " %d, '%s')", kind, period, i, relfix_depts[i]);
		if (relfix_exec(db, sql) != 0)
			return -1;
	}
	for (i = 0; i < RELFIX_NSVC - 1; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO dim VALUES (%d, %d, 1,"
		    " %d, '%s')", kind, period, i, relfix_week_svcs[i]);
		if (relfix_exec(db, sql) != 0)
			return -1;
	}
	return 0;
}

static int
relfix_cells(sqlite3 *db, int kind, int period)
{
	char sql[1024];
	int d, s, m;
	size_t n;

	for (d = 0; d < RELFIX_NDEPT; d++)
		for (s = 0; s < RELFIX_NSVC; s++) {
			if (kind == 1 && !relfix_day_cell(d, s))
				continue;
			if (relfix_devices(period, d, s) == 0)
				continue;
			n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO cell"
			    " VALUES (%d, %d, '%s', '%s', %llu", kind, period,
			    relfix_depts[d], relfix_week_svcs[s],
			    relfix_devices(period, d, s));
			for (m = 1; m < 10; m++)
				n += (size_t)snprintf(sql + n, sizeof(sql) - n,
				    ", %llu", relfix_measure(period, d, s, m));
			snprintf(sql + n, sizeof(sql) - n, ")");
			if (relfix_exec(db, sql) != 0)
				return -1;
		}
	return 0;
}

/* Day starts in UTC (the fixture's zone): 2026-11-16 is 1794787200. */
#define RELFIX_MONDAY	1794787200LL

static int
relfix_write(const char *path)
{
	static const char *const blind[] = {
		"packets", "bytes", "pcap_drops", "if_drops",
		"ech_unattributed", "nosni_conns", "doh_conns", "ignored",
		"lost", "parse_failures", "late", "unreadable_hellos",
		"overlap_conflicts"
	};
	struct reldb *r;
	sqlite3 *db = NULL;
	char sql[256], err[256];
	int i, b, rc = -1;

	remove(path);
	if ((r = reldb_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "relfix: %s\n", err);
		return -1;
	}
	reldb_close(r);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		goto out;
	if (relfix_exec(db, "INSERT OR REPLACE INTO meta VALUES"
	    " ('timezone', 'UTC');"
	    "INSERT INTO service VALUES"
	    " ('openai-chatgpt', 'ChatGPT', 'OpenAI', 'chat', 'US', 1),"
	    " ('anthropic-claude', 'Claude', 'Anthropic', 'chat', 'US', 0),"
	    " ('github-copilot', 'Copilot', 'GitHub', 'code', 'US', 0);"
	    "BEGIN") != 0)
		goto out;
	for (i = 0; i < RELFIX_NDAYS; i++) {
		if (relfix_period(db, 1, relfix_days[i], i < 7 ? RELFIX_WEEK :
		    RELFIX_WEEK + 1, RELFIX_MONDAY + i * 86400LL, 24) != 0 ||
		    relfix_cells(db, 1, relfix_days[i]) != 0)
			goto out;
		for (b = 0; b < 11; b++) {
			snprintf(sql, sizeof(sql), "INSERT INTO blind VALUES "
			    "(%d, '%s', %d)", relfix_days[i], blind[b],
			    1000 * (i + 1) + b);
			if (relfix_exec(db, sql) != 0)
				goto out;
		}
	}
	if (relfix_period(db, 2, RELFIX_WEEK, RELFIX_WEEK, RELFIX_MONDAY,
	    168) != 0 || relfix_cells(db, 2, RELFIX_WEEK) != 0 ||
	    relfix_exec(db, "COMMIT") != 0)
		goto out;
	rc = 0;
out:
	sqlite3_close(db);
	return rc;
}

#endif /* AIC_RELFIX_H */
