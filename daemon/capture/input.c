/*
 * input.c - the files of aicensusd -r: expanded, scanned, ordered
 * (input.h).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <pcap/pcap.h>

#include "capture/input.h"

#define INPUT_MAX_FILES	100000	/* a year of tcpdump -G 300 is 105,120 */

struct input {
	struct input_file	*f;
	size_t			 n, cap;
	size_t			 next;
	size_t			 skipped;
	struct capture		*open;
	capture_link_ok		 link_ok;
};

static void
utc(int64_t usec, char *buf, size_t len)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%lld s", (long long)t);
}

static int
add(struct input *in, const char *path, char *err, size_t errlen)
{
	struct input_file *f;
	const char *slash;

	if (in->n == INPUT_MAX_FILES) {
		snprintf(err, errlen, "more than %d capture files",
		    INPUT_MAX_FILES);
		return -1;
	}
	if (in->n == in->cap) {
		size_t ncap = in->cap ? in->cap * 2 : 16;

		if ((f = reallocarray(in->f, ncap, sizeof(*f))) == NULL)
			goto oom;
		in->f = f;
		in->cap = ncap;
	}
	f = &in->f[in->n];
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL)
		goto oom;
	slash = strrchr(f->path, '/');
	f->name = slash ? slash + 1 : f->path;
	in->n++;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's regular files, by name (the time order comes later). */
static int
add_dir(struct input *in, const char *dir, char *err, size_t errlen)
{
	struct dirent *de;
	struct stat sb;
	char **names = NULL, p[4096];
	size_t n = 0, cap = 0, i;
	DIR *dp;
	int rc = -1;

	if ((dp = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >=
		    sizeof(p)) {
			snprintf(err, errlen, "%s: a name in it is too long",
			    dir);
			goto out;
		}
		if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 64;
			if ((nn = reallocarray(names, cap, sizeof(*nn))) ==
			    NULL)
				goto oom;
			names = nn;
		}
		if ((names[n] = strdup(p)) == NULL)
			goto oom;
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s: no capture file in the directory",
		    dir);
		goto out;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++)
		if (add(in, names[i], err, errlen) != 0)
			goto out;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dp);
	return rc;
}

/*
 * The fingerprint (input.h): SHA-256 of the size, 8 bytes big-endian,
 * then the first and the last INPUT_FP_PART bytes, or every byte of a
 * file of no more than twice that.
 */
static int
fingerprint(int fd, uint64_t size, char out[INPUT_FP_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE], be[8], buf[65536];
	uint64_t part[2][2];	/* offset, length */
	EVP_MD_CTX *ctx;
	unsigned mdlen = 0, i;
	size_t np;
	int ok;

	for (i = 0; i < 8; i++)
		be[i] = (unsigned char)(size >> (56 - 8 * i));
	if (size <= 2 * (uint64_t)INPUT_FP_PART) {
		part[0][0] = 0;
		part[0][1] = size;
		np = 1;
	} else {
		part[0][0] = 0;
		part[0][1] = INPUT_FP_PART;
		part[1][0] = size - INPUT_FP_PART;
		part[1][1] = INPUT_FP_PART;
		np = 2;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, be, sizeof(be)) == 1;
	for (i = 0; ok && i < np; i++) {
		uint64_t off = part[i][0], left = part[i][1];

		while (ok && left > 0) {
			size_t want = left < sizeof(buf) ? (size_t)left :
			    sizeof(buf);
			ssize_t n = pread(fd, buf, want, (off_t)off);

			/* short: the file shrank since its size was taken */
			if (n <= 0) {
				ok = 0;
				break;
			}
			ok = EVP_DigestUpdate(ctx, buf, (size_t)n) == 1;
			off += (uint64_t)n;
			left -= (uint64_t)n;
		}
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static uint32_t
get32(const unsigned char *p, int swapped)
{
	if (swapped)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

/*
 * Is this header a classic pcap file's whose records input_walk() can
 * read?  Version 2.4 only: older files may have their two lengths the
 * other way round, which libpcap guesses at.  *swapped: big-endian
 * fields; *nsec: nanosecond time stamps.
 */
static int
classic(const unsigned char h[24], int *swapped, int *nsec)
{
	uint32_t m = (uint32_t)h[0] | (uint32_t)h[1] << 8 |
	    (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;

	switch (m) {
	case 0xa1b2c3d4: *swapped = 0; *nsec = 0; break;
	case 0xd4c3b2a1: *swapped = 1; *nsec = 0; break;
	case 0xa1b23c4d: *swapped = 0; *nsec = 1; break;
	case 0x4d3cb2a1: *swapped = 1; *nsec = 1; break;
	default:
		return 0;
	}
	if (*swapped)
		return h[4] == 0 && h[5] == 2 && h[6] == 0 && h[7] == 4;
	return h[4] == 2 && h[5] == 0 && h[6] == 4 && h[7] == 0;
}

/*
 * The walk is a chain of dependent loads: where a record header lies is
 * known only from the one before, and each is a cache (and TLB) miss
 * in a file of gigabytes, about 130 ns a record.  So a large file is
 * walked as several chains at once, each from a plausible record start
 * in its part of the file, stepped in turn so that their misses
 * overlap.  Exact all the same: chain k counts only if chain k-1,
 * itself exact, ended precisely where chain k started; otherwise the
 * walk goes on record by record from where the exact chain ended.
 */
enum { C_WALK, C_END, C_DAMAGED, C_LONG };

struct chain {
	size_t		 start, off, end;
	size_t		 rel;		/* pages before it let go */
	int64_t		 first, last;
	uint64_t	 packets;
	int		 state;
};

#define WALK_PROBE	8		/* records a start must chain */
#define WALK_SEARCH	(1024 * 1024)	/* bytes searched for a start */
#define WALK_RELEASE	256		/* rounds between releases */

/* One record at c->off: 0 counted, 1 the chain stops (state says why). */
static inline int
step(const unsigned char *p, size_t size, int swapped, int nsec,
    struct chain *c)
{
	const unsigned char *r = p + c->off;
	uint32_t incl;
	int64_t t;

	if (c->off >= c->end) {
		c->state = C_END;
		return 1;
	}
	if (size - c->off < INPUT_PCAP_REC) {
		c->state = C_DAMAGED;		/* a record header cut */
		return 1;
	}
	incl = get32(r + 8, swapped);
	/* the data cut (libpcap fails there too, whatever the length) */
	if (incl > size - c->off - INPUT_PCAP_REC) {
		c->state = C_DAMAGED;
		return 1;
	}
	/*
	 * Larger than any snapshot length: libpcap refuses the record or
	 * not depending on the link type; let it decide.
	 */
	if (incl > INPUT_WALK_MAXREC) {
		c->state = C_LONG;
		return 1;
	}
	/* as libpcap: signed 32-bit fields, nanoseconds scaled down */
	t = (int64_t)(int32_t)get32(r, swapped) * 1000000;
	if (nsec)
		t += get32(r + 4, swapped) / 1000;
	else
		t += (int32_t)get32(r + 4, swapped);
	if (c->packets == 0 || t > c->last)
		c->last = t;
	if (c->packets == 0)
		c->first = t;
	c->packets++;
	c->off += INPUT_PCAP_REC + (size_t)incl;
	return 0;
}

/*
 * Could a record start at off?  WALK_PROBE sane headers in a row (or
 * the end of the file exactly), their seconds within a year before and
 * ten after sec0.  Only a guess: a wrong one is found out and costs
 * time, never a wrong count.
 */
static int
plausible(const unsigned char *p, size_t size, size_t off, int swapped,
    int nsec, int64_t sec0)
{
	int i;

	for (i = 0; i < WALK_PROBE; i++) {
		const unsigned char *r = p + off;
		uint32_t incl, orig;
		int64_t sec;

		if (off == size)
			return 1;
		if (size - off < INPUT_PCAP_REC)
			return 0;
		sec = (int32_t)get32(r, swapped);
		incl = get32(r + 8, swapped);
		orig = get32(r + 12, swapped);
		if (sec < sec0 - 366 * 86400 || sec > sec0 + 3660 * 86400 ||
		    get32(r + 4, swapped) >= (nsec ? 1000000000u : 1000000u) ||
		    incl > INPUT_WALK_MAXREC || orig == 0 || incl > orig ||
		    incl > size - off - INPUT_PCAP_REC)
			return 0;
		off += INPUT_PCAP_REC + (size_t)incl;
	}
	return 1;
}

/* Adds chain c's records to w; 1 when the walk ends with it. */
static int
merge(struct input_walk *w, const struct chain *c)
{
	if (c->packets > 0) {
		if (w->packets == 0)
			w->first_usec = c->first;
		if (w->packets == 0 || c->last > w->last_usec)
			w->last_usec = c->last;
		w->packets += c->packets;
	}
	if (c->state == C_DAMAGED)
		w->damaged = 1;
	return c->state == C_DAMAGED;
}

/*
 * The pages a chain has walked past, let go (a mapping of the file, pg
 * its page size): the walk's resident memory stays a few pages a chain
 * instead of growing to the file's size (hostile.sh's memory bound).
 * The data stay in the page cache, for the read that follows.
 */
static void
release(const unsigned char *p, size_t pg, struct chain *c)
{
	size_t to = c->off & ~(pg - 1);

	if (to > c->rel) {
		(void)madvise((void *)(uintptr_t)(p + c->rel), to - c->rel,
		    MADV_DONTNEED);
		c->rel = to;
	}
}

static int
walk(const unsigned char *p, size_t size, int nchains, size_t pg,
    struct input_walk *w)
{
	struct chain ch[INPUT_WALK_CHAINS], rest;
	int swapped, nsec, n, k, active;
	size_t b, s, lim, rounds = 0;
	int64_t sec0;

	memset(w, 0, sizeof(*w));
	if (size < INPUT_PCAP_HDR || !classic(p, &swapped, &nsec))
		return -1;
	if (nchains < 1)
		nchains = 1;
	if (nchains > INPUT_WALK_CHAINS)
		nchains = INPUT_WALK_CHAINS;
	memset(ch, 0, sizeof(ch));
	ch[0].start = INPUT_PCAP_HDR;
	n = 1;
	/* the other chains' starts, by the first record's seconds */
	if (nchains > 1 && size - INPUT_PCAP_HDR >= INPUT_PCAP_REC) {
		sec0 = (int32_t)get32(p + INPUT_PCAP_HDR, swapped);
		for (k = 1; k < nchains; k++) {
			b = INPUT_PCAP_HDR + (size - INPUT_PCAP_HDR) /
			    (size_t)nchains * (size_t)k;
			if (b <= ch[n - 1].start)
				b = ch[n - 1].start + 1;
			lim = size - b < WALK_SEARCH ? size : b + WALK_SEARCH;
			for (s = b; s < lim; s++)
				if (plausible(p, size, s, swapped, nsec, sec0))
					break;
			if (s < lim)
				ch[n++].start = s;
		}
	}
	for (k = 0; k < n; k++) {
		ch[k].off = ch[k].start;
		ch[k].end = k + 1 < n ? ch[k + 1].start : size;
		ch[k].rel = pg != 0 ? ch[k].start & ~(pg - 1) : 0;
	}
	/* the chains stepped in turn: their cache misses overlap */
	do {
		active = 0;
		for (k = 0; k < n; k++)
			if (ch[k].state == C_WALK &&
			    step(p, size, swapped, nsec, &ch[k]) == 0)
				active = 1;
		if (pg != 0 && ++rounds % WALK_RELEASE == 0)
			for (k = 0; k < n; k++)
				release(p, pg, &ch[k]);
	} while (active);
	for (k = 0; k < n; k++) {
		if (ch[k].state == C_LONG)
			return -1;
		if (merge(w, &ch[k]) || k + 1 == n)
			return 0;
		if (ch[k].off == ch[k + 1].start)
			continue;
		/* chain k+1 started inside a record: on from chain k's end */
		memset(&rest, 0, sizeof(rest));
		rest.start = rest.off = ch[k].off;
		rest.end = size;
		rest.rel = ch[k].rel;
		while (step(p, size, swapped, nsec, &rest) == 0)
			if (pg != 0 && ++rounds % WALK_RELEASE == 0)
				release(p, pg, &rest);
		if (rest.state == C_LONG)
			return -1;
		merge(w, &rest);
		return 0;
	}
	return 0;
}

int
input_walk_chains(const unsigned char *p, size_t size, int nchains,
    struct input_walk *w)
{
	return walk(p, size, nchains, 0, w);
}

static int
chains_for(size_t size)
{
	return size >= INPUT_WALK_SPLIT ? INPUT_WALK_CHAINS : 1;
}

int
input_walk(const unsigned char *p, size_t size, struct input_walk *w)
{
	return walk(p, size, chains_for(size), 0, w);
}

/* Walks a classic pcap file's records: 1 walked, 0 libpcap must, -1 error. */
static int
walk_file(int fd, struct input_file *f)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct input_walk w;
	void *map;
	int rc;

	if (f->size > SIZE_MAX || pg <= 0 || (pg & (pg - 1)) != 0)
		return 0;
	map = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return 0;
	rc = walk(map, (size_t)f->size, chains_for((size_t)f->size),
	    (size_t)pg, &w);
	munmap(map, (size_t)f->size);
	if (rc != 0)
		return 0;
	f->first_usec = w.first_usec;
	f->last_usec = w.last_usec;
	f->packets = w.packets;
	f->damaged = w.damaged;
	f->walked = 1;
	return 1;
}

/*
 * One file scanned: fingerprint, span, packets.  Messages name the file
 * and say what is wrong with it.
 */
static int
scan_file(struct input_file *f, capture_link_ok link_ok, char *err,
    size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	unsigned char hdr[INPUT_PCAP_HDR];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct stat sb;
	pcap_t *pc = NULL;
	FILE *fp;
	int fd, fd2, rc = -1, r, swapped, nsec;

	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", f->path);
		goto out;
	}
	f->size = (uint64_t)sb.st_size;
	/* libpcap reads the header (its refusals), then from its own fd */
	if ((fd2 = dup(fd)) == -1 || (fp = fdopen(fd2, "rb")) == NULL) {
		if (fd2 != -1)
			close(fd2);
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		goto out;
	}
	if ((pc = pcap_fopen_offline(fp, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: not a capture file libpcap can "
		    "read: %s", f->path, ebuf);
		fclose(fp);
		goto out;
	}
	f->dlt = pcap_datalink(pc);
	if (!link_ok(f->dlt)) {
		snprintf(err, errlen, "%s: link type %s is not supported",
		    f->path, pcap_datalink_val_to_name(f->dlt) ?
		    pcap_datalink_val_to_name(f->dlt) : "unknown");
		goto out;
	}
	if (fingerprint(fd, f->size, f->fingerprint) != 0) {
		snprintf(err, errlen, "%s: cannot compute its fingerprint "
		    "(SHA-256; did the file change while read?)", f->path);
		goto out;
	}
	if (pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) &&
	    classic(hdr, &swapped, &nsec) && walk_file(fd, f) == 1) {
		rc = 0;
		goto out;
	}
	/* pcapng, or what the walk leaves to libpcap: every packet */
	while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
		int64_t t = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;

		if (f->packets == 0 || t > f->last_usec)
			f->last_usec = t;
		if (f->packets == 0)
			f->first_usec = t;
		f->packets++;
	}
	/* damaged past its header: its whole records are read (input.h) */
	if (r != PCAP_ERROR_BREAK)
		f->damaged = 1;
	rc = 0;
out:
	if (pc != NULL)
		pcap_close(pc);		/* closes fp and fd2 with it */
	close(fd);
	return rc;
}

static int
time_cmp(const void *a, const void *b)
{
	const struct input_file *x = a, *y = b;

	if (x->first_usec != y->first_usec)
		return x->first_usec < y->first_usec ? -1 : 1;
	return strcmp(x->path, y->path);
}

static void
drop_file(struct input *in, size_t i)
{
	free(in->f[i].path);
	memmove(&in->f[i], &in->f[i + 1], (in->n - i - 1) * sizeof(*in->f));
	in->n--;
}

struct input *
input_scan(char *const *paths, size_t npaths, capture_link_ok link_ok,
    char *err, size_t errlen)
{
	struct input *in;
	struct stat sb;
	size_t i, j, latest;
	char t1[40], t2[40];

	if ((in = calloc(1, sizeof(*in))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->link_ok = link_ok;
	for (i = 0; i < npaths; i++) {
		if (stat(paths[i], &sb) != 0) {
			snprintf(err, errlen, "%s: %s", paths[i],
			    strerror(errno));
			goto fail;
		}
		if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode)) {
			if (npaths > 1) {
				snprintf(err, errlen, "%s is not a regular file: "
				    "a pipe can be read alone only", paths[i]);
				goto fail;
			}
			if (add(in, paths[i], err, errlen) != 0)
				goto fail;
			in->f[0].stream = 1;
			return in;
		}
		if ((S_ISDIR(sb.st_mode) ? add_dir(in, paths[i], err,
		    errlen) : add(in, paths[i], err, errlen)) != 0)
			goto fail;
	}
	for (i = 0; i < in->n; i++)
		if (scan_file(&in->f[i], link_ok, err, errlen) != 0)
			goto fail;
	for (i = 0; i < in->n; )
		if (in->f[i].packets == 0 && in->n > 1) {
			drop_file(in, i);
			in->skipped++;
		} else
			i++;
	qsort(in->f, in->n, sizeof(*in->f), time_cmp);
	/* the same capture twice, wherever it sits in the order */
	for (i = 0; i < in->n; i++)
		for (j = i + 1; j < in->n; j++)
			if (input_same(&in->f[i], &in->f[j])) {
				snprintf(err, errlen, "%s and %s are the same "
				    "capture (same size, first and last MiB, time "
				    "span and packet count): give it once",
				    in->f[i].path, in->f[j].path);
				goto fail;
			}
	for (i = 1, latest = 0; i < in->n; i++) {
		if (in->f[i].first_usec < in->f[latest].last_usec) {
			utc(in->f[latest].last_usec, t1, sizeof(t1));
			utc(in->f[i].first_usec, t2, sizeof(t2));
			snprintf(err, errlen, "%s starts (%s) before %s ends "
			    "(%s): capture files of one run may not overlap in "
			    "time (a merged and a rotated copy of the same "
			    "traffic would be counted twice); give one of them, "
			    "or merge them with mergecap first", in->f[i].path,
			    t2, in->f[latest].path, t1);
			goto fail;
		}
		if (in->f[i].last_usec >= in->f[latest].last_usec)
			latest = i;
	}
	return in;
fail:
	input_free(in);
	return NULL;
}

void
input_free(struct input *in)
{
	size_t i;

	if (in == NULL)
		return;
	capture_close(in->open);
	for (i = 0; i < in->n; i++)
		free(in->f[i].path);
	free(in->f);
	free(in);
}

size_t
input_count(const struct input *in)
{
	return in->n;
}

const struct input_file *
input_file(const struct input *in, size_t i)
{
	return i < in->n ? &in->f[i] : NULL;
}

size_t
input_skipped(const struct input *in)
{
	return in->skipped;
}

int
input_same(const struct input_file *a, const struct input_file *b)
{
	return strcmp(a->fingerprint, b->fingerprint) == 0 &&
	    a->first_usec == b->first_usec && a->last_usec == b->last_usec &&
	    a->packets == b->packets;
}

struct capture *
input_next(struct input *in, size_t *index, char *err, size_t errlen)
{
	capture_close(in->open);
	in->open = NULL;
	err[0] = '\0';
	if (in->next >= in->n)
		return NULL;
	if (index != NULL)
		*index = in->next;
	in->open = capture_open_file(in->f[in->next].path, in->link_ok, err,
	    errlen);
	in->next++;
	return in->open;
}
