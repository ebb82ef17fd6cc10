/*
 * Applying the control plane's operations (dataplane/ops.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/ops.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/name.h"
#include "include/holdfast/ring.h"

/* A purge: drop every variant and type of a name, or of a subtree. */
static void apply_purge(struct hf_cache *cache, const struct hf_ring_msg *m, struct hf_ops_stats *st)
{
	union {
		struct hf_msg_purge p;
		uint8_t b[HF_MSG_PURGE_TS_LEN(HF_NAME_MAXLEN)];
	} u;
	struct hf_msg_purge *p = &u.p;
	if (m->len < HF_MSG_PURGE_LEN(1) || m->len > sizeof(u)) {
		st->unknown++;
		return;
	}
	memset(&u, 0, sizeof(u));
	memcpy(&u, m->data, m->len);
	/* The name comes from another process: check it before the cache walks with it.
	 * The message is the name alone or the name and its enqueue time. */
	bool has_ts = HF_MSG_PURGE_TS_LEN(p->name_len) == m->len;
	if ((!has_ts && HF_MSG_PURGE_LEN(p->name_len) != m->len) ||
	    hf_name_check(p->name, p->name_len) != p->name_len) {
		st->unknown++;
		return;
	}
	uint64_t enqueued = 0;
	if (has_ts)
		memcpy(&enqueued, u.b + HF_MSG_PURGE_LEN(p->name_len), sizeof(enqueued));
	uint64_t start = hf_shm_now_ns();
	uint64_t n = hf_cache_purge(cache, p->name, (p->flags & HF_PURGE_SUBTREE) != 0);
	uint64_t now = hf_shm_now_ns();
	st->last_work_ns = now - start;
	st->purged += n;
	st->purges++;
	st->last_seq = p->seq;
	/* Lookups stop finding the entries when hf_cache_purge() starts (its
	 * barrier); the walk that frees them comes after. */
	st->last_applied_ns = start;
	st->last_delay_ns = has_ts && enqueued && start >= enqueued ? start - enqueued : 0;

	char text[HF_NAME_TEXT_MAXLEN];
	if (hf_name_to_text(p->name, text, sizeof(text)) < 0)
		strcpy(text, "?");
	if (st->last_delay_ns)
		fprintf(stderr, "holdfast-dataplane: purge seq %u %s (%s): %llu entries, applied %.0f us after enqueue (freeing them took %.0f us)\n",
			p->seq, text, (p->flags & HF_PURGE_SUBTREE) ? "subtree" : "name",
			(unsigned long long)n, (double)st->last_delay_ns / 1e3, (double)st->last_work_ns / 1e3);
	else
		fprintf(stderr, "holdfast-dataplane: purge seq %u %s (%s): %llu entries, applied (freeing them took %.0f us)\n",
			p->seq, text, (p->flags & HF_PURGE_SUBTREE) ? "subtree" : "name",
			(unsigned long long)n, (double)st->last_work_ns / 1e3);
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
