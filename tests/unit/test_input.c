/*
 * test_input.c - capture/input.c: the files of aicensusd -r expanded,
 * scanned (fingerprint, span, packets) and put in time order; overlaps,
 * the same file twice, unreadable files refused; a damaged tail read;
 * the walk of classic pcap files against libpcap's reading of them.
 */
#include <sys/stat.h>

#include <ftw.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <pcap/pcap.h>

#include "capture/input.h"
#include "t.h"

static char dir[64];

static int
eth_only(int dlt)
{
	return dlt == DLT_EN10MB;
}

static int
eth_or_raw(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_RAW;
}

static const char *
path_of(const char *name)
{
	static char p[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* A capture of n packets, the k-th at t0 + k * step seconds. */
static void
write_pcap(const char *name, int dlt, long t0, int n, long step)
{
	pcap_t *pd = pcap_open_dead(dlt, 65535);
	pcap_dumper_t *dp = pcap_dump_open(pd, path_of(name));
	struct pcap_pkthdr h;
	u_char frame[60];
	int k;

	memset(frame, 0xab, sizeof(frame));
	for (k = 0; k < n; k++) {
		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = t0 + k * step;
		h.ts.tv_usec = 1000 * k;
		h.caplen = h.len = sizeof(frame);
		frame[0] = (u_char)k;
		pcap_dump((u_char *)dp, &h, frame);
	}
	pcap_dump_close(dp);
	pcap_close(pd);
}

/*
 * The fingerprint as input.h defines it, computed apart: the whole file
 * in memory, then SHA-256 of its size (8 bytes, big-endian), its first
 * and last MiB, or every byte of a file of 2 MiB or less.
 */
static void
fingerprint_of(const char *path, char out[65])
{
	unsigned char md[32], be[8], *buf;
	unsigned len = 0, i;
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *ctx;
	size_t n, m = INPUT_FP_PART;
	long sz;

	out[0] = '\0';
	if (f == NULL)
		return;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	n = (size_t)sz;
	buf = malloc(n + 1);
	ctx = EVP_MD_CTX_new();
	for (i = 0; i < 8; i++)
		be[i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
	if (buf != NULL && ctx != NULL && fread(buf, 1, n, f) == n &&
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, be, 8) == 1 &&
	    (n <= 2 * m ? EVP_DigestUpdate(ctx, buf, n) == 1 :
	    EVP_DigestUpdate(ctx, buf, m) == 1 &&
	    EVP_DigestUpdate(ctx, buf + n - m, m) == 1) &&
	    EVP_DigestFinal_ex(ctx, md, &len) == 1)
		for (i = 0; i < len; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(ctx);
	free(buf);
	fclose(f);
}

static int	chains_agree(const char *);

/* What libpcap says of a file, packet by packet: the walk's reference. */
struct ref {
	int		 ok;		/* libpcap opened it */
	int64_t		 first, last;
	uint64_t	 packets;
	int		 damaged;
};

static struct ref
libpcap_ref(const char *path)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	struct ref r;
	pcap_t *pc;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((pc = pcap_open_offline(path, ebuf)) == NULL)
		return r;
	r.ok = 1;
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
		int64_t t = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;

		if (r.packets == 0 || t > r.last)
			r.last = t;
		if (r.packets == 0)
			r.first = t;
		r.packets++;
	}
	r.damaged = rc != PCAP_ERROR_BREAK;
	pcap_close(pc);
	return r;
}

static int
any_link(int dlt)
{
	(void)dlt;
	return 1;
}

/*
 * One file scanned alone against libpcap's reading of it; *walked says
 * whether the walk read it.  1 when they agree.
 */
static int
agrees(const char *path, int *walked)
{
	char *paths[1], err[512];
	struct input *in;
	struct ref r = libpcap_ref(path);
	const struct input_file *f;
	int same;

	paths[0] = (char *)path;
	*walked = 0;
	in = input_scan(paths, 1, any_link, err, sizeof(err));
	if (in == NULL || !r.ok) {
		input_free(in);
		if ((in == NULL) != !r.ok)
			fprintf(stderr, "%s: scan %s, libpcap %s\n", path,
			    in ? "read it" : err, r.ok ? "read it" : "did not");
		return (in == NULL) == !r.ok;
	}
	f = input_file(in, 0);
	*walked = f->walked;
	if (f->walked && !chains_agree(path)) {
		input_free(in);
		return 0;
	}
	same = f->packets == r.packets && f->damaged == r.damaged &&
	    (r.packets == 0 || (f->first_usec == r.first &&
	    f->last_usec == r.last));
	if (!same)
		fprintf(stderr, "%s: scan %llu packets %lld..%lld damaged %d, "
		    "libpcap %llu %lld..%lld damaged %d\n", path,
		    (unsigned long long)f->packets, (long long)f->first_usec,
		    (long long)f->last_usec, f->damaged,
		    (unsigned long long)r.packets, (long long)r.first,
		    (long long)r.last, r.damaged);
	input_free(in);
	return same;
}

static void
reset_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/*", dir);
	if (system(cmd) != 0)
		perror("rm");
}

static void
test_time_order_not_name(void)
{
	char *paths[3], err[512], want[65];
	const struct input_file *f;
	struct input *in;
	struct capture *c;
	size_t idx = 99;

	reset_dir();
	/* names sort a, b, c; times c < a < b */
	write_pcap("a.pcap", DLT_EN10MB, 1000, 5, 10);
	write_pcap("b.pcap", DLT_EN10MB, 2000, 3, 10);
	write_pcap("c.pcap", DLT_EN10MB, 100, 4, 100);
	paths[0] = (char *)path_of("a.pcap");
	paths[1] = (char *)path_of("b.pcap");
	paths[2] = (char *)path_of("c.pcap");
	in = input_scan(paths, 3, eth_only, err, sizeof(err));
	T_CHECK(in != NULL);
	if (in == NULL)
		return;
	T_EQ_INT(input_count(in), 3);
	T_EQ_STR(input_file(in, 0)->name, "c.pcap");
	T_EQ_STR(input_file(in, 1)->name, "a.pcap");
	T_EQ_STR(input_file(in, 2)->name, "b.pcap");
	f = input_file(in, 1);
	T_EQ_INT(f->packets, 5);
	T_EQ_INT(f->first_usec, 1000LL * 1000000);
	T_EQ_INT(f->last_usec, 1040LL * 1000000 + 4000);
	T_EQ_INT(f->dlt, DLT_EN10MB);
	T_EQ_INT(f->damaged, 0);
	fingerprint_of(path_of("a.pcap"), want);
	T_EQ_STR(f->fingerprint, want);
	T_EQ_INT(f->walked, 1);
	T_CHECK(input_file(in, 3) == NULL);
	/* input_next hands them over in that order */
	c = input_next(in, &idx, err, sizeof(err));
	T_CHECK(c != NULL && idx == 0 && capture_dlt(c) == DLT_EN10MB);
	c = input_next(in, &idx, err, sizeof(err));
	T_CHECK(c != NULL && idx == 1);
	c = input_next(in, &idx, err, sizeof(err));
	T_CHECK(c != NULL && idx == 2);
	T_CHECK(input_next(in, &idx, err, sizeof(err)) == NULL);
	T_EQ_STR(err, "");
	input_free(in);
}

static void
test_directory_and_empty(void)
{
	char *paths[1], err[512], sub[300];
	struct input *in;

	reset_dir();
	write_pcap("cap.pcap10", DLT_EN10MB, 3000, 2, 1);
	write_pcap("cap.pcap2", DLT_EN10MB, 2000, 2, 1);
	write_pcap("cap.pcap1", DLT_EN10MB, 1000, 2, 1);
	write_pcap("cap.pcap3", DLT_EN10MB, 0, 0, 1);	/* no packet */
	write_pcap(".hidden", DLT_EN10MB, 1000, 2, 1);	/* would overlap */
	snprintf(sub, sizeof(sub), "%s/subdir", dir);
	mkdir(sub, 0700);				/* not descended */
	paths[0] = dir;
	in = input_scan(paths, 1, eth_only, err, sizeof(err));
	T_CHECK(in != NULL);
	if (in == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	T_EQ_INT(input_count(in), 3);
	T_EQ_INT(input_skipped(in), 1);
	T_EQ_STR(input_file(in, 0)->name, "cap.pcap1");
	T_EQ_STR(input_file(in, 1)->name, "cap.pcap2");
	T_EQ_STR(input_file(in, 2)->name, "cap.pcap10");
	input_free(in);

	/* only empty files: one is kept, so the run starts and reads none */
	reset_dir();
	write_pcap("e1.pcap", DLT_EN10MB, 0, 0, 1);
	write_pcap("e2.pcap", DLT_EN10MB, 0, 0, 1);
	in = input_scan(paths, 1, eth_only, err, sizeof(err));
	T_CHECK(in != NULL && input_count(in) == 1 &&
	    input_file(in, 0)->packets == 0 && input_skipped(in) == 1);
	input_free(in);

	/* an empty directory */
	reset_dir();
	T_CHECK(input_scan(paths, 1, eth_only, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "no capture file") != NULL);
}

static void
test_refusals(void)
{
	char *paths[3], err[512];
	FILE *f;

	reset_dir();
	write_pcap("a.pcap", DLT_EN10MB, 1000, 10, 10);	/* 1000..1090 */
	write_pcap("b.pcap", DLT_EN10MB, 1050, 10, 10);	/* overlaps */
	write_pcap("c.pcap", DLT_EN10MB, 5000, 1, 10);
	write_pcap("raw.pcap", DLT_RAW, 9000, 1, 10);

	paths[0] = (char *)path_of("b.pcap");
	paths[1] = (char *)path_of("a.pcap");
	T_CHECK(input_scan(paths, 2, eth_only, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "b.pcap starts") != NULL &&
	    strstr(err, "a.pcap ends") != NULL &&
	    strstr(err, "may not overlap") != NULL);

	/* the same bytes twice (a copy under another name) */
	paths[0] = (char *)path_of("c.pcap");
	paths[1] = (char *)path_of("c.pcap");
	T_CHECK(input_scan(paths, 2, eth_only, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "same capture") != NULL);

	/* a link type the decoder cannot read */
	paths[0] = (char *)path_of("raw.pcap");
	T_CHECK(input_scan(paths, 1, eth_only, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "raw.pcap: link type") != NULL);

	/* not a capture; missing; a header cut short */
	f = fopen(path_of("notes.txt"), "w");
	fputs("hello, not a capture file at all\n", f);
	fclose(f);
	paths[0] = (char *)path_of("c.pcap");
	paths[1] = (char *)path_of("notes.txt");
	T_CHECK(input_scan(paths, 2, eth_only, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "notes.txt: not a capture file") != NULL);
	paths[1] = (char *)path_of("missing.pcap");
	T_CHECK(input_scan(paths, 2, eth_only, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "missing.pcap: No such file") != NULL);
	T_CHECK(truncate(path_of("a.pcap"), 20) == 0);
	paths[1] = (char *)path_of("a.pcap");
	T_CHECK(input_scan(paths, 2, eth_only, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "a.pcap: not a capture file") != NULL);
}

static void
test_damaged_tail(void)
{
	char *paths[1], err[512], want[65];
	struct input *in;
	struct stat sb;

	reset_dir();
	write_pcap("cut.pcap", DLT_EN10MB, 1000, 10, 1);
	stat(path_of("cut.pcap"), &sb);
	/* the last record cut inside its data, as a killed tcpdump leaves */
	T_CHECK(truncate(path_of("cut.pcap"), sb.st_size - 7) == 0);
	fingerprint_of(path_of("cut.pcap"), want);
	paths[0] = (char *)path_of("cut.pcap");
	in = input_scan(paths, 1, eth_only, err, sizeof(err));
	T_CHECK(in != NULL);
	if (in == NULL)
		return;
	T_EQ_INT(input_file(in, 0)->damaged, 1);
	T_EQ_INT(input_file(in, 0)->packets, 9);
	T_EQ_INT(input_file(in, 0)->last_usec, 1008LL * 1000000 + 8000);
	T_EQ_INT(input_file(in, 0)->size, sb.st_size - 7);
	/* the fingerprint covers the tail, the cut record's too */
	T_EQ_STR(input_file(in, 0)->fingerprint, want);
	T_EQ_INT(input_file(in, 0)->walked, 1);
	input_free(in);
}

/* Files of different link types: each capture keeps its own. */
static void
test_link_types(void)
{
	char *paths[2], err[512];
	struct input *in;
	struct capture *c;

	reset_dir();
	write_pcap("eth.pcap", DLT_EN10MB, 2000, 3, 1);
	write_pcap("raw.pcap", DLT_RAW, 1000, 3, 1);
	paths[0] = (char *)path_of("eth.pcap");
	paths[1] = (char *)path_of("raw.pcap");
	in = input_scan(paths, 2, eth_or_raw, err, sizeof(err));
	T_CHECK(in != NULL);
	if (in == NULL)
		return;
	T_EQ_INT(input_file(in, 0)->dlt, DLT_RAW);
	T_EQ_INT(input_file(in, 1)->dlt, DLT_EN10MB);
	c = input_next(in, NULL, err, sizeof(err));
	T_CHECK(c != NULL && capture_dlt(c) == DLT_RAW);
	c = input_next(in, NULL, err, sizeof(err));
	T_CHECK(c != NULL && capture_dlt(c) == DLT_EN10MB);
	input_free(in);
}

/*
 * The walk as 1 to INPUT_WALK_CHAINS chains over the file in memory (a
 * buffer of its exact size): the same answer every time.  1 if so.
 */
static int
chains_agree(const char *path)
{
	struct input_walk w1, w;
	unsigned char *buf;
	FILE *f = fopen(path, "rb");
	int n, rc1, rc, ok = 1;
	long sz;

	if (f == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	buf = malloc(sz > 0 ? (size_t)sz : 1);
	if (buf == NULL || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		free(buf);
		fclose(f);
		return 0;
	}
	fclose(f);
	rc1 = input_walk_chains(buf, (size_t)sz, 1, &w1);
	for (n = 2; n <= INPUT_WALK_CHAINS; n++) {
		rc = input_walk_chains(buf, (size_t)sz, n, &w);
		if (rc != rc1 || (rc == 0 && (w.packets != w1.packets ||
		    w.damaged != w1.damaged || w.first_usec != w1.first_usec ||
		    w.last_usec != w1.last_usec))) {
			fprintf(stderr, "%s: %d chains: %d %llu packets, one: "
			    "%d %llu\n", path, n, rc,
			    (unsigned long long)w.packets, rc1,
			    (unsigned long long)w1.packets);
			ok = 0;
		}
	}
	free(buf);
	return ok;
}

/* --- classic pcap files written byte by byte, for the walk ---------- */

static unsigned char raw[16 << 20];
static size_t nraw;

static void
put32(uint32_t v, int be)
{
	int i;

	for (i = 0; i < 4; i++)
		raw[nraw++] = (unsigned char)(be ? v >> (24 - 8 * i) :
		    v >> (8 * i));
}

static void
put16(uint16_t v, int be)
{
	raw[nraw++] = (unsigned char)(be ? v >> 8 : v);
	raw[nraw++] = (unsigned char)(be ? v : v >> 8);
}

static void
raw_header(int be, int nsec, uint32_t snaplen)
{
	nraw = 0;
	put32(nsec ? 0xa1b23c4d : 0xa1b2c3d4, be);
	put16(2, be);
	put16(4, be);
	put32(0, be);
	put32(0, be);
	put32(snaplen, be);
	put32(1, be);			/* LINKTYPE_ETHERNET */
}

/* A record of n data bytes (a frame of 0xab), its header saying incl. */
static void
raw_record(int be, uint32_t sec, uint32_t frac, uint32_t incl, size_t n)
{
	put32(sec, be);
	put32(frac, be);
	put32(incl, be);
	put32(incl, be);
	memset(raw + nraw, 0xab, n);
	nraw += n;
}

static void
raw_write(const char *name)
{
	FILE *f = fopen(path_of(name), "wb");

	if (f == NULL || fwrite(raw, 1, nraw, f) != nraw)
		perror(name);
	if (f != NULL)
		fclose(f);
}

/* One file scanned alone; NULL when refused (err says why). */
static struct input *
scan1(const char *name, char *err, size_t errlen)
{
	char *paths[1];

	paths[0] = (char *)path_of(name);
	return input_scan(paths, 1, eth_only, err, errlen);
}

/* The four magic numbers: usec and nsec, little- and big-endian. */
static void
test_walk_magics(void)
{
	static const char *names[4] = {
		"usec-le.pcap", "nsec-le.pcap", "usec-be.pcap", "nsec-be.pcap"
	};
	const struct input_file *f;
	struct input *in;
	char err[512];
	int v, be, nsec, walked;

	reset_dir();
	for (v = 0; v < 4; v++) {
		be = v >= 2;
		nsec = v & 1;
		raw_header(be, nsec, 65535);
		raw_record(be, 1000, nsec ? 5999 : 5, 60, 60);
		raw_record(be, 1001, nsec ? 999999999 : 999999, 0, 0);
		raw_record(be, 999, 7, 1500, 1500);	/* out of order */
		raw_record(be, 1002, 0, 60, 60);
		raw_record(be, 1001, 1, 60, 60);
		raw_write(names[v]);
		in = scan1(names[v], err, sizeof(err));
		T_CHECK(in != NULL);
		if (in == NULL) {
			fprintf(stderr, "%s: %s\n", names[v], err);
			continue;
		}
		f = input_file(in, 0);
		T_EQ_INT(f->walked, 1);
		T_EQ_INT(f->packets, 5);
		T_EQ_INT(f->damaged, 0);
		T_EQ_INT(f->first_usec, 1000LL * 1000000 + 5);
		T_EQ_INT(f->last_usec, 1002LL * 1000000);
		T_EQ_INT(f->size, nraw);
		input_free(in);
		T_CHECK(agrees(path_of(names[v]), &walked) && walked);
	}
	/* seconds past 2^31 and a fraction past a second, as libpcap */
	raw_header(0, 0, 65535);
	raw_record(0, 0x80000010u, 2000000, 60, 60);
	raw_record(0, 5, 3, 60, 60);
	raw_write("odd.pcap");
	T_CHECK(agrees(path_of("odd.pcap"), &walked) && walked);
	/* a record longer than the header's snapshot length */
	raw_header(1, 0, 100);
	raw_record(1, 1000, 0, 60, 60);
	raw_record(1, 1001, 0, 1000, 1000);
	raw_record(1, 1002, 0, 60, 60);
	raw_write("snap.pcap");
	T_CHECK(agrees(path_of("snap.pcap"), &walked) && walked);
}

/* Cut files, empty files, lengths from nowhere. */
static void
test_walk_damage(void)
{
	const struct input_file *f;
	struct input_walk w;
	struct input *in;
	unsigned char *p;
	char err[512];
	int walked;

	reset_dir();
	/* cut inside the third record's header */
	raw_header(0, 1, 65535);
	raw_record(0, 1000, 0, 60, 60);
	raw_record(0, 1001, 0, 60, 60);
	raw_record(0, 1002, 0, 60, 0);
	nraw -= 16 - 10;
	raw_write("cuthdr.pcap");
	in = scan1("cuthdr.pcap", err, sizeof(err));
	T_CHECK(in != NULL);
	if (in != NULL) {
		f = input_file(in, 0);
		T_CHECK(f->walked && f->damaged && f->packets == 2 &&
		    f->last_usec == 1001LL * 1000000);
		input_free(in);
	}
	T_CHECK(agrees(path_of("cuthdr.pcap"), &walked) && walked);

	/* a huge length running past the end: cut, as libpcap says */
	raw_header(1, 0, 65535);
	raw_record(1, 1000, 0, 60, 60);
	raw_record(1, 1001, 0, 0xfffffff0u, 100);
	raw_write("huge.pcap");
	in = scan1("huge.pcap", err, sizeof(err));
	T_CHECK(in != NULL);
	if (in != NULL) {
		f = input_file(in, 0);
		T_CHECK(f->walked && f->damaged && f->packets == 1);
		input_free(in);
	}
	T_CHECK(agrees(path_of("huge.pcap"), &walked) && walked);
	/* the walk itself on a buffer of exactly that size (ASan sees) */
	if ((p = malloc(nraw)) != NULL) {
		memcpy(p, raw, nraw);
		T_EQ_INT(input_walk(p, nraw, &w), 0);
		T_CHECK(w.damaged && w.packets == 1);
		/* the header alone, and less than a header */
		T_EQ_INT(input_walk(p, INPUT_PCAP_HDR, &w), 0);
		T_CHECK(!w.damaged && w.packets == 0);
		T_EQ_INT(input_walk(p, INPUT_PCAP_HDR - 1, &w), -1);
		T_EQ_INT(input_walk(p, 0, &w), -1);
		free(p);
	}

	/* longer than any snapshot but within the file: libpcap decides */
	raw_header(0, 0, 65535);
	raw_record(0, 1000, 0, 60, 60);
	raw_record(0, 1001, 0, 300000, 300000);
	raw_record(0, 1002, 0, 60, 60);
	raw_write("long.pcap");
	T_CHECK(agrees(path_of("long.pcap"), &walked) && !walked);
	T_CHECK(chains_agree(path_of("long.pcap")));

	/* a zero-length file: no header, refused as before */
	raw_write("empty.pcap");
	nraw = 0;
	raw_write("empty.pcap");
	T_CHECK(scan1("empty.pcap", err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "empty.pcap: not a capture file") != NULL);
	T_CHECK(agrees(path_of("empty.pcap"), &walked));

	/* a version the walk leaves to libpcap (2.2: lengths may swap) */
	raw_header(0, 0, 65535);
	raw[6] = 2;
	raw_record(0, 1000, 0, 60, 60);
	raw_write("v22.pcap");
	T_CHECK(agrees(path_of("v22.pcap"), &walked) && !walked);
}

/*
 * Size, first and last MiB alike, a record in the middle different:
 * the same fingerprint.  The same capture only when span and count
 * agree as well; else two files, and their spans decide.
 */
static void
test_same_fingerprint(void)
{
	char *paths[2], err[512];
	struct input *in;
	size_t mid, end;
	int k, kmid;

	reset_dir();
	raw_header(0, 0, 65535);
	for (k = 0; nraw < 1200 * 1024; k++)
		raw_record(0, 1000 + k, 0, 1000, 1000);
	mid = nraw;
	kmid = k;
	raw_record(0, 1000 + k, 0, 60, 60);		/* 2 x 76 bytes */
	raw_record(0, 1000 + k, 1, 60, 60);
	for (k++; nraw < mid + 152 + 1200 * 1024; k++)
		raw_record(0, 1000 + k, 0, 1000, 1000);
	raw_write("two.pcap");
	end = nraw;
	nraw = mid;
	raw_record(0, 1000 + kmid, 0, 136, 136);	/* 1 x 152 */
	nraw = end;
	raw_write("one.pcap");				/* tail: the same */
	paths[0] = (char *)path_of("one.pcap");
	paths[1] = (char *)path_of("two.pcap");
	in = input_scan(paths, 2, eth_only, err, sizeof(err));
	T_CHECK(in == NULL);
	T_CHECK(strstr(err, "may not overlap") != NULL &&
	    strstr(err, "same capture") == NULL);
	in = input_scan(paths, 1, eth_only, err, sizeof(err));
	T_CHECK(in != NULL);
	if (in != NULL) {
		char fp[65];

		fingerprint_of(path_of("two.pcap"), fp);
		T_EQ_STR(input_file(in, 0)->fingerprint, fp);
		input_free(in);
	}
	/* the same capture: two copies */
	paths[0] = (char *)path_of("two.pcap");
	T_CHECK(input_scan(paths, 2, eth_only, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "same capture") != NULL);
}

/*
 * Packets whose data look like record headers (24-byte fake records
 * with sane times and lengths): the chains' starts, guessed inside
 * them, are found out, and the walk still equals libpcap's.  Larger
 * than INPUT_WALK_SPLIT, so that input_scan walks it in chains too.
 */
static void
test_walk_false_starts(void)
{
	const struct input_file *f;
	struct input *in;
	char err[512];
	size_t i;
	int k, walked;

	reset_dir();
	raw_header(0, 0, 65535);
	for (k = 0; nraw < INPUT_WALK_SPLIT + 4096; k++) {
		raw_record(0, 5000 + k, 0, 4008, 0);
		for (i = 0; i + 24 <= 4008; i += 24) {
			put32(5000 + k, 0);
			put32(1, 0);
			put32(8, 0);
			put32(8, 0);
			memset(raw + nraw, 0, 8);
			nraw += 8;
		}
		nraw += 4008 - i;
	}
	raw_write("fake.pcap");
	in = scan1("fake.pcap", err, sizeof(err));
	T_CHECK(in != NULL);
	if (in != NULL) {
		f = input_file(in, 0);
		T_CHECK(f->walked && !f->damaged && f->packets == (uint64_t)k &&
		    f->last_usec == (5000LL + k - 1) * 1000000);
		input_free(in);
	}
	T_CHECK(agrees(path_of("fake.pcap"), &walked) && walked);
	/* cut inside its last record: damaged, found by the last chain */
	nraw -= 100;
	raw_write("fakecut.pcap");
	T_CHECK(agrees(path_of("fakecut.pcap"), &walked) && walked);
}

static int
classic_magic(const char *path)
{
	unsigned char m[4];
	FILE *f = fopen(path, "rb");
	int ok;

	if (f == NULL)
		return 0;
	ok = fread(m, 1, 4, f) == 4 &&
	    ((m[0] == 0xd4 && m[1] == 0xc3 && m[2] == 0xb2 && m[3] == 0xa1) ||
	    (m[0] == 0xa1 && m[1] == 0xb2 && m[2] == 0xc3 && m[3] == 0xd4) ||
	    (m[0] == 0x4d && m[1] == 0x3c && m[2] == 0xb2 && m[3] == 0xa1) ||
	    (m[0] == 0xa1 && m[1] == 0xb2 && m[2] == 0x3c && m[3] == 0x4d));
	fclose(f);
	return ok;
}

static int npub, npub_walked, npub_bad, nng;

static int
one_public(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	int walked;

	(void)sb;
	(void)ftw;
	if (type != FTW_F)
		return 0;
	/* pcapng: libpcap's scan, packet by packet, the same answers */
	if (strlen(path) > 7 && strcmp(path + strlen(path) - 7, ".pcapng") ==
	    0) {
		nng++;
		if (!agrees(path, &walked) || walked)
			npub_bad++;
		return 0;
	}
	if (!classic_magic(path))
		return 0;
	npub++;
	if (!agrees(path, &walked))
		npub_bad++;
	npub_walked += walked;
	return 0;
}

/*
 * The walk against libpcap on real captures: the synthesized one and
 * every classic pcap of the public set (as tests/e2e/pcaps.sh finds it).
 */
static void
test_walk_real(void)
{
	const char *pcaps = getenv("PCAPS") ? getenv("PCAPS") :
	    "../shared/pcaps";
	char cmd[512];
	int walked;

	reset_dir();
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/synth/synth.py "
	    "--seed 1 --out %s/synth >/dev/null", dir);
	T_EQ_INT(system(cmd), 0);
	T_CHECK(agrees(path_of("synth/traffic.pcap"), &walked) && walked);
	/* the same capture with nanosecond time stamps */
	snprintf(cmd, sizeof(cmd), "editcap -F nsecpcap %s/synth/traffic.pcap "
	    "%s/synth/nsec.pcap", dir, dir);
	T_EQ_INT(system(cmd), 0);
	T_CHECK(classic_magic(path_of("synth/nsec.pcap")));
	T_CHECK(agrees(path_of("synth/nsec.pcap"), &walked) && walked);

	T_EQ_INT(nftw(pcaps, one_public, 16, FTW_PHYS), 0);
	fprintf(stderr, "# %s: %d classic pcap files, %d walked, %d pcapng; "
	    "%d differ from libpcap\n", pcaps, npub, npub_walked, nng,
	    npub_bad);
	T_CHECK(npub >= 30 && nng >= 1);
	T_EQ_INT(npub_bad, 0);
	T_EQ_INT(npub_walked, npub);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/aic-input.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_time_order_not_name);
	T_RUN(test_directory_and_empty);
	T_RUN(test_refusals);
	T_RUN(test_damaged_tail);
	T_RUN(test_link_types);
	T_RUN(test_walk_magics);
	T_RUN(test_walk_damage);
	T_RUN(test_same_fingerprint);
	T_RUN(test_walk_false_starts);
	T_RUN(test_walk_real);
	reset_dir();
	rmdir(dir);
	return T_DONE();
}
