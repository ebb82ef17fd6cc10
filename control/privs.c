/*
 * Dropping privileges; see control/privs.h for the rule.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/privs.h"

int hf_privs_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc;

	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (rc != 0)
		return -rc;
	if (!res)
		return -ENOENT;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int hf_privs_drop(const char *user, char *err, size_t err_size)
{
	uid_t uid;
	gid_t gid;
	int rc;

	if (!user || !*user)
		return 0;
	rc = hf_privs_lookup(user, &uid, &gid);
	if (rc < 0) {
		snprintf(err, err_size, "user '%s': %s", user,
			 rc == -ENOENT ? "no such user" : strerror(-rc));
		return rc;
	}
	if (geteuid() != 0) {
		/* Started as that user already (systemd User=): nothing to drop. */
		if (getuid() == uid && geteuid() == uid)
			return 0;
		snprintf(err, err_size, "cannot switch to user '%s': not running as root", user);
		return -EPERM;
	}
	/* Groups first: once the uid is dropped, they can no longer change. */
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		rc = -errno;
		snprintf(err, err_size, "cannot switch to user '%s': %s", user, strerror(errno));
		return rc;
	}
	/* setuid() from root sets all three uids; make sure no saved id lets
	 * us back (a capability left by a container runtime, say). */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, err_size, "switched to user '%s' but could become root again", user);
		return -EPERM;
	}
	if (gid != 0 && (setgid(0) == 0 || setegid(0) == 0)) {
		snprintf(err, err_size, "switched to user '%s' but could regain group 0", user);
		return -EPERM;
	}
	return 0;
}
