/*
 * table.c - aligned on a terminal, tab-separated otherwise (table.h).
 */
#include <stdlib.h>
#include <string.h>

#include "out/table.h"

struct table {
	FILE		 *out;
	int		  aligned;
	size_t		  ncols;
	unsigned	  right;
	size_t		  hold;
	size_t		 *w;		/* widest cell per column */
	char		**held;		/* nheld rows of ncols cells */
	size_t		  nheld, cap;
	int		  streaming;	/* held rows printed, widths fixed */
	int		  failed;
};

size_t
table_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void
put_line(struct table *t, const char *const *cells)
{
	size_t i, pad;

	for (i = 0; i < t->ncols; i++) {
		const char *c = cells[i] != NULL ? cells[i] : "";

		if (!t->aligned) {
			fprintf(t->out, "%s%s", i > 0 ? "\t" : "", c);
			continue;
		}
		pad = t->w[i] > table_width(c) ? t->w[i] - table_width(c) : 0;
		if (i > 0)
			fputs("  ", t->out);
		if (t->right & (1u << i))
			fprintf(t->out, "%*s%s", (int)pad, "", c);
		else if (i + 1 < t->ncols)
			fprintf(t->out, "%s%*s", c, (int)pad, "");
		else
			fputs(c, t->out);	/* no trailing blanks */
	}
	fputc('\n', t->out);
}

static void
measure(struct table *t, const char *const *cells)
{
	size_t i, n;

	for (i = 0; i < t->ncols; i++)
		if (cells[i] != NULL && (n = table_width(cells[i])) > t->w[i])
			t->w[i] = n;
}

struct table *
table_new(FILE *out, int aligned, size_t ncols, const char *const *head,
    unsigned right, size_t hold)
{
	struct table *t;

	if (ncols == 0 || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->w = calloc(ncols, sizeof(*t->w))) == NULL) {
		free(t);
		return NULL;
	}
	t->out = out;
	t->aligned = aligned;
	t->ncols = ncols;
	t->right = right;
	t->hold = hold;
	/* a script reads rows only: the header is for a person */
	if (aligned && table_row(t, head) != 0) {
		free(t->w);
		free(t);
		return NULL;
	}
	return t;
}

/* The held rows, then widths are fixed and rows go out as they come. */
static void
release(struct table *t)
{
	const char *row[32], **v = row;
	size_t r, i;

	if (t->ncols > sizeof(row) / sizeof(row[0]) &&
	    (v = calloc(t->ncols, sizeof(*v))) == NULL) {
		t->failed = 1;
		v = NULL;
	}
	for (r = 0; r < t->nheld; r++) {
		for (i = 0; v != NULL && i < t->ncols; i++)
			v[i] = t->held[r * t->ncols + i];
		if (v != NULL)
			put_line(t, v);
		for (i = 0; i < t->ncols; i++)
			free(t->held[r * t->ncols + i]);
	}
	if (v != row)
		free(v);
	free(t->held);
	t->held = NULL;
	t->nheld = t->cap = 0;
	t->streaming = 1;
}

int
table_row(struct table *t, const char *const *cells)
{
	char **v;
	size_t i, cap;

	if (!t->aligned || t->streaming) {
		put_line(t, cells);
		return ferror(t->out) ? -1 : 0;
	}
	measure(t, cells);
	if (t->nheld == t->cap) {
		cap = t->cap == 0 ? 64 : t->cap * 2;
		if ((v = reallocarray(t->held, cap, t->ncols *
		    sizeof(*v))) == NULL) {
			t->failed = 1;
			return -1;
		}
		t->held = v;
		t->cap = cap;
	}
	v = t->held + t->nheld * t->ncols;
	for (i = 0; i < t->ncols; i++)
		if ((v[i] = strdup(cells[i] != NULL ? cells[i] : "")) ==
		    NULL) {
			while (i-- > 0)
				free(v[i]);
			t->failed = 1;
			return -1;
		}
	t->nheld++;
	if (t->hold > 0 && t->nheld >= t->hold)
		release(t);
	return ferror(t->out) ? -1 : 0;
}

void
table_discard(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nheld * t->ncols; i++)
		free(t->held[i]);
	free(t->held);
	free(t->w);
	free(t);
}

int
table_end(struct table *t)
{
	int rc;

	if (t == NULL)
		return 0;
	release(t);
	rc = t->failed || fflush(t->out) != 0 || ferror(t->out) ? -1 : 0;
	free(t->w);
	free(t);
	return rc;
}
