/*
 * dept.h - which department an address belongs to: longest-prefix match.
 *
 * A dept_map maps IPv4 and IPv6 prefixes to a small non-negative integer
 * (a department index, or just "present" for the ignore set).  The two
 * families are independent: an IPv4 prefix never matches an IPv6 address.
 *
 * Promises:
 *  - dept_map_lookup() returns the value of the LONGEST prefix containing
 *    the address; its cost is bounded by the address width (at most 8
 *    node visits for IPv4, 32 for IPv6) whatever the number of prefixes,
 *    it never allocates and it only reads the map;
 *  - build with dept_map_add() at load time, then treat the map as
 *    immutable: any number of threads may look up concurrently.  A
 *    configuration reload builds a new map and swaps the pointer;
 *  - a prefix added twice with the same value is accepted once; with a
 *    different value it is refused, so two departments never silently
 *    claim the same network.
 *
 * The trie is multibit with a stride of 4 bits: stride 8 would halve the
 * IPv6 walk but costs 16 times the memory per node, which matters for
 * sparse IPv6 prefixes (a /64 touches 16 nodes either way).
 */
#ifndef AIC_DEPT_H
#define AIC_DEPT_H

#include <stddef.h>
#include <stdint.h>

struct dept_map;

/* NULL on allocation failure. */
struct dept_map	*dept_map_new(void);
void		 dept_map_free(struct dept_map *);

/*
 * Add addr/plen (af AF_INET: 4 bytes, AF_INET6: 16 bytes; bits beyond
 * plen are ignored) with value >= 0.  Returns 0 when added or when the
 * identical prefix already has this value; -1 for a bad af, plen or
 * value, or when the identical prefix already has another value; -2 when
 * out of memory.
 */
int	dept_map_add(struct dept_map *, int af, const uint8_t *addr,
	    unsigned plen, int value);

/* Value of the longest prefix containing addr, or -1. */
int	dept_map_lookup(const struct dept_map *, int af, const uint8_t *addr);

/* Value stored for exactly addr/plen (not a covering prefix), or -1. */
int	dept_map_exact(const struct dept_map *, int af, const uint8_t *addr,
	    unsigned plen);

/* Number of distinct prefixes stored. */
size_t	dept_map_count(const struct dept_map *);

/* dept_parse_prefix() results. */
#define DEPT_PREFIX_OK		 0
#define DEPT_PREFIX_SYNTAX	-1	/* not an IPv4/IPv6 address */
#define DEPT_PREFIX_LEN		-2	/* "/" not followed by 0..32 / 0..128 */
#define DEPT_PREFIX_HOSTBITS	-3	/* bits set beyond the prefix length */

/*
 * Parse "10.1.0.0/16", "2001:db8::/32" or a bare address (= /32, /128).
 * Strict: no spaces, no sign, decimal length only.  On DEPT_PREFIX_OK
 * and on DEPT_PREFIX_HOSTBITS *af, addr (masked to plen) and *plen are
 * filled, so the caller can suggest the network that was probably meant.
 * Unused bytes of addr are zero.
 */
int	dept_parse_prefix(const char *s, int *af, uint8_t addr[16],
	    unsigned *plen);

/* Clear the bits of addr beyond plen. */
void	dept_prefix_mask(int af, uint8_t addr[16], unsigned plen);

/*
 * Canonical text of addr/plen ("10.1.0.0/16", "2001:db8::/32") into buf.
 * For configuration output and error messages about configured
 * prefixes only: never for addresses seen on the wire.  Returns buf, or
 * "?" when af is unknown or buf too small.
 */
const char *dept_format_prefix(int af, const uint8_t *addr, unsigned plen,
	    char *buf, size_t len);

/* Longest dept_format_prefix() output, with the NUL. */
#define DEPT_PREFIX_STRLEN	(46 + 4)

#endif /* AIC_DEPT_H */
