/*
 * test_weekkey.c - the week keys: derivation checked against libcrypto's
 * HKDF done independently, AES-256-GCM seal/unseal and every refusal
 * (another week, another aad, a flipped byte, too short), key files in
 * a temporary state directory (format, mode, reload, several weeks at
 * once), destruction (the file's bytes zeroed in place, then unlinked;
 * nothing unseals afterwards), the memory-only mode that writes nothing,
 * and the permission refusals.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "common/log.h"
#include "common/siphash.h"
#include "t.h"
#include "attribute/weekkey.h"

#define KEYLEN	92	/* magic line (20), week line (7), 64 hex + \n */

static char dir[64];
static char err[1024];

static const uint8_t ADDR[16] = { 'A', 'D', 'D', 'R', 'E', 'S', 'S', '-',
	'M', 'A', 'R', 'K', 'E', 'R', '!', '!' };
static const uint8_t ADDR2[16] = { 10, 0, 0, 42 };

static void
mkstate(void)
{
	snprintf(dir, sizeof(dir), "/tmp/unittests-weekkey-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
}

static void
keypath(char *buf, size_t len, int32_t week)
{
	snprintf(buf, len, "%s/week-%06d.key", dir, (int)week);
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
			if (unlink(p) != 0)
				rmdir(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

static int
nfiles(const char *path)
{
	DIR *d = opendir(path);
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
spit(const char *path, const void *buf, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0)
		return;
	if (write(fd, buf, n) != (ssize_t)n)
		perror("write");
	fchmod(fd, mode);
	close(fd);
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

/* HKDF-SHA256 through the EVP_PKEY interface: not the one weekkey uses. */
static int
ref_hkdf(const uint8_t *master, const char *label, uint8_t *out, size_t len)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t olen = len;
	int ok;

	ok = c != NULL && EVP_PKEY_derive_init(c) == 1 &&
	    EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_key(c, master, 32) == 1 &&
	    EVP_PKEY_CTX_add1_hkdf_info(c, (const unsigned char *)label,
	    (int)strlen(label)) == 1 &&
	    EVP_PKEY_derive(c, out, &olen) == 1 && olen == len;
	EVP_PKEY_CTX_free(c);
	return ok ? 0 : -1;
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 2n hex digits at p (no NUL needed: sscanf would look for one) */
static int
unhex(const uint8_t *p, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if ((hi = hexval(p[2 * i])) < 0 || (lo = hexval(p[2 * i + 1])) < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void
test_roundtrip(void)
{
	static const char aad[] = "aicensus-vault-1 week 47";
	uint8_t pt[300], ct[300 + WEEKKEY_SEAL_OVERHEAD];
	uint8_t ct2[300 + WEEKKEY_SEAL_OVERHEAD], back[300];
	uint8_t e0[WEEKKEY_SEAL_OVERHEAD], b0[1];
	struct weekkey *k;
	size_t i;

	k = weekkey_open(NULL, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		return;
	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 7 + 3);
	/* no key yet: nothing seals, no PRF */
	T_EQ_INT(weekkey_has(k, 202647), 0);
	T_EQ_INT(weekkey_seal(k, 202647, aad, sizeof(aad), pt, sizeof(pt),
	    ct), -1);
	T_EQ_INT(weekkey_prf(k, 202647, "x", 1), 0);
	T_EQ_INT(weekkey_ensure(k, 202647), 0);
	T_EQ_INT(weekkey_has(k, 202647), 1);
	T_EQ_INT(weekkey_seal(k, 202647, aad, sizeof(aad), pt, sizeof(pt),
	    ct), 0);
	T_CHECK(!contains(ct, sizeof(ct), pt + 20, 16));
	memset(back, 0xee, sizeof(back));
	T_EQ_INT(weekkey_unseal(k, 202647, aad, sizeof(aad), ct, sizeof(ct),
	    back), 0);
	T_CHECK(memcmp(back, pt, sizeof(pt)) == 0);
	/* a fresh nonce per seal: the same input never seals the same */
	T_EQ_INT(weekkey_seal(k, 202647, aad, sizeof(aad), pt, sizeof(pt),
	    ct2), 0);
	T_CHECK(memcmp(ct, ct2, WEEKKEY_NONCE) != 0);
	T_CHECK(memcmp(ct + WEEKKEY_NONCE, ct2 + WEEKKEY_NONCE,
	    sizeof(pt)) != 0);
	/* empty plaintext and empty aad still authenticate */
	T_EQ_INT(weekkey_seal(k, 202647, NULL, 0, NULL, 0, e0), 0);
	T_EQ_INT(weekkey_unseal(k, 202647, NULL, 0, e0, sizeof(e0), b0), 0);
	T_EQ_INT(weekkey_unseal(k, 202647, "a", 1, e0, sizeof(e0), b0), -1);
	/* PRF: deterministic, keyed, depends on the message */
	T_EQ_INT(weekkey_prf(k, 202647, "rk", 2), weekkey_prf(k, 202647,
	    "rk", 2));
	T_CHECK(weekkey_prf(k, 202647, "rk", 2) != weekkey_prf(k, 202647,
	    "rl", 2));
	T_CHECK(weekkey_prf(k, 202647, "rk", 2) != 0);
	/* the device hash is under another key than the PRF */
	T_CHECK(weekkey_devhash(k, 202647, ADDR) != weekkey_prf(k, 202647,
	    ADDR, 16));
	T_EQ_INT(weekkey_devhash(k, 202647, ADDR), weekkey_devhash(k, 202647,
	    ADDR));
	T_CHECK(weekkey_devhash(k, 202647, ADDR) != weekkey_devhash(k,
	    202647, ADDR2));
	weekkey_close(k);
}

static void
test_refusals(void)
{
	static const char aad[] = "aicensus-vault-1 47/1";
	static const char aad2[] = "aicensus-vault-1 47/2";
	uint8_t pt[64], ct[64 + WEEKKEY_SEAL_OVERHEAD], back[64], zero[64];
	struct weekkey *k;
	size_t i;
	int bad = 0, notzero = 0;

	k = weekkey_open("", err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		return;
	memset(pt, 'p', sizeof(pt));
	memset(zero, 0, sizeof(zero));
	T_EQ_INT(weekkey_ensure(k, 202647), 0);
	T_EQ_INT(weekkey_ensure(k, 202648), 0);
	T_EQ_INT(weekkey_seal(k, 202647, aad, sizeof(aad), pt, sizeof(pt),
	    ct), 0);
	/* another week's key */
	memset(back, 'x', sizeof(back));
	T_EQ_INT(weekkey_unseal(k, 202648, aad, sizeof(aad), ct, sizeof(ct),
	    back), -1);
	T_CHECK(memcmp(back, zero, sizeof(back)) == 0);
	/* a week without a key */
	T_EQ_INT(weekkey_unseal(k, 202649, aad, sizeof(aad), ct, sizeof(ct),
	    back), -1);
	/* another aad (a blob moved to another row), no aad */
	T_EQ_INT(weekkey_unseal(k, 202647, aad2, sizeof(aad2), ct, sizeof(ct),
	    back), -1);
	T_EQ_INT(weekkey_unseal(k, 202647, NULL, 0, ct, sizeof(ct), back), -1);
	/* every single flipped bit position byte: nonce, ciphertext, tag */
	for (i = 0; i < sizeof(ct); i++) {
		ct[i] ^= 0x01;
		memset(back, 'x', sizeof(back));
		if (weekkey_unseal(k, 202647, aad, sizeof(aad), ct, sizeof(ct),
		    back) != -1)
			bad++;
		if (memcmp(back, zero, sizeof(back)) != 0)
			notzero++;
		ct[i] ^= 0x01;
	}
	T_EQ_INT(bad, 0);
	T_EQ_INT(notzero, 0);
	/* truncated, too short for nonce and tag */
	T_EQ_INT(weekkey_unseal(k, 202647, aad, sizeof(aad), ct,
	    sizeof(ct) - 1, back), -1);
	T_EQ_INT(weekkey_unseal(k, 202647, aad, sizeof(aad), ct,
	    WEEKKEY_SEAL_OVERHEAD - 1, back), -1);
	/* and intact it still opens */
	T_EQ_INT(weekkey_unseal(k, 202647, aad, sizeof(aad), ct, sizeof(ct),
	    back), 0);
	T_CHECK(memcmp(back, pt, sizeof(pt)) == 0);
	/* invalid weeks get no key */
	T_EQ_INT(weekkey_ensure(k, 0), -1);
	T_EQ_INT(weekkey_ensure(k, 202654), -1);
	T_EQ_INT(weekkey_has(k, 0), 0);
	weekkey_close(k);
}

static void
test_persist(void)
{
	static const char aad[] = "row 1";
	char path[128];
	uint8_t buf[256], master[32], kdev[16], krk[16];
	uint8_t ct[8 + WEEKKEY_SEAL_OVERHEAD], back[8];
	struct weekkey *k;
	struct stat sb;
	uint64_t h, h2, r;
	long n;

	mkstate();
	keypath(path, sizeof(path), 202647);
	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		goto out;
	T_EQ_INT(nfiles(dir), 0);		/* nothing before a key */
	h = weekkey_devhash(k, 202647, ADDR);	/* makes the key */
	h2 = weekkey_devhash(k, 202647, ADDR2);
	r = weekkey_prf(k, 202647, "rk12345", 7);
	T_EQ_INT(weekkey_seal(k, 202647, aad, sizeof(aad), "8 bytes!", 8, ct),
	    0);
	T_EQ_INT(nfiles(dir), 1);		/* no temporary left */
	T_EQ_INT(stat(path, &sb), 0);
	T_EQ_INT(sb.st_mode & 07777, 0600);
	n = slurp(path, buf, sizeof(buf));
	T_EQ_INT(n, KEYLEN);
	T_CHECK(memcmp(buf, "aicensus weekkey v1\n202647\n", 27) == 0);
	T_CHECK(!contains(buf, (size_t)n, ADDR, 16));
	/* the derived keys are HKDF-SHA256 of the stored master secret */
	T_EQ_INT(unhex(buf + 27, master, 32), 0);
	T_EQ_INT(ref_hkdf(master, "aicensus dev v1", kdev, 16), 0);
	T_EQ_INT(ref_hkdf(master, "aicensus rk v1", krk, 16), 0);
	T_EQ_INT(siphash24(kdev, ADDR, 16), h);
	T_EQ_INT(siphash24(krk, "rk12345", 7), r);
	T_CHECK(memcmp(kdev, krk, 16) != 0);
	weekkey_close(k);

	/* a restart continues the week: same hashes, old blobs open */
	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		goto out;
	T_EQ_INT(weekkey_has(k, 202647), 1);
	T_EQ_INT(weekkey_devhash(k, 202647, ADDR), h);
	T_EQ_INT(weekkey_devhash(k, 202647, ADDR2), h2);
	T_EQ_INT(weekkey_prf(k, 202647, "rk12345", 7), r);
	T_EQ_INT(weekkey_unseal(k, 202647, aad, sizeof(aad), ct, sizeof(ct),
	    back), 0);
	T_CHECK(memcmp(back, "8 bytes!", 8) == 0);
	T_EQ_INT(nfiles(dir), 1);
	weekkey_close(k);
out:
	rmstate();
}

static void
test_destroy(void)
{
	char path[128], link_[128];
	uint8_t buf[256], zero[KEYLEN], ct[4 + WEEKKEY_SEAL_OVERHEAD], back[4];
	struct weekkey *k;
	uint64_t h;

	mkstate();
	keypath(path, sizeof(path), 202647);
	snprintf(link_, sizeof(link_), "%s/hardlink", dir);
	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		goto out;
	h = weekkey_devhash(k, 202647, ADDR);
	T_EQ_INT(weekkey_ensure(k, 202648), 0);
	T_EQ_INT(weekkey_seal(k, 202647, "a", 1, "abcd", 4, ct), 0);
	/* a second name for the same inode shows what happens to the bytes */
	T_EQ_INT(link(path, link_), 0);
	T_EQ_INT(weekkey_destroyed(k), 0);
	T_EQ_INT(weekkey_destroy(k, 202647), 0);
	T_EQ_INT(weekkey_destroyed(k), 1);
	T_CHECK(access(path, F_OK) != 0);
	memset(zero, 0, sizeof(zero));
	T_EQ_INT(slurp(link_, buf, sizeof(buf)), KEYLEN);
	T_CHECK(memcmp(buf, zero, KEYLEN) == 0);	/* overwritten in place */
	unlink(link_);
	T_EQ_INT(weekkey_has(k, 202647), 0);
	T_EQ_INT(weekkey_unseal(k, 202647, "a", 1, ct, sizeof(ct), back), -1);
	T_EQ_INT(weekkey_prf(k, 202647, "x", 1), 0);
	/* the other week is untouched */
	T_EQ_INT(weekkey_has(k, 202648), 1);
	/* destroying what is not there is done, and counts nothing */
	T_EQ_INT(weekkey_destroy(k, 202647), 0);
	T_EQ_INT(weekkey_destroy(k, 202601), 0);
	T_EQ_INT(weekkey_destroyed(k), 1);
	weekkey_close(k);

	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		goto out;
	T_EQ_INT(weekkey_has(k, 202647), 0);
	T_EQ_INT(weekkey_has(k, 202648), 1);
	T_EQ_INT(weekkey_unseal(k, 202647, "a", 1, ct, sizeof(ct), back), -1);
	/* a new key for the week hashes differently */
	T_CHECK(weekkey_devhash(k, 202647, ADDR) != h);
	T_EQ_INT(weekkey_destroy(k, 202647), 0);
	T_EQ_INT(weekkey_destroy(k, 202648), 0);
	T_EQ_INT(weekkey_destroyed(k), 2);
	T_EQ_INT(nfiles(dir), 0);
	weekkey_close(k);

	/* memory only: destroy wipes the key */
	k = weekkey_open(NULL, err, sizeof(err));
	T_EQ_INT(weekkey_ensure(k, 202647), 0);
	T_EQ_INT(weekkey_seal(k, 202647, "a", 1, "abcd", 4, ct), 0);
	T_EQ_INT(weekkey_destroy(k, 202647), 0);
	T_EQ_INT(weekkey_destroyed(k), 1);
	T_EQ_INT(weekkey_unseal(k, 202647, "a", 1, ct, sizeof(ct), back), -1);
	weekkey_close(k);
out:
	rmstate();
}

/*
 * A crash between zeroing a key file and unlinking it leaves a file of
 * zeros: the next open finishes the destruction instead of refusing to
 * start on a "damaged" key.
 */
static void
test_destroy_interrupted(void)
{
	char path[128];
	uint8_t zero[KEYLEN];
	struct weekkey *k;
	FILE *f;

	mkstate();
	keypath(path, sizeof(path), 202647);
	memset(zero, 0, sizeof(zero));
	f = fopen(path, "w");
	T_CHECK(f != NULL);
	if (f == NULL)
		goto out;
	T_EQ_INT(fwrite(zero, 1, sizeof(zero), f), sizeof(zero));
	fclose(f);
	T_EQ_INT(chmod(path, 0600), 0);
	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		goto out;
	T_EQ_INT(weekkey_has(k, 202647), 0);
	T_CHECK(access(path, F_OK) != 0);
	T_EQ_INT(nfiles(dir), 0);
	weekkey_close(k);
out:
	rmstate();
}

static void
test_memory_only_writes_nothing(void)
{
	char cwd[4096];
	uint8_t ct[4 + WEEKKEY_SEAL_OVERHEAD];
	struct weekkey *k;

	mkstate();
	T_CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	T_EQ_INT(chdir(dir), 0);
	k = weekkey_open("", err, sizeof(err));
	T_CHECK(k != NULL);
	if (k != NULL) {
		(void)weekkey_devhash(k, 202647, ADDR);
		(void)weekkey_devhash(k, 202648, ADDR);
		T_EQ_INT(weekkey_seal(k, 202647, "a", 1, "abcd", 4, ct), 0);
		T_EQ_INT(weekkey_destroy(k, 202647), 0);
		weekkey_close(k);
	}
	k = weekkey_open(NULL, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k != NULL) {
		T_EQ_INT(weekkey_has(k, 202648), 0);	/* nothing carried */
		(void)weekkey_devhash(k, 202649, ADDR);
		weekkey_close(k);
	}
	T_EQ_INT(nfiles("."), 0);
	T_EQ_INT(chdir(cwd), 0);
	rmstate();
}

static void
test_permissions(void)
{
	char path[128], other[128];
	uint8_t good[KEYLEN];
	struct weekkey *k;

	mkstate();
	keypath(path, sizeof(path), 202647);
	/* a directory others may enter */
	T_EQ_INT(chmod(dir, 0755), 0);
	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k == NULL);
	T_CHECK(strstr(err, dir) != NULL);
	T_CHECK(strstr(err, "chmod 0700") != NULL);
	T_EQ_INT(weekkey_check_dir(dir, err, sizeof(err)), -1);
	T_EQ_INT(chmod(dir, 0710), 0);
	T_EQ_INT(weekkey_check_dir(dir, err, sizeof(err)), -1);
	T_EQ_INT(chmod(dir, 0700), 0);
	T_EQ_INT(weekkey_check_dir(dir, err, sizeof(err)), 0);
	/* missing, not a directory */
	snprintf(other, sizeof(other), "%s/nonexistent", dir);
	T_EQ_INT(weekkey_check_dir(other, err, sizeof(err)), -1);
	T_CHECK(strstr(err, other) != NULL);
	T_CHECK(weekkey_open(other, err, sizeof(err)) == NULL);
	spit(other, "x", 1, 0600);
	T_EQ_INT(weekkey_check_dir(other, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "not a directory") != NULL);
	unlink(other);

	/* a key file group may read */
	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		goto out;
	T_EQ_INT(weekkey_ensure(k, 202647), 0);
	weekkey_close(k);
	T_EQ_INT(slurp(path, good, sizeof(good)), KEYLEN);
	T_EQ_INT(chmod(path, 0644), 0);
	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k == NULL);
	T_CHECK(strstr(err, path) != NULL);
	T_CHECK(strstr(err, "chmod 0600") != NULL);
	T_EQ_INT(chmod(path, 0640), 0);
	T_CHECK(weekkey_open(dir, err, sizeof(err)) == NULL);
	T_EQ_INT(chmod(path, 0600), 0);
	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	weekkey_close(k);

	/* a key file that is a symbolic link (to a copy of the key) */
	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	T_EQ_INT(rename(path, other), 0);
	T_EQ_INT(symlink(other, path), 0);
	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k == NULL);
	T_CHECK(strstr(err, "symbolic link") != NULL);
	T_CHECK(strstr(err, path) != NULL);
	unlink(path);
	unlink(other);

	/* damaged: garbage, truncated, the week of another file */
	spit(path, "garbage", 7, 0600);
	T_CHECK(weekkey_open(dir, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "damaged") != NULL);
	spit(path, good, KEYLEN - 1, 0600);
	T_CHECK(weekkey_open(dir, err, sizeof(err)) == NULL);
	unlink(path);
	keypath(other, sizeof(other), 202648);
	spit(other, good, KEYLEN, 0600);
	T_CHECK(weekkey_open(dir, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, other) != NULL);
	unlink(other);
	good[30] = 'G';				/* not a hex digit */
	spit(path, good, KEYLEN, 0600);
	T_CHECK(weekkey_open(dir, err, sizeof(err)) == NULL);
	unlink(path);

	/* a crash's temporary and the old devkey file are shredded */
	snprintf(other, sizeof(other), "%s/.week-202647.tmpABCDEF", dir);
	spit(other, "half a key", 10, 0600);
	snprintf(other, sizeof(other), "%s/devkey", dir);
	spit(other, "AICKEY1\n0123456789abcdef0123", 28, 0600);
	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	weekkey_close(k);
	T_EQ_INT(nfiles(dir), 0);
out:
	rmstate();
}

/* A directory owned by someone else (needs root to arrange). */
static void
test_owner(void)
{
	char sub[128];
	pid_t pid;
	int status = -1;

	if (geteuid() != 0) {
		/* "/" is root's: a normal user is refused it for keys */
		T_EQ_INT(weekkey_check_dir("/", err, sizeof(err)), -1);
		T_CHECK(strstr(err, "owned by uid 0") != NULL);
		return;
	}
	mkstate();
	T_EQ_INT(chmod(dir, 0711), 0);
	snprintf(sub, sizeof(sub), "%s/state", dir);
	T_EQ_INT(mkdir(sub, 0700), 0);
	if ((pid = fork()) == 0) {
		char e[512];

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		if (weekkey_check_dir(sub, e, sizeof(e)) != -1)
			_exit(4);
		if (strstr(e, "owned by uid 0") == NULL ||
		    strstr(e, "chown 65534") == NULL)
			_exit(5);
		if (weekkey_open(sub, e, sizeof(e)) != NULL)
			_exit(6);
		_exit(0);
	}
	T_CHECK(pid > 0);
	if (pid > 0)
		waitpid(pid, &status, 0);
	T_CHECK(WIFEXITED(status));
	T_EQ_INT(WEXITSTATUS(status), 0);
	rmdir(sub);
	rmstate();
}

static void
test_several_weeks(void)
{
	int32_t weeks[8];
	uint64_t h[3];
	struct weekkey *k;
	char path[128];
	struct stat sb;
	size_t n;

	mkstate();
	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		goto out;
	T_EQ_INT(weekkey_list(k, weeks, 8), 0);
	/* made out of order, listed ascending (the year boundary too) */
	T_EQ_INT(weekkey_ensure(k, 202701), 0);
	T_EQ_INT(weekkey_ensure(k, 202652), 0);
	T_EQ_INT(weekkey_ensure(k, 202653), 0);
	T_EQ_INT(weekkey_ensure(k, 202652), 0);	/* already there */
	n = weekkey_list(k, weeks, 8);
	T_EQ_INT(n, 3);
	T_EQ_INT(weeks[0], 202652);
	T_EQ_INT(weeks[1], 202653);
	T_EQ_INT(weeks[2], 202701);
	T_EQ_INT(weekkey_list(k, weeks, 2), 2);
	T_EQ_INT(weeks[1], 202653);
	h[0] = weekkey_devhash(k, 202652, ADDR);
	h[1] = weekkey_devhash(k, 202653, ADDR);
	h[2] = weekkey_devhash(k, 202701, ADDR);
	T_CHECK(h[0] != h[1] && h[1] != h[2] && h[0] != h[2]);
	keypath(path, sizeof(path), 202653);
	T_EQ_INT(stat(path, &sb), 0);
	T_EQ_INT(nfiles(dir), 3);
	weekkey_close(k);

	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		goto out;
	n = weekkey_list(k, weeks, 8);
	T_EQ_INT(n, 3);
	T_EQ_INT(weeks[0], 202652);
	T_EQ_INT(weeks[2], 202701);
	T_EQ_INT(weekkey_devhash(k, 202652, ADDR), h[0]);
	T_EQ_INT(weekkey_devhash(k, 202653, ADDR), h[1]);
	T_EQ_INT(weekkey_devhash(k, 202701, ADDR), h[2]);
	T_EQ_INT(weekkey_destroy(k, 202653), 0);
	n = weekkey_list(k, weeks, 8);
	T_EQ_INT(n, 2);
	T_EQ_INT(weeks[0], 202652);
	T_EQ_INT(weeks[1], 202701);
	T_EQ_INT(nfiles(dir), 2);
	weekkey_close(k);
out:
	rmstate();
}

/* A key that cannot be written is kept in memory: counting goes on. */
static void
test_unwritable(void)
{
	struct weekkey *k;
	uint64_t h;

	mkstate();
	k = weekkey_open(dir, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		goto out;
	T_EQ_INT(rmdir(dir), 0);		/* the directory vanished */
	T_EQ_INT(weekkey_ensure(k, 202647), -1);
	T_EQ_INT(weekkey_has(k, 202647), 0);
	h = weekkey_devhash(k, 202647, ADDR);
	T_EQ_INT(weekkey_has(k, 202647), 1);
	T_EQ_INT(weekkey_devhash(k, 202647, ADDR), h);
	T_CHECK(weekkey_devhash(k, 202647, ADDR2) != h);
	T_EQ_INT(weekkey_destroy(k, 202647), 0);
	T_EQ_INT(weekkey_has(k, 202647), 0);
	weekkey_close(k);
out:
	rmstate();
}

/* A flush thread seals while the capture path makes keys for new weeks. */
static void *
maker(void *arg)
{
	struct weekkey *k = arg;
	int32_t w;

	for (w = 1; w <= 53; w++)
		(void)weekkey_devhash(k, 203000 + w, ADDR);
	for (w = 1; w <= 53; w++)
		(void)weekkey_devhash(k, 203100 + w, ADDR);
	return NULL;
}

static void
test_threads(void)
{
	uint8_t ct[32 + WEEKKEY_SEAL_OVERHEAD], back[32];
	struct weekkey *k;
	pthread_t t;
	int i, bad = 0;

	k = weekkey_open(NULL, err, sizeof(err));
	T_CHECK(k != NULL);
	if (k == NULL)
		return;
	T_EQ_INT(weekkey_ensure(k, 202647), 0);
	T_EQ_INT(pthread_create(&t, NULL, maker, k), 0);
	for (i = 0; i < 2000; i++) {
		if (weekkey_seal(k, 202647, "a", 1, "thirty-two bytes of plaintext..",
		    32, ct) != 0 || weekkey_unseal(k, 202647, "a", 1, ct,
		    sizeof(ct), back) != 0 || memcmp(back,
		    "thirty-two bytes of plaintext..", 32) != 0)
			bad++;
	}
	pthread_join(t, NULL);
	T_EQ_INT(bad, 0);
	T_EQ_INT(weekkey_list(k, NULL, 0), 0);
	{
		int32_t weeks[200];

		T_EQ_INT(weekkey_list(k, weeks, 200), 107);
		T_EQ_INT(weeks[0], 202647);
		T_EQ_INT(weeks[106], 203153);
	}
	weekkey_close(k);
}

int
main(void)
{
	log_init("test_weekkey", 0, LOG_LVL_ERROR);
	T_RUN(test_roundtrip);
	T_RUN(test_refusals);
	T_RUN(test_persist);
	T_RUN(test_destroy);
	T_RUN(test_destroy_interrupted);
	T_RUN(test_memory_only_writes_nothing);
	T_RUN(test_permissions);
	T_RUN(test_owner);
	T_RUN(test_several_weeks);
	T_RUN(test_unwritable);
	T_RUN(test_threads);
	return T_DONE();
}
