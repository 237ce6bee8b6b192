/*
 * plugin.c - dlopen with the checks that make a bad plugin a clear error.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "out/plugin.h"
#include "release/released.h"

/* struct aic_row's measures are released.h's, in the same order */
_Static_assert((int)AIC_M_N == (int)RM_N, "aic_measure != rel_measure");
_Static_assert((int)AIC_M_CONNECTIONS == (int)RM_CONNS &&
    (int)AIC_M_BYTES_DOWN == (int)RM_DOWN &&
    (int)AIC_M_DNS_NXDOMAIN == (int)RM_NXDOMAIN,
    "aic_measure != rel_measure");
_Static_assert(AIC_PERIOD_DAY == REL_DAY && AIC_PERIOD_WEEK == REL_WEEK,
    "period kinds");

void
plugin_row_of(const struct rel_period *p, const struct rel_cell *c,
    struct aic_row *row)
{
	int i;

	memset(row, 0, sizeof(*row));
	row->kind = c->kind;
	row->period = c->period;
	row->week = p->week;
	row->released_at = p->released_at;
	row->complete = p->complete;
	row->min_group = p->min_group;
	row->department = c->dept;
	row->service = c->svc;
	row->published = c->published & ((1u << AIC_M_N) - 1);
	for (i = 0; i < AIC_M_N; i++)
		if (row->published & (1u << i))
			row->m[i] = c->m[i];
}

/*
 * release_cell_cb: called by the release stage for every non-zero cell
 * of a period it has just committed.  Exporters see what every other
 * output sees, nothing finer.
 */
void
plugin_export_cell(void *arg, const struct rel_period *p,
    const struct rel_cell *c)
{
	const struct plugin_exports *e = arg;
	struct aic_row row;
	size_t i;

	if (e == NULL)
		return;
	plugin_row_of(p, c, &row);
	for (i = 0; i < e->n; i++) {
		const struct aic_plugin *pl = e->v[i].pl;
		void *st = e->v[i].state;

		if (pl == NULL || pl->export_row == NULL)
			continue;
		if (pl->export_begin != NULL &&
		    pl->export_begin(st, p->released_at) != 0)
			continue;
		pl->export_row(st, &row);
		if (pl->export_end != NULL)
			pl->export_end(st);
	}
}

static int
valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

int
plugin_load(const char *dir, const char *spec, struct loaded_plugin *out,
    char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':');
	size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
	char path[4096];
	aic_plugin_entry entry;
	void *sym;

	memset(out, 0, sizeof(*out));
	if (!valid_name(spec, nlen)) {
		snprintf(err, errlen, "plugin \"%s\": a plugin name is lower-case "
		    "letters, digits, '_' or '-', optionally followed by "
		    "\":argument\"", spec);
		return -1;
	}
	memcpy(out->name, spec, nlen);
	snprintf(out->arg, sizeof(out->arg), "%s", colon ? colon + 1 : "");
	snprintf(path, sizeof(path), "%s/%s.so", dir, out->name);
	if ((out->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "plugin %s: cannot load %s: %s — install "
		    "it there or fix plugin_dir / plugins in the configuration",
		    out->name, path, dlerror());
		return -1;
	}
	sym = dlsym(out->handle, AIC_PLUGIN_SYMBOL);
	if (sym == NULL) {
		snprintf(err, errlen, "plugin %s: %s has no %s() entry point; "
		    "it is not an aicensus plugin", out->name, path,
		    AIC_PLUGIN_SYMBOL);
		goto fail;
	}
	memcpy(&entry, &sym, sizeof(entry));
	out->pl = entry();
	if (out->pl == NULL || out->pl->abi != AIC_PLUGIN_ABI) {
		snprintf(err, errlen, "plugin %s: built for plugin ABI %u, this "
		    "aicensusd speaks ABI %u; rebuild the plugin against this "
		    "version's plugins/aicensus_plugin.h", out->name,
		    out->pl ? out->pl->abi : 0, AIC_PLUGIN_ABI);
		goto fail;
	}
	return 0;
fail:
	dlclose(out->handle);
	out->handle = NULL;
	out->pl = NULL;
	return -1;
}

void
plugin_unload(struct loaded_plugin *lp)
{
	if (lp->pl != NULL && lp->state != NULL && lp->pl->fini != NULL)
		lp->pl->fini(lp->state);
	if (lp->handle != NULL)
		dlclose(lp->handle);
	memset(lp, 0, sizeof(*lp));
}
