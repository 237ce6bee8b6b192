/*
 * test_input.c - capture/input.c: the files of aicensusd -r expanded,
 * scanned (digest, span, packets) and put in time order; overlaps, the
 * same file twice, unreadable files refused; a damaged tail read.
 */
#include <sys/stat.h>

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

static void
sha256_hex(const char *path, char out[65])
{
	unsigned char md[32], *buf;
	unsigned len = 0, i;
	FILE *f = fopen(path, "rb");
	long n;

	out[0] = '\0';
	if (f == NULL)
		return;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n &&
	    EVP_Digest(buf, (size_t)n, md, &len, EVP_sha256(), NULL) == 1)
		for (i = 0; i < len; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	free(buf);
	fclose(f);
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
	sha256_hex(path_of("a.pcap"), want);
	T_EQ_STR(f->sha256, want);
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
	sha256_hex(path_of("cut.pcap"), want);
	paths[0] = (char *)path_of("cut.pcap");
	in = input_scan(paths, 1, eth_only, err, sizeof(err));
	T_CHECK(in != NULL);
	if (in == NULL)
		return;
	T_EQ_INT(input_file(in, 0)->damaged, 1);
	T_EQ_INT(input_file(in, 0)->packets, 9);
	T_EQ_INT(input_file(in, 0)->last_usec, 1008LL * 1000000 + 8000);
	T_EQ_INT(input_file(in, 0)->size, sb.st_size - 7);
	/* the digest covers every byte, the cut record's too */
	T_EQ_STR(input_file(in, 0)->sha256, want);
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
	reset_dir();
	rmdir(dir);
	return T_DONE();
}
