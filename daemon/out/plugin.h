/*
 * plugin.h - loading external plugins named in the configuration.
 *
 * "name" or "name:arg" -> PLUGIN_DIR/name.so, entry aicensus_plugin(),
 * whose descriptor must carry AIC_PLUGIN_ABI.  Anything else is a clear
 * start-up error: the daemon never starts with half its plugins.
 */
#ifndef AIC_PLUGIN_H
#define AIC_PLUGIN_H

#include <stddef.h>

#include "aicensus_plugin.h"

struct loaded_plugin {
	void			*handle;
	const struct aic_plugin	*pl;
	char			 name[64];
	char			 arg[512];
	void			*state;		/* exporters' instance */
};

/*
 * The exporters to feed at release: the daemon registers
 *	release_set_cell_cb(reldb, plugin_export_cell, &exports);
 * with exports.v = its loaded plugins, exports.n = how many.  Each
 * released non-zero cell then goes to every exporter as a struct aic_row
 * (export_begin, export_row, export_end around each cell, so a plugin
 * never holds a file open between releases).
 */
struct plugin_exports {
	struct loaded_plugin	*v;
	size_t			 n;
};

struct rel_period;
struct rel_cell;

void	plugin_export_cell(void *arg, const struct rel_period *,
	    const struct rel_cell *);
/* The row an exporter gets for a released cell (no copy of the names). */
void	plugin_row_of(const struct rel_period *, const struct rel_cell *,
	    struct aic_row *);

int	plugin_load(const char *dir, const char *spec, struct loaded_plugin *out,
	    char *err, size_t errlen);
void	plugin_unload(struct loaded_plugin *);

#endif /* AIC_PLUGIN_H */
