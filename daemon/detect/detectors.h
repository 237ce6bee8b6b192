/*
 * detectors.h - the built-in detectors, written against the same plugin
 * ABI (plugins/aicensus_plugin.h) that external plugins use.
 */
#ifndef AIC_DETECTORS_H
#define AIC_DETECTORS_H

#include "aicensus_plugin.h"

const struct aic_plugin *det_dns_plugin(void);
const struct aic_plugin *det_tls_plugin(void);
const struct aic_plugin *det_quic_plugin(void);

/* Sizing the QUIC detector reads from its init arg: "max_conns". */

#endif /* AIC_DETECTORS_H */
