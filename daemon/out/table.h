/*
 * table.h - rows of text cells for a person or for a script: on a
 * terminal, columns padded to their widest cell under a header line;
 * otherwise one tab-separated line per row and no header, so `cut -f`
 * and `awk -F'\t'` read it as before.
 *
 * A long stream (inspect over a large capture) is not held whole: the
 * widths are measured over the first `hold` rows, which are then
 * printed, and every later row is printed at once with those widths (a
 * wider cell pushes its line, it is never cut).  hold 0 keeps every row
 * until table_end().
 *
 * Cells hold no tab or line break (the caller escapes them).  Widths
 * count UTF-8 characters, not bytes, so "Société" aligns.
 */
#ifndef AIC_TABLE_H
#define AIC_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct table;

/* right: bit per column, right-aligned (numbers).  NULL: out of memory. */
struct table	*table_new(FILE *out, int aligned, size_t ncols,
		    const char *const *head, unsigned right, size_t hold);
/* Copies the ncols cells (NULL: "").  0, -1 out of memory or a write error. */
int		 table_row(struct table *, const char *const *cells);
/* Prints what is held, frees; 0, -1 when a row could not be kept or written. */
int		 table_end(struct table *);

/* Frees without printing what is held (NULL: nothing). */
void		 table_discard(struct table *);

/* Characters of a UTF-8 string: bytes that do not continue a sequence. */
size_t		 table_width(const char *s);

#endif /* AIC_TABLE_H */
