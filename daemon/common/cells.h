/*
 * cells.h - the vocabulary every stage shares about published cells:
 * the kinds of period, the measures and blind-spot figures (with their
 * names, which are also the column names and JSON keys), the "*" and
 * "cat:" conventions, one cell as the release stage publishes it, the
 * period it belongs to and the catalog facts published with it.
 *
 * It is vocabulary only: no figure, no function.  The aggregate stage
 * names what it hands over with it, the release stage what it
 * publishes, the outputs what they print; keeping it in common/ is what
 * lets each of them depend on it without depending on one another.
 * The names are defined once, in cells.c.
 */
#ifndef AIC_CELLS_H
#define AIC_CELLS_H

#include <stdint.h>

enum rel_kind { REL_DAY = 1, REL_WEEK = 2 };

enum rel_measure {
	RM_DEVICES, RM_DEVHOURS, RM_TLS, RM_QUIC, RM_ECH, RM_CONNS, RM_DNS,
	RM_NXDOMAIN, RM_UP, RM_DOWN, RM_N
};
/* Column names, also the JSON keys: "devices", "device_hours", "tls_conns",
 * "quic_conns", "ech_conns", "connections", "dns_lookups", "dns_nxdomain",
 * "bytes_up", "bytes_down". */
extern const char *const rel_measure_names[RM_N];
#define REL_ALL_MEASURES	((1u << RM_N) - 1)
#define REL_DAY_MEASURES	((1u << RM_DEVICES) | (1u << RM_DEVHOURS) | \
	(1u << RM_CONNS) | (1u << RM_DNS) | (1u << RM_NXDOMAIN))

enum rel_blind {
	RB_PACKETS, RB_BYTES, RB_PCAP_DROPS, RB_IF_DROPS, RB_ECH_UNATTRIBUTED,
	RB_NOSNI, RB_DOH, RB_IGNORED, RB_LOST, RB_PARSE_FAILURES, RB_LATE,
	RB_UNREADABLE,		/* ClientHellos too large or too fragmented
				 * to read (anomaly tls_clienthello_unreadable,
				 * also within parse_failures) */
	RB_CONFLICT,		/* connections given up: overlapping TCP or
				 * QUIC CRYPTO copies disagreed (anomalies
				 * tcp_overlap_conflict, quic_crypto_overlap_
				 * conflict, also within parse_failures) */
	RB_N
};
/* "packets", "bytes", "pcap_drops", "if_drops", "ech_unattributed",
 * "nosni_conns", "doh_conns", "ignored", "lost", "parse_failures", "late",
 * "unreadable_hellos", "overlap_conflicts" */
extern const char *const rel_blind_names[RB_N];

#define REL_ALL		"*"		/* all departments / all services */
#define REL_CAT_PREFIX	"cat:"		/* svc "cat:chat": a category */
#define REL_UNASSIGNED	"unassigned"

struct rel_cell {
	enum rel_kind	 kind;
	int32_t		 period;	/* YYYYMMDD or YYYYWW (local) */
	char		 dept[64];	/* name, "unassigned" or "*" */
	char		 svc[48];	/* catalog id, "cat:<category>" or "*" */
	uint64_t	 m[RM_N];
	unsigned	 published;	/* bit per rel_measure the level publishes */
};

/*
 * A released period as the release stage records it; the store keeps it,
 * the outputs read it (released.h).
 */
struct rel_period {
	enum rel_kind	 kind;
	int32_t		 period;
	int32_t		 week;		/* ISO week the period belongs to */
	int64_t		 released_at;	/* UTC epoch */
	unsigned	 coverage_hours;	/* hours the sensor saw traffic */
	unsigned	 hours_total;	/* hours in the period */
	int		 complete;	/* 0: released before its end */
	int		 min_group;	/* 1: released without protection */
};

/* Catalog facts about a service (labels, not figures), written with
 * every release so that outputs can name the services of a grid. */
struct rel_service {
	char		 sid[48];
	char		 name[96];
	char		 vendor[96];
	char		 category[16];
	char		 jurisdiction[8];
	int		 sanctioned;
};

#endif /* AIC_CELLS_H */
