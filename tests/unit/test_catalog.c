/*
 * test_catalog.c - catalog loader and name matcher.
 *
 * Run from the repository root: it loads config/catalog.conf.  Bad
 * catalogs are written to /tmp and removed again.  The real catalog is
 * also read independently with libconfig, and every entry (and names
 * derived from it) is matched both by catalog_match() and by a slow,
 * obviously-correct reference, which must agree.
 */
#include <sys/stat.h>

#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/catalog.h"
#include "t.h"

#define REAL_CATALOG	"config/catalog.conf"

static struct catalog *real;

static int
m(const struct catalog *c, const char *name)
{
	return catalog_match(c, name, strlen(name));
}

static const char *
mid(const struct catalog *c, const char *name)
{
	int i = m(c, name);

	return i < 0 ? "-1" : catalog_service(c, (size_t)i)->id;
}

/* ---- helpers for catalogs written by the test ---- */

static char tmp_path[128];

static const char *
write_tmp(const char *text, size_t len)
{
	static int seq;
	FILE *f;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/aicensus-test-catalog-%d-%d"
	    ".conf", (int)getpid(), seq++);
	if ((f = fopen(tmp_path, "w")) == NULL)
		return NULL;
	fwrite(text, 1, len, f);
	fclose(f);
	return tmp_path;
}

static struct catalog *
load_text(const char *text, struct cfgerr *err)
{
	const char *p = write_tmp(text, strlen(text));
	struct catalog *c;

	if (p == NULL)
		return NULL;
	c = catalog_load(p, err);
	unlink(p);
	return c;
}

/* ---- reference matcher over entries read straight from the file ---- */

struct ref_entry {
	char	name[256];
	int	exact;
	int	svc;
};

static struct ref_entry *refs;
static size_t nrefs;

static void
ref_add_list(config_setting_t *grp, const char *list, int exact, int svc)
{
	config_setting_t *a = config_setting_get_member(grp, list);
	int i, j;

	for (i = 0; a != NULL && i < config_setting_length(a); i++) {
		const char *s = config_setting_get_string_elem(a, i);
		struct ref_entry *r;

		refs = realloc(refs, (nrefs + 1) * sizeof(*refs));
		r = &refs[nrefs++];
		snprintf(r->name, sizeof(r->name), "%s", s);
		for (j = 0; r->name[j] != '\0'; j++)
			if (r->name[j] >= 'A' && r->name[j] <= 'Z')
				r->name[j] += 'a' - 'A';
		r->exact = exact;
		r->svc = svc;
	}
}

static int
ref_load(const char *path)
{
	config_t cf;
	config_setting_t *svcs;
	int i;

	config_init(&cf);
	if (!config_read_file(&cf, path))
		return -1;
	svcs = config_lookup(&cf, "services");
	for (i = 0; i < config_setting_length(svcs); i++) {
		config_setting_t *g = config_setting_get_elem(svcs, i);

		ref_add_list(g, "domains", 0, i);
		ref_add_list(g, "hosts", 1, i);
	}
	config_destroy(&cf);
	return 0;
}

static int
ref_match(const char *in)
{
	char n[512];
	size_t len = strlen(in), i, best = 0;
	int svc = -1;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > 255)
		return -1;
	for (i = 0; i < len; i++)
		n[i] = (in[i] >= 'A' && in[i] <= 'Z') ? in[i] + 32 : in[i];
	n[len] = '\0';
	if (n[0] == '.' || n[len - 1] == '.' || strstr(n, "..") != NULL)
		return -1;
	for (i = 0; i < nrefs; i++) {
		size_t el = strlen(refs[i].name);
		int hit = 0;

		if (el == len && memcmp(n, refs[i].name, el) == 0)
			hit = 1;
		else if (!refs[i].exact && len > el && n[len - el - 1] == '.' &&
		    memcmp(n + len - el, refs[i].name, el) == 0)
			hit = 1;
		if (hit && el > best) {
			best = el;
			svc = refs[i].svc;
		}
	}
	return svc;
}

/* ---- tests ---- */

static void
test_load_real(void)
{
	static const char *must[] = {
		"openai-chatgpt", "openai-api", "openai-sora",
		"anthropic-claude", "anthropic-api", "google-gemini",
		"google-ai-studio", "google-gemini-api", "google-notebooklm",
		"microsoft-copilot", "github-copilot", "perplexity",
		"mistral-le-chat", "mistral-api", "deepseek-chat",
		"alibaba-qwen", "moonshot-kimi", "bytedance-doubao",
		"baidu-ernie", "zhipu-chatglm", "minimax", "xai-grok",
		"meta-ai", "poe", "character-ai", "inflection-pi",
		"huggingface", "deepl", "grammarly", "quillbot", "jasper",
		"copy-ai", "writesonic", "midjourney", "leonardo-ai",
		"stability-ai", "ideogram", "runway", "pika", "luma-ai",
		"suno", "udio", "elevenlabs", "synthesia", "heygen",
		"descript", "otter-ai", "fireflies-ai", "cursor", "windsurf",
		"tabnine", "lovable", "bolt-new", "vercel-v0", "phind",
		"you-com", "cohere", "ai21", "groq", "together-ai",
		"fireworks-ai", "replicate", "openrouter", "aleph-alpha",
		"manus", "genspark", "felo", "monica", "gamma", "tome",
		"beautiful-ai", "krea", "adobe-firefly", "aws-bedrock",
		"azure-openai",
	};
	static const char *cats = " chat api code image audio video writing "
	    "search agent other ";
	struct cfgerr err;
	char buf[1024], key[32];
	size_t i, j;

	real = catalog_load(REAL_CATALOG, &err);
	if (real == NULL)
		fprintf(stderr, "%s\n", cfgerr_format(&err, buf, sizeof(buf)));
	T_CHECK(real != NULL);
	if (real == NULL)
		return;
	/* issue 14: at least 200 services */
	T_CHECK(catalog_count(real) >= 200);
	for (i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		if (catalog_find_id(real, must[i]) < 0)
			fprintf(stderr, "missing service %s\n", must[i]);
		T_CHECK(catalog_find_id(real, must[i]) >= 0);
	}
	for (i = 0; i < catalog_count(real); i++) {
		const struct service *s = catalog_service(real, i);

		T_EQ_INT(catalog_find_id(real, s->id), (long long)i);
		T_CHECK(s->name[0] != '\0' && s->vendor[0] != '\0');
		snprintf(key, sizeof(key), " %s ", s->category);
		T_CHECK(strstr(cats, key) != NULL);
		T_CHECK(strcmp(s->jurisdiction, "other") == 0 ||
		    strlen(s->jurisdiction) == 2);
		for (j = 0; s->id[j] != '\0'; j++)
			T_CHECK((s->id[j] >= 'a' && s->id[j] <= 'z') ||
			    (s->id[j] >= '0' && s->id[j] <= '9') ||
			    s->id[j] == '-');
	}
	T_CHECK(catalog_service(real, catalog_count(real)) == NULL);
	T_EQ_INT(catalog_find_id(real, "no-such-service"), -1);
	T_EQ_INT(catalog_find_id(real, NULL), -1);
}

static void
test_known_names(void)
{
	static const struct {
		const char *name, *id;
	} cases[] = {
		{ "chatgpt.com", "openai-chatgpt" },
		{ "ab.chatgpt.com", "openai-chatgpt" },
		{ "chat.openai.com", "openai-chatgpt" },
		{ "ios.chat.openai.com", "openai-chatgpt" },
		{ "api.openai.com", "openai-api" },
		{ "sora.com", "openai-sora" },
		{ "claude.ai", "anthropic-claude" },
		{ "api.anthropic.com", "anthropic-api" },
		{ "console.anthropic.com", "anthropic-api" },
		{ "gemini.google.com", "google-gemini" },
		{ "bard.google.com", "google-gemini" },
		{ "aistudio.google.com", "google-ai-studio" },
		{ "generativelanguage.googleapis.com", "google-gemini-api" },
		{ "notebooklm.google.com", "google-notebooklm" },
		{ "copilot.microsoft.com", "microsoft-copilot" },
		{ "api.githubcopilot.com", "github-copilot" },
		{ "www.perplexity.ai", "perplexity" },
		{ "chat.mistral.ai", "mistral-le-chat" },
		{ "api.mistral.ai", "mistral-api" },
		{ "chat.deepseek.com", "deepseek-chat" },
		{ "api.deepseek.com", "deepseek-api" },
		{ "chat.qwen.ai", "alibaba-qwen" },
		{ "kimi.moonshot.cn", "moonshot-kimi" },
		{ "www.doubao.com", "bytedance-doubao" },
		{ "yiyan.baidu.com", "baidu-ernie" },
		{ "chatglm.cn", "zhipu-chatglm" },
		{ "hailuoai.com", "minimax-hailuo" },
		{ "grok.com", "xai-grok" },
		{ "www.meta.ai", "meta-ai" },
		{ "huggingface.co", "huggingface" },
		{ "www.deepl.com", "deepl" },
		{ "api-free.deepl.com", "deepl" },
		{ "app.cursor.sh", "cursor" },
		{ "myresource.openai.azure.com", "azure-openai" },
		{ "bedrock-runtime.us-east-1.amazonaws.com", "aws-bedrock" },
		{ "firefly.adobe.com", "adobe-firefly" },
		{ "v0.dev", "vercel-v0" },
		{ "api.groq.com", "groq" },
		{ "api.together.xyz", "together-ai" },
	};
	size_t i;

	if (real == NULL)
		return;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		T_EQ_STR(mid(real, cases[i].name), cases[i].id);
}

static void
test_label_boundary(void)
{
	static const char *never[] = {
		"notchatgpt.com", "chatgpt.com.evil.example", "chatgpt.co",
		"hatgpt.com", "xchatgpt.com", "chatgpt.comm", "com",
		"evil-chatgpt.com", "chatgpt-com.example", "chatgptcom",
		"openai.com", "www.openai.com", "anthropic.com",
		"mistral.ai", "www.mistral.ai", "amazonaws.com",
		"s3.amazonaws.com", "azure.com", "ai", "",
	};
	size_t i;

	if (real == NULL)
		return;
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		T_EQ_STR(mid(real, never[i]), "-1");
}

static void
test_case_and_trailing_dot(void)
{
	if (real == NULL)
		return;
	T_EQ_STR(mid(real, "CHATGPT.COM"), "openai-chatgpt");
	T_EQ_STR(mid(real, "Ab.ChatGPT.Com."), "openai-chatgpt");
	T_EQ_STR(mid(real, "GEMINI.GOOGLE.COM."), "google-gemini");
	T_EQ_STR(mid(real, "Api.OpenAI.com"), "openai-api");
	T_EQ_STR(mid(real, "chatgpt.com.."), "-1");
	T_EQ_STR(mid(real, "."), "-1");
	T_EQ_STR(mid(real, ".."), "-1");
	T_EQ_STR(mid(real, ".chatgpt.com"), "-1");
	T_EQ_STR(mid(real, "chatgpt..com"), "-1");
	T_EQ_STR(mid(real, "ab..chatgpt.com"), "-1");
	T_EQ_STR(mid(real, "ab.chatgpt.com.."), "-1");
	/* Non-ASCII bytes are not case-folded and never match. */
	T_EQ_STR(mid(real, "chatgpt.c\xc3\xb6m"), "-1");
}

static void
test_exact_hosts(void)
{
	if (real == NULL)
		return;
	T_EQ_STR(mid(real, "www.google.com"), "-1");
	T_EQ_STR(mid(real, "google.com"), "-1");
	T_EQ_STR(mid(real, "gemini.google.com"), "google-gemini");
	T_EQ_STR(mid(real, "foo.gemini.google.com"), "-1");
	T_EQ_STR(mid(real, "foo.aistudio.google.com"), "-1");
	T_EQ_STR(mid(real, "googleapis.com"), "-1");
	T_EQ_STR(mid(real, "storage.googleapis.com"), "-1");
	T_EQ_STR(mid(real, "x.generativelanguage.googleapis.com"), "-1");
	T_EQ_STR(mid(real, "microsoft.com"), "-1");
	T_EQ_STR(mid(real, "www.microsoft.com"), "-1");
	T_EQ_STR(mid(real, "a.copilot.microsoft.com"), "-1");
	T_EQ_STR(mid(real, "www.bing.com"), "-1");
	T_EQ_STR(mid(real, "x.com"), "-1");
	T_EQ_STR(mid(real, "api.x.com"), "-1");
	T_EQ_STR(mid(real, "github.com"), "-1");
	T_EQ_STR(mid(real, "api.github.com"), "-1");
	T_EQ_STR(mid(real, "adobe.com"), "-1");
	T_EQ_STR(mid(real, "www.adobe.com"), "-1");
	T_EQ_STR(mid(real, "notion.so"), "-1");
	T_EQ_STR(mid(real, "www.baidu.com"), "-1");
	T_EQ_STR(mid(real, "bedrock-runtime.amazonaws.com"), "-1");
}

static void
test_longest_match(void)
{
	static const char *text =
	    "version = 1;\n"
	    "services = (\n"
	    "  { id = \"api\"; name = \"A\"; vendor = \"V\"; category = \"api\";"
	    " jurisdiction = \"US\"; domains = [ \"api.openai.com\" ]; },\n"
	    "  { id = \"web\"; name = \"W\"; vendor = \"V\"; category = \"chat\";"
	    " jurisdiction = \"US\"; domains = [ \"openai.com\" ];"
	    " hosts = [ \"x.api.openai.com\" ]; }\n"
	    ");\n";
	struct cfgerr err;
	struct catalog *c;

	if (real != NULL) {
		T_EQ_STR(mid(real, "sora.chatgpt.com"), "openai-sora");
		/* sora.chatgpt.com is a host: below it chatgpt.com applies */
		T_EQ_STR(mid(real, "a.sora.chatgpt.com"), "openai-chatgpt");
		T_EQ_STR(mid(real, "api.x.ai"), "xai-api");
		T_EQ_STR(mid(real, "x.ai"), "xai-grok");
		T_EQ_STR(mid(real, "console.x.ai"), "xai-grok");
		T_EQ_STR(mid(real, "api.perplexity.ai"), "perplexity-api");
		T_EQ_STR(mid(real, "www.perplexity.ai"), "perplexity");
	}
	/* The more specific entry wins whichever service is listed first. */
	c = load_text(text, &err);
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_EQ_STR(mid(c, "openai.com"), "web");
	T_EQ_STR(mid(c, "www.openai.com"), "web");
	T_EQ_STR(mid(c, "api.openai.com"), "api");
	T_EQ_STR(mid(c, "v1.api.openai.com"), "api");
	T_EQ_STR(mid(c, "x.api.openai.com"), "web");
	T_EQ_STR(mid(c, "y.x.api.openai.com"), "api");
	catalog_free(c);
}

static void
test_lengths(void)
{
	char name[300];
	size_t pad;

	if (real == NULL)
		return;
	/* 255 bytes exactly: "a.a.a....chatgpt.com" */
	pad = 255 - strlen("chatgpt.com");
	memset(name, 0, sizeof(name));
	for (size_t i = 0; i < pad; i += 2)
		memcpy(name + i, "a.", 2);
	memcpy(name + pad, "chatgpt.com", strlen("chatgpt.com"));
	T_EQ_INT(strlen(name), 255);
	T_EQ_STR(mid(real, name), "openai-chatgpt");
	name[255] = '.';		/* 255 + the trailing dot */
	T_EQ_STR(mid(real, name), "openai-chatgpt");
	/* 256 bytes */
	memmove(name + 1, name, 255);
	name[0] = 'b';
	name[256] = '\0';
	T_EQ_INT(strlen(name), 256);
	T_EQ_STR(mid(real, name), "-1");
	/* the length argument is what counts, not a terminator */
	T_EQ_INT(catalog_match(real, "chatgpt.comXYZ", 11),
	    catalog_find_id(real, "openai-chatgpt"));
	T_EQ_INT(catalog_match(real, "chatgpt.com\0evil", 16), -1);
	T_EQ_INT(catalog_match(real, "chatgpt.com", 0), -1);
	T_EQ_INT(catalog_match(real, NULL, 5), -1);
	T_EQ_INT(catalog_match(NULL, "chatgpt.com", 11), -1);
}

/* Every prefix of a valid name: only the expected lengths may match. */
static void
test_prefixes(void)
{
	static const struct {
		const char *name;
		const char *match_at[3];	/* prefixes that match */
	} cases[] = {
		{ "ab.chatgpt.com.", { "ab.chatgpt.com", "ab.chatgpt.com." } },
		{ "gemini.google.com", { "gemini.google", "gemini.google.",
		    "gemini.google.com" } },
		{ "sora.chatgpt.com", { "sora.chatgpt.com" } },
		{ "api.x.ai", { "api.x.ai" } },
	};
	size_t i, len, k;

	if (real == NULL)
		return;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *n = cases[i].name;

		for (len = 0; len <= strlen(n); len++) {
			/* exactly len bytes, so ASan sees any over-read */
			char *copy = malloc(len ? len : 1), str[64];
			int expect = 0, got;

			memcpy(copy, n, len);
			for (k = 0; k < 3 && cases[i].match_at[k]; k++)
				if (strlen(cases[i].match_at[k]) == len)
					expect = 1;
			got = catalog_match(real, copy, len);
			T_EQ_INT(got >= 0, expect);
			snprintf(str, sizeof(str), "%.*s", (int)len, n);
			T_EQ_INT(got, ref_match(str));
			free(copy);
		}
	}
}

/* The hash table must agree with a linear reference on the real data. */
static void
test_against_reference(void)
{
	static const char *pre[] = { "", "zz.", "a.b.", "x", "-" };
	static const char *post[] = { "", ".", ".evil.example", "x", "." "." };
	char name[600];
	size_t i, p, q;
	int disagree = 0;

	if (real == NULL)
		return;
	T_CHECK(nrefs >= 70);
	for (i = 0; i < nrefs; i++) {
		const char *e = refs[i].name;
		const char *dot = strchr(e, '.');

		/* the entry itself always maps to its own service */
		T_EQ_INT(m(real, e), refs[i].svc);
		for (p = 0; p < sizeof(pre) / sizeof(pre[0]); p++)
			for (q = 0; q < sizeof(post) / sizeof(post[0]); q++) {
				snprintf(name, sizeof(name), "%s%s%s", pre[p],
				    e, post[q]);
				if (m(real, name) != ref_match(name)) {
					fprintf(stderr, "disagree: %s\n", name);
					disagree++;
				}
			}
		/* its parent, and an upper-cased copy */
		if (dot != NULL && m(real, dot + 1) != ref_match(dot + 1))
			disagree++;
		snprintf(name, sizeof(name), "%s", e);
		for (p = 0; name[p]; p++)
			if (name[p] >= 'a' && name[p] <= 'z')
				name[p] -= 32;
		if (m(real, name) != refs[i].svc)
			disagree++;
	}
	T_EQ_INT(disagree, 0);
}

/* Pseudo-random names built from catalog labels, against the reference. */
static void
test_random_names(void)
{
	static const char *labels[] = {
		"com", "ai", "chatgpt", "openai", "api", "x", "google",
		"gemini", "www", "chat", "sora", "", "COM", "deepseek",
		"mistral", "claude", "githubcopilot", "azure", "amazonaws",
		"bedrock-runtime", "us-east-1", "evil", "example",
	};
	unsigned int seed = 12345;
	char name[300];
	int i, j, disagree = 0;

	if (real == NULL)
		return;
	for (i = 0; i < 20000; i++) {
		int n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 5;
		size_t len = 0;

		for (j = 0; j < n; j++) {
			size_t k = ((seed = seed * 1103515245u + 12345u) >> 16) %
			    (sizeof(labels) / sizeof(labels[0]));

			len += (size_t)snprintf(name + len, sizeof(name) - len,
			    "%s%s", j ? "." : "", labels[k]);
		}
		if (m(real, name) != ref_match(name))
			disagree++;
	}
	T_EQ_INT(disagree, 0);
}

/* ---- bad catalogs: each error kind names the right line ---- */

#define HEAD								\
	"version = 1;\n"						\
	"services = (\n"						\
	"  { id = \"good\"; name = \"Good\"; vendor = \"V\";"		\
	" category = \"chat\"; jurisdiction = \"US\";\n"		\
	"    domains = [ \"good.example\" ]; hosts = [ ]; },\n"
#define SVC5(fields)	"  { id = \"bad\"; name = \"Bad\"; vendor = \"V\";" \
	" category = \"chat\"; jurisdiction = \"US\";\n" fields " }\n);\n"
#define DOM6(list)	SVC5("    domains = [ " list " ];")

static void
test_bad_catalogs(void)
{
	static const struct {
		const char	*text;
		int		 line;
		const char	*needle1, *needle2;
	} cases[] = {
		{ HEAD "  { id = \"bad\"; name = \"B\"; vendor = \"V\"; category"
		  " = \"chatbot\"; jurisdiction = \"US\";\n domains = [ \"b.ex"
		  "ample\" ]; }\n);\n", 5, "unknown category 'chatbot'",
		  "use one of chat, api, code" },
		{ HEAD "  { id = \"bad\"; name = \"B\"; vendor = \"V\"; category"
		  " = \"chat\"; jurisdiction = \"usa\";\n domains = [ \"b.exam"
		  "ple\" ]; }\n);\n", 5, "jurisdiction 'usa'", "\"other\"" },
		{ HEAD "  { id = \"good\"; name = \"B\"; vendor = \"V\"; category"
		  " = \"chat\"; jurisdiction = \"US\";\n domains = [ \"b.exampl"
		  "e\" ]; }\n);\n", 5, "duplicate service id 'good'", "line 3" },
		{ HEAD DOM6("\"b.example\", \"good.example\""), 6,
		  "'good.example' is listed by both service 'good' (line 4)",
		  "and service 'bad'" },
		{ HEAD SVC5("    hosts = [ \"GOOD.Example\" ];"), 6,
		  "'good.example' is listed by both", "'bad'" },
		{ HEAD DOM6("\"b.example\",\n \"b.example\""), 7,
		  "'b.example' is listed twice", "line 6" },
		{ HEAD SVC5("    domains = [ ]; hosts = [ ];"), 5,
		  "service 'bad' has no domains and no hosts", "add at least" },
		{ HEAD SVC5(""), 5, "no domains and no hosts", NULL },
		{ HEAD DOM6("\"*.b.example\""), 6, "'*.b.example'", "wildcard" },
		{ HEAD DOM6("\".b.example\""), 6, "starts with a dot", NULL },
		{ HEAD DOM6("\"b.example.\""), 6, "ends with a dot", NULL },
		{ HEAD DOM6("\"localhost\""), 6, "single label", NULL },
		{ HEAD DOM6("\"b..example\""), 6, "empty label", NULL },
		{ HEAD DOM6("\"b_x.example\""), 6, "contains '_'", NULL },
		{ HEAD DOM6("\"b x.example\""), 6, "contains ' '", NULL },
		{ HEAD DOM6("\"10.0.0.1\""), 6, "IP address", NULL },
		{ HEAD DOM6("\"-b.example\""), 6, "starting with '-'", NULL },
		{ HEAD DOM6("\"b-.example\""), 6, "ending in '-'", NULL },
		{ HEAD DOM6("\"b.example-\""), 6, "ending in '-'", NULL },
		{ HEAD DOM6("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaa.example\""), 6, "longer than 63", NULL },
		{ HEAD DOM6("\"\""), 6, "is empty", NULL },
		{ HEAD DOM6("1, 2"), 6, "must be a string", NULL },
		{ HEAD SVC5("    domains = \"b.example\";"), 6, "must be a list",
		  NULL },
		{ HEAD SVC5("    domain = [ \"b.example\" ];"), 6,
		  "unknown field 'domain'", "domains, hosts" },
		{ HEAD "  { id = \"bad\"; vendor = \"V\"; category = \"chat\"; "
		  "jurisdiction = \"US\";\n domains = [ \"b.example\" ]; }\n);\n",
		  5, "service 'bad': missing 'name'", "name = \"...\";" },
		{ HEAD "  { name = \"B\"; vendor = \"V\"; category = \"chat\"; "
		  "jurisdiction = \"US\";\n domains = [ \"b.example\" ]; }\n);\n",
		  5, "service #2: missing 'id'", NULL },
		{ HEAD "  { id = \"bad\"; name = 5; vendor = \"V\"; category = "
		  "\"chat\"; jurisdiction = \"US\";\n domains = [ \"b.example\" ]"
		  "; }\n);\n", 5, "'name' must be a string", NULL },
		{ HEAD "  { id = \"bad\"; name = \"\"; vendor = \"V\"; category ="
		  " \"chat\"; jurisdiction = \"US\";\n domains = [ \"b.example\" "
		  "]; }\n);\n", 5, "'name' is empty", NULL },
		{ HEAD "  { id = \"b_ad\"; name = \"B\"; vendor = \"V\"; category"
		  " = \"chat\"; jurisdiction = \"US\";\n domains = [ \"b.exampl"
		  "e\" ]; }\n);\n", 5, "service id 'b_ad' contains '_'", NULL },
		{ HEAD "  { id = \"Bad\"; name = \"B\"; vendor = \"V\"; category"
		  " = \"chat\"; jurisdiction = \"US\";\n domains = [ \"b.exampl"
		  "e\" ]; }\n);\n", 5, "must start with a lower-case letter",
		  NULL },
		{ HEAD "  { id = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "\"; name = \"B\"; vendor = \"V\"; category = \"chat\"; jurisd"
		  "iction = \"US\";\n domains = [ \"b.example\" ]; }\n);\n", 5,
		  "'id' is longer than 47", NULL },
		{ HEAD "  \"just a string\" );\n", 5, "service #2 is not a group",
		  NULL },
		/* libconfig's own errors carry its line */
		{ HEAD "  { id = \"bad\"; }\n  { id = \"c\"; }\n);\n", 6,
		  "syntax error", "separated by ','" },
		{ HEAD "  { id = \"bad\";\n    name = ;\n  }\n);\n", 6,
		  "syntax error", NULL },
		{ HEAD DOM6("\"b.example\", 5"), 6, "mismatched element type",
		  NULL },
		/* top level */
		{ "services = ( { id = \"a\"; } );\n", 0, "missing 'version = 1;'",
		  NULL },
		{ "version = 2;\nservices = ( );\n", 1, "unsupported catalog "
		  "version", NULL },
		{ "version = \"1\";\nservices = ( );\n", 1, "unsupported", NULL },
		{ "version = 1;\n", 0, "missing 'services", NULL },
		{ "version = 1;\nservices = ( );\n", 2, "'services' is empty",
		  NULL },
		{ "version = 1;\nservices = 5;\n", 2, "must be a list of groups",
		  NULL },
		{ "version = 1;\nservice = ( );\n", 2, "unknown setting "
		  "'service'", NULL },
		{ "", 0, "missing 'version", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfgerr err;
		struct catalog *c;
		char buf[1024], want[160];

		memset(&err, 0, sizeof(err));
		c = load_text(cases[i].text, &err);
		T_CHECK(c == NULL);
		catalog_free(c);
		if (err.line != cases[i].line ||
		    strstr(err.msg, cases[i].needle1) == NULL ||
		    (cases[i].needle2 != NULL &&
		    strstr(err.msg, cases[i].needle2) == NULL))
			fprintf(stderr, "case %zu: %s\n", i,
			    cfgerr_format(&err, buf, sizeof(buf)));
		T_EQ_INT(err.line, cases[i].line);
		T_CHECK(strstr(err.msg, cases[i].needle1) != NULL);
		if (cases[i].needle2 != NULL)
			T_CHECK(strstr(err.msg, cases[i].needle2) != NULL);
		/* the formatted message starts with file[:line]: */
		T_EQ_STR(err.file, tmp_path);
		if (cases[i].line > 0)
			snprintf(want, sizeof(want), "%s:%d: ", tmp_path,
			    cases[i].line);
		else
			snprintf(want, sizeof(want), "%s: ", tmp_path);
		cfgerr_format(&err, buf, sizeof(buf));
		T_CHECK(strncmp(buf, want, strlen(want)) == 0);
	}
}

static void
test_missing_file(void)
{
	struct cfgerr err;
	char buf[1024];

	T_CHECK(catalog_load("/nonexistent/catalog.conf", &err) == NULL);
	T_EQ_STR(err.file, "/nonexistent/catalog.conf");
	T_EQ_INT(err.line, 0);
	T_CHECK(strstr(err.msg, "cannot open the catalog") != NULL);
	T_CHECK(strncmp(cfgerr_format(&err, buf, sizeof(buf)),
	    "/nonexistent/catalog.conf: cannot open", 38) == 0);
	/* a NULL error pointer is allowed */
	T_CHECK(catalog_load("/nonexistent/catalog.conf", NULL) == NULL);
	T_CHECK(load_text("version = 2;\n", NULL) == NULL);
	T_CHECK(catalog_load(NULL, &err) == NULL);
}

/* Every prefix of a small valid catalog file fails cleanly or loads. */
static void
test_truncated_file(void)
{
	static const char *text =
	    "# comment\n"
	    "version = 1;\n"
	    "services = (\n"
	    "  { id = \"a\"; name = \"A\"; vendor = \"V\"; category = \"chat\";"
	    " jurisdiction = \"US\";\n"
	    "    domains = [ \"a.example\", \"b.example\" ];"
	    " hosts = [ \"h.c.example\" ]; },\n"
	    "  { id = \"b\"; name = \"B\"; vendor = \"V\"; category = \"api\";"
	    " jurisdiction = \"other\";\n"
	    "    hosts = [ \"api.a.example\" ]; }\n"
	    ");\n";
	size_t len, full = strlen(text), last_paren = strrchr(text, ')') - text;
	int bad = 0;

	for (len = 0; len <= full; len++) {
		const char *p = write_tmp(text, len);
		struct cfgerr err;
		struct catalog *c;

		memset(&err, 0, sizeof(err));
		c = catalog_load(p, &err);
		unlink(p);
		if (c == NULL && err.msg[0] == '\0')
			bad++;
		if (c != NULL && len <= last_paren)
			bad++;
		if (c == NULL && len > last_paren)
			bad++;
		if (c != NULL) {
			T_EQ_INT(catalog_count(c), 2);
			T_EQ_STR(mid(c, "x.a.example"), "a");
			T_EQ_STR(mid(c, "api.a.example"), "b");
			T_EQ_STR(mid(c, "h.c.example"), "a");
			T_EQ_STR(mid(c, "c.example"), "-1");
		}
		catalog_free(c);
	}
	T_EQ_INT(bad, 0);
}

static void
test_synthetic(void)
{
	struct catalog *c = catalog_synthetic(3000);
	const struct service *s;

	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_EQ_INT(catalog_count(c), 3000);
	T_EQ_INT(m(c, "svc0.example"), 0);
	T_EQ_INT(m(c, "svc2999.example"), 2999);
	T_EQ_INT(m(c, "a.b.SVC1234.example."), 1234);
	T_EQ_INT(m(c, "svc3000.example"), -1);
	T_EQ_INT(m(c, "xsvc12.example"), -1);
	T_EQ_INT(m(c, "example"), -1);
	s = catalog_service(c, 1234);
	T_CHECK(s != NULL);
	if (s != NULL) {
		T_EQ_STR(s->id, "svc-1234");
		T_EQ_STR(s->category, "other");
	}
	T_EQ_INT(catalog_find_id(c, "svc-2999"), 2999);
	for (int i = 0; i < 3000; i += 7) {
		char n[32];

		snprintf(n, sizeof(n), "www.svc%d.example", i);
		T_EQ_INT(m(c, n), i);
	}
	catalog_free(c);
	c = catalog_synthetic(0);
	T_CHECK(c != NULL);
	T_EQ_INT(catalog_count(c), 0);
	T_EQ_INT(m(c, "svc0.example"), -1);
	catalog_free(c);
	catalog_free(NULL);
}

static void
test_cfgerr(void)
{
	struct cfgerr e;
	char buf[64], big[2000];

	cfgerr_set(&e, "a.conf", 12, "bad %s", "thing");
	T_EQ_STR(cfgerr_format(&e, buf, sizeof(buf)), "a.conf:12: bad thing");
	cfgerr_set(&e, "a.conf", 0, "no line");
	T_EQ_STR(cfgerr_format(&e, buf, sizeof(buf)), "a.conf: no line");
	cfgerr_set(&e, "a.conf", -3, "negative");
	T_EQ_STR(cfgerr_format(&e, buf, sizeof(buf)), "a.conf: negative");
	cfgerr_set(&e, NULL, 7, "no file");
	T_EQ_STR(cfgerr_format(&e, buf, sizeof(buf)), "no file");
	cfgerr_set(NULL, "x", 1, "ignored");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cfgerr_set(&e, big, 1, "%s", big);
	T_EQ_INT(strlen(e.file), sizeof(e.file) - 1);
	T_EQ_INT(strlen(e.msg), sizeof(e.msg) - 1);
	T_EQ_INT(strlen(cfgerr_format(&e, buf, sizeof(buf))), sizeof(buf) - 1);
	T_EQ_STR(cfgerr_format(&e, buf, 0), "");
}

/* ---- issue 14: new services, check mode, local additions, diff ---- */

static void
test_new_services(void)
{
	static const struct {
		const char *name, *id;
	} cases[] = {
		{ "app.granola.ai", "granola" },
		{ "q.us-east-1.amazonaws.com", "amazon-q-developer" },
		{ "codewhisperer.us-east-1.amazonaws.com", "amazon-q-developer" },
		{ "integrate.api.nvidia.com", "nvidia-nim" },
		{ "api.studio.nebius.ai", "nebius-ai-studio" },
		{ "api.greenpt.ai", "greenpt" },
		{ "api.scaleway.ai", "scaleway-generative-apis" },
		{ "oai.endpoints.kepler.ai.cloud.ovh.net",
		  "ovhcloud-ai-endpoints" },
		{ "openai.inference.de-txl.ionos.com", "ionos-ai-model-hub" },
		{ "gateway.ai.cloudflare.com", "cloudflare-ai-gateway" },
		{ "antigravity.google", "google-antigravity" },
		{ "www.diabrowser.com", "dia-browser" },
		{ "alice.yandex.ru", "yandex-alice" },
		{ "yuanqi.tencent.com", "tencent-yuanqi" },
		{ "api.bfl.ai", "black-forest-labs" },
		{ "kiro.dev", "kiro" },
		/* shared parents stay unmatched */
		{ "nvidia.com", "-1" },
		{ "api.nvidia.com", "-1" },
		{ "us-east-1.amazonaws.com", "-1" },
		{ "s3.us-east-1.amazonaws.com", "-1" },
		{ "www.ionos.com", "-1" },
		{ "cloud.ovh.net", "-1" },
		{ "yandex.ru", "-1" },
		{ "www.tencent.com", "-1" },
		{ "nebius.com", "-1" },
		{ "vercel.sh", "-1" },
		{ "withgoogle.com", "-1" },
		{ "foo.alice.yandex.ru", "-1" },
	};
	size_t i;

	if (real == NULL)
		return;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(mid(real, cases[i].name), cases[i].id) != 0)
			fprintf(stderr, "%s -> %s, expected %s\n",
			    cases[i].name, mid(real, cases[i].name),
			    cases[i].id);
		T_EQ_STR(mid(real, cases[i].name), cases[i].id);
	}
}

struct collected {
	char	lines[16][1024];
	int	n;
};

static void
collect(const struct cfgerr *e, void *arg)
{
	struct collected *c = arg;
	char buf[1024];

	if (c->n < 16)
		snprintf(c->lines[c->n++], sizeof(c->lines[0]), "%s",
		    cfgerr_format(e, buf, sizeof(buf)));
}

/* Write text as dir/name; returns the path (static, reused). */
static const char *
put(const char *dir, const char *name, const char *text)
{
	static char path[32][512];
	static int k;
	char *p = path[k++ % 32];
	FILE *f;

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	if ((f = fopen(p, "w")) == NULL)
		return NULL;
	fputs(text, f);
	fclose(f);
	return p;
}

static char tdir[128];

static void
tdir_make(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/aicensus-test-catd-%d",
	    (int)getpid());
	mkdir(tdir, 0700);
}

static void
tdir_clean(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tdir);
}

#define SVC(id, cat, list)						\
	"  { id = \"" id "\"; name = \"N\"; vendor = \"V\";"		\
	" category = \"" cat "\"; jurisdiction = \"US\";\n"		\
	"    domains = [ " list " ]; hosts = [ ]; }"

static void
test_check_every_problem(void)
{
	struct collected c;
	const char *p, *paths[1];
	size_t n = 99;
	char want[600];
	int np;

	tdir_make();
	/* three broken services and one good one: every problem reported */
	p = put(tdir, "bad.conf", "version = 1;\nservices = (\n"
	    SVC("a", "chatbot", "\"a.example\"") ",\n"		/* 3 */
	    SVC("b", "chat", "\"a.example\"") ",\n"		/* 5, 6 */
	    SVC("c", "chat", "\"*.c.example\", \"c.example\"") ",\n" /* 8 */
	    SVC("d", "chat", "\"d.example\"") "\n);\n");
	paths[0] = p;
	memset(&c, 0, sizeof(c));
	np = catalog_check_files(paths, 1, collect, &c, &n);
	T_EQ_INT(np, 3);
	T_EQ_INT(c.n, 3);
	snprintf(want, sizeof(want), "%s:3: service 'a': unknown category "
	    "'chatbot' — use one of chat, api, code, image, audio, video, "
	    "writing, search, agent, other", p);
	T_EQ_STR(c.lines[0], want);
	snprintf(want, sizeof(want), "%s:6: 'a.example' is listed by both "
	    "service 'a' (line 4) and service 'b' — a name belongs to one "
	    "service: keep it in one of them", p);
	T_EQ_STR(c.lines[1], want);
	snprintf(want, sizeof(want), "%s:8: service 'c': domains entry "
	    "'*.c.example' contains a wildcard — write the bare domain in "
	    "`domains`, which already covers every subdomain", p);
	T_EQ_STR(c.lines[2], want);
	/* the loader proper still stops at the first */
	T_CHECK(catalog_load(p, NULL) == NULL);

	/* a syntax error is one problem; the next file is still read */
	paths[0] = put(tdir, "syntax.conf", "version = 1;\nservices = (\n"
	    "  { id = \"x\"; name = ; }\n);\n");
	memset(&c, 0, sizeof(c));
	{
		const char *two[2] = { paths[0], p };

		np = catalog_check_files(two, 2, collect, &c, NULL);
	}
	T_EQ_INT(np, 4);
	T_CHECK(strstr(c.lines[0], "syntax.conf:3: syntax error") != NULL);
	T_CHECK(strstr(c.lines[1], "bad.conf:3:") != NULL);

	/* every missing field of one service, not only the first */
	paths[0] = put(tdir, "fields.conf", "version = 1;\nservices = (\n"
	    "  { id = \"x\"; name = \"X\"; }\n);\n");
	memset(&c, 0, sizeof(c));
	T_EQ_INT(catalog_check_files(paths, 1, collect, &c, NULL), 4);
	T_CHECK(strstr(c.lines[0], "fields.conf:3: service 'x': missing "
	    "'vendor' — add vendor = \"...\";") != NULL);
	T_CHECK(strstr(c.lines[1], "missing 'category'") != NULL);
	T_CHECK(strstr(c.lines[2], "missing 'jurisdiction'") != NULL);
	T_CHECK(strstr(c.lines[3], "has no domains and no hosts") != NULL);

	/* the real catalog is clean */
	paths[0] = REAL_CATALOG;
	memset(&c, 0, sizeof(c));
	T_EQ_INT(catalog_check_files(paths, 1, collect, &c, &n), 0);
	T_EQ_INT(c.n, 0);
	T_EQ_INT(n, catalog_count(real));
	tdir_clean();
}

static void
test_local_additions(void)
{
	struct catalog *c;
	struct cfgerr e;
	char dir[256], want[1024], buf[1024], **files;
	const char *mainp, *lp;
	size_t n, base;

	tdir_make();
	mainp = put(tdir, "main.conf", "version = 1;\nservices = (\n"
	    SVC("alpha", "chat", "\"alpha.example\"") ",\n"
	    SVC("beta", "api", "\"beta.example\"") "\n);\n");
	snprintf(dir, sizeof(dir), "%s/catalog.d", tdir);
	mkdir(dir, 0700);
	base = 2;

	/* empty and missing directories: the catalog alone */
	c = catalog_load_all(mainp, dir, &e);
	T_CHECK(c != NULL);
	T_EQ_INT(catalog_count(c), base);
	catalog_free(c);
	c = catalog_load_all(mainp, "/nonexistent/catalog.d", &e);
	T_EQ_INT(catalog_count(c), base);
	catalog_free(c);
	c = catalog_load_all(mainp, NULL, &e);
	T_EQ_INT(catalog_count(c), base);
	catalog_free(c);

	/* two additions, read in name order; leftovers are not read */
	put(dir, "20-b.conf", "version = 1;\nservices = (\n"
	    SVC("corp-gw", "api", "\"llm.corp.example\"") "\n);\n");
	put(dir, "10-a.conf", "version = 1;\nservices = (\n"
	    /* a longer name under a catalog domain is allowed */
	    SVC("alpha-eu", "chat", "\"eu.alpha.example\"") "\n);\n");
	put(dir, ".hidden.conf", "garbage");
	put(dir, "x.conf.dpkg-old", "garbage");
	put(dir, "notes.txt", "garbage");
	T_EQ_INT(catalog_dir_files(dir, &files, &n, &e), 0);
	T_EQ_INT(n, 2);
	if (n == 2) {
		snprintf(want, sizeof(want), "%s/10-a.conf", dir);
		T_EQ_STR(files[0], want);
		snprintf(want, sizeof(want), "%s/20-b.conf", dir);
		T_EQ_STR(files[1], want);
	}
	catalog_files_free(files, n);
	c = catalog_load_all(mainp, dir, &e);
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_EQ_INT(catalog_count(c), base + 2);
		T_EQ_STR(catalog_service(c, base)->id, "alpha-eu");
		T_EQ_STR(catalog_service(c, base + 1)->id, "corp-gw");
		T_EQ_STR(mid(c, "x.llm.corp.example"), "corp-gw");
		T_EQ_STR(mid(c, "eu.alpha.example"), "alpha-eu");
		T_EQ_STR(mid(c, "www.alpha.example"), "alpha");
		T_EQ_STR(catalog_service_file(c, 0), mainp);
		snprintf(want, sizeof(want), "%s/20-b.conf", dir);
		T_EQ_STR(catalog_service_file(c, base + 1), want);
		T_EQ_INT(catalog_nfiles(c), 3);
	}
	catalog_free(c);

	/* an id of the catalog: refused, naming both files */
	lp = put(dir, "30-c.conf", "version = 1;\nservices = (\n"
	    SVC("beta", "api", "\"other.example\"") "\n);\n");
	T_CHECK(catalog_load_all(mainp, dir, &e) == NULL);
	snprintf(want, sizeof(want), "%s:3: duplicate service id 'beta' — "
	    "%s:5 already uses it; a local addition cannot replace or repeat "
	    "a service: give it an id of its own", lp, mainp);
	T_EQ_STR(cfgerr_format(&e, buf, sizeof(buf)), want);

	/* a name of the catalog: refused, naming both files */
	lp = put(dir, "30-c.conf", "version = 1;\nservices = (\n"
	    SVC("gamma", "api", "\"gamma.example\", \"BETA.example\"")
	    "\n);\n");
	T_CHECK(catalog_load_all(mainp, dir, &e) == NULL);
	snprintf(want, sizeof(want), "%s:4: 'beta.example' is listed by both "
	    "service 'beta' (%s:6) and service 'gamma' — a local addition "
	    "cannot take over a name the catalog already gives a service: "
	    "remove it here (a longer name under it is allowed)", lp, mainp);
	T_EQ_STR(cfgerr_format(&e, buf, sizeof(buf)), want);

	/* between two local files too */
	lp = put(dir, "30-c.conf", "version = 1;\nservices = (\n"
	    SVC("corp-gw", "api", "\"gw2.corp.example\"") "\n);\n");
	T_CHECK(catalog_load_all(mainp, dir, &e) == NULL);
	T_CHECK(strstr(e.msg, "20-b.conf:3 already uses it") != NULL);

	/* a broken local file fails the whole load (as the catalog would) */
	put(dir, "30-c.conf", "version = 1;\nservices = ( { id = \"z\" } );\n");
	T_CHECK(catalog_load_all(mainp, dir, &e) == NULL);
	T_CHECK(strstr(e.file, "30-c.conf") != NULL);
	unlink(lp);

	/* a directory that cannot be read is an error, not "no additions" */
	T_CHECK(catalog_load_all(mainp, mainp, &e) == NULL);
	T_CHECK(strstr(e.msg, "cannot read the local catalog directory") !=
	    NULL);
	tdir_clean();
}

static char *
diff_text(const char *a, const char *b, int *rc, char **warn)
{
	struct catalog *ca, *cb;
	struct cfgerr e;
	char *out = NULL;
	size_t len = 0, wlen = 0;
	FILE *fo, *fw;

	tdir_make();
	ca = catalog_load(put(tdir, "old.conf", a), &e);
	cb = catalog_load(put(tdir, "new.conf", b), &e);
	T_CHECK(ca != NULL && cb != NULL);
	fo = open_memstream(&out, &len);
	fw = open_memstream(warn, &wlen);
	*rc = catalog_diff(ca, cb, fo, fw, 1);
	fclose(fo);
	fclose(fw);
	catalog_free(ca);
	catalog_free(cb);
	tdir_clean();
	return out;
}

static void
test_diff(void)
{
	char *out, *warn;
	int rc;

	out = diff_text("version = 1;\nservices = (\n"
	    SVC("keep", "chat", "\"keep.example\"") ",\n"
	    SVC("edit", "chat", "\"e1.example\", \"e2.example\"") ",\n"
	    SVC("gone", "chat", "\"gone.example\"") ",\n"
	    SVC("old-name", "code", "\"moved.example\"") "\n);\n",
	    "version = 1;\nservices = (\n"
	    SVC("keep", "chat", "\"keep.example\"") ",\n"
	    "  { id = \"edit\"; name = \"N\"; vendor = \"V\";"
	    " category = \"writing\"; jurisdiction = \"EU\";\n"
	    "    domains = [ \"e1.example\" ]; hosts = [ \"h.e3.example\" ]; },\n"
	    SVC("new-name", "code", "\"moved.example\"") ",\n"
	    SVC("fresh", "api", "\"fresh.example\"") "\n);\n", &rc, &warn);
	T_EQ_INT(rc, 5);	/* edit changed; gone, old-name out; 2 in */
	T_EQ_STR(out,
	    "CHANGE\tSERVICE\tWHAT\tOLD\tNEW\n"
	    "changed\tedit\tcategory\tchat\twriting\n"
	    "changed\tedit\tjurisdiction\tUS\tEU\n"
	    "changed\tedit\tdomain\te2.example\t-\n"
	    "changed\tedit\thost\t-\th.e3.example\n"
	    "added\tfresh\tservice\t-\tN (V; api, US)\n"
	    "added\tfresh\tdomain\t-\tfresh.example\n"
	    "removed\tgone\tservice\tN (V; chat, US)\t-\n"
	    "removed\tgone\tdomain\tgone.example\t-\n"
	    "added\tnew-name\tservice\t-\tN (V; code, US)\n"
	    "added\tnew-name\tdomain\t-\tmoved.example\n"
	    "removed\told-name\tservice\tN (V; code, US)\t-\n"
	    "removed\told-name\tdomain\tmoved.example\t-\n");
	T_EQ_STR(warn,
	    "warning: service id 'gone' (N) is not in the new catalog: counts "
	    "collected under it stay in the database, but nothing more is "
	    "counted for it — keep the id if the service still exists\n"
	    "warning: service id 'old-name' (N) is not in the new catalog: "
	    "counts collected under it stay in the database, but nothing more "
	    "is counted for it; its names now belong to the new id "
	    "'new-name': if that is a rename, keep the old id instead\n"
	    "2 added, 2 removed, 1 changed, 4 services before, 4 after\n");
	free(out);
	free(warn);

	/* the same catalog: nothing but the header, 0 */
	out = diff_text("version = 1;\nservices = (\n"
	    SVC("keep", "chat", "\"keep.example\"") "\n);\n",
	    "version = 1;\nservices = (\n"
	    SVC("keep", "chat", "\"keep.example\"") "\n);\n", &rc, &warn);
	T_EQ_INT(rc, 0);
	T_EQ_STR(out, "CHANGE\tSERVICE\tWHAT\tOLD\tNEW\n");
	T_EQ_STR(warn, "0 added, 0 removed, 0 changed, 1 services before, "
	    "1 after\n");
	free(out);
	free(warn);
}

int
main(void)
{
	if (ref_load(REAL_CATALOG) == -1)
		fprintf(stderr, "cannot read %s: run from the repository "
		    "root\n", REAL_CATALOG);
	T_RUN(test_load_real);
	T_RUN(test_known_names);
	T_RUN(test_label_boundary);
	T_RUN(test_case_and_trailing_dot);
	T_RUN(test_exact_hosts);
	T_RUN(test_longest_match);
	T_RUN(test_lengths);
	T_RUN(test_prefixes);
	T_RUN(test_against_reference);
	T_RUN(test_random_names);
	T_RUN(test_bad_catalogs);
	T_RUN(test_missing_file);
	T_RUN(test_truncated_file);
	T_RUN(test_synthetic);
	T_RUN(test_cfgerr);
	T_RUN(test_new_services);
	T_RUN(test_check_every_problem);
	T_RUN(test_local_additions);
	T_RUN(test_diff);
	catalog_free(real);
	free(refs);
	return T_DONE();
}
