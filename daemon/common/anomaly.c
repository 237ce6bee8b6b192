/*
 * anomaly.c - names of the counted anomalies.
 */
#include <string.h>

#include "common/anomaly.h"

#define X(id, name) name,
static const char *const names[ANOM_N] = { ANOMALY_LIST(X) };
#undef X

const char *
anomaly_name(enum anomaly a)
{
	return (unsigned)a < ANOM_N ? names[a] : "unknown";
}

enum anomaly
anomaly_from_name(const char *name, size_t len)
{
	int i;

	for (i = 0; i < ANOM_N; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return (enum anomaly)i;
	return ANOM_PLUGIN_OTHER;
}
