/*
 * detectors.h - the built-in detectors, written against the same plugin
 * ABI (plugins/aicensus_plugin.h) that external plugins use.
 */
#ifndef AIC_DETECTORS_H
#define AIC_DETECTORS_H

#include <string.h>

#include "aicensus_plugin.h"
#include "common/anomaly.h"

const struct aic_plugin *det_dns_plugin(void);
const struct aic_plugin *det_tls_plugin(void);
const struct aic_plugin *det_quic_plugin(void);

/* Sizing the QUIC detector reads from its init arg: "max_conns". */

/*
 * A built-in detector reports an anomaly by its enum; the plugin ABI
 * carries it as its name, which only anomaly.h spells (the host maps it
 * back with anomaly_from_name(), as for an external plugin's).
 */
static inline void
det_anomaly(const struct aic_host *host, enum anomaly a)
{
	struct aic_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = AIC_EV_ANOMALY;
	ev.name = anomaly_name(a);
	ev.name_len = strlen(ev.name);
	host->emit(host->ctx, &ev);
}

#endif /* AIC_DETECTORS_H */
