/*
 * jsonl_export.c - an exporter plugin: every released cell appended to a
 * file as a JSON line when its day or week is released.  Configure as
 * "jsonl_export:/var/lib/aicensus/export.jsonl".
 *
 * It sees what every output sees - released, protected cells of whole
 * days and ISO weeks, never an hour, an address or a raw count - and
 * writes them in the form of `aicensus query --format json` rows:
 * {"kind": "week", "period": "2026-W47", "week": "2026-W47",
 *  "released_at": ..., "department": ..., "service": ..., measures}.
 * Only the measures the level publishes are written.
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

static const char *const measure_names[AIC_M_N] = {
	"devices", "device_hours", "tls_conns", "quic_conns", "ech_conns",
	"connections", "dns_lookups", "dns_nxdomain", "bytes_up", "bytes_down"
};

static void
label(int kind, int32_t p, char *buf, size_t n)
{
	if (kind == AIC_PERIOD_DAY)
		snprintf(buf, n, "%04d-%02d-%02d", (int)(p / 10000),
		    (int)(p / 100 % 100), (int)(p % 100));
	else
		snprintf(buf, n, "%04d-W%02d", (int)(p / 100), (int)(p % 100));
}

static void
jsonl_row(void *state, const struct aic_row *r)
{
	struct jsonl *j = state;
	char per[16], wk[16];
	json_t *o;
	int i;

	if (j->f == NULL || r->department == NULL || r->service == NULL)
		return;
	label(r->kind, r->period, per, sizeof(per));
	label(AIC_PERIOD_WEEK, r->week, wk, sizeof(wk));
	o = json_pack("{s:s, s:s, s:s, s:I, s:b, s:i, s:s, s:s}",
	    "kind", r->kind == AIC_PERIOD_DAY ? "day" : "week",
	    "period", per, "week", wk,
	    "released_at", (json_int_t)r->released_at,
	    "complete", r->complete != 0, "min_group_size", r->min_group,
	    "department", r->department, "service", r->service);
	if (o == NULL)
		return;
	for (i = 0; i < AIC_M_N; i++)
		if (r->published & (1u << i))
			json_object_set_new(o, measure_names[i],
			    json_integer((json_int_t)r->m[i]));
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
	.version = "2",
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
