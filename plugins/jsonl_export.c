/*
 * jsonl_export.c - an exporter plugin: each flush appended to a file as
 * JSON lines, one object per (hour, department, service) cell that the
 * flush changed.  Configure as "jsonl_export:/var/lib/aicensus/export.jsonl".
 *
 * It sees what the database sees - aggregates, never an address - and
 * nothing more.  The minimum group size is NOT applied here: this is a
 * feed for a system that applies it itself, like the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aicensus_plugin.h"

struct jsonl {
	const struct aic_host	*host;
	char			 path[1024];
	FILE			*f;
	int64_t			 flush_time;
};

static int
jsonl_init(const struct aic_host *host, const char *arg, void **state)
{
	struct jsonl *j;

	if (arg == NULL || *arg == '\0')
		return -1;		/* needs a file name */
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	j->host = host;
	snprintf(j->path, sizeof(j->path), "%s", arg);
	/* open now so a bad path stops the daemon at start-up */
	if ((j->f = fopen(j->path, "a")) == NULL) {
		free(j);
		return -1;
	}
	fclose(j->f);
	j->f = NULL;
	*state = j;
	return 0;
}

static void
jsonl_fini(void *state)
{
	struct jsonl *j = state;

	if (j == NULL)
		return;
	if (j->f)
		fclose(j->f);
	free(j);
}

static int
jsonl_begin(void *state, int64_t now)
{
	struct jsonl *j = state;

	j->flush_time = now;
	if (j->f == NULL && (j->f = fopen(j->path, "a")) == NULL) {
		j->host->log(j->host->ctx, 1, "jsonl_export: cannot open the "
		    "output file");
		return -1;
	}
	return 0;
}

static void
jsonl_row(void *state, const struct aic_row *r)
{
	struct jsonl *j = state;
	json_t *o;

	if (j->f == NULL)
		return;
	o = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "hour", (json_int_t)r->hour, "department", r->department,
	    "service", r->service,
	    "tls_conns", (json_int_t)r->tls_conns,
	    "quic_conns", (json_int_t)r->quic_conns,
	    "ech_conns", (json_int_t)r->ech_conns,
	    "dns_lookups", (json_int_t)r->dns_lookups,
	    "dns_nxdomain", (json_int_t)r->dns_nxdomain,
	    "bytes_up", (json_int_t)r->bytes_up,
	    "bytes_down", (json_int_t)r->bytes_down,
	    "device_hours", (json_int_t)r->device_hours);
	if (o == NULL)
		return;
	json_dumpf(o, j->f, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', j->f);
	json_decref(o);
}

static int
jsonl_end(void *state)
{
	struct jsonl *j = state;
	int rc = 0;

	if (j->f == NULL)
		return -1;
	if (fclose(j->f) != 0)
		rc = -1;
	j->f = NULL;
	return rc;
}

static const struct aic_plugin plugin = {
	.abi = AIC_PLUGIN_ABI,
	.name = "jsonl_export",
	.version = "1",
	.init = jsonl_init,
	.fini = jsonl_fini,
	.export_begin = jsonl_begin,
	.export_row = jsonl_row,
	.export_end = jsonl_end,
};

const struct aic_plugin *aicensus_plugin(void);

const struct aic_plugin *
aicensus_plugin(void)
{
	return &plugin;
}
