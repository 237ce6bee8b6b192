/*
 * no_entry.c - a shared object that is not an aicensus plugin.
 *
 * It exports a descriptor under a near-miss name but no aicensus_plugin()
 * entry point; aicensusd must refuse to start and say so
 * (tests/e2e/config_errors.sh).  Built by the test with
 * cc -shared -fPIC -Iplugins.
 */
#include "aicensus_plugin.h"

const struct aic_plugin *aicensus_plugin_v2(void);

static const struct aic_plugin descriptor = {
	.abi = AIC_PLUGIN_ABI,
	.name = "no_entry",
	.version = "0",
};

const struct aic_plugin *
aicensus_plugin_v2(void)
{
	return &descriptor;
}
