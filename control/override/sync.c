/*
 * Operator store -> compiled rule set -> shm (control/override/sync.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/log.h"
#include "control/override/sync.h"
#include "include/holdfast/shm.h"

struct hf_ovr_sync {
	uv_timer_t retry;
	hf_ovr_sync_shm_fn get_shm;
	void *ctx;
	struct hf_ovr_image *current;   /* the newest set, kept for a re-attach */
	bool waiting;                   /* current not yet published into shm */
	uint64_t generation;
	/* Rule ids by index, and the hits already credited to the store, per generation. */
	uint32_t *ids, *pending_ids;
	uint64_t *credited;
	unsigned n_ids, n_pending_ids;
};

/* The store's enums run in the compiler's order, one lower (the compiler keeps 0 unused). */
_Static_assert(HF_OVERRIDE_EXACT + 1 == HF_OVR_EXACT && HF_OVERRIDE_REGEX + 1 == HF_OVR_REGEX,
	       "override kinds line up");
_Static_assert(HF_OVERRIDE_INSECURE + 1 == HF_OVR_INSECURE && HF_OVERRIDE_ANSWER + 1 == HF_OVR_ANSWER,
	       "override actions line up");

/* One rule as compiler input; answers points at caller-provided room for n_records. */
static void rule_in(const struct hf_override_rule *r, struct hf_ovr_rule_in *in,
		    struct hf_ovr_answer_in *answers)
{
	for (unsigned k = 0; k < r->n_records; k++)
		answers[k] = (struct hf_ovr_answer_in){
			.type = r->records[k].type, .ttl = r->ttl,
			.rdlen = r->records[k].rdlen, .rdata = r->records[k].rdata,
		};
	*in = (struct hf_ovr_rule_in){
		.id = r->id,
		.kind = (enum hf_ovr_kind)(r->kind + 1),
		.pattern = r->kind == HF_OVERRIDE_REGEX ? r->regex : r->pattern,
		.qtype = r->qtype,
		.action = (enum hf_ovr_action)(r->action + 1),
		.ede = r->ede < 0 ? HF_OVR_NO_EDE : (uint16_t)r->ede,
		.reason = r->reason,
		.expires = r->expires,
		.answers = answers,
		.n_answers = r->n_records,
	};
}

int hf_ovr_sync_validate(const struct hf_override_rule *rule, char *err, size_t err_size)
{
	struct hf_ovr_answer_in *answers = calloc(rule->n_records + 1, sizeof(*answers));
	if (answers == NULL)
		return -ENOMEM;
	struct hf_ovr_rule_in in;
	rule_in(rule, &in, answers);
	int rc = hf_ovr_validate(&in, err, err_size);
	free(answers);
	return rc;
}

static void on_retry(uv_timer_t *t);

static void try_publish(struct hf_ovr_sync *s)
{
	struct hf_shm *shm = s->get_shm(s->ctx);
	if (!s->waiting || shm == NULL || s->current == NULL)
		return;
	uint64_t gen = 0;
	int rc = hf_ovr_publish(shm, s->current, &gen);
	if (rc == -EAGAIN) {
		uv_timer_start(&s->retry, on_retry, HF_OVR_SYNC_RETRY_MS, 0);
		return;
	}
	s->waiting = false;
	if (rc < 0) {
		hf_log_error(SYSTEM, "override rules: cannot publish: %s", strerror(-rc));
		return;
	}
	s->generation = gen;
	free(s->ids);
	free(s->credited);
	s->ids = s->pending_ids;
	s->n_ids = s->n_pending_ids;
	s->pending_ids = NULL;
	s->credited = calloc(s->n_ids + 1, sizeof(*s->credited));
	hf_log_info(SYSTEM, "override rules: generation %llu published (%u rules)",
		    (unsigned long long)gen, s->current->n_rules);
}

static void on_retry(uv_timer_t *t)
{
	try_publish(t->data);
}

int hf_ovr_sync_update(struct hf_ovr_sync *s, const struct hf_override_store *rules, char *err,
		       size_t err_size)
{
	unsigned n = hf_override_count(rules), n_rec = 0;
	for (unsigned i = 0; i < n; i++)
		n_rec += hf_override_at(rules, i)->n_records;
	struct hf_ovr_rule_in *in = calloc(n + 1, sizeof(*in));
	struct hf_ovr_answer_in *answers = calloc(n_rec + 1, sizeof(*answers));
	struct hf_ovr_image *img = NULL;
	int rc = -ENOMEM;
	if (in == NULL || answers == NULL) {
		snprintf(err, err_size, "out of memory");
		goto out;
	}
	for (unsigned i = 0, a = 0; i < n; i++) {
		const struct hf_override_rule *r = hf_override_at(rules, i);
		rule_in(r, &in[i], answers + a);
		a += r->n_records;
	}
	rc = hf_ovr_compile(in, n, &img, err, err_size);
	if (rc < 0)
		goto out;
	/* The rules' index order in the set is the store's order: remember the ids. */
	free(s->pending_ids);
	s->pending_ids = calloc(n + 1, sizeof(*s->pending_ids));
	for (unsigned i = 0; s->pending_ids && i < n; i++)
		s->pending_ids[i] = hf_override_at(rules, i)->id;
	s->n_pending_ids = s->pending_ids ? n : 0;
	hf_ovr_image_free(s->current);
	s->current = img;
	s->waiting = true;
	try_publish(s);
out:
	free(in);
	free(answers);
	return rc;
}

void hf_ovr_sync_attach(struct hf_ovr_sync *s)
{
	/* A new region counts hits from zero for what we publish into it. */
	free(s->ids);
	free(s->credited);
	s->ids = NULL;
	s->credited = NULL;
	s->n_ids = 0;
	s->generation = 0;
	if (s->current) {
		s->waiting = true;
		try_publish(s);
	}
}

void hf_ovr_sync_collect(struct hf_ovr_sync *s, struct hf_override_store *rules)
{
	struct hf_shm *shm = s->get_shm(s->ctx);
	if (shm == NULL || s->ids == NULL || s->credited == NULL)
		return;
	struct hf_shm_override_hits *h = hf_shm_override_hits(shm);
	if (h == NULL || atomic_load_explicit(&h->generation, memory_order_acquire) != s->generation)
		return;
	uint64_t n = atomic_load_explicit(&h->n_rules, memory_order_relaxed);
	for (unsigned i = 0; i < s->n_ids && i < n; i++) {
		uint64_t hits = atomic_load_explicit(&h->hits[i], memory_order_relaxed);
		if (hits > s->credited[i]) {
			(void)hf_override_hit(rules, s->ids[i], hits - s->credited[i]);
			s->credited[i] = hits;
		}
	}
}

uint64_t hf_ovr_sync_generation(const struct hf_ovr_sync *s)
{
	return s->generation;
}

struct hf_ovr_sync *hf_ovr_sync_create(uv_loop_t *loop, hf_ovr_sync_shm_fn get_shm, void *ctx)
{
	struct hf_ovr_sync *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->get_shm = get_shm;
	s->ctx = ctx;
	if (uv_timer_init(loop, &s->retry) < 0) {
		free(s);
		return NULL;
	}
	s->retry.data = s;
	return s;
}

static void on_closed(uv_handle_t *h)
{
	struct hf_ovr_sync *s = h->data;
	hf_ovr_image_free(s->current);
	free(s->ids);
	free(s->pending_ids);
	free(s->credited);
	free(s);
}

void hf_ovr_sync_close(struct hf_ovr_sync *s)
{
	if (s)
		uv_close((uv_handle_t *)&s->retry, on_closed);
}
