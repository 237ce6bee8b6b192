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
#include <stdio.h>

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
/*
 * The catalog at path plus the local additions: every "*.conf" file in
 * dir (not starting with '.'), in file-name order, same format.  A
 * missing dir, or dir NULL or "", means no additions.  A local file only
 * adds services: an id or a domains/hosts name that the catalog or an
 * earlier local file already has is an error naming both files.  A
 * longer name under another service's domain is allowed (longest match
 * wins), as within one file.
 */
struct catalog		*catalog_load_all(const char *path, const char *dir,
			    struct cfgerr *err);
void			 catalog_free(struct catalog *);

/*
 * catalog check: load paths[0..n) as catalog_load_all() would, but go on
 * after a problem and call report() once for each (file, line, message
 * with the fix).  Returns the number of problems; *nservices (if not
 * NULL) gets the number of services when there were none.
 */
typedef void catalog_report_fn(const struct cfgerr *, void *arg);
/* A catalog_report_fn printing "file:line: message" to the FILE * arg. */
void			 catalog_report_print(const struct cfgerr *,
			    void *fp);
int			 catalog_check_files(const char *const *paths,
			    size_t n, catalog_report_fn *report, void *arg,
			    size_t *nservices);
/*
 * The local catalog files of dir, sorted, as malloc'd "dir/name" paths;
 * 0 with *n == 0 when dir is missing, -1 with err filled in otherwise.
 */
int			 catalog_dir_files(const char *dir, char ***files,
			    size_t *n, struct cfgerr *err);
void			 catalog_files_free(char **files, size_t n);

/* The file service idx came from (NULL for a synthetic catalog). */
const char		*catalog_service_file(const struct catalog *,
			    size_t idx);
size_t			 catalog_nfiles(const struct catalog *);
/*
 * The domains (exact 0) and hosts (exact 1) of service idx, in no
 * particular order: fills up to max of them, returns how many there are.
 */
size_t			 catalog_names(const struct catalog *, size_t idx,
			    const char **names, int *exact, size_t max);

/*
 * catalog diff: what changed from old to new, for an operator about to
 * install new.  Writes the report to out (tab-separated when tabs is
 * set, aligned otherwise) and one warning per removed id to warn.
 * Returns the number of services added, removed or changed, -1 on
 * allocation failure.
 */
int			 catalog_diff(const struct catalog *old,
			    const struct catalog *new, FILE *out, FILE *warn,
			    int tabs);

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
