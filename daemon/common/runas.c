/*
 * runas.c - ask the kernel what the daemon's account may do with a path.
 *
 * The answer comes from faccessat(AT_EACCESS) made with that account's
 * credentials, not from reading mode bits here: ACLs, read-only mounts
 * and the search permission of every directory above count as they will
 * for the running daemon.  For another account than ours (root checking
 * for the service user) the call is made in a forked child that drops
 * to the account and reports errno as its exit status; the parent's
 * credentials never change.
 */
#include "common/runas.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* the child's exit status when it could not become the account */
#define RUNAS_NOSWITCH	255

int
runas_resolve(const char *user, struct runas *who)
{
	struct passwd *pw;

	memset(who, 0, sizeof(*who));
	if (geteuid() == 0 && user != NULL && user[0] != '\0') {
		errno = 0;
		if ((pw = getpwnam(user)) == NULL) {
			if (errno == 0)
				errno = ENOENT;
			return -1;
		}
		who->uid = pw->pw_uid;
		who->gid = pw->pw_gid;
		who->self = pw->pw_uid == geteuid() &&
		    pw->pw_gid == getegid();
		snprintf(who->name, sizeof(who->name), "%s", user);
		return 0;
	}
	who->uid = geteuid();
	who->gid = getegid();
	who->self = 1;
	if ((pw = getpwuid(who->uid)) != NULL)
		snprintf(who->name, sizeof(who->name), "%s", pw->pw_name);
	else
		snprintf(who->name, sizeof(who->name), "uid %u",
		    (unsigned)who->uid);
	return 0;
}

int
runas_access(const struct runas *who, const char *path, int mode)
{
	pid_t pid;
	int st;

	if (who->self)
		return faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0 ? 0 :
		    errno;
	if ((pid = fork()) == -1)
		return errno;
	if (pid == 0) {
		/* only async-signal-safe calls from here on */
		if (setgroups(1, &who->gid) != 0 ||
		    setresgid(who->gid, who->gid, who->gid) != 0 ||
		    setresuid(who->uid, who->uid, who->uid) != 0)
			_exit(RUNAS_NOSWITCH);
		if (faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0)
			_exit(0);
		_exit(errno > 0 && errno < RUNAS_NOSWITCH ? errno : EACCES);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st) == RUNAS_NOSWITCH)
		return EPERM;
	return WEXITSTATUS(st);
}

/* "aicensus (uid 995)" style owner text of a stat result */
static void
owner_text(const struct stat *sb, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(sb->st_uid);

	if (pw != NULL)
		snprintf(buf, len, "owned by %s, mode %04o", pw->pw_name,
		    (unsigned)(sb->st_mode & 07777));
	else
		snprintf(buf, len, "owned by uid %u, mode %04o",
		    (unsigned)sb->st_uid, (unsigned)(sb->st_mode & 07777));
}

/* the message for a directory that exists but cannot be written */
static int
not_writable(const struct runas *who, const char *dir, const struct stat *sb,
    int e, char *why, size_t whylen)
{
	char own[96];

	owner_text(sb, own, sizeof(own));
	if (e == EROFS)
		snprintf(why, whylen, "%s is on a read-only file system — "
		    "choose a directory on a writable one (under "
		    "aicensusd.service, whose ProtectSystem=strict leaves only "
		    "/var/lib/aicensus writable: add ReadWritePaths=%s in a "
		    "drop-in)", dir, dir);
	else if (runas_access(who, dir, X_OK) != 0)
		snprintf(why, whylen, "%s cannot be reached by user %s (a "
		    "directory on the way is closed to it) — open the "
		    "directories above it to %s, or choose another place",
		    dir, who->name, who->name);
	else
		snprintf(why, whylen, "%s is not writable by user %s (%s) — "
		    "chown %s %s, or choose a directory %s can write", dir,
		    who->name, own, who->name, dir, who->name);
	return -1;
}

int
runas_dir_writable(const struct runas *who, const struct runas *creator,
    const char *dir, char *why, size_t whylen)
{
	char parent[PATH_MAX];
	struct stat sb;
	char *slash;
	int e;

	if (stat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode)) {
			snprintf(why, whylen, "%s is not a directory", dir);
			return -1;
		}
		if ((e = runas_access(who, dir, W_OK | X_OK)) != 0)
			return not_writable(who, dir, &sb, e, why, whylen);
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (creator == NULL) {
		snprintf(why, whylen, "directory %s does not exist — create "
		    "it: install -d -o %s -m 0750 %s", dir, who->name, dir);
		return -1;
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	if ((slash = strrchr(parent, '/')) == NULL)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(parent, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
	    runas_access(creator, parent, W_OK | X_OK) != 0) {
		snprintf(why, whylen, "directory %s does not exist and user %s "
		    "cannot create it in %s — create it: install -d -o %s "
		    "-m 0700 %s", dir, creator->name, parent, who->name, dir);
		return -1;
	}
	return 0;
}
