/*
 * dns.h - DNS message parser (RFC 1035), UDP payloads and TCP streams.
 *
 * dns_parse() reads the header, decodes the first question name and, in
 * responses, collects the A/AAAA addresses of the answer section.  It
 * never reads past len, never allocates and keeps no state.
 *
 * Promises about the question name (qname):
 *  - presentation form, labels joined by '.', no trailing dot, original
 *    case kept (callers lowercase);
 *  - a label byte that is '.', '\\', a space or not printable ASCII is
 *    written as \DDD (three decimal digits, as TShark does), so the
 *    string is unambiguous; name_odd is set when any label byte is
 *    outside [A-Za-z0-9-_] (escaped or not);
 *  - the root name gives has_question = 1 and qname_len = 0: callers
 *    should skip it;
 *  - compression pointers must point before the start of the run of
 *    labels that contains them (so every jump goes strictly backwards
 *    and loops are impossible), at most DNS_PTR_HOPS of them;
 *  - wire length above 255 octets, or a presentation form (escapes
 *    included) that does not fit in qname[256], is DNS_E_NAME_TOO_LONG.
 *
 * Return value and what is valid in *m:
 *  - DNS_OK: header fields, has_question = 1, qname, qtype, qclass.  If
 *    the message stops right after the question name, qtype = qclass = 0
 *    and answers_truncated = 1 (the name is still good).
 *  - DNS_E_SHORT: nothing (fewer than 12 bytes).
 *  - any other error: header fields only; has_question = 0, qname = "".
 *
 * Answers (qr = 1 only): A (type 1, rdlength 4) and AAAA (type 28,
 * rdlength 16) records of class IN are copied to addrs[], up to
 * DNS_MAX_ADDRS; other records (CNAME, ...) are skipped by rdlength.
 * Owner names are not checked, so a CNAME chain yields the addresses
 * of its final target.  If the answer section is cut short or holds a
 * malformed name, the addresses found so far are kept and
 * answers_truncated is set; this is not an error.
 */
#ifndef AIC_DNS_H
#define AIC_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "common/anomaly.h"

#define DNS_NAME_MAX	255	/* presentation form fits in 256 bytes */
#define DNS_MAX_ADDRS	16
#define DNS_PTR_HOPS	64	/* compression pointers followed per name */

struct dns_addr {
	uint8_t		 af;		/* 4 or 6 */
	uint8_t		 a[16];		/* IPv4 uses a[0..3] */
	uint32_t	 ttl;
};

struct dns_msg {
	uint16_t	 id;
	uint8_t		 qr, opcode, rcode;
	uint16_t	 qdcount, ancount;
	int		 has_question;
	char		 qname[DNS_NAME_MAX + 1];
	size_t		 qname_len;
	uint16_t	 qtype, qclass;
	int		 name_odd;	/* label bytes outside [A-Za-z0-9-_] */
	struct dns_addr	 addrs[DNS_MAX_ADDRS];
	unsigned	 n_addrs;
	int		 answers_truncated; /* answers not fully walked */
};

enum dns_err {
	DNS_OK = 0,
	DNS_E_SHORT,		/* header truncated */
	DNS_E_NAME_LOOP,	/* pointer loop, self or forward pointer */
	DNS_E_NAME_TOO_LONG,
	DNS_E_BAD_LABEL,	/* 0x40/0x80 label types */
	DNS_E_NO_QUESTION,	/* qdcount == 0 */
	DNS_E_TRUNC_QUESTION	/* message ends inside the question name */
};

int	dns_parse(const uint8_t *p, size_t len, struct dns_msg *m);

/* The anomaly an error is counted as, ANOM_N for DNS_OK or unknown. */
enum anomaly dns_err_anomaly(int e);
/* Its name (the anomaly's, e.g. "dns_name_loop"), or "dns_ok"/"dns_unknown". */
const char *dns_err_name(int e);

/*
 * Split a DNS-over-TCP stream buffer into its 2-byte-length-prefixed
 * messages.  Calls cb (may be NULL) for each complete message and
 * returns how many there were; *consumed is set to the bytes they
 * used, so a trailing partial message stays for the caller to keep.
 * A zero-length message is counted and passed on with mlen 0 (msg
 * points into p), so the caller can count it as an anomaly.
 */
size_t	dns_tcp_split(const uint8_t *p, size_t len, size_t *consumed,
	    void (*cb)(void *arg, const uint8_t *msg, size_t mlen),
	    void *arg);

#endif /* AIC_DNS_H */
