/*
 * pipeline.c - per-packet work: find the flow, run the detectors, turn
 * their events into counts for a department and a service.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aggregate/agg.h"
#include "common/clock.h"
#include "detect/catalog.h"
#include "common/config.h"
#include "decode/decode.h"
#include "detect/detectors.h"
#include "detect/dnscache.h"
#include "decode/flow.h"
#include "common/log.h"
#include "common/period.h"
#include "aggregate/pipeline.h"
#include "attribute/weekkey.h"

#define MAX_DETECTORS	16
#define MAX_PROBES	8	/* client segments scanned for a late ClientHello */
#define FLOW_IDLE_SEC	600
/* ClientHellos being reassembled at once: 1024 x 8 KiB */
#define PIPELINE_STREAMS 1024
#define FL_FIN_CLI	0x20
#define FL_FIN_SRV	0x40
#define FL_ECH_WAIT	0x80	/* an ECH hello waits for its DNS answer */
/*
 * Capture workers: an ECH hello whose DNS answer is not in the shared
 * cache yet waits this long (wall clock) for the worker that has it,
 * which may be a kernel block (100 ms) or a backlog behind; at most
 * ECH_WAIT_MAX at once, past that it is decided at once as before.
 */
#define ECH_WAIT_MSEC	2000
#define ECH_WAIT_MAX	1024

/* Public DNS-over-HTTPS resolvers: lookups the sensor cannot read. */
static const char *doh_names[] = {
	"dns.google", "cloudflare-dns.com", "dns.quad9.net",
	"doh.opendns.com", "dns.nextdns.io", "doh.cleanbrowsing.org",
	"dns.adguard-dns.com", "doh.mullvad.net", "dns.mullvad.net",
	"doh.dns.sb", "dns.alidns.com", "doh.pub",
};

struct det {
	const struct aic_plugin	*pl;
	void			*state;
};

/* An ECH connection parked until the answer naming its server shows. */
struct ech_wait {
	struct flow	*f;		/* checked against the copy below */
	uint8_t		 cli[16], srv[16];
	uint16_t	 cport, sport;
	int		 dept;
	uint64_t	 conn_id;
	struct period	 per;		/* counted in the hour it was seen */
	uint64_t	 ts_usec;	/* packet time, for the cache */
	int64_t		 since_ms;	/* monotonic, when parked */
};

struct pipeline {
	const struct config	*cfg;
	const struct catalog	*cat;
	struct agg		*agg;
	struct weekkey		*dk;
	struct flow_table	*flows;
	struct dnscache		*dns;
	int			 dns_shared;	/* not ours to free */
	struct ech_wait		*wait;		/* shared cache only */
	size_t			 nwait;
	struct det		 det[MAX_DETECTORS];
	size_t			 ndet;
	struct aic_host		 host;
	inspect_cb		 inspect;
	void			*inspect_arg;
	struct flow_stats	 last_fs;
	/* the packet being handled, for the emit callback */
	const struct pkt	*cur;
	struct flow		*cur_flow;
	uint64_t		 cur_flow_key;
	size_t			 cur_det;
	struct flow		*stream_flow;	/* inside tcp_stream */
	struct period		 per;
	int64_t			 per_sec;	/* per is for this second */
	uint32_t		 now;
	uint64_t		 last_tick;
	/* packets per encapsulation kind (pipeline_encap_counts) */
	uint64_t		 encap_own[ENCAP_N];
	uint64_t		*encap;
	/* capture.client_address is "outer"; restart-only: kept from the
	   configuration the pipeline was made with */
	int			 client_outer;
};

/* --- attribution ---------------------------------------------------- */

static int
af_of(const uint8_t *addr, const uint8_t **a)
{
	if (addr_is_v4(addr)) {
		*a = addr + 12;
		return AF_INET;
	}
	*a = addr;
	return AF_INET6;
}

/*
 * The address that names a flow's client.  Its own, unless
 * capture.client_address is "outer" and the packet came through a
 * tunnel with an IP header outside it: then the outermost header's
 * address on the client's side, while the flow itself (and the server
 * address the DNS answers are matched with) stays the inner one.
 */
static const uint8_t *
client_of(const struct pipeline *P, const struct flow *f)
{
	const struct pkt *p = P->cur;

	if (!P->client_outer || p == NULL || p->outer_af == 0)
		return f->cli;
	return memcmp(p->src, f->cli, 16) == 0 && p->sport == f->cport ?
	    p->osrc : p->odst;
}

/* The same for a packet without a flow: its sender or its receiver. */
static const uint8_t *
client_of_pkt(const struct pipeline *P, int to_client)
{
	const struct pkt *p = P->cur;

	if (P->client_outer && p->outer_af != 0)
		return to_client ? p->odst : p->osrc;
	return to_client ? p->dst : p->src;
}

static int
dept_of(const struct pipeline *P, const uint8_t *client, int vlan)
{
	const uint8_t *a;
	int af = af_of(client, &a);

	return config_dept_of(P->cfg, af, a, vlan);
}

static int
ignored(const struct pipeline *P, const uint8_t *client)
{
	const uint8_t *a;
	int af = af_of(client, &a);

	return config_ignored(P->cfg, af, a);
}

static const char *
dept_name(const struct pipeline *P, int dept)
{
	if (dept < 0 || (size_t)dept >= P->cfg->n_depts)
		return CONFIG_UNASSIGNED;
	return P->cfg->dept_names[dept];
}

static int
name_in_list(const char *name, size_t len, char *const *list, size_t n,
    int suffix)
{
	size_t i;

	for (i = 0; i < n; i++) {
		size_t l = strlen(list[i]);

		if (l == len && strncasecmp(name, list[i], len) == 0)
			return 1;
		if (suffix && len > l && name[len - l - 1] == '.' &&
		    strncasecmp(name + len - l, list[i], l) == 0)
			return 1;
	}
	return 0;
}

static void
report(struct pipeline *P, const char *what, const struct aic_event *ev,
    int svc, int dept, const char *outcome)
{
	struct detection d;
	char name[256];
	size_t n = ev->name_len < sizeof(name) - 1 ? ev->name_len :
	    sizeof(name) - 1;

	if (P->inspect == NULL)
		return;
	memcpy(name, ev->name, n);
	name[n] = '\0';
	d.ts_usec = P->cur->ts_usec;
	d.detector = P->det[P->cur_det].pl->name;
	d.what = what;
	d.name = name;
	d.name_len = n;
	d.service = svc >= 0 ? catalog_service(P->cat, (size_t)svc)->id : NULL;
	d.department = dept == -2 ? NULL : dept_name(P, dept);
	d.outcome = outcome;
	P->inspect(P->inspect_arg, &d);
}

static void
device(struct pipeline *P, int dept, int svc, const uint8_t *client)
{
	agg_device(P->agg, &P->per, dept, svc,
	    weekkey_devhash(P->dk, P->per.week, client));
}

static void
count(struct pipeline *P, int dept, int svc, enum agg_counter c)
{
	struct agg_cell *cell = agg_cell(P->agg, &P->per, dept, svc);

	if (cell != NULL)
		cell->c[c]++;
}

/* The flow for a UDP event: the sender of the Initial is the client. */
static struct flow *
udp_flow(struct pipeline *P)
{
	int from_client;

	if (P->cur_flow == NULL) {
		P->cur_flow = flow_lookup(P->flows, P->cur, P->cur_flow_key,
		    &from_client);
		if (P->cur_flow == NULL)
			P->cur_flow = flow_create(P->flows, P->cur,
			    P->cur_flow_key, P->now);
	}
	return P->cur_flow;
}

static void
count_connection(struct pipeline *P, struct flow *f, int dept, int svc,
    enum agg_counter c, uint64_t conn_id, const uint8_t *client,
    const char *what, const struct aic_event *ev)
{
	struct agg_cell *cell;

	if ((f->flags & FL_COUNTED) && f->conn_id == conn_id) {
		report(P, what, ev, svc, dept, "duplicate");
		return;
	}
	cell = agg_cell(P->agg, &P->per, dept, svc);
	if (cell == NULL)
		return;
	cell->c[c]++;
	device(P, dept, svc, client);
	if (!(f->flags & FL_COUNTED)) {
		f->flags |= FL_COUNTED;
		f->dept = (int16_t)dept;
		f->svc = svc;
		cell->c[C_UP] += f->pend_up;
		cell->c[C_DOWN] += f->pend_down;
		f->pend_up = f->pend_down = 0;
	}
	f->conn_id = conn_id;
	report(P, what, ev, svc, dept, c == C_ECH ? "counted-ech" : "counted");
}

/*
 * Capture workers only: the answer may be on its way through another
 * worker.  1 when the hello is parked (decided by pipeline_settle).
 */
static int
ech_park(struct pipeline *P, struct flow *f, int dept, uint64_t conn_id)
{
	struct ech_wait *w;

	if (P->wait == NULL || P->nwait == ECH_WAIT_MAX ||
	    (f->flags & (FL_ECH_WAIT | FL_COUNTED)))
		return 0;
	w = &P->wait[P->nwait++];
	w->f = f;
	memcpy(w->cli, f->cli, 16);
	memcpy(w->srv, f->srv, 16);
	w->cport = f->cport;
	w->sport = f->sport;
	w->dept = dept;
	w->conn_id = conn_id;
	w->per = P->per;
	w->ts_usec = P->cur->ts_usec;
	w->since_ms = mono_ms();
	f->flags |= FL_ECH_WAIT;
	return 1;
}

static void
on_connection(struct pipeline *P, const struct aic_event *ev)
{
	int quic = ev->kind == AIC_EV_QUIC_SNI;
	const char *what = quic ? "quic-sni" : "tls-sni";
	struct flow *f = quic ? udp_flow(P) : P->cur_flow;
	const uint8_t *client, *server;
	int dept, svc;

	if (f == NULL)
		return;
	client = client_of(P, f);
	server = f->srv;
	if (ignored(P, client)) {
		report(P, what, ev, -1, -2, "ignored-client");
		return;
	}
	dept = dept_of(P, client, f->vlan);
	if (ev->flags & AIC_EVF_NO_NAME) {
		agg_blind(P->agg, &P->per, BL_NOSNI, 1);
		report(P, quic ? "quic-nosni" : "tls-nosni", ev, -1, dept,
		    "blind");
		return;
	}
	if (name_in_list(ev->name, ev->name_len, P->cfg->ech_public_names,
	    P->cfg->n_ech_public_names, 0)) {
		if (ev->flags & AIC_EVF_PARTIAL)
			return;		/* need the whole hello to tell */
		if (ev->flags & AIC_EVF_ECH) {
			agg_blind(P->agg, &P->per, BL_ECH, 1);
			svc = dnscache_get_at(P->dns, client, server,
			    P->cur->ts_usec);
			if ((svc < 0 || (size_t)svc >= catalog_count(P->cat)) &&
			    ech_park(P, f, dept, ev->conn_id))
				return;
			if (svc < 0 || (size_t)svc >= catalog_count(P->cat)) {
				agg_blind(P->agg, &P->per,
				    BL_ECH_UNATTRIBUTED, 1);
				report(P, "ech", ev, -1, dept, "unattributed");
				return;
			}
			count_connection(P, f, dept, svc, C_ECH, ev->conn_id,
			    client, "ech", ev);
			return;
		}
	}
	svc = catalog_match(P->cat, ev->name, ev->name_len);
	if (svc < 0) {
		if (!(ev->flags & AIC_EVF_PARTIAL) && name_in_list(ev->name,
		    ev->name_len, (char *const *)doh_names,
		    sizeof(doh_names) / sizeof(doh_names[0]), 1))
			agg_blind(P->agg, &P->per, BL_DOH, 1);
		if (!(f->flags & FL_COUNTED) && !(ev->flags & AIC_EVF_PARTIAL))
			f->flags |= FL_DONE;
		report(P, what, ev, -1, dept, "no-service");
		return;
	}
	count_connection(P, f, dept, svc, quic ? C_QUIC : C_TLS, ev->conn_id,
	    client, what, ev);
}

static void
on_dns(struct pipeline *P, const struct aic_event *ev)
{
	int resp = ev->kind == AIC_EV_DNS_RESPONSE;
	const uint8_t *client;
	int dept, svc;
	unsigned i;

	if (P->cur_flow != NULL)
		client = client_of(P, P->cur_flow);
	else
		client = client_of_pkt(P, (ev->flags & AIC_EVF_TO_CLIENT) != 0);
	if (ignored(P, client)) {
		if (!resp)
			agg_blind(P->agg, &P->per, BL_IGNORED, 1);
		report(P, resp ? "dns-response" : "dns-query", ev, -1, -2,
		    "ignored-client");
		return;
	}
	dept = dept_of(P, client, P->cur_flow ? P->cur_flow->vlan :
	    P->cur->vlan);
	svc = catalog_match(P->cat, ev->name, ev->name_len);
	if (!resp) {
		if (svc >= 0) {
			count(P, dept, svc, C_DNS);
			device(P, dept, svc, client);
		}
		report(P, "dns-query", ev, svc, dept, svc >= 0 ? "counted" :
		    "no-service");
		return;
	}
	if (svc < 0) {
		report(P, "dns-response", ev, svc, dept, "no-service");
		return;
	}
	if (ev->flags & AIC_EVF_NXDOMAIN)
		count(P, dept, svc, C_NXDOMAIN);
	for (i = 0; i < ev->n_addrs; i++) {
		uint32_t ttl = (uint32_t)P->cfg->limits.dns_cache_seconds;

		dnscache_put_at(P->dns, client, ev->addrs[i], svc,
		    P->cur->ts_usec, ttl);
	}
	report(P, "dns-response", ev, svc, dept,
	    (ev->flags & AIC_EVF_NXDOMAIN) ? "counted-nxdomain" : "answer");
}

static void
host_emit(void *ctx, const struct aic_event *ev)
{
	struct pipeline *P = ctx;

	switch (ev->kind) {
	case AIC_EV_DNS_QUERY:
	case AIC_EV_DNS_RESPONSE:
		on_dns(P, ev);
		break;
	case AIC_EV_TLS_SNI:
	case AIC_EV_QUIC_SNI:
		on_connection(P, ev);
		break;
	case AIC_EV_HTTP_HOST:
		report(P, "http-host", ev, catalog_match(P->cat, ev->name,
		    ev->name_len), -2, "not-counted");
		break;
	case AIC_EV_ANOMALY:
		agg_anomaly(P->agg, &P->per,
		    anomaly_from_name(ev->name, ev->name_len));
		break;
	}
}

static int
host_stream_cut(void *ctx, size_t at, size_t n)
{
	struct pipeline *P = ctx;

	if (P->stream_flow == NULL)
		return -1;
	return flow_stream_cut(P->flows, P->stream_flow, at, n);
}

static void
host_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= LOG_LVL_WARN)
		log_warnx("plugin: %s", msg);
	else
		log_debug("plugin: %s", msg);
}

/* --- bytes ------------------------------------------------------------ */

static void
account_bytes(struct pipeline *P, struct flow *f, int from_client,
    size_t wire_len)
{
	struct agg_cell *cell;

	if (wire_len == 0)
		return;
	if (!(f->flags & FL_COUNTED)) {
		if (from_client)
			f->pend_up += wire_len;
		else
			f->pend_down += wire_len;
		return;
	}
	/*
	 * The cell of the flow's last packet, while no flush or reload has
	 * freed or moved cells and the hour is the same: no hash lookup for
	 * the bulk of a counted connection.
	 */
	cell = f->cell;
	if (cell == NULL || f->cell_gen != agg_generation(P->agg) ||
	    cell->per.hour != P->per.hour) {
		cell = agg_cell(P->agg, &P->per, f->dept, f->svc);
		f->cell = cell;
		f->cell_gen = agg_generation(P->agg);
	}
	if (cell != NULL)
		cell->c[from_client ? C_UP : C_DOWN] += wire_len;
}

/* --- TCP -------------------------------------------------------------- */

/*
 * Filled in place: a struct returned by value was assembled on the stack
 * from narrow stores and copied out in wide loads, which stalled on
 * every packet that reaches a detector.
 */
static void
payload_of(struct aic_payload *pl, const struct pipeline *P,
    const struct pkt *p, int from_client)
{
	memset(pl, 0, sizeof(*pl));
	pl->ts_usec = p->ts_usec;
	pl->flow_key = P->cur_flow_key;
	pl->l4 = p->l4;
	pl->from_client = (uint8_t)from_client;
	pl->sport = p->sport;
	pl->dport = p->dport;
	pl->data = p->payload;
	pl->len = p->payload_len;
}

static int
tcp_claim(struct pipeline *P, const struct pkt *p)
{
	struct aic_payload pl;
	size_t i;

	payload_of(&pl, P, p, 1);
	for (i = 0; i < P->ndet; i++) {
		const struct aic_plugin *pg = P->det[i].pl;

		if (pg->tcp_claim && pg->tcp_stream &&
		    pg->tcp_claim(P->det[i].state, &pl))
			return (int)i;
	}
	return -1;
}

static void
finish_detection(struct pipeline *P, struct flow *f)
{
	flow_stream_close(P->flows, f);
	flow_srv_stream_close(P->flows, f);
	f->flags = (uint8_t)((f->flags & ~FL_CLAIMED) | FL_DONE);
	(void)P;
}

/* A reassembled side of a TCP flow, as a detector's tcp_stream gets it. */
static void
stream_payload(const struct pipeline *P, const struct flow *f,
    int from_client, const uint8_t *data, size_t len, uint64_t off,
    void *fstate, struct aic_payload *pl)
{
	memset(pl, 0, sizeof(*pl));
	pl->ts_usec = P->cur->ts_usec;
	pl->flow_key = P->cur_flow_key;
	pl->l4 = 6;
	pl->from_client = from_client;
	pl->sport = from_client ? f->cport : f->sport;
	pl->dport = from_client ? f->sport : f->cport;
	pl->data = data;
	pl->len = len;
	pl->is_stream = 1;
	pl->stream_off = off;
	pl->fstate = fstate;
}

static void
run_stream(struct pipeline *P, struct flow *f)
{
	struct aic_payload pl;
	const struct aic_plugin *pg = P->det[f->det].pl;
	enum aic_verdict v;
	size_t consumed = 0, len;
	uint64_t off;
	const uint8_t *data = flow_stream_data(P->flows, f, &len, &off);

	if (data == NULL || len == 0)
		return;
	stream_payload(P, f, 1, data, len, off,
	    flow_stream_fstate(P->flows, f), &pl);
	P->cur_det = f->det;
	P->stream_flow = f;
	v = pg->tcp_stream(P->det[f->det].state, &pl, &consumed);
	P->stream_flow = NULL;
	if (consumed > 0)
		flow_stream_consume(P->flows, f, consumed);
	/* what it holds now: the detector may have cut framing out */
	(void)flow_stream_data(P->flows, f, &len, NULL);
	if (v == AIC_MORE && consumed == 0 && len >= STREAM_BUF) {
		/*
		 * The buffer is full and the detector still wants more.  For
		 * TLS that is a ClientHello too large to read: a blind spot
		 * of its own, not a resource limit.
		 */
		agg_anomaly(P->agg, &P->per, pg == det_tls_plugin() ?
		    ANOM_TLS_UNREADABLE : ANOM_STREAM_OVERFLOW);
		v = AIC_NOT_MINE;
	}
	if (v != AIC_MORE)
		finish_detection(P, f);
}

/*
 * The server's side of a claimed stream (DNS over TCP: the answers).
 * The claiming detector is asked once, at the server's first data,
 * whether it reads that side too; the stream then starts at the
 * server's first byte when the SYN-ACK or the client's acknowledgement
 * told it, else at that first segment.  Its end (a verdict, too long a
 * message, the pool taking it back) ends only the server's side.
 */
static void
run_srv_stream(struct pipeline *P, struct flow *f)
{
	struct aic_payload pl;
	const struct aic_plugin *pg = P->det[f->det].pl;
	enum aic_verdict v;
	size_t consumed = 0, len;
	uint64_t off;
	const uint8_t *data = flow_srv_stream_data(P->flows, f, &len, &off);

	if (data == NULL || len == 0)
		return;
	stream_payload(P, f, 0, data, len, off,
	    flow_srv_stream_fstate(P->flows, f), &pl);
	P->cur_det = f->det;
	v = pg->tcp_stream(P->det[f->det].state, &pl, &consumed);
	if (consumed > 0)
		flow_srv_stream_consume(P->flows, f, consumed);
	if (v == AIC_MORE && consumed == 0 && len >= STREAM_BUF) {
		agg_anomaly(P->agg, &P->per, ANOM_STREAM_OVERFLOW);
		v = AIC_NOT_MINE;
	}
	if (v != AIC_MORE) {
		flow_srv_stream_close(P->flows, f);
		f->sflags |= FS_SRV_DONE;
	}
}

static void
tcp_server_data(struct pipeline *P, struct flow *f, const struct pkt *p)
{
	struct aic_payload pl;
	const struct aic_plugin *pg = P->det[f->det].pl;

	if (f->sslot == FLOW_NONE) {
		payload_of(&pl, P, p, 0);
		P->cur_det = f->det;
		if (!pg->tcp_claim(P->det[f->det].state, &pl)) {
			f->sflags |= FS_SRV_DONE;
			return;
		}
		flow_srv_stream_open(P->flows, f, (f->sflags & FS_SRV_BASE) ?
		    f->srv_next : p->seq);
	}
	if (flow_srv_stream_add(P->flows, f, p->seq, p->payload,
	    p->payload_len))
		run_srv_stream(P, f);
}

/*
 * Where the server's bytes start: its SYN-ACK says so, else the first
 * acknowledgement the client sends (before the server has sent data).
 */
static void
srv_base(struct flow *f, const struct pkt *p, int from_client)
{
	if (f->sslot != FLOW_NONE || !(p->tcp_flags & TCP_ACK))
		return;
	if (!from_client && (p->tcp_flags & TCP_SYN)) {
		f->srv_next = p->seq + 1;
		f->sflags |= FS_SRV_BASE;
	} else if (from_client && !(f->sflags & FS_SRV_BASE)) {
		f->srv_next = p->ack;
		f->sflags |= FS_SRV_BASE;
	}
}

static void
claim_stream(struct pipeline *P, struct flow *f, int d, uint32_t base)
{
	f->det = (uint8_t)d;
	f->flags |= FL_CLAIMED;
	if (f->slot == FLOW_NONE || base != f->isn_next)
		flow_stream_open(P->flows, f, base);
}

static void
tcp_client_data(struct pipeline *P, struct flow *f, const struct pkt *p)
{
	int32_t rel;
	int d;

	if (f->flags & FL_DONE)
		return;
	if (f->flags & FL_CLAIMED) {
		if (flow_stream_add(P->flows, f, p->seq, p->payload,
		    p->payload_len))
			run_stream(P, f);
		return;
	}
	rel = (int32_t)(p->seq - f->isn_next);
	if (rel < 0)
		return;			/* retransmission of old bytes */
	if ((d = tcp_claim(P, p)) >= 0) {
		/* stream start, or a late start (STARTTLS, SOCKS, proxies) */
		claim_stream(P, f, d, p->seq);
		if (flow_stream_add(P->flows, f, p->seq, p->payload,
		    p->payload_len))
			run_stream(P, f);
		return;
	}
	if (rel > 0 && f->probes == 0 && rel < STREAM_BUF) {
		/* ahead of the first segment: keep it until that arrives */
		if (f->slot == FLOW_NONE)
			flow_stream_open(P->flows, f, f->isn_next);
		flow_stream_add(P->flows, f, p->seq, p->payload,
		    p->payload_len);
		return;
	}
	if (rel == 0 && f->slot != FLOW_NONE) {
		/* the start, after later segments were kept: try again */
		flow_stream_add(P->flows, f, p->seq, p->payload,
		    p->payload_len);
		flow_stream_close(P->flows, f);
	}
	if (++f->probes > MAX_PROBES)
		finish_detection(P, f);
}

static void
handle_tcp(struct pipeline *P, const struct pkt *p)
{
	struct flow *f;
	int from_client = 1, d;

	f = flow_lookup(P->flows, p, P->cur_flow_key, &from_client);
	if (f == NULL) {
		if ((p->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
			f = flow_create(P->flows, p, P->cur_flow_key, P->now);
			f->flags |= FL_SYN_SEEN;
			f->isn_next = p->seq + 1;
			return;
		}
		if (p->payload_len == 0 || (d = tcp_claim(P, p)) < 0)
			return;
		/* joined mid-connection: the sender of a hello is the client */
		f = flow_create(P->flows, p, P->cur_flow_key, P->now);
		f->isn_next = p->seq;
		claim_stream(P, f, d, p->seq);
		from_client = 1;
		srv_base(f, p, from_client);
		P->cur_flow = f;
		if (flow_stream_add(P->flows, f, p->seq, p->payload,
		    p->payload_len))
			run_stream(P, f);
	} else {
		flow_touch(P->flows, f, P->now);
		P->cur_flow = f;
		srv_base(f, p, from_client);
		if ((p->tcp_flags & TCP_SYN) && from_client &&
		    !(p->tcp_flags & TCP_ACK) && !(f->flags & FL_CLAIMED)) {
			f->isn_next = p->seq + 1;	/* SYN retransmitted */
			f->flags |= FL_SYN_SEEN;
		} else if (from_client && p->payload_len > 0) {
			tcp_client_data(P, f, p);
		} else if (p->payload_len > 0 && (f->flags & FL_CLAIMED) &&
		    !(f->flags & FL_DONE) && !(f->sflags & FS_SRV_DONE)) {
			tcp_server_data(P, f, p);
		}
	}
	account_bytes(P, f, from_client, p->wire_len);
	if (p->tcp_flags & TCP_FIN)
		f->flags |= from_client ? FL_FIN_CLI : FL_FIN_SRV;
	/* a waiting ECH flow stays: its bytes count if the answer shows */
	if (f->flags & FL_ECH_WAIT)
		return;
	if ((p->tcp_flags & TCP_RST) ||
	    (f->flags & (FL_FIN_CLI | FL_FIN_SRV)) == (FL_FIN_CLI | FL_FIN_SRV)
	    || ((f->flags & (FL_DONE | FL_COUNTED | FL_CONFLICT)) == FL_DONE))
		flow_remove(P->flows, f);
}

/* --- UDP -------------------------------------------------------------- */

static void
handle_udp(struct pipeline *P, const struct pkt *p)
{
	struct flow *f;
	int from_client = 1, track = 0;
	size_t i;
	struct aic_payload pl;

	f = flow_lookup(P->flows, p, P->cur_flow_key, &from_client);
	if (f != NULL) {
		flow_touch(P->flows, f, P->now);
		/*
		 * A counted flow's later packets need no detector, nor does a
		 * finished one; keeping the finished entry (until it ages out)
		 * is what tells the server's Initials from a client's.
		 */
		if (((f->flags & FL_COUNTED) && p->payload_len > 0 &&
		    !(p->payload[0] & 0x80)) || (f->flags & FL_DONE)) {
			account_bytes(P, f, from_client, p->wire_len);
			return;
		}
	}
	P->cur_flow = f;
	payload_of(&pl, P, p, from_client);
	for (i = 0; i < P->ndet; i++) {
		int rc;

		if (P->det[i].pl->udp == NULL)
			continue;
		P->cur_det = i;
		rc = P->det[i].pl->udp(P->det[i].state, &pl);
		if (rc == AIC_UDP_NOT_MINE)
			continue;
		track = rc == AIC_UDP_TRACK;
		break;
	}
	f = P->cur_flow;
	if (f == NULL && track) {
		f = flow_create(P->flows, p, P->cur_flow_key, P->now);
		from_client = 1;
	}
	if (f != NULL)
		account_bytes(P, f, from_client, p->wire_len);
}

/* --- packets ---------------------------------------------------------- */

static void
flow_stat_anomalies(struct pipeline *P)
{
	const struct flow_stats *fs = flow_stats(P->flows);
	uint64_t n;

	for (n = fs->evicted - P->last_fs.evicted; n > 0; n--)
		agg_anomaly(P->agg, &P->per, ANOM_FLOW_EVICTED);
	for (n = fs->stream_evicted - P->last_fs.stream_evicted; n > 0; n--)
		agg_anomaly(P->agg, &P->per, ANOM_STREAM_EVICTED);
	for (n = fs->overlap_conflict - P->last_fs.overlap_conflict; n > 0;
	    n--)
		agg_anomaly(P->agg, &P->per, ANOM_TCP_OVERLAP_CONFLICT);
	P->last_fs = *fs;
}

void
pipeline_packet(struct pipeline *P, int dlt, uint64_t ts_usec,
    const uint8_t *data, size_t caplen, size_t wirelen)
{
	struct pkt p;
	enum decode_result r;
	enum anomaly a;

	P->now = (uint32_t)(ts_usec / 1000000);
	if ((int64_t)(ts_usec / 1000000) != P->per_sec) {
		P->per_sec = (int64_t)(ts_usec / 1000000);
		period_of(P->per_sec, &P->per);
	}
	agg_packet(P->agg, &P->per, wirelen);
	p.ts_usec = ts_usec;
	r = decode_packet(dlt, data, caplen, wirelen, &p);
	if (p.encap != 0) {
		unsigned k;

		for (k = 0; k < ENCAP_N; k++)
			if (p.encap & ENCAP_BIT(k))
				P->encap[k]++;
	}
	if (r != DEC_OK) {
		if ((a = decode_result_anomaly(r)) != ANOM_N)
			agg_anomaly(P->agg, &P->per, a);
		return;
	}
	P->cur = &p;
	P->cur_flow = NULL;
	P->cur_flow_key = flow_hash(P->flows, &p);
	if (p.l4 == 6)
		handle_tcp(P, &p);
	else
		handle_udp(P, &p);
	P->cur = NULL;
	P->cur_flow = NULL;
	if (flow_stats(P->flows)->evicted != P->last_fs.evicted ||
	    flow_stats(P->flows)->stream_evicted != P->last_fs.stream_evicted ||
	    flow_stats(P->flows)->overlap_conflict !=
	    P->last_fs.overlap_conflict)
		flow_stat_anomalies(P);
}

/*
 * The parked ECH hellos whose answer has come (counted as one thread
 * would have, in the hour they were seen), or whose wait is over or
 * all: unattributed.  A flow that went meanwhile (evicted, its slot
 * reused) is counted without its bytes.
 */
void
pipeline_settle(struct pipeline *P, int all)
{
	static const struct aic_event none = { .name = "", .name_len = 0 };
	struct period saved = P->per;
	int64_t now = P->nwait > 0 ? mono_ms() : 0;
	size_t i, keep = 0;

	for (i = 0; i < P->nwait; i++) {
		struct ech_wait *w = &P->wait[i];
		struct flow *f = w->f;
		int svc = dnscache_get_at(P->dns, w->cli, w->srv, w->ts_usec);
		int same = (f->flags & FL_ECH_WAIT) && f->cport == w->cport &&
		    f->sport == w->sport && memcmp(f->cli, w->cli, 16) == 0 &&
		    memcmp(f->srv, w->srv, 16) == 0;

		if (svc >= (int)catalog_count(P->cat))
			svc = -1;
		if (svc < 0 && !all && now - w->since_ms < ECH_WAIT_MSEC) {
			P->wait[keep++] = *w;
			continue;
		}
		if (same)
			f->flags &= (uint8_t)~FL_ECH_WAIT;
		P->per = w->per;
		if (svc < 0)
			agg_blind(P->agg, &w->per, BL_ECH_UNATTRIBUTED, 1);
		else if (same)
			count_connection(P, f, w->dept, svc, C_ECH, w->conn_id,
			    w->cli, "ech", &none);
		else {
			count(P, w->dept, svc, C_ECH);
			device(P, w->dept, svc, w->cli);
		}
		/* what handle_tcp would have done meanwhile */
		if (same && f->l4 == 6 && (((f->flags & (FL_FIN_CLI |
		    FL_FIN_SRV)) == (FL_FIN_CLI | FL_FIN_SRV)) ||
		    ((f->flags & FL_DONE) && !(f->flags & FL_COUNTED))))
			flow_remove(P->flows, f);
	}
	P->nwait = keep;
	P->per = saved;
}

void
pipeline_drops(struct pipeline *P, uint64_t ts_usec, uint64_t drops,
    uint64_t ifdrops)
{
	struct period per;

	period_of((int64_t)(ts_usec / 1000000), &per);
	agg_blind(P->agg, &per, BL_PCAP_DROPS, drops);
	agg_blind(P->agg, &per, BL_IF_DROPS, ifdrops);
}

void
pipeline_tick(struct pipeline *P, uint64_t now_usec)
{
	flow_expire(P->flows, (uint32_t)(now_usec / 1000000), FLOW_IDLE_SEC,
	    4096);
	P->last_tick = now_usec;
}

size_t
pipeline_mem(const struct pipeline *P)
{
	/* a shared cache is the workers' owner's to count, once */
	return flow_table_mem(P->flows) + (P->dns_shared ? 0 :
	    dnscache_mem(P->dns));
}

void
pipeline_encap_counts(struct pipeline *P, uint64_t *counts)
{
	P->encap = counts != NULL ? counts : P->encap_own;
}

void
pipeline_set_inspect(struct pipeline *P, inspect_cb cb, void *arg)
{
	P->inspect = cb;
	P->inspect_arg = arg;
}

/* --- set-up ----------------------------------------------------------- */

const struct aic_host *
pipeline_host(const struct pipeline *P)
{
	return &P->host;
}

int
pipeline_add_detector(struct pipeline *P, const struct aic_plugin *pg,
    const char *arg, void **state, char *err, size_t errlen)
{
	struct det *d;

	if (P->ndet == MAX_DETECTORS) {
		snprintf(err, errlen, "too many detectors (at most %d)",
		    MAX_DETECTORS);
		return -1;
	}
	if (pg->flow_state_size > STREAM_FSTATE) {
		snprintf(err, errlen, "plugin %s wants %zu bytes of flow state;"
		    " at most %d are available", pg->name,
		    pg->flow_state_size, STREAM_FSTATE);
		return -1;
	}
	d = &P->det[P->ndet];
	d->pl = pg;
	d->state = NULL;
	if (pg->init != NULL && pg->init(&P->host, arg ? arg : "",
	    &d->state) != 0) {
		snprintf(err, errlen, "plugin %s failed to initialise",
		    pg->name);
		return -1;
	}
	P->ndet++;
	if (state != NULL)
		*state = d->state;
	return 0;
}

struct pipeline *
pipeline_new(const struct config *cfg, const struct catalog *cat,
    struct agg *agg, struct weekkey *dk, char *err, size_t errlen)
{
	return pipeline_new_worker(cfg, cat, agg, dk, NULL,
	    (size_t)cfg->limits.max_flows, err, errlen);
}

struct pipeline *
pipeline_new_worker(const struct config *cfg, const struct catalog *cat,
    struct agg *agg, struct weekkey *dk, struct dnscache *dns,
    size_t max_flows, char *err, size_t errlen)
{
	struct pipeline *P;
	uint64_t seed;
	char quic_arg[32];

	if ((P = calloc(1, sizeof(*P))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	P->cfg = cfg;
	P->cat = cat;
	P->agg = agg;
	P->dk = dk;
	P->per_sec = INT64_MIN;
	P->encap = P->encap_own;
	P->client_outer = cfg->capture.client_address == CONFIG_CLIENT_OUTER;
	if (getentropy(&seed, sizeof(seed)) != 0)
		seed = (uint64_t)(uintptr_t)P ^ 0x5bd1e995;
	P->flows = flow_table_new(max_flows, PIPELINE_STREAMS, seed);
	if (dns != NULL) {
		P->dns = dns;
		P->dns_shared = 1;
		if ((P->wait = calloc(ECH_WAIT_MAX, sizeof(*P->wait))) ==
		    NULL) {
			snprintf(err, errlen, "out of memory");
			pipeline_free(P);
			return NULL;
		}
	} else
		P->dns = dnscache_new((size_t)cfg->limits.dns_cache_entries,
		    seed ^ 0xa5a5a5a5);
	if (P->flows == NULL || P->dns == NULL) {
		snprintf(err, errlen, "cannot allocate the flow table (%zu "
		    "flows): lower limits.max_flows", max_flows);
		pipeline_free(P);
		return NULL;
	}
	P->host.abi = AIC_PLUGIN_ABI;
	P->host.ctx = P;
	P->host.emit = host_emit;
	P->host.log = host_log;
	P->host.stream_cut = host_stream_cut;
	snprintf(quic_arg, sizeof(quic_arg), "%zu", (size_t)cfg->limits.max_quic);
	if (pipeline_add_detector(P, det_dns_plugin(), "", NULL, err,
	    errlen) != 0 ||
	    pipeline_add_detector(P, det_tls_plugin(), "", NULL, err,
	    errlen) != 0 ||
	    pipeline_add_detector(P, det_quic_plugin(), quic_arg, NULL,
	    err, errlen) != 0) {
		pipeline_free(P);
		return NULL;
	}
	return P;
}

void
pipeline_free(struct pipeline *P)
{
	size_t i;

	if (P == NULL)
		return;
	for (i = 0; i < P->ndet; i++)
		if (P->det[i].pl->fini)
			P->det[i].pl->fini(P->det[i].state);
	flow_table_free(P->flows);
	if (!P->dns_shared)
		dnscache_free(P->dns);
	free(P->wait);
	free(P);
}

/* --- reload ----------------------------------------------------------- */

struct remap {
	const int32_t	*dmap, *smap;
	size_t		 nd, ns;
};

static void
remap_flow(void *arg, struct flow *f)
{
	const struct remap *r = arg;
	size_t di = (size_t)(f->dept + 1);

	if (!(f->flags & FL_COUNTED))
		return;
	if (di >= r->nd || r->dmap[di] == INT32_MIN || f->svc < 0 ||
	    (size_t)f->svc >= r->ns || r->smap[f->svc] == INT32_MIN) {
		/* its department or service is gone: stop following it */
		f->flags &= (uint8_t)~FL_COUNTED;
		f->flags |= FL_DONE;
		return;
	}
	f->dept = (int16_t)r->dmap[di];
	f->svc = r->smap[f->svc];
}

/*
 * Parked ECH hellos go on waiting under their department's new index;
 * one whose department left is dropped, as its counts are.
 */
static void
remap_waiting(struct pipeline *P, const struct remap *r)
{
	size_t i, keep = 0;

	for (i = 0; i < P->nwait; i++) {
		struct ech_wait *w = &P->wait[i];
		size_t di = (size_t)(w->dept + 1);

		if (di >= r->nd || r->dmap[di] == INT32_MIN) {
			if (w->f->flags & FL_ECH_WAIT &&
			    memcmp(w->f->cli, w->cli, 16) == 0 &&
			    w->f->cport == w->cport)
				w->f->flags &= (uint8_t)~FL_ECH_WAIT;
			continue;
		}
		w->dept = r->dmap[di];
		P->wait[keep++] = *w;
	}
	P->nwait = keep;
}

static int32_t
find_dept(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_depts; i++)
		if (strcmp(cfg->dept_names[i], name) == 0)
			return (int32_t)i;
	return INT32_MIN;
}

size_t
pipeline_reconfigure(struct pipeline *P, const struct config *cfg,
    const struct catalog *cat)
{
	size_t nd = P->cfg->n_depts + 1, ns = catalog_count(P->cat), i;
	int32_t *dmap = calloc(nd, sizeof(*dmap));
	int32_t *smap = calloc(ns ? ns : 1, sizeof(*smap));
	struct remap r;
	size_t dropped = 0;

	if (dmap == NULL || smap == NULL) {
		free(dmap);
		free(smap);
		return 0;
	}
	dmap[0] = -1;			/* unassigned stays unassigned */
	for (i = 1; i < nd; i++)
		dmap[i] = find_dept(cfg, P->cfg->dept_names[i - 1]);
	for (i = 0; i < ns; i++) {
		int k = catalog_find_id(cat, catalog_service(P->cat, i)->id);

		smap[i] = k >= 0 ? k : INT32_MIN;
	}
	dropped = agg_remap(P->agg, dmap, nd, smap, ns);
	r.dmap = dmap;
	r.smap = smap;
	r.nd = nd;
	r.ns = ns;
	flow_foreach(P->flows, remap_flow, &r);
	remap_waiting(P, &r);
	free(dmap);
	free(smap);
	P->cfg = cfg;
	P->cat = cat;
	P->per_sec = INT64_MIN;		/* the time zone may have changed */
	return dropped;
}
