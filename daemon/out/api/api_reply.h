/*
 * api_reply.h - how an answer leaves (api_reply.c): every handler and
 * the router answer through these, exactly once per request.  Answers
 * carry "Cache-Control: no-store" and "nosniff"; a HEAD request gets
 * the GET answer's headers and length, no body; errors are JSON.
 */
#ifndef AIC_API_REPLY_H
#define AIC_API_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct api_call;
struct evbuffer;
struct evhttp_request;

/* Send root (reference stolen) as the JSON answer. */
void	api_reply_json(struct evhttp_request *, int code, json_t *root);
/* {"error": {"status": code, "message": ...}} */
void	api_reply_error(struct evhttp_request *, int code, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
/* evhttp_send_reply, but a HEAD request gets no body (its length only) */
void	api_send(struct evhttp_request *, int code, const char *why,
	    struct evbuffer *body);
/* Send text with this Content-Type. */
void	api_reply_text(struct evhttp_request *, int code, const char *type,
	    const char *text, size_t len);

/*
 * 0 when every parameter is in allowed[] (NULL-terminated) and none is
 * given twice; else a 400 has been sent and -1 is returned.
 */
int	api_params_check(struct api_call *, const char *const *allowed);

/*
 * Answers that depend only on the request and the database: send the
 * one kept for this request at this version (1), or 0 to compute it and
 * then send it with api_reply_json_keep(), which keeps a copy.
 */
int	api_cache_send(struct api_call *, int64_t version);
void	api_reply_json_keep(struct api_call *, json_t *root, int64_t version);

#endif /* AIC_API_REPLY_H */
