/*
 * dnscache.h - which catalog service a client was just told an address for.
 *
 * When a client resolves a catalog name, the A/AAAA addresses in the
 * answer are remembered for that client, for a bounded time and in a
 * fixed-size table, so a later connection that hides its name
 * (Encrypted Client Hello) can still be attributed: same client, same
 * server address, shortly after.  Only answers for catalog names are
 * kept, so a flood of random names costs nothing here.  Entries are
 * overwritten oldest-first within a short probe window; nothing is ever
 * written out.
 */
#ifndef AIC_DNSCACHE_H
#define AIC_DNSCACHE_H

#include <stddef.h>
#include <stdint.h>

struct dnscache;

struct dnscache *dnscache_new(size_t entries, uint64_t seed);
/*
 * For capture workers: one cache for all of them, so an answer one
 * worker saw attributes an ECH connection another follows.  Same bound;
 * put and get lock one stripe of the table.
 */
struct dnscache *dnscache_new_shared(size_t entries, uint64_t seed);
void	dnscache_free(struct dnscache *);
size_t	dnscache_mem(const struct dnscache *);
void	dnscache_put(struct dnscache *, const uint8_t client[16],
	    const uint8_t server[16], int svc, uint32_t now, uint32_t ttl);
/* Service index, or -1 when no live entry matches. */
int	dnscache_get(const struct dnscache *, const uint8_t client[16],
	    const uint8_t server[16], uint32_t now);
/*
 * The same at a packet's time in microseconds.  A shared cache also
 * keeps each entry's earliest answer to the millisecond, and a lookup
 * from before it finds nothing (one thread would not have had it yet).
 */
void	dnscache_put_at(struct dnscache *, const uint8_t client[16],
	    const uint8_t server[16], int svc, uint64_t ts_usec, uint32_t ttl);
int	dnscache_get_at(const struct dnscache *, const uint8_t client[16],
	    const uint8_t server[16], uint64_t ts_usec);

#endif /* AIC_DNSCACHE_H */
