/*
 * catalog.c - load the service catalog; match names against it.
 *
 * Every `domains` and `hosts` entry goes, lower-cased, into one
 * open-addressing hash table keyed by the whole name.  Matching looks up
 * the whole input name, then each suffix that starts after a '.', longest
 * first, so the first hit is the most specific entry and the work is one
 * probe per label however large the catalog is.  The hash is computed
 * right to left, so a single pass over the name yields the hash of every
 * suffix.
 *
 * The table is kept at most half full; probe sequences are then short,
 * and since only the catalog decides which slots are occupied, no input
 * name can make them longer.
 */
#include <dirent.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/config.h"
#include "detect/catalog.h"

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL
#define DNS_TEXT_MAX	253	/* longest name a catalog entry may have */
#define LABEL_MAX	63
/* Each label is at least one byte plus its dot. */
#define MAX_SUFFIXES	(CATALOG_NAME_MAX / 2 + 1)

struct entry {
	uint64_t	 hash;
	uint32_t	 off;		/* into the string pool */
	uint16_t	 len;
	uint8_t		 exact;		/* from `hosts`: whole name only */
	uint8_t		 used;
	int32_t		 svc;
	int32_t		 line;		/* where it was listed, for messages */
	uint32_t	 file;		/* index into catalog.files */
};

struct catalog {
	struct service	*svc;
	int		*svc_line;
	uint32_t	*svc_file;	/* index into files */
	/* the files it was loaded from: the catalog, then local additions */
	char		**files;
	size_t		 nfiles;
	size_t		 nsvc, svccap;
	struct entry	*tab;
	size_t		 tabcap, nent;	/* tabcap is a power of two */
	char		*pool;
	size_t		 poollen, poolcap;
};

static const char *const categories[] = {
	"chat", "api", "code", "image", "audio", "video", "writing",
	"search", "agent", "other"
};
#define CATEGORY_LIST \
	"chat, api, code, image, audio, video, writing, search, agent, other"

static const char *const fields[] = {
	"id", "name", "vendor", "category", "jurisdiction", "domains", "hosts"
};

static char
lc(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static uint64_t
hash_step(uint64_t h, char c)
{
	return (h ^ (unsigned char)c) * FNV_PRIME;
}

/* Right to left, to match the single-pass suffix hashing in matching. */
static uint64_t
name_hash(const char *s, size_t len)
{
	uint64_t h = FNV_OFFSET;

	while (len-- > 0)
		h = hash_step(h, s[len]);
	return h;
}

/* ---- hash table ---- */

static const struct entry *
tab_find(const struct catalog *cat, const char *key, size_t len, uint64_t h)
{
	size_t mask, i;

	if (cat->tabcap == 0)
		return NULL;
	mask = cat->tabcap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		const struct entry *e = &cat->tab[i];

		if (!e->used)
			return NULL;
		if (e->hash == h && e->len == len &&
		    memcmp(cat->pool + e->off, key, len) == 0)
			return e;
	}
}

static void
tab_place(struct entry *tab, size_t cap, const struct entry *e)
{
	size_t i;

	for (i = e->hash & (cap - 1); tab[i].used; i = (i + 1) & (cap - 1))
		;
	tab[i] = *e;
}

static int
tab_grow(struct catalog *cat)
{
	size_t cap = cat->tabcap ? cat->tabcap * 2 : 64, i;
	struct entry *tab;

	tab = calloc(cap, sizeof(*tab));
	if (tab == NULL)
		return -1;
	for (i = 0; i < cat->tabcap; i++)
		if (cat->tab[i].used)
			tab_place(tab, cap, &cat->tab[i]);
	free(cat->tab);
	cat->tab = tab;
	cat->tabcap = cap;
	return 0;
}

static int
pool_add(struct catalog *cat, const char *s, size_t len, uint32_t *off)
{
	if (cat->poollen + len + 1 > cat->poolcap) {
		size_t cap = cat->poolcap ? cat->poolcap : 1024;
		char *p;

		while (cat->poollen + len + 1 > cap)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -1;
		if ((p = realloc(cat->pool, cap)) == NULL)
			return -1;
		cat->pool = p;
		cat->poolcap = cap;
	}
	memcpy(cat->pool + cat->poollen, s, len);
	cat->pool[cat->poollen + len] = '\0';
	*off = (uint32_t)cat->poollen;
	cat->poollen += len + 1;
	return 0;
}

/* key must be lower-case and not yet in the table. */
static int
tab_insert(struct catalog *cat, const char *key, size_t len, int exact,
    size_t svc, int line)
{
	struct entry e;

	if ((cat->nent + 1) * 2 > cat->tabcap && tab_grow(cat) == -1)
		return -1;
	memset(&e, 0, sizeof(e));
	if (pool_add(cat, key, len, &e.off) == -1)
		return -1;
	e.hash = name_hash(key, len);
	e.len = (uint16_t)len;
	e.exact = exact ? 1 : 0;
	e.used = 1;
	e.svc = (int32_t)svc;
	e.line = line;
	e.file = cat->nfiles > 0 ? (uint32_t)(cat->nfiles - 1) : 0;
	tab_place(cat->tab, cat->tabcap, &e);
	cat->nent++;
	return 0;
}

static struct service *
svc_add(struct catalog *cat, int line)
{
	if (cat->nsvc == cat->svccap) {
		size_t cap = cat->svccap ? cat->svccap * 2 : 64;
		struct service *s;
		uint32_t *f;
		int *l;

		if ((s = realloc(cat->svc, cap * sizeof(*s))) == NULL)
			return NULL;
		cat->svc = s;
		if ((l = realloc(cat->svc_line, cap * sizeof(*l))) == NULL)
			return NULL;
		cat->svc_line = l;
		if ((f = realloc(cat->svc_file, cap * sizeof(*f))) == NULL)
			return NULL;
		cat->svc_file = f;
		cat->svccap = cap;
	}
	memset(&cat->svc[cat->nsvc], 0, sizeof(cat->svc[0]));
	cat->svc_line[cat->nsvc] = line;
	cat->svc_file[cat->nsvc] = cat->nfiles > 0 ?
	    (uint32_t)(cat->nfiles - 1) : 0;
	return &cat->svc[cat->nsvc++];
}

/* ---- loading ---- */

struct loader {
	const char	*path;
	struct cfgerr	*err;
	struct catalog	*cat;
	char		 label[80];	/* "service 'id'" or "service #n" */
	/* ids seen so far: open addressing, service index + 1, 0 = empty */
	uint32_t	*ids;
	size_t		 idcap;		/* a power of two, kept half empty */
	/*
	 * catalog check: every problem goes to report() and loading goes
	 * on with the next service (or file), so one run lists them all.
	 */
	catalog_report_fn *report;
	void		*arg;
	int		 nproblems;
};

static int fail(struct loader *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct loader *ld, int line, const char *fmt, ...)
{
	char msg[sizeof(ld->err->msg)];
	va_list ap;

	ld->nproblems++;
	if (ld->err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfgerr_set(ld->err, ld->path, line, "%s", msg);
	if (ld->report != NULL)
		ld->report(ld->err, ld->arg);
	return -1;
}

/* Operator text echoed in a message must not break the log line. */
static const char *
shown(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/* 0 (no line) for a setting that is not there, e.g. a missing id */
static int
line_of(const config_setting_t *s)
{
	return s != NULL ? (int)config_setting_source_line(s) : 0;
}

static int
is_known_field(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(name, fields[i]) == 0)
			return 1;
	return 0;
}

static int
check_fields(struct loader *ld, const config_setting_t *grp)
{
	int i, n = config_setting_length(grp);
	char b[64];

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(grp, i);
		const char *name = config_setting_name(m);

		if (name != NULL && !is_known_field(name))
			return fail(ld, line_of(m), "%s: unknown field '%s' — "
			    "the fields are id, name, vendor, category, "
			    "jurisdiction, domains, hosts", ld->label,
			    shown(name, b, sizeof(b)));
	}
	return 0;
}

/* A required, non-empty string member that fits in max-1 bytes. */
static int
get_text(struct loader *ld, const config_setting_t *grp, const char *key,
    char *out, size_t max)
{
	const config_setting_t *m = config_setting_get_member(grp, key);
	const char *v;

	if (m == NULL)
		return fail(ld, line_of(grp), "%s: missing '%s' — add "
		    "%s = \"...\";", ld->label, key, key);
	if (config_setting_type(m) != CONFIG_TYPE_STRING)
		return fail(ld, line_of(m), "%s: '%s' must be a string in "
		    "double quotes", ld->label, key);
	v = config_setting_get_string(m);
	if (v == NULL || v[0] == '\0')
		return fail(ld, line_of(m), "%s: '%s' is empty — give it a "
		    "value", ld->label, key);
	if (strlen(v) >= max)
		return fail(ld, line_of(m), "%s: '%s' is longer than %zu "
		    "characters — shorten it", ld->label, key, max - 1);
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

/*
 * The id of the service just added (the last one) is not taken yet:
 * one hash probe, so that a catalog of thousands of services loads in
 * linear time.
 */
static int
check_unique_id(struct loader *ld, const config_setting_t *m, const char *id)
{
	size_t n = ld->cat->nsvc, mask, i;

	if (n * 2 > ld->idcap) {
		size_t cap = ld->idcap ? ld->idcap * 2 : 256, j;
		uint32_t *t = calloc(cap, sizeof(*t));

		if (t == NULL)
			return fail(ld, line_of(m), "out of memory");
		for (j = 0; j < ld->idcap; j++) {
			uint32_t v = ld->ids[j];

			if (v == 0)
				continue;
			for (i = name_hash(ld->cat->svc[v - 1].id,
			    strlen(ld->cat->svc[v - 1].id)) & (cap - 1);
			    t[i] != 0; i = (i + 1) & (cap - 1))
				;
			t[i] = v;
		}
		free(ld->ids);
		ld->ids = t;
		ld->idcap = cap;
	}
	mask = ld->idcap - 1;
	for (i = name_hash(id, strlen(id)) & mask; ld->ids[i] != 0;
	    i = (i + 1) & mask) {
		size_t k = ld->ids[i] - 1;

		if (strcmp(ld->cat->svc[k].id, id) != 0)
			continue;
		if (ld->cat->svc_file[k] != ld->cat->nfiles - 1)
			return fail(ld, line_of(m), "duplicate service id '%s' "
			    "— %s:%d already uses it; a local addition cannot "
			    "replace or repeat a service: give it an id of "
			    "its own", id, ld->cat->files[ld->cat->svc_file[k]],
			    ld->cat->svc_line[k]);
		return fail(ld, line_of(m), "duplicate service id '%s' "
		    "— line %d already uses it; ids must be unique",
		    id, ld->cat->svc_line[k]);
	}
	ld->ids[i] = (uint32_t)n;	/* index n - 1, plus one */
	return 0;
}

static int
check_id(struct loader *ld, const config_setting_t *grp, const char *id)
{
	const config_setting_t *m = config_setting_get_member(grp, "id");
	size_t i;
	char b[64];

	if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9')))
		return fail(ld, line_of(m), "service id '%s' must start with "
		    "a lower-case letter or a digit", shown(id, b, sizeof(b)));
	for (i = 0; id[i] != '\0'; i++) {
		char c = id[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-')
			continue;
		return fail(ld, line_of(m), "service id '%s' contains '%c' — "
		    "ids use only a-z, 0-9 and '-'", shown(id, b, sizeof(b)),
		    (c >= 0x20 && c < 0x7f) ? c : '?');
	}
	return check_unique_id(ld, m, id);
}

static int
check_category(struct loader *ld, const config_setting_t *grp,
    const char *cat)
{
	size_t i;
	char b[32];

	for (i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
		if (strcmp(cat, categories[i]) == 0)
			return 0;
	return fail(ld, line_of(config_setting_get_member(grp, "category")),
	    "%s: unknown category '%s' — use one of " CATEGORY_LIST,
	    ld->label, shown(cat, b, sizeof(b)));
}

static int
check_jurisdiction(struct loader *ld, const config_setting_t *grp,
    const char *j)
{
	char b[32];

	if (strcmp(j, "other") == 0)
		return 0;
	if (strlen(j) == 2 && j[0] >= 'A' && j[0] <= 'Z' &&
	    j[1] >= 'A' && j[1] <= 'Z')
		return 0;
	return fail(ld, line_of(config_setting_get_member(grp,
	    "jurisdiction")), "%s: jurisdiction '%s' is not valid — use a "
	    "two-letter upper-case code (US, EU, CN, UK, CA, IL, KR, JP, ...) "
	    "or \"other\"", ld->label, shown(j, b, sizeof(b)));
}

/*
 * Hostname syntax for a catalog entry; lower-cases s into out.  On error
 * writes the reason into why.
 */
static int
check_name(const char *s, char *out, char *why, size_t whylen)
{
	size_t len = strlen(s), i, lab = 0, labels = 1, last = 0;
	int digits_only = 1;

	if (len == 0)
		return snprintf(why, whylen, "is empty"), -1;
	if (strchr(s, '*') != NULL)
		return snprintf(why, whylen, "contains a wildcard — write the "
		    "bare domain in `domains`, which already covers every "
		    "subdomain"), -1;
	if (len > DNS_TEXT_MAX)
		return snprintf(why, whylen, "is longer than %d characters",
		    DNS_TEXT_MAX), -1;
	if (s[0] == '.')
		return snprintf(why, whylen, "starts with a dot — write it "
		    "without the dot: a `domains` entry already covers every "
		    "subdomain"), -1;
	if (s[len - 1] == '.')
		return snprintf(why, whylen, "ends with a dot — remove the "
		    "trailing dot"), -1;
	for (i = 0; i < len; i++) {
		char c = lc(s[i]);

		out[i] = c;
		if (c == '.') {
			if (lab == 0)
				return snprintf(why, whylen, "has an empty "
				    "label ('..')"), -1;
			if (s[i - 1] == '-')
				return snprintf(why, whylen, "has a label "
				    "ending in '-'"), -1;
			lab = 0;
			labels++;
			last = i + 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return snprintf(why, whylen, "contains '%c' — only "
			    "letters, digits, '-' and '.' are allowed",
			    (c >= 0x20 && c < 0x7f) ? c : '?'), -1;
		if (c == '-' && lab == 0)
			return snprintf(why, whylen, "has a label starting "
			    "with '-'"), -1;
		if (++lab > LABEL_MAX)
			return snprintf(why, whylen, "has a label longer than "
			    "%d characters", LABEL_MAX), -1;
	}
	out[len] = '\0';
	if (s[len - 1] == '-')
		return snprintf(why, whylen, "has a label ending in '-'"), -1;
	if (labels < 2)
		return snprintf(why, whylen, "has a single label — give at "
		    "least two (example.com): a top-level domain alone would "
		    "match far too much"), -1;
	for (i = last; i < len; i++)
		if (!(s[i] >= '0' && s[i] <= '9'))
			digits_only = 0;
	if (digits_only)
		return snprintf(why, whylen, "looks like an IP address — the "
		    "catalog matches names, not addresses"), -1;
	return 0;
}

static int
add_name(struct loader *ld, const config_setting_t *m, const char *list,
    int exact)
{
	struct catalog *cat = ld->cat;
	size_t svc = cat->nsvc - 1;
	const struct entry *e;
	const char *v = config_setting_get_string(m);
	char key[DNS_TEXT_MAX + 1], why[200], b[120];

	if (config_setting_type(m) != CONFIG_TYPE_STRING || v == NULL)
		return fail(ld, line_of(m), "%s: every entry of '%s' must be "
		    "a string in double quotes", ld->label, list);
	if (check_name(v, key, why, sizeof(why)) == -1)
		return fail(ld, line_of(m), "%s: %s entry '%s' %s", ld->label,
		    list, shown(v, b, sizeof(b)), why);
	e = tab_find(cat, key, strlen(key), name_hash(key, strlen(key)));
	if (e != NULL && (size_t)e->svc == svc)
		return fail(ld, line_of(m), "%s: '%s' is listed twice (first "
		    "at line %d) — keep one", ld->label, key, (int)e->line);
	if (e != NULL && e->file != cat->nfiles - 1)
		return fail(ld, line_of(m), "'%s' is listed by both service "
		    "'%s' (%s:%d) and service '%s' — a local addition cannot "
		    "take over a name the catalog already gives a service: "
		    "remove it here (a longer name under it is allowed)", key,
		    cat->svc[e->svc].id, cat->files[e->file], (int)e->line,
		    cat->svc[svc].id);
	if (e != NULL)
		return fail(ld, line_of(m), "'%s' is listed by both service "
		    "'%s' (line %d) and service '%s' — a name belongs to one "
		    "service: keep it in one of them", key,
		    cat->svc[e->svc].id, (int)e->line, cat->svc[svc].id);
	if (tab_insert(cat, key, strlen(key), exact, svc, line_of(m)) == -1)
		return fail(ld, line_of(m), "out of memory");
	return 0;
}

/* Returns the number of names added, or -1. */
static int
add_names(struct loader *ld, const config_setting_t *grp, const char *list,
    int exact)
{
	const config_setting_t *arr = config_setting_get_member(grp, list);
	int i, n;

	if (arr == NULL)
		return 0;
	if (config_setting_type(arr) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(arr) != CONFIG_TYPE_LIST)
		return fail(ld, line_of(arr), "%s: '%s' must be a list: "
		    "%s = [ \"example.com\" ];", ld->label, list, list);
	n = config_setting_length(arr);
	for (i = 0; i < n; i++)
		if (add_name(ld, config_setting_get_elem(arr, i), list,
		    exact) == -1 && ld->report == NULL)
			return -1;
	return n;
}

/*
 * In check mode a failed step does not end the service: the others are
 * checked too, so that every problem is reported in one run.
 */
#define STEP(ld, bad, x) do {						\
	if ((x) == -1) {						\
		if ((ld)->report == NULL)				\
			return -1;					\
		(bad) = 1;						\
	}								\
} while (0)

static int
load_service(struct loader *ld, const config_setting_t *grp, int idx)
{
	const config_setting_t *idm;
	struct service *s;
	char tmp[64];	/* room to name a wrong value before rejecting it */
	int nd, nh, bad = 0;

	snprintf(ld->label, sizeof(ld->label), "service #%d", idx + 1);
	if (config_setting_type(grp) != CONFIG_TYPE_GROUP)
		return fail(ld, line_of(grp), "%s is not a group — write each "
		    "service as { id = \"...\"; name = \"...\"; ... }",
		    ld->label);
	idm = config_setting_get_member(grp, "id");
	if ((s = svc_add(ld->cat, line_of(idm ? idm : grp))) == NULL)
		return fail(ld, line_of(grp), "out of memory");
	if (get_text(ld, grp, "id", s->id, sizeof(s->id)) == -1)
		return -1;	/* nothing to name the rest by */
	STEP(ld, bad, check_id(ld, grp, s->id));
	snprintf(ld->label, sizeof(ld->label), "service '%s'", s->id);
	STEP(ld, bad, check_fields(ld, grp));
	STEP(ld, bad, get_text(ld, grp, "name", s->name, sizeof(s->name)));
	STEP(ld, bad, get_text(ld, grp, "vendor", s->vendor,
	    sizeof(s->vendor)));
	if (get_text(ld, grp, "category", tmp, sizeof(tmp)) == -1 ||
	    check_category(ld, grp, tmp) == -1)
		STEP(ld, bad, -1);
	else
		memcpy(s->category, tmp, strlen(tmp) + 1);
	if (get_text(ld, grp, "jurisdiction", tmp, sizeof(tmp)) == -1 ||
	    check_jurisdiction(ld, grp, tmp) == -1)
		STEP(ld, bad, -1);
	else
		memcpy(s->jurisdiction, tmp, strlen(tmp) + 1);
	STEP(ld, bad, nd = add_names(ld, grp, "domains", 0));
	STEP(ld, bad, nh = add_names(ld, grp, "hosts", 1));
	if (nd >= 0 && nh >= 0 && nd + nh == 0)
		return fail(ld, line_of(idm ? idm : grp), "%s has no domains "
		    "and no hosts — add at least one, or remove the service",
		    ld->label);
	return bad ? -1 : 0;
}

static int
load_root(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *ver, *svcs;
	int i, n;
	char b[64];

	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(root, i);
		const char *name = config_setting_name(m);

		if (name != NULL && strcmp(name, "version") != 0 &&
		    strcmp(name, "services") != 0 &&
		    fail(ld, line_of(m), "unknown setting '%s' — a catalog "
		    "has only 'version' and 'services'",
		    shown(name, b, sizeof(b))) == -1 && ld->report == NULL)
			return -1;
	}
	if ((ver = config_setting_get_member(root, "version")) == NULL) {
		if (fail(ld, 0, "missing 'version = 1;' — add it at the "
		    "top of the file") == -1 && ld->report == NULL)
			return -1;
	} else if (config_setting_type(ver) != CONFIG_TYPE_INT ||
	    config_setting_get_int(ver) != 1) {
		if (fail(ld, line_of(ver), "unsupported catalog version — "
		    "this daemon reads 'version = 1;'") == -1 &&
		    ld->report == NULL)
			return -1;
	}
	if ((svcs = config_setting_get_member(root, "services")) == NULL)
		return fail(ld, 0, "missing 'services = ( { ... }, ... );' — "
		    "the catalog lists no services");
	if (config_setting_type(svcs) != CONFIG_TYPE_LIST)
		return fail(ld, line_of(svcs), "'services' must be a list of "
		    "groups: services = ( { id = \"...\"; ... }, ... );");
	n = config_setting_length(svcs);
	if (n == 0)
		return fail(ld, line_of(svcs), "'services' is empty — a "
		    "catalog without services would count nothing");
	for (i = 0; i < n; i++)
		if (load_service(ld, config_setting_get_elem(svcs, i), i) ==
		    -1 && ld->report == NULL)
			return -1;
	return ld->nproblems > 0 ? -1 : 0;
}

/* Record path as the file being loaded; -1 on allocation failure. */
static int
add_file(struct catalog *cat, const char *path)
{
	char **f, *p;

	if ((p = strdup(path)) == NULL)
		return -1;
	if ((f = realloc(cat->files, (cat->nfiles + 1) * sizeof(*f))) ==
	    NULL) {
		free(p);
		return -1;
	}
	f[cat->nfiles++] = p;
	cat->files = f;
	return 0;
}

/* Parse path and add its services to ld->cat. */
static int
load_file(struct loader *ld, const char *path)
{
	config_t cf;
	struct stat st;
	FILE *fp;
	int ok, rc;

	ld->path = path;
	if (add_file(ld->cat, path) == -1)
		return fail(ld, 0, "out of memory");
	if ((fp = fopen(path, "r")) == NULL)
		return fail(ld, 0, "cannot open the catalog: %s — check the "
		    "path and that the daemon may read it", strerror(errno));
	/* libconfig 1.5 exit()s on a directory and blocks on a FIFO */
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(fp);
		return fail(ld, 0, "the catalog is not a regular file — set "
		    "catalog to the path of catalog.conf");
	}
	config_init(&cf);
	ok = config_read(&cf, fp);
	fclose(fp);
	if (!ok) {
		/* an @include'd file has its own name */
		if (config_error_file(&cf) != NULL)
			ld->path = config_error_file(&cf);
		rc = fail(ld, config_error_line(&cf), "%s — in libconfig "
		    "syntax every 'key = value;' ends with ';', list items are "
		    "separated by ',' and strings are in double quotes",
		    config_error_text(&cf));
		ld->path = path;
		config_destroy(&cf);
		return rc;
	}
	rc = load_root(ld, config_root_setting(&cf));
	config_destroy(&cf);
	return rc;
}

/*
 * Load paths[0..n) in order into one catalog.  In check mode
 * (ld->report set) every file is read whatever the problems before it.
 */
static struct catalog *
load_files(struct loader *ld, const char *const *paths, size_t n)
{
	size_t i;
	int rc = 0;

	if ((ld->cat = calloc(1, sizeof(*ld->cat))) == NULL) {
		ld->path = n > 0 ? paths[0] : NULL;
		fail(ld, 0, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (load_file(ld, paths[i]) == -1) {
			rc = -1;
			if (ld->report == NULL)
				break;
		}
	}
	free(ld->ids);
	ld->ids = NULL;
	if (rc == -1) {
		catalog_free(ld->cat);
		ld->cat = NULL;
	}
	return ld->cat;
}

struct catalog *
catalog_load(const char *path, struct cfgerr *err)
{
	struct loader ld;

	if (path == NULL) {
		cfgerr_set(err, NULL, 0, "no catalog path given");
		return NULL;
	}
	memset(&ld, 0, sizeof(ld));
	ld.err = err;
	return load_files(&ld, &path, 1);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
catalog_files_free(char **files, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
}

/*
 * Only regular-looking names: "x.conf", not ".x.conf" (editor and
 * dpkg leftovers such as .conf.swp, .conf.dpkg-old do not end in .conf
 * or start with a dot).
 */
static int
is_local_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && len > 5 && strcmp(n + len - 5, ".conf") == 0;
}

int
catalog_dir_files(const char *dir, char ***out, size_t *nout,
    struct cfgerr *err)
{
	char **v = NULL, **nv, *p;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*nout = 0;
	if (dir == NULL || dir[0] == '\0')
		return 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;	/* no local additions */
		cfgerr_set(err, dir, 0, "cannot read the local catalog "
		    "directory: %s — set catalog_dir to a directory the daemon "
		    "may read", strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len;

		if (!is_local_name(de->d_name))
			continue;
		len = strlen(dir) + 1 + strlen(de->d_name) + 1;
		if ((p = malloc(len)) == NULL)
			goto nomem;
		snprintf(p, len, "%s/%s", dir, de->d_name);
		if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL) {
			free(p);
			goto nomem;
		}
		v = nv;
		v[n++] = p;
	}
	closedir(d);
	/* file-name order: services keep their place from load to load */
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	*nout = n;
	return 0;
nomem:
	closedir(d);
	catalog_files_free(v, n);
	cfgerr_set(err, dir, 0, "out of memory");
	return -1;
}

struct catalog *
catalog_load_all(const char *path, const char *dir, struct cfgerr *err)
{
	struct loader ld;
	struct catalog *cat;
	const char **paths;
	char **local;
	size_t nlocal, i;

	if (path == NULL) {
		cfgerr_set(err, NULL, 0, "no catalog path given");
		return NULL;
	}
	if (catalog_dir_files(dir, &local, &nlocal, err) == -1)
		return NULL;
	if ((paths = calloc(nlocal + 1, sizeof(*paths))) == NULL) {
		catalog_files_free(local, nlocal);
		cfgerr_set(err, path, 0, "out of memory");
		return NULL;
	}
	paths[0] = path;
	for (i = 0; i < nlocal; i++)
		paths[i + 1] = local[i];
	memset(&ld, 0, sizeof(ld));
	ld.err = err;
	cat = load_files(&ld, paths, nlocal + 1);
	free(paths);
	catalog_files_free(local, nlocal);
	return cat;
}

void
catalog_report_print(const struct cfgerr *e, void *fp)
{
	char buf[1024];

	fprintf(fp, "%s\n", cfgerr_format(e, buf, sizeof(buf)));
}

int
catalog_check_files(const char *const *paths, size_t n,
    catalog_report_fn *report, void *arg, size_t *nservices)
{
	struct loader ld;
	struct cfgerr e;
	struct catalog *cat;

	memset(&ld, 0, sizeof(ld));
	memset(&e, 0, sizeof(e));
	ld.err = &e;
	ld.report = report;
	ld.arg = arg;
	cat = load_files(&ld, paths, n);
	if (nservices != NULL)
		*nservices = catalog_count(cat);
	catalog_free(cat);
	return ld.nproblems;
}

size_t
catalog_nfiles(const struct catalog *cat)
{
	return cat != NULL ? cat->nfiles : 0;
}

const char *
catalog_service_file(const struct catalog *cat, size_t idx)
{
	if (cat == NULL || idx >= cat->nsvc || cat->nfiles == 0)
		return NULL;
	return cat->files[cat->svc_file[idx]];
}

size_t
catalog_names(const struct catalog *cat, size_t idx, const char **names,
    int *exact, size_t max)
{
	size_t i, n = 0;

	if (cat == NULL || idx >= cat->nsvc)
		return 0;
	for (i = 0; i < cat->tabcap; i++) {
		const struct entry *e = &cat->tab[i];

		if (!e->used || (size_t)e->svc != idx)
			continue;
		if (n < max) {
			names[n] = cat->pool + e->off;
			if (exact != NULL)
				exact[n] = e->exact;
		}
		n++;
	}
	return n;
}

void
catalog_free(struct catalog *cat)
{
	if (cat == NULL)
		return;
	free(cat->svc);
	free(cat->svc_line);
	free(cat->svc_file);
	catalog_files_free(cat->files, cat->nfiles);
	free(cat->tab);
	free(cat->pool);
	free(cat);
}

size_t
catalog_count(const struct catalog *cat)
{
	return cat != NULL ? cat->nsvc : 0;
}

const struct service *
catalog_service(const struct catalog *cat, size_t idx)
{
	if (cat == NULL || idx >= cat->nsvc)
		return NULL;
	return &cat->svc[idx];
}

int
catalog_find_id(const struct catalog *cat, const char *id)
{
	size_t i;

	if (cat == NULL || id == NULL)
		return -1;
	for (i = 0; i < cat->nsvc; i++)
		if (strcmp(cat->svc[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* ---- matching ---- */

int
catalog_match(const struct catalog *cat, const char *name, size_t len)
{
	char buf[CATALOG_NAME_MAX];
	struct {
		uint64_t	h;
		size_t		start;
	} suf[MAX_SUFFIXES];
	size_t nsuf = 0, i;
	uint64_t h = FNV_OFFSET;

	if (cat == NULL || name == NULL || cat->nent == 0)
		return -1;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > CATALOG_NAME_MAX)
		return -1;
	/* Right to left: h is always the hash of buf[i + 1 .. len). */
	for (i = len; i-- > 0;) {
		char c = lc(name[i]);

		buf[i] = c;
		if (c == '.') {
			if (i == 0 || i == len - 1 || buf[i + 1] == '.')
				return -1;	/* empty label */
			if (nsuf == MAX_SUFFIXES - 1)
				return -1;
			suf[nsuf].h = h;
			suf[nsuf].start = i + 1;
			nsuf++;
		}
		h = hash_step(h, c);
	}
	suf[nsuf].h = h;
	suf[nsuf].start = 0;
	nsuf++;
	/* Longest (the whole name, recorded last) first. */
	while (nsuf-- > 0) {
		size_t st = suf[nsuf].start;
		const struct entry *e;

		e = tab_find(cat, buf + st, len - st, suf[nsuf].h);
		if (e != NULL && (st == 0 || !e->exact))
			return (int)e->svc;
	}
	return -1;
}

/* ---- synthetic catalog for benchmarks ---- */

struct catalog *
catalog_synthetic(size_t n)
{
	struct catalog *cat;
	char dom[64];
	size_t i;

	if (n > INT_MAX / 2 || (cat = calloc(1, sizeof(*cat))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		struct service *s = svc_add(cat, 0);
		int len;

		if (s == NULL)
			goto fail;
		snprintf(s->id, sizeof(s->id), "svc-%zu", i);
		snprintf(s->name, sizeof(s->name), "Synthetic service %zu", i);
		snprintf(s->vendor, sizeof(s->vendor), "synthetic");
		snprintf(s->category, sizeof(s->category), "other");
		snprintf(s->jurisdiction, sizeof(s->jurisdiction), "other");
		len = snprintf(dom, sizeof(dom), "svc%zu.example", i);
		if (tab_insert(cat, dom, (size_t)len, 0, i, 0) == -1)
			goto fail;
	}
	return cat;
fail:
	catalog_free(cat);
	return NULL;
}

int
catalog_check_sanctioned(const struct catalog *cat, const struct config *c,
    struct cfgerr *err)
{
	const char **names, *near, *hit;
	size_t i, j, n;

	n = catalog_count(cat);
	for (i = 0; i < c->n_sanctioned; i++) {
		const struct config_item *it = &c->sanctioned[i];

		if (catalog_find_id(cat, it->s) >= 0)
			continue;
		/*
		 * The suggestion is an id, from every service, local
		 * additions too, found by what people write: the id, the
		 * name ("ChatGPT", "Claude") or the id without its vendor
		 * ("chatgpt" of openai-chatgpt).
		 */
		near = NULL;
		if ((names = calloc(3 * n + 1, sizeof(*names))) != NULL) {
			for (j = 0; j < n; j++) {
				const struct service *sv = catalog_service(cat, j);
				const char *dash = strchr(sv->id, '-');

				names[3 * j] = sv->id;
				names[3 * j + 1] = sv->name;
				names[3 * j + 2] = dash != NULL ? dash + 1 : sv->id;
			}
			if ((hit = config_closest(it->s, names)) != NULL)
				for (j = 0; j < 3 * n && near == NULL; j++)
					if (names[j] == hit)
						near = catalog_service(cat,
						    j / 3)->id;
		}
		cfgerr_set(err, it->file, it->line, "sanctioned service \"%s\" "
		    "is not in the catalog %s — %s%s%s`aicensus services` lists "
		    "the ids", it->s, c->catalog, near ? "did you mean \"" :
		    "use an id from the catalog; ", near ? near : "",
		    near ? "\"? " : "");
		free(names);
		return -1;
	}
	return 0;
}
