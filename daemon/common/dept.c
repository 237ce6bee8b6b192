/*
 * dept.c - multibit (stride 4) trie for longest-prefix match.
 *
 * Each node covers 4 bits of the address.  A prefix whose last bit falls
 * in a node is stored there twice:
 *  - in native[], indexed like a heap ((1 << r) | top r bits, r = 1..4),
 *    which remembers exactly which prefixes exist (for duplicates);
 *  - expanded into best[] for every one of the 16 slots it covers, each
 *    slot keeping the longest native prefix covering it.
 * A lookup then reads one best[] per node on its way down and keeps the
 * last hit: deeper nodes hold longer prefixes, so the last hit is the
 * longest match.  /0 lives outside the trie as the family default.
 *
 * Nodes live in one array and refer to each other by index, so the map
 * is two allocations whatever its size.  Nodes 0 and 1 are the IPv4 and
 * IPv6 roots; since a root is never anybody's child, child index 0
 * means "none".
 */
#include "common/dept.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define STRIDE		4
#define FANOUT		(1u << STRIDE)
#define NATIVE		(2u * FANOUT)

struct node {
	uint32_t	child[FANOUT];
	int32_t		best[FANOUT];
	int32_t		native[NATIVE];	/* [0], [1] unused */
};

struct family {
	uint32_t	root;
	unsigned	bits;		/* 32 or 128 */
	int		def;		/* value of /0, or -1 */
};

struct dept_map {
	struct node	*nodes;
	uint32_t	 n_nodes, cap_nodes;
	struct family	 v4, v6;
	size_t		 count;
};

static void
node_init(struct node *n)
{
	unsigned i;

	memset(n->child, 0, sizeof(n->child));
	for (i = 0; i < FANOUT; i++)
		n->best[i] = -1;
	for (i = 0; i < NATIVE; i++)
		n->native[i] = -1;
}

/* Index of a fresh node, or 0 when out of memory. */
static uint32_t
node_alloc(struct dept_map *m)
{
	struct node *nn;
	uint32_t ncap;

	if (m->n_nodes == m->cap_nodes) {
		if (m->cap_nodes > UINT32_MAX / 2 / sizeof(struct node))
			return 0;
		ncap = m->cap_nodes ? m->cap_nodes * 2 : 16;
		nn = realloc(m->nodes, (size_t)ncap * sizeof(*nn));
		if (nn == NULL)
			return 0;
		m->nodes = nn;
		m->cap_nodes = ncap;
	}
	node_init(&m->nodes[m->n_nodes]);
	return m->n_nodes++;
}

struct dept_map *
dept_map_new(void)
{
	struct dept_map *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	/* The roots are nodes 0 and 1.  Index 0 is a valid result here,
	 * so success is judged by the node count. */
	node_alloc(m);
	node_alloc(m);
	if (m->n_nodes != 2) {
		dept_map_free(m);
		return NULL;
	}
	m->v4 = (struct family){ .root = 0, .bits = 32, .def = -1 };
	m->v6 = (struct family){ .root = 1, .bits = 128, .def = -1 };
	return m;
}

void
dept_map_free(struct dept_map *m)
{
	if (m == NULL)
		return;
	free(m->nodes);
	free(m);
}

static struct family *
family_of(struct dept_map *m, int af)
{
	if (af == AF_INET)
		return &m->v4;
	if (af == AF_INET6)
		return &m->v6;
	return NULL;
}

static const struct family *
cfamily_of(const struct dept_map *m, int af)
{
	return family_of((struct dept_map *)m, af);
}

/* The i-th 4-bit group of addr, most significant first. */
static unsigned
nibble(const uint8_t *addr, unsigned i)
{
	uint8_t b = addr[i / 2];

	return (i & 1) ? (b & 0x0f) : (b >> 4);
}

/* Recompute best[] of every slot below native index idx. */
static void
expand(struct node *n, unsigned r, unsigned bits)
{
	unsigned span = FANOUT >> r, s, k;

	for (s = bits * span; s < (bits + 1) * span; s++) {
		n->best[s] = -1;
		/* The longest covering native prefix wins: r = 4 first. */
		for (k = STRIDE; k >= 1; k--) {
			int32_t v = n->native[(1u << k) | (s >> (STRIDE - k))];

			if (v >= 0) {
				n->best[s] = v;
				break;
			}
		}
	}
}

int
dept_map_add(struct dept_map *m, int af, const uint8_t *addr, unsigned plen,
    int value)
{
	struct family *f;
	uint32_t cur, next;
	unsigned depth, r, bits, i, idx;

	if (m == NULL || addr == NULL || value < 0 ||
	    (f = family_of(m, af)) == NULL || plen > f->bits)
		return -1;
	if (plen == 0) {
		if (f->def >= 0)
			return f->def == value ? 0 : -1;
		f->def = value;
		m->count++;
		return 0;
	}
	depth = (plen - 1) / STRIDE;
	r = plen - depth * STRIDE;
	cur = f->root;
	for (i = 0; i < depth; i++) {
		unsigned s = nibble(addr, i);

		next = m->nodes[cur].child[s];
		if (next == 0) {
			/* node_alloc() may move m->nodes: index again after. */
			if ((next = node_alloc(m)) == 0)
				return -2;
			m->nodes[cur].child[s] = next;
		}
		cur = next;
	}
	bits = nibble(addr, depth) >> (STRIDE - r);
	idx = (1u << r) | bits;
	if (m->nodes[cur].native[idx] >= 0)
		return m->nodes[cur].native[idx] == value ? 0 : -1;
	m->nodes[cur].native[idx] = value;
	expand(&m->nodes[cur], r, bits);
	m->count++;
	return 0;
}

int
dept_map_lookup(const struct dept_map *m, int af, const uint8_t *addr)
{
	const struct family *f;
	const struct node *n;
	uint32_t cur;
	unsigned i, levels;
	int best;

	if (m == NULL || addr == NULL || (f = cfamily_of(m, af)) == NULL)
		return -1;
	best = f->def;
	levels = f->bits / STRIDE;
	cur = f->root;
	for (i = 0; i < levels; i++) {
		unsigned s = nibble(addr, i);

		n = &m->nodes[cur];
		if (n->best[s] >= 0)
			best = n->best[s];
		if ((cur = n->child[s]) == 0)
			break;
	}
	return best;
}

int
dept_map_exact(const struct dept_map *m, int af, const uint8_t *addr,
    unsigned plen)
{
	const struct family *f;
	uint32_t cur;
	unsigned depth, r, i;

	if (m == NULL || addr == NULL || (f = cfamily_of(m, af)) == NULL ||
	    plen > f->bits)
		return -1;
	if (plen == 0)
		return f->def;
	depth = (plen - 1) / STRIDE;
	r = plen - depth * STRIDE;
	cur = f->root;
	for (i = 0; i < depth; i++)
		if ((cur = m->nodes[cur].child[nibble(addr, i)]) == 0)
			return -1;
	return m->nodes[cur].native[(1u << r) |
	    (nibble(addr, depth) >> (STRIDE - r))];
}

size_t
dept_map_count(const struct dept_map *m)
{
	return m != NULL ? m->count : 0;
}

void
dept_prefix_mask(int af, uint8_t addr[16], unsigned plen)
{
	unsigned len = af == AF_INET ? 4 : 16, i;

	for (i = 0; i < len; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		if (plen <= 8 * i)
			addr[i] = 0;
		else
			addr[i] &= (uint8_t)(0xff00u >> (plen - 8 * i));
	}
}

/* Strict decimal 0..max: no sign, no space, at most 3 digits. */
static int
parse_plen(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 3)
			return -1;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (n == 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int
dept_parse_prefix(const char *s, int *af, uint8_t addr[16], unsigned *plen)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash;
	size_t alen;
	uint8_t tmp[16];
	unsigned len, max;
	int fam;

	if (s == NULL || af == NULL || addr == NULL || plen == NULL)
		return DEPT_PREFIX_SYNTAX;
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return DEPT_PREFIX_SYNTAX;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	fam = memchr(buf, ':', alen) != NULL ? AF_INET6 : AF_INET;
	memset(tmp, 0, sizeof(tmp));
	if (inet_pton(fam, buf, tmp) != 1)
		return DEPT_PREFIX_SYNTAX;
	max = fam == AF_INET ? 32 : 128;
	len = max;
	if (slash != NULL && parse_plen(slash + 1, max, &len) != 0)
		return DEPT_PREFIX_LEN;
	memcpy(addr, tmp, 16);
	dept_prefix_mask(fam, addr, len);
	*af = fam;
	*plen = len;
	return memcmp(addr, tmp, 16) == 0 ? DEPT_PREFIX_OK :
	    DEPT_PREFIX_HOSTBITS;
}

const char *
dept_format_prefix(int af, const uint8_t *addr, unsigned plen, char *buf,
    size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (buf == NULL || len == 0)
		return "?";
	if ((af != AF_INET && af != AF_INET6) || addr == NULL ||
	    inet_ntop(af, addr, a, sizeof(a)) == NULL)
		goto bad;
	n = snprintf(buf, len, "%s/%u", a, plen);
	if (n < 0 || (size_t)n >= len)
		goto bad;
	return buf;
bad:
	snprintf(buf, len, "?");
	return len >= 2 ? buf : "?";
}
