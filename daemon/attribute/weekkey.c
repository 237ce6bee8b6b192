/*
 * weekkey.c - draw, keep, derive from and destroy the secrets of the
 * ISO weeks being counted.
 *
 * Key file format (state_dir/week-YYYYWW.key, exactly KEYFILE_LEN bytes
 * of text, mode 0600):
 *
 *	aicensus weekkey v1\n		the magic line
 *	YYYYWW\n			the ISO week, same as in the name
 *	<64 lower-case hex digits>\n	the 32-byte master secret
 *
 * Anything else (other size, magic, a week that differs from the file
 * name, a non-hex digit) is a damaged file and weekkey_open() fails
 * naming it: silently starting the week anew would count every device
 * of the week twice.  Only the master secret is stored; K_dev, K_rk and
 * K_enc are derived again by HKDF-SHA256 at load, under the labels
 * below, so the three keys are independent of each other and one of
 * them leaking (a device hash, a noise draw) says nothing of the others.
 *
 * A key file is written to a mkstemp(3) file in the state directory,
 * fchmod 0600, fsynced and renamed over the final name, and the
 * directory is fsynced: after a crash there is either the whole key or
 * none.  Leftover temporary files of a crash (".week-*.tmp*") are
 * overwritten and removed at open; so is the key file of the old
 * devkey module (state_dir/devkey), which weekkey replaces and which
 * would otherwise outlive its week.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "common/cfgerr.h"
#include "common/config.h"
#include "common/log.h"
#include "common/period.h"
#include "common/siphash.h"
#include "attribute/weekkey.h"

#define MASTER_LEN	32
#define KEY_MAGIC	"aicensus weekkey v1\n"
#define MAGIC_LEN	(sizeof(KEY_MAGIC) - 1)
#define KEYFILE_LEN	(MAGIC_LEN + 7 + 2 * MASTER_LEN + 1)
#define TMP_PREFIX	".week-"
#define OLD_DEVKEY	"devkey"

/* HKDF info labels: one per derived key, never reused for another. */
#define LABEL_DEV	"aicensus dev v1"
#define LABEL_RK	"aicensus rk v1"
#define LABEL_ENC	"aicensus enc v1"

struct wk {
	int32_t		 week;
	int		 persisted;	/* a key file holds it */
	uint8_t		 master[MASTER_LEN];
	uint8_t		 kdev[16];
	uint8_t		 krk[16];
	uint8_t		 kenc[32];
};

struct weekkey {
	char		 dir[PATH_MAX];	/* "" = memory only */
	struct wk	*k;		/* ascending by week */
	size_t		 n, cap;
	unsigned	 destroyed;
	int		 warned;	/* "cannot persist" logged once */
	/*
	 * The capture path makes keys (weekkey_devhash inserts, which may
	 * move the array) while a flush thread may seal: one lock.
	 */
	pthread_mutex_t	 mu;
};

/* The const API only reads the keys, but still takes the lock. */
static void
lock(const struct weekkey *K)
{
	pthread_mutex_lock((pthread_mutex_t *)&K->mu);
}

static void
unlock(const struct weekkey *K)
{
	pthread_mutex_unlock((pthread_mutex_t *)&K->mu);
}

static void
wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

static int
valid_week(int32_t week)
{
	int y, w;

	period_week_split(week, &y, &w);
	return y >= 1970 && y <= 9999 && w >= 1 && w <= 53;
}

static int
random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(p + got, len - got, 0);

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
hkdf(const uint8_t master[MASTER_LEN], const char *label, uint8_t *out,
    size_t outlen)
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM p[4];
	int rc = -1;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		return -1;
	if ((ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto fail;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)master, MASTER_LEN);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)label, strlen(label));
	p[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, p) == 1)
		rc = 0;
fail:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

static int
derive(struct wk *w)
{
	if (hkdf(w->master, LABEL_DEV, w->kdev, sizeof(w->kdev)) != 0 ||
	    hkdf(w->master, LABEL_RK, w->krk, sizeof(w->krk)) != 0 ||
	    hkdf(w->master, LABEL_ENC, w->kenc, sizeof(w->kenc)) != 0) {
		wipe(w, sizeof(*w));
		return -1;
	}
	return 0;
}

static struct wk *
find(const struct weekkey *K, int32_t week)
{
	size_t i;

	for (i = 0; i < K->n; i++)
		if (K->k[i].week == week)
			return &K->k[i];
	return NULL;
}

/*
 * Insert w keeping the order; the array is never realloc'ed over live
 * keys without wiping the old copy (realloc could leave it in the heap).
 */
static struct wk *
insert(struct weekkey *K, const struct wk *w)
{
	size_t i;

	if (K->n == K->cap) {
		size_t ncap = K->cap ? K->cap * 2 : 4;
		struct wk *nk = calloc(ncap, sizeof(*nk));

		if (nk == NULL)
			return NULL;
		if (K->n > 0)
			memcpy(nk, K->k, K->n * sizeof(*nk));
		if (K->k != NULL) {
			wipe(K->k, K->cap * sizeof(*K->k));
			free(K->k);
		}
		K->k = nk;
		K->cap = ncap;
	}
	for (i = K->n; i > 0 && K->k[i - 1].week > w->week; i--)
		K->k[i] = K->k[i - 1];
	K->k[i] = *w;
	K->n++;
	return &K->k[i];
}

static void
drop(struct weekkey *K, struct wk *w)
{
	size_t i = (size_t)(w - K->k);

	for (; i + 1 < K->n; i++)
		K->k[i] = K->k[i + 1];
	K->n--;
	wipe(&K->k[K->n], sizeof(K->k[K->n]));
}

static void
key_path(const struct weekkey *K, int32_t week, char *buf, size_t len)
{
	snprintf(buf, len, "%s/week-%06d.key", K->dir, (int)week);
}

static int
fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* The owner and mode rules, shared by the directory and the key files. */
static int
check_owner_mode(const char *what, const char *path, const struct stat *sb,
    mode_t want, char *err, size_t errlen)
{
	uid_t me = geteuid();

	/*
	 * Root reads every file anyway and drops to the configured user,
	 * who owns the state directory after the first start.
	 */
	if (sb->st_uid != me && me != 0) {
		snprintf(err, errlen, "%s %s is owned by uid %u, not by the "
		    "user running aicensusd (uid %u): chown %u %s", what, path,
		    (unsigned)sb->st_uid, (unsigned)me, (unsigned)me, path);
		return -1;
	}
	if ((sb->st_mode & 077) != 0) {
		snprintf(err, errlen, "%s %s has mode %04o: group and others "
		    "must have no access to it: chmod %04o %s", what, path,
		    (unsigned)(sb->st_mode & 07777), (unsigned)want, path);
		return -1;
	}
	return 0;
}

int
weekkey_check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (stat(dir, &sb) != 0) {
		snprintf(err, errlen, "state directory %s: %s: create it "
		    "with install -d -m 0700 %s", dir, strerror(errno), dir);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "state directory %s is not a directory",
		    dir);
		return -1;
	}
	return check_owner_mode("state directory", dir, &sb, 0700, err,
	    errlen);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse a whole key file image; 0 ok (w filled in), -1 damaged. */
static int
parse_keyfile(const uint8_t *buf, size_t len, int32_t week, struct wk *w)
{
	const uint8_t *p = buf + MAGIC_LEN;
	int32_t fweek = 0;
	size_t i;

	if (len != KEYFILE_LEN || memcmp(buf, KEY_MAGIC, MAGIC_LEN) != 0)
		return -1;
	for (i = 0; i < 6; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		fweek = fweek * 10 + (p[i] - '0');
	}
	if (p[6] != '\n' || fweek != week)
		return -1;
	p += 7;
	for (i = 0; i < MASTER_LEN; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			wipe(w->master, sizeof(w->master));
			return -1;
		}
		w->master[i] = (uint8_t)(hi << 4 | lo);
	}
	if (p[2 * MASTER_LEN] != '\n') {
		wipe(w->master, sizeof(w->master));
		return -1;
	}
	w->week = week;
	return 0;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static int
load_one(struct weekkey *K, int32_t week, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	uint8_t buf[KEYFILE_LEN + 1];
	struct stat sb;
	struct wk w;
	ssize_t n;
	size_t got = 0;
	int fd, rc = -1;

	memset(&w, 0, sizeof(w));
	key_path(K, week, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) < 0) {
		if (errno == ELOOP)
			snprintf(err, errlen, "key file %s is a symbolic link: "
			    "remove it (rm %s)", path, path);
		else
			snprintf(err, errlen, "key file %s: %s", path,
			    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "key file %s is not a regular file: "
		    "remove it", path);
		goto fail;
	}
	if (check_owner_mode("key file", path, &sb, 0600, err, errlen) != 0)
		goto fail;
	while (got < sizeof(buf)) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "key file %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (all_zero(buf, got)) {
		/*
		 * weekkey_destroy() zeroes a file in place before unlinking
		 * it: a crash in between leaves this.  The key is gone
		 * already; finish the destruction.
		 */
		if (unlink(path) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "key file %s: destroyed but not "
			    "removed: %s (rm %s)", path, strerror(errno), path);
			goto fail;
		}
		(void)fsync_dir(K->dir);
		log_info("key file %s: a destruction interrupted by a crash "
		    "finished", path);
		rc = 0;
		goto fail;
	}
	if (parse_keyfile(buf, got, week, &w) != 0) {
		snprintf(err, errlen, "key file %s is damaged: restore it, or "
		    "remove it to count that week's devices anew (rm %s)",
		    path, path);
		goto fail;
	}
	if (derive(&w) != 0) {
		snprintf(err, errlen, "key file %s: cannot derive the keys "
		    "(HKDF-SHA256 unavailable in libcrypto)", path);
		goto fail;
	}
	w.persisted = 1;
	if (insert(K, &w) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rc = 0;
fail:
	close(fd);
	wipe(buf, sizeof(buf));
	wipe(&w, sizeof(w));
	return rc;
}

/*
 * Overwrite a file's bytes with zeros in place and fsync, so the secret
 * is not simply left in freed blocks by the unlink that follows (on file
 * systems that write in place; copy-on-write ones and SSD remapping may
 * still keep an old block, which is why the directory must be 0700 on
 * an encrypted or dedicated volume).  ENOENT is success.
 */
static int
zero_file(const char *path)
{
	uint8_t zero[512];
	struct stat sb;
	off_t left;
	int fd, rc = -1;

	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		goto fail;
	memset(zero, 0, sizeof(zero));
	for (left = sb.st_size; left > 0;) {
		size_t chunk = left > (off_t)sizeof(zero) ? sizeof(zero) :
		    (size_t)left;
		ssize_t n = write(fd, zero, chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		left -= n;
	}
	if (fsync(fd) != 0)
		goto fail;
	rc = 0;
fail:
	close(fd);
	return rc;
}

/* Zero and remove one file; 0 when it is gone (or never was). */
static int
shred(const char *path)
{
	int zrc = zero_file(path);

	if (unlink(path) != 0 && errno != ENOENT)
		return -1;
	return zrc;
}

static int
is_keyfile_name(const char *s, int32_t *week)
{
	int32_t w = 0;
	size_t i;

	if (strlen(s) != 15 || strncmp(s, "week-", 5) != 0 ||
	    strcmp(s + 11, ".key") != 0)
		return 0;
	for (i = 5; i < 11; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		w = w * 10 + (s[i] - '0');
	}
	if (!valid_week(w))
		return 0;
	*week = w;
	return 1;
}

static int
load_dir(struct weekkey *K, char *err, size_t errlen)
{
	char path[PATH_MAX + 300];
	struct dirent *e;
	DIR *d;
	int32_t week;
	int rc = 0, removed = 0;

	if ((d = opendir(K->dir)) == NULL) {
		snprintf(err, errlen, "state directory %s: %s", K->dir,
		    strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (is_keyfile_name(e->d_name, &week)) {
			rc = load_one(K, week, err, errlen);
		} else if (strncmp(e->d_name, TMP_PREFIX,
		    strlen(TMP_PREFIX)) == 0 ||
		    strcmp(e->d_name, OLD_DEVKEY) == 0) {
			/* a crash's temporary key, or the pre-weekkey key */
			snprintf(path, sizeof(path), "%s/%s", K->dir,
			    e->d_name);
			if (shred(path) != 0)
				log_warn("cannot remove the stale key file %s",
				    path);
			else
				removed++;
		}
	}
	closedir(d);
	if (removed > 0) {
		(void)fsync_dir(K->dir);
		log_info("removed %d stale key file%s from %s", removed,
		    removed == 1 ? "" : "s", K->dir);
	}
	return rc;
}

struct weekkey *
weekkey_open(const char *state_dir, char *err, size_t errlen)
{
	struct weekkey *K;

	if ((K = calloc(1, sizeof(*K))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&K->mu, NULL);
	if (state_dir == NULL || *state_dir == '\0')
		return K;
	if (strlen(state_dir) >= sizeof(K->dir) - 32) {
		snprintf(err, errlen, "state directory %s: name too long",
		    state_dir);
		goto fail;
	}
	snprintf(K->dir, sizeof(K->dir), "%s", state_dir);
	if (weekkey_check_dir(K->dir, err, errlen) != 0 ||
	    load_dir(K, err, errlen) != 0)
		goto fail;
	return K;
fail:
	weekkey_close(K);
	return NULL;
}

void
weekkey_close(struct weekkey *K)
{
	if (K == NULL)
		return;
	if (K->k != NULL) {
		wipe(K->k, K->cap * sizeof(*K->k));
		free(K->k);
	}
	pthread_mutex_destroy(&K->mu);
	wipe(K, sizeof(*K));
	free(K);
}

int
weekkey_has(const struct weekkey *K, int32_t week)
{
	int rc;

	lock(K);
	rc = find(K, week) != NULL;
	unlock(K);
	return rc;
}

size_t
weekkey_list(const struct weekkey *K, int32_t *weeks, size_t max)
{
	size_t i;

	lock(K);
	for (i = 0; i < K->n && i < max; i++)
		weeks[i] = K->k[i].week;
	unlock(K);
	return i;
}

/* Write the key file of w: temporary file, 0600, fsync, rename, fsync. */
static int
save(const struct weekkey *K, const struct wk *w)
{
	static const char hex[] = "0123456789abcdef";
	char path[PATH_MAX + 32], tmp[PATH_MAX + 48];
	uint8_t buf[KEYFILE_LEN];
	uint8_t *p;
	size_t i, off = 0;
	int32_t v;
	int fd, rc = -1, e = 0;

	key_path(K, w->week, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s/" TMP_PREFIX "%06d.tmpXXXXXX", K->dir,
	    (int)w->week);
	memcpy(buf, KEY_MAGIC, MAGIC_LEN);
	p = buf + MAGIC_LEN;
	for (i = 0, v = w->week; i < 6; i++, v /= 10)
		p[5 - i] = (uint8_t)('0' + v % 10);
	p[6] = '\n';
	p += 7;
	for (i = 0; i < MASTER_LEN; i++) {
		p[2 * i] = (uint8_t)hex[w->master[i] >> 4];
		p[2 * i + 1] = (uint8_t)hex[w->master[i] & 15];
	}
	p[2 * MASTER_LEN] = '\n';
	if ((fd = mkstemp(tmp)) < 0) {
		e = errno;
		goto out;
	}
	if (fchmod(fd, 0600) != 0)
		goto fail;
	while (off < sizeof(buf)) {
		ssize_t n = write(fd, buf + off, sizeof(buf) - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	if (fsync_dir(K->dir) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	(void)shred(tmp);
out:
	wipe(buf, sizeof(buf));
	errno = e;
	return rc;
}

/* Draw a week's key; persist it when asked.  NULL and errno on failure. */
static struct wk *
make(struct weekkey *K, int32_t week, int persist)
{
	struct wk w, *in;

	memset(&w, 0, sizeof(w));
	w.week = week;
	if (random_bytes(w.master, sizeof(w.master)) != 0 || derive(&w) != 0) {
		wipe(&w, sizeof(w));
		errno = EIO;
		return NULL;
	}
	if (persist) {
		if (save(K, &w) != 0) {
			int e = errno;

			wipe(&w, sizeof(w));
			errno = e;
			return NULL;
		}
		w.persisted = 1;
	}
	in = insert(K, &w);
	wipe(&w, sizeof(w));
	if (in == NULL)
		errno = ENOMEM;
	return in;
}

static int
ensure(struct weekkey *K, int32_t week)
{
	char path[PATH_MAX + 32];

	if (find(K, week) != NULL)
		return 0;
	if (!valid_week(week))
		return -1;
	if (make(K, week, K->dir[0] != '\0') == NULL) {
		if (K->dir[0] != '\0') {
			key_path(K, week, path, sizeof(path));
			log_warn("cannot write the key file %s", path);
		}
		return -1;
	}
	if (K->dir[0] != '\0') {
		char wk[16];

		period_week_format(week, wk, sizeof(wk));
		log_info("new key for ISO week %s", wk);
	}
	return 0;
}

int
weekkey_ensure(struct weekkey *K, int32_t week)
{
	int rc;

	lock(K);
	rc = ensure(K, week);
	unlock(K);
	return rc;
}

uint64_t
weekkey_devhash(struct weekkey *K, int32_t week, const uint8_t addr[16])
{
	struct wk *w;
	uint64_t h;

	lock(K);
	if ((w = find(K, week)) == NULL) {
		if (ensure(K, week) == 0)
			w = find(K, week);
		else if ((w = make(K, week, 0)) != NULL && !K->warned &&
		    K->dir[0] != '\0') {
			/* counting goes on; a restart counts the week anew */
			K->warned = 1;
			log_warnx("a key is kept in memory only: a restart "
			    "this week will count its devices anew");
		}
		if (w == NULL)
			fatalx("cannot draw a random device key");
	}
	h = siphash24(w->kdev, addr, 16);
	unlock(K);
	return h;
}

uint64_t
weekkey_prf(const struct weekkey *K, int32_t week, const void *msg,
    size_t len)
{
	const struct wk *w;
	uint64_t h = 0;

	lock(K);
	if ((w = find(K, week)) != NULL)
		h = siphash24(w->krk, msg, len);
	unlock(K);
	return h;
}

static int
seal(const struct weekkey *K, int32_t week, const void *aad,
    size_t aadlen, const void *pt, size_t ptlen, uint8_t *out)
{
	const struct wk *w = find(K, week);
	EVP_CIPHER_CTX *ctx = NULL;
	int len, rc = -1;

	if (w == NULL || ptlen > INT_MAX - WEEKKEY_SEAL_OVERHEAD ||
	    aadlen > INT_MAX)
		return -1;
	if (random_bytes(out, WEEKKEY_NONCE) != 0)
		return -1;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, WEEKKEY_NONCE,
	    NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, w->kenc, out) != 1)
		goto fail;
	if (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &len, aad,
	    (int)aadlen) != 1)
		goto fail;
	if (ptlen > 0 && (EVP_EncryptUpdate(ctx, out + WEEKKEY_NONCE, &len,
	    pt, (int)ptlen) != 1 || (size_t)len != ptlen))
		goto fail;
	if (EVP_EncryptFinal_ex(ctx, out + WEEKKEY_NONCE + ptlen, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, WEEKKEY_TAG,
	    out + WEEKKEY_NONCE + ptlen) != 1)
		goto fail;
	rc = 0;
fail:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

static int
unseal(const struct weekkey *K, int32_t week, const void *aad,
    size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *pt)
{
	const struct wk *w = find(K, week);
	EVP_CIPHER_CTX *ctx = NULL;
	size_t ptlen;
	int len, rc = -1;

	if (inlen < WEEKKEY_SEAL_OVERHEAD)
		return -1;
	ptlen = inlen - WEEKKEY_SEAL_OVERHEAD;
	if (w == NULL || inlen > INT_MAX || aadlen > INT_MAX)
		goto fail;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto fail;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, WEEKKEY_NONCE,
	    NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, w->kenc, in) != 1)
		goto fail;
	if (aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &len, aad,
	    (int)aadlen) != 1)
		goto fail;
	if (ptlen > 0 && (EVP_DecryptUpdate(ctx, pt, &len, in + WEEKKEY_NONCE,
	    (int)ptlen) != 1 || (size_t)len != ptlen))
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, WEEKKEY_TAG,
	    (void *)(in + WEEKKEY_NONCE + ptlen)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt + ptlen, &len) != 1)
		goto fail;
	rc = 0;
fail:
	EVP_CIPHER_CTX_free(ctx);
	if (rc != 0 && ptlen > 0)
		wipe(pt, ptlen);
	return rc;
}

int
weekkey_seal(const struct weekkey *K, int32_t week, const void *aad,
    size_t aadlen, const void *pt, size_t ptlen, uint8_t *out)
{
	int rc;

	lock(K);
	rc = seal(K, week, aad, aadlen, pt, ptlen, out);
	unlock(K);
	return rc;
}

int
weekkey_unseal(const struct weekkey *K, int32_t week, const void *aad,
    size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *pt)
{
	int rc;

	lock(K);
	rc = unseal(K, week, aad, aadlen, in, inlen, pt);
	unlock(K);
	return rc;
}

static int
destroy(struct weekkey *K, int32_t week)
{
	char path[PATH_MAX + 32];
	struct wk *w = find(K, week);
	struct stat sb;
	int had_file = 0, rc = 0;

	if (K->dir[0] != '\0' && valid_week(week)) {
		key_path(K, week, path, sizeof(path));
		had_file = lstat(path, &sb) == 0;
		if (had_file && (shred(path) != 0 || fsync_dir(K->dir) != 0)) {
			log_warn("cannot destroy the key file %s", path);
			rc = -1;
		}
	}
	if (w != NULL)
		drop(K, w);
	if (w != NULL || (had_file && rc == 0))
		K->destroyed++;
	return rc;
}

int
weekkey_destroy(struct weekkey *K, int32_t week)
{
	int rc;

	lock(K);
	rc = destroy(K, week);
	unlock(K);
	return rc;
}

unsigned
weekkey_destroyed(const struct weekkey *K)
{
	unsigned n;

	lock(K);
	n = K->destroyed;
	unlock(K);
	return n;
}

int
weekkey_check_state_dir(const struct config *c, struct cfgerr *err)
{
	char msg[1024];
	struct stat sb;

	if (c->state_dir[0] == '\0' || (stat(c->state_dir, &sb) != 0 &&
	    errno == ENOENT))
		return 0;	/* aicensusd creates it 0700 */
	/*
	 * A node with no permission bits at all, not ours: the directory is
	 * hidden from this process (systemd's InaccessiblePaths=, as the
	 * report service has it).  Such a process reads the configuration
	 * and never the keys; the daemon's own check still sees the real
	 * directory.
	 */
	if ((sb.st_mode & 07777) == 0 && sb.st_uid != geteuid())
		return 0;
	if (weekkey_check_dir(c->state_dir, msg, sizeof(msg)) == 0)
		return 0;
	cfgerr_set(err, c->state_dir_file[0] != '\0' ? c->state_dir_file :
	    c->path, c->state_dir_line, "state_dir: %s", msg);
	return -1;
}
