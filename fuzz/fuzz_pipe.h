/*
 * fuzz_pipe.h - the real pipeline for the reassembly targets.
 *
 * The configuration (tests/data/inspect.conf: the shipped catalog, no
 * departments) and the catalog are loaded once, with lowered limits
 * (the pipeline only reads them).  A new pipeline costs a few
 * milliseconds (its 1024 stream buffers are 8 MB of fresh pages), so a
 * pipeline serves PIPE_RENEW inputs in turn and every input is kept
 * apart from the ones before: its own client address (10.10.k.7), and
 * a clock started k weeks after Monday 2026-11-16 08:00 UTC, so flows,
 * QUIC connections and DNS answers of earlier inputs are long idle and
 * every period boundary falls at the same place in every input.  After
 * each input idle flows are expired and the aggregates cleared.  The
 * first input of a process (and every input of the regression replay,
 * where PIPE_RENEW is 1) meets a fresh pipeline, so a saved input
 * replays alone exactly as it ran.
 *
 * Every detection the pipeline reports through the inspect callback is
 * checked for sane fields; FUZZ_DEBUG=1 prints them.
 *
 * pipe_swap() is a reload (SIGHUP) in the middle of the traffic: the
 * pipeline is re-keyed to a second catalog that keeps some services
 * (in another order), drops the others and adds one, and back again
 * before the input ends.
 */
#ifndef AIC_FUZZ_PIPE_H
#define AIC_FUZZ_PIPE_H

#include <unistd.h>

#include "fuzz.h"
#include "aggregate/agg.h"
#include "detect/catalog.h"
#include "common/config.h"
#include "common/log.h"
#include "aggregate/pipeline.h"
#include "attribute/weekkey.h"

/* Monday 2026-11-16 08:00:00 UTC */
#define PIPE_T0		(1794816000ull * 1000000)
#define PIPE_WEEK	(7ull * 86400 * 1000000)
#ifdef FUZZ_REGRESS
#define PIPE_RENEW	1
#else
#define PIPE_RENEW	200
#endif

static struct config	*pipe_loaded;
static struct config	 pipe_cfg;
static struct catalog	*pipe_cat, *pipe_alt;	/* shipped, reloaded */
static const struct catalog *pipe_cur;		/* in force */
static struct weekkey	*pipe_dk;
static struct agg	*pipe_agg;
static struct pipeline	*pipe_P;
static unsigned		 pipe_k;	/* inputs served by pipe_P */
static size_t		 pipe_detections;
static int		 pipe_debug;	/* FUZZ_DEBUG set: print detections */

/* The catalog a reload brings: two kept, reordered, one new. */
static struct catalog *
pipe_alt_catalog(void)
{
	static const char text[] = "version = 1;\nservices = (\n"
	    " { id = \"new-service\"; name = \"New\"; vendor = \"V\";"
	    " category = \"chat\"; jurisdiction = \"US\";"
	    " domains = [ \"gemini.google.com\", \"svc.example\" ]; },\n"
	    " { id = \"anthropic-claude\"; name = \"Claude\"; vendor = \"A\";"
	    " category = \"chat\"; jurisdiction = \"US\";"
	    " domains = [ \"claude.ai\" ]; },\n"
	    " { id = \"openai-chatgpt\"; name = \"ChatGPT\"; vendor = \"O\";"
	    " category = \"chat\"; jurisdiction = \"US\";"
	    " domains = [ \"chatgpt.com\" ]; }\n);\n";
	char path[] = "/tmp/aicensus-fuzz-catalog-XXXXXX";
	struct catalog *cat;
	struct cfgerr e;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, sizeof(text) - 1) !=
	    (ssize_t)(sizeof(text) - 1) || close(fd) != 0)
		abort();
	cat = catalog_load(path, &e);
	unlink(path);
	if (cat == NULL) {
		fprintf(stderr, "fuzz: reload catalog: %s\n", e.msg);
		abort();
	}
	return cat;
}

static FUZZ_UNUSED void
pipe_init(void)
{
	struct cfgerr e;
	char err[256];

	if (pipe_loaded != NULL)
		return;
	memset(&e, 0, sizeof(e));
	if ((pipe_loaded = config_load(FUZZ_SRCDIR "/tests/data/inspect.conf",
	    &e)) == NULL || (pipe_cat = catalog_load(pipe_loaded->catalog,
	    &e)) == NULL) {
		fprintf(stderr, "fuzz: cannot load tests/data/inspect.conf or "
		    "its catalog (run from the source tree)\n");
		abort();
	}
	if ((pipe_dk = weekkey_open(NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz: weekkey: %s\n", err);
		abort();
	}
	pipe_alt = pipe_alt_catalog();
	pipe_cur = pipe_cat;
	pipe_debug = getenv("FUZZ_DEBUG") != NULL;
	pipe_cfg = *pipe_loaded;
	pipe_cfg.limits.max_flows = 64;
	pipe_cfg.limits.max_quic = 8;
	pipe_cfg.limits.dns_cache_entries = 64;
}

static void
pipe_on_detection(void *arg, const struct detection *d)
{
	size_t *n = arg;

	FUZZ_ASSERT(d->detector != NULL && d->what != NULL &&
	    d->outcome != NULL && d->name != NULL);
	FUZZ_ASSERT(d->name_len <= 255 && strlen(d->name) <= d->name_len);
	FUZZ_ASSERT(d->service == NULL ||
	    catalog_find_id(pipe_cur, d->service) >= 0);
	if (pipe_debug)
		fprintf(stderr, "detection: %s %s \"%s\" %s %s\n", d->detector,
		    d->what, d->name, d->service ? d->service : "-",
		    d->outcome);
	(*n)++;
}

/* The pipeline for the next input, and the time that input starts at. */
static FUZZ_UNUSED struct pipeline *
pipe_start(uint64_t *t0)
{
	char err[256];

	pipe_init();
	if (pipe_P == NULL || pipe_k >= PIPE_RENEW) {
		pipeline_free(pipe_P);
		agg_free(pipe_agg);
		pipe_agg = agg_new(4096, (size_t)64 << 20);
		if (pipe_agg == NULL || (pipe_P = pipeline_new(&pipe_cfg,
		    pipe_cat, pipe_agg, pipe_dk, err, sizeof(err))) == NULL) {
			fprintf(stderr, "fuzz: pipeline: %s\n", err);
			abort();
		}
		pipeline_set_inspect(pipe_P, pipe_on_detection,
		    &pipe_detections);
		pipe_k = 0;
	}
	fuzz_cli[2] = (uint8_t)pipe_k;
	*t0 = PIPE_T0 + pipe_k * PIPE_WEEK;
	pipe_k++;
	return pipe_P;
}

/* A reload: to the other catalog, or back (to_alt = 0). */
static FUZZ_UNUSED void
pipe_swap(int to_alt)
{
	const struct catalog *next = to_alt ? pipe_alt : pipe_cat;

	if (next == pipe_cur)
		return;
	(void)pipeline_reconfigure(pipe_P, &pipe_cfg, next);
	pipe_cur = next;
}

/* After the input's last packet (at now). */
static FUZZ_UNUSED void
pipe_end(uint64_t now)
{
	pipe_swap(0);
	pipeline_tick(pipe_P, now + 86400ull * 1000000);
	FUZZ_ASSERT(pipeline_mem(pipe_P) > 0);
	agg_clear(pipe_agg);
}

#endif /* AIC_FUZZ_PIPE_H */
