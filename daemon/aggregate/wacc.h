/*
 * wacc.h - the week accumulator: everything counted in one ISO week that
 * is not yet released, in the form the vault seals.
 *
 * A wacc holds, for one week:
 *  - open hour cells (hour, department NAME, service SID): counters and
 *    the hour's sketch of device hashes, for days not yet released;
 *  - week leaves (department, service) of days already released:
 *    counters, device-hours and the union of their devices (a sketch);
 *  - blind-spot hours (b[BL_N], anomalies) of days not yet released;
 *  - the released days, so that a late hour cell of such a day goes to
 *    the week part only.
 * Names, not configuration indices, are kept: a restart with another
 * configuration or catalog can never mislabel a cell.  Indices of the
 * current configuration are looked up only when a release input is made.
 *
 * Serialised form (version 1), all integers LEB128 unless said:
 *   u8 1, zigzag week,
 *   names: n, then n x (len 1..255, bytes without NUL),
 *   released days: n, then n x day (ascending, distinct),
 *   week part: cover_hours, n leaves x (dept, svc, C_N counters,
 *     device_hours, sketch length, sketch),
 *   hour cells: n x (zigzag hour, day, dept, svc, C_N counters, sketch
 *     length, sketch),
 *   blind hours: n x (zigzag hour, day, nb <= BL_N, nb values, na, na x
 *     (anomaly name, value)).
 * dept, svc and anomaly names are indices into the name table.  The
 * reader checks every length, never reads past the end, rejects
 * trailing bytes, duplicate keys, unknown name indices and any sketch
 * that sketch_deserialize rejects; a rejected blob leaves nothing behind.
 */
#ifndef AIC_WACC_H
#define AIC_WACC_H

#include <stddef.h>
#include <stdint.h>

#include "common/period.h"
#include "aggregate/agg.h"
#include "aggregate/relinput.h"

#define WACC_VERSION	1
#define WACC_NAME_MAX	255

struct wacc;
struct catalog;

struct wacc *wacc_new(int32_t week);
void	 wacc_free(struct wacc *);
int32_t	 wacc_week(const struct wacc *);
int	 wacc_empty(const struct wacc *);

/*
 * Add every cell and blind hour of a's week `week`: dept index i < ndept
 * is dept[i], anything else "unassigned"; svc index i < nsvc is svc[i],
 * anything else is skipped (and counted in *skipped when not NULL).
 * 0 ok, -1 out of memory (w may then hold part).
 */
int	 wacc_add_agg(struct wacc *, const struct agg *a, int32_t week,
	    char *const *dept, size_t ndept, char *const *svc, size_t nsvc,
	    size_t *skipped);
/* Single items, for the above, for migration and for tests. */
int	 wacc_add_cell(struct wacc *, int64_t hour, int32_t day,
	    const char *dept, const char *svc, const uint64_t c[C_N],
	    const struct sketch *dev);
int	 wacc_add_blind(struct wacc *, int64_t hour, int32_t day,
	    const uint64_t b[BL_N], const uint64_t anom[ANOM_N]);

/* dst += src (same week); src is untouched.  0 ok, -1 failed. */
int	 wacc_merge(struct wacc *dst, const struct wacc *src);

/* Serialised size, and the serialisation (bytes written, 0: cap short). */
size_t	 wacc_serialized_size(const struct wacc *);
size_t	 wacc_serialize(const struct wacc *, uint8_t *buf, size_t cap);
/* The same in one pass into a malloc'd buffer (NULL: out of memory). */
uint8_t	*wacc_serialize_alloc(const struct wacc *, size_t *len);
/*
 * The same in steps (a flush's slices): step writes up to `items` more
 * items (leaves, hour cells, blind hours) and returns 1 while there are
 * more, 0 when done, -1 out of memory; take hands over the buffer
 * (malloc'd, *len bytes).  The wacc must not change in between.
 */
struct wacc_ser;
struct wacc_ser *wacc_ser_new(void);
int	 wacc_ser_step(const struct wacc *, struct wacc_ser *, size_t items);
uint8_t	*wacc_ser_take(struct wacc_ser *, size_t *len);
void	 wacc_ser_free(struct wacc_ser *);
/* A new wacc from a blob of the given week; NULL when invalid. */
struct wacc *wacc_deserialize(int32_t week, const uint8_t *p, size_t len);

/*
 * Days with open hour cells or blind hours (not yet released),
 * ascending; returns how many (at most max written).
 */
size_t	 wacc_open_days(const struct wacc *, int32_t *days, size_t max);
int	 wacc_day_released(const struct wacc *, int32_t day);
/*
 * The day was released: its hour cells fold into the week leaves (the
 * hour sketches' estimates added to device_hours, the sketches merged
 * into the week sketch, counters added), its blind hours are dropped
 * and the day is recorded as released.  0 ok, -1 out of memory.
 */
int	 wacc_fold_day(struct wacc *, int32_t day);

/* A release input and what it points to. */
struct wacc_rel {
	struct rel_input in;
	struct rel_leaf	*leaf;
	struct sketch	*sk;		/* one per leaf */
	size_t		 dropped;	/* cells of services no longer known */
};

/*
 * The day's release input: leaves per (dept, svc) of the current
 * configuration (a department no longer configured -> unassigned, a
 * service no longer in the catalog -> dropped and counted), blind
 * figures, coverage (hours with packets) and hours_total (local hours
 * of the day).  complete is set to 1; the caller may change it.
 */
int	 wacc_rel_day(const struct wacc *, int32_t day,
	    const struct rel_dims *, struct wacc_rel *out);
/* The week's: week leaves plus every still-open day folded in. */
int	 wacc_rel_week(const struct wacc *, const struct rel_dims *,
	    struct wacc_rel *out);
void	 wacc_rel_free(struct wacc_rel *);

/* Counts for tests and log lines. */
size_t	 wacc_nhcells(const struct wacc *);
size_t	 wacc_nleaves(const struct wacc *);
size_t	 wacc_nblind(const struct wacc *);

#endif /* AIC_WACC_H */
