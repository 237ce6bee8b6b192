/*
 * config.c - load and validate the main configuration.
 *
 * The file is read with libconfig, then walked along keys[], the one
 * table of settings (config.h, struct config_key): row by row, group by
 * group.  Every group's keys are checked against its rows first, so a
 * typo is reported as a typo (with the closest valid key) rather than
 * silently falling back to a default.  Each value is then type- and
 * range-checked by its row's type (or the row's own handler, for lists
 * and the departments); the first problem ends loading with file:line
 * and a hint.  config_print() walks the same rows, so a new key is
 * written once, in keys[].  Everything lives in one struct config
 * allocated per load.
 *
 * Two libconfig 1.5 weaknesses are worked around with the source text:
 *  - the line of a scalar list element is the line of the token after
 *    it, so "x"<newline>] reports the line of the bracket; element_line()
 *    searches back for the element's own text;
 *  - integers beyond 32 bits without an L suffix silently wrap, so
 *    int_wrapped() re-reads the literal and compares.
 */
#include "common/config.h"

/* Where `make install` puts plugins; the Makefile defines it. */
#ifndef AIC_PLUGINDIR
#define AIC_PLUGINDIR "/usr/local/lib/aicensus/plugins"
#endif
/* Where `make install` puts the dashboard; the Makefile defines it. */
#ifndef AIC_WEBDIR
#define AIC_WEBDIR "/usr/local/share/aicensus/web"
#endif


#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <pwd.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/log.h"

#define ZONEINFO_DIR	"/usr/share/zoneinfo"
#define ECH_DEFAULT	"cloudflare-ech.com"
#define SRC_FILES_MAX	16
#define SRC_FILE_MAX	(16u << 20)

/* A file libconfig read: its name as libconfig reports it, the path to
 * open, and its text once needed. */
struct srcfile {
	char	*raw;
	char	*path;
	char	*text;
	size_t	 len;
	size_t	*starts;	/* offset of each line, so lookups are O(1) */
	size_t	 n_lines;
	int	 tried;
};

struct config_ctx {
	config_t	 lc;
	struct config	*c;
	struct cfgerr	*err;
	struct srcfile	 src[SRC_FILES_MAX];
	size_t		 n_src;
};

/* ---- errors ---- */

static struct srcfile *src_entry(struct config_ctx *, const char *);

/* The file a setting was written in, openable whatever the cwd. */
static const char *
setting_file(struct config_ctx *x, const config_setting_t *s)
{
	const char *f = s != NULL ? config_setting_source_file(s) : NULL;
	struct srcfile *sf;

	if (f == NULL)
		return x->c->path;
	if (f[0] == '/')
		return f;
	sf = src_entry(x, f);
	return sf != NULL ? sf->path : f;
}

static int
failv(struct config_ctx *x, const char *file, int line, const char *fmt,
    va_list ap)
{
	char msg[sizeof(x->err->msg)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	cfgerr_set(x->err, file, line, "%s", msg);
	return -1;
}

/* Report at file:line; always returns -1. */
static int fail_at(struct config_ctx *, const char *, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));
static int
fail_at(struct config_ctx *x, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	failv(x, file, line, fmt, ap);
	va_end(ap);
	return -1;
}

/* Report at the setting's own line; always returns -1. */
static int fail(struct config_ctx *, const config_setting_t *, const char *,
    ...)
    __attribute__((format(printf, 3, 4)));
static int
fail(struct config_ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	failv(x, setting_file(x, s), s != NULL ?
	    (int)config_setting_source_line(s) : 0, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *
type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:	return "a group { }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:	return "an integer";
	case CONFIG_TYPE_FLOAT:	return "a decimal number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL:	return "true/false";
	case CONFIG_TYPE_ARRAY:	return "an array [ ]";
	case CONFIG_TYPE_LIST:	return "a list ( )";
	default:		return "empty";
	}
}

/* ---- the source text, for what libconfig does not tell ---- */

/*
 * libconfig names an @included file as written in the directive, which
 * is relative to the include directory (the configuration's directory).
 */
static struct srcfile *
src_entry(struct config_ctx *x, const char *raw)
{
	struct srcfile *sf;
	size_t i, n;

	for (i = 0; i < x->n_src; i++)
		if (strcmp(x->src[i].raw, raw) == 0)
			return &x->src[i];
	if (x->n_src == SRC_FILES_MAX)
		return NULL;
	sf = &x->src[x->n_src];
	n = strlen(x->c->dir) + strlen(raw) + 2;
	if ((sf->raw = strdup(raw)) == NULL ||
	    (sf->path = malloc(n)) == NULL) {
		free(sf->raw);
		sf->raw = NULL;
		return NULL;
	}
	if (raw[0] == '/')
		snprintf(sf->path, n, "%s", raw);
	else
		snprintf(sf->path, n, "%s/%s", x->c->dir, raw);
	x->n_src++;
	return sf;
}

static int
index_lines(struct srcfile *sf)
{
	size_t i, n = 1;

	for (i = 0; i < sf->len; i++)
		n += sf->text[i] == '\n';
	if ((sf->starts = malloc(n * sizeof(*sf->starts))) == NULL)
		return -1;
	sf->starts[0] = 0;
	sf->n_lines = 1;
	for (i = 0; i < sf->len; i++)
		if (sf->text[i] == '\n')
			sf->starts[sf->n_lines++] = i + 1;
	return 0;
}

/* The text of the file setting s was written in, NULL if unreadable. */
static const struct srcfile *
src_get(struct config_ctx *x, const config_setting_t *s)
{
	const char *f = s != NULL ? config_setting_source_file(s) : NULL;
	struct srcfile *sf = src_entry(x, f != NULL ? f : x->c->path);
	FILE *fp;
	size_t n;
	long sz;

	if (sf == NULL)
		return NULL;
	if (sf->tried)
		return sf->text != NULL ? sf : NULL;
	sf->tried = 1;
	if ((fp = fopen(sf->path, "r")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) != 0 || (sz = ftell(fp)) < 0 ||
	    (size_t)sz > SRC_FILE_MAX || fseek(fp, 0, SEEK_SET) != 0 ||
	    (sf->text = malloc((size_t)sz + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	n = fread(sf->text, 1, (size_t)sz, fp);
	fclose(fp);
	sf->text[n] = '\0';
	sf->len = n;
	return index_lines(sf) == 0 ? sf : NULL;
}

/*
 * Line `line` (1-based) of the setting's file, comments cut off, into
 * buf.  0 on success.
 */
static int
src_line(struct config_ctx *x, const config_setting_t *s, int line, char *buf,
    size_t len)
{
	const struct srcfile *sf = src_get(x, s);
	const char *p, *end;
	size_t n = 0;
	int inq = 0;

	if (sf == NULL || line < 1 || (size_t)line > sf->n_lines)
		return -1;
	p = sf->text + sf->starts[line - 1];
	end = strchr(p, '\n');
	if (end == NULL)
		end = sf->text + sf->len;
	for (; p < end && n + 1 < len; p++) {
		if (*p == '"' && (n == 0 || buf[n - 1] != '\\'))
			inq = !inq;
		if (!inq && (*p == '#' || (*p == '/' && p + 1 < end &&
		    (p[1] == '/' || p[1] == '*'))))
			break;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	return 0;
}

/* needle occurs in hay not glued to a letter, digit or '_' on either side */
static int
has_token(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);
	const char *p;

	for (p = hay; (p = strstr(p, needle)) != NULL; p++) {
		int before = p > hay && (isalnum((unsigned char)p[-1]) ||
		    p[-1] == '_');
		int after = isalnum((unsigned char)p[nl]) || p[nl] == '_';

		if (!before && !after)
			return 1;
	}
	return 0;
}

/* The line element i of list was written on (see the top comment). */
static int
element_line(struct config_ctx *x, const config_setting_t *list, int i)
{
	const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
	int hi = (int)config_setting_source_line(e), lo, l;
	char needle[300], buf[4096];

	lo = i > 0 ? (int)config_setting_source_line(
	    config_setting_get_elem(list, (unsigned)i - 1)) :
	    (int)config_setting_source_line(list);
	if (config_setting_type(e) == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(e);

		if (strpbrk(v, "\"\\") != NULL || strlen(v) > 250)
			return hi;
		snprintf(needle, sizeof(needle), "\"%s\"", v);
	} else if (config_setting_type(e) == CONFIG_TYPE_INT) {
		snprintf(needle, sizeof(needle), "%d",
		    config_setting_get_int(e));
	} else {
		return hi;
	}
	for (l = hi; l >= lo && l > 0; l--)
		if (src_line(x, list, l, buf, sizeof(buf)) == 0 &&
		    has_token(buf, needle))
			return l;
	return hi;
}

/*
 * 1 when the literal written for integer setting s does not equal the
 * value libconfig produced (libconfig 1.5 wraps at 32 bits).  0 when it
 * matches or the literal cannot be found.
 */
static int
int_wrapped(struct config_ctx *x, const config_setting_t *s)
{
	const char *name = config_setting_name(s), *p;
	char buf[4096], *end;
	long long v;

	if (name == NULL || config_setting_type(s) != CONFIG_TYPE_INT ||
	    src_line(x, s, (int)config_setting_source_line(s), buf,
	    sizeof(buf)) != 0 || (p = strstr(buf, name)) == NULL)
		return 0;
	p += strlen(name);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=' && *p != ':')
		return 0;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	errno = 0;
	v = strtoll(p, &end, 0);
	if (end == p)
		return 0;
	return errno == ERANGE || v != config_setting_get_int64(s);
}

/* ---- keys ---- */

static unsigned
edit_distance(const char *a, const char *b)
{
	unsigned row[65], i, j, prev, tmp;
	size_t la = strlen(a), lb = strlen(b);

	if (la > 64 || lb > 64)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned sub = prev + (tolower((unsigned char)a[i - 1])
			    != tolower((unsigned char)b[j - 1]));

			tmp = row[j];
			row[j] = sub;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The closest of names[] to s, or NULL when none is close. */
const char *
config_closest(const char *s, const char *const *names)
{
	size_t len = strlen(s);
	unsigned best = 99, d, limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	const char *pick = NULL;

	for (; *names != NULL; names++)
		if ((d = edit_distance(s, *names)) < best) {
			best = d;
			pick = *names;
		}
	return best <= limit ? pick : NULL;
}

/*
 * The groups keys live in.  A key's row names its section; the
 * department rows are checked here and loaded by load_departments().
 */
struct section {
	const char	*name;		/* as in the file; "" = aicensus */
	const char	*where;		/* for "unknown setting ... in %s" */
	const char	*home;		/* for "it belongs inside %s" */
	const char	*example;	/* for "must be a group" */
	int		(*done)(struct config_ctx *, const config_setting_t *);
};

static const struct section *section_of(const char *);

static int
in_list(const char *s, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcmp(s, *names) == 0)
			return 1;
	return 0;
}

static void
join(char *buf, size_t len, const char *const *names)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *names != NULL && n < len; names++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s",
		    n ? ", " : "", *names);
}

/* more than any group holds (aicensus itself has 24 names) */
#define KEYS_MAX	64

/*
 * The names valid in section sec, in row order, NULL-terminated; in
 * aicensus itself each group's name where its first row is.
 */
static void
section_keys(const char *sec, const char **out)
{
	const struct config_key *k = config_keys(NULL);
	const char *prev = "";
	size_t n = 0;

	for (; k->name != NULL && n + 1 < KEYS_MAX; k++) {
		if (strcmp(k->section, sec) == 0)
			out[n++] = k->name;
		else if (sec[0] == '\0' && strcmp(k->section, prev) != 0 &&
		    strcmp(k->section, "department") != 0)
			out[n++] = k->section;
		prev = k->section;
	}
	out[n] = NULL;
}

/* Where a key that is unknown in `where` does belong, if anywhere. */
static const char *
home_of(const char *key)
{
	const struct config_key *k;

	for (k = config_keys(NULL); k->name != NULL; k++)
		if (strcmp(k->name, key) == 0)
			return section_of(k->section)->home;
	if (section_of(key) != NULL && section_of(key)->example != NULL)
		return section_of("")->home;
	return NULL;
}

static int
check_keys(struct config_ctx *x, const config_setting_t *g, const char *sec)
{
	const config_setting_t *k;
	const char *name, *near, *home, *allowed[KEYS_MAX];
	const char *where = section_of(sec)->where;
	char all[400];
	int i;

	section_keys(sec, allowed);
	for (i = 0; (k = config_setting_get_elem(g, (unsigned)i)) != NULL;
	    i++) {
		name = config_setting_name(k);
		if (name == NULL || in_list(name, allowed))
			continue;
		if ((near = config_closest(name, allowed)) != NULL)
			return fail(x, k, "unknown setting '%s' in %s — did "
			    "you mean '%s'?", name, where, near);
		if ((home = home_of(name)) != NULL)
			return fail(x, k, "setting '%s' is not valid in %s — "
			    "it belongs inside %s", name, where, home);
		join(all, sizeof(all), allowed);
		return fail(x, k, "unknown setting '%s' in %s — valid "
		    "settings there are: %s", name, where, all);
	}
	return 0;
}

/* ---- typed getters: absent -> default, wrong -> error ---- */

/* libconfig 1.5 crashes on a NULL group; an absent group has no keys. */
static const config_setting_t *
member(const config_setting_t *g, const char *name)
{
	return g != NULL ? config_setting_get_member(g, name) : NULL;
}

static int
get_string(struct config_ctx *x, const config_setting_t *g, const char *name,
    const char *where, char *out, size_t len, const char *dflt)
{
	const config_setting_t *s = member(g, name);
	const char *v;

	if (s == NULL) {
		snprintf(out, len, "%s", dflt);
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(x, s, "%s%s must be a string, not %s — write it "
		    "in double quotes: %s = \"%s\";", where, name,
		    type_name(s), name, dflt);
	v = config_setting_get_string(s);
	if (strlen(v) >= len)
		return fail(x, s, "%s%s is too long (%zu characters) — at "
		    "most %zu are allowed", where, name, strlen(v), len - 1);
	snprintf(out, len, "%s", v);
	return 0;
}

static int
get_int(struct config_ctx *x, const config_setting_t *g, const char *name,
    const char *where, int *out, long long lo, long long hi, int dflt,
    const char *unit)
{
	const config_setting_t *s = member(g, name);
	long long v;

	if (s == NULL) {
		*out = dflt;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(x, s, "%s%s must be a whole number (%s), not %s "
		    "— e.g. %s = %d;", where, name, unit, type_name(s), name,
		    dflt);
	v = config_setting_get_int64(s);
	if (int_wrapped(x, s) || v < lo || v > hi)
		return fail(x, s, "%s%s is out of range — use a value from "
		    "%lld to %lld (%s); the default is %d", where, name, lo,
		    hi, unit, dflt);
	*out = (int)v;
	return 0;
}

static int
get_bool(struct config_ctx *x, const config_setting_t *g, const char *name,
    const char *where, bool *out, bool dflt)
{
	const config_setting_t *s = member(g, name);

	if (s == NULL) {
		*out = dflt;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(x, s, "%s%s must be true or false (no quotes), "
		    "not %s", where, name, type_name(s));
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* Index in choices[] of the string value; dflt when absent. */
static int
get_choice(struct config_ctx *x, const config_setting_t *g, const char *name,
    const char *const *choices, int *out, int dflt)
{
	const config_setting_t *s = member(g, name);
	char v[32], all[200];
	int i;

	if (get_string(x, g, name, "", v, sizeof(v), choices[dflt]) != 0) {
		if (s != NULL && config_setting_type(s) == CONFIG_TYPE_STRING) {
			join(all, sizeof(all), choices);
			return fail(x, s, "%s must be one of %s", name, all);
		}
		return -1;
	}
	for (i = 0; choices[i] != NULL; i++)
		if (strcmp(v, choices[i]) == 0) {
			*out = i;
			return 0;
		}
	join(all, sizeof(all), choices);
	return fail(x, s, "%s = \"%s\" is not valid — use one of: %s", name,
	    v, all);
}

static int
count_choices(const struct config_key *k)
{
	int n = 0;

	while (k->choices[n] != NULL)
		n++;
	return n;
}

/* The index of a choice row's default in its choices. */
static int
choice_dflt(const struct config_key *k)
{
	int i;

	for (i = 0; k->choices[i] != NULL; i++)
		if (strcmp(k->choices[i], k->dflt) == 0)
			return i;
	return 0;
}

/* The array or list called name, NULL (and 0) when absent. */
static int
get_seq(struct config_ctx *x, const config_setting_t *g, const char *name,
    const char *where, const char *example, const config_setting_t **out)
{
	const config_setting_t *s = member(g, name);

	*out = NULL;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return fail(x, s, "%s%s must be a list in square brackets, "
		    "not %s — e.g. %s = [ %s ];", where, name, type_name(s),
		    name, example);
	*out = s;
	return 0;
}

/* Element i of seq must be a string; its value in *v. */
static int
elem_string(struct config_ctx *x, const config_setting_t *seq, int i,
    const char *what, const char **v)
{
	const config_setting_t *e = config_setting_get_elem(seq, (unsigned)i);

	if (config_setting_type(e) != CONFIG_TYPE_STRING)
		return fail_at(x, setting_file(x, e), element_line(x, seq, i),
		    "element %d of %s must be a string in double quotes, not "
		    "%s", i + 1, what, type_name(e));
	*v = config_setting_get_string(e);
	return 0;
}

/* ---- value checks ---- */

static int
resolve_path_in(struct config_ctx *x, const config_setting_t *g,
    const char *where, const char *name, char *out, const char *dflt)
{
	char v[CONFIG_PATH_MAX];
	const config_setting_t *s;
	int n;

	if (get_string(x, g, name, where, v, sizeof(v), dflt) != 0)
		return -1;
	s = member(g, name);
	if (v[0] == '\0')
		return fail(x, s, "%s%s must not be empty — the default is "
		    "\"%s\"", where, name, dflt);
	if (v[0] == '/')
		n = snprintf(out, CONFIG_PATH_MAX, "%s", v);
	else
		n = snprintf(out, CONFIG_PATH_MAX, "%s/%s", x->c->dir, v);
	if (n < 0 || n >= CONFIG_PATH_MAX)
		return fail(x, s, "%s%s is too long once made absolute against "
		    "%s — use a shorter or absolute path", where, name,
		    x->c->dir);
	return 0;
}

static int
resolve_path(struct config_ctx *x, const config_setting_t *g, const char *name,
    char *out, const char *dflt)
{
	return resolve_path_in(x, g, "", name, out, dflt);
}

static int
valid_hostname(const char *s)
{
	size_t len = strlen(s), label = 0, i;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum(ch) && ch != '-')
			return 0;
		if (label == 0 && ch == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

static int
valid_service_id(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 47)
		return 0;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

static int
valid_dept_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > CONFIG_DEPT_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr(" _.-", s[i]) ==
		    NULL)
			return 0;
	return 1;
}

static int
valid_user(const char *s)
{
	size_t i;

	if (s[0] == '\0')
		return 1;
	if (!islower((unsigned char)s[0]) && s[0] != '_')
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && !(s[i] == '$' && s[i + 1] == '\0'))
			return 0;
	return 1;
}

static int
check_timezone(struct config_ctx *x, const config_setting_t *g,
    const struct config_key *k)
{
	const config_setting_t *s = member(g, k->name);
	const char *tz = x->c->timezone;
	char path[sizeof(ZONEINFO_DIR) + sizeof(x->c->timezone) + 1];
	struct stat st;
	size_t i;
	int ok = 1;

	if (tz[0] == '\0' || strcmp(tz, "UTC") == 0)
		return 0;
	for (i = 0; tz[i] != '\0'; i++)
		if (!isalnum((unsigned char)tz[i]) && strchr("_+-/", tz[i]) ==
		    NULL)
			ok = 0;
	if (tz[0] == '/' || strstr(tz, "..") != NULL)
		ok = 0;
	snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, tz);
	if (!ok || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return fail(x, s, "timezone \"%s\" is not a zone in %s — use "
		    "a name like \"Europe/Amsterdam\" (timedatectl "
		    "list-timezones), \"UTC\", or \"\" for the system zone",
		    tz, ZONEINFO_DIR);
	return 0;
}

static int
check_interface(struct config_ctx *x, const config_setting_t *g,
    const struct config_key *k)
{
	const config_setting_t *s = member(g, k->name);
	const char *v = x->c->interface;
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (v[i] == '/' || isspace((unsigned char)v[i]) ||
		    !isprint((unsigned char)v[i]))
			return fail(x, s, "interface \"%s\" is not an "
			    "interface name — use the name `ip link` shows, "
			    "e.g. \"eth1\"", v);
	if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		return fail(x, s, "interface \"%s\" is not an interface name "
		    "— use the name `ip link` shows, e.g. \"eth1\"", v);
	return 0;
}

/* The filter is kept in an allocation of its own. */
static int
load_filter(struct config_ctx *x, const config_setting_t *g,
    const struct config_key *k)
{
	char filter[4096];

	if (get_string(x, g, k->name, "capture.", filter, sizeof(filter),
	    k->dflt) != 0)
		return -1;
	if ((x->c->capture.filter = strdup(filter)) == NULL)
		return fail(x, g, "out of memory");
	return 0;
}

/* Does the capture filter compile?  Catches typos before start-up. */
static int
check_filter(struct config_ctx *x, const config_setting_t *cap)
{
	struct bpf_program prog;
	pcap_t *p;
	int rc;

	if (x->c->capture.filter[0] == '\0')
		return 0;
	if ((p = pcap_open_dead(DLT_EN10MB, x->c->capture.snaplen)) == NULL)
		return fail(x, member(cap, "filter"),
		    "capture.filter cannot be checked: out of memory");
	rc = pcap_compile(p, &prog, x->c->capture.filter, 1,
	    PCAP_NETMASK_UNKNOWN);
	if (rc != 0) {
		fail(x, member(cap, "filter"),
		    "capture.filter does not compile: %s — fix it (see "
		    "pcap-filter(7)) or use \"\" for the built-in filter",
		    pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_freecode(&prog);
	pcap_close(p);
	return 0;
}

/* ---- api and report ---- */

/*
 * "127.0.0.1:8080" or "[::1]:8080": a numeric address (no name to
 * resolve, so the listener never depends on DNS) and a port 1..65535.
 */
static int
parse_listen(const char *v, char *host, size_t hostlen, int *port)
{
	const char *colon, *end;
	unsigned char bin[16];
	char addr[64];
	size_t n;
	long p;
	char *pe;
	int af = AF_INET;

	if (v[0] == '[') {
		if ((end = strchr(v, ']')) == NULL || end[1] != ':')
			return -1;
		v++;
		colon = end + 1;
		af = AF_INET6;
	} else {
		if ((colon = strrchr(v, ':')) == NULL)
			return -1;
		end = colon;
	}
	n = (size_t)(end - v);
	if (n == 0 || n >= sizeof(addr) || n >= hostlen)
		return -1;
	memcpy(addr, v, n);
	addr[n] = '\0';
	if (inet_pton(af, addr, bin) != 1 || !isdigit((unsigned char)colon[1]))
		return -1;
	errno = 0;
	p = strtol(colon + 1, &pe, 10);
	if (*pe != '\0' || errno != 0 || p < 1 || p > 65535)
		return -1;
	memcpy(host, addr, n + 1);
	*port = (int)p;
	return 0;
}

/* Like resolve_path(), but "" stays "" (not set). */
static int
optional_path(struct config_ctx *x, const config_setting_t *g, const char *name,
    const char *where, char *out)
{
	char v[CONFIG_PATH_MAX];
	int n;

	if (get_string(x, g, name, where, v, sizeof(v), "") != 0)
		return -1;
	if (v[0] == '\0' || v[0] == '/')
		n = snprintf(out, CONFIG_PATH_MAX, "%s", v);
	else
		n = snprintf(out, CONFIG_PATH_MAX, "%s/%s", x->c->dir, v);
	if (n < 0 || n >= CONFIG_PATH_MAX)
		return fail(x, member(g, name), "%s%s is too long once made "
		    "absolute against %s — use a shorter or absolute path",
		    where, name, x->c->dir);
	return 0;
}

/* The whole token file, trimmed, into buf; its length, or -1 (reported). */
static long
token_text(struct config_ctx *x, const config_setting_t *s, const char *path,
    char *buf, size_t len)
{
	struct stat st;
	size_t n = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return fail(x, s, "api.token_file %s cannot be read: %s — "
		    "create it with (umask 027; openssl rand -hex 32 > %s) "
		    "and let the daemon's user read it", path,
		    strerror(errno), path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(x, s, "api.token_file %s is not a regular file — "
		    "name the file that holds the token", path);
	}
	if (st.st_mode & S_IROTH) {
		close(fd);
		return fail(x, s, "api.token_file %s is readable by every "
		    "user — chmod o-rwx %s (and chgrp it to the daemon's "
		    "group)", path, path);
	}
	while (n < len && (r = read(fd, buf + n, len - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return fail(x, s, "api.token_file %s: %s", path,
			    strerror(errno));
		}
		n += (size_t)r;
	}
	close(fd);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	return (long)n;
}

/*
 * Read the token and keep only its SHA-256.  A token is one word of
 * printable ASCII (it travels in an HTTP header), long enough not to be
 * guessed.
 */
static int
load_token(struct config_ctx *x, const config_setting_t *s, const char *path,
    unsigned char digest[32])
{
	char buf[CONFIG_TOKEN_MAX + 2];
	const char *why = NULL;
	long n, i, start = 0;
	unsigned dlen = 32;

	if ((n = token_text(x, s, path, buf, sizeof(buf))) < 0)
		return -1;
	while (start < n && isspace((unsigned char)buf[start]))
		start++;
	if (n - start > CONFIG_TOKEN_MAX)
		why = "is too long — at most 1024 characters";
	else if (n - start < CONFIG_TOKEN_MIN)
		why = "holds a token shorter than 16 characters — use a random "
		    "one: openssl rand -hex 32";
	for (i = start; why == NULL && i < n; i++)
		if (buf[i] < 0x21 || buf[i] > 0x7e)
			why = "holds a space or control character — the token "
			    "is one word of printable ASCII";
	if (why == NULL && EVP_Digest(buf + start, (size_t)(n - start),
	    digest, &dlen, EVP_sha256(), NULL) != 1)
		why = "cannot be hashed (OpenSSL failed)";
	OPENSSL_cleanse(buf, sizeof(buf));
	if (why != NULL)
		return fail(x, s, "api.token_file %s %s", path, why);
	return 0;
}

/* No group, no listener: the API is there once it is configured. */
static int
load_api_enabled(struct config_ctx *x, const config_setting_t *g,
    const struct config_key *k)
{
	return get_bool(x, g, k->name, "api.", &x->c->api.enabled, g != NULL);
}

/* After the api group's keys: the listen address, then the token. */
static int
api_done(struct config_ctx *x, const config_setting_t *g)
{
	struct config_api *a = &x->c->api;

	if (parse_listen(a->listen, a->host, sizeof(a->host), &a->port) != 0)
		return fail(x, member(g, "listen"), "api.listen = \"%s\" is not "
		    "an address and port — write \"127.0.0.1:8080\" or "
		    "\"[::1]:8080\" (numeric address, port 1..65535)",
		    a->listen);
	if (!a->enabled)
		return 0;
	if (a->token_file[0] == '\0')
		return fail(x, g, "api.token_file is required when the API is "
		    "enabled — create one with (umask 027; openssl rand -hex 32 "
		    "> /etc/aicensus/api.token) and set token_file = "
		    "\"api.token\"; or set enabled = false;");
	return load_token(x, member(g, "token_file"), a->token_file,
	    a->token_sha256);
}

/* "a@example.org" or "a@example.org, b@example.org"; "" is valid. */
static int
valid_mail_list(const char *s)
{
	static const char local_ok[] = "!#$%&'*+/=?^_`{|}~.-";
	char buf[512], *tok, *save = NULL, *at, *p;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return 0;
	if (buf[0] == '\0')
		return 1;
	if (buf[strlen(buf) - 1] == ',')
		return 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if ((at = strchr(tok, '@')) == NULL || at == tok ||
		    at - tok > 64 || strchr(at + 1, '@') != NULL ||
		    !valid_hostname(at + 1))
			return 0;
		for (p = tok; p < at; p++)
			if (!isalnum((unsigned char)*p) &&
			    strchr(local_ok, *p) == NULL)
				return 0;
	}
	return 1;
}

static int
check_mail_to(struct config_ctx *x, const config_setting_t *g,
    const struct config_key *k)
{
	if (!valid_mail_list(x->c->report.mail_to))
		return fail(x, member(g, k->name), "report.mail_to = \"%s\" "
		    "is not a list of mail addresses — write "
		    "\"cio@example.org\" or \"a@example.org, b@example.org\", "
		    "or \"\" to not mail reports", x->c->report.mail_to);
	return 0;
}

static int
check_alert_mail_to(struct config_ctx *x, const config_setting_t *g,
    const struct config_key *k)
{
	if (!valid_mail_list(x->c->alerts.mail_to))
		return fail(x, member(g, k->name), "alerts.mail_to = \"%s\" "
		    "is not a list of mail addresses — write "
		    "\"security@example.org\" or \"a@example.org, "
		    "b@example.org\", or \"\" to not mail alerts",
		    x->c->alerts.mail_to);
	return 0;
}

/* Mail needs a program to hand it to: checked only when mail_to is set. */
static int
check_sendmail(struct config_ctx *x, const config_setting_t *g,
    const struct config_key *k)
{
	const struct config_alerts *a = &x->c->alerts;

	if (a->mail_to[0] == '\0' || access(a->sendmail, X_OK) == 0)
		return 0;
	return fail(x, member(g, k->name) != NULL ? member(g, k->name) :
	    member(g, "mail_to"), "alerts.sendmail \"%s\" is not a program "
	    "this user can run, and alerts.mail_to is set — install an MTA "
	    "(nullmailer, msmtp-mta, postfix), point sendmail at one, or set "
	    "mail_to = \"\"", a->sendmail);
}

/*
 * The webhook is posted over plain HTTP/1.1 by the daemon itself (no
 * TLS library): http://HOST[:PORT][/PATH], HOST a name, an IPv4
 * address or [IPv6].  An https:// receiver is reached through a local
 * relay (docs/ALERTS.md).
 */
static int
check_webhook(struct config_ctx *x, const config_setting_t *g,
    const struct config_key *k)
{
	const char *u = x->c->alerts.webhook;
	size_t i;

	if (u[0] == '\0')
		return 0;
	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] <= ' ' || (unsigned char)u[i] >= 0x7f)
			goto bad;
	if (strncmp(u, "https://", 8) == 0)
		return fail(x, member(g, k->name), "alerts.webhook = \"%s\": "
		    "https is not spoken by aicensusd — point it at a local "
		    "relay (e.g. \"http://127.0.0.1:8081/hook\" of a reverse "
		    "proxy that forwards over TLS)", u);
	if (strncmp(u, "http://", 7) != 0 || u[7] == '\0' || u[7] == '/' ||
	    u[7] == ':')
		goto bad;
	return 0;
bad:
	return fail(x, member(g, k->name), "alerts.webhook = \"%s\" is not "
	    "an http:// address — write \"http://host:port/path\", or \"\" "
	    "for no webhook", u);
}

static int
prefix_error(struct config_ctx *x, const config_setting_t *seq, int i,
    const char *what, const char *v, int rc, int af, const uint8_t *addr,
    unsigned plen)
{
	const config_setting_t *e = config_setting_get_elem(seq, (unsigned)i);
	const char *file = setting_file(x, e);
	int line = element_line(x, seq, i);
	char buf[DEPT_PREFIX_STRLEN];

	if (rc == DEPT_PREFIX_HOSTBITS)
		return fail_at(x, file, line, "\"%s\" in %s has host bits "
		    "set beyond /%u — did you mean \"%s\"?", v, what, plen,
		    dept_format_prefix(af, addr, plen, buf, sizeof(buf)));
	if (rc == DEPT_PREFIX_LEN)
		return fail_at(x, file, line, "\"%s\" in %s has a bad prefix "
		    "length — after '/' write 0..32 for IPv4 or 0..128 for "
		    "IPv6", v, what);
	return fail_at(x, file, line, "\"%s\" in %s is not an IPv4 or IPv6 "
	    "address or prefix — write e.g. \"10.1.0.0/16\", "
	    "\"2001:db8:1::/48\" or a single address", v, what);
}

/* Parse the prefixes of seq into a fresh array. */
static int
parse_prefixes(struct config_ctx *x, const config_setting_t *seq,
    const char *what, struct config_prefix **out, size_t *n_out)
{
	struct config_prefix *p;
	int i, n = seq != NULL ? config_setting_length(seq) : 0;

	*out = NULL;
	*n_out = 0;
	if (n == 0)
		return 0;
	if ((p = calloc((size_t)n, sizeof(*p))) == NULL)
		return fail(x, seq, "out of memory");
	*out = p;
	for (i = 0; i < n; i++) {
		const char *v;
		int rc;

		if (elem_string(x, seq, i, what, &v) != 0)
			return -1;
		rc = dept_parse_prefix(v, &p[i].af, p[i].addr, &p[i].plen);
		if (rc != DEPT_PREFIX_OK)
			return prefix_error(x, seq, i, what, v, rc, p[i].af,
			    p[i].addr, p[i].plen);
		p[i].line = element_line(x, seq, i);
		(*n_out)++;
	}
	return 0;
}

static int
load_ignore(struct config_ctx *x, const config_setting_t *top,
    const struct config_key *k)
{
	const config_setting_t *seq;
	struct config *c = x->c;
	size_t i;

	if (get_seq(x, top, k->name, "", "\"192.0.2.53\"", &seq) != 0 ||
	    parse_prefixes(x, seq, k->name, &c->ignore_prefixes,
	    &c->n_ignore) != 0)
		return -1;
	for (i = 0; i < c->n_ignore; i++) {
		const struct config_prefix *p = &c->ignore_prefixes[i];

		if (dept_map_add(c->ignore, p->af, p->addr, p->plen, 0) != 0)
			return fail(x, seq, "out of memory");
	}
	return 0;
}

/* A list of strings: each checked by valid(), no duplicates. */
static int
load_strings(struct config_ctx *x, const config_setting_t *top,
    const char *name, const char *example, int (*valid)(const char *),
    const char *rule, const config_setting_t **seq_out, char ***out,
    size_t *n_out)
{
	const config_setting_t *seq;
	char **v;
	int i, j, n;

	if (get_seq(x, top, name, "", example, &seq) != 0)
		return -1;
	*seq_out = seq;
	if (seq == NULL)
		return 0;
	n = config_setting_length(seq);
	if (n == 0)
		return 0;
	if ((v = calloc((size_t)n, sizeof(*v))) == NULL)
		return fail(x, seq, "out of memory");
	*out = v;
	for (i = 0; i < n; i++) {
		const char *s;

		if (elem_string(x, seq, i, name, &s) != 0)
			return -1;
		if (!valid(s))
			return fail_at(x, setting_file(x, seq),
			    element_line(x, seq, i), "\"%s\" in %s is not "
			    "valid — %s", s, name, rule);
		for (j = 0; j < i; j++)
			if (strcasecmp(v[j], s) == 0)
				return fail_at(x, setting_file(x, seq),
				    element_line(x, seq, i), "\"%s\" is "
				    "listed twice in %s — remove one", s,
				    name);
		if ((v[i] = strdup(s)) == NULL)
			return fail(x, seq, "out of memory");
		(*n_out)++;
	}
	return 0;
}

static int
valid_plugin(const char *s)
{
	return s[0] != '\0' && strlen(s) < 256;
}

static int
load_plugins(struct config_ctx *x, const config_setting_t *top,
    const struct config_key *k)
{
	const config_setting_t *seq;

	struct config *c = x->c;
	size_t i;

	if (load_strings(x, top, k->name, "\"example\"", valid_plugin,
	    "write a plugin name", &seq, &c->plugins, &c->n_plugins) != 0)
		return -1;
	/* a plugin that does not load is reported at its own line */
	if (c->n_plugins == 0)
		return 0;
	if ((c->plugin_lines = calloc(c->n_plugins, sizeof(int))) == NULL)
		return fail(x, seq, "out of memory");
	for (i = 0; i < c->n_plugins; i++)
		c->plugin_lines[i] = element_line(x, seq, (int)i);
	return 0;
}

/* Stored in lower case: names are compared that way. */
static int
load_ech(struct config_ctx *x, const config_setting_t *top,
    const struct config_key *k)
{
	struct config *c = x->c;
	const config_setting_t *seq;
	size_t i;

	if (load_strings(x, top, k->name, "\"" ECH_DEFAULT "\"",
	    valid_hostname, "write a host name such as "
	    "\"" ECH_DEFAULT "\"", &seq, &c->ech_public_names,
	    &c->n_ech_public_names) != 0)
		return -1;
	if (seq == NULL) {
		c->ech_public_names = calloc(1, sizeof(char *));
		if (c->ech_public_names == NULL || (c->ech_public_names[0] =
		    strdup(ECH_DEFAULT)) == NULL)
			return fail(x, top, "out of memory");
		c->n_ech_public_names = 1;
	}
	for (i = 0; i < c->n_ech_public_names; i++) {
		char *p;

		for (p = c->ech_public_names[i]; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	return 0;
}

/* With where each id was written: the catalog checks them later. */
static int
load_sanctioned(struct config_ctx *x, const config_setting_t *top,
    const struct config_key *k)
{
	struct config *c = x->c;
	const config_setting_t *seq;
	char **ids = NULL;
	size_t i, n = 0;

	if (load_strings(x, top, k->name, "\"deepl\"", valid_service_id,
	    "service ids are the catalog's lower-case ids such as "
	    "\"openai-chatgpt\"", &seq, &ids, &n) != 0) {
		for (i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
		return -1;
	}
	if (n > 0 && (c->sanctioned = calloc(n, sizeof(*c->sanctioned))) ==
	    NULL) {
		for (i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
		return fail(x, seq, "out of memory");
	}
	for (i = 0; i < n; i++) {
		struct config_item *it = &c->sanctioned[i];

		it->s = ids[i];
		snprintf(it->file, sizeof(it->file), "%s",
		    setting_file(x, seq));
		it->line = element_line(x, seq, (int)i);
	}
	c->n_sanctioned = n;
	free(ids);
	return 0;
}

static int
load_vlans(struct config_ctx *x, const config_setting_t *g, size_t idx)
{
	struct config *c = x->c;
	struct config_dept *d = &c->departments[idx];
	const config_setting_t *seq;
	int i, n;

	if (get_seq(x, g, "vlans", "", "10, 20", &seq) != 0)
		return -1;
	if (seq == NULL || (n = config_setting_length(seq)) == 0)
		return 0;
	if ((d->vlans = calloc((size_t)n, sizeof(int))) == NULL)
		return fail(x, seq, "out of memory");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(seq,
		    (unsigned)i);
		long long v;
		int line = element_line(x, seq, i), other;

		if (config_setting_type(e) != CONFIG_TYPE_INT &&
		    config_setting_type(e) != CONFIG_TYPE_INT64)
			return fail_at(x, setting_file(x, e), line, "vlans of "
			    "department '%s' must be whole numbers, not %s",
			    d->name, type_name(e));
		v = config_setting_get_int64(e);
		if (v < 1 || v > CONFIG_VLAN_MAX)
			return fail_at(x, setting_file(x, e), line, "VLAN %lld "
			    "of department '%s' is out of range — VLAN ids "
			    "are 1..%d", v, d->name, CONFIG_VLAN_MAX);
		other = c->vlan_dept[v];
		if (other >= 0 && (size_t)other != idx)
			return fail_at(x, setting_file(x, e), line, "VLAN %lld "
			    "is given to both department '%s' and department "
			    "'%s' — a VLAN can belong to one department only",
			    v, c->departments[other].name, d->name);
		c->vlan_dept[v] = (short)idx;
		d->vlans[d->n_vlans++] = (int)v;
	}
	return 0;
}

static int
add_dept_prefixes(struct config_ctx *x, const config_setting_t *g, size_t idx)
{
	struct config *c = x->c;
	struct config_dept *d = &c->departments[idx];
	const config_setting_t *seq = member(g, "prefixes");
	char buf[DEPT_PREFIX_STRLEN];
	size_t i, j;

	for (i = 0; i < d->n_prefixes; i++) {
		const struct config_prefix *p = &d->prefixes[i];
		int other = dept_map_exact(c->depts, p->af, p->addr, p->plen);
		int line = 0;

		if (other >= 0 && (size_t)other != idx) {
			const struct config_dept *od = &c->departments[other];

			for (j = 0; j < od->n_prefixes; j++)
				if (od->prefixes[j].af == p->af &&
				    od->prefixes[j].plen == p->plen &&
				    memcmp(od->prefixes[j].addr, p->addr,
				    16) == 0)
					line = od->prefixes[j].line;
			return fail_at(x, setting_file(x, seq), p->line,
			    "prefix %s is listed in department '%s' (line %d) "
			    "and again in department '%s' — an address range "
			    "can belong to one department only; remove one "
			    "(a longer prefix may carve a part out of "
			    "another department)",
			    dept_format_prefix(p->af, p->addr, p->plen, buf,
			    sizeof(buf)), od->name, line, d->name);
		}
		if (dept_map_add(c->depts, p->af, p->addr, p->plen,
		    (int)idx) != 0)
			return fail(x, seq, "out of memory");
	}
	return 0;
}

static int
load_dept_name(struct config_ctx *x, const config_setting_t *g, size_t idx)
{
	struct config *c = x->c;
	const config_setting_t *s = member(g, "name");
	char *name = c->departments[idx].name;
	char tmp[256];
	size_t i;

	if (s == NULL)
		return fail(x, g, "department #%zu has no name — add "
		    "name = \"...\"; (letters, digits, space, _ . -)", idx + 1);
	if (get_string(x, g, "name", "department ", tmp, sizeof(tmp),
	    "Sales") != 0)
		return -1;
	if (!valid_dept_name(tmp))
		return fail(x, s, "department name \"%s\" is not valid — use "
		    "1..%d letters, digits, spaces or _ . -", tmp,
		    CONFIG_DEPT_NAME_MAX);
	if (strcasecmp(tmp, CONFIG_UNASSIGNED) == 0)
		return fail(x, s, "department name \"%s\" is reserved for "
		    "addresses outside every department — choose another "
		    "name", tmp);
	for (i = 0; i < idx; i++)
		if (strcasecmp(c->departments[i].name, tmp) == 0)
			return fail(x, s, "department \"%s\" is defined twice "
			    "(names are compared ignoring case) — merge the "
			    "two or rename one", tmp);
	/* valid_dept_name() bounded the length. */
	memcpy(name, tmp, strlen(tmp) + 1);
	return 0;
}

static int
load_dept(struct config_ctx *x, const config_setting_t *g, size_t idx)
{
	struct config *c = x->c;
	struct config_dept *d = &c->departments[idx];
	const config_setting_t *seq;
	char what[CONFIG_DEPT_NAME_MAX + 32];

	if (check_keys(x, g, "department") != 0 ||
	    load_dept_name(x, g, idx) != 0)
		return -1;
	snprintf(what, sizeof(what), "department '%s'", d->name);
	if (get_seq(x, g, "prefixes", "", "\"10.1.0.0/16\"", &seq) != 0 ||
	    parse_prefixes(x, seq, what, &d->prefixes, &d->n_prefixes) != 0 ||
	    load_vlans(x, g, idx) != 0 ||
	    add_dept_prefixes(x, g, idx) != 0)
		return -1;
	if (d->n_prefixes == 0 && d->n_vlans == 0)
		return fail(x, g, "department '%s' has neither prefixes nor "
		    "vlans, so nothing can ever count for it — add "
		    "prefixes = [ \"...\" ];", d->name);
	if (d->n_prefixes == 0 && !c->vlan_departments)
		return fail(x, g, "department '%s' has only vlans, but "
		    "vlan_departments is false, so they are not used — set "
		    "vlan_departments = true; or add prefixes", d->name);
	return 0;
}

static int
load_departments(struct config_ctx *x, const config_setting_t *top,
    const struct config_key *k)
{
	struct config *c = x->c;
	const config_setting_t *seq = member(top, k->name), *g;
	int i, n;

	if (seq == NULL)
		return 0;
	if (config_setting_type(seq) != CONFIG_TYPE_LIST)
		return fail(x, seq, "departments must be a list in round "
		    "brackets, not %s — write departments = ( { name = "
		    "\"Sales\"; prefixes = [ \"10.1.0.0/16\" ]; } );",
		    type_name(seq));
	n = config_setting_length(seq);
	if (n > CONFIG_MAX_DEPTS)
		return fail(x, seq, "%d departments is more than the %d "
		    "supported — merge some", n, CONFIG_MAX_DEPTS);
	if (n == 0)
		return 0;
	c->departments = calloc((size_t)n, sizeof(*c->departments));
	c->dept_names = calloc((size_t)n, sizeof(*c->dept_names));
	if (c->departments == NULL || c->dept_names == NULL)
		return fail(x, seq, "out of memory");
	for (i = 0; i < n; i++) {
		/* Counted first so config_free() sees partial entries. */
		c->n_depts++;
		c->dept_names[i] = c->departments[i].name;
		g = config_setting_get_elem(seq, (unsigned)i);
		if (!config_setting_is_group(g))
			return fail_at(x, setting_file(x, g),
			    element_line(x, seq, i), "department #%d must be "
			    "a group, not %s — write { name = \"Sales\"; "
			    "prefixes = [ \"10.1.0.0/16\" ]; }", i + 1,
			    type_name(g));
		if (load_dept(x, g, (size_t)i) != 0)
			return -1;
	}
	return 0;
}

/*
 * release_database: by default released.db in the directory of
 * database, so the two move together; never the database itself (the
 * raw vault and the released figures have different readers).
 */
static int
load_release_database(struct config_ctx *x, const config_setting_t *top,
    const struct config_key *k)
{
	struct config *c = x->c;
	const config_setting_t *s = member(top, k->name);
	const char *slash = strrchr(c->database, '/');
	int n;

	if (s != NULL) {
		if (resolve_path(x, top, k->name, c->release_database,
		    k->dflt) != 0)
			return -1;
	} else {
		/* database is absolute: there is always a slash */
		n = snprintf(c->release_database, CONFIG_PATH_MAX,
		    "%.*s/released.db", slash != NULL ?
		    (int)(slash - c->database) : 0, c->database);
		if (n < 0 || n >= CONFIG_PATH_MAX)
			return fail(x, member(top, "database"), "database is "
			    "too long to put released.db beside it — set "
			    "release_database");
	}
	if (strcmp(c->release_database, c->database) == 0)
		return fail(x, s != NULL ? s : member(top, "database"),
		    "release_database and database are the same file %s — "
		    "the released figures need a file of their own, e.g. "
		    "release_database = \"released.db\";", c->database);
	return 0;
}

/* Where state_dir was set, for the checks of `aicensusd -n`. */
static int
note_state_dir(struct config_ctx *x, const config_setting_t *top,
    const struct config_key *k)
{
	const config_setting_t *s = member(top, k->name);
	struct config *c = x->c;

	if (s != NULL) {
		snprintf(c->state_dir_file, sizeof(c->state_dir_file), "%s",
		    setting_file(x, s));
		c->state_dir_line = (int)config_setting_source_line(s);
	}
	return 0;
}

static int
check_user(struct config_ctx *x, const config_setting_t *top,
    const struct config_key *k)
{
	if (!valid_user(x->c->user))
		return fail(x, member(top, k->name),
		    "user \"%s\" is not a valid user name — use an account "
		    "such as \"aicensus\", or \"\" to keep running as root",
		    x->c->user);
	return 0;
}

static const char *const log_dests[] = { "stderr", "syslog", NULL };
/* in the order of enum config_api_source */
static const char *const api_sources[] = { "local", "central", NULL };
static const char *const client_addresses[] = { "inner", "outer", NULL };
static const char *const languages[] = { "en", "nl", NULL };

static int
load_log(struct config_ctx *x, const config_setting_t *top,
    const struct config_key *k)
{
	int v;

	if (get_choice(x, top, k->name, k->choices, &v, choice_dflt(k)) != 0)
		return -1;
	x->c->log_syslog = v == 1;
	return 0;
}

static int
load_language(struct config_ctx *x, const config_setting_t *top,
    const struct config_key *k)
{
	int v;

	if (get_choice(x, top, k->name, k->choices, &v, choice_dflt(k)) != 0)
		return -1;
	snprintf(x->c->language, sizeof(x->c->language), "%s", k->choices[v]);
	return 0;
}

static int
check_group_size(struct config_ctx *x, const config_setting_t *top,
    const struct config_key *k)
{
	(void)top;
	(void)k;
	x->c->min_group_size_unsafe = x->c->min_group_size <
	    CONFIG_SAFE_GROUP_SIZE;
	return 0;
}

/* ---- central ---- */

/* A site name: what the central schema accepts (central_pg.c). */
static int
valid_site(const char *s)
{
	size_t i;

	if (!isalnum((unsigned char)s[0]))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return 0;
	return i <= CONFIG_SITE_MAX;
}

/*
 * The password, from a file only its owner can read, and that owner the
 * daemon's user (root when user is ""): a file another account may write
 * could hand the sensor someone else's credentials, one others may read
 * hands them the site's.  One line; trailing blanks and newline cut.
 */
static int
load_central_password(struct config_ctx *x, const config_setting_t *s,
    const char *path, char *out, size_t outlen)
{
	char buf[CONFIG_CENTRAL_PASS_MAX + 2];
	struct passwd *pw;
	struct stat st;
	uid_t uid = 0;
	size_t n = 0;
	ssize_t r;
	int fd, rc = -1;

	if (x->c->user[0] != '\0') {
		if ((pw = getpwnam(x->c->user)) == NULL)
			return fail(x, s, "central.password_file %s: the daemon's "
			    "user \"%s\" does not exist, so the file's owner "
			    "cannot be checked — create the account first",
			    path, x->c->user);
		uid = pw->pw_uid;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return fail(x, s, "central.password_file %s cannot be read: %s "
		    "— create it with (umask 077; printf %%s PASSWORD > %s) and "
		    "chown it to the daemon's user", path, strerror(errno),
		    path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = fail(x, s, "central.password_file %s is not a regular "
		    "file — name the file that holds the password", path);
		goto done;
	}
	if ((st.st_mode & 07777) != 0600 && (st.st_mode & 07777) != 0400) {
		rc = fail(x, s, "central.password_file %s has mode %04o — "
		    "chmod 600 %s (only its owner may read it)", path,
		    (unsigned)(st.st_mode & 07777), path);
		goto done;
	}
	if (st.st_uid != uid) {
		rc = fail(x, s, "central.password_file %s is owned by uid %u, "
		    "not by the daemon's user (uid %u) — chown it to %s", path,
		    (unsigned)st.st_uid, (unsigned)uid,
		    x->c->user[0] ? x->c->user : "root");
		goto done;
	}
	while (n < sizeof(buf) && (r = read(fd, buf + n, sizeof(buf) - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fail(x, s, "central.password_file %s: %s", path,
			    strerror(errno));
			goto done;
		}
		n += (size_t)r;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	    buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= outlen || memchr(buf, '\n', n) != NULL ||
	    memchr(buf, '\0', n) != NULL) {
		rc = fail(x, s, "central.password_file %s must hold the "
		    "password on one line (1..%zu bytes)", path, outlen - 1);
		goto done;
	}
	memcpy(out, buf, n);
	out[n] = '\0';
	rc = 0;
done:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* After the central group's keys: what a connection needs. */
static int
central_done(struct config_ctx *x, const config_setting_t *g)
{
	struct config_central *c = &x->c->central;

	/* the api group comes first: its source may need this one */
	if (x->c->api.source == CONFIG_API_CENTRAL &&
	    (g == NULL || c->conninfo[0] == '\0'))
		return fail(x, config_lookup(&x->lc, "aicensus.api.source"),
		    "api.source = \"central\" reads the central "
		    "database, but there is no central.conninfo — add central "
		    "= { conninfo = \"host=... dbname=aicensus user=READER\"; "
		    "password_file = \"...\"; }; (a reader role) or set "
		    "api.source = \"local\"");
	/* no group, or no conninfo (as -v prints it): nothing is shipped */
	if (g == NULL || c->conninfo[0] == '\0')
		return 0;
	if (strstr(c->conninfo, "password") != NULL)
		return fail(x, member(g, "conninfo"), "central.conninfo holds "
		    "a password — put it in central.password_file (mode 0600) "
		    "instead: a configuration file is read by more people");
	/*
	 * A configuration that reads the central release (aicensusd
	 * --serve) is a reader's: it ships nothing and needs no site; a
	 * daemon that would ship refuses to start without one.
	 */
	if (!(x->c->api.source == CONFIG_API_CENTRAL && c->site[0] == '\0') &&
	    !valid_site(c->site))
		return fail(x, member(g, "site") != NULL ?
		    member(g, "site") : g, "central.site \"%s\" is not a site "
		    "name — 1..63 letters, digits, '.', '_' or '-', starting "
		    "with a letter or digit", c->site);
	if (c->password_file[0] != '\0')
		return load_central_password(x, member(g, "password_file"),
		    c->password_file, c->password, sizeof(c->password));
	return 0;
}

/* ---- the table ---- */

static const struct section sections[] = {
	{ "", "aicensus", "aicensus = { ... } itself", NULL, NULL },
	{ "capture", "capture", "capture = { ... }",
	    "capture = { snaplen = 65535; };", check_filter },
	{ "limits", "limits", "limits = { ... }",
	    "limits = { max_flows = 262144; };", NULL },
	{ "api", "api", "api = { ... }",
	    "api = { token_file = \"api.token\"; };", api_done },
	{ "report", "report", "report = { ... }",
	    "report = { dir = \"/var/lib/aicensus/reports\"; };", NULL },
	{ "alerts", "alerts", "alerts = { ... }",
	    "alerts = { webhook = \"http://127.0.0.1:8081/hook\"; };", NULL },
	{ "central", "central", "central = { ... }",
	    "central = { conninfo = \"host=db.example.org dbname=aicensus "
	    "user=sensor_north sslmode=verify-full\"; site = \"north\"; };",
	    central_done },
	{ "department", "a department",
	    "a department { ... } in departments = ( ... )", NULL, NULL },
};

static const struct section *
section_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcmp(sections[i].name, name) == 0)
			return &sections[i];
	return NULL;
}

static void print_min_group_size(const struct config *, FILE *,
    const struct config_key *, const char *);
static void print_log(const struct config *, FILE *,
    const struct config_key *, const char *);
static void print_filter(const struct config *, FILE *,
    const struct config_key *, const char *);
static void print_plugins(const struct config *, FILE *,
    const struct config_key *, const char *);
static void print_ignore(const struct config *, FILE *,
    const struct config_key *, const char *);
static void print_sanctioned(const struct config *, FILE *,
    const struct config_key *, const char *);
static void print_ech(const struct config *, FILE *,
    const struct config_key *, const char *);
static void print_depts(const struct config *, FILE *,
    const struct config_key *, const char *);
static void print_name(const struct config *, FILE *,
    const struct config_key *, const char *);

#define AT(f)		offsetof(struct config, f)
#define STR(f)		AT(f), sizeof(((struct config *)0)->f)
#define INT(lo, hi)	CFG_INT, lo, hi

/*
 * Every key, in the order -v prints them (each group's keys together).
 * The defaults are strings as written in the file; an integer's is
 * parsed, a string's copied, a list's kept by its handler.
 */
static const struct config_key keys[] = {
	{ "", "interface", CFG_STRING, 0, 0, "", NULL, false,
	    "interface to capture on (-i wins)", STR(interface), NULL,
	    NULL, check_interface, NULL },
	{ "", "database", CFG_PATH, 0, 0, "/var/lib/aicensus/aicensus.db",
	    NULL, false, "the vault: raw counts of unreleased weeks",
	    STR(database), NULL, NULL, NULL, NULL },
	{ "", "release_database", CFG_PATH, 0, 0,
	    "released.db next to database", NULL, false,
	    "the released figures, the only file outputs read",
	    STR(release_database), NULL, load_release_database, NULL, NULL },
	{ "", "state_dir", CFG_PATH, 0, 0, "/var/lib/aicensus/state", NULL,
	    false, "the week keys", STR(state_dir), NULL, NULL,
	    note_state_dir, NULL },
	{ "", "catalog", CFG_PATH, 0, 0, "/etc/aicensus/catalog.conf", NULL,
	    true, "the service catalog", STR(catalog), NULL, NULL, NULL,
	    NULL },
	{ "", "catalog_dir", CFG_PATH, 0, 0, "/etc/aicensus/catalog.d", NULL,
	    true, "local catalog additions: every *.conf in it",
	    STR(catalog_dir), NULL, NULL, NULL, NULL },
	{ "", "plugin_dir", CFG_PATH, 0, 0, AIC_PLUGINDIR, NULL, false,
	    "where plugins are looked up", STR(plugin_dir), NULL, NULL, NULL,
	    NULL },
	{ "", "plugins", CFG_LIST, 0, 0, "[ ]", NULL, false,
	    "plugins to load, name or name:argument", 0, 0, NULL,
	    load_plugins, NULL, print_plugins },
	{ "", "user", CFG_STRING, 0, 0, "aicensus", NULL, false,
	    "account to switch to after opening the capture", STR(user),
	    NULL, NULL, check_user, NULL },
	{ "", "log", CFG_CHOICE, 0, 0, "stderr", NULL, false,
	    "where log lines go", 0, 0, log_dests, load_log, NULL,
	    print_log },
	{ "", "log_level", CFG_CHOICE, 0, 0, "info", NULL, true,
	    "the least severe level logged", AT(log_level), sizeof(int),
	    log_level_names, NULL, NULL, NULL },
	{ "", "flush_interval", INT(1, 3600), "60", "seconds", false,
	    "how often counts are sealed into the vault",
	    AT(flush_interval), sizeof(int), NULL, NULL, NULL, NULL },
	{ "", "retention_days", INT(1, 3650), "400", "days", true,
	    "how long released figures are kept", AT(retention_days),
	    sizeof(int), NULL, NULL, NULL, NULL },
	{ "", "min_group_size", INT(1, INT_MAX), "5", "people", true,
	    "k of the cell key method applied at release",
	    AT(min_group_size), sizeof(int), NULL, NULL, check_group_size,
	    print_min_group_size },
	{ "", "timezone", CFG_STRING, 0, 0, "", NULL, true,
	    "the zone days and weeks begin in; \"\" = the system's",
	    STR(timezone), NULL, NULL, check_timezone, NULL },
	{ "", "language", CFG_CHOICE, 0, 0, "en", NULL, true,
	    "the language of reports", STR(language), languages,
	    load_language, NULL, print_name },

	{ "capture", "snaplen", INT(256, 262144), "65535", "bytes", false,
	    "bytes kept of each packet", AT(capture.snaplen), sizeof(int),
	    NULL, NULL, NULL, NULL },
	{ "capture", "buffer_mb", INT(1, 2048), "32", "MiB", false,
	    "the kernel's capture buffer", AT(capture.buffer_mb),
	    sizeof(int), NULL, NULL, NULL, NULL },
	{ "capture", "promisc", CFG_BOOL, 0, 0, "false", NULL, false,
	    "promiscuous mode", AT(capture.promisc), sizeof(bool), NULL,
	    NULL, NULL, NULL },
	{ "capture", "filter", CFG_STRING, 0, 0, "", NULL, false,
	    "capture filter; \"\" = the built-in one", 0, 4096, NULL,
	    load_filter, NULL, print_filter },
	{ "capture", "immediate", CFG_BOOL, 0, 0, "false", NULL, false,
	    "deliver every packet at once", AT(capture.immediate),
	    sizeof(bool), NULL, NULL, NULL, NULL },
	{ "capture", "client_address", CFG_CHOICE, 0, 0, "inner", NULL, false,
	    "which IP header of a tunnelled packet names the client: inner "
	    "(the tunnelled packet's) or outer (the outermost)",
	    AT(capture.client_address), sizeof(int), client_addresses, NULL,
	    NULL, NULL },
	{ "capture", "workers", INT(1, 64), "1", "threads", false,
	    "capture threads fed by AF_PACKET fanout (live only)",
	    AT(capture.workers), sizeof(int), NULL, NULL, NULL, NULL },

	{ "limits", "max_flows", INT(1024, 16777216), "131072",
	    "tracked TCP/UDP flows", false, "TCP and UDP flows tracked",
	    AT(limits.max_flows), sizeof(int), NULL, NULL, NULL, NULL },
	{ "limits", "max_quic", INT(256, 4194304), "4096",
	    "QUIC connections being reassembled", false,
	    "QUIC connections whose Initials are decrypted",
	    AT(limits.max_quic), sizeof(int), NULL, NULL, NULL, NULL },
	{ "limits", "dns_cache_entries", INT(256, 4194304), "65536",
	    "entries", false, "DNS answers kept for ECH attribution",
	    AT(limits.dns_cache_entries), sizeof(int), NULL, NULL, NULL,
	    NULL },
	{ "limits", "dns_cache_seconds", INT(10, 86400), "600", "seconds",
	    true, "the longest a DNS answer is used",
	    AT(limits.dns_cache_seconds), sizeof(int), NULL, NULL, NULL,
	    NULL },
	{ "limits", "memory_mb", INT(8, 65536), "64", "MiB", false,
	    "the overall memory budget", AT(limits.memory_mb), sizeof(int),
	    NULL, NULL, NULL, NULL },
	{ "limits", "max_pending_cells", INT(1000, 10000000), "200000",
	    "aggregate cells waiting for the next flush", false,
	    "aggregate cells kept between two flushes",
	    AT(limits.max_pending_cells), sizeof(int), NULL, NULL, NULL,
	    NULL },

	{ "api", "enabled", CFG_BOOL, 0, 0, "true", NULL, true,
	    "serve the API (default true when the group is present)",
	    AT(api.enabled), sizeof(bool), NULL, load_api_enabled, NULL,
	    NULL },
	{ "api", "listen", CFG_STRING, 0, 0, "127.0.0.1:8080", NULL, false,
	    "numeric address and port", STR(api.listen), NULL, NULL, NULL,
	    NULL },
	{ "api", "token_file", CFG_OPTPATH, 0, 0, "", NULL, true,
	    "the bearer token's file, required when enabled",
	    STR(api.token_file), NULL, NULL, NULL, NULL },
	{ "api", "web_dir", CFG_PATH, 0, 0, AIC_WEBDIR, NULL, true,
	    "the dashboard's static files", STR(api.web_dir), NULL, NULL,
	    NULL, NULL },
	{ "api", "max_connections", INT(1, 1024), "64", "connections",
	    true, "open API connections at once; beyond, new ones get 503 "
	    "and are closed", AT(api.max_connections), sizeof(int), NULL,
	    NULL, NULL, NULL },
	{ "api", "source", CFG_CHOICE, 0, 0, "local", NULL, false,
	    "where the API, dashboard and CLI read figures: local "
	    "(release_database) or central (the central group, a reader "
	    "role)", AT(api.source),
	    sizeof(int), api_sources, NULL, NULL, NULL },

	{ "report", "dir", CFG_PATH, 0, 0, "/var/lib/aicensus/reports", NULL,
	    true, "where reports are written", STR(report.dir), NULL, NULL,
	    NULL, NULL },
	{ "report", "mail_to", CFG_STRING, 0, 0, "", NULL, true,
	    "mail reports to these addresses; \"\" = do not",
	    STR(report.mail_to), NULL, NULL, check_mail_to, NULL },

	{ "alerts", "webhook", CFG_STRING, 0, 0, "", NULL, true,
	    "POST each alert as JSON to this http:// address; \"\" = do not",
	    STR(alerts.webhook), NULL, NULL, check_webhook, NULL },
	{ "alerts", "mail_to", CFG_STRING, 0, 0, "", NULL, true,
	    "mail each alert to these addresses; \"\" = do not",
	    STR(alerts.mail_to), NULL, NULL, check_alert_mail_to, NULL },
	{ "alerts", "sendmail", CFG_PATH, 0, 0, "/usr/sbin/sendmail", NULL,
	    true, "the program alerts are mailed with (sendmail -t)",
	    STR(alerts.sendmail), NULL, NULL, check_sendmail, NULL },
	{ "alerts", "new_service", CFG_BOOL, 0, 0, "true", NULL, true,
	    "alert when a service is released for the first time",
	    AT(alerts.new_service), sizeof(bool), NULL, NULL, NULL, NULL },
	{ "alerts", "new_service_per_department", CFG_BOOL, 0, 0, "false",
	    NULL, true, "also when a department uses a service first",
	    AT(alerts.new_service_per_department), sizeof(bool), NULL, NULL,
	    NULL, NULL },
	{ "alerts", "shadow_share_percent", INT(0, 100), "0", "percent", true,
	    "alert when an unsanctioned service reaches this share of the "
	    "week's AI connections; 0 = off",
	    AT(alerts.shadow_share_percent), sizeof(int), NULL, NULL, NULL,
	    NULL },

	{ "central", "conninfo", CFG_STRING, 0, 0, "", NULL, false,
	    "libpq connection string of the central database, no password",
	    STR(central.conninfo), NULL, NULL, NULL, NULL },
	{ "central", "password_file", CFG_OPTPATH, 0, 0, "", NULL, false,
	    "the password's file, mode 0600, owned by the daemon's user",
	    STR(central.password_file), NULL, NULL, NULL, NULL },
	{ "central", "site", CFG_STRING, 0, 0, "", NULL, false,
	    "this sensor's site name in the central database",
	    STR(central.site), NULL, NULL, NULL, NULL },
	{ "central", "outbox_max_mb", INT(1, 4096), "64", "MiB", false,
	    "the most the outbox of unshipped cells may hold",
	    AT(central.outbox_max_mb), sizeof(int), NULL, NULL, NULL, NULL },

	{ "", "ignore", CFG_LIST, 0, 0, "[ ]", NULL, true,
	    "addresses and prefixes not counted at all", 0, 0, NULL,
	    load_ignore, NULL, print_ignore },
	{ "", "sanctioned", CFG_LIST, 0, 0, "[ ]", NULL, true,
	    "catalog ids of approved services", 0, 0, NULL, load_sanctioned,
	    NULL, print_sanctioned },
	{ "", "ech_public_names", CFG_LIST, 0, 0, "[ \"" ECH_DEFAULT "\" ]",
	    NULL, true, "outer names of Encrypted ClientHello front ends", 0,
	    0, NULL, load_ech, NULL, print_ech },
	{ "", "vlan_departments", CFG_BOOL, 0, 0, "false", NULL, true,
	    "a department's vlans decide before its prefixes",
	    AT(vlan_departments), sizeof(bool), NULL, NULL, NULL, NULL },
	{ "", "departments", CFG_LIST, 0, 0, "( )", NULL, true,
	    "one group per department", 0, 0, NULL, load_departments, NULL,
	    print_depts },

	/* loaded and printed by the departments' handlers */
	{ "department", "name", CFG_STRING, 0, 0, NULL, NULL, true,
	    "the department's name, unique ignoring case", 0, 0, NULL, NULL,
	    NULL, NULL },
	{ "department", "prefixes", CFG_LIST, 0, 0, "[ ]", NULL, true,
	    "its IPv4/IPv6 prefixes", 0, 0, NULL, NULL, NULL, NULL },
	{ "department", "vlans", CFG_LIST, 0, 0, "[ ]", NULL, true,
	    "its 802.1Q VLAN ids", 0, 0, NULL, NULL, NULL, NULL },

	{ NULL, NULL, 0, 0, 0, NULL, NULL, false, NULL, 0, 0, NULL, NULL,
	    NULL, NULL }
};

#undef AT
#undef STR
#undef INT

const struct config_key *
config_keys(size_t *n)
{
	if (n != NULL)
		*n = sizeof(keys) / sizeof(keys[0]) - 1;
	return keys;
}

const char *
config_type_name(enum config_type t)
{
	switch (t) {
	case CFG_INT:		return "integer";
	case CFG_BOOL:		return "boolean";
	case CFG_STRING:	return "string";
	case CFG_PATH:		return "path";
	case CFG_OPTPATH:	return "path";
	case CFG_CHOICE:	return "choice";
	case CFG_LIST:		return "list";
	}
	return "?";
}

/* "capture." for a key of capture, "" for one of aicensus itself */
static void
key_where(const struct config_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", k->section, k->section[0] ? "." : "");
}

/* One key by its type; a row's own loader replaces this. */
static int
load_key(struct config_ctx *x, const config_setting_t *g,
    const struct config_key *k)
{
	char *at = (char *)x->c + k->off, where[32];

	key_where(k, where, sizeof(where));
	switch (k->type) {
	case CFG_INT:
		return get_int(x, g, k->name, where, (int *)(void *)at, k->min,
		    k->max, atoi(k->dflt), k->unit);
	case CFG_BOOL:
		return get_bool(x, g, k->name, where, (bool *)(void *)at,
		    strcmp(k->dflt, "true") == 0);
	case CFG_STRING:
		return get_string(x, g, k->name, where, at, k->size, k->dflt);
	case CFG_PATH:
		return resolve_path_in(x, g, where, k->name, at, k->dflt);
	case CFG_OPTPATH:
		return optional_path(x, g, k->name, where, at);
	case CFG_CHOICE:
		return get_choice(x, g, k->name, k->choices, (int *)(void *)at,
		    choice_dflt(k));
	case CFG_LIST:
		break;
	}
	return fail(x, g, "%s%s has no loader", where, k->name);
}

/* Where row k was written, if it was (config_where). */
static void
note_where(struct config_ctx *x, const config_setting_t *g,
    const struct config_key *k)
{
	const config_setting_t *s = member(g, k->name);
	struct config_loc *l;

	if (s == NULL || x->c->locs == NULL)
		return;
	l = &x->c->locs[k - keys];
	snprintf(l->file, sizeof(l->file), "%s", setting_file(x, s));
	l->line = (int)config_setting_source_line(s);
}

/*
 * Row by row: entering a group checks that it is one and that it holds
 * only its own keys; leaving it runs the group's own checks.
 */
static int
load_keys(struct config_ctx *x, const config_setting_t *top)
{
	const struct config_key *k;
	const struct section *sec = section_of("");
	const config_setting_t *g = top;

	for (k = keys; k->name != NULL; k++) {
		if (strcmp(k->section, "department") == 0)
			continue;	/* load_departments() */
		if (strcmp(k->section, sec->name) != 0) {
			if (sec->done != NULL && sec->done(x, g) != 0)
				return -1;
			sec = section_of(k->section);
			g = k->section[0] ? member(top, k->section) : top;
			if (g != NULL && !config_setting_is_group(g))
				return fail(x, g, "%s must be a group, not %s "
				    "— write %s", sec->name, type_name(g),
				    sec->example);
			if (g != NULL && k->section[0] &&
			    check_keys(x, g, sec->name) != 0)
				return -1;
		}
		note_where(x, g, k);
		if ((k->load != NULL ? k->load(x, g, k) :
		    load_key(x, g, k)) != 0)
			return -1;
		if (k->check != NULL && k->check(x, g, k) != 0)
			return -1;
	}
	return sec->done != NULL ? sec->done(x, g) : 0;
}

static int
load_top(struct config_ctx *x)
{
	const config_setting_t *root = config_root_setting(&x->lc), *k, *top;
	int i;

	for (i = 0; (k = config_setting_get_elem(root, (unsigned)i)) != NULL;
	    i++)
		if (strcmp(config_setting_name(k), "aicensus") != 0)
			return fail(x, k, "unknown top-level setting '%s' — "
			    "every setting goes inside aicensus = { ... };",
			    config_setting_name(k));
	top = member(root, "aicensus");
	if (top == NULL)
		return fail_at(x, x->c->path, 0, "no aicensus group — the file "
		    "must contain aicensus = { ... }; (see the shipped "
		    "aicensus.conf)");
	if (!config_setting_is_group(top))
		return fail(x, top, "aicensus must be a group, not %s — write "
		    "aicensus = { ... };", type_name(top));
	if (check_keys(x, top, "") != 0 || load_keys(x, top) != 0)
		return -1;
	return 0;
}

/* ---- reading the file ---- */

/* c->path and c->dir: absolute, so reloads survive a chdir(). */
static int
set_paths(struct config_ctx *x, const char *path)
{
	struct config *c = x->c;
	char *real, *slash;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return fail_at(x, path, 0, "cannot open the configuration: %s "
		    "— check the path (-c) and its permissions",
		    strerror(errno));
	fclose(fp);
	if ((real = realpath(path, NULL)) == NULL)
		return fail_at(x, path, 0, "cannot resolve the path: %s",
		    strerror(errno));
	if (strlen(real) >= sizeof(c->path)) {
		free(real);
		return fail_at(x, path, 0, "path too long — at most %zu "
		    "characters", sizeof(c->path) - 1);
	}
	snprintf(c->path, sizeof(c->path), "%s", real);
	free(real);
	snprintf(c->dir, sizeof(c->dir), "%s", c->path);
	slash = strrchr(c->dir, '/');
	if (slash == c->dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	return 0;
}

/*
 * libconfig 1.5's scanner exit()s the process when it cannot read an
 * @included file (a directory: "input in flex scanner failed") and would
 * block on a FIFO, so every file it will include must be a regular file;
 * a reload must fail, not end the daemon.  Its directive: at the start
 * of a line, blanks, "@include", blanks, '"', the name up to the next
 * '"', read as include_dir "/" name; at most 10 levels deep.
 */
#define INCLUDE_DEPTH_MAX	10

static int
check_includes(struct config_ctx *x, const char *path, int depth)
{
	char *text, *end, *p, *q, *e, *full;
	struct stat st;
	size_t n, fl;
	int line = 1, rc = 0;
	FILE *fp;

	if (depth >= INCLUDE_DEPTH_MAX || (fp = fopen(path, "r")) == NULL)
		return 0;	/* libconfig says what is wrong */
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > SRC_FILE_MAX ||
	    (text = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(fp);
		return 0;
	}
	n = fread(text, 1, (size_t)st.st_size, fp);
	fclose(fp);
	end = text + n;
	/* the text may hold NUL bytes: lengths, not C strings */
	for (p = text; rc == 0 && p < end; line++) {
		for (q = p; q < end && (*q == ' ' || *q == '\t'); q++)
			;
		if (end - q > 8 && memcmp(q, "@include", 8) == 0) {
			for (e = q + 8; e < end && (*e == ' ' || *e == '\t'); e++)
				;
			if (e > q + 8 && e < end && *e == '"' &&
			    (q = memchr(e + 1, '"', (size_t)(end - e - 1))) !=
			    NULL) {
				/* libconfig takes the name up to a NUL */
				n = strnlen(e + 1, (size_t)(q - e - 1));
				fl = strlen(x->c->dir) + n + 2;
				if ((full = malloc(fl)) == NULL)
					break;
				snprintf(full, fl, "%s/%.*s", x->c->dir, (int)n,
				    e + 1);
				if (stat(full, &st) == 0 && !S_ISREG(st.st_mode))
					rc = fail_at(x, path, line, "@include "
					    "\"%.*s\" is not a regular file — "
					    "include a configuration file",
					    (int)n, e + 1);
				else
					rc = check_includes(x, full, depth + 1);
				free(full);
				for (; p < q; p++)	/* the name's lines */
					line += *p == '\n';
			}
		}
		if ((p = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		p++;
	}
	free(text);
	return rc;
}

static int
read_file(struct config_ctx *x)
{
	const char *text, *file, *hint = "";
	struct srcfile *sf;

	config_set_include_dir(&x->lc, x->c->dir);
	if (check_includes(x, x->c->path, 0) != 0)
		return -1;
	if (config_read_file(&x->lc, x->c->path) == CONFIG_TRUE)
		return 0;
	text = config_error_text(&x->lc);
	if (text == NULL)
		text = "unreadable";
	if (strstr(text, "syntax") != NULL)
		hint = " — look for a missing ';', '=', quote or closing "
		    "bracket on this line or the one before";
	else if (strstr(text, "duplicate") != NULL)
		hint = " — each setting may appear only once in its group";
	else if (strstr(text, "include") != NULL)
		hint = " — @include paths are relative to the directory of "
		    "this file";
	file = config_error_file(&x->lc);
	if (file == NULL)
		file = x->c->path;
	else if (file[0] != '/' && (sf = src_entry(x, file)) != NULL)
		file = sf->path;
	return fail_at(x, file, config_error_line(&x->lc), "%s%s", text,
	    hint);
}

static void
ctx_done(struct config_ctx *x)
{
	size_t i;

	for (i = 0; i < x->n_src; i++) {
		free(x->src[i].raw);
		free(x->src[i].path);
		free(x->src[i].text);
		free(x->src[i].starts);
	}
	config_destroy(&x->lc);
}

struct config *
config_load(const char *path, struct cfgerr *err)
{
	struct config_ctx x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.err = err;
	if (path == NULL || path[0] == '\0') {
		cfgerr_set(err, NULL, 0, "no configuration file given");
		return NULL;
	}
	if ((x.c = calloc(1, sizeof(*x.c))) == NULL) {
		cfgerr_set(err, path, 0, "out of memory");
		return NULL;
	}
	memset(x.c->vlan_dept, 0xff, sizeof(x.c->vlan_dept));
	config_init(&x.lc);
	x.c->depts = dept_map_new();
	x.c->ignore = dept_map_new();
	x.c->locs = calloc(sizeof(keys) / sizeof(keys[0]), sizeof(*x.c->locs));
	if (x.c->depts == NULL || x.c->ignore == NULL || x.c->locs == NULL)
		rc = fail_at(&x, path, 0, "out of memory");
	else if ((rc = set_paths(&x, path)) == 0 && (rc = read_file(&x)) == 0)
		rc = load_top(&x);
	ctx_done(&x);
	if (rc != 0) {
		config_free(x.c);
		return NULL;
	}
	return x.c;
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free_strv(c->plugins, c->n_plugins);
	free(c->plugin_lines);
	free(c->locs);
	free_strv(c->ech_public_names, c->n_ech_public_names);
	for (i = 0; i < c->n_sanctioned; i++)
		free(c->sanctioned[i].s);
	free(c->sanctioned);
	free(c->ignore_prefixes);
	for (i = 0; i < c->n_depts; i++) {
		free(c->departments[i].prefixes);
		free(c->departments[i].vlans);
	}
	free(c->departments);
	free(c->dept_names);
	free(c->capture.filter);
	dept_map_free(c->depts);
	dept_map_free(c->ignore);
	OPENSSL_cleanse(c->api.token_sha256, sizeof(c->api.token_sha256));
	OPENSSL_cleanse(c->central.password, sizeof(c->central.password));
	free(c);
}

/* ---- queries ---- */

int
config_where(const struct config *c, const char *section, const char *name,
    const char **file)
{
	const struct config_key *k;

	if (file != NULL)
		*file = c->path;
	for (k = keys; k->name != NULL; k++) {
		if (strcmp(k->section, section) != 0 ||
		    strcmp(k->name, name) != 0)
			continue;
		if (c->locs == NULL || c->locs[k - keys].line <= 0)
			return 0;
		if (file != NULL)
			*file = c->locs[k - keys].file;
		return c->locs[k - keys].line;
	}
	return 0;
}

int
config_dept_of(const struct config *c, int af, const uint8_t *addr, int vlan)
{
	if (c == NULL)
		return -1;
	if (c->vlan_departments && vlan >= 1 && vlan <= CONFIG_VLAN_MAX &&
	    c->vlan_dept[vlan] >= 0)
		return c->vlan_dept[vlan];
	return dept_map_lookup(c->depts, af, addr);
}

int
config_ignored(const struct config *c, int af, const uint8_t *addr)
{
	return c != NULL && dept_map_lookup(c->ignore, af, addr) >= 0;
}

/* ---- printing ---- */

static void
print_str(FILE *fp, const char *s)
{
	const unsigned char *p;

	fputc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", fp);
		else if (*p == '\t')
			fputs("\\t", fp);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

static void
print_kv(FILE *fp, const char *indent, const char *k, const char *v)
{
	fprintf(fp, "%s%s = ", indent, k);
	print_str(fp, v);
	fputs(";\n", fp);
}

static void
print_strv(FILE *fp, const char *indent, const char *k, char *const *v,
    size_t n)
{
	size_t i;

	fprintf(fp, "%s%s = [", indent, k);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : " ", fp);
		print_str(fp, v[i]);
	}
	fputs(" ];\n", fp);
}

static void
print_prefixes(FILE *fp, const char *indent, const char *k,
    const struct config_prefix *p, size_t n)
{
	char buf[DEPT_PREFIX_STRLEN];
	size_t i;

	fprintf(fp, "%s%s = [", indent, k);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s\"%s\"", i ? ", " : " ", dept_format_prefix(
		    p[i].af, p[i].addr, p[i].plen, buf, sizeof(buf)));
	fputs(" ];\n", fp);
}

static void
print_depts(const struct config *c, FILE *fp, const struct config_key *k,
    const char *indent)
{
	size_t i, j;

	fprintf(fp, "%s%s = (", indent, k->name);
	for (i = 0; i < c->n_depts; i++) {
		const struct config_dept *d = &c->departments[i];

		fprintf(fp, "%s\n    {\n", i ? "," : "");
		print_kv(fp, "      ", "name", d->name);
		print_prefixes(fp, "      ", "prefixes", d->prefixes,
		    d->n_prefixes);
		fprintf(fp, "      vlans = [");
		for (j = 0; j < d->n_vlans; j++)
			fprintf(fp, "%s%d", j ? ", " : " ", d->vlans[j]);
		fprintf(fp, " ];\n    }");
	}
	fprintf(fp, "%s);\n", c->n_depts ? "\n  " : " ");
}

static void
print_min_group_size(const struct config *c, FILE *fp,
    const struct config_key *k, const char *indent)
{
	fprintf(fp, "%s%s = %d;%s\n", indent, k->name, c->min_group_size,
	    c->min_group_size_unsafe ? "  # below 5: small groups can "
	    "single out a person" : "");
}

static void
print_log(const struct config *c, FILE *fp, const struct config_key *k,
    const char *indent)
{
	print_kv(fp, indent, k->name, k->choices[c->log_syslog ? 1 : 0]);
}

static void
print_filter(const struct config *c, FILE *fp, const struct config_key *k,
    const char *indent)
{
	print_kv(fp, indent, k->name, c->capture.filter ? c->capture.filter :
	    "");
}

static void
print_plugins(const struct config *c, FILE *fp, const struct config_key *k,
    const char *indent)
{
	print_strv(fp, indent, k->name, c->plugins, c->n_plugins);
}

static void
print_ignore(const struct config *c, FILE *fp, const struct config_key *k,
    const char *indent)
{
	print_prefixes(fp, indent, k->name, c->ignore_prefixes, c->n_ignore);
}

static void
print_sanctioned(const struct config *c, FILE *fp,
    const struct config_key *k, const char *indent)
{
	size_t i;

	fprintf(fp, "%s%s = [", indent, k->name);
	for (i = 0; i < c->n_sanctioned; i++) {
		fputs(i ? ", " : " ", fp);
		print_str(fp, c->sanctioned[i].s);
	}
	fputs(" ];\n", fp);
}

static void
print_ech(const struct config *c, FILE *fp, const struct config_key *k,
    const char *indent)
{
	print_strv(fp, indent, k->name, c->ech_public_names,
	    c->n_ech_public_names);
}

/* A choice held as its name (language). */
static void
print_name(const struct config *c, FILE *fp, const struct config_key *k,
    const char *indent)
{
	print_kv(fp, indent, k->name, (const char *)c + k->off);
}

/* One key as -v prints it. */
static void
print_key(const struct config *c, FILE *fp, const struct config_key *k,
    const char *indent)
{
	const char *at = (const char *)c + k->off;
	int v;

	if (k->print != NULL) {
		k->print(c, fp, k, indent);
		return;
	}
	switch (k->type) {
	case CFG_INT:
		fprintf(fp, "%s%s = %d;\n", indent, k->name,
		    *(const int *)(const void *)at);
		break;
	case CFG_BOOL:
		fprintf(fp, "%s%s = %s;\n", indent, k->name,
		    *(const bool *)(const void *)at ? "true" : "false");
		break;
	case CFG_STRING:
	case CFG_PATH:
	case CFG_OPTPATH:
		print_kv(fp, indent, k->name, at);
		break;
	case CFG_CHOICE:
		v = *(const int *)(const void *)at;
		print_kv(fp, indent, k->name, v >= 0 &&
		    v < count_choices(k) ? k->choices[v] : k->dflt);
		break;
	case CFG_LIST:
		break;
	}
}

/*
 * A key's value as -v would print it, in buf; 0, or -1 when it does not
 * fit (the caller then treats the key as changed).
 */
static int
key_text(const struct config *c, const struct config_key *k, char *buf,
    size_t len)
{
	FILE *fp;
	long n;

	if ((fp = fmemopen(buf, len, "w")) == NULL)
		return -1;
	print_key(c, fp, k, "");
	n = ftell(fp);
	if (fclose(fp) != 0 || n < 0 || (size_t)n >= len)
		return -1;
	buf[n] = '\0';
	return 0;
}

void
config_restart_changes(const struct config *old, const struct config *new,
    void (*fn)(void *, const struct config_key *), void *arg)
{
	char a[4096], b[4096];
	const struct config_key *k;

	for (k = keys; k->name != NULL; k++) {
		if (k->reloadable || strcmp(k->section, "department") == 0)
			continue;
		if (key_text(old, k, a, sizeof(a)) != 0 ||
		    key_text(new, k, b, sizeof(b)) != 0 || strcmp(a, b) != 0)
			fn(arg, k);
	}
}

/* A key of a group is indented deeper and the group opened first. */
void
config_print(const struct config *c, FILE *fp)
{
	const struct config_key *k;
	const char *sec = "", *indent;

	fprintf(fp, "# effective configuration of %s\naicensus = {\n",
	    c->path);
	for (k = keys; k->name != NULL; k++) {
		if (strcmp(k->section, "department") == 0)
			continue;	/* print_depts() */
		if (strcmp(k->section, sec) != 0) {
			if (sec[0] != '\0')
				fputs("  };\n", fp);
			if (k->section[0] != '\0')
				fprintf(fp, "  %s = {\n", k->section);
			sec = k->section;
		}
		indent = sec[0] != '\0' ? "    " : "  ";
		print_key(c, fp, k, indent);
	}
	if (sec[0] != '\0')
		fputs("  };\n", fp);
	fputs("};\n", fp);
}
