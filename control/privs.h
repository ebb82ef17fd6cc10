/*
 * Dropping root privileges after start-up (instance.user).
 *
 * holdfast-control starts as root only to bind the DNS-over-TCP listeners
 * on port 53; it then becomes instance.user for good (supplementary groups,
 * group and user, in that order, since each step needs the privilege the
 * next one removes) and checks that root cannot be regained. If the drop
 * fails, the process refuses to run on as root.
 *
 * Deployment rule for the shared-memory region (mode 0600; attach requires
 * that this process's effective uid own it): the region is owned by
 * instance.user. The control plane attaches only after dropping privileges,
 * on its first attach and on every re-attach after a dataplane restart, so
 * the rule is checked the same way every time:
 *  - instance.user empty: both processes run as the same user (the
 *    dataplane's creator owns the region, the control plane keeps its uid);
 *  - instance.user set: the dataplane creates the region and chowns it to
 *    instance.user (it stays root for DPDK; see the report to the lead:
 *    hf_shm_create() needs an owner argument, or dataplane/main.c an
 *    fchown). Until it does, attach fails with -EPERM, which the control
 *    plane logs once with this rule and keeps retrying.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/*!
 * \brief Look up a user's uid and primary gid.
 * \return 0, -ENOENT if there is no such user, or another negative errno.
 */
int hf_privs_lookup(const char *user, uid_t *uid, gid_t *gid);

/*!
 * \brief Become user for good: setgroups, setgid, setuid, then check that
 *        neither uid nor gid 0 can be regained.
 *
 * \param user  user name; NULL or "" keeps the current identity (returns 0).
 * \param err   receives a one-line reason on failure.
 * \return 0; -ENOENT (no such user); -EPERM (not root and not already that
 *         user, or root could be regained afterwards); another negative errno
 *         from the system calls.
 */
int hf_privs_drop(const char *user, char *err, size_t err_size);
