/*
 * status.h - the daemon's own health, as the API shows it.
 *
 * aicensusd owns one struct aic_status and keeps it current (packets as
 * they arrive, the rest at each flush and reload); the API only reads
 * it, from the same thread, when a request comes in.  Nothing in it is
 * about a device or a department: these are the sensor's own counters.
 */
#ifndef AIC_STATUS_H
#define AIC_STATUS_H

#include <stdint.h>

#include "anomaly.h"

struct aic_status {
	int64_t		start_time;	/* epoch seconds */
	uint64_t	packets;	/* seen since start */
	uint64_t	pcap_drops;	/* dropped by the kernel buffer */
	uint64_t	if_drops;	/* dropped by the interface */
	uint64_t	parse_failures;	/* malformed packets (stored flushes) */
	int64_t		last_flush;	/* epoch seconds of the last attempt; 0 */
	int		last_flush_ok;	/* 1 when it committed */
	uint64_t	flush_failures;
	uint64_t	reloads;	/* configurations taken */
	uint64_t	reload_failures;/* configurations refused */
	int		capturing;	/* 0 while the interface is lost */
	int64_t		last_packet;	/* epoch seconds; 0 none yet */
	int64_t		last_release;	/* epoch seconds of the last release */
	uint64_t	releases;	/* periods released since start */
	uint64_t	release_failures;
	uint64_t	anomalies[ANOM_N];	/* by name, stored flushes */
};

#endif /* AIC_STATUS_H */
