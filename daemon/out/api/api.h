/*
 * api.h - the HTTP API and dashboard inside aicensusd (libevent evhttp).
 *
 * What it serves (docs in README.md, "HTTP API"; formats in spec.md):
 *   GET /healthz                 liveness, no token
 *   GET /api/v1/usage            released cells (query.h), whole periods
 *   GET /api/v1/periods          the released weeks and days
 *   GET /api/v1/blind            released blind-spot figures of days
 *   GET /api/v1/services         the grid's services (labels)
 *   GET /api/v1/departments      department names (labels)
 *   GET /api/v1/status           the sensor's health, no figures
 *   GET /api/v1/sites            api.source = central: the sites
 *   GET /metrics                 health, and the last released week/day
 *   GET /...                     the dashboard's static files (web_dir)
 * Everything under /api/ and /metrics needs "Authorization: Bearer T"
 * whose SHA-256 equals the configured token's (compared in constant
 * time); the static files carry no data and load without it, so the
 * page can ask for the token.  Only GET and HEAD; errors are JSON.
 *
 * Privacy: every figure comes from the release database (released.h),
 * cells the release stage published once for a whole closed day or ISO
 * week, already protected; a range names whole released periods and
 * any other epoch is refused (400).  The API never opens the vault.  No
 * answer holds an address.
 *
 * It runs on the daemon's event loop, single-threaded: a request is
 * answered between two batches of packets.  The release database is
 * opened read-only on first use (cfg->release_database); answers are
 * cached until that file changes, i.e. until the next release.  With
 * api.source = central (aicensusd --serve: the organisation's
 * dashboard) the release is the central one in PostgreSQL, read as a
 * reader role; data endpoints take site=NAME (api_rel.h).
 */
#ifndef AIC_API_H
#define AIC_API_H

#include <stddef.h>

struct aic_status;
struct config;
struct event_base;

struct api;

/*
 * Bind cfg->api.listen on base (call it before dropping privileges, a
 * port below 1024 needs root); requests are served once the loop runs.
 * dbpath (the vault) is not read: outputs read cfg->release_database,
 * or the central release (api.source); status is the daemon's own
 * counters and must outlive the api.  NULL with err, also when
 * api.source = central names a role that may not read released
 * figures.
 */
struct api	*api_new(struct event_base *base, const struct config *cfg,
		    const char *dbpath, const struct aic_status *status,
		    char *err, size_t errlen);

/*
 * The configuration now in force (after a reload): token, web_dir,
 * release_database are read from it for every request.  The listener
 * stays; a new listen address takes effect at restart.
 */
void		 api_set_config(struct api *, const struct config *cfg);

void		 api_free(struct api *);

/*
 * Non-zero when api.host (numeric, as config_load() leaves it) is a
 * loopback address; api_new() and `aicensusd -n` warn when it is not.
 */
int		 api_listen_loopback(const struct config *cfg);

#endif /* AIC_API_H */
