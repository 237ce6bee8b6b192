/*
 * central_view.c - the release's version and the sites view, read by a
 * reader role for the organisation's dashboard (central_view.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/central_pg.h"
#include "store/central_view.h"

struct central_view {
	struct central	*c;
	PGconn		*conn;
};

#define STR_(x)		#x
#define STR(x)		STR_(x)

/* PostgreSQL's insufficient_privilege. */
#define SQLSTATE_DENIED	"42501"

struct central_view *
central_view_open(const char *conninfo, char *err, size_t errlen)
{
	struct central_view *v;

	if ((v = calloc(1, sizeof(*v))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((v->c = central_pg_connect(conninfo, err, errlen)) == NULL) {
		free(v);
		return NULL;
	}
	v->conn = central_pg_conn(v->c);
	return v;
}

void
central_view_close(struct central_view *v)
{
	if (v == NULL)
		return;
	central_pg_close(v->c);
	free(v);
}

/* s into out as a libpq value in single quotes. */
static int
quoted(const char *s, char *out, size_t len, size_t *n)
{
	if (*n + 1 >= len)
		return -1;
	out[(*n)++] = '\'';
	for (; *s != '\0'; s++) {
		if (*n + 3 >= len)
			return -1;
		if (*s == '\'' || *s == '\\')
			out[(*n)++] = '\\';
		out[(*n)++] = *s;
	}
	out[(*n)++] = '\'';
	out[*n] = '\0';
	return 0;
}

/* s into out percent-encoded (RFC 3986 unreserved characters kept). */
static int
pct(const char *s, char *out, size_t len, size_t *n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (*n + 4 >= len)
			return -1;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL) {
			out[(*n)++] = (char)ch;
		} else {
			out[(*n)++] = '%';
			out[(*n)++] = hex[ch >> 4];
			out[(*n)++] = hex[ch & 15];
		}
	}
	out[*n] = '\0';
	return 0;
}

static int
add(const char *s, char *out, size_t len, size_t *n)
{
	size_t l = strlen(s);

	if (*n + l >= len)
		return -1;
	memcpy(out + *n, s, l + 1);
	*n += l;
	return 0;
}

int
central_view_conninfo(const char *conninfo, const char *password,
    int timeout_sec, char *out, size_t len)
{
	int uri = strncmp(conninfo, "postgresql://", 13) == 0 ||
	    strncmp(conninfo, "postgres://", 11) == 0;
	int has_timeout = strstr(conninfo, "connect_timeout") != NULL;
	int pw = password != NULL && password[0] != '\0';
	char t[16];
	size_t n = 0;

	if (len == 0)
		return -1;
	out[0] = '\0';
	snprintf(t, sizeof(t), "%d", timeout_sec);
	if (uri) {
		char sep = strchr(conninfo, '?') != NULL ? '&' : '?';

		if (add(conninfo, out, len, &n) != 0)
			goto fail;
		if (!has_timeout) {
			char kv[48];

			snprintf(kv, sizeof(kv), "%cconnect_timeout=%s", sep, t);
			if (add(kv, out, len, &n) != 0)
				goto fail;
			sep = '&';
		}
		if (pw && (add(sep == '&' ? "&password=" : "?password=", out,
		    len, &n) != 0 || pct(password, out, len, &n) != 0))
			goto fail;
		return 0;
	}
	/* a bare word is a database name to libpq */
	if (strchr(conninfo, '=') == NULL && conninfo[0] != '\0') {
		if (add("dbname=", out, len, &n) != 0 ||
		    quoted(conninfo, out, len, &n) != 0)
			goto fail;
	} else if (add(conninfo, out, len, &n) != 0)
		goto fail;
	if (!has_timeout && (add(" connect_timeout=", out, len, &n) != 0 ||
	    add(t, out, len, &n) != 0))
		goto fail;
	if (pw && (add(" password=", out, len, &n) != 0 ||
	    quoted(password, out, len, &n) != 0))
		goto fail;
	return 0;
fail:
	explicit_bzero(out, len);
	return -1;
}

/* A read; NULL with err (and *denied set on a permission error). */
static PGresult *
run(struct central_view *v, const char *sql, const char *what,
    int *denied, char *err, size_t errlen)
{
	PGresult *res = PQexec(v->conn, sql);
	const char *state;

	*denied = 0;
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	central_pg_err(v->c, res, what, err, errlen);
	if (state != NULL && strcmp(state, SQLSTATE_DENIED) == 0) {
		size_t l = strlen(err);

		*denied = 1;
		snprintf(err + l, errlen - l, " — %s cannot read the released "
		    "figures (a sensor's writer role?): use a reader role's "
		    "configuration, a member of " CENTRAL_PG_READER " "
		    "(docs/CENTRAL.md)", central_pg_name(v->c));
	}
	PQclear(res);
	return NULL;
}

static int64_t
num(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int
central_view_version(struct central_view *v, int64_t *count, int64_t *last,
    char *err, size_t errlen)
{
	PGresult *res;
	int denied;

	if ((res = run(v, "SELECT count(*), coalesce(max(released_at), 0)"
	    " FROM aicensus.period", "cannot read the released periods",
	    &denied, err, errlen)) == NULL)
		return denied ? CENTRAL_VIEW_DENIED : -1;
	if (PQntuples(res) != 1 || PQnfields(res) != 2) {
		PQclear(res);
		snprintf(err, errlen, "the released periods: an unexpected "
		    "answer");
		return -1;
	}
	*count = num(res, 0, 0);
	*last = num(res, 0, 1);
	PQclear(res);
	return 0;
}

int
central_view_sites(struct central_view *v, struct central_site **out,
    size_t *n, char *err, size_t errlen)
{
	struct central_site *s;
	PGresult *res;
	int i, rows, denied;

	*out = NULL;
	*n = 0;
	/* the last released week of the site's scope (schema version 3) */
	if ((res = run(v, "SELECT s.site,"
	    " coalesce(extract(epoch FROM s.last_seen)::bigint, 0),"
	    " s.last_seen IS NULL OR s.hours_since_seen >= "
	    STR(CENTRAL_VIEW_SILENT_HOURS) ","
	    " w.period, w.coverage_hours, w.hours_total"
	    " FROM aicensus.sites s LEFT JOIN LATERAL"
	    " (SELECT p.period, p.coverage_hours, p.hours_total"
	    "  FROM aicensus.period p WHERE p.site = s.site AND p.kind = 2"
	    "  ORDER BY p.period DESC LIMIT 1) w ON true"
	    " ORDER BY s.site COLLATE \"C\"",
	    "cannot read the sites view", &denied, err, errlen)) == NULL)
		return denied ? CENTRAL_VIEW_DENIED : -1;
	rows = PQntuples(res);
	if (PQnfields(res) != 6 ||
	    (s = calloc((size_t)rows + 1, sizeof(*s))) == NULL) {
		PQclear(res);
		snprintf(err, errlen, "the sites view: out of memory");
		return -1;
	}
	for (i = 0; i < rows; i++) {
		snprintf(s[i].name, sizeof(s[i].name), "%s",
		    PQgetvalue(res, i, 0));
		s[i].last_seen = num(res, i, 1);
		s[i].silent = strcmp(PQgetvalue(res, i, 2), "t") == 0;
		s[i].week = (int32_t)num(res, i, 3);
		s[i].coverage_hours = num(res, i, 4);
		s[i].hours_total = num(res, i, 5);
	}
	PQclear(res);
	*out = s;
	*n = (size_t)rows;
	return 0;
}
