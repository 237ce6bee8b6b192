/*
 * test_regress.c - replay every saved fuzzing input through the fuzz
 * targets' own entry points.
 *
 * Each fuzz/fuzz_<name>.c is included here with FUZZ_REGRESS defined,
 * which names its entry points fuzz_one_<name> / fuzz_init_<name>, and
 * every file in tests/regress/<name>/ (README files and dotfiles aside)
 * is fed to it once: the same code, the same checks, the same
 * invariants as under libFuzzer, in the plain build and, with `make
 * check`, under ASan and UBSan.  A crash fails the suite; a target with
 * no saved inputs is skipped without running its set-up.  Run from the
 * source tree (tests/data and config/ are read from there).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZ_REGRESS 1

#include "../../fuzz/fuzz_decode.c"
#include "../../fuzz/fuzz_dns.c"
#include "../../fuzz/fuzz_tls.c"
#include "../../fuzz/fuzz_quic.c"
#include "../../fuzz/fuzz_tcp_reasm.c"
#include "../../fuzz/fuzz_quic_reasm.c"
#include "../../fuzz/fuzz_config.c"
#include "../../fuzz/fuzz_catalog.c"
#include "../../fuzz/fuzz_api.c"
#include "../../fuzz/fuzz_wacc.c"

#include "t.h"

#define REGRESS_DIR	"tests/regress"
#define REGRESS_MAX	(1u << 20)	/* larger inputs are not fuzz inputs */

/* libconfig 1.5's own leak on syntax errors: see fuzz/fuzz.h. */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig_yylex\nleak:strbuf_append\n";
}

struct target {
	const char	*name;
	int		(*one)(const uint8_t *, size_t);
	int		(*init)(int *, char ***);
};

static const struct target targets[] = {
	{ "decode", fuzz_one_decode, NULL },
	{ "dns", fuzz_one_dns, NULL },
	{ "tls", fuzz_one_tls, NULL },
	{ "quic", fuzz_one_quic, fuzz_init_quic },
	{ "tcp_reasm", fuzz_one_tcp_reasm, fuzz_init_tcp_reasm },
	{ "quic_reasm", fuzz_one_quic_reasm, fuzz_init_quic_reasm },
	{ "config", fuzz_one_config, fuzz_init_config },
	{ "catalog", fuzz_one_catalog, fuzz_init_catalog },
	{ "api", fuzz_one_api, fuzz_init_api },
	{ "wacc", fuzz_one_wacc, fuzz_init_wacc },
};

static int
skip_name(const char *n)
{
	return n[0] == '.' || strncmp(n, "README", 6) == 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The input files of one target, sorted; NULL-terminated, or NULL. */
static char **
inputs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL, **nv;
	size_t n = 0;

	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (skip_name(e->d_name))
			continue;
		if ((nv = realloc(v, (n + 2) * sizeof(*v))) == NULL ||
		    (nv[n] = strdup(e->d_name)) == NULL) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
		v = nv;
		v[++n] = NULL;
	}
	closedir(d);
	if (v != NULL)
		qsort(v, n, sizeof(*v), by_name);
	return v;
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	struct stat sb;

	if (fp == NULL || fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (size_t)sb.st_size > REGRESS_MAX) {
		if (fp != NULL)
			fclose(fp);
		return NULL;
	}
	/* an exact-size copy, so ASan sees any read past the input */
	if ((buf = malloc(sb.st_size > 0 ? (size_t)sb.st_size : 1)) == NULL ||
	    fread(buf, 1, (size_t)sb.st_size, fp) != (size_t)sb.st_size) {
		free(buf);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	*len = (size_t)sb.st_size;
	return buf;
}

static void
replay(const struct target *t)
{
	char dir[256], path[512];
	char **files;
	size_t i, n = 0;

	snprintf(dir, sizeof(dir), "%s/%s", REGRESS_DIR, t->name);
	if ((files = inputs(dir)) == NULL) {
		fprintf(stderr, "regress: %-10s no saved inputs\n", t->name);
		return;
	}
	if (t->init != NULL)
		t->init(NULL, NULL);
	for (i = 0; files[i] != NULL; i++) {
		uint8_t *data;
		size_t len = 0;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		data = slurp(path, &len);
		if (data == NULL) {
			fprintf(stderr, "regress: cannot read %s\n", path);
			T_CHECK(data != NULL);
		} else {
			/* a crash here ends the run: that is the failure */
			T_EQ_INT(t->one(data, len), 0);
			n++;
		}
		free(data);
		free(files[i]);
	}
	free(files);
	fprintf(stderr, "regress: %-10s %zu inputs replayed\n", t->name, n);
}

static void
test_regress_all(void)
{
	size_t i;

	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		replay(&targets[i]);
	T_CHECK(1);	/* an empty tests/regress is a pass, not a failure */
}

int
main(void)
{
	T_RUN(test_regress_all);
	return T_DONE();
}
