/*
 * Test helper: a shared-memory region with both ends in this process, the
 * dataplane's (created) and the control plane's (attached), and the calling
 * thread registered with RCU (QSBR) as the dataplane's threads are.
 */
#pragma once

#include <stdio.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include "include/holdfast/shm.h"

struct shm_pair {
	struct hf_shm *dp;  /* the dataplane's end */
	struct hf_shm *cp;  /* the control plane's end */
	char instance[32];  /* to attach again, as a restarted control plane */
};

/* A region of one worker named tag + pid; 0, or -1 with the reason on stderr. */
static inline int shm_pair_open(struct shm_pair *p, const char *tag)
{
	char err[256];

	snprintf(p->instance, sizeof(p->instance), "%s%d", tag, (int)getpid());
	if (hf_shm_create(p->instance, 1, &p->dp, err, sizeof(err)) < 0 ||
	    hf_shm_attach(p->instance, &p->cp, err, sizeof(err)) < 0) {
		fprintf(stderr, "shm: %s\n", err);
		return -1;
	}
	urcu_qsbr_register_thread();
	return 0;
}

static inline void shm_pair_close(struct shm_pair *p)
{
	urcu_qsbr_unregister_thread();
	hf_shm_detach(p->cp);
	hf_shm_destroy(p->dp);
}
