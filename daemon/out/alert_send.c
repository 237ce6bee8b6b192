/*
 * alert_send.c - how an alert leaves (alert_send.h): an HTTP/1.1 POST
 * over a plain socket, "sendmail -t", and the mail's words.
 *
 * Both run on the alert thread (alert.c) and each is bounded by its
 * deadline: poll() on non-blocking sockets for the webhook, a waitpid()
 * loop and SIGKILL for sendmail.  Nothing here reads a figure: what is
 * sent is the alert's JSON as alert.c recorded it.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "out/alert_send.h"

#ifndef AIC_VERSION
#define AIC_VERSION "dev"
#endif

/* ---- delivery: the webhook ------------------------------------------- */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for ev on fd until deadline (monotonic ms): 0 ready, -1 not. */
static int
wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd p;
	int64_t left;
	int r;

	for (;;) {
		if ((left = deadline - mono_ms()) <= 0)
			return -1;
		p.fd = fd;
		p.events = ev;
		p.revents = 0;
		r = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * http://HOST[:PORT][/PATH] into its parts (the configuration checked
 * the form).  HOST may be [IPv6].  0 or -1.
 */
static int
parse_url(const char *url, char *host, size_t hlen, char *port, size_t plen,
    char *hostport, size_t hplen, const char **path)
{
	const char *a, *slash, *colon;
	size_t n;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	a = url + 7;
	slash = strchr(a, '/');
	*path = slash != NULL ? slash : "/";
	n = slash != NULL ? (size_t)(slash - a) : strlen(a);
	if (n == 0 || n >= hplen)
		return -1;
	memcpy(hostport, a, n);
	hostport[n] = '\0';
	if (hostport[0] == '[') {
		const char *rb = strchr(hostport, ']');

		if (rb == NULL || (size_t)(rb - hostport - 1) >= hlen)
			return -1;
		memcpy(host, hostport + 1, (size_t)(rb - hostport - 1));
		host[rb - hostport - 1] = '\0';
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strrchr(hostport, ':');
		n = colon != NULL ? (size_t)(colon - hostport) : strlen(hostport);
		if (n == 0 || n >= hlen)
			return -1;
		memcpy(host, hostport, n);
		host[n] = '\0';
	}
	if (snprintf(port, plen, "%s", colon != NULL && colon[1] != '\0' ?
	    colon + 1 : "80") >= (int)plen)
		return -1;
	return 0;
}

static int
connect_by(const struct addrinfo *ai, int64_t deadline)
{
	socklen_t sl = sizeof(int);
	int fd, e = 0;

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol)) == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0 || e != 0) {
		if (e != 0)
			errno = e;
		close(fd);
		return -1;
	}
	return fd;
}

int
alert_http_post(const char *url, const char *body, int timeout_ms, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], port[16], hostport[300], head[1024], resp[256];
	const char *path;
	int64_t deadline = mono_ms() + timeout_ms;
	size_t blen = strlen(body), got = 0, off;
	int fd = -1, r, code, hn, ret = -1;
	ssize_t w;

	if (parse_url(url, host, sizeof(host), port, sizeof(port), hostport,
	    sizeof(hostport), &path) != 0) {
		snprintf(err, errlen, "not an http:// address");
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve the webhook's host: %s",
		    gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = connect_by(ai, deadline);
	if (fd == -1) {
		snprintf(err, errlen, "cannot connect to the webhook: %s",
		    mono_ms() >= deadline ? "timed out" : strerror(errno));
		goto out;
	}
	hn = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: aicensusd/%s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", path, hostport,
	    AIC_VERSION, blen);
	if (hn < 0 || (size_t)hn >= sizeof(head)) {
		snprintf(err, errlen, "the webhook's path is too long");
		goto out;
	}
	/* the head, then the body: MSG_NOSIGNAL, a closed peer is an error */
	for (off = 0; off < (size_t)hn + blen; off += (size_t)w) {
		const char *p = off < (size_t)hn ? head + off :
		    body + (off - (size_t)hn);
		size_t len = off < (size_t)hn ? (size_t)hn - off :
		    blen - (off - (size_t)hn);

		if (wait_fd(fd, POLLOUT, deadline) != 0) {
			snprintf(err, errlen, "the webhook timed out");
			goto out;
		}
		if ((w = send(fd, p, len, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				w = 0;
			else {
				snprintf(err, errlen, "sending to the webhook: "
				    "%s", strerror(errno));
				goto out;
			}
		}
	}
	/* the status line is all that is read */
	while (got < sizeof(resp) - 1 && memchr(resp, '\n', got) == NULL) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, deadline) != 0) {
			snprintf(err, errlen, "the webhook did not answer in "
			    "time");
			goto out;
		}
		if ((n = recv(fd, resp + got, sizeof(resp) - 1 - got, 0)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(err, errlen, "reading the webhook's answer: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	resp[got] = '\0';
	if (sscanf(resp, "HTTP/1.%*1[01] %3d", &code) != 1) {
		snprintf(err, errlen, "the webhook's answer is not HTTP");
		goto out;
	}
	if (code < 200 || code > 299) {
		snprintf(err, errlen, "the webhook answered %d", code);
		goto out;
	}
	ret = 0;
out:
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	return ret;
}

/* ---- delivery: mail ---------------------------------------------------- */

/*
 * The message goes to the program's standard input through a socket
 * pair, not a pipe: send(MSG_NOSIGNAL) makes a program that exits early
 * an error instead of a SIGPIPE for the whole daemon.
 */
int
alert_sendmail(const char *prog, const char *msg, int timeout_ms, char *err,
    size_t errlen)
{
	int64_t deadline = mono_ms() + timeout_ms;
	size_t len = strlen(msg), off = 0;
	int sv[2], st = 0, ret = -1;
	pid_t pid, w;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);

		/* async-signal-safe calls only: the daemon has threads */
		if (dup2(sv[1], 0) == -1)
			_exit(127);
		if (nul != -1)
			dup2(nul, 1);
		execl(prog, "sendmail", "-t", "-oi", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	while (off < len) {
		ssize_t n;

		if (wait_fd(sv[0], POLLOUT, deadline) != 0)
			break;
		if ((n = send(sv[0], msg + off, len - off, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		off += (size_t)n;
	}
	close(sv[0]);		/* end of the message */
	for (;;) {
		if ((w = waitpid(pid, &st, WNOHANG)) == pid)
			break;
		if (w == -1 && errno != EINTR) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return -1;
		}
		if (mono_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			snprintf(err, errlen, "%s did not finish within %d s; "
			    "killed", prog, timeout_ms / 1000);
			return -1;
		}
		usleep(20000);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && off == len)
		ret = 0;
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		snprintf(err, errlen, "cannot run %s", prog);
	else if (WIFEXITED(st))
		snprintf(err, errlen, "%s exited with status %d", prog,
		    WEXITSTATUS(st));
	else
		snprintf(err, errlen, "%s was killed by signal %d", prog,
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return ret;
}

/* Control characters out of a header's words (names come from a file). */
static void
header_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = ' ';
}

/* Subject: as is when ASCII, else RFC 2047 base64 in UTF-8. */
static void
subject_line(const char *text, char *out, size_t len)
{
	unsigned char b64[512];
	const char *p;
	size_t n = strlen(text);

	for (p = text; *p != '\0' && (unsigned char)*p < 0x80; p++)
		;
	if (*p == '\0' || n > 300) {
		snprintf(out, len, "Subject: %s\n", text);
		return;
	}
	EVP_EncodeBlock(b64, (const unsigned char *)text, (int)n);
	snprintf(out, len, "Subject: =?UTF-8?B?%s?=\n", (const char *)b64);
}

static const char *
jstr(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);

	if (path2 != NULL)
		v = json_object_get(v, path2);
	return json_is_string(v) ? json_string_value(v) : "";
}

static long long
jnum(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);

	if (path2 != NULL)
		v = json_object_get(v, path2);
	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* The mail's words in English or Dutch (configuration "language"). */
char *
alert_mail(const char *to, const char *body, int nl)
{
	json_t *o;
	char subj[600], hdr[1400], words[600], *msg = NULL;
	const char *kind, *name, *id, *dept, *per;
	long long dev, conns, all, pct;
	json_error_t je;

	if ((o = json_loads(body, 0, &je)) == NULL)
		return NULL;
	kind = jstr(o, "alert", NULL);
	id = jstr(o, "service", "id");
	name = jstr(o, "service", "name");
	if (*name == '\0')
		name = id;
	dept = jstr(o, "department", NULL);
	per = jstr(o, "period", NULL);
	dev = jnum(o, "published", "devices");
	conns = jnum(o, "published", "connections");
	all = jnum(o, "published", "all_ai_connections");
	pct = jnum(o, "threshold_percent", NULL);
	if (strcmp(kind, "shadow_share") == 0) {
		snprintf(subj, sizeof(subj), nl ?
		    "aicensus: niet-goedgekeurde dienst %s op %lld%% of meer "
		    "van de AI-verbindingen in %s" :
		    "aicensus: unsanctioned %s at %lld%% or more of AI "
		    "connections in %s", name, pct, per);
		snprintf(words, sizeof(words), nl ?
		    "%s (%s), niet goedgekeurd, had %lld van de %lld "
		    "gepubliceerde AI-verbindingen van de organisatie in %s "
		    "(%lld apparaten): op of boven de drempel van %lld%%." :
		    "%s (%s), not sanctioned, had %lld of the organisation's "
		    "%lld published AI connections in %s (%lld devices): at or "
		    "above the alert threshold of %lld%%.", name, id, conns,
		    all, per, dev, pct);
	} else if (*dept != '\0') {
		snprintf(subj, sizeof(subj), nl ?
		    "aicensus: nieuwe AI-dienst %s bij %s in %s" :
		    "aicensus: new AI service %s in %s in %s", name, dept, per);
		snprintf(words, sizeof(words), nl ?
		    "%s (%s) werd voor het eerst gebruikt in afdeling %s, in "
		    "%s: %lld apparaten, %lld verbindingen (gepubliceerde "
		    "cijfers)." :
		    "%s (%s) was used for the first time in department %s in "
		    "%s: %lld devices, %lld connections (published figures).",
		    name, id, dept, per, dev, conns);
	} else {
		snprintf(subj, sizeof(subj), nl ?
		    "aicensus: nieuwe AI-dienst %s in %s" :
		    "aicensus: new AI service %s in %s", name, per);
		snprintf(words, sizeof(words), nl ?
		    "%s (%s) werd in %s voor het eerst gebruikt in de "
		    "organisatie: %lld apparaten, %lld verbindingen "
		    "(gepubliceerde cijfers)." :
		    "%s (%s) was used for the first time in the organisation "
		    "in %s: %lld devices, %lld connections (published "
		    "figures).", name, id, per, dev, conns);
	}
	header_clean(subj);
	subject_line(subj, hdr, sizeof(hdr));
	if (asprintf(&msg, "To: %s\n%sMIME-Version: 1.0\nContent-Type: "
	    "text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n"
	    "Auto-Submitted: auto-generated\n\n%s\n\n%s\n\n%s\n", to, hdr,
	    words, nl ? "Deze melding bevat alleen vrijgegeven cijfers "
	    "(beschermd, zoals gepubliceerd in de vrijgavedatabase)." :
	    "Only released figures (protected, as published in the release "
	    "database) are in this alert.", body) < 0)
		msg = NULL;
	json_decref(o);
	return msg;
}

