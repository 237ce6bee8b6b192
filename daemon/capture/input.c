/*
 * input.c - the files of aicensusd -r: expanded, scanned, ordered
 * (input.h).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* libpcap reads the file through this, so the digest costs no read. */
struct hashed {
	FILE		*fp;
	EVP_MD_CTX	*md;
	int		 failed;
};

static ssize_t
hashed_read(void *cookie, char *buf, size_t len)
{
	struct hashed *h = cookie;
	size_t n = fread(buf, 1, len, h->fp);

	if (n == 0 && ferror(h->fp))
		return -1;
	if (n > 0 && EVP_DigestUpdate(h->md, buf, n) != 1)
		h->failed = 1;
	return (ssize_t)n;
}

static int
hashed_close(void *cookie)
{
	struct hashed *h = cookie;

	return fclose(h->fp);
}

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
 * One file read to its end: digest, span, packets.  Messages name the
 * file and say what is wrong with it.
 */
static int
scan_file(struct input_file *f, capture_link_ok link_ok, char *err,
    size_t errlen)
{
	static const cookie_io_functions_t io = {
		.read = hashed_read, .close = hashed_close
	};
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct hashed hs;
	struct stat sb;
	unsigned mdlen = 0, i;
	pcap_t *pc = NULL;
	FILE *cf;
	size_t n;
	int rc = -1, r;

	memset(&hs, 0, sizeof(hs));
	if ((hs.fp = fopen(f->path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(hs.fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", f->path);
		fclose(hs.fp);
		return -1;
	}
	f->size = (uint64_t)sb.st_size;
	if ((hs.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(hs.md, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "%s: SHA-256 unavailable", f->path);
		fclose(hs.fp);
		EVP_MD_CTX_free(hs.md);
		return -1;
	}
	if ((cf = fopencookie(&hs, "rb", io)) == NULL) {
		snprintf(err, errlen, "out of memory");
		fclose(hs.fp);
		EVP_MD_CTX_free(hs.md);
		return -1;
	}
	if ((pc = pcap_fopen_offline(cf, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: not a capture file libpcap can "
		    "read: %s", f->path, ebuf);
		fclose(cf);
		goto out;
	}
	f->dlt = pcap_datalink(pc);
	if (!link_ok(f->dlt)) {
		snprintf(err, errlen, "%s: link type %s is not supported",
		    f->path, pcap_datalink_val_to_name(f->dlt) ?
		    pcap_datalink_val_to_name(f->dlt) : "unknown");
		goto out;
	}
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
	/* what libpcap left unread (nothing, in a sound file) */
	while ((n = fread(buf, 1, sizeof(buf), hs.fp)) > 0)
		if (EVP_DigestUpdate(hs.md, buf, n) != 1)
			hs.failed = 1;
	if (ferror(hs.fp) || hs.failed ||
	    EVP_DigestFinal_ex(hs.md, md, &mdlen) != 1 || mdlen != 32) {
		snprintf(err, errlen, "%s: cannot compute its SHA-256",
		    f->path);
		goto out;
	}
	for (i = 0; i < mdlen; i++)
		snprintf(f->sha256 + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	if (pc != NULL)
		pcap_close(pc);		/* closes cf, and hs.fp with it */
	EVP_MD_CTX_free(hs.md);
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
	/* the same bytes twice, wherever they sit in the order */
	for (i = 0; i < in->n; i++)
		for (j = i + 1; j < in->n; j++)
			if (strcmp(in->f[i].sha256, in->f[j].sha256) == 0) {
				snprintf(err, errlen, "%s and %s are the same "
				    "capture (same SHA-256): give it once",
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
