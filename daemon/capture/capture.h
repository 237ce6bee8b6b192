/*
 * capture.h - libpcap, live or from a file.
 *
 * Live: non-blocking, a large kernel buffer, and a kernel filter that
 * drops only what can never matter (ARP, ICMP, IGMP, and plain UDP that
 * is neither DNS, nor QUIC, nor a UDP tunnel the decoder unwraps).  TCP
 * is kept whole on purpose: the second segment of a split ClientHello
 * starts with arbitrary bytes, and the byte totals of counted
 * connections need every segment.
 * Frames the filter cannot parse (VLAN-tagged, IPv6 UDP) are kept, so
 * the filter can only ever err on the side of keeping a packet.
 */
#ifndef AIC_CAPTURE_H
#define AIC_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Kept: DNS, QUIC long headers, and the UDP tunnels the decoder unwraps
 * (GTP-U 2152, VXLAN 4789 and 8472, Geneve 6081, MPLS in UDP 6635,
 * GRE in UDP 4754);
 * GRE, ERSPAN and IP-in-IP are not UDP and MPLS is not IP, so they pass.
 */
#define CAPTURE_DEFAULT_FILTER						\
	"not (arp or rarp or icmp or icmp6 or igmp) and "		\
	"not (ip and udp and not port 53 and not port 443 and "		\
	"not port 2152 and not port 4789 and not port 8472 and "	\
	"not port 6081 and not port 6635 and not port 4754 and "	\
	"udp[8] & 0x80 = 0)"

struct capture;

struct capture_opts {
	int		 snaplen;
	int		 buffer_mb;
	int		 promisc;
	int		 immediate;
	const char	*filter;	/* NULL or "" = the default */
};

typedef void (*capture_cb)(void *arg, uint64_t ts_usec, const uint8_t *p,
	    size_t caplen, size_t wirelen);

/*
 * link_ok says which link types the next stage can read (the decoder's
 * decode_dlt_supported); it is passed in so that capture knows nothing
 * of the stages after it.  An unsupported link type fails the open with
 * a message naming it.
 */
typedef int (*capture_link_ok)(int dlt);
struct capture *capture_open_live(const char *iface,
	    const struct capture_opts *, capture_link_ok, char *err,
	    size_t errlen);
struct capture *capture_open_file(const char *path, capture_link_ok,
	    char *err, size_t errlen);
void	 capture_close(struct capture *);
int	 capture_fd(const struct capture *);
int	 capture_dlt(const struct capture *);
/* Hand up to max packets to cb: count, 0 when none, -1 error, -2 end. */
int	 capture_dispatch(struct capture *, int max, capture_cb cb, void *arg);
const char *capture_error(const struct capture *);
/*
 * Live only: join an AF_PACKET fanout group hashed by flow (both
 * directions of a connection land on one handle); fragments are left
 * as they are (capture.c says why).  *group < 0: a new group with an id
 * the kernel picks unique, stored in *group for the other handles.  -1
 * with a message when not possible.
 */
int	 capture_join_fanout(struct capture *, int *group, char *err,
	    size_t errlen);
/* Counters since open: received, dropped by the buffer, by the NIC. */
int	 capture_stats(struct capture *, uint64_t *recv, uint64_t *drop,
	    uint64_t *ifdrop);

#endif /* AIC_CAPTURE_H */
