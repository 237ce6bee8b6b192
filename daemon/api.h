/*
 * api.h - the HTTP API and dashboard inside aicensusd (libevent evhttp).
 *
 * What it serves (docs in README.md, "HTTP API"):
 *   GET /healthz                 liveness, no token
 *   GET /api/v1/usage            aggregates, through query_run() only
 *   GET /api/v1/services         the catalog with sanctioned flags
 *   GET /api/v1/departments      department names
 *   GET /api/v1/status           the sensor's health and blind spots
 *   GET /metrics                 Prometheus text exposition
 *   GET /...                     the dashboard's static files (web_dir)
 * Everything under /api/ and /metrics needs "Authorization: Bearer T"
 * whose SHA-256 equals the configured token's (compared in constant
 * time); the static files carry no data and load without it, so the
 * page can ask for the token.  Only GET and HEAD; errors are JSON.
 *
 * Privacy: every per-department or per-service number comes from
 * query_run() with the configured minimum group size, so suppressed
 * cells are reported as {"suppressed": true} without numbers, and the
 * metrics leave such series out.  No answer holds an address.
 *
 * It runs on the daemon's event loop, single-threaded: a request is
 * answered between two batches of packets.  Database reads use a
 * read-only SQLite connection of its own (WAL: they never block the
 * daemon's writes), opened on first use.
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
 * dbpath is the database the daemon writes (its --db wins), status the
 * daemon's own counters; both must outlive the api.  NULL with err.
 */
struct api	*api_new(struct event_base *base, const struct config *cfg,
		    const char *dbpath, const struct aic_status *status,
		    char *err, size_t errlen);

/*
 * The configuration now in force (after a reload): token, minimum
 * group size, web_dir are read from it for every request.  The listener
 * stays; a new listen address takes effect at restart.
 */
void		 api_set_config(struct api *, const struct config *cfg);

void		 api_free(struct api *);

#endif /* AIC_API_H */
