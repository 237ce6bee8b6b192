/*
 * catalog.h - the list of generative-AI services and the name matcher.
 *
 * The catalog is loaded once from a libconfig file (config/catalog.conf
 * documents the format and the inclusion rules).  Loading validates
 * everything an operator can get wrong and refuses the whole file on the
 * first problem, naming file, line and the fix; a half-loaded catalog
 * would silently undercount.
 *
 * Matching a DNS name or SNI against the catalog:
 *  - ASCII case-insensitive; one trailing dot is ignored;
 *  - a `domains` entry D matches N == D and any N ending in "." D
 *    (label boundary: chatgpt.com matches ab.chatgpt.com, never
 *    notchatgpt.com nor chatgpt.com.evil.example);
 *  - a `hosts` entry H matches only N == H;
 *  - when several entries match, the longest one wins;
 *  - names that are empty, longer than 255 bytes (after the trailing dot
 *    is dropped) or have an empty label never match.
 * The cost of catalog_match() is one hash probe per label of the name,
 * whatever the size of the catalog, and it never allocates; it only
 * reads the catalog, so any number of threads may match concurrently.
 */
#ifndef AIC_CATALOG_H
#define AIC_CATALOG_H

#include <stddef.h>

#include "common/cfgerr.h"

#define CATALOG_NAME_MAX	255

struct catalog;

struct service {
	char	id[48];		/* [a-z0-9-], unique: the key stored in SQLite */
	char	name[96];
	char	vendor[96];
	char	category[16];	/* chat api code image audio video writing
				   search agent other */
	char	jurisdiction[8];/* two upper-case letters, or "other" */
};

/* NULL on any error, with err (if not NULL) filled in. */
struct catalog		*catalog_load(const char *path, struct cfgerr *err);
void			 catalog_free(struct catalog *);

size_t			 catalog_count(const struct catalog *);
/* NULL when idx >= catalog_count(). */
const struct service	*catalog_service(const struct catalog *, size_t idx);
/* Index of the service with this id, or -1.  Linear: not for hot paths. */
int			 catalog_find_id(const struct catalog *, const char *id);
/* Index of the service name[0..len) belongs to, or -1. */
int			 catalog_match(const struct catalog *, const char *name,
			    size_t len);

/*
 * n services "svc-0" .. "svc-<n-1>", service i owning the domain
 * "svc<i>.example": lets a benchmark show that matching cost does not
 * grow with catalog size.  NULL on allocation failure.
 */
struct catalog		*catalog_synthetic(size_t n);

/*
 * Check every sanctioned id of the configuration against the catalog: 0
 * when all exist, else -1 with err pointing at the list element and
 * suggesting a close id.
 */
struct config;
int	catalog_check_sanctioned(const struct catalog *,
	    const struct config *, struct cfgerr *);

#endif /* AIC_CATALOG_H */
