/*
 * api_static.c - serve the dashboard's files from the web root.
 *
 * Two independent fences: the decoded path is checked segment by
 * segment before it touches the file system, and the realpath() of the
 * result must still lie under the realpath() of the root.  Either one
 * alone would stop "../"; together they also stop symlinks out of the
 * root and encodings the first check did not foresee.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "out/api/api_int.h"
#include "out/api/api_reply.h"
#include "out/api/api_routes.h"
#include "out/api/api_static.h"

#define STATIC_PATH_MAX		512
#define STATIC_FILE_MAX		(8 << 20)

static const struct {
	const char	*ext;
	const char	*type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".json", "application/json; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".woff2", "font/woff2" },
};

const char *
api_static_type(const char *path)
{
	size_t n = strlen(path), i, e;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		e = strlen(types[i].ext);
		if (n > e && strcmp(path + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

/* Every segment is a plain name: no "", ".", "..", ".x", no '\\'. */
static int
plain_segments(const char *p)
{
	const char *seg = p;

	if (*p != '/')
		return 0;
	for (;;) {
		seg++;
		if (*seg == '\0')
			return 1;	/* "dir/": its index */
		if (*seg == '/' || *seg == '.')
			return 0;
		while (*seg != '\0' && *seg != '/') {
			if (*seg == '\\' || (unsigned char)*seg < 0x20 ||
			    *seg == 0x7f)
				return 0;
			seg++;
		}
		if (*seg == '\0')
			return 1;
	}
}

int
api_static_resolve(const char *root, const char *raw_path, char *out,
    size_t outlen)
{
	char rroot[PATH_MAX], joined[PATH_MAX + STATIC_PATH_MAX + 16];
	char resolved[PATH_MAX];
	char *dec;
	size_t dlen = 0, rlen;
	int ok;

	if (raw_path == NULL || raw_path[0] != '/' ||
	    strlen(raw_path) > STATIC_PATH_MAX)
		return -1;
	if ((dec = evhttp_uridecode(raw_path, 0, &dlen)) == NULL)
		return -1;
	ok = dlen == strlen(dec) && plain_segments(dec);
	if (ok)
		snprintf(joined, sizeof(joined), "%s%s%s", root, dec,
		    dec[dlen - 1] == '/' ? "index.html" : "");
	free(dec);
	if (!ok || realpath(root, rroot) == NULL ||
	    realpath(joined, resolved) == NULL)
		return -1;
	rlen = strlen(rroot);
	if (strncmp(resolved, rroot, rlen) != 0 || resolved[rlen] != '/' ||
	    api_static_type(resolved) == NULL || strlen(resolved) >= outlen)
		return -1;
	memcpy(out, resolved, strlen(resolved) + 1);
	return 0;
}

static void
add_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	/* the page's own script and style only: no CDN, no inline code */
	evhttp_add_header(h, "Content-Security-Policy",
	    "default-src 'none'; script-src 'self'; style-src 'self'; "
	    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
	    "form-action 'none'; frame-ancestors 'none'");
}

/* The whole file into body; 0, or -1. */
static int
read_all(int fd, size_t size, struct evbuffer *body)
{
	char buf[16384];
	size_t got = 0;
	ssize_t n;

	while (got < size) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || evbuffer_add(body, buf, (size_t)n) != 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

void
api_static_serve(struct evhttp_request *req, const char *root,
    const char *raw_path)
{
	char path[PATH_MAX];
	struct evbuffer *body = NULL;
	struct stat sb;
	int fd, rc = -1;

	if (api_static_resolve(root, raw_path, path, sizeof(path)) != 0) {
		api_reply_error(req, HTTP_NOTFOUND, "no such page");
		return;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > STATIC_FILE_MAX) {
		if (fd >= 0)
			close(fd);
		api_reply_error(req, HTTP_NOTFOUND, "no such page");
		return;
	}
	if ((body = evbuffer_new()) != NULL)
		rc = read_all(fd, (size_t)sb.st_size, body);
	close(fd);
	if (rc != 0) {
		if (body != NULL)
			evbuffer_free(body);
		api_reply_error(req, HTTP_INTERNAL, "cannot read the page");
		return;
	}
	add_headers(req, api_static_type(path));
	api_send(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

/* The route of every path outside /api/ and /metrics (api.c). */
void
api_files(struct api_call *c)
{
	api_static_serve(c->req, c->api->cfg->api.web_dir, c->path);
}
