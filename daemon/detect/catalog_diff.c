/*
 * catalog_diff.c - what an operator is about to change by installing a
 * new catalog (aicensus catalog diff OLD NEW).
 *
 * Services are compared by id, because the id is what the database
 * stores: a service whose id disappears keeps its old counts under the
 * old id, but nothing new is counted for it, which is why every removed
 * id is also a warning (and a removed id whose names now belong to an
 * added one is most likely a rename, which the warning says).
 *
 * One row per change: CHANGE SERVICE WHAT OLD NEW, sorted by service id
 * and, within a service, by what changed; aligned for a person,
 * tab-separated for a script.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/catalog.h"

#define COLS	5

struct row {
	char	c[COLS][200];
	size_t	seq;
};

struct rows {
	struct row	*v;
	size_t		 n, cap;
	int		 oom;
};

static void
row_add(struct rows *r, const char *change, const char *id, const char *what,
    const char *old, const char *new)
{
	const char *cols[COLS] = { change, id, what, old, new };
	struct row *w;
	size_t i;

	if (r->oom)
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct row *v = realloc(r->v, cap * sizeof(*v));

		if (v == NULL) {
			r->oom = 1;
			return;
		}
		r->v = v;
		r->cap = cap;
	}
	w = &r->v[r->n];
	w->seq = r->n++;
	for (i = 0; i < COLS; i++)
		snprintf(w->c[i], sizeof(w->c[i]), "%s",
		    cols[i] != NULL && cols[i][0] != '\0' ? cols[i] : "-");
}

struct name {
	const char	*s;
	int		 exact;
};

static int
cmp_name(const void *a, const void *b)
{
	const struct name *x = a, *y = b;

	if (x->exact != y->exact)
		return x->exact - y->exact;	/* domains, then hosts */
	return strcmp(x->s, y->s);
}

/* The sorted names of service idx; NULL (and *n 0) when it has none. */
static struct name *
names_of(const struct catalog *cat, size_t idx, size_t *n)
{
	const char **s;
	struct name *v;
	int *ex;
	size_t i, k;

	*n = 0;
	k = catalog_names(cat, idx, NULL, NULL, 0);
	if (k == 0)
		return NULL;
	s = calloc(k, sizeof(*s));
	ex = calloc(k, sizeof(*ex));
	v = calloc(k, sizeof(*v));
	if (s == NULL || ex == NULL || v == NULL) {
		free(s);
		free(ex);
		free(v);
		return NULL;
	}
	catalog_names(cat, idx, s, ex, k);
	for (i = 0; i < k; i++) {
		v[i].s = s[i];
		v[i].exact = ex[i];
	}
	free(s);
	free(ex);
	qsort(v, k, sizeof(*v), cmp_name);
	*n = k;
	return v;
}

static int
has_name(const struct name *v, size_t n, const struct name *x)
{
	/* bsearch() must not be given a NULL array, even an empty one */
	if (v == NULL || n == 0)
		return 0;
	return bsearch(x, v, n, sizeof(*v), cmp_name) != NULL;
}

/* Rows for the names only one side has; -1 on allocation failure. */
static int
diff_names(struct rows *r, const struct catalog *old, int io,
    const struct catalog *new, int in, const char *id)
{
	struct name *a = NULL, *b = NULL;
	size_t na = 0, nb = 0, i;

	if (io >= 0 && catalog_names(old, (size_t)io, NULL, NULL, 0) > 0 &&
	    (a = names_of(old, (size_t)io, &na)) == NULL)
		return -1;
	if (in >= 0 && catalog_names(new, (size_t)in, NULL, NULL, 0) > 0 &&
	    (b = names_of(new, (size_t)in, &nb)) == NULL) {
		free(a);
		return -1;
	}
	for (i = 0; i < na; i++)
		if (!has_name(b, nb, &a[i]))
			row_add(r, io >= 0 && in >= 0 ? "changed" : "removed",
			    id, a[i].exact ? "host" : "domain", a[i].s, NULL);
	for (i = 0; i < nb; i++)
		if (!has_name(a, na, &b[i]))
			row_add(r, io >= 0 && in >= 0 ? "changed" : "added",
			    id, b[i].exact ? "host" : "domain", NULL, b[i].s);
	free(a);
	free(b);
	return 0;
}

static void
diff_field(struct rows *r, const char *id, const char *what, const char *a,
    const char *b)
{
	if (strcmp(a, b) != 0)
		row_add(r, "changed", id, what, a, b);
}

/* A service's facts in one cell: "ChatGPT (OpenAI; chat, US)". */
static const char *
facts(const struct service *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s (%s; %s, %s)", s->name, s->vendor,
	    s->category, s->jurisdiction);
	return buf;
}

/* Which service of new, added by this diff, took over a name of old's io. */
static int
renamed_to(const struct catalog *old, size_t io, const struct catalog *new)
{
	struct name *a;
	size_t na, i;
	int k = -1;

	if ((a = names_of(old, io, &na)) == NULL)
		return -1;
	for (i = 0; i < na && k < 0; i++) {
		int in = catalog_match(new, a[i].s, strlen(a[i].s));

		if (in >= 0 && catalog_find_id(old,
		    catalog_service(new, (size_t)in)->id) < 0)
			k = in;
	}
	free(a);
	return k;
}

static void
print_rows(const struct rows *r, FILE *out, int tabs)
{
	static const char *const head[COLS] = {
		"CHANGE", "SERVICE", "WHAT", "OLD", "NEW"
	};
	size_t w[COLS], i, j;

	for (j = 0; j < COLS; j++)
		w[j] = strlen(head[j]);
	for (i = 0; i < r->n; i++)
		for (j = 0; j < COLS; j++)
			if (strlen(r->v[i].c[j]) > w[j])
				w[j] = strlen(r->v[i].c[j]);
	for (i = 0; i <= r->n; i++) {
		for (j = 0; j < COLS; j++) {
			const char *c = i == 0 ? head[j] : r->v[i - 1].c[j];

			if (tabs)
				fprintf(out, "%s%s", c, j + 1 < COLS ? "\t" :
				    "\n");
			else if (j + 1 < COLS)
				fprintf(out, "%-*s  ", (int)w[j], c);
			else
				fprintf(out, "%s\n", c);
		}
	}
}

static int
cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	int c = strcmp(x->c[1], y->c[1]);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
catalog_diff(const struct catalog *old, const struct catalog *new, FILE *out,
    FILE *warn, int tabs)
{
	struct rows r;
	size_t i, nadd = 0, nrem = 0, nchg = 0, before;
	char b[300];

	memset(&r, 0, sizeof(r));
	for (i = 0; i < catalog_count(old); i++) {
		const struct service *s = catalog_service(old, i);
		int in = catalog_find_id(new, s->id);

		before = r.n;
		if (in < 0) {
			row_add(&r, "removed", s->id, "service",
			    facts(s, b, sizeof(b)), NULL);
			if (diff_names(&r, old, (int)i, new, -1, s->id) == -1)
				goto fail;
			nrem++;
			continue;
		}
		diff_field(&r, s->id, "name", s->name,
		    catalog_service(new, (size_t)in)->name);
		diff_field(&r, s->id, "vendor", s->vendor,
		    catalog_service(new, (size_t)in)->vendor);
		diff_field(&r, s->id, "category", s->category,
		    catalog_service(new, (size_t)in)->category);
		diff_field(&r, s->id, "jurisdiction", s->jurisdiction,
		    catalog_service(new, (size_t)in)->jurisdiction);
		if (diff_names(&r, old, (int)i, new, in, s->id) == -1)
			goto fail;
		if (r.n > before)
			nchg++;
	}
	for (i = 0; i < catalog_count(new); i++) {
		const struct service *s = catalog_service(new, i);

		if (catalog_find_id(old, s->id) >= 0)
			continue;
		row_add(&r, "added", s->id, "service", NULL,
		    facts(s, b, sizeof(b)));
		if (diff_names(&r, old, -1, new, (int)i, s->id) == -1)
			goto fail;
		nadd++;
	}
	if (r.oom)
		goto fail;
	/* by service id; within one, in the order the rows were made */
	if (r.n > 1)
		qsort(r.v, r.n, sizeof(*r.v), cmp_row);
	print_rows(&r, out, tabs);
	for (i = 0; i < catalog_count(old); i++) {
		const struct service *s = catalog_service(old, i);
		int k;

		if (catalog_find_id(new, s->id) >= 0)
			continue;
		k = renamed_to(old, i, new);
		fprintf(warn, "warning: service id '%s' (%s) is not in the new "
		    "catalog: counts collected under it stay in the database, "
		    "but nothing more is counted for it%s%s%s\n", s->id,
		    s->name, k >= 0 ? "; its names now belong to the new id '"
		    : " — keep the id if the service still exists",
		    k >= 0 ? catalog_service(new, (size_t)k)->id : "",
		    k >= 0 ? "': if that is a rename, keep the old id instead"
		    : "");
	}
	fprintf(warn, "%zu added, %zu removed, %zu changed, %zu services "
	    "before, %zu after\n", nadd, nrem, nchg, catalog_count(old),
	    catalog_count(new));
	free(r.v);
	return (int)(nadd + nrem + nchg);
fail:
	free(r.v);
	return -1;
}
