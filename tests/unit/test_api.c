/*
 * test_api.c - the API's pieces that need no network: the static file
 * fence (paths, encodings, symlinks) and the answer cache.
 *
 * The web root is built in a fresh directory under /tmp with a symlink
 * to a file outside it, one to a directory outside it, and one inside.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_cache.h"
#include "api_static.h"
#include "t.h"

static char dir[PATH_MAX], root[PATH_MAX + 8];

static void
put(const char *rel, const char *text)
{
	char path[PATH_MAX * 2];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
}

static void
link_to(const char *target, const char *rel)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	T_CHECK(symlink(target, path) == 0);
}

/* path must resolve to root/want */
static void
ok_path(int line, const char *path, const char *want)
{
	char out[PATH_MAX], exp[PATH_MAX * 2];

	snprintf(exp, sizeof(exp), "%s/%s", root, want);
	if (api_static_resolve(root, path, out, sizeof(out)) != 0 ||
	    strcmp(out, exp) != 0) {
		fprintf(stderr, "line %d: %s should be %s\n", line, path, exp);
		T_CHECK(0);
		return;
	}
	T_CHECK(1);
}

static void
refused(int line, const char *path)
{
	char out[PATH_MAX];

	if (api_static_resolve(root, path, out, sizeof(out)) == 0) {
		fprintf(stderr, "line %d: %s was served as %s\n", line, path,
		    out);
		T_CHECK(0);
		return;
	}
	T_CHECK(1);
}
#define OK_PATH(p, w)	ok_path(__LINE__, p, w)
#define REFUSED(p)	refused(__LINE__, p)

static void
test_static_paths(void)
{
	char sub[PATH_MAX + 32];

	snprintf(sub, sizeof(sub), "%s/web", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/web/css", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/web/noindex", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/outside", dir);
	mkdir(sub, 0755);
	put("web/index.html", "<!doctype html>");
	put("web/app.js", "x");
	put("web/css/style.css", "x");
	put("web/css/index.html", "x");
	put("web/a b.svg", "x");
	put("web/notes.md", "x");
	put("web/.secret.html", "x");
	put("outside/secret.html", "x");
	put("outside/index.html", "x");
	put("outside.html", "x");
	link_to("../outside/secret.html", "web/leak.html");
	link_to("../outside", "web/out");
	link_to("app.js", "web/alias.js");
	link_to("/etc/passwd", "web/passwd.txt");

	OK_PATH("/", "index.html");
	OK_PATH("/index.html", "index.html");
	OK_PATH("/app.js", "app.js");
	OK_PATH("/css/style.css", "css/style.css");
	OK_PATH("/css/", "css/index.html");
	OK_PATH("/a%20b.svg", "a b.svg");
	OK_PATH("/%61pp.js", "app.js");
	/* a symlink inside the root resolves to its target, still inside */
	OK_PATH("/alias.js", "app.js");

	REFUSED("");
	REFUSED("index.html");
	REFUSED("/..");
	REFUSED("/../outside.html");
	REFUSED("/../../etc/passwd");
	REFUSED("/css/../index.html");
	REFUSED("/./index.html");
	REFUSED("/%2e%2e/outside.html");
	REFUSED("/%2E%2E/outside.html");
	REFUSED("/%2e%2e%2foutside.html");
	REFUSED("/..%2foutside.html");
	REFUSED("/css%2f..%2f..%2foutside.html");
	REFUSED("/.%2e/outside.html");
	REFUSED("/%252e%252e/outside.html");	/* decoded once only */
	REFUSED("//etc/passwd");
	REFUSED("/css//style.css");
	REFUSED("/..\\outside.html");
	REFUSED("/%5c..%5coutside.html");
	REFUSED("/index.html%00.js");
	REFUSED("/app.js%0a");
	REFUSED("/.secret.html");
	REFUSED("/css/.%2e/.%2e/outside.html");
	REFUSED("/leak.html");		/* symlink to a file outside */
	REFUSED("/out/secret.html");	/* symlink to a directory outside */
	REFUSED("/out/");
	REFUSED("/passwd.txt");
	REFUSED("/noindex/");		/* no listing */
	REFUSED("/noindex");
	REFUSED("/css");		/* a directory is not a file */
	REFUSED("/notes.md");		/* no Content-Type for it */
	REFUSED("/nosuch.html");
	REFUSED("/%zz.html");
	{
		char longp[700];

		memset(longp, 'a', sizeof(longp));
		longp[0] = '/';
		memcpy(longp + sizeof(longp) - 6, ".html", 6);
		REFUSED(longp);
	}
	/* a root that does not exist serves nothing */
	{
		char out[PATH_MAX];

		T_CHECK(api_static_resolve("/nonexistent/web", "/index.html",
		    out, sizeof(out)) != 0);
	}
}

static void
test_static_types(void)
{
	T_EQ_STR(api_static_type("/a/index.html"), "text/html; charset=utf-8");
	T_EQ_STR(api_static_type("app.js"), "text/javascript; charset=utf-8");
	T_EQ_STR(api_static_type("s.css"), "text/css; charset=utf-8");
	T_EQ_STR(api_static_type("f.svg"), "image/svg+xml");
	T_EQ_STR(api_static_type("f.png"), "image/png");
	T_CHECK(api_static_type("f.conf") == NULL);
	T_CHECK(api_static_type("html") == NULL);
	T_CHECK(api_static_type(".html") == NULL);
	T_CHECK(api_static_type("f.HTML") == NULL);
}

static void
test_cache(void)
{
	struct api_cache *c = api_cache_new(3, 100);
	const char *v;
	size_t len = 0;

	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_CHECK(api_cache_get(c, "/a", 1, &len) == NULL);
	api_cache_put(c, "/a", 1, "alpha", 5);
	v = api_cache_get(c, "/a", 1, &len);
	T_CHECK(v != NULL && len == 5 && memcmp(v, "alpha", 5) == 0);
	/* another database version: gone */
	T_CHECK(api_cache_get(c, "/a", 2, &len) == NULL);
	T_CHECK(api_cache_get(c, "/a", 1, &len) == NULL);
	/* least recently used out first */
	api_cache_put(c, "/a", 2, "a", 1);
	api_cache_put(c, "/b", 2, "b", 1);
	api_cache_put(c, "/c", 2, "c", 1);
	T_CHECK(api_cache_get(c, "/a", 2, &len) != NULL);
	api_cache_put(c, "/d", 2, "d", 1);
	T_CHECK(api_cache_get(c, "/b", 2, &len) == NULL);
	T_CHECK(api_cache_get(c, "/a", 2, &len) != NULL);
	T_CHECK(api_cache_get(c, "/d", 2, &len) != NULL);
	/* replacing keeps one entry per key */
	api_cache_put(c, "/d", 2, "dd", 2);
	v = api_cache_get(c, "/d", 2, &len);
	T_CHECK(v != NULL && len == 2 && memcmp(v, "dd", 2) == 0);
	/* bytes bound: too big is not kept; others make room */
	api_cache_put(c, "/big", 2, "0123456789012345678901234567890", 30);
	T_CHECK(api_cache_get(c, "/big", 2, &len) == NULL);
	{
		char buf[24];

		memset(buf, 'x', sizeof(buf));
		api_cache_put(c, "/x1", 2, buf, sizeof(buf));
		api_cache_put(c, "/x2", 2, buf, sizeof(buf));
		api_cache_put(c, "/x3", 2, buf, sizeof(buf));
		T_CHECK(api_cache_get(c, "/x3", 2, &len) != NULL &&
		    len == sizeof(buf));
	}
	api_cache_clear(c);
	T_CHECK(api_cache_get(c, "/x3", 2, &len) == NULL);
	api_cache_put(c, "/e", 3, "", 0);
	T_CHECK(api_cache_get(c, "/e", 3, &len) != NULL && len == 0);
	api_cache_free(c);
	api_cache_free(NULL);
	T_CHECK(api_cache_get(NULL, "/a", 1, &len) == NULL);
}

int
main(void)
{
	char tmpl[] = "/tmp/aicensus_test_api_XXXXXX";

	if (mkdtemp(tmpl) == NULL || realpath(tmpl, dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(root, sizeof(root), "%s/web", dir);
	T_RUN(test_static_paths);
	T_RUN(test_static_types);
	T_RUN(test_cache);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return T_DONE();
}
