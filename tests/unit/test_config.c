/*
 * test_config.c - loading, validation errors (file:line + hint), printing.
 *
 * Run from the top of the tree: the shipped config/aicensus.conf and
 * config/catalog.conf are loaded by relative path.  Bad configurations
 * are written to a fresh directory under /tmp.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "detect/catalog.h"
#include "attribute/weekkey.h"
#include "common/config.h"
#include "t.h"

#ifndef AIC_WEBDIR
#define AIC_WEBDIR "/usr/local/share/aicensus/web"
#endif

static char dir[PATH_MAX];

static const char *
write_file(const char *name, const char *text)
{
	static char path[PATH_MAX + 64];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	if (fp == NULL)
		return path;
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* A bad configuration must fail at exactly file:line with kw in it. */
static void
expect_err(int tline, const char *text, int line, const char *kw)
{
	struct cfgerr e;
	struct config *c;
	char want[PATH_MAX + 64], got[1024];
	const char *path = write_file("bad.conf", text);

	memset(&e, 0, sizeof(e));
	c = config_load(path, &e);
	T_CHECK(c == NULL);
	config_free(c);
	cfgerr_format(&e, got, sizeof(got));
	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: ", path, line);
	else
		snprintf(want, sizeof(want), "%s: ", path);
	if (strncmp(got, want, strlen(want)) != 0 || strstr(got, kw) == NULL)
		fprintf(stderr, "test line %d: got \"%s\"\n  want prefix "
		    "\"%s\" and \"%s\"\n", tline, got, want, kw);
	T_CHECK(strncmp(got, want, strlen(want)) == 0);
	T_CHECK(strstr(got, kw) != NULL);
}
#define EXPECT_ERR(text, line, kw) expect_err(__LINE__, text, line, kw)

static int
addr(int af, const char *s, uint8_t *a)
{
	memset(a, 0, 16);
	return inet_pton(af, s, a) == 1;
}

static int
dept_of(const struct config *c, const char *s, int vlan)
{
	uint8_t a[16];
	int af = strchr(s, ':') ? AF_INET6 : AF_INET;

	if (!addr(af, s, a))
		return -100;
	return config_dept_of(c, af, a, vlan);
}

static int
ignored(const struct config *c, const char *s)
{
	uint8_t a[16];
	int af = strchr(s, ':') ? AF_INET6 : AF_INET;

	if (!addr(af, s, a))
		return -100;
	return config_ignored(c, af, a);
}

static int
dept_index(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_depts; i++)
		if (strcmp(c->dept_names[i], name) == 0)
			return (int)i;
	return -2;
}

static void
test_shipped_config(void)
{
	struct cfgerr e;
	struct config *c = config_load("config/aicensus.conf", &e);
	char buf[1024], cwd[PATH_MAX], want[PATH_MAX + 64];

	if (c == NULL) {
		fprintf(stderr, "%s\n", cfgerr_format(&e, buf, sizeof(buf)));
		T_CHECK(c != NULL);
		return;
	}
	T_CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(want, sizeof(want), "%s/config/catalog.conf", cwd);
	T_EQ_STR(c->catalog, want);
	snprintf(want, sizeof(want), "%s/config/aicensus.conf", cwd);
	T_EQ_STR(c->path, want);
	T_CHECK(strncmp(c->database, "/var/lib/aicensus/", 18) == 0);
	T_CHECK(strcmp(c->state_dir, c->database) != 0);
	T_CHECK(c->n_depts >= 4 && c->n_depts <= 5);
	T_CHECK(c->vlan_departments);
	T_EQ_INT(c->n_sanctioned, 3);
	T_EQ_INT(c->min_group_size, 5);
	T_CHECK(!c->min_group_size_unsafe);
	T_EQ_INT(dept_of(c, "10.20.1.1", 0), dept_index(c, "Sales"));
	T_EQ_INT(dept_of(c, "10.30.1.1", 0), dept_index(c, "Engineering"));
	T_EQ_INT(dept_of(c, "10.30.99.1", 0), dept_index(c, "Lab"));
	T_EQ_INT(dept_of(c, "2001:db8:30:99::1", 0), dept_index(c, "Lab"));
	T_EQ_INT(dept_of(c, "2001:db8:30:98::1", 0),
	    dept_index(c, "Engineering"));
	T_EQ_INT(dept_of(c, "2001:db8:20::5", 0), dept_index(c, "Sales"));
	T_EQ_INT(dept_of(c, "192.168.1.1", 0), -1);
	/* vlan_departments: the VLAN wins over the address. */
	T_EQ_INT(dept_of(c, "10.20.1.1", 50), dept_index(c, "Guests"));
	T_EQ_INT(dept_of(c, "192.168.1.1", 50), dept_index(c, "Guests"));
	T_EQ_INT(dept_of(c, "10.20.1.1", 51), dept_index(c, "Sales"));
	T_EQ_INT(dept_of(c, "10.20.1.1", 4095), dept_index(c, "Sales"));
	T_EQ_INT(dept_of(c, "10.20.1.1", -1), dept_index(c, "Sales"));
	T_EQ_INT(ignored(c, "10.0.0.53"), 1);
	T_EQ_INT(ignored(c, "10.0.0.54"), 0);
	T_EQ_INT(ignored(c, "2001:db8:0:1::53"), 1);
	T_EQ_INT(c->n_ech_public_names, 1);
	config_free(c);
}

/* The shipped sanctioned ids exist in the shipped catalog, and a typo is
 * reported at the line of the list element with a suggestion. */
static void
test_sanctioned_vs_catalog(void)
{
	struct cfgerr e;
	struct catalog *cat = catalog_load("config/catalog.conf", &e);
	struct config *c;
	char buf[1024], want[PATH_MAX + 64];
	const char *path;

	if (cat == NULL) {
		fprintf(stderr, "%s\n", cfgerr_format(&e, buf, sizeof(buf)));
		T_CHECK(cat != NULL);
		return;
	}
	c = config_load("config/aicensus.conf", &e);
	T_CHECK(c != NULL);
	if (c != NULL)
		T_EQ_INT(catalog_check_sanctioned(cat, c, &e), 0);
	config_free(c);

	path = write_file("sanct.conf", "aicensus = {\n"
	    "  sanctioned = [\n"
	    "    \"deepl\",\n"
	    "    \"openai-chatgtp\"\n"
	    "  ];\n"
	    "};\n");
	c = config_load(path, &e);
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_EQ_INT(catalog_check_sanctioned(cat, c, &e), -1);
		cfgerr_format(&e, buf, sizeof(buf));
		snprintf(want, sizeof(want), "%s:4: ", path);
		T_CHECK(strncmp(buf, want, strlen(want)) == 0);
		T_CHECK(strstr(buf, "did you mean \"openai-chatgpt\"") != NULL);
		/* the command that lists the ids, not one that does not exist */
		T_CHECK(strstr(buf, "`aicensus services` lists the ids") !=
		    NULL);
		T_CHECK(strstr(buf, "aicensus-report") == NULL);
		if (strncmp(buf, want, strlen(want)) != 0)
			fprintf(stderr, "got %s\n", buf);
	}
	config_free(c);

	/* what people write: a name, an id without its vendor, a typo of either */
	{
		static const char *const said[][2] = {
			{ "chatgpt", "openai-chatgpt" },
			{ "chatgtp", "openai-chatgpt" },
			{ "claude", "anthropic-claude" },
			{ "gemni", "google-gemini" },
		};
		size_t k;

		for (k = 0; k < sizeof(said) / sizeof(said[0]); k++) {
			char text[256];

			snprintf(text, sizeof(text), "aicensus = {\n"
			    "  sanctioned = [ \"%s\" ];\n};\n", said[k][0]);
			path = write_file("sanct2.conf", text);
			c = config_load(path, &e);
			T_CHECK(c != NULL);
			if (c == NULL)
				continue;
			snprintf(want, sizeof(want), "did you mean \"%s\"?",
			    said[k][1]);
			T_EQ_INT(catalog_check_sanctioned(cat, c, &e), -1);
			cfgerr_format(&e, buf, sizeof(buf));
			T_CHECK(strstr(buf, want) != NULL);
			if (strstr(buf, want) == NULL)
				fprintf(stderr, "%s: got %s\n", said[k][0], buf);
			config_free(c);
		}
	}
	catalog_free(cat);
}

/* The suggestion looks at every id: the catalog has more than 255. */
static void
test_sanctioned_suggest_all(void)
{
	struct cfgerr e;
	struct catalog *cat;
	struct config *c;
	char *text, buf[1024];
	size_t len = 0, cap = 300 * 200 + 64;
	int i;

	if ((text = malloc(cap)) == NULL) {
		T_CHECK(text != NULL);
		return;
	}
	len += (size_t)snprintf(text + len, cap - len,
	    "version = 1;\nservices = (\n");
	for (i = 0; i < 300; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "%s{ id = \"svc-%03d\"; name = \"Service %03d\"; vendor = "
		    "\"V\"; category = \"chat\"; jurisdiction = \"EU\"; "
		    "domains = [\"s%03d.example\"]; hosts = []; }\n",
		    i ? "," : "", i, i, i);
	snprintf(text + len, cap - len, ");\n");
	memset(&e, 0, sizeof(e));
	cat = catalog_load(write_file("big.catalog", text), &e);
	free(text);
	T_CHECK(cat != NULL);
	if (cat == NULL) {
		fprintf(stderr, "%s\n", cfgerr_format(&e, buf, sizeof(buf)));
		return;
	}
	c = config_load(write_file("big.conf", "aicensus = {\n"
	    "  sanctioned = [ \"svc-299x\" ];\n};\n"), &e);
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_EQ_INT(catalog_check_sanctioned(cat, c, &e), -1);
		cfgerr_format(&e, buf, sizeof(buf));
		T_CHECK(strstr(buf, "did you mean \"svc-299\"?") != NULL);
		if (strstr(buf, "did you mean \"svc-299\"?") == NULL)
			fprintf(stderr, "got %s\n", buf);
	}
	config_free(c);
	catalog_free(cat);
}

static const char golden_in[] =
    "# a small configuration\n"
    "aicensus = {\n"
    "  interface = \"br-lan\";\n"
    "  database = \"db/aicensus.db\";\n"
    "  plugins = [ \"demo\" ];\n"
    "  log = \"syslog\";\n"
    "  log_level = \"debug\";\n"
    "  flush_interval = 30;\n"
    "  min_group_size = 3;\n"
    "  timezone = \"UTC\";\n"
    "  language = \"nl\";\n"
    "  capture = { promisc = true; filter = \"udp port 53 or "
    "tcp port 443\"; };\n"
    "  limits = { memory_mb = 128; };\n"
    "  api = { listen = \"[::1]:9000\"; token_file = \"tok\"; };\n"
    "  report = { dir = \"reports\";\n"
    "    mail_to = \"cio@example.org, it.dept@example.org\"; };\n"
    "  ignore = [ \"192.0.2.53\", \"2001:DB8::53\" ];\n"
    "  sanctioned = [ \"deepl\" ];\n"
    "  ech_public_names = [ \"Cloudflare-ECH.com\", \"ech.example\" ];\n"
    "  vlan_departments = true;\n"
    "  departments = (\n"
    "    { name = \"Sales\"; prefixes = [ \"10.1.0.0/16\", "
    "\"2001:db8:1::/48\" ]; },\n"
    "    { name = \"Wifi Guests\"; vlans = [ 20, 21 ]; }\n"
    "  );\n"
    "};\n";

static const char golden_out[] =
    "aicensus = {\n"
    "  interface = \"br-lan\";\n"
    "  database = \"@DIR@/db/aicensus.db\";\n"
    "  release_database = \"@DIR@/db/released.db\";\n"
    "  state_dir = \"/var/lib/aicensus/state\";\n"
    "  catalog = \"/etc/aicensus/catalog.conf\";\n"
    "  catalog_dir = \"/etc/aicensus/catalog.d\";\n"
    "  plugin_dir = \"" AIC_PLUGINDIR "\";\n"
    "  plugins = [ \"demo\" ];\n"
    "  user = \"aicensus\";\n"
    "  log = \"syslog\";\n"
    "  log_level = \"debug\";\n"
    "  flush_interval = 30;\n"
    "  retention_days = 400;\n"
    "  min_group_size = 3;  # below 5: small groups can single out a "
    "person\n"
    "  timezone = \"UTC\";\n"
    "  language = \"nl\";\n"
    "  capture = {\n"
    "    snaplen = 65535;\n"
    "    buffer_mb = 32;\n"
    "    promisc = true;\n"
    "    filter = \"udp port 53 or tcp port 443\";\n"
    "    immediate = false;\n"
    "    client_address = \"inner\";\n"
    "    workers = 1;\n"
    "  };\n"
    "  limits = {\n"
    "    max_flows = 131072;\n"
    "    max_quic = 4096;\n"
    "    dns_cache_entries = 65536;\n"
    "    dns_cache_seconds = 600;\n"
    "    memory_mb = 128;\n"
    "    max_pending_cells = 200000;\n"
    "  };\n"
    "  api = {\n"
    "    enabled = true;\n"
    "    listen = \"[::1]:9000\";\n"
    "    token_file = \"@DIR@/tok\";\n"
    "    web_dir = \"" AIC_WEBDIR "\";\n"
    "    max_connections = 64;\n"
    "    source = \"local\";\n"
    "  };\n"
    "  report = {\n"
    "    dir = \"@DIR@/reports\";\n"
    "    mail_to = \"cio@example.org, it.dept@example.org\";\n"
    "  };\n"
    "  alerts = {\n"
    "    webhook = \"\";\n"
    "    mail_to = \"\";\n"
    "    sendmail = \"/usr/sbin/sendmail\";\n"
    "    new_service = true;\n"
    "    new_service_per_department = false;\n"
    "    shadow_share_percent = 0;\n"
    "  };\n"
    "  central = {\n"
    "    conninfo = \"\";\n"
    "    password_file = \"\";\n"
    "    site = \"\";\n"
    "    outbox_max_mb = 64;\n"
    "  };\n"
    "  ignore = [ \"192.0.2.53/32\", \"2001:db8::53/128\" ];\n"
    "  sanctioned = [ \"deepl\" ];\n"
    "  ech_public_names = [ \"cloudflare-ech.com\", \"ech.example\" ];\n"
    "  vlan_departments = true;\n"
    "  departments = (\n"
    "    {\n"
    "      name = \"Sales\";\n"
    "      prefixes = [ \"10.1.0.0/16\", \"2001:db8:1::/48\" ];\n"
    "      vlans = [ ];\n"
    "    },\n"
    "    {\n"
    "      name = \"Wifi Guests\";\n"
    "      prefixes = [ ];\n"
    "      vlans = [ 20, 21 ];\n"
    "    }\n"
    "  );\n"
    "};\n";

/* config_print output without its first (comment) line. */
static char *
printed(const struct config *c)
{
	char *buf = NULL, *nl;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	config_print(c, fp);
	fclose(fp);
	nl = strchr(buf, '\n');
	memmove(buf, nl + 1, strlen(nl + 1) + 1);
	return buf;
}

/* A token file the loader accepts (not readable by others). */
static const char *
write_token(const char *name, const char *text)
{
	const char *path = write_file(name, text);

	chmod(path, 0600);
	return path;
}

/* golden_out with every @DIR@ replaced by the test directory. */
static void
golden_want(char *want, size_t len)
{
	const char *p = golden_out, *at;
	size_t n = 0;

	while ((at = strstr(p, "@DIR@")) != NULL && n < len) {
		n += (size_t)snprintf(want + n, len - n, "%.*s%s",
		    (int)(at - p), p, dir);
		p = at + 5;
	}
	if (n < len)
		snprintf(want + n, len - n, "%s", p);
}

static void
test_print_golden(void)
{
	struct cfgerr e;
	struct config *c, *c2;
	char want[sizeof(golden_out) + 4 * PATH_MAX], *out, *out2, line0[64];
	const char *path, *path2;
	char *all = NULL;
	size_t len = 0;
	FILE *fp;

	write_token("tok", "  golden-token-0123456789abcdef\n\n");
	path = write_file("golden.conf", golden_in);
	c = config_load(path, &e);
	T_CHECK(c != NULL);
	if (c == NULL) {
		char msg[1024];

		fprintf(stderr, "%s\n", cfgerr_format(&e, msg, sizeof(msg)));
		return;
	}
	golden_want(want, sizeof(want));
	out = printed(c);
	T_EQ_STR(out, want);
	T_CHECK(c->min_group_size_unsafe);
	T_EQ_INT(dept_of(c, "10.1.2.3", 20), dept_index(c, "Wifi Guests"));
	T_EQ_INT(dept_of(c, "10.1.2.3", 0), dept_index(c, "Sales"));
	/* The comment line names the file. */
	fp = open_memstream(&all, &len);
	config_print(c, fp);
	fclose(fp);
	snprintf(line0, sizeof(line0), "# effective configuration of ");
	T_CHECK(strncmp(all, line0, strlen(line0)) == 0);
	T_CHECK(strstr(all, path) != NULL);
	free(all);
	/* The printed form loads back to the same configuration. */
	path2 = write_file("golden2.conf", out);
	c2 = config_load(path2, &e);
	T_CHECK(c2 != NULL);
	if (c2 != NULL) {
		out2 = printed(c2);
		T_EQ_STR(out2, out);
		free(out2);
	}
	config_free(c2);
	free(out);
	config_free(c);
}

static void
test_defaults(void)
{
	struct cfgerr e;
	struct config *c = config_load(write_file("empty.conf",
	    "aicensus = { };\n"), &e);

	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_EQ_STR(c->interface, "");
	T_EQ_STR(c->database, "/var/lib/aicensus/aicensus.db");
	T_EQ_STR(c->release_database, "/var/lib/aicensus/released.db");
	T_EQ_STR(c->state_dir, "/var/lib/aicensus/state");
	T_EQ_STR(c->catalog, "/etc/aicensus/catalog.conf");
	T_EQ_STR(c->plugin_dir, AIC_PLUGINDIR);
	T_EQ_INT(c->n_plugins, 0);
	T_EQ_STR(c->user, "aicensus");
	T_CHECK(!c->log_syslog);
	T_EQ_INT(c->log_level, 2);
	T_EQ_INT(c->flush_interval, 60);
	T_EQ_INT(c->retention_days, 400);
	T_EQ_INT(c->min_group_size, 5);
	T_EQ_STR(c->timezone, "");
	T_EQ_STR(c->language, "en");
	T_EQ_INT(c->capture.snaplen, 65535);
	T_EQ_INT(c->capture.buffer_mb, 32);
	T_CHECK(!c->capture.promisc && !c->capture.immediate);
	T_EQ_INT(c->capture.workers, 1);
	T_EQ_STR(c->capture.filter, "");
	T_EQ_INT(c->capture.client_address, CONFIG_CLIENT_INNER);
	T_EQ_INT(c->limits.max_flows, 131072);
	T_EQ_INT(c->limits.max_quic, 4096);
	T_EQ_INT(c->limits.dns_cache_entries, 65536);
	T_EQ_INT(c->limits.dns_cache_seconds, 600);
	T_EQ_INT(c->limits.memory_mb, 64);
	T_EQ_INT(c->limits.max_pending_cells, 200000);
	T_EQ_INT(c->n_ignore, 0);
	T_EQ_INT(c->n_sanctioned, 0);
	T_EQ_INT(c->n_ech_public_names, 1);
	T_EQ_STR(c->ech_public_names[0], "cloudflare-ech.com");
	T_CHECK(!c->vlan_departments);
	T_EQ_INT(c->n_depts, 0);
	/* no api group: no listener, nothing to read */
	T_CHECK(!c->api.enabled);
	T_EQ_STR(c->api.listen, "127.0.0.1:8080");
	T_EQ_STR(c->api.host, "127.0.0.1");
	T_EQ_INT(c->api.port, 8080);
	T_EQ_STR(c->api.token_file, "");
	T_EQ_STR(c->api.web_dir, AIC_WEBDIR);
	T_EQ_STR(c->report.dir, "/var/lib/aicensus/reports");
	T_EQ_STR(c->report.mail_to, "");
	T_EQ_INT(dept_of(c, "10.0.0.1", 5), -1);
	T_EQ_INT(ignored(c, "10.0.0.1"), 0);
	config_free(c);
	/* An explicitly empty ech list disables it. */
	c = config_load(write_file("empty.conf",
	    "aicensus = { ech_public_names = [ ]; user = \"\"; };\n"), &e);
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_EQ_INT(c->n_ech_public_names, 0);
		T_EQ_STR(c->user, "");
	}
	config_free(c);
}

/* The api group: enabled by being there, the token kept as its hash. */
static void
test_api_report(void)
{
	static const char tok[] = "s3cret-token-0123456789";
	unsigned char want[32];
	unsigned dlen = 32;
	struct cfgerr e;
	struct config *c;
	char sub[PATH_MAX + 16];

	write_token("api.token", "\n s3cret-token-0123456789 \r\n");
	c = config_load(write_file("api.conf", "aicensus = {\n"
	    "  api = { token_file = \"api.token\"; web_dir = \"web\"; };\n"
	    "  report = { dir = \"/srv/reports\"; mail_to = \"a@b.example\"; };"
	    "\n};\n"), &e);
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_CHECK(c->api.enabled);
	T_EQ_STR(c->api.host, "127.0.0.1");
	T_EQ_INT(c->api.port, 8080);
	snprintf(sub, sizeof(sub), "%s/web", dir);
	T_EQ_STR(c->api.web_dir, sub);
	snprintf(sub, sizeof(sub), "%s/api.token", dir);
	T_EQ_STR(c->api.token_file, sub);
	EVP_Digest(tok, strlen(tok), want, &dlen, EVP_sha256(), NULL);
	T_CHECK(memcmp(c->api.token_sha256, want, 32) == 0);
	T_EQ_STR(c->report.dir, "/srv/reports");
	T_EQ_STR(c->report.mail_to, "a@b.example");
	config_free(c);

	/* disabled: the token file need not exist */
	c = config_load(write_file("api.conf", "aicensus = {\n"
	    "  api = { enabled = false; listen = \"[::1]:1\"; };\n};\n"), &e);
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_CHECK(!c->api.enabled);
		T_EQ_STR(c->api.host, "::1");
		T_EQ_INT(c->api.port, 1);
	}
	config_free(c);
}

static void
test_errors_api(void)
{
	char text[PATH_MAX + 256], sub[PATH_MAX + 16];

	write_token("good.token", "0123456789abcdef0123\n");
	EXPECT_ERR("aicensus = {\n  api = 5;\n};\n", 2, "must be a group");
	EXPECT_ERR("aicensus = {\n  api = {\n    tokenfile = \"x\";\n  };\n"
	    "};\n", 3, "did you mean 'token_file'");
	EXPECT_ERR("aicensus = {\n  token_file = \"x\";\n};\n", 2,
	    "inside api = { ... }");
	EXPECT_ERR("aicensus = {\n  mail_to = \"\";\n};\n", 2,
	    "inside report = { ... }");
	EXPECT_ERR("aicensus = {\n  api = {\n    enabled = \"yes\";\n  };\n"
	    "};\n", 3, "api.enabled must be true or false");
	EXPECT_ERR("aicensus = {\n  api = {\n    listen = \"localhost:8080\";\n"
	    "    token_file = \"good.token\";\n  };\n};\n", 3,
	    "not an address and port");
	EXPECT_ERR("aicensus = {\n  api = { listen = \"127.0.0.1\"; };\n};\n",
	    2, "\"127.0.0.1:8080\" or \"[::1]:8080\"");
	EXPECT_ERR("aicensus = {\n  api = { listen = \"127.0.0.1:0\"; };\n};\n",
	    2, "port 1..65535");
	EXPECT_ERR("aicensus = {\n  api = { listen = \"127.0.0.1:65536\"; };\n"
	    "};\n", 2, "not an address");
	EXPECT_ERR("aicensus = {\n  api = { listen = \"[::1]8080\"; };\n};\n",
	    2, "not an address");
	EXPECT_ERR("aicensus = {\n  api = { listen = \"::1:8080\"; };\n};\n",
	    2, "not an address");
	EXPECT_ERR("aicensus = {\n  api = { listen = 8080; };\n};\n", 2,
	    "api.listen must be a string");
	/* the token */
	EXPECT_ERR("aicensus = {\n  api = {\n    enabled = true;\n  };\n};\n",
	    2, "api.token_file is required");
	EXPECT_ERR("aicensus = {\n  api = {\n    token_file = \"\";\n  };\n"
	    "};\n", 2, "api.token_file is required");
	EXPECT_ERR("aicensus = {\n  api = {\n    token_file = \"nosuch\";\n"
	    "  };\n};\n", 3, "api.token_file");
	EXPECT_ERR("aicensus = {\n  api = {\n    token_file = \"nosuch\";\n"
	    "  };\n};\n", 3, "cannot be read: No such file");
	write_file("open.token", "0123456789abcdef0123\n");
	chmod(write_file("open.token", "0123456789abcdef0123\n"), 0644);
	EXPECT_ERR("aicensus = {\n  api = { token_file = \"open.token\"; };\n"
	    "};\n", 2, "readable by every user");
	write_token("short.token", "abc\n");
	EXPECT_ERR("aicensus = {\n  api = { token_file = \"short.token\"; };\n"
	    "};\n", 2, "shorter than 16");
	write_token("empty.token", "\n");
	EXPECT_ERR("aicensus = {\n  api = { token_file = \"empty.token\"; };\n"
	    "};\n", 2, "shorter than 16");
	write_token("space.token", "0123456789 abcdef0123\n");
	EXPECT_ERR("aicensus = {\n  api = { token_file = \"space.token\"; };\n"
	    "};\n", 2, "printable ASCII");
	snprintf(sub, sizeof(sub), "%s/tokdir", dir);
	mkdir(sub, 0700);
	EXPECT_ERR("aicensus = {\n  api = { token_file = \"tokdir\"; };\n"
	    "};\n", 2, "not a regular file");
	memset(text, 'x', 1100);
	text[1100] = '\0';
	write_token("long.token", text);
	EXPECT_ERR("aicensus = {\n  api = { token_file = \"long.token\"; };\n"
	    "};\n", 2, "too long");
	EXPECT_ERR("aicensus = {\n  api = { token_file = \"good.token\";\n"
	    "    web_dir = \"\"; };\n};\n", 3, "api.web_dir must not be empty");
	/* report */
	EXPECT_ERR("aicensus = {\n  report = [ ];\n};\n", 2, "must be a group");
	EXPECT_ERR("aicensus = {\n  report = {\n    mailto = \"\";\n  };\n"
	    "};\n", 3, "did you mean 'mail_to'");
	EXPECT_ERR("aicensus = {\n  report = { mail_to = \"cio\"; };\n};\n", 2,
	    "not a list of mail addresses");
	EXPECT_ERR("aicensus = {\n  report = { mail_to = \"a@b.example,\"; };\n"
	    "};\n", 2, "not a list of mail addresses");
	EXPECT_ERR("aicensus = {\n  report = { mail_to = \"a@b.example\\nBcc: "
	    "c@d.example\"; };\n};\n", 2, "not a list of mail addresses");
	EXPECT_ERR("aicensus = {\n  report = { mail_to = \"a b@c.example\"; };\n"
	    "};\n", 2, "not a list of mail addresses");
	EXPECT_ERR("aicensus = {\n  report = { dir = \"\"; };\n};\n", 2,
	    "report.dir must not be empty");
	EXPECT_ERR("aicensus = {\n  report = { dir = 5; };\n};\n", 2,
	    "report.dir must be a string");
	/* alerts */
	EXPECT_ERR("aicensus = {\n  alerts = {\n    webhook = "
	    "\"https://hooks.example/x\"; };\n};\n", 3, "local relay");
	EXPECT_ERR("aicensus = {\n  alerts = { webhook = \"ftp://x/\"; };\n"
	    "};\n", 2, "is not an http:// address");
	EXPECT_ERR("aicensus = {\n  alerts = { webhook = \"http://\"; };\n"
	    "};\n", 2, "is not an http:// address");
	EXPECT_ERR("aicensus = {\n  alerts = { webhook = \"http://a b/\"; };\n"
	    "};\n", 2, "is not an http:// address");
	EXPECT_ERR("aicensus = {\n  alerts = { mail_to = \"sec\"; };\n};\n",
	    2, "alerts.mail_to = \"sec\" is not a list of mail addresses");
	EXPECT_ERR("aicensus = {\n  alerts = { shadow_share_percent = 101; };\n"
	    "};\n", 2, "shadow_share_percent");
	EXPECT_ERR("aicensus = {\n  alerts = { new_services = true; };\n"
	    "};\n", 2, "did you mean 'new_service'");
	EXPECT_ERR("aicensus = {\n  alerts = {\n    mail_to = \"a@b.example\";\n"
	    "    sendmail = \"/nonexistent/sendmail\"; };\n};\n", 4,
	    "alerts.sendmail \"/nonexistent/sendmail\" is not a program");
}

static void
test_relative_paths(void)
{
	struct cfgerr e;
	struct config *c;
	char sub[PATH_MAX + 16], path[PATH_MAX + 32], want[PATH_MAX + 64];
	char cwd[PATH_MAX];
	FILE *fp;

	snprintf(sub, sizeof(sub), "%s/etc", dir);
	T_EQ_INT(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/main.conf", sub);
	fp = fopen(path, "w");
	fputs("aicensus = {\n  catalog = \"catalog.conf\";\n"
	    "  state_dir = \"../state\";\n  database = \"/abs/x.db\";\n};\n",
	    fp);
	fclose(fp);
	/* Load by a relative path from another directory. */
	T_CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	T_EQ_INT(chdir(dir), 0);
	c = config_load("etc/main.conf", &e);
	T_EQ_INT(chdir(cwd), 0);
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	snprintf(want, sizeof(want), "%s/catalog.conf", sub);
	T_EQ_STR(c->catalog, want);
	snprintf(want, sizeof(want), "%s/../state", sub);
	T_EQ_STR(c->state_dir, want);
	T_EQ_STR(c->database, "/abs/x.db");
	T_EQ_STR(c->release_database, "/abs/released.db");
	T_EQ_STR(c->path, path);
	T_EQ_STR(c->dir, sub);
	config_free(c);
}

static void
test_errors_basic(void)
{
	struct cfgerr e;
	char want[PATH_MAX + 64], got[1024];

	/* syntax */
	EXPECT_ERR("aicensus = {\n  flush_interval = = 60;\n};\n", 2,
	    "syntax error");
	EXPECT_ERR("aicensus = {\n  log = \"stderr\";\n  capture = {\n"
	    "};\nx = 1;\n", 6, "syntax");
	EXPECT_ERR("aicensus = {\n  log = \"stderr\";\n  log = \"syslog\";\n"
	    "};\n", 3, "duplicate");
	/* unknown keys, with the nearest valid one or where it belongs */
	EXPECT_ERR("aicensus = {\n  log = \"stderr\";\n"
	    "  flush_intervall = 5;\n};\n", 3, "did you mean 'flush_interval'");
	EXPECT_ERR("aicensus = {\n  capture = {\n    snaplem = 300;\n  };\n"
	    "};\n", 3, "did you mean 'snaplen'");
	EXPECT_ERR("aicensus = {\n  snaplen = 300;\n};\n", 2,
	    "inside capture");
	EXPECT_ERR("aicensus = {\n  frobnicate = 1;\n};\n", 2,
	    "valid settings there are: interface");
	EXPECT_ERR("flush_interval = 60;\n", 1, "inside aicensus");
	EXPECT_ERR("# nothing\n", 0, "no aicensus group");
	EXPECT_ERR("aicensus = {\n  departments = (\n    { name = \"A\";\n"
	    "      prefix = [ \"10.0.0.0/8\" ]; }\n  );\n};\n", 4,
	    "did you mean 'prefixes'");
	/* wrong types */
	EXPECT_ERR("aicensus = {\n  retention_days = \"400\";\n};\n", 2,
	    "must be a whole number");
	EXPECT_ERR("aicensus = {\n  flush_interval = 1.5;\n};\n", 2,
	    "not a decimal number");
	EXPECT_ERR("aicensus = {\n  database = 5;\n};\n", 2,
	    "must be a string");
	EXPECT_ERR("aicensus = {\n  capture = {\n    promisc = \"yes\";\n"
	    "  };\n};\n", 3, "true or false");
	EXPECT_ERR("aicensus = {\n  capture = 5;\n};\n", 2, "must be a group");
	EXPECT_ERR("aicensus = {\n  ignore = \"10.0.0.53\";\n};\n", 2,
	    "must be a list");
	EXPECT_ERR("aicensus = {\n  ignore = [ 10 ];\n};\n", 2,
	    "must be a string");
	EXPECT_ERR("aicensus = {\n  departments = [ \"x\" ];\n};\n", 2,
	    "round brackets");
	EXPECT_ERR("aicensus = 5;\n", 1, "must be a group");
	/* out of range */
	EXPECT_ERR("aicensus = {\n  flush_interval = 0;\n};\n", 2,
	    "out of range");
	EXPECT_ERR("aicensus = {\n  flush_interval = 3601;\n};\n", 2,
	    "from 1 to 3600");
	EXPECT_ERR("aicensus = {\n  flush_interval = 4294967356;\n};\n", 2,
	    "out of range");	/* would wrap to 60 in libconfig */
	EXPECT_ERR("aicensus = {\n  retention_days = 99999999999L;\n};\n", 2,
	    "out of range");
	EXPECT_ERR("aicensus = {\n  min_group_size = 0;\n};\n", 2,
	    "out of range");
	EXPECT_ERR("aicensus = {\n  capture = { snaplen = 100; };\n};\n", 2,
	    "256 to 262144");
	EXPECT_ERR("aicensus = {\n  limits = {\n    memory_mb = 1;\n  };\n"
	    "};\n", 3, "limits.memory_mb is out of range");
	/* enumerations */
	EXPECT_ERR("aicensus = {\n  log = \"journal\";\n};\n", 2,
	    "one of: stderr, syslog");
	EXPECT_ERR("aicensus = {\n  log_level = \"verbose\";\n};\n", 2,
	    "error, warning, info, debug");
	EXPECT_ERR("aicensus = {\n  language = \"de\";\n};\n", 2, "en, nl");
	/* values */
	EXPECT_ERR("aicensus = {\n  timezone = \"Mars/Olympus\";\n};\n", 2,
	    "not a zone");
	EXPECT_ERR("aicensus = {\n  timezone = \"../../etc/passwd\";\n};\n", 2,
	    "not a zone");
	EXPECT_ERR("aicensus = {\n  timezone = \"Europe\";\n};\n", 2,
	    "not a zone");	/* a directory */
	EXPECT_ERR("aicensus = {\n  database = \"\";\n};\n", 2,
	    "must not be empty");
	EXPECT_ERR("aicensus = {\n  release_database = \"\";\n};\n", 2,
	    "must not be empty");
	EXPECT_ERR("aicensus = {\n  release_database = 1;\n};\n", 2,
	    "must be a string");
	EXPECT_ERR("aicensus = {\n  database = \"/x/a.db\";\n"
	    "  release_database = \"/x/a.db\";\n};\n", 3,
	    "are the same file");
	EXPECT_ERR("aicensus = {\n  database = \"/x/released.db\";\n};\n",
	    2, "release_database and database are the same file");
	EXPECT_ERR("aicensus = {\n  release_databse = \"r.db\";\n};\n", 2,
	    "did you mean 'release_database'");
	EXPECT_ERR("aicensus = {\n  user = \"Root User\";\n};\n", 2,
	    "not a valid user name");
	EXPECT_ERR("aicensus = {\n  interface = \"eth 1\";\n};\n", 2,
	    "not an interface name");
	EXPECT_ERR("aicensus = {\n  interface = \"a-very-long-ifname0\";\n};\n",
	    2, "too long");
	EXPECT_ERR("aicensus = {\n  capture = {\n    filter = \"tcp port "
	    "99999\";\n  };\n};\n", 3, "does not compile");
	EXPECT_ERR("aicensus = {\n  sanctioned = [ \"DeepL\" ];\n};\n", 2,
	    "lower-case ids");
	EXPECT_ERR("aicensus = {\n  sanctioned = [\n    \"deepl\",\n"
	    "    \"deepl\"\n  ];\n};\n", 4, "listed twice");
	EXPECT_ERR("aicensus = {\n  ech_public_names = [ \"ech..example\" ];\n"
	    "};\n", 2, "host name");
	EXPECT_ERR("aicensus = {\n  plugins = [ \"\" ];\n};\n", 2,
	    "plugin name");

	/* a missing file says why */
	memset(&e, 0, sizeof(e));
	T_CHECK(config_load("/nonexistent/aicensus.conf", &e) == NULL);
	cfgerr_format(&e, got, sizeof(got));
	snprintf(want, sizeof(want), "/nonexistent/aicensus.conf: cannot open");
	T_CHECK(strncmp(got, want, strlen(want)) == 0);
	T_CHECK(strstr(got, "No such file") != NULL);
	T_CHECK(config_load(NULL, NULL) == NULL);
	T_CHECK(config_load("/nonexistent", NULL) == NULL);
}

static void
test_errors_prefixes(void)
{
	EXPECT_ERR("aicensus = {\n  ignore = [ \"10.0.0/8\" ];\n};\n", 2,
	    "not an IPv4 or IPv6 address");
	EXPECT_ERR("aicensus = {\n  ignore = [\n    \"10.0.0.53\",\n"
	    "    \"10.0.0.0/33\"\n  ];\n};\n", 4, "bad prefix length");
	/* The element is the last one, on its own line: libconfig alone
	 * would report the line of the closing bracket. */
	EXPECT_ERR("aicensus = {\n  departments = (\n    {\n"
	    "      name = \"Sales\";\n      prefixes = [\n"
	    "        \"10.2.0.0/16\",\n        \"10.1.2.3/16\"\n"
	    "      ];\n    }\n  );\n};\n", 7,
	    "host bits set beyond /16 — did you mean \"10.1.0.0/16\"?");
	EXPECT_ERR("aicensus = {\n  ignore = [ \"2001:db8::1/32\" ];\n};\n", 2,
	    "did you mean \"2001:db8::/32\"");
	/* The same prefix in two departments names both. */
	EXPECT_ERR("aicensus = {\n  departments = (\n"
	    "    { name = \"Sales\"; prefixes = [ \"10.1.0.0/16\" ]; },\n"
	    "    { name = \"Support\";\n"
	    "      prefixes = [ \"10.9.0.0/16\",\n"
	    "                   \"10.1.0.0/16\" ]; }\n  );\n};\n", 6,
	    "listed in department 'Sales' (line 3) and again in department "
	    "'Support'");
	EXPECT_ERR("aicensus = {\n  departments = (\n"
	    "    { name = \"A\"; prefixes = [ \"2001:db8::/32\" ]; },\n"
	    "    { name = \"B\"; prefixes = [ \"2001:DB8:0::/32\" ]; }\n"
	    "  );\n};\n", 4, "prefix 2001:db8::/32 is listed in department 'A'");
}

static void
test_errors_departments(void)
{
	EXPECT_ERR("aicensus = {\n  departments = (\n"
	    "    { name = \"Sales\"; prefixes = [ \"10.1.0.0/16\" ]; },\n"
	    "    {\n      name = \"sales\";\n"
	    "      prefixes = [ \"10.2.0.0/16\" ];\n    }\n  );\n};\n", 5,
	    "defined twice");
	EXPECT_ERR("aicensus = {\n  departments = (\n"
	    "    { name = \"Unassigned\"; prefixes = [ \"10.1.0.0/16\" ]; }\n"
	    "  );\n};\n", 3, "reserved");
	EXPECT_ERR("aicensus = {\n  departments = (\n"
	    "    { name = \"A\"; prefixes = [ \"10.1.0.0/16\" ]; },\n"
	    "    {\n      prefixes = [ \"10.2.0.0/16\" ];\n    }\n"
	    "  );\n};\n", 4, "department #2 has no name");
	EXPECT_ERR("aicensus = {\n  departments = (\n"
	    "    { name = \"\"; prefixes = [ \"10.1.0.0/16\" ]; }\n"
	    "  );\n};\n", 3, "not valid");
	EXPECT_ERR("aicensus = {\n  departments = (\n"
	    "    { name = \"R&D\"; prefixes = [ \"10.1.0.0/16\" ]; }\n"
	    "  );\n};\n", 3, "letters, digits");
	EXPECT_ERR("aicensus = {\n  departments = (\n"
	    "    { name = 5; prefixes = [ \"10.1.0.0/16\" ]; }\n"
	    "  );\n};\n", 3, "must be a string");
	EXPECT_ERR("aicensus = {\n  departments = (\n    \"Sales\"\n  );\n};\n",
	    3, "must be a group");
	EXPECT_ERR("aicensus = {\n  vlan_departments = true;\n"
	    "  departments = (\n    { name = \"A\";\n"
	    "      vlans = [ 10,\n                4095 ]; }\n  );\n};\n", 6,
	    "VLAN 4095 of department 'A' is out of range");
	EXPECT_ERR("aicensus = {\n  vlan_departments = true;\n"
	    "  departments = (\n    { name = \"A\"; vlans = [ 0 ]; }\n"
	    "  );\n};\n", 4, "1..4094");
	EXPECT_ERR("aicensus = {\n  vlan_departments = true;\n"
	    "  departments = (\n    { name = \"A\"; vlans = [ \"10\" ]; }\n"
	    "  );\n};\n", 4, "whole numbers");
	EXPECT_ERR("aicensus = {\n  vlan_departments = true;\n"
	    "  departments = (\n    { name = \"A\"; vlans = [ 10 ]; },\n"
	    "    { name = \"B\"; vlans = [ 11, 10 ]; }\n  );\n};\n", 5,
	    "VLAN 10 is given to both department 'A' and department 'B'");
	EXPECT_ERR("aicensus = {\n  departments = (\n"
	    "    { name = \"A\"; vlans = [ 10 ]; }\n  );\n};\n", 3,
	    "vlan_departments = true");
	EXPECT_ERR("aicensus = {\n  departments = (\n"
	    "    { name = \"A\"; prefixes = [ ]; }\n  );\n};\n", 3,
	    "neither prefixes nor vlans");
}

static void
test_include(void)
{
	char want[PATH_MAX + 64];
	struct cfgerr e;
	struct config *c;

	write_file("depts.conf", "{ name = \"X\"; prefixes = [ \"10.0.0.0/8\" ]; "
	    "},\n{ name = \"Y\";\n  prefixes = [ \"10.1.0.0/16\" ]; }\n");
	c = config_load(write_file("inc.conf", "aicensus = {\n"
	    "  departments = (\n    @include \"depts.conf\"\n  );\n};\n"), &e);
	T_CHECK(c != NULL);
	if (c != NULL)
		T_EQ_INT(c->n_depts, 2);
	config_free(c);
	/* An error inside an included file names that file. */
	write_file("depts.conf", "{ name = \"X\"; prefixes = [ \"10.0.0.0/8\" ]; "
	    "},\n{ name = \"Y\";\n  prefixes = [ \"10.1.0.1/16\" ]; }\n");
	c = config_load(write_file("inc.conf", "aicensus = {\n"
	    "  departments = (\n    @include \"depts.conf\"\n  );\n};\n"), &e);
	T_CHECK(c == NULL);
	snprintf(want, sizeof(want), "%s/depts.conf", dir);
	T_EQ_STR(e.file, want);
	T_EQ_INT(e.line, 3);
}

/* Every truncation of a valid file either loads or fails with a
 * position; none crashes or leaks (ASan/valgrind watch). */
static void
test_truncated(void)
{
	size_t len = strlen(golden_in), n, ok = 0, bad = 0;
	char *buf = malloc(len + 1);
	struct cfgerr e;

	for (n = 0; n < len; n++) {
		struct config *c;

		memcpy(buf, golden_in, n);
		buf[n] = '\0';
		memset(&e, 0, sizeof(e));
		c = config_load(write_file("trunc.conf", buf), &e);
		if (c != NULL) {
			ok++;
		} else {
			bad++;
			T_CHECK(e.file[0] != '\0' && e.msg[0] != '\0');
		}
		config_free(c);
	}
	T_CHECK(bad > len / 2);
	free(buf);
	(void)ok;
}

/* release_database: relative to the configuration, absolute as given. */
static void
test_release_database(void)
{
	struct cfgerr e;
	struct config *c;
	char want[PATH_MAX + 64];

	c = config_load(write_file("rel.conf", "aicensus = {\n"
	    "  release_database = \"out/released.db\";\n};\n"), &e);
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	snprintf(want, sizeof(want), "%s/out/released.db", dir);
	T_EQ_STR(c->release_database, want);
	T_EQ_STR(c->database, "/var/lib/aicensus/aicensus.db");
	config_free(c);
	c = config_load(write_file("rel.conf", "aicensus = {\n"
	    "  database = \"/srv/db/raw.db\";\n"
	    "  release_database = \"/srv/pub/r.db\";\n};\n"), &e);
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_EQ_STR(c->release_database, "/srv/pub/r.db");
	config_free(c);
}

/* -n: an existing state_dir others may enter is an error at its line. */
static void
test_check_state_dir(void)
{
	struct cfgerr e;
	struct config *c;
	char state[PATH_MAX + 16], text[PATH_MAX + 128], got[1024];
	char want[PATH_MAX + 128];
	const char *path;

	snprintf(state, sizeof(state), "%s/keys", dir);
	snprintf(text, sizeof(text), "aicensus = {\n  database = \"x.db\";"
	    "\n  state_dir = \"%s\";\n};\n", state);
	path = write_file("state.conf", text);
	memset(&e, 0, sizeof(e));
	c = config_load(path, &e);
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	/* missing: fine, the daemon creates it 0700 */
	T_EQ_INT(weekkey_check_state_dir(c, &e), 0);
	T_EQ_INT(mkdir(state, 0700), 0);
	T_EQ_INT(weekkey_check_state_dir(c, &e), 0);
	T_EQ_INT(chmod(state, 0755), 0);
	T_EQ_INT(weekkey_check_state_dir(c, &e), -1);
	cfgerr_format(&e, got, sizeof(got));
	snprintf(want, sizeof(want), "%s:3: state_dir: ", path);
	T_CHECK(strncmp(got, want, strlen(want)) == 0);
	snprintf(want, sizeof(want), "chmod 0700 %s", state);
	T_CHECK(strstr(got, want) != NULL);
	if (strstr(got, want) == NULL)
		fprintf(stderr, "got %s\n", got);
	T_EQ_INT(chmod(state, 0700), 0);
	T_EQ_INT(weekkey_check_state_dir(c, &e), 0);
	rmdir(state);
	/* a file where the directory should be */
	write_file("keys", "x");
	T_EQ_INT(weekkey_check_state_dir(c, &e), -1);
	cfgerr_format(&e, got, sizeof(got));
	T_CHECK(strstr(got, "not a directory") != NULL);
	unlink(state);
	config_free(c);
}

/*
 * config_where(): the line each setting was written on, in the file it
 * was written in (an @included one too), 0 and the main file for a
 * default; plugin_lines: each plugin's own line.
 */
static void
test_where(void)
{
	char inc[PATH_MAX + 64];
	struct cfgerr e;
	struct config *c;
	const char *path, *file;

	snprintf(inc, sizeof(inc), "%s/api.inc", dir);
	write_file("api.inc", "listen = \"0.0.0.0:8080\";\n"
	    "token_file = \"tok\";\n");
	write_file("tok", "0123456789abcdef0123456789abcdef\n");
	chmod(inc, 0644);
	{
		char tok[PATH_MAX + 8];

		snprintf(tok, sizeof(tok), "%s/tok", dir);
		chmod(tok, 0600);
	}
	path = write_file("where.conf", "# where\n"
	    "aicensus = {\n"
	    "  interface = \"eth1\";\n"
	    "\n"
	    "  user =\n"
	    "    \"nobody\";\n"
	    "  plugins = [\n"
	    "    \"one\",\n"
	    "    \"two:arg\"\n"
	    "  ];\n"
	    "  min_group_size = 3;\n"
	    "  api = {\n"
	    "    @include \"api.inc\"\n"
	    "  };\n"
	    "};\n");
	memset(&e, 0, sizeof(e));
	c = config_load(path, &e);
	T_CHECK(c != NULL);
	if (c == NULL) {
		char got[1024];

		fprintf(stderr, "%s\n", cfgerr_format(&e, got, sizeof(got)));
		return;
	}
	T_EQ_INT(config_where(c, "", "interface", &file), 3);
	T_EQ_STR(file, path);
	T_EQ_INT(config_where(c, "", "user", &file), 5);
	T_EQ_INT(config_where(c, "", "min_group_size", NULL), 11);
	T_EQ_INT(config_where(c, "", "plugins", NULL), 7);
	T_EQ_INT(c->n_plugins, 2);
	T_EQ_INT(c->plugin_lines[0], 8);
	T_EQ_INT(c->plugin_lines[1], 9);
	/* inside a group, from an included file */
	T_EQ_INT(config_where(c, "api", "listen", &file), 1);
	T_EQ_STR(file, inc);
	T_EQ_INT(config_where(c, "api", "token_file", &file), 2);
	/* defaults: line 0, the main file */
	file = NULL;
	T_EQ_INT(config_where(c, "", "database", &file), 0);
	T_EQ_STR(file, c->path);
	T_EQ_INT(config_where(c, "report", "dir", &file), 0);
	T_EQ_STR(file, c->path);
	/* not a key at all */
	T_EQ_INT(config_where(c, "", "nosuch", &file), 0);
	T_EQ_INT(config_where(c, "api", "interface", NULL), 0);
	config_free(c);
}

/*
 * The table drives loading: every integer row loads its default when
 * absent, its min and max, and refuses min-1 and max+1 naming its
 * bounds; every other scalar row loads its default.  A row added to the
 * table is tested here without a line of its own.
 */
static void
test_table_rows(void)
{
	const struct config_key *k;
	struct config *c;
	struct cfgerr e;
	char text[512], got[1024], want[128];
	size_t n, i, ints = 0;
	long long v;
	int j;

	k = config_keys(&n);
	T_CHECK(n >= 30);
	T_CHECK(k[n].name == NULL);
	c = config_load(write_file("empty.conf", "aicensus = { };\n"), &e);
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	for (i = 0; i < n; i++) {
		const char *at = (const char *)c + k[i].off;

		T_CHECK(k[i].section != NULL && k[i].name != NULL &&
		    k[i].help != NULL);
		if (k[i].load != NULL || k[i].dflt == NULL)
			continue;	/* own handler: tested on its own */
		switch (k[i].type) {
		case CFG_INT:
			T_EQ_INT(*(const int *)(const void *)at,
			    atoi(k[i].dflt));
			break;
		case CFG_BOOL:
			T_EQ_INT(*(const bool *)(const void *)at,
			    strcmp(k[i].dflt, "true") == 0);
			break;
		case CFG_STRING:
			T_EQ_STR(at, k[i].dflt);
			break;
		case CFG_CHOICE:
			T_EQ_STR(k[i].choices[*(const int *)(const void *)at],
			    k[i].dflt);
			break;
		default:
			break;
		}
	}
	config_free(c);
	for (i = 0; i < n; i++) {
		if (k[i].type != CFG_INT)
			continue;
		ints++;
		for (j = 0; j < 4; j++) {
			v = j == 0 ? k[i].min : j == 1 ? k[i].max :
			    j == 2 ? k[i].min - 1 : k[i].max + 1;
			/* an enabled api group would need a token file */
			if (k[i].section[0] != '\0')
				snprintf(text, sizeof(text), "aicensus = {\n"
				    "  %s = {\n    %s%s = %lldL;\n  };\n};\n",
				    k[i].section, strcmp(k[i].section, "api") ==
				    0 ? "enabled = false;\n    " : "", k[i].name,
				    v);
			else
				snprintf(text, sizeof(text), "aicensus = {\n"
				    "  %s = %lldL;\n};\n", k[i].name, v);
			memset(&e, 0, sizeof(e));
			c = config_load(write_file("row.conf", text), &e);
			if (j < 2) {
				T_CHECK(c != NULL);
				config_free(c);
				continue;
			}
			T_CHECK(c == NULL);
			config_free(c);
			cfgerr_format(&e, got, sizeof(got));
			snprintf(want, sizeof(want), "from %lld to %lld (%s)",
			    k[i].min, k[i].max, k[i].unit);
			T_CHECK(strstr(got, "out of range") != NULL);
			T_CHECK(strstr(got, want) != NULL);
			T_CHECK(strstr(got, k[i].name) != NULL);
		}
	}
	T_CHECK(ints >= 10);
}

/*
 * The central group: the password file must be 0600 or 0400 and the
 * daemon's user's (root here: user = ""), errors at file:line naming
 * the key; a password in conninfo is refused; the site name is checked;
 * the password is loaded, never printed.
 */
static void
test_central(void)
{
	struct cfgerr e;
	struct config *c;
	char text[PATH_MAX + 1024], pw[PATH_MAX + 64], *out;

	/* write_file's path is a static buffer: keep a copy */
	snprintf(pw, sizeof(pw), "%s", write_token("central.pass",
	    "Sekrit-Marker-Passw0rd\n"));
#define CENTRAL(extra) "aicensus = {\n  user = \"\";\n  central = {\n" \
	"    conninfo = \"host=/tmp dbname=c user=s\";\n" \
	"    site = \"north-1\";\n" extra "  };\n};\n"
	snprintf(text, sizeof(text), CENTRAL("    password_file = \"%s\";\n"),
	    pw);
	c = config_load(write_file("central.conf", text), &e);
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_EQ_STR(c->central.password, "Sekrit-Marker-Passw0rd");
		T_EQ_STR(c->central.site, "north-1");
		T_EQ_INT(c->central.outbox_max_mb, 64);
		out = printed(c);
		T_CHECK(out != NULL && strstr(out, "Sekrit-Marker") == NULL);
		T_CHECK(out != NULL && strstr(out, "site = \"north-1\"") != NULL);
		free(out);
		config_free(c);
	}
	chmod(pw, 0640);
	EXPECT_ERR(text, 6, "has mode 0640");
	chmod(pw, 0400);
	c = config_load(write_file("central.conf", text), &e);
	T_CHECK(c != NULL);
	config_free(c);
	if (getuid() == 0) {
		T_CHECK(chown(pw, 65534, 65534) == 0);
		EXPECT_ERR(text, 6, "not by the daemon's user");
		T_CHECK(chown(pw, 0, 0) == 0);
	}
	snprintf(text, sizeof(text), CENTRAL("    password_file = \"%s/none\";"
	    "\n"), dir);
	EXPECT_ERR(text, 6, "central.password_file");
	EXPECT_ERR("aicensus = {\n  central = {\n    conninfo = \"host=x "
	    "password=Sekrit\";\n    site = \"a\";\n  };\n};\n", 3,
	    "holds a password");
	EXPECT_ERR("aicensus = {\n  central = {\n    conninfo = \"host=x\";\n"
	    "    site = \"-bad site\";\n  };\n};\n", 4, "not a site name");
	EXPECT_ERR("aicensus = {\n  central = {\n    conninfo = \"host=x\";\n"
	    "  };\n};\n", 2, "central.site");
	EXPECT_ERR("aicensus = {\n  central = {\n    outbox_max_mb = 0;\n"
	    "  };\n};\n", 3, "outbox_max_mb");
#undef CENTRAL
}

/*
 * api.source: local by default; central reads the central group, which
 * must then have a conninfo and needs no site (a reader ships nothing);
 * a sensor's group still needs its site.
 */
static void
test_api_source(void)
{
	struct cfgerr e;
	struct config *c;
	char *out;

	write_token("api.token", "s3cret-token-0123456789\n");
	c = config_load(write_file("src.conf", "aicensus = {\n"
	    "  api = { token_file = \"api.token\"; };\n};\n"), &e);
	T_CHECK(c != NULL);
	if (c != NULL)
		T_EQ_INT(c->api.source, CONFIG_API_LOCAL);
	config_free(c);
	c = config_load(write_file("src.conf", "aicensus = {\n"
	    "  api = { token_file = \"api.token\"; source = \"central\"; };\n"
	    "  central = { conninfo = \"host=/tmp dbname=c user=bi\"; };\n"
	    "};\n"), &e);
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_EQ_INT(c->api.source, CONFIG_API_CENTRAL);
		T_EQ_STR(c->central.site, "");
		out = printed(c);
		T_CHECK(out != NULL &&
		    strstr(out, "source = \"central\";") != NULL);
		free(out);
	}
	config_free(c);
	EXPECT_ERR("aicensus = {\n  api = {\n    token_file = \"api.token\";\n"
	    "    source = \"central\";\n  };\n};\n", 4, "no central.conninfo");
	EXPECT_ERR("aicensus = {\n  api = {\n    token_file = \"api.token\";\n"
	    "    source = \"remote\";\n  };\n};\n", 4, "local, central");
	EXPECT_ERR("aicensus = {\n  api = {\n    token_file = \"api.token\";\n"
	    "    source = \"local\";\n  };\n  central = {\n"
	    "    conninfo = \"host=x\";\n  };\n};\n", 6, "central.site");
}

/* capture.client_address: inner (default) or outer, nothing else. */
static void
test_client_address(void)
{
	struct cfgerr e;
	struct config *c;
	char *out;

	c = config_load(write_file("ca.conf", "aicensus = {\n"
	    "  capture = { client_address = \"outer\"; };\n};\n"), &e);
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_EQ_INT(c->capture.client_address, CONFIG_CLIENT_OUTER);
		out = printed(c);
		T_CHECK(out != NULL &&
		    strstr(out, "client_address = \"outer\";") != NULL);
		free(out);
	}
	config_free(c);
	EXPECT_ERR("aicensus = {\n  capture = {\n"
	    "    client_address = \"middle\";\n  };\n};\n", 3,
	    "inner, outer");
}

int
main(void)
{
	char tmpl[] = "/tmp/aicensus_test_config_XXXXXX";

	if (mkdtemp(tmpl) == NULL || realpath(tmpl, dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_shipped_config);
	T_RUN(test_sanctioned_vs_catalog);
	T_RUN(test_sanctioned_suggest_all);
	T_RUN(test_print_golden);
	T_RUN(test_defaults);
	T_RUN(test_api_report);
	T_RUN(test_central);
	T_RUN(test_api_source);
	T_RUN(test_client_address);
	T_RUN(test_errors_api);
	T_RUN(test_relative_paths);
	T_RUN(test_errors_basic);
	T_RUN(test_errors_prefixes);
	T_RUN(test_errors_departments);
	T_RUN(test_include);
	T_RUN(test_truncated);
	T_RUN(test_release_database);
	T_RUN(test_check_state_dir);
	T_RUN(test_where);
	T_RUN(test_table_rows);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return T_DONE();
}
