/*
 * api_rel.c - the release database as the API's handlers read it:
 * opened read-only on first use and again when the file was replaced,
 * and a version that moves with every release, so answers can be kept
 * until the next one.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "out/api/api_int.h"
#include "out/api/api_rel.h"
#include "out/api/api_reply.h"
#include "common/log.h"
#include "release/released.h"

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v;
	return h * 0x100000001b3ULL;
}

int64_t
api_rel_version(struct api *a)
{
	char wal[CONFIG_PATH_MAX + 8];
	struct stat sb;
	uint64_t h = 0xcbf29ce484222325ULL;

	if (stat(a->relpath, &sb) != 0)
		return -1;
	h = mix(mix(mix(h, (uint64_t)sb.st_ino), (uint64_t)sb.st_size),
	    (uint64_t)sb.st_mtim.tv_sec * 1000000000ULL +
	    (uint64_t)sb.st_mtim.tv_nsec);
	snprintf(wal, sizeof(wal), "%s-wal", a->relpath);
	if (stat(wal, &sb) == 0)
		h = mix(mix(h, (uint64_t)sb.st_size),
		    (uint64_t)sb.st_mtim.tv_sec * 1000000000ULL +
		    (uint64_t)sb.st_mtim.tv_nsec);
	return (int64_t)(h >> 1);
}

struct released *
api_rel_get(struct api *a)
{
	char err[512];
	struct stat sb;

	if (stat(a->relpath, &sb) != 0) {
		/* nothing released yet, or the file went away */
		released_close(a->rel);
		a->rel = NULL;
		return NULL;
	}
	if (a->rel != NULL && (uint64_t)sb.st_ino == a->rel_ino)
		return a->rel;
	released_close(a->rel);
	if ((a->rel = released_open(a->relpath, err, sizeof(err))) == NULL) {
		log_warnx("api: %s", err);
		return NULL;
	}
	a->rel_ino = (uint64_t)sb.st_ino;
	return a->rel;
}

/*
 * A shipping sensor's file holds no cells (release.h, one publication
 * per figure): 409 saying where they are, rather than zeros.  1 sent.
 */
static int
central_refused(struct api_call *c, struct released *r)
{
	char site[64], msg[512];

	if (released_central_site(r, site, sizeof(site)) != 1)
		return 0;
	released_central_message(site, msg, sizeof(msg));
	api_reply_error(c->req, 409, "%s", msg);
	return 1;
}

struct released *
api_rel(struct api_call *c)
{
	struct released *r = api_rel_get(c->api);

	if (r == NULL)
		api_reply_error(c->req, HTTP_SERVUNAVAIL, "no release database "
		    "yet: nothing has been released");
	else if (central_refused(c, r))
		return NULL;
	return r;
}
