/*
 * agg.h - the anonymous aggregates, in memory between two flushes.
 *
 * Three kinds of record, none of them about a device:
 *  - a usage cell per (hour, department, service): counters, plus a
 *    sketch of the device hashes seen in that hour (for device-hours);
 *  - a device cell per (day or ISO week, department, service): a sketch;
 *  - an hour record of what the sensor could not see (blind spots) and
 *    of anomalies.
 * The store merges them into the database and then clears them, so
 * memory holds only what happened since the last successful flush.  If
 * the database stays unusable, growth is capped (max_cells, mem_limit)
 * and what cannot be kept is counted as lost rather than silently gone.
 */
#ifndef AIC_AGG_H
#define AIC_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "common/anomaly.h"
#include "common/period.h"
#include "aggregate/sketch.h"

enum agg_counter {
	C_TLS, C_QUIC, C_ECH, C_DNS, C_NXDOMAIN, C_UP, C_DOWN, C_N
};

enum blind {
	BL_PACKETS, BL_BYTES, BL_PCAP_DROPS, BL_IF_DROPS, BL_ECH,
	BL_ECH_UNATTRIBUTED, BL_NOSNI, BL_DOH, BL_IGNORED, BL_LOST,
	BL_LATE,	/* counts for a week already released: dropped (vault) */
	BL_N
};

struct agg_cell {
	struct agg_cell	*next;		/* hash chain */
	struct agg_cell	*all;		/* list of every cell */
	struct period	 per;
	int32_t		 dept, svc;
	uint64_t	 c[C_N];
	struct sketch	 dev;		/* devices this hour */
	uint64_t	 dev_est;	/* set by the store: whole hour's devices */
};

enum { DEV_DAY = 0, DEV_WEEK = 1 };

struct agg_dev {
	struct agg_dev	*next;		/* hash chain */
	struct agg_dev	*all;		/* list of every device cell */
	int		 kind;		/* DEV_DAY or DEV_WEEK */
	int32_t		 period;	/* YYYYMMDD or YYYYWW */
	int32_t		 week;		/* key week the hashes belong to */
	int32_t		 dept, svc;
	struct sketch	 dev;
};

struct agg_hour {
	struct agg_hour	*next;
	struct period	 per;
	uint64_t	 b[BL_N];
	uint64_t	 anom[ANOM_N];
};

struct agg;

struct agg *agg_new(size_t max_cells, size_t mem_limit);
void	 agg_free(struct agg *);

/* The usage cell, created on first use; NULL when memory is capped. */
struct agg_cell *agg_cell(struct agg *, const struct period *, int dept,
	    int svc);
/* A device (its keyed hash) used the service: hour, day and week. */
void	 agg_device(struct agg *, const struct period *, int dept, int svc,
	    uint64_t devhash);
void	 agg_blind(struct agg *, const struct period *, enum blind, uint64_t n);
/* One captured frame of wirelen bytes: BL_PACKETS and BL_BYTES at once. */
void	 agg_packet(struct agg *, const struct period *, uint64_t wirelen);
void	 agg_anomaly(struct agg *, const struct period *, enum anomaly);

/*
 * Changes whenever cells may have been freed or re-keyed (agg_clear,
 * agg_remap): a cell pointer kept with the generation it was got in is
 * still the right cell while the generation is the same.
 */
uint32_t agg_generation(const struct agg *);

/* For the store: walk everything, then clear after a committed flush. */
struct agg_cell *agg_cells(const struct agg *);	/* linked through all */
struct agg_dev	*agg_devs(const struct agg *);	/* linked through all */
struct agg_hour	*agg_hours(const struct agg *);
int	 agg_empty(const struct agg *);
void	 agg_clear(struct agg *);
size_t	 agg_ncells(const struct agg *);
size_t	 agg_mem(const struct agg *);
/*
 * Double buffering for a flush written in slices while capture goes on:
 * the store writes one of a pair while packets land in the other.
 * agg_pair makes two share max_cells and mem_limit (each counts the
 * other's cells and memory), so the pair is bounded as one was.
 * agg_swap exchanges their contents; agg_absorb moves everything of from
 * into a (adding counters, merging sketches) and leaves from empty, for a
 * flush that failed.
 */
void	 agg_pair(struct agg *, struct agg *);
void	 agg_swap(struct agg *, struct agg *);
void	 agg_absorb(struct agg *, struct agg *from);
/*
 * A capture worker's aggregates into the live side: counters added,
 * device sketches united (a device seen by two workers counts once), as
 * agg_absorb, but within the limits of a: what does not fit is counted
 * lost (BL_LOST, cells_full) as a packet's cell would be.  from is left
 * empty.  Merging every worker's equals one aggregate fed all packets.
 */
void	 agg_merge(struct agg *, struct agg *from);

/* Re-key after a reload; returns the number of cells dropped. */
size_t	 agg_remap(struct agg *, const int32_t *dept_map, size_t nd,
	    const int32_t *svc_map, size_t ns);

#endif /* AIC_AGG_H */
