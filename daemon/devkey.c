/*
 * devkey.c - load, rotate and wipe the weekly device key.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devkey.h"
#include "log.h"
#include "siphash.h"

#define KEY_MAGIC	"AICKEY1\n"
#define KEY_FILE	"devkey"

struct devkey {
	char		 path[4096];	/* "" when not persisted */
	int32_t		 week;		/* week of key, 0 = none yet */
	uint8_t		 key[16];
	int32_t		 past_week;	/* throw-away key for old traffic */
	uint8_t		 past_key[16];
	unsigned	 rotations;
};

static void
wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

static int
fresh_key(uint8_t key[16])
{
	size_t got = 0;

	while (got < 16) {
		ssize_t n = getrandom(key + got, 16 - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static int
load(struct devkey *k)
{
	uint8_t buf[8 + 4 + 16];
	int fd;
	ssize_t n;

	if ((fd = open(k->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != (ssize_t)sizeof(buf) || memcmp(buf, KEY_MAGIC, 8) != 0) {
		wipe(buf, sizeof(buf));
		return -1;
	}
	k->week = (int32_t)(((uint32_t)buf[8] << 24) | ((uint32_t)buf[9] << 16) |
	    ((uint32_t)buf[10] << 8) | buf[11]);
	memcpy(k->key, buf + 12, 16);
	wipe(buf, sizeof(buf));
	return 0;
}

/*
 * Overwrite the old key in place before the new file replaces it, so the
 * old key's blocks are not simply left behind by the rename (on file
 * systems that write in place; copy-on-write ones may still keep them).
 */
static void
wipe_file(const char *path)
{
	uint8_t zero[8 + 4 + 16];
	int fd;

	memset(zero, 0, sizeof(zero));
	if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return;
	if (write(fd, zero, sizeof(zero)) == (ssize_t)sizeof(zero))
		(void)fsync(fd);
	close(fd);
}

/* Write to a temporary file, fsync, rename: never a half-written key. */
static int
save(const struct devkey *k)
{
	char tmp[4200];
	uint8_t buf[8 + 4 + 16];
	int fd, rc = -1;

	if (k->path[0] == '\0')
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", k->path);
	wipe_file(k->path);
	memcpy(buf, KEY_MAGIC, 8);
	buf[8] = (uint8_t)(k->week >> 24);
	buf[9] = (uint8_t)(k->week >> 16);
	buf[10] = (uint8_t)(k->week >> 8);
	buf[11] = (uint8_t)k->week;
	memcpy(buf + 12, k->key, 16);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd >= 0) {
		if (write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) &&
		    fsync(fd) == 0)
			rc = 0;
		close(fd);
		if (rc == 0 && rename(tmp, k->path) != 0)
			rc = -1;
		if (rc != 0)
			unlink(tmp);
	}
	wipe(buf, sizeof(buf));
	return rc;
}

struct devkey *
devkey_open(const char *state_dir, char *err, unsigned errlen)
{
	struct devkey *k;
	struct stat sb;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (state_dir == NULL || *state_dir == '\0')
		return k;
	if (stat(state_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		int e = errno;

		if (stat(state_dir, &sb) == 0)
			e = ENOTDIR;
		snprintf(err, errlen, "state directory %s: %s", state_dir,
		    strerror(e));
		free(k);
		return NULL;
	}
	snprintf(k->path, sizeof(k->path), "%s/%s", state_dir, KEY_FILE);
	if (load(k) != 0)
		k->week = 0;
	return k;
}

void
devkey_close(struct devkey *k)
{
	if (k == NULL)
		return;
	wipe(k, sizeof(*k));
	free(k);
}

int32_t
devkey_week(const struct devkey *k)
{
	return k->week;
}

unsigned
devkey_rotations(const struct devkey *k)
{
	return k->rotations;
}

static const uint8_t *
key_for(struct devkey *k, int32_t week)
{
	if (week == k->week)
		return k->key;
	if (week > k->week) {
		/* a new week: the old key is gone for good */
		wipe(k->key, sizeof(k->key));
		if (fresh_key(k->key) != 0)
			fatalx("cannot draw a random device key");
		k->week = week;
		k->rotations++;
		if (save(k) != 0)
			log_warn("cannot write the device key file %s: %s; "
			    "a restart this week will count devices anew",
			    k->path, strerror(errno));
		else
			log_info("device key rotated for ISO week %d-W%02d",
			    week / 100, week % 100);
		return k->key;
	}
	if (week != k->past_week) {
		wipe(k->past_key, sizeof(k->past_key));
		if (fresh_key(k->past_key) != 0)
			fatalx("cannot draw a random device key");
		k->past_week = week;
	}
	return k->past_key;
}

uint64_t
devkey_hash(struct devkey *k, int32_t week, const uint8_t addr[16])
{
	return siphash24(key_for(k, week), addr, 16);
}
