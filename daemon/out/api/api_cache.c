/*
 * api_cache.c - a small LRU of answers, keyed by request and version.
 * A linear scan: a few dozen entries, compared to milliseconds of query.
 */
#include <stdlib.h>
#include <string.h>

#include "out/api/api_cache.h"

struct entry {
	char		*key;
	char		*body;
	size_t		 len;
	int64_t		 version;
	uint64_t	 used;		/* LRU clock */
};

struct api_cache {
	struct entry	*e;
	size_t		 n, bytes, max_bytes;
	uint64_t	 clock;
};

struct api_cache *
api_cache_new(size_t max_entries, size_t max_bytes)
{
	struct api_cache *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->e = calloc(max_entries, sizeof(*c->e))) == NULL) {
		free(c);
		return NULL;
	}
	c->n = max_entries;
	c->max_bytes = max_bytes;
	return c;
}

static void
drop(struct api_cache *c, struct entry *e)
{
	if (e->key == NULL)
		return;
	c->bytes -= e->len;
	free(e->key);
	free(e->body);
	memset(e, 0, sizeof(*e));
}

void
api_cache_clear(struct api_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		drop(c, &c->e[i]);
}

void
api_cache_free(struct api_cache *c)
{
	if (c == NULL)
		return;
	api_cache_clear(c);
	free(c->e);
	free(c);
}

const char *
api_cache_get(struct api_cache *c, const char *key, int64_t version,
    size_t *len)
{
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < c->n; i++) {
		struct entry *e = &c->e[i];

		if (e->key == NULL || strcmp(e->key, key) != 0)
			continue;
		if (e->version != version) {
			drop(c, e);
			return NULL;
		}
		e->used = ++c->clock;
		*len = e->len;
		return e->body;
	}
	return NULL;
}

/* The slot to fill: a free one, else a stale one, else the oldest. */
static struct entry *
victim(struct api_cache *c, int64_t version)
{
	struct entry *old = &c->e[0];
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->e[i].key == NULL || c->e[i].version != version)
			return &c->e[i];
		if (c->e[i].used < old->used)
			old = &c->e[i];
	}
	return old;
}

void
api_cache_put(struct api_cache *c, const char *key, int64_t version,
    const char *body, size_t len)
{
	struct entry *e;
	size_t i;

	if (c == NULL || len > c->max_bytes / 4)
		return;
	for (i = 0; i < c->n; i++)
		if (c->e[i].key != NULL && strcmp(c->e[i].key, key) == 0)
			drop(c, &c->e[i]);
	e = victim(c, version);
	drop(c, e);
	/* make room: the least recently used go first */
	while (c->bytes + len > c->max_bytes) {
		struct entry *o = NULL;

		for (i = 0; i < c->n; i++)
			if (c->e[i].key != NULL && (o == NULL ||
			    c->e[i].used < o->used))
				o = &c->e[i];
		if (o == NULL)
			return;
		drop(c, o);
	}
	if ((e->key = strdup(key)) == NULL ||
	    (e->body = malloc(len ? len : 1)) == NULL) {
		free(e->key);
		e->key = NULL;
		return;
	}
	if (len > 0)	/* an empty answer may come with no buffer at all */
		memcpy(e->body, body, len);
	e->len = len;
	e->version = version;
	e->used = ++c->clock;
	c->bytes += len;
}
