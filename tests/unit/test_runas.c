/*
 * test_runas.c - what the daemon's account may do, asked as that account.
 *
 * As root (the suite runs as root) the checks are made for user nobody
 * in a forked child; whatever the user, they are made for ourselves too.
 * Directories are made in a fresh one under /tmp.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sched.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/runas.h"
#include "t.h"

static char dir[PATH_MAX];

static const char *
sub(const char *name)
{
	static char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void
test_resolve(void)
{
	struct runas who;

	/* no user, or not root: whoever runs it */
	T_EQ_INT(runas_resolve("", &who), 0);
	T_EQ_INT(who.self, 1);
	T_EQ_INT(who.uid, geteuid());
	T_EQ_INT(runas_resolve(NULL, &who), 0);
	T_EQ_INT(who.self, 1);
	if (geteuid() != 0) {
		/* a non-root daemon does not switch: user is not used */
		T_EQ_INT(runas_resolve("aicnouser", &who), 0);
		T_EQ_INT(who.self, 1);
		return;
	}
	T_EQ_INT(runas_resolve("aicnouser", &who), -1);
	T_EQ_INT(errno, ENOENT);
	T_EQ_INT(runas_resolve("nobody", &who), 0);
	T_EQ_INT(who.self, 0);
	T_EQ_INT(who.uid, getpwnam("nobody")->pw_uid);
	T_EQ_STR(who.name, "nobody");
	T_EQ_INT(runas_resolve("root", &who), 0);
	T_EQ_INT(who.self, 1);
}

/* ourselves: a directory without write permission, a missing one */
static void
test_self(void)
{
	struct runas me;
	char why[1024];

	T_EQ_INT(runas_resolve(NULL, &me), 0);
	T_EQ_INT(mkdir(sub("mine"), 0700), 0);
	T_EQ_INT(runas_access(&me, sub("mine"), W_OK | X_OK), 0);
	T_EQ_INT(runas_dir_writable(&me, NULL, sub("mine"), why,
	    sizeof(why)), 0);
	T_EQ_INT(runas_access(&me, sub("absent"), R_OK), ENOENT);
	/* missing: an error unless the daemon makes it, in a writable parent */
	T_EQ_INT(runas_dir_writable(&me, NULL, sub("absent"), why,
	    sizeof(why)), -1);
	T_CHECK(strstr(why, "does not exist — create it: install -d") != NULL);
	T_EQ_INT(runas_dir_writable(&me, &me, sub("absent"), why,
	    sizeof(why)), 0);
	T_EQ_INT(runas_dir_writable(&me, &me, sub("absent/deeper"), why,
	    sizeof(why)), -1);
	T_CHECK(strstr(why, "cannot create it in") != NULL);
	/* a file is not a directory */
	{
		FILE *fp = fopen(sub("file"), "w");

		T_CHECK(fp != NULL);
		if (fp != NULL)
			fclose(fp);
	}
	T_EQ_INT(runas_dir_writable(&me, NULL, sub("file"), why,
	    sizeof(why)), -1);
	T_CHECK(strstr(why, "is not a directory") != NULL);
	if (geteuid() == 0)
		return;		/* root writes a 0500 directory all the same */
	T_EQ_INT(chmod(sub("mine"), 0500), 0);
	T_EQ_INT(runas_access(&me, sub("mine"), W_OK), EACCES);
	T_EQ_INT(runas_dir_writable(&me, NULL, sub("mine"), why,
	    sizeof(why)), -1);
	T_CHECK(strstr(why, "is not writable by user") != NULL);
	chmod(sub("mine"), 0700);
}

/* as root for nobody: what root may, nobody may not */
static void
test_other(void)
{
	struct runas who, me;
	char why[1024], want[PATH_MAX + 200];

	if (geteuid() != 0 || runas_resolve("nobody", &who) != 0) {
		fprintf(stderr, "not root, or no user nobody: the checks for "
		    "another account are not made\n");
		T_CHECK(geteuid() != 0);
		return;
	}
	T_EQ_INT(runas_resolve(NULL, &me), 0);
	T_EQ_INT(chmod(dir, 0755), 0);
	T_EQ_INT(mkdir(sub("roots"), 0755), 0);
	T_EQ_INT(chmod(sub("roots"), 0755), 0);	/* whatever the umask */
	T_EQ_INT(runas_access(&me, sub("roots"), W_OK | X_OK), 0);
	T_EQ_INT(runas_access(&who, sub("roots"), X_OK), 0);
	T_EQ_INT(runas_access(&who, sub("roots"), W_OK), EACCES);
	T_EQ_INT(runas_dir_writable(&who, NULL, sub("roots"), why,
	    sizeof(why)), -1);
	snprintf(want, sizeof(want), "%s is not writable by user nobody "
	    "(owned by root, mode 0755) — chown nobody %s, or choose a "
	    "directory nobody can write", sub("roots"), sub("roots"));
	T_EQ_STR(why, want);
	/* handed over, or opened to all: fine */
	T_EQ_INT(chown(sub("roots"), who.uid, (gid_t)-1), 0);
	T_EQ_INT(runas_dir_writable(&who, NULL, sub("roots"), why,
	    sizeof(why)), 0);
	T_EQ_INT(chown(sub("roots"), 0, (gid_t)-1), 0);
	T_EQ_INT(chmod(sub("roots"), 01777), 0);
	T_EQ_INT(runas_dir_writable(&who, NULL, sub("roots"), why,
	    sizeof(why)), 0);
	/* a directory on the way closed to nobody */
	T_EQ_INT(chmod(sub("roots"), 0755), 0);
	T_EQ_INT(mkdir(sub("roots/in"), 0777), 0);
	T_EQ_INT(chmod(sub("roots/in"), 0777), 0);
	T_EQ_INT(runas_dir_writable(&who, NULL, sub("roots/in"), why,
	    sizeof(why)), 0);
	T_EQ_INT(chmod(sub("roots"), 0700), 0);
	T_EQ_INT(runas_access(&who, sub("roots/in"), W_OK), EACCES);
	T_EQ_INT(runas_dir_writable(&who, NULL, sub("roots/in"), why,
	    sizeof(why)), -1);
	T_CHECK(strstr(why, "cannot be reached by user nobody") != NULL);
	/* missing: root makes it (the daemon does, before dropping) */
	T_EQ_INT(runas_dir_writable(&who, &me, sub("roots/new"), why,
	    sizeof(why)), 0);
	T_EQ_INT(runas_dir_writable(&who, &who, sub("roots/new"), why,
	    sizeof(why)), -1);
	T_CHECK(strstr(why, "user nobody cannot create it in") != NULL);
	/* the parent's credentials did not change */
	T_EQ_INT(geteuid(), 0);
	T_EQ_INT(getuid(), 0);
}

/*
 * A read-only mount: root may not write there either, and the message
 * names the unit's ReadWritePaths=.  The mount is made in a child of
 * its own mount namespace, so the host never sees it.
 */
static void
test_readonly(void)
{
	struct runas me;
	char why[1024];
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		fprintf(stderr, "not root: no read-only mount is made\n");
		T_CHECK(geteuid() != 0);
		return;
	}
	T_EQ_INT(runas_resolve(NULL, &me), 0);
	T_EQ_INT(mkdir(sub("ro"), 0755), 0);
	if ((pid = fork()) == 0) {
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount("aic-ro", sub("ro"), "tmpfs", MS_RDONLY, NULL) != 0)
			_exit(3);
		if (runas_dir_writable(&me, NULL, sub("ro"), why,
		    sizeof(why)) != -1)
			_exit(1);
		if (strstr(why, "is on a read-only file system") == NULL ||
		    strstr(why, "ReadWritePaths=") == NULL)
			_exit(2);
		_exit(0);
	}
	T_CHECK(pid > 0);
	T_CHECK(waitpid(pid, &st, 0) == pid);
	T_CHECK(WIFEXITED(st));
	T_EQ_INT(WEXITSTATUS(st), 0);
	/* outside the child, the same directory is writable */
	T_EQ_INT(runas_dir_writable(&me, NULL, sub("ro"), why, sizeof(why)),
	    0);
}

int
main(void)
{
	char tmpl[] = "/tmp/aicensus_test_runas_XXXXXX";
	char cmd[PATH_MAX + 16];

	if (mkdtemp(tmpl) == NULL || realpath(tmpl, dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_resolve);
	T_RUN(test_self);
	T_RUN(test_other);
	T_RUN(test_readonly);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return T_DONE();
}
