/*
 * api_rel.h - the release database (released.h) as the API's handlers
 * read it (api_rel.c).
 */
#ifndef AIC_API_REL_H
#define AIC_API_REL_H

#include <stdint.h>

struct api;
struct api_call;
struct released;

/*
 * Opened read-only on first use and again when the file was replaced;
 * NULL after sending a 503.
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

#endif /* AIC_API_REL_H */
