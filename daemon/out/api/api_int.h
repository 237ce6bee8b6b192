/*
 * api_int.h - the types the API's modules share (not for the rest of
 * the daemon: that uses api.h).  Types only: no module is reached
 * through this header.
 *
 * The API's modules depend one way: api.c owns the server (listener,
 * limits, the token) and the one route table; the handlers
 * (api_routes.h: api_data.c the JSON endpoints, api_metrics.c the
 * Prometheus one, api_static.c the dashboard's files) read the release
 * database through api_rel.h and answer through api_reply.h, a leaf.
 */
#ifndef AIC_API_INT_H
#define AIC_API_INT_H

#include <sys/queue.h>

#include <stdint.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "out/api/api_cache.h"
#include "common/config.h"
#include "release/released.h"
#include "common/status.h"

struct api {
	struct event_base		*base;
	struct evhttp			*http;
	const struct config		*cfg;	/* the one in force */
	const struct aic_status		*st;
	char				 relpath[CONFIG_PATH_MAX];
	int				 source;	/* api.source at start */
	struct released			*rel;	/* local: read-only; NULL
						   until used */
	uint64_t			 rel_ino;	/* of the file opened */
	struct api_central		*central;	/* central: api_rel.c's */
	struct api_cache		*cache;	/* answers until a release */
	char				 listen[64];	/* bound at start */
	/* open connections (api.c): each with its request deadline */
	LIST_HEAD(, api_conn)		 conns;
	int				 nconns;
	int				 fd_cap;	/* what RLIMIT_NOFILE
							   allows */
	uint64_t			 refused;	/* beyond the cap */
	uint64_t			 timed_out;	/* past the deadline */
};

/* One request, as handlers see it. */
struct api_call {
	struct api		*api;
	struct evhttp_request	*req;
	const char		*path;		/* still percent-encoded */
	struct evkeyvalq	*params;	/* decoded query string */
};

#endif /* AIC_API_INT_H */
