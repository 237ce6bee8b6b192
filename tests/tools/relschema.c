/*
 * relschema.c - an empty release database made by the release stage
 * itself (reldb_open), for tests/relfixture.py to fill with made-up
 * released periods.  The release database's schema is then written in
 * one place, the daemon's; the fixtures (this one, and
 * tests/unit/relfix.h, which calls reldb_open directly) keep no copy
 * that could drift from it.
 *
 * usage: relschema OUT.db	(a new file; an existing release database
 *				is opened and left as it is)
 */
#include <stdio.h>

#include "release/release.h"

int
main(int argc, char **argv)
{
	struct reldb *r;
	char err[512];

	if (argc != 2) {
		fprintf(stderr, "usage: relschema OUT.db\n");
		return 2;
	}
	if ((r = reldb_open(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "relschema: %s\n", err);
		return 1;
	}
	reldb_close(r);
	return 0;
}
