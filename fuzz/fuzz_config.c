/*
 * fuzz_config.c - config_load() on the input as a configuration file.
 *
 * A file that loads must print (config_print, what `aicensusd -nv`
 * shows) as a configuration that loads again and prints the same: that
 * is what config.h promises.  Sanctioned ids are checked against the
 * shipped catalog, and the catalog the file names is loaded (it may be
 * anything: a directory, a device), as the daemon does after loading.
 */
#include "fuzz_tmp.h"
#include "detect/catalog.h"
#include "common/config.h"
#include "common/log.h"

static struct catalog *fcfg_cat;

int FUZZ_INIT(config)(int *argc, char ***argv);
int FUZZ_ONE(config)(const uint8_t *data, size_t size);

int
FUZZ_INIT(config)(int *argc, char ***argv)
{
	struct cfgerr e;

	(void)argc;
	(void)argv;
	log_init("fuzz", 0, LOG_LVL_ERROR);
	if (fcfg_cat == NULL &&
	    (fcfg_cat = catalog_load(FUZZ_SRCDIR "/config/catalog.conf",
	    &e)) == NULL) {
		fprintf(stderr, "fuzz_config: cannot load config/catalog.conf"
		    " (run from the source tree)\n");
		abort();
	}
	return 0;
}

/* config_print into *out, a malloc'd string of *len bytes. */
static void
fcfg_printed(const struct config *c, char **out, size_t *len)
{
	FILE *fp;

	*out = NULL;
	if ((fp = open_memstream(out, len)) == NULL)
		abort();
	config_print(c, fp);
	if (fclose(fp) != 0 || *out == NULL)
		abort();
}

int
FUZZ_ONE(config)(const uint8_t *data, size_t size)
{
	struct config *c, *again;
	struct catalog *cat;
	struct cfgerr e;
	char path[512], msg[1024], *p1, *p2, *b1, *b2;
	size_t l1, l2;

	if (fcfg_cat == NULL)
		FUZZ_INIT(config)(NULL, NULL);
	tmp_write("in.conf", data, size, path, sizeof(path));
	memset(&e, 0, sizeof(e));
	if ((c = config_load(path, &e)) == NULL) {
		cfgerr_format(&e, msg, sizeof(msg));
		FUZZ_ASSERT(msg[0] != '\0');
		tmp_done();
		return 0;
	}
	(void)catalog_check_sanctioned(fcfg_cat, c, &e);
	/* what the daemon loads next: the catalog the configuration names */
	if ((cat = catalog_load(c->catalog, &e)) != NULL) {
		(void)catalog_check_sanctioned(cat, c, &e);
		catalog_free(cat);
	}
	fcfg_printed(c, &p1, &l1);
	tmp_write("printed.conf", (const uint8_t *)p1, l1, path, sizeof(path));
	memset(&e, 0, sizeof(e));
	again = config_load(path, &e);
	if (again == NULL)
		fprintf(stderr, "printed configuration does not load: %s\n%s",
		    cfgerr_format(&e, msg, sizeof(msg)), p1);
	FUZZ_ASSERT(again != NULL);
	fcfg_printed(again, &p2, &l2);
	/* the first line names the file printed: skip it */
	b1 = memchr(p1, '\n', l1);
	b2 = memchr(p2, '\n', l2);
	FUZZ_ASSERT(b1 != NULL && b2 != NULL);
	if (l1 - (size_t)(b1 - p1) != l2 - (size_t)(b2 - p2) ||
	    memcmp(b1, b2, l1 - (size_t)(b1 - p1)) != 0)
		fprintf(stderr, "printed twice, differs:\n%s\n---\n%s", p1, p2);
	FUZZ_ASSERT(l1 - (size_t)(b1 - p1) == l2 - (size_t)(b2 - p2) &&
	    memcmp(b1, b2, l1 - (size_t)(b1 - p1)) == 0);
	free(p1);
	free(p2);
	config_free(again);
	config_free(c);
	tmp_done();
	return 0;
}
