/*
 * cells.c - the names of cells.h, defined once.
 */
#include "common/cells.h"

const char *const rel_measure_names[RM_N] = {
	"devices", "device_hours", "tls_conns", "quic_conns", "ech_conns",
	"connections", "dns_lookups", "dns_nxdomain", "bytes_up", "bytes_down"
};

const char *const rel_blind_names[RB_N] = {
	"packets", "bytes", "pcap_drops", "if_drops", "ech_unattributed",
	"nosni_conns", "doh_conns", "ignored", "lost", "parse_failures", "late",
	"unreadable_hellos", "overlap_conflicts"
};
