/*
 * api_cache.h - answers kept until the database changes.
 *
 * Released figures change only when a day or week is released, while a
 * dashboard or a scraper asks the same questions again and again.  So
 * the API keeps recent answers by request and release-database version
 * (api_rel_version(): the file and its WAL, size and time) and
 * drops them all when the configuration changes.  Bounded: a fixed
 * number of entries and of bytes, least recently used out first.
 */
#ifndef AIC_API_CACHE_H
#define AIC_API_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct api_cache;

struct api_cache	*api_cache_new(size_t max_entries, size_t max_bytes);
void			 api_cache_free(struct api_cache *);
/* The answer stored for key at this version, or NULL. */
const char		*api_cache_get(struct api_cache *, const char *key,
			    int64_t version, size_t *len);
/* Keep a copy (silently not, when it is too big or memory is short). */
void			 api_cache_put(struct api_cache *, const char *key,
			    int64_t version, const char *body, size_t len);
void			 api_cache_clear(struct api_cache *);

#endif /* AIC_API_CACHE_H */
