/*
 * cfgkeys.c - print the configuration's table of keys (config_keys()),
 * one tab-separated line per key, so that tests/e2e/config_table.sh can
 * hold the manual page and the shipped example against the table the
 * daemon really uses, not against a copy of it.
 *
 * usage: cfgkeys
 * Output: section name type min max default unit reloadable, where
 * section is "-" for keys of aicensus itself, min and max are "-" for
 * what is not an integer, default is "(required)" for a key without
 * one and "" (two quotes) for an empty string, unit is "-" when there is none and reloadable is "yes" or "no".
 */
#include <stdio.h>

#include "common/config.h"

int
main(void)
{
	const struct config_key *k;
	size_t i, n;

	k = config_keys(&n);
	for (i = 0; i < n; i++, k++) {
		printf("%s\t%s\t%s\t", k->section[0] ? k->section : "-",
		    k->name, config_type_name(k->type));
		if (k->type == CFG_INT)
			printf("%lld\t%lld\t", k->min, k->max);
		else
			printf("-\t-\t");
		printf("%s\t%s\t%s\n", k->dflt == NULL ? "(required)" :
		    k->dflt[0] == '\0' ? "\"\"" : k->dflt,
		    k->unit != NULL ? k->unit : "-",
		    k->reloadable ? "yes" : "no");
	}
	return 0;
}
