/*
 * Operator commands applied to the resolver and the dataplane (operator.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/ctl/nta.h"
#include "control/log.h"
#include "control/metrics.h"
#include "control/operator.h"
#include "control/override/sync.h"
#include "include/holdfast/name.h"
#include "include/holdfast/shm.h"

struct purge {
	uint8_t name[HF_NAME_MAXLEN];
	bool subtree;
};

struct hf_operator {
	uv_loop_t *loop;
	struct hf_operator_config cfg;
	struct hf_ctl_server *ctl;
	struct hf_link *link;
	uv_timer_t retry;          /* purges waiting for the ops ring */
	uv_timer_t recheck;        /* NTA'd zones tested */
	uv_timer_t hits;           /* override hit counts collected from the dataplane */
	unsigned open_handles;
	unsigned n_waiting;
	struct purge waiting[HF_OPERATOR_PURGE_BACKLOG];
	struct hf_ovr_sync *ovr;
	uint64_t purges, purge_drops, rechecks, recheck_secure;
	unsigned probes_in_flight;
};

/* One probe of an NTA'd zone; outlives neither the operator nor the resolver. */
struct probe {
	struct hf_operator *op;
	uint8_t zone[HF_NAME_MAXLEN];
};

static bool nta_lookup(void *ctx, const uint8_t *name, uint8_t *zone, char *reason, size_t size)
{
	struct hf_operator *op = ctx;
	const struct hf_nta *nta = hf_nta_find(hf_ctl_server_ntas(op->ctl), name);
	if (nta == NULL)
		return false;
	memcpy(zone, nta->zone, hf_name_len(nta->zone));
	snprintf(reason, size, "%s", nta->reason);
	return true;
}

static void on_retry(uv_timer_t *t);

/* Queue what the ring cannot take now; keep order (a purge is idempotent, so a duplicate is harmless). */
static void purge_dataplane(struct hf_operator *op, const uint8_t *name, bool subtree)
{
	op->purges++;
	if (op->link == NULL)
		return;
	if (op->n_waiting == 0) {
		int rc = hf_link_purge(op->link, name, subtree);
		if (rc == 0 || rc == -ENOTCONN)
			return;
	}
	if (op->n_waiting == HF_OPERATOR_PURGE_BACKLOG) {
		/* Out of room: purge everything instead, once the ring has space. */
		op->purge_drops++;
		op->n_waiting = 1;
		op->waiting[0] = (struct purge){ .name = { 0 }, .subtree = true };
	} else {
		struct purge *p = &op->waiting[op->n_waiting++];
		memcpy(p->name, name, hf_name_len(name));
		p->subtree = subtree;
	}
	uv_timer_start(&op->retry, on_retry, HF_OPERATOR_RETRY_MS, 0);
}

static void on_retry(uv_timer_t *t)
{
	struct hf_operator *op = t->data;
	unsigned done = 0;
	while (done < op->n_waiting) {
		int rc = hf_link_purge(op->link, op->waiting[done].name, op->waiting[done].subtree);
		if (rc == -ENOBUFS)
			break;
		done++;  /* queued, or nothing to purge (detached), or a bad name */
	}
	memmove(op->waiting, op->waiting + done, (op->n_waiting - done) * sizeof(op->waiting[0]));
	op->n_waiting -= done;
	if (op->n_waiting > 0)
		uv_timer_start(&op->retry, on_retry, HF_OPERATOR_RETRY_MS, 0);
}

static void hook_nta_changed(void *ctx, const uint8_t *zone, bool added)
{
	struct hf_operator *op = ctx;
	char text[HF_NAME_TEXT_MAXLEN];
	hf_name_to_text(zone, text, sizeof(text));
	/* Cached answers, failures and verdicts below the zone were made under the old rule. */
	hf_resolver_flush(op->cfg.resolver, zone);
	purge_dataplane(op, zone, true);
	hf_log_info(SYSTEM, "negative trust anchor %s %s: caches purged below it", text,
		    added ? "set" : "gone");
}

static int hook_cache_flush(void *ctx, const uint8_t *name, bool subtree, char *err, size_t err_size)
{
	struct hf_operator *op = ctx;
	static const uint8_t root[1] = { 0 };
	if (name == NULL) {
		name = root;
		subtree = true;
	}
	if (hf_name_check(name, HF_NAME_MAXLEN) < 0) {
		snprintf(err, err_size, "not a valid name");
		return -EINVAL;
	}
	/* The resolver's cache is flushed below the name either way: it is cheap to refill. */
	hf_resolver_flush(op->cfg.resolver, name);
	purge_dataplane(op, name, subtree);
	return 0;
}

static void hook_overrides_changed(void *ctx, const struct hf_override_store *rules)
{
	struct hf_operator *op = ctx;
	char err[512];
	if (hf_ovr_sync_update(op->ovr, rules, err, sizeof(err)) < 0)
		hf_log_error(SYSTEM, "override rules not applied: %s", err);
	/* An "insecure" rule changes validation: answers cached before it must go. */
	for (unsigned i = 0; i < hf_override_count(rules); i++) {
		const struct hf_override_rule *r = hf_override_at(rules, i);
		if (r->action == HF_OVERRIDE_INSECURE && r->kind != HF_OVERRIDE_REGEX)
			hf_resolver_flush(op->cfg.resolver, r->name);
	}
}

static int hook_validate_rule(void *ctx, const struct hf_override_rule *rule, char *err, size_t err_size)
{
	(void)ctx;
	return hf_ovr_sync_validate(rule, err, err_size);
}

static int hook_stats(void *ctx, json_object *out, char *err, size_t err_size)
{
	(void)err;
	(void)err_size;
	struct hf_operator *op = ctx;
	json_object *o = json_object_new_object();
	if (op->link) {
		const struct hf_link_stats *s = hf_link_stats(op->link);
		json_object_object_add(o, "misses", json_object_new_uint64(s->misses));
		json_object_object_add(o, "bad_misses", json_object_new_uint64(s->bad_misses));
		json_object_object_add(o, "local", json_object_new_uint64(s->local));
		json_object_object_add(o, "coalesced", json_object_new_uint64(s->coalesced));
		json_object_object_add(o, "resolutions", json_object_new_uint64(s->resolutions));
		json_object_object_add(o, "fills", json_object_new_uint64(s->fills));
		json_object_object_add(o, "backlog_drops", json_object_new_uint64(s->backlog_drops));
	}
	json_object_object_add(out, "link", o);
	/* The dataplane's counters, summed over its workers (include/holdfast/shm.h). */
	struct hf_shm *shm = op->link ? hf_link_shm(op->link) : NULL;
	if (shm) {
		o = json_object_new_object();
		for (unsigned i = 0; i < HF_STAT_COUNT; i++) {
			uint64_t sum = 0;
			for (unsigned w = 0; w < hf_shm_n_workers(shm); w++)
				sum += hf_shm_stat_get(hf_shm_stats(shm, w), i);
			const char *name = hf_shm_stat_name(i);
			if (name)
				json_object_object_add(o, name, json_object_new_uint64(sum));
		}
		json_object_object_add(out, "dataplane", o);
	}
	o = json_object_new_object();
	json_object_object_add(o, "purges", json_object_new_uint64(op->purges));
	json_object_object_add(o, "purges_waiting", json_object_new_uint64(op->n_waiting));
	json_object_object_add(o, "purge_overflows", json_object_new_uint64(op->purge_drops));
	json_object_object_add(o, "nta_rechecks", json_object_new_uint64(op->rechecks));
	json_object_object_add(o, "nta_rechecks_secure", json_object_new_uint64(op->recheck_secure));
	json_object_object_add(out, "operator", o);
	return 0;
}

void hf_operator_metrics(struct hf_operator *op, FILE *out)
{
	json_object *stats = json_object_new_object();
	if (stats && hook_stats(op, stats, NULL, 0) == 0)
		hf_metrics_render_json(out, "holdfast", NULL, stats);
	json_object_put(stats);
	struct hf_shm *shm = op->link ? hf_link_shm(op->link) : NULL;
	fprintf(out, "holdfast_dataplane_attached %d\n",
		op->link && hf_link_attached(op->link) ? 1 : 0);
	if (!shm)
		return;
	for (unsigned i = 0; i < HF_STAT_COUNT; i++) {
		const char *name = hf_shm_stat_name(i);
		if (!name)
			continue;
		for (unsigned w = 0; w < hf_shm_n_workers(shm); w++)
			fprintf(out, "holdfast_dataplane_worker_%s{worker=\"%u\"} %llu\n", name, w,
				(unsigned long long)hf_shm_stat_get(hf_shm_stats(shm, w), i));
	}
}

static int hook_status(void *ctx, json_object *out, char *err, size_t err_size)
{
	(void)err;
	(void)err_size;
	struct hf_operator *op = ctx;
	json_object_object_add(out, "dataplane",
			       json_object_new_string(op->link && hf_link_attached(op->link) ? "attached"
											: "not attached"));
	json_object_object_add(out, "dnssec_validation", json_object_new_boolean(true));
	return 0;
}

/* ---- NTA recheck (RFC 7646 §4) ---- */

static void on_probe(void *ctx, const struct hf_rendered *ans)
{
	struct probe *p = ctx;
	struct hf_operator *op = p->op;
	char zone[HF_NAME_TEXT_MAXLEN];
	hf_name_to_text(p->zone, zone, sizeof(zone));
	op->probes_in_flight--;
	const bool secure = ans->rcode == HF_RCODE_NOERROR && (ans->flags & HF_FILL_AD);
	if (op->ctl)
		(void)hf_nta_set_check(hf_ctl_server_ntas(op->ctl), p->zone, (int64_t)time(NULL),
				       secure);
	if (secure) {
		op->recheck_secure++;
		if (op->ctl && hf_nta_get(hf_ctl_server_ntas(op->ctl), p->zone)) {
			if (op->cfg.nta_recheck_ends)
				(void)hf_ctl_server_nta_end(op->ctl, p->zone, "the zone validates again");
			else
				hf_log_notice(SYSTEM, "negative trust anchor %s: the zone validates again; "
					      "the NTA is no longer needed", zone);
		}
	} else {
		hf_log_info(SYSTEM, "negative trust anchor %s: the zone still does not validate", zone);
	}
	free(p);
}

static void on_hits(uv_timer_t *t)
{
	struct hf_operator *op = t->data;
	if (op->ctl)
		hf_ovr_sync_collect(op->ovr, hf_ctl_server_overrides(op->ctl));
}

static void on_recheck(uv_timer_t *t)
{
	struct hf_operator *op = t->data;
	const struct hf_nta_store *s = hf_ctl_server_ntas(op->ctl);
	/* One round at a time: a slow zone must not pile probes up. */
	if (op->probes_in_flight > 0)
		return;
	for (unsigned i = 0;; i++) {
		const struct hf_nta *nta = hf_nta_at(s, i);
		if (nta == NULL)
			break;
		struct probe *p = calloc(1, sizeof(*p));
		if (p == NULL)
			break;
		p->op = op;
		memcpy(p->zone, nta->zone, hf_name_len(nta->zone));
		if (hf_resolver_probe(op->cfg.resolver, p->zone, on_probe, p) != 0) {
			free(p);
			continue;
		}
		op->rechecks++;
		op->probes_in_flight++;
	}
}

static struct hf_shm *current_shm(void *ctx)
{
	struct hf_operator *op = ctx;
	return op->link ? hf_link_shm(op->link) : NULL;
}

struct hf_operator *hf_operator_create(uv_loop_t *loop, const struct hf_operator_config *cfg)
{
	struct hf_operator *op = calloc(1, sizeof(*op));
	if (op == NULL)
		return NULL;
	op->loop = loop;
	op->cfg = *cfg;
	uv_timer_init(loop, &op->retry);
	uv_timer_init(loop, &op->recheck);
	uv_timer_init(loop, &op->hits);
	op->retry.data = op->recheck.data = op->hits.data = op;
	op->open_handles = 3;
	op->ovr = hf_ovr_sync_create(loop, current_shm, op);
	if (op->ovr == NULL) {
		hf_operator_close(op);
		return NULL;
	}
	return op;
}

void hf_operator_hooks(struct hf_operator *op, struct hf_ctl_hooks *hooks)
{
	memset(hooks, 0, sizeof(*hooks));
	hooks->ctx = op;
	hooks->nta_changed = hook_nta_changed;
	hooks->overrides_changed = hook_overrides_changed;
	hooks->validate_rule = hook_validate_rule;
	hooks->cache_flush = hook_cache_flush;
	hooks->stats_json = hook_stats;
	hooks->status_json = hook_status;
}

void hf_operator_attached(void *ctx, struct hf_shm *shm)
{
	struct hf_operator *op = ctx;
	(void)shm;  /* asked for at each use: see control/override/sync.h */
	hf_ovr_sync_attach(op->ovr);
}

void hf_operator_start(struct hf_operator *op, struct hf_ctl_server *ctl, struct hf_link *link)
{
	op->ctl = ctl;
	op->link = link;
	hf_resolver_set_nta_lookup(op->cfg.resolver, nta_lookup, op);
	/* The rules loaded from the state directory: compiled now, published on attach. */
	hook_overrides_changed(op, hf_ctl_server_overrides(ctl));
	uv_timer_start(&op->hits, on_hits, HF_OPERATOR_HITS_MS, HF_OPERATOR_HITS_MS);
	if (op->cfg.nta_recheck_ms > 0)
		uv_timer_start(&op->recheck, on_recheck, op->cfg.nta_recheck_ms, op->cfg.nta_recheck_ms);
}

static void on_closed(uv_handle_t *h)
{
	struct hf_operator *op = h->data;
	if (--op->open_handles == 0)
		free(op);
}

void hf_operator_close(struct hf_operator *op)
{
	if (op == NULL)
		return;
	op->ctl = NULL;
	op->link = NULL;
	hf_ovr_sync_close(op->ovr);
	op->ovr = NULL;
	uv_close((uv_handle_t *)&op->retry, on_closed);
	uv_close((uv_handle_t *)&op->hits, on_closed);
	uv_close((uv_handle_t *)&op->recheck, on_closed);
}
