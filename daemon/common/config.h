/*
 * config.h - the daemon's main configuration (config/aicensus.conf).
 *
 * config_load() parses and validates the whole file into a fresh struct
 * config; there is no global configuration.  Start-up, SIGHUP (load the
 * new one, swap only on success, free the old one when nothing uses it
 * any more) and `aicensusd -n` all go through it.  The first problem
 * stops loading and is reported in a struct cfgerr as file:line plus
 * what is wrong and how to fix it; nothing half-loaded is ever returned.
 *
 * Everything settable is validated here, including the capture filter
 * (compiled against a dead pcap handle) and the timezone (must exist
 * under /usr/share/zoneinfo).  Only what needs another file is left to
 * the caller: sanctioned service ids are checked against the catalog
 * with catalog_check_sanctioned(), the run-as user with getpwnam().
 *
 * The API token file (api.token_file) is read here too, so a missing,
 * unreadable, world-readable or weak token is a load error naming the
 * key, and a reload picks up a new token; only its SHA-256 is kept.
 * So is the central database's password file (central.password_file),
 * with the same kind of error; the password is kept, never printed.
 *
 * Relative paths (database, release_database, state_dir, catalog,
 * plugin_dir, the api and
 * report paths, and @include directives) are resolved against the directory of the
 * configuration file, so the result never depends on the working
 * directory; the struct holds absolute paths.
 *
 * A loaded struct config is immutable: any number of threads may read
 * it, including config_dept_of() and config_ignored().
 */
#ifndef AIC_CONFIG_H
#define AIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/cfgerr.h"
#include "common/dept.h"

#define CONFIG_PATH_MAX		1024
#define CONFIG_MAX_DEPTS	4096
#define CONFIG_DEPT_NAME_MAX	63
#define CONFIG_VLAN_MAX		4094
/* min_group_size below this may let a report single out a person. */
#define CONFIG_SAFE_GROUP_SIZE	5
/* The name reports use for traffic outside every department. */
#define CONFIG_UNASSIGNED	"unassigned"

/* A parsed address prefix, as written in the configuration. */
struct config_prefix {
	int		af;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* masked; IPv4 in the first 4 */
	unsigned	plen;
	int		line;		/* where it was written, 0 if unknown */
};

/*
 * Where a setting was written (for checks made after loading: the
 * catalog's ids, and what `aicensusd -n` and a start look at).
 */
struct config_loc {
	char		 file[CONFIG_PATH_MAX];	/* "" = not written */
	int		 line;
};

/* A string from a list, with where it was written (for late checks). */
struct config_item {
	char		*s;
	char		 file[CONFIG_PATH_MAX];
	int		 line;
};

struct config_dept {
	char			 name[CONFIG_DEPT_NAME_MAX + 1];
	struct config_prefix	*prefixes;
	size_t			 n_prefixes;
	int			*vlans;		/* 1..4094 */
	size_t			 n_vlans;
};

/* capture.client_address: which IP header of a tunnel names the client */
enum config_client_address {
	CONFIG_CLIENT_INNER = 0,	/* the tunnelled packet's (default) */
	CONFIG_CLIENT_OUTER = 1		/* the outermost IP header's */
};

struct config_capture {
	int		snaplen;	/* 256..262144 */
	int		buffer_mb;	/* 1..2048 */
	bool		promisc;
	bool		immediate;
	int		workers;	/* 1..64: capture threads (fanout) */
	char		*filter;	/* "" = the capture module's built-in */
	int		client_address;	/* enum config_client_address */
};

struct config_limits {
	int		max_flows;
	int		max_quic;
	int		dns_cache_entries;
	int		dns_cache_seconds;
	int		memory_mb;
	int		max_pending_cells;
};

/*
 * The HTTP API and dashboard (group api).  Off when the group is absent;
 * inside it enabled defaults to true and then token_file is required.
 * The token itself is never kept: only its SHA-256, which the API
 * compares in constant time with the SHA-256 of what a client presents.
 */
#define CONFIG_TOKEN_MIN	16	/* characters */
#define CONFIG_TOKEN_MAX	1024
/*
 * Where the API reads released figures (api.source): the release
 * database file, or the organisation's central release through the
 * central group's connection (a reader role; aicensusd --serve).
 */
enum config_api_source {
	CONFIG_API_LOCAL = 0,
	CONFIG_API_CENTRAL = 1
};
struct config_api {
	bool		enabled;
	char		listen[64];		/* "127.0.0.1:8080", "[::1]:8080" */
	char		host[46];		/* its address part, numeric */
	int		port;
	char		token_file[CONFIG_PATH_MAX];	/* "" when disabled */
	unsigned char	token_sha256[32];
	char		web_dir[CONFIG_PATH_MAX];	/* checked when served */
	int		source;			/* enum config_api_source */
	int		max_connections;	/* open at once; more: 503 */
};

/* Reports (group report): where they are written and who gets them. */
struct config_report {
	char		dir[CONFIG_PATH_MAX];
	char		mail_to[512];		/* "" = do not mail */
};

/*
 * Alerts (group alerts, out/alert.h): a new service or an unsanctioned
 * service above a share, from released figures only, to a webhook
 * (plain http://; https through a local relay) and/or by mail.  Off
 * while both webhook and mail_to are "".
 */
struct config_alerts {
	char		webhook[512];		/* "" = no webhook */
	char		mail_to[512];		/* "" = no mail */
	char		sendmail[CONFIG_PATH_MAX];
	bool		new_service;
	bool		new_service_per_department;
	int		shadow_share_percent;	/* 0 = off */
};

/*
 * The central database (group central, docs/CENTRAL.md): where the
 * sensor ships its site's per-cell figures.  The password is read from
 * password_file at load (0600 or 0400, owned by the daemon's user) and
 * kept here only; it is never printed, logged or part of conninfo.
 */
#define CONFIG_CENTRAL_PASS_MAX	256
#define CONFIG_SITE_MAX		63
struct config_central {
	char		conninfo[1024];		/* "" = no central database */
	char		password_file[CONFIG_PATH_MAX];	/* "" = none */
	char		site[CONFIG_SITE_MAX + 1];
	int		outbox_max_mb;
	char		password[CONFIG_CENTRAL_PASS_MAX];	/* "" = none */
};

struct config {
	char		path[CONFIG_PATH_MAX];	/* absolute; for reloads */
	char		dir[CONFIG_PATH_MAX];	/* its directory, absolute */

	char		interface[16];		/* "" = not set */
	char		database[CONFIG_PATH_MAX];
	/* released (perturbed) figures, the only file outputs read */
	char		release_database[CONFIG_PATH_MAX];
	char		state_dir[CONFIG_PATH_MAX];
	/* where state_dir was set ("" and 0 when by default), for -n */
	char		state_dir_file[CONFIG_PATH_MAX];
	int		state_dir_line;
	char		catalog[CONFIG_PATH_MAX];
	/* local additions: every *.conf in it, loaded after catalog */
	char		catalog_dir[CONFIG_PATH_MAX];
	char		plugin_dir[CONFIG_PATH_MAX];
	char		**plugins;
	int		*plugin_lines;		/* where each was written */
	size_t		n_plugins;
	char		user[33];		/* "" = do not drop privileges */
	bool		log_syslog;		/* false: stderr */
	int		log_level;		/* enum log_level (log.h) */
	int		flush_interval;		/* seconds */
	int		retention_days;
	int		min_group_size;
	bool		min_group_size_unsafe;	/* < CONFIG_SAFE_GROUP_SIZE */
	char		timezone[64];		/* "" = system */
	char		language[3];		/* "en" or "nl" */

	struct config_capture	capture;
	struct config_limits	limits;
	struct config_api	api;
	struct config_report	report;
	struct config_alerts	alerts;
	struct config_central	central;

	struct config_prefix	*ignore_prefixes;
	size_t			 n_ignore;
	struct config_item	*sanctioned;
	size_t			 n_sanctioned;
	char			**ech_public_names;	/* lower case */
	size_t			 n_ech_public_names;

	bool			 vlan_departments;
	struct config_dept	*departments;
	char			**dept_names;	/* -> departments[i].name */
	size_t			 n_depts;

	/* per row of config_keys(): where it was written (config_where) */
	struct config_loc	*locs;

	struct dept_map		*depts;		/* prefix -> department index */
	struct dept_map		*ignore;	/* prefix -> 0 */
	short			 vlan_dept[4096]; /* VLAN id -> index, -1 */
};

/* NULL on any error, with err (if not NULL) filled in. */
struct config	*config_load(const char *path, struct cfgerr *err);
void		 config_free(struct config *);

/*
 * Every setting with its effective value, in a fixed order, as a valid
 * configuration file that loads back to the same result (`-nv`).
 */
void	config_print(const struct config *, FILE *);

/*
 * Department index of a local address (and the VLAN it was seen on, or
 * -1/0 for untagged), or -1 for unassigned.  With vlan_departments the
 * VLAN's department wins over the address.
 */
int	config_dept_of(const struct config *, int af, const uint8_t *addr,
	    int vlan);

/* Non-zero when traffic from or to addr is not to be counted at all. */
int	config_ignored(const struct config *, int af, const uint8_t *addr);

/*
 * The settings, described once.  One row per key drives all three things
 * done with a key: checking (an unknown key is reported with the closest
 * row's name, or the section it belongs in), loading (type, bounds,
 * default, and the error message that names them) and printing (-v, in
 * row order).  Keys whose value is more than one scalar (lists, the
 * departments) keep a dedicated handler, named in their row.  The rows
 * are also the reference tests/e2e/config_table.sh holds the manual page
 * and the shipped example against (through tests/tools/cfgkeys).
 */
enum config_type {
	CFG_INT,	/* whole number in [min, max] */
	CFG_BOOL,	/* true / false */
	CFG_STRING,	/* "..." into a buffer of size bytes */
	CFG_PATH,	/* string, made absolute; "" is an error */
	CFG_OPTPATH,	/* string, made absolute unless "" (not set) */
	CFG_CHOICE,	/* one of choices[] (stored as its index) */
	CFG_LIST	/* [ ... ] or ( ... ): always a dedicated handler */
};

struct config_ctx;		/* one load in progress (config.c) */
struct config_setting_t;	/* libconfig's */

struct config_key {
	/* what the key is: the manual's words */
	const char	*section;	/* "" = aicensus itself, "capture",
					   "limits", "api", "report",
					   "alerts", "central",
					   "department" */
	const char	*name;
	enum config_type type;
	long long	 min, max;	/* CFG_INT */
	const char	*dflt;		/* as written in the file, unquoted;
					   NULL = required, no default */
	const char	*unit;		/* CFG_INT: what is counted */
	bool		 reloadable;	/* SIGHUP applies it */
	const char	*help;		/* one line */
	/* how it is held */
	size_t		 off;		/* in struct config */
	size_t		 size;		/* CFG_STRING/PATH buffer size */
	const char *const *choices;	/* CFG_CHOICE, NULL-terminated */
	/* optional: replaces the type's loader / runs after it / printer */
	int	(*load)(struct config_ctx *, const struct config_setting_t *,
		    const struct config_key *);
	int	(*check)(struct config_ctx *, const struct config_setting_t *,
		    const struct config_key *);
	void	(*print)(const struct config *, FILE *,
		    const struct config_key *, const char *indent);
};

/*
 * Calls fn for every key that SIGHUP does not apply (reloadable false)
 * whose value differs between old and new, so that a reload can say
 * which edits wait for a restart.  Department rows are not compared.
 */
void	config_restart_changes(const struct config *old,
	    const struct config *new,
	    void (*fn)(void *, const struct config_key *), void *arg);

/* The rows, in the order -v prints them. */
const struct config_key	*config_keys(size_t *n);
const char		*config_type_name(enum config_type);

/*
 * Where key section.name (section "" for aicensus itself, "api", ...)
 * was written: its line, and *file (if not NULL) the file, which may be
 * an @included one.  0 when it was not written (its default holds), with
 * *file the configuration's own path, so that an error about a default
 * still names the file to add the setting to.
 */
int	config_where(const struct config *, const char *section,
	    const char *name, const char **file);

/*
 * The name in names (NULL-terminated) closest to s, for a "did you mean"
 * in an error message; NULL when none is close.
 */
const char *config_closest(const char *s, const char *const *names);

#endif /* AIC_CONFIG_H */
