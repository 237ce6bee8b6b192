/*
 * weekkey.h - the secrets of one ISO week, and their destruction.
 *
 * Per ISO week one 32-byte master secret is drawn from getrandom(2), and
 * HKDF-SHA256 (libcrypto) derives three keys from it under distinct
 * labels:
 *   K_dev (16 bytes)  SipHash-2-4 key that turns a client address into a
 *                     device hash; the address itself is never kept;
 *   K_rk  (16 bytes)  SipHash-2-4 key for the release stage: record keys,
 *                     cell keys and every noise draw;
 *   K_enc (32 bytes)  AES-256-GCM key that seals the week's per-device
 *                     material (sketches) and raw counters at rest.
 *
 * With a state directory the master secret is kept in
 * state_dir/week-YYYYWW.key (mode 0600, written to a temporary file,
 * fsynced, renamed) so a restart keeps counting the same devices; without
 * one (aicensusd -r) it lives in memory only and nothing is written.
 *
 * weekkey_destroy() overwrites the file in place, fsyncs, unlinks it,
 * fsyncs the directory and wipes the memory copy: after it, nothing the
 * week sealed can be opened again (crypto-shredding).  The caller
 * destroys a week only after its figures were released.
 *
 * weekkey_open() refuses a state directory that group or others may
 * read, write or enter, one not owned by the running user, and key files
 * with any group/other permission bit; the error names the path and the
 * fix.  No function logs a key, a hash or an address.
 */
#ifndef AIC_WEEKKEY_H
#define AIC_WEEKKEY_H

#include <stddef.h>
#include <stdint.h>

#define WEEKKEY_NONCE		12
#define WEEKKEY_TAG		16
/* Sealed size = plaintext size + WEEKKEY_SEAL_OVERHEAD (nonce || ct || tag). */
#define WEEKKEY_SEAL_OVERHEAD	(WEEKKEY_NONCE + WEEKKEY_TAG)

struct weekkey;

/*
 * state_dir NULL or "": keys in memory only.  Loads every key file found
 * (week-YYYYWW.key); a damaged one is an error.  NULL with err on failure.
 */
struct weekkey *weekkey_open(const char *state_dir, char *err, size_t errlen);
/* Wipes every key in memory; files stay (a restart continues the week). */
void	 weekkey_close(struct weekkey *);

/* 0 when dir is fit for keys (exists, directory, owner, no group/other bits). */
int	 weekkey_check_dir(const char *dir, char *err, size_t errlen);

/* 1 when the week's key is present (loaded or made), else 0. */
int	 weekkey_has(const struct weekkey *, int32_t week);
/* Make the week's key if absent (persisted with a state dir); 0 ok, -1 failed. */
int	 weekkey_ensure(struct weekkey *, int32_t week);
/* Weeks that have a key, ascending; returns how many (at most max written). */
size_t	 weekkey_list(const struct weekkey *, int32_t *weeks, size_t max);

/*
 * Device hash of a 16-byte address (IPv4 mapped into the first 4 bytes,
 * as the pipeline hands it) under the week's K_dev, making the key when
 * absent.  If the key cannot be persisted the hash is still made under a
 * memory-only key (logged once): counting goes on.
 */
uint64_t weekkey_devhash(struct weekkey *, int32_t week, const uint8_t addr[16]);

/* SipHash-2-4 under the week's K_rk; 0 and no effect when the week has no key. */
uint64_t weekkey_prf(const struct weekkey *, int32_t week, const void *msg,
	    size_t len);

/*
 * AES-256-GCM under the week's K_enc with a fresh random nonce:
 * out (ptlen + WEEKKEY_SEAL_OVERHEAD bytes) = nonce || ciphertext || tag.
 * 0 ok, -1 no key or failure.
 */
int	 weekkey_seal(const struct weekkey *, int32_t week, const void *aad,
	    size_t aadlen, const void *pt, size_t ptlen, uint8_t *out);
/*
 * The reverse: pt receives inlen - WEEKKEY_SEAL_OVERHEAD bytes.  -1 when
 * the week has no key, inlen is too short, or the tag does not verify
 * (another key, another aad, tampering); pt is then zeroed.
 */
int	 weekkey_unseal(const struct weekkey *, int32_t week, const void *aad,
	    size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *pt);

/*
 * Destroy the week's key in memory and on disk.  0 done (also when there
 * was none), -1 the file could not be removed (logged with the path).
 */
int	 weekkey_destroy(struct weekkey *, int32_t week);
/* Keys destroyed so far (tests and the log). */
unsigned weekkey_destroyed(const struct weekkey *);

/*
 * `aicensusd -n`: when the configuration's state_dir exists, check that
 * it is fit for keys (weekkey_check_dir: owner, no group/other bits); -1
 * with err at the state_dir setting (or the file when it is the
 * default).  A missing directory is fine: the daemon creates it 0700.
 */
struct config;
struct cfgerr;
int	weekkey_check_state_dir(const struct config *, struct cfgerr *);

#endif /* AIC_WEEKKEY_H */
