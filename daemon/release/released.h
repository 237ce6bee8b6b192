/*
 * released.h - reading released figures: the only door through which
 * numbers reach an output (the CLI, the API, /metrics, the dashboard,
 * reports, exporter plugins).
 *
 * The release database holds nothing but cells that the release stage
 * (release.h) published once, at the close of their period, with their
 * protection already applied; a cell is never revised.  Everything here
 * reads that database read-only.  There is no way from here to the raw
 * working database (the vault) or to a raw aggregate.
 *
 * The grid is fixed by configuration: for a released period every
 * department (plus "unassigned" and "*") crosses every service, category
 * and "*" that the level publishes (see PUBLISHED LEVELS), zeros
 * included.  released_cells() returns that whole grid, so which rows
 * exist never depends on the data.  A cell that the protection turned
 * into zero is a zero like any other: there is no "suppressed" flag.
 *
 * PUBLISHED LEVELS
 *   week: dept in {departments, unassigned, *} x svc in {services,
 *         cat:<category>, *}: every measure.
 *   day:  dept in {departments, unassigned, *} x svc in {cat:<category>, *}
 *         and dept * x svc in {services}: devices, devhours, conns, dns,
 *         nxdomain (REL_DAY_MEASURES).
 *   day blind spots: released_blind().
 */
#ifndef AIC_RELEASED_H
#define AIC_RELEASED_H

#include <stddef.h>
#include <stdint.h>

#include "common/cells.h"

struct released;

/*
 * Opens a release database read-only.  NULL with err when it is absent,
 * not a release database (the raw working database is named as such:
 * "... is the raw working database; read the release database ..."), or
 * of a newer version.
 */
struct released *released_open(const char *path, char *err, size_t errlen);
/* The same over a store opened for reading by any backend
 * (store/relstore.h); released_close() closes it, as does a failure. */
struct relstore;
struct released *released_of(struct relstore *, char *err, size_t errlen);
void	 released_close(struct released *);

/*
 * Released periods of a kind whose period lies in [from, to] (YYYYMMDD
 * or YYYYWW; 0 for an open end), ascending.  *out is malloc'd (free()).
 * 0 ok, -1 error (err).
 */
int	 released_periods(struct released *, enum rel_kind, int32_t from,
	    int32_t to, struct rel_period **out, size_t *n, char *err,
	    size_t errlen);
/* One released period; 0 found, 1 not released, -1 error. */
int	 released_period(struct released *, enum rel_kind, int32_t period,
	    struct rel_period *out);

/*
 * Every cell of one released period's grid (zeros included), in grid
 * order: departments in configuration order, then "unassigned", then
 * "*"; within each, services in catalog order, then categories, then
 * "*".  *out malloc'd.  0 ok, 1 period not released, -1 error.
 */
int	 released_cells(struct released *, enum rel_kind, int32_t period,
	    struct rel_cell **out, size_t *n, char *err, size_t errlen);
/* One cell (a zero when the grid has it but nothing was published);
 * 0 ok, 1 the period is not released or the grid has no such cell. */
int	 released_cell(struct released *, enum rel_kind, int32_t period,
	    const char *dept, const char *svc, struct rel_cell *out);

/* The grid's axes of a period: names malloc'd as one block (free(*names)). */
int	 released_depts(struct released *, enum rel_kind, int32_t period,
	    char ***names, size_t *n);
int	 released_svcs(struct released *, enum rel_kind, int32_t period,
	    char ***names, size_t *n);	/* catalog ids, then "cat:..." */

/* Catalog facts of every service ever in a grid, by sid order. */
int	 released_services(struct released *, struct rel_service **out,
	    size_t *n);

/* Blind-spot figures of a released day; 0 ok, 1 not released. */
int	 released_blind(struct released *, int32_t day, uint64_t v[RB_N]);

/* The database's meta "timezone" ("" when none). */
const char *released_timezone(struct released *);

/*
 * A shipping sensor's release database (release.h, reldb_set_central):
 * its periods and blind figures are here, its cells only in the
 * organisation's central release.  1 with the site's name in site (may
 * be NULL), 0 the file's figures are its own, -1 error.  Outputs then
 * show released_central_message() instead of a grid of zeros.
 */
int	 released_central_site(struct released *, char *site, size_t len);
/* The outputs' words for it, into buf: "this sensor's figures are
 * published in the organisation's central release (site NAME): ..." */
void	 released_central_message(const char *site, char *buf, size_t len);

#endif /* AIC_RELEASED_H */
