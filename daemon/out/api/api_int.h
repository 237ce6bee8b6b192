/*
 * api_int.h - what the API's modules share (not for the rest of the
 * daemon: that uses api.h).
 *
 * api.c owns the server (listener, limits, routing, the token) and the
 * reply helpers; api_data.c answers the JSON endpoints, api_metrics.c
 * the Prometheus one, api_static.c the dashboard's files.  A handler is
 * called only for an authorised GET or HEAD whose query string parsed
 * and is within bounds; it answers exactly once.
 */
#ifndef AIC_API_INT_H
#define AIC_API_INT_H

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
	struct released			*rel;	/* read-only; NULL until used */
	uint64_t			 rel_ino;	/* of the file opened */
	struct api_cache		*cache;	/* answers until a release */
	char				 listen[64];	/* bound at start */
};

/* One request, as handlers see it. */
struct api_call {
	struct api		*api;
	struct evhttp_request	*req;
	struct evkeyvalq	*params;	/* decoded query string */
};

/* Send root (reference stolen) as the JSON answer. */
void	api_reply_json(struct evhttp_request *, int code, json_t *root);
/* {"error": {"status": code, "message": ...}} */
void	api_reply_error(struct evhttp_request *, int code, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
/* Send text with this Content-Type. */
/* evhttp_send_reply, but a HEAD request gets no body (its length only) */
void	api_send(struct evhttp_request *, int code, const char *why,
	    struct evbuffer *body);
void	api_reply_text(struct evhttp_request *, int code, const char *type,
	    const char *text, size_t len);

/*
 * 0 when every parameter is in allowed[] (NULL-terminated) and none is
 * given twice; else a 400 has been sent and -1 is returned.
 */
int	api_params_check(struct api_call *, const char *const *allowed);

/*
 * The release database (released.h), opened read-only on first use and
 * again when the file was replaced; NULL after sending a 503.
 */
struct released *api_rel(struct api_call *);
/* The same without answering: NULL when it cannot be opened. */
struct released *api_rel_get(struct api *);
/*
 * Moves whenever the release database changes (a release commits: the
 * file or its WAL changes size or time); -1 when unknown.  Answers are
 * kept per version: they change at release instants, not at flushes.
 */
int64_t	 api_rel_version(struct api *);

/*
 * Answers that depend only on the request and the database: send the
 * one kept for this request at this version (1), or 0 to compute it and
 * then send it with api_reply_json_keep(), which keeps a copy.
 */
int	api_cache_send(struct api_call *, int64_t version);
void	api_reply_json_keep(struct api_call *, json_t *root, int64_t version);

void	api_usage(struct api_call *);
void	api_periods(struct api_call *);
void	api_blind(struct api_call *);
void	api_services(struct api_call *);
void	api_departments(struct api_call *);
void	api_status(struct api_call *);
void	api_metrics(struct api_call *);

#endif /* AIC_API_INT_H */
