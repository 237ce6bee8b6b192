/*
 * fuzz_catalog.c - catalog_load() on the input as a catalog file, then
 * every loaded service's fields and a few matches: each service id is
 * found by catalog_find_id(), and names (a loaded domain's subdomains
 * among them) match without reading past their length.
 */
#include "fuzz_tmp.h"
#include "detect/catalog.h"
#include "common/log.h"

int FUZZ_INIT(catalog)(int *argc, char ***argv);
int FUZZ_ONE(catalog)(const uint8_t *data, size_t size);

int
FUZZ_INIT(catalog)(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 0, LOG_LVL_ERROR);
	return 0;
}

static size_t
fcat_bounded(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	FUZZ_ASSERT(n < cap);
	return n;
}

int
FUZZ_ONE(catalog)(const uint8_t *data, size_t size)
{
	static const char *names[] = {
		"chatgpt.com", "ab.chatgpt.com.", "notchatgpt.com", "claude.ai",
		"a..b", ".", "", "x.example", "CHATGPT.COM"
	};
	struct catalog *cat;
	struct cfgerr e;
	char path[512], msg[1024];
	size_t i, n;

	tmp_write("catalog.conf", data, size, path, sizeof(path));
	memset(&e, 0, sizeof(e));
	cat = catalog_load(path, &e);
	tmp_done();
	if (cat == NULL) {
		cfgerr_format(&e, msg, sizeof(msg));
		FUZZ_ASSERT(msg[0] != '\0');
		return 0;
	}
	n = catalog_count(cat);
	for (i = 0; i < n; i++) {
		const struct service *s = catalog_service(cat, i);

		FUZZ_ASSERT(s != NULL);
		FUZZ_ASSERT(fcat_bounded(s->id, sizeof(s->id)) > 0);
		fcat_bounded(s->name, sizeof(s->name));
		fcat_bounded(s->vendor, sizeof(s->vendor));
		fcat_bounded(s->category, sizeof(s->category));
		fcat_bounded(s->jurisdiction, sizeof(s->jurisdiction));
		FUZZ_ASSERT(catalog_find_id(cat, s->id) == (int)i);
	}
	FUZZ_ASSERT(catalog_service(cat, n) == NULL);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int k = catalog_match(cat, names[i], strlen(names[i]));

		FUZZ_ASSERT(k >= -1 && k < (int)n);
	}
	/* the input itself as a name, cut at 300 bytes */
	n = size < 300 ? size : 300;
	FUZZ_ASSERT(catalog_match(cat, (const char *)data, n) <
	    (int)catalog_count(cat));
	catalog_free(cat);
	return 0;
}
