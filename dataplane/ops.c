/*
 * Applying the control plane's operations (dataplane/ops.h).
 */
#include <string.h>

#include "dataplane/ops.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/name.h"
#include "include/holdfast/ring.h"

/* A purge: drop every variant and type of a name, or of a subtree. */
static void apply_purge(struct hf_cache *cache, const struct hf_ring_msg *m, struct hf_ops_stats *st)
{
	struct hf_msg_purge p;
	if (m->len < HF_MSG_PURGE_LEN(1) || m->len > sizeof(p)) {
		st->unknown++;
		return;
	}
	memset(&p, 0, sizeof(p));
	memcpy(&p, m->data, m->len);
	/* The name comes from another process: check it before the cache walks with it. */
	if (HF_MSG_PURGE_LEN(p.name_len) != m->len || hf_name_check(p.name, p.name_len) != p.name_len) {
		st->unknown++;
		return;
	}
	st->purged += hf_cache_purge(cache, p.name, (p.flags & HF_PURGE_SUBTREE) != 0);
	st->purges++;
}

unsigned hf_ops_poll(struct hf_shm *shm, struct hf_cache *cache, struct hf_ops_stats *stats)
{
	struct hf_ring *ring = hf_shm_ops_ring(shm);
	unsigned n = 0;
	const struct hf_ring_msg *m;
	while (n < HF_OPS_BURST && (m = hf_ring_peek(ring)) != NULL) {
		if (m->type == HF_MSG_PURGE)
			apply_purge(cache, m, stats);
		else
			stats->unknown++;
		hf_ring_release(ring, 1);
		n++;
	}
	return n;
}
