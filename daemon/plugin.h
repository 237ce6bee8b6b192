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

int	plugin_load(const char *dir, const char *spec, struct loaded_plugin *out,
	    char *err, size_t errlen);
void	plugin_unload(struct loaded_plugin *);

#endif /* AIC_PLUGIN_H */
