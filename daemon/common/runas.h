/*
 * runas.h - what the account the daemon will run as may do with a path.
 *
 * `aicensusd -n` is usually run by root on behalf of the service, whose
 * account is another: root may write anywhere, the service may not.  So
 * a check of "can the database directory be written" asks the kernel as
 * that account: in a forked child that takes on its uid and group (as
 * drop_privileges() in aicensusd.c does: primary group only) and calls
 * faccessat(), so modes, ACLs and read-only mounts all count.  When the
 * account is this process's own, no child is needed.
 */
#ifndef AIC_RUNAS_H
#define AIC_RUNAS_H

#include <stddef.h>
#include <sys/types.h>

struct runas {
	uid_t	uid;
	gid_t	gid;
	int	self;		/* this process's own credentials */
	char	name[33];	/* for messages: "aicensus", "root" */
};

/*
 * Who the daemon will be: the configured user when started as root with
 * user set (it drops to it), else whoever runs it (under systemd,
 * User= starts it as the service user and `user` is not used).  0, or
 * -1 when user is set and does not exist (errno ENOENT) or the account
 * database cannot be read.
 */
int	runas_resolve(const char *user, struct runas *);

/*
 * 0 when who may access path with mode (R_OK, W_OK, X_OK, as for
 * access(2)), else an errno value (EACCES, EROFS, ENOENT, ...).
 */
int	runas_access(const struct runas *who, const char *path, int mode);

/*
 * A directory the daemon writes into (a database's, the state or
 * report directory): 0 when it exists and who may create files in it.
 * When it does not exist: 0 when creator (not NULL: the daemon makes it
 * itself, as that account) may create it, its parent existing and
 * writable.  Otherwise -1 with why filled in: the problem and the fix
 * ("... is not writable by user aicensus (owned by root, mode 0755) —
 * chown aicensus DIR, ...").
 */
int	runas_dir_writable(const struct runas *who,
	    const struct runas *creator, const char *dir, char *why,
	    size_t whylen);

#endif /* AIC_RUNAS_H */
