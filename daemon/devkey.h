/*
 * devkey.h - the weekly secret that turns a client address into a
 * device hash.
 *
 * A device is never stored: the address is fed through SipHash-2-4 under
 * a random 128-bit key, and only the hash enters a sketch.  The key is
 * drawn from the kernel at each ISO week boundary and the old one is
 * wiped, so sketches of different weeks cannot be joined and no hash can
 * be traced back once its week is over.  Within the week the key lives
 * in memory and in one 0600 file in the state directory (never the
 * database's directory, never the database) so a restart keeps counting
 * the same devices.  Traffic of a past week (an old capture read with
 * -r) gets a throw-away key held only in memory.
 */
#ifndef AIC_DEVKEY_H
#define AIC_DEVKEY_H

#include <stdint.h>

struct devkey;

/* state_dir may be NULL: keys then live in memory only. */
struct devkey *devkey_open(const char *state_dir, char *err, unsigned errlen);
void	 devkey_close(struct devkey *);
/* Hash of addr (16 bytes) under the key of the given ISO week. */
uint64_t devkey_hash(struct devkey *, int32_t week, const uint8_t addr[16]);
int32_t	 devkey_week(const struct devkey *);
/* Number of rotations done (for tests and the log). */
unsigned devkey_rotations(const struct devkey *);

#endif /* AIC_DEVKEY_H */
