/*
 * test_alert.c - the alerts (out/alert.h, store/alertlog.h): judging
 * released weeks (baseline, history, new services per organisation and
 * department, shadow-share crossings, once only), the HTTP POST against
 * a one-shot receiver on 127.0.0.1, and sendmail through small scripts.
 *
 * The release database is created by the release stage (reldb_open) and
 * its weeks written with SQL, as relfix.h does, so each figure is the
 * test's own.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "out/alert.h"
#include "out/alert_send.h"
#include "release/release.h"
#include "release/released.h"
#include "store/alertlog.h"
#include "t.h"

static char dir[PATH_MAX], db[PATH_MAX + 16];

static void
sql(const char *q)
{
	sqlite3 *h;
	char *msg = NULL;

	T_CHECK(sqlite3_open(db, &h) == SQLITE_OK);
	if (sqlite3_exec(h, q, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "sql: %s: %s\n", q, msg ? msg : "?");
		T_CHECK(0);
	}
	sqlite3_free(msg);
	sqlite3_close(h);
}

static long long
sql_int(const char *q)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_open(db, &h) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return v;
}

/* A fresh release database: departments Lab, Ops; services alpha
 * (sanctioned), beta, gamma. */
static void
fresh_db(void)
{
	struct reldb *r;
	char err[256];

	remove(db);
	T_CHECK((r = reldb_open(db, err, sizeof(err))) != NULL);
	reldb_close(r);
	sql("INSERT OR REPLACE INTO meta VALUES ('timezone', 'UTC');"
	    "INSERT INTO service VALUES"
	    " ('alpha', 'Alpha', 'A', 'chat', 'EU', 1),"
	    " ('beta', 'Beta', 'B', 'code', 'US', 0),"
	    " ('gamma', 'Gamma', 'G', 'chat', 'US', 0)");
}

struct fc {
	const char	*dept, *svc;
	int		 devices, conns;
};

/* One released week with these non-zero cells (margins included). */
static void
week(int w, long long released_at, const struct fc *c, size_t n)
{
	static const char *const depts[] = { "Lab", "Ops", "unassigned" };
	static const char *const svcs[] = { "alpha", "beta", "gamma", "*" };
	char q[512];
	size_t i;

	snprintf(q, sizeof(q), "INSERT INTO period VALUES (2, %d, %d, %lld, "
	    "168, 168, 1, 1)", w, w, released_at);
	sql(q);
	for (i = 0; i < 3; i++) {
		snprintf(q, sizeof(q), "INSERT INTO dim VALUES (2, %d, 0, %zu, "
		    "'%s')", w, i, depts[i]);
		sql(q);
		snprintf(q, sizeof(q), "INSERT INTO dim VALUES (2, %d, 1, %zu, "
		    "'%s')", w, i, svcs[i]);
		sql(q);
	}
	for (i = 0; i < n; i++) {
		snprintf(q, sizeof(q), "INSERT INTO cell VALUES (2, %d, '%s', "
		    "'%s', %d, %d, %d, 0, 0, %d, 0, 0, 0, 0)", w, c[i].dept,
		    c[i].svc, c[i].devices, c[i].devices, c[i].conns,
		    c[i].conns);
		sql(q);
	}
}

static struct config_alerts
rules(int per_dept, int pct)
{
	struct config_alerts a;

	memset(&a, 0, sizeof(a));
	snprintf(a.webhook, sizeof(a.webhook), "http://127.0.0.1:9/x");
	a.new_service = true;
	a.new_service_per_department = per_dept;
	a.shadow_share_percent = pct;
	return a;
}

/* One judging pass as the alert thread runs it; the alerts recorded. */
static int
judge(const struct config_alerts *a, int64_t since)
{
	struct released *rel;
	struct alertlog *log;
	char err[256];
	int fresh = 0, n;

	if ((rel = released_open(db, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return -2;
	}
	if ((log = alertlog_open(db, &fresh, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		released_close(rel);
		return -2;
	}
	n = alert_judge(rel, log, a, fresh, since, 1000, err, sizeof(err));
	if (n < 0)
		fprintf(stderr, "judge: %s\n", err);
	alertlog_close(log);
	released_close(rel);
	return n;
}

static const struct fc w1[] = {
	{ "Lab", "alpha", 3, 6 }, { "Lab", "*", 3, 6 },
	{ "*", "alpha", 3, 6 }, { "*", "*", 3, 6 },
};
/* beta appears in Ops: 2 of 8 connections (25 %) */
static const struct fc w2[] = {
	{ "Lab", "alpha", 3, 6 }, { "Lab", "*", 3, 6 },
	{ "Ops", "beta", 2, 2 }, { "Ops", "*", 2, 2 },
	{ "*", "alpha", 3, 6 }, { "*", "beta", 2, 2 }, { "*", "*", 5, 8 },
};
/* beta in Lab too (new for Lab), at 4 of 10 (40 %) */
static const struct fc w3[] = {
	{ "Lab", "alpha", 3, 6 }, { "Lab", "beta", 1, 2 },
	{ "Lab", "*", 3, 8 }, { "Ops", "beta", 2, 2 }, { "Ops", "*", 2, 2 },
	{ "*", "alpha", 3, 6 }, { "*", "beta", 3, 4 }, { "*", "*", 5, 10 },
};
/* still 40 %: no second crossing; gamma in unassigned only */
static const struct fc w4[] = {
	{ "Lab", "alpha", 3, 6 }, { "Ops", "beta", 2, 4 },
	{ "unassigned", "gamma", 1, 1 }, { "unassigned", "*", 1, 1 },
	{ "*", "alpha", 3, 6 }, { "*", "beta", 2, 4 }, { "*", "gamma", 1, 1 },
	{ "*", "*", 6, 11 },
};

#define HAS(key) sql_int("SELECT COUNT(*) FROM alert WHERE key = '" key "'")

static void
test_judge(void)
{
	struct config_alerts a = rules(1, 30);

	fresh_db();
	week(202645, 100, w1, sizeof(w1) / sizeof(w1[0]));
	week(202646, 200, w2, sizeof(w2) / sizeof(w2[0]));
	/* the first pass: both weeks released after `since` are judged */
	T_EQ_INT(judge(&a, 50), 2);
	T_EQ_INT(HAS("new_service/202646//beta"), 1);
	T_EQ_INT(HAS("new_service/202646/Ops/beta"), 1);
	/* 25 % is under 30 %; W45 is the baseline and alerts nothing */
	T_EQ_INT(sql_int("SELECT COUNT(*) FROM alert WHERE week = 202645"), 0);
	T_EQ_INT(sql_int("SELECT COUNT(*) FROM alert_week"), 2);
	/* the body holds the released cell, the labels, nothing else */
	T_EQ_INT(sql_int("SELECT COUNT(*) FROM alert WHERE key = "
	    "'new_service/202646//beta' AND body = '{\"alert\":\"new_service\","
	    "\"period\":\"2026-W46\",\"service\":{\"id\":\"beta\",\"name\":"
	    "\"Beta\",\"vendor\":\"B\",\"category\":\"code\",\"sanctioned\":"
	    "false},\"published\":{\"devices\":2,\"connections\":2}}' AND "
	    "webhook = 1 AND mail = 0"), 1);
	/* judged once: a second pass records nothing */
	T_EQ_INT(judge(&a, 50), 0);

	week(202647, 300, w3, sizeof(w3) / sizeof(w3[0]));
	T_EQ_INT(judge(&a, 50), 2);
	T_EQ_INT(HAS("new_service/202647/Lab/beta"), 1);
	T_EQ_INT(HAS("shadow_share/202647/beta"), 1);
	T_EQ_INT(sql_int("SELECT COUNT(*) FROM alert WHERE key = "
	    "'shadow_share/202647/beta' AND body LIKE '%\"threshold_percent\":"
	    "30,\"published\":{\"devices\":3,\"connections\":4,"
	    "\"all_ai_connections\":10}}'"), 1);

	/* W48: beta stays above (no crossing); gamma in unassigned only */
	week(202648, 400, w4, sizeof(w4) / sizeof(w4[0]));
	T_EQ_INT(judge(&a, 50), 1);
	T_EQ_INT(HAS("new_service/202648//gamma"), 1);
	T_EQ_INT(sql_int("SELECT COUNT(*) FROM alert WHERE key LIKE "
	    "'%/unassigned/%'"), 0);
	T_EQ_INT(sql_int("SELECT COUNT(*) FROM alert"), 5);
}

static void
test_history(void)
{
	struct config_alerts a = rules(0, 20);

	/* weeks released before alerts were configured are history */
	fresh_db();
	week(202645, 100, w1, sizeof(w1) / sizeof(w1[0]));
	week(202646, 200, w2, sizeof(w2) / sizeof(w2[0]));
	T_EQ_INT(judge(&a, 500), 0);
	T_EQ_INT(sql_int("SELECT COUNT(*) FROM alert_week"), 2);
	week(202647, 600, w3, sizeof(w3) / sizeof(w3[0]));
	/* beta was seen in W46: not new; 40 % >= 20 %, but so was 25 % */
	T_EQ_INT(judge(&a, 500), 0);
	T_EQ_INT(sql_int("SELECT COUNT(*) FROM alert"), 0);

	/* no department alerts unless asked; sanctioned alpha never shadow */
	fresh_db();
	a = rules(0, 10);
	week(202645, 100, w1, sizeof(w1) / sizeof(w1[0]));
	week(202646, 200, w2, sizeof(w2) / sizeof(w2[0]));
	T_EQ_INT(judge(&a, 0), 2);
	T_EQ_INT(HAS("new_service/202646//beta"), 1);
	T_EQ_INT(HAS("shadow_share/202646/beta"), 1);
	T_EQ_INT(sql_int("SELECT COUNT(*) FROM alert WHERE key LIKE "
	    "'%alpha%'"), 0);
	/* new_service off: shadow share only */
	fresh_db();
	a = rules(1, 10);
	a.new_service = false;
	a.new_service_per_department = false;
	week(202645, 100, w1, sizeof(w1) / sizeof(w1[0]));
	week(202646, 200, w2, sizeof(w2) / sizeof(w2[0]));
	T_EQ_INT(judge(&a, 0), 1);
	T_EQ_INT(HAS("shadow_share/202646/beta"), 1);
}

/* ---- the webhook ------------------------------------------------------ */

/*
 * A receiver for one connection on 127.0.0.1: it keeps the request in
 * dir/request and answers `answer` ("" = never).  Returns its pid; the
 * port in *port.
 */
static pid_t
receiver(const char *answer, int *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	pid_t pid;
	int s, c;

	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(s, 1) != 0 || getsockname(s, (struct sockaddr *)&sin,
	    &sl) != 0)
		return -1;
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) != 0) {
		close(s);
		return pid;
	}
	if ((c = accept(s, NULL, NULL)) >= 0) {
		char buf[8192], path[PATH_MAX + 16];
		size_t got = 0;
		ssize_t n;
		FILE *f;

		/* head and a body of the length it names, or 2 s */
		alarm(2);
		while (got < sizeof(buf) - 1 && (n = read(c, buf + got,
		    sizeof(buf) - 1 - got)) > 0) {
			char *e, *cl;

			got += (size_t)n;
			buf[got] = '\0';
			if ((e = strstr(buf, "\r\n\r\n")) != NULL &&
			    (cl = strstr(buf, "Content-Length: ")) != NULL &&
			    got >= (size_t)(e + 4 - buf) + (size_t)atoi(cl + 16))
				break;
		}
		snprintf(path, sizeof(path), "%s/request", dir);
		if ((f = fopen(path, "w")) != NULL) {
			fwrite(buf, 1, got, f);
			fclose(f);
		}
		if (*answer != '\0')
			(void)!write(c, answer, strlen(answer));
		else
			sleep(3);
		close(c);
	}
	_exit(0);
}

static void
slurp(const char *name, char *buf, size_t len)
{
	char path[PATH_MAX + 16];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf[0] = '\0';
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

static void
test_http(void)
{
	const char *body = "{\"alert\":\"new_service\"}";
	char url[128], err[256], req[8192];
	pid_t pid;
	int port, st;

	pid = receiver("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
	    &port);
	T_CHECK(pid > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hooks/aicensus", port);
	err[0] = '\0';
	T_EQ_INT(alert_http_post(url, body, 2000, err, sizeof(err)), 0);
	waitpid(pid, &st, 0);
	slurp("request", req, sizeof(req));
	T_CHECK(strncmp(req, "POST /hooks/aicensus HTTP/1.1\r\n", 31) == 0);
	T_CHECK(strstr(req, "\r\nContent-Type: application/json\r\n") != NULL);
	T_CHECK(strstr(req, "\r\nContent-Length: 23\r\n") != NULL);
	snprintf(url, sizeof(url), "\r\nHost: 127.0.0.1:%d\r\n", port);
	T_CHECK(strstr(req, url) != NULL);
	T_CHECK(strstr(req, "\r\n\r\n{\"alert\":\"new_service\"}") != NULL);

	/* a refusal is a failure, with the status */
	pid = receiver("HTTP/1.0 500 Internal Server Error\r\n\r\n", &port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	T_EQ_INT(alert_http_post(url, body, 2000, err, sizeof(err)), -1);
	T_EQ_STR(err, "the webhook answered 500");
	waitpid(pid, &st, 0);
	slurp("request", req, sizeof(req));
	T_CHECK(strncmp(req, "POST / HTTP/1.1\r\n", 17) == 0);

	/* something that is not HTTP */
	pid = receiver("SSH-2.0-OpenSSH\r\n", &port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	T_EQ_INT(alert_http_post(url, body, 2000, err, sizeof(err)), -1);
	T_EQ_STR(err, "the webhook's answer is not HTTP");
	waitpid(pid, &st, 0);

	/* silence: the deadline holds */
	pid = receiver("", &port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	T_EQ_INT(alert_http_post(url, body, 300, err, sizeof(err)), -1);
	T_EQ_STR(err, "the webhook did not answer in time");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);

	/* nobody listening (the port the last receiver had, now closed) */
	T_EQ_INT(alert_http_post(url, body, 1000, err, sizeof(err)), -1);
	T_CHECK(strncmp(err, "cannot connect to the webhook", 29) == 0);
	T_EQ_INT(alert_http_post("ftp://x/", body, 1000, err, sizeof(err)),
	    -1);
	T_EQ_INT(alert_http_post("http://[::1/", body, 1000, err,
	    sizeof(err)), -1);
}

/* ---- sendmail ---------------------------------------------------------- */

static void
script(const char *name, const char *text)
{
	char path[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, 0755);
}

static void
test_sendmail(void)
{
	char prog[PATH_MAX + 32], err[256], got[4096], text[2 * PATH_MAX + 64];

	snprintf(text, sizeof(text), "#!/bin/sh\necho \"$@\" >%s/args\n"
	    "cat >%s/msg\n", dir, dir);
	script("sm-ok", text);
	snprintf(prog, sizeof(prog), "%s/sm-ok", dir);
	T_EQ_INT(alert_sendmail(prog, "To: a@b.example\n\nhello\n", 2000, err,
	    sizeof(err)), 0);
	slurp("msg", got, sizeof(got));
	T_EQ_STR(got, "To: a@b.example\n\nhello\n");
	slurp("args", got, sizeof(got));
	T_EQ_STR(got, "-t -oi\n");

	script("sm-fail", "#!/bin/sh\ncat >/dev/null\nexit 75\n");
	snprintf(prog, sizeof(prog), "%s/sm-fail", dir);
	T_EQ_INT(alert_sendmail(prog, "x\n", 2000, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "exited with status 75") != NULL);

	/* one that exits without reading: no SIGPIPE for the daemon */
	script("sm-early", "#!/bin/sh\nexit 0\n");
	snprintf(prog, sizeof(prog), "%s/sm-early", dir);
	{
		static char big[1 << 20];

		memset(big, 'x', sizeof(big) - 1);
		T_EQ_INT(alert_sendmail(prog, big, 2000, err, sizeof(err)), -1);
	}

	script("sm-hang", "#!/bin/sh\nexec sleep 30\n");
	snprintf(prog, sizeof(prog), "%s/sm-hang", dir);
	T_EQ_INT(alert_sendmail(prog, "x\n", 400, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "killed") != NULL);

	snprintf(prog, sizeof(prog), "%s/no-such-sendmail", dir);
	T_EQ_INT(alert_sendmail(prog, "x\n", 2000, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "cannot run") != NULL);
}

/* ---- the mail's words -------------------------------------------------- */

static void
test_mail(void)
{
	const char *shadow = "{\"alert\":\"shadow_share\",\"period\":"
	    "\"2026-W47\",\"service\":{\"id\":\"beta\",\"name\":\"Beta\"},"
	    "\"threshold_percent\":30,\"published\":{\"devices\":3,"
	    "\"connections\":4,\"all_ai_connections\":10}}";
	const char *dept = "{\"alert\":\"new_service\",\"period\":"
	    "\"2026-W46\",\"service\":{\"id\":\"b\",\"name\":\"B\\u00e9ta\\n"
	    "Bcc: x@y\"},\"department\":\"Ops\",\"published\":{\"devices\":2,"
	    "\"connections\":5}}";
	char *m;

	m = alert_mail("sec@example.org", shadow, 0);
	T_CHECK(m != NULL && strncmp(m, "To: sec@example.org\nSubject: "
	    "aicensus: unsanctioned Beta at 30% or more of AI connections in "
	    "2026-W47\n", 95) == 0);
	T_CHECK(m != NULL && strstr(m, "had 4 of the organisation's 10 "
	    "published AI connections in 2026-W47 (3 devices)") != NULL);
	T_CHECK(m != NULL && strstr(m, shadow) != NULL);
	free(m);
	m = alert_mail("sec@example.org", shadow, 1);
	T_CHECK(m != NULL && strstr(m, "Subject: aicensus: niet-goedgekeurde "
	    "dienst Beta op 30% of meer van de AI-verbindingen in 2026-W47\n")
	    != NULL);
	T_CHECK(m != NULL && strstr(m, "had 4 van de 10 gepubliceerde "
	    "AI-verbindingen van de organisatie in 2026-W47 (3 apparaten)")
	    != NULL);
	T_CHECK(m != NULL && strstr(m, "Deze melding bevat alleen "
	    "vrijgegeven cijfers") != NULL);
	free(m);
	/* a name with a newline: no header injection; UTF-8: RFC 2047 */
	m = alert_mail("sec@example.org", dept, 0);
	if (m != NULL) {
		char *end = strstr(m, "\n\n");

		/* the headers end at the first blank line: no Bcc among them */
		T_CHECK(end != NULL);
		if (end != NULL)
			*end = '\0';
		T_CHECK(strstr(m, "Bcc") == NULL);
		if (end != NULL)
			*end = '\n';
	}
	T_CHECK(m != NULL && strstr(m, "\nSubject: =?UTF-8?B?") != NULL);
	T_CHECK(m != NULL && strstr(m, "for the first time in department Ops "
	    "in 2026-W46: 2 devices, 5 connections") != NULL);
	free(m);
	m = alert_mail("sec@example.org", dept, 1);
	T_CHECK(m != NULL && strstr(m, "voor het eerst gebruikt in afdeling "
	    "Ops, in 2026-W46: 2 apparaten, 5 verbindingen") != NULL);
	free(m);
	T_CHECK(alert_mail("a@b", "not json", 0) == NULL);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/aic-test-alert.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(db, sizeof(db), "%s/released.db", dir);
	T_RUN(test_judge);
	T_RUN(test_history);
	T_RUN(test_http);
	T_RUN(test_sendmail);
	T_RUN(test_mail);
	{
		char cmd[PATH_MAX + 32];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		(void)!system(cmd);
	}
	return T_DONE();
}
