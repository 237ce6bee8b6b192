/*
 * test_devkey.c - the weekly device key: a 0600 file in a temporary
 * state directory, stable hashes within a week, rotation at the week
 * boundary, throw-away keys for past weeks, corrupt and hostile key
 * files, and the in-memory mode.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devkey.h"
#include "log.h"
#include "siphash.h"
#include "t.h"

#define KEYLEN	28		/* magic (8), week (4), key (16) */

static char dir[64];
static char keypath[128];

static const uint8_t ADDR[16] = { 'A', 'D', 'D', 'R', 'E', 'S', 'S', '-',
	'M', 'A', 'R', 'K', 'E', 'R', '!', '!' };
static const uint8_t ADDR2[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	10, 0, 0, 42 };

static void
mkstate(void)
{
	snprintf(dir, sizeof(dir), "/tmp/unittests-devkey-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(keypath, sizeof(keypath), "%s/devkey", dir);
}

/* Remove everything in the state directory, then the directory. */
static void
rmstate(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

static int
nfiles(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Read a file whole; returns its length or -1. */
static long
slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

static void
spit(const char *path, const void *buf, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return;
	fwrite(buf, 1, n, f);
	fclose(f);
}

static int
contains(const uint8_t *h, size_t hl, const uint8_t *n, size_t nl)
{
	size_t i;

	for (i = 0; i + nl <= hl; i++)
		if (memcmp(h + i, n, nl) == 0)
			return 1;
	return 0;
}

static int32_t
file_week(const uint8_t *b)
{
	return (int32_t)(((uint32_t)b[8] << 24) | ((uint32_t)b[9] << 16) |
	    ((uint32_t)b[10] << 8) | b[11]);
}

static void
test_file_and_week(void)
{
	char err[256] = "";
	struct devkey *k;
	struct stat sb;
	uint8_t f1[64], f2[64], f3[64];
	uint64_t h1, h1b, h2, h3, h1again;
	long n;

	mkstate();
	k = devkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		return;
	T_EQ_INT(devkey_week(k), 0);
	T_EQ_INT(devkey_rotations(k), 0);

	h1 = devkey_hash(k, 202647, ADDR);
	T_EQ_INT(devkey_week(k), 202647);
	T_EQ_INT(devkey_rotations(k), 1);
	T_EQ_INT(stat(keypath, &sb), 0);
	T_CHECK(S_ISREG(sb.st_mode));
	T_EQ_INT(sb.st_mode & 07777, 0600);
	T_EQ_INT(sb.st_size, KEYLEN);
	T_EQ_INT(nfiles(), 1);			/* no temporary left over */

	/* same week, same address: same hash; other address: other hash */
	T_EQ_INT(devkey_hash(k, 202647, ADDR), h1);
	h1b = devkey_hash(k, 202647, ADDR2);
	T_CHECK(h1b != h1);
	T_EQ_INT(devkey_rotations(k), 1);

	/* the file holds the key (and never the address) */
	n = slurp(keypath, f1, sizeof(f1));
	T_EQ_INT(n, KEYLEN);
	T_CHECK(memcmp(f1, "AICKEY1\n", 8) == 0);
	T_EQ_INT(file_week(f1), 202647);
	T_EQ_INT(siphash24(f1 + 12, ADDR, 16), h1);
	T_CHECK(!contains(f1, (size_t)n, ADDR, 16));
	T_CHECK(!contains(f1, (size_t)n, ADDR2 + 10, 6));
	devkey_close(k);

	/* a restart within the week counts the same devices */
	k = devkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		return;
	T_EQ_INT(devkey_week(k), 202647);
	T_EQ_INT(devkey_hash(k, 202647, ADDR), h1);
	T_EQ_INT(devkey_hash(k, 202647, ADDR2), h1b);
	T_EQ_INT(devkey_rotations(k), 0);
	T_EQ_INT(slurp(keypath, f2, sizeof(f2)), KEYLEN);
	T_CHECK(memcmp(f1, f2, KEYLEN) == 0);	/* not rewritten */

	/* the next week: a new key, written over the old one */
	h2 = devkey_hash(k, 202648, ADDR);
	T_CHECK(h2 != h1);
	T_EQ_INT(devkey_week(k), 202648);
	T_EQ_INT(devkey_rotations(k), 1);
	T_EQ_INT(slurp(keypath, f2, sizeof(f2)), KEYLEN);
	T_EQ_INT(file_week(f2), 202648);
	T_CHECK(memcmp(f1 + 12, f2 + 12, 16) != 0);
	T_EQ_INT(siphash24(f2 + 12, ADDR, 16), h2);
	T_EQ_INT(stat(keypath, &sb), 0);
	T_EQ_INT(sb.st_mode & 07777, 0600);
	T_EQ_INT(nfiles(), 1);

	/* a past week: a throw-away key, never the wiped one, not saved */
	h1again = devkey_hash(k, 202647, ADDR);
	T_CHECK(h1again != h1);
	T_CHECK(h1again != h2);
	T_EQ_INT(devkey_hash(k, 202647, ADDR), h1again);	/* stable */
	T_EQ_INT(devkey_week(k), 202648);
	T_EQ_INT(devkey_rotations(k), 1);
	T_EQ_INT(slurp(keypath, f3, sizeof(f3)), KEYLEN);
	T_CHECK(memcmp(f2, f3, KEYLEN) == 0);
	h3 = devkey_hash(k, 202601, ADDR);
	T_CHECK(h3 != h1again && h3 != h2);
	/* the current week is unaffected by past-week traffic */
	T_EQ_INT(devkey_hash(k, 202648, ADDR), h2);
	devkey_close(k);

	/* after the restart the current week's key is back */
	k = devkey_open(dir, err, sizeof(err));
	T_EQ_INT(devkey_hash(k, 202648, ADDR), h2);
	/* a year boundary is a week boundary too */
	T_CHECK(devkey_hash(k, 202701, ADDR) != h2);
	T_EQ_INT(devkey_week(k), 202701);
	devkey_close(k);
	rmstate();
}

static void
test_corrupt_file(void)
{
	static const char *garbage[] = {
		"", "AICKEY1\n", "AICKEY2\n0123456789abcdef0123",
		"not a key file at all, not at all",
	};
	char err[256];
	struct devkey *k;
	uint8_t good[64], now[64];
	uint64_t h;
	size_t i;

	mkstate();
	k = devkey_open(dir, err, sizeof(err));
	h = devkey_hash(k, 202610, ADDR);
	devkey_close(k);
	T_EQ_INT(slurp(keypath, good, sizeof(good)), KEYLEN);

	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		spit(keypath, garbage[i], strlen(garbage[i]));
		k = devkey_open(dir, err, sizeof(err));
		T_CHECK(k != NULL);
		if (k == NULL)
			continue;
		T_EQ_INT(devkey_week(k), 0);	/* nothing usable loaded */
		T_CHECK(devkey_hash(k, 202610, ADDR) != h);
		T_EQ_INT(devkey_rotations(k), 1);
		/* and the file is a valid key file again */
		T_EQ_INT(slurp(keypath, now, sizeof(now)), KEYLEN);
		T_CHECK(memcmp(now, "AICKEY1\n", 8) == 0);
		T_EQ_INT(file_week(now), 202610);
		devkey_close(k);
	}
	/* a truncated copy of a good file is corrupt too */
	spit(keypath, good, KEYLEN - 1);
	k = devkey_open(dir, err, sizeof(err));
	T_EQ_INT(devkey_week(k), 0);
	T_CHECK(devkey_hash(k, 202610, ADDR) != h);
	devkey_close(k);
	/* an intact copy restores the old key exactly */
	spit(keypath, good, KEYLEN);
	k = devkey_open(dir, err, sizeof(err));
	T_EQ_INT(devkey_week(k), 202610);
	T_EQ_INT(devkey_hash(k, 202610, ADDR), h);
	devkey_close(k);
	rmstate();
}

/* A symlink planted as the key file is neither read nor written through. */
static void
test_symlink(void)
{
	char err[256], victim[160];
	struct devkey *k;
	uint8_t buf[64];
	struct stat sb;

	mkstate();
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	spit(victim, "precious", 8);
	T_EQ_INT(symlink(victim, keypath), 0);
	k = devkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		return;
	T_EQ_INT(devkey_week(k), 0);
	devkey_hash(k, 202620, ADDR);
	T_EQ_INT(slurp(victim, buf, sizeof(buf)), 8);
	T_CHECK(memcmp(buf, "precious", 8) == 0);
	T_EQ_INT(lstat(keypath, &sb), 0);
	T_CHECK(S_ISREG(sb.st_mode));		/* the link was replaced */
	devkey_close(k);
	rmstate();
}

static void
test_memory_only(void)
{
	char err[256];
	struct devkey *a = devkey_open(NULL, err, sizeof(err));
	struct devkey *b = devkey_open("", err, sizeof(err));
	uint64_t ha, hb;

	T_CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		return;
	ha = devkey_hash(a, 202647, ADDR);
	hb = devkey_hash(b, 202647, ADDR);
	T_EQ_INT(devkey_hash(a, 202647, ADDR), ha);
	T_CHECK(ha != hb);			/* independent random keys */
	T_EQ_INT(devkey_week(a), 202647);
	T_EQ_INT(devkey_rotations(a), 1);
	T_CHECK(devkey_hash(a, 202648, ADDR) != ha);
	T_EQ_INT(devkey_rotations(a), 2);
	T_CHECK(devkey_hash(a, 202647, ADDR) != ha);	/* wiped */
	devkey_close(a);
	devkey_close(b);
	devkey_close(NULL);
}

static void
test_bad_state_dir(void)
{
	char err[256] = "", file[160];
	struct devkey *k;

	k = devkey_open("/nonexistent/aicensus-state", err, sizeof(err));
	T_CHECK(k == NULL);
	T_CHECK(err[0] != '\0');
	mkstate();
	snprintf(file, sizeof(file), "%s/plain", dir);
	spit(file, "x", 1);
	err[0] = '\0';
	k = devkey_open(file, err, sizeof(err));
	T_CHECK(k == NULL);
	T_CHECK(err[0] != '\0');
	rmstate();
}

/* Many rotations: the file always holds exactly the current key. */
static void
test_many_rotations(void)
{
	char err[256];
	struct devkey *k;
	uint8_t f[64];
	int32_t w;
	int bad = 0;

	mkstate();
	k = devkey_open(dir, err, sizeof(err));
	for (w = 202601; w <= 202653; w++) {
		uint64_t h = devkey_hash(k, w, ADDR2);

		if (slurp(keypath, f, sizeof(f)) != KEYLEN ||
		    file_week(f) != w || siphash24(f + 12, ADDR2, 16) != h)
			bad++;
	}
	T_EQ_INT(bad, 0);
	T_EQ_INT(devkey_rotations(k), 53);
	T_EQ_INT(nfiles(), 1);
	devkey_close(k);
	rmstate();
}

int
main(void)
{
	log_set_level(LOG_LVL_ERROR);		/* rotations log at info */
	T_RUN(test_file_and_week);
	T_RUN(test_corrupt_file);
	T_RUN(test_symlink);
	T_RUN(test_memory_only);
	T_RUN(test_bad_state_dir);
	T_RUN(test_many_rotations);
	return T_DONE();
}
