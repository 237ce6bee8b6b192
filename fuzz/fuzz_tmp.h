/*
 * fuzz_tmp.h - a private temporary directory ($TMPDIR or /tmp) for the
 * targets that need files: the loaders hand the input to config_load()
 * / catalog_load() as a file (removed again after each input, see
 * tmp_done()), the API target keeps its web root, database and socket
 * there.  The directory goes at exit; a crash leaves it behind, which is
 * why `make fuzz` points TMPDIR into build-fuzz/.
 */
#ifndef AIC_FUZZ_TMP_H
#define AIC_FUZZ_TMP_H

#include <dirent.h>
#include <unistd.h>

#include "fuzz.h"

static char tmp_dir[256];

/* Remove dir and everything under it (symlinks are not followed). */
static void
tmp_rmtree(const char *dir)
{
	DIR *d;
	struct dirent *e;
	char path[512];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			tmp_rmtree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void
tmp_cleanup(void)
{
	if (tmp_dir[0] != '\0')
		tmp_rmtree(tmp_dir);
	tmp_dir[0] = '\0';
}

/* A new directory under $TMPDIR (or /tmp) into buf. */
static FUZZ_UNUSED void
tmp_make(char *buf, size_t len)
{
	const char *base = getenv("TMPDIR");

	snprintf(buf, len, "%s/aicensus-fuzz-XXXXXX",
	    base != NULL && base[0] == '/' && strlen(base) < 64 ? base :
	    "/tmp");
	if (mkdtemp(buf) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
}

/* The loaders' directory, created on first use. */
static FUZZ_UNUSED const char *
tmp_get(void)
{
	static int registered;

	if (tmp_dir[0] != '\0')
		return tmp_dir;
	if (!registered) {
		atexit(tmp_cleanup);
		registered = 1;
	}
	tmp_make(tmp_dir, sizeof(tmp_dir));
	return tmp_dir;
}

/* Remove the directory with all in it (after each loader input). */
static FUZZ_UNUSED void
tmp_done(void)
{
	tmp_cleanup();
}

/* Write p[0..len) to <dir>/name; the path goes to out. */
static FUZZ_UNUSED void
tmp_write(const char *name, const uint8_t *p, size_t len, char *out,
    size_t outlen)
{
	FILE *fp;

	snprintf(out, outlen, "%s/%s", tmp_get(), name);
	if ((fp = fopen(out, "wb")) == NULL ||
	    (len > 0 && fwrite(p, 1, len, fp) != len) || fclose(fp) != 0) {
		perror("fuzz: writing the input");
		abort();
	}
}

/* Write a string to an absolute path. */
static FUZZ_UNUSED void
tmp_write_abs(const char *path, const char *text)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) != 0) {
		perror("fuzz: writing a file");
		abort();
	}
}

#endif /* AIC_FUZZ_TMP_H */
