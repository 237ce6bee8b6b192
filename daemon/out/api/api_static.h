/*
 * api_static.h - the dashboard's files, and nothing outside them.
 *
 * A request path maps to a file under the web root only when, after
 * percent-decoding once, it has no "..", no "." segment, no hidden
 * (dot) name, no empty segment, no backslash and no NUL; when the file,
 * resolved with realpath() (so every symlink is followed), still lies
 * under the resolved root; and when its extension is one with a known
 * Content-Type.  A directory is never listed: "/" and "dir/" mean their
 * index.html, anything else that is not a regular file is not found.
 */
#ifndef AIC_API_STATIC_H
#define AIC_API_STATIC_H

#include <stddef.h>

struct evhttp_request;

/*
 * The absolute path of the file raw_path (as on the request line, still
 * percent-encoded) names under root, in out.  0, or -1 when there is no
 * such file or the path is refused.
 */
int		 api_static_resolve(const char *root, const char *raw_path,
		    char *out, size_t outlen);

/* Content-Type for a file name; NULL when files like it are not served. */
const char	*api_static_type(const char *path);

/* Answer a GET/HEAD for raw_path from root: the file, or a JSON 404. */
void		 api_static_serve(struct evhttp_request *, const char *root,
		    const char *raw_path);

#endif /* AIC_API_STATIC_H */
