/*
 * test_table.c - out/table.c: on a terminal a header and columns padded
 * to the widest cell (numbers right-aligned, no trailing blanks, UTF-8
 * counted as characters); piped, the rows alone, tab-separated, exactly
 * as given; a long stream measured over its first rows and then printed
 * as it comes, a wider cell pushing its line rather than being cut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out/table.h"
#include "t.h"

static const char *const head[] = { "id", "name", "n" };

/* What the table printed, as one string (free it). */
static char *
run(int aligned, size_t hold, const char *const rows[][3], size_t nrows)
{
	struct table *t;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	t = table_new(f, aligned, 3, head, 1u << 2, hold);
	T_CHECK(t != NULL);
	for (i = 0; t != NULL && i < nrows; i++)
		T_EQ_INT(table_row(t, rows[i]), 0);
	T_EQ_INT(table_end(t), 0);
	fclose(f);
	return buf;
}

static void
test_width(void)
{
	T_EQ_INT(table_width(""), 0);
	T_EQ_INT(table_width("chatgpt"), 7);
	T_EQ_INT(table_width("Soci\xc3\xa9t\xc3\xa9"), 7);	/* Société */
	T_EQ_INT(table_width("\xe6\x96\x87\xe5\xbf\x83"), 2);	/* 文心 */
}

static const char *const rows[][3] = {
	{ "chatgpt", "ChatGPT", "12" },
	{ "mistral", "Le Chat (Soci\xc3\xa9t\xc3\xa9)", "7" },
	{ "x", NULL, "1034" },
};

static void
test_aligned(void)
{
	char *s = run(1, 0, rows, 3);

	T_EQ_STR(s,
	    "id       name                  n\n"
	    "chatgpt  ChatGPT              12\n"
	    "mistral  Le Chat (Soci\xc3\xa9t\xc3\xa9)     7\n"
	    "x                           1034\n");
	free(s);
}

static void
test_piped(void)
{
	char *s = run(0, 0, rows, 3);

	/* no header, no padding: the cells as given */
	T_EQ_STR(s,
	    "chatgpt\tChatGPT\t12\n"
	    "mistral\tLe Chat (Soci\xc3\xa9t\xc3\xa9)\t7\n"
	    "x\t\t1034\n");
	free(s);
	s = run(0, 0, rows, 0);
	T_EQ_STR(s, "");
	free(s);
	s = run(1, 0, rows, 0);
	T_EQ_STR(s, "id  name  n\n");
	free(s);
}

static void
test_stream(void)
{
	static const char *const more[][3] = {
		{ "a", "A", "1" },
		{ "bb", "B", "22" },
		{ "a-much-longer-id", "C", "3" },
	};
	char *s = run(1, 3, more, 3);

	/* header and two rows measured; the third printed with their widths */
	T_EQ_STR(s,
	    "id  name   n\n"
	    "a   A      1\n"
	    "bb  B     22\n"
	    "a-much-longer-id  C      3\n");
	free(s);
}

int
main(void)
{
	T_RUN(test_width);
	T_RUN(test_aligned);
	T_RUN(test_piped);
	T_RUN(test_stream);
	return T_DONE();
}
