/*
 * bad_abi.c - a plugin built against another plugin ABI.
 *
 * Its descriptor claims ABI 999; aicensusd must refuse to start and name
 * both ABI numbers (tests/e2e/config_errors.sh).  Built by the test with
 * cc -shared -fPIC -Iplugins.
 */
#include "aicensus_plugin.h"

const struct aic_plugin *aicensus_plugin(void);

static const struct aic_plugin descriptor = {
	.abi = 999,
	.name = "bad_abi",
	.version = "0",
};

const struct aic_plugin *
aicensus_plugin(void)
{
	return &descriptor;
}
