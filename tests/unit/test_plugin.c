/*
 * test_plugin.c - exporters get released cells (plugin ABI 2): the
 * adapter the daemon registers with release_set_cell_cb()
 * (plugin_export_cell) hands each cell to the jsonl_export plugin, built
 * in $BUILD/plugins, which writes it as a query-style JSON line with the
 * level's published measures only.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "out/plugin.h"
#include "release/released.h"
#include "t.h"

static char out[PATH_MAX];

static void
hlog(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "plugin: %s\n", msg);
}

static void
test_row_of(void)
{
	struct rel_period p = { REL_DAY, 20261118, 202647, 1795046460, 24, 24,
	    1, 5 };
	struct rel_cell c;
	struct aic_row row;
	int i;

	memset(&c, 0, sizeof(c));
	c.kind = REL_DAY;
	c.period = 20261118;
	snprintf(c.dept, sizeof(c.dept), "*");
	snprintf(c.svc, sizeof(c.svc), "cat:chat");
	for (i = 0; i < RM_N; i++)
		c.m[i] = 100 + (uint64_t)i;
	c.published = REL_DAY_MEASURES;
	plugin_row_of(&p, &c, &row);
	T_EQ_INT(row.kind, AIC_PERIOD_DAY);
	T_EQ_INT(row.period, 20261118);
	T_EQ_INT(row.week, 202647);
	T_EQ_INT(row.released_at, 1795046460);
	T_EQ_INT(row.min_group, 5);
	T_EQ_STR(row.department, "*");
	T_EQ_STR(row.service, "cat:chat");
	T_EQ_INT(row.published, REL_DAY_MEASURES);
	T_EQ_INT(row.m[AIC_M_DEVICES], 100 + RM_DEVICES);
	T_EQ_INT(row.m[AIC_M_CONNECTIONS], 100 + RM_CONNS);
	/* not published at this level: not handed over */
	T_EQ_INT(row.m[AIC_M_TLS_CONNS], 0);
	T_EQ_INT(row.m[AIC_M_BYTES_UP], 0);
}

static void
test_jsonl(void)
{
	const char *build = getenv("BUILD");
	struct loaded_plugin lp;
	struct plugin_exports ex;
	struct aic_host host = { AIC_PLUGIN_ABI, NULL, NULL, hlog, NULL };
	struct rel_period w = { REL_WEEK, 202647, 202647, 1795392060, 160, 168,
	    1, 5 };
	struct rel_period d = { REL_DAY, 20261118, 202647, 1795046460, 24, 24,
	    1, 5 };
	struct rel_cell c;
	char dir[PATH_MAX], spec[PATH_MAX + 32], err[512], line[4096];
	json_t *o;
	FILE *f;
	int i, n = 0;

	snprintf(dir, sizeof(dir), "%s/plugins", build ? build : "build");
	snprintf(spec, sizeof(spec), "jsonl_export:%s", out);
	if (plugin_load(dir, spec, &lp, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		T_CHECK(0);
		return;
	}
	T_EQ_INT(lp.pl->abi, 2);
	T_CHECK(lp.pl->init(&host, lp.arg, &lp.state) == 0);
	ex.v = &lp;
	ex.n = 1;
	memset(&c, 0, sizeof(c));
	c.kind = REL_WEEK;
	c.period = 202647;
	snprintf(c.dept, sizeof(c.dept), "Legal");
	snprintf(c.svc, sizeof(c.svc), "chatgpt");
	for (i = 0; i < RM_N; i++)
		c.m[i] = 10 * (uint64_t)(i + 1);
	c.published = REL_ALL_MEASURES;
	plugin_export_cell(&ex, &w, &c);
	c.kind = REL_DAY;
	c.period = 20261118;
	snprintf(c.dept, sizeof(c.dept), "*");
	c.published = REL_DAY_MEASURES;
	plugin_export_cell(&ex, &d, &c);
	plugin_export_cell(NULL, &d, &c);	/* no exporters: nothing */
	plugin_unload(&lp);

	if ((f = fopen(out, "r")) == NULL) {
		T_CHECK(0);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		T_CHECK((o = json_loads(line, 0, NULL)) != NULL);
		if (o == NULL)
			continue;
		if (n == 1) {
			T_EQ_STR(json_string_value(json_object_get(o, "kind")),
			    "week");
			T_EQ_STR(json_string_value(json_object_get(o,
			    "period")), "2026-W47");
			T_EQ_STR(json_string_value(json_object_get(o,
			    "department")), "Legal");
			T_EQ_STR(json_string_value(json_object_get(o,
			    "service")), "chatgpt");
			T_EQ_INT(json_integer_value(json_object_get(o,
			    "released_at")), 1795392060);
			for (i = 0; i < RM_N; i++)
				T_EQ_INT(json_integer_value(json_object_get(o,
				    rel_measure_names[i])), 10 * (i + 1));
			T_CHECK(json_object_get(o, "hour") == NULL);
		} else {
			T_EQ_STR(json_string_value(json_object_get(o, "kind")),
			    "day");
			T_EQ_STR(json_string_value(json_object_get(o,
			    "period")), "2026-11-18");
			T_EQ_STR(json_string_value(json_object_get(o, "week")),
			    "2026-W47");
			T_EQ_INT(json_integer_value(json_object_get(o,
			    "connections")), 10 * (RM_CONNS + 1));
			/* a day publishes no protocol split and no bytes */
			T_CHECK(json_object_get(o, "tls_conns") == NULL &&
			    json_object_get(o, "bytes_up") == NULL &&
			    json_object_get(o, "bytes_down") == NULL);
		}
		json_decref(o);
	}
	fclose(f);
	T_EQ_INT(n, 2);
}

int
main(void)
{
	snprintf(out, sizeof(out), "/tmp/aicensus_test_plugin_%ld.jsonl",
	    (long)getpid());
	unlink(out);
	T_RUN(test_row_of);
	T_RUN(test_jsonl);
	unlink(out);
	return T_DONE();
}
