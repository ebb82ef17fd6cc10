/*
 * The public API (control/resolver.h): creating the resolver, starting and
 * finishing resolutions, flushing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "include/holdfast/name.h"
#include "control/resolver/render.h"
#include "control/resolver/resolver_impl.h"

int hf_text_fmt(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	return n;
}

uint64_t hf_resolver_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

uint64_t hf_resolver_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct hf_resolver *hf_resolver_create(uv_loop_t *loop, const struct hf_resolver_config *cfg,
				       char *err, size_t err_size)
{
	struct hf_resolver *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	r->loop = loop;
	r->cfg = *cfg;
	r->cfg.root_hints = NULL;  /* read once, below; the caller's string need not outlive us */
	if (r->cfg.query_timeout_ms == 0)
		r->cfg.query_timeout_ms = HF_RESOLVER_DEF_QUERY_TIMEOUT_MS;
	if (r->cfg.resolution_timeout_ms == 0)
		r->cfg.resolution_timeout_ms = HF_RESOLVER_DEF_RESOLUTION_MS;
	if (r->cfg.cache_bytes == 0)
		r->cfg.cache_bytes = HF_RESOLVER_DEF_CACHE_BYTES;
	r->trace = getenv("HF_RESOLVE_TRACE") != NULL;
	if (cfg->n_own_addresses > 0) {
		r->own = calloc(cfg->n_own_addresses, sizeof(*r->own));
		if (r->own == NULL) {
			snprintf(err, err_size, "out of memory");
			goto err_free;
		}
		memcpy(r->own, cfg->own_addresses, cfg->n_own_addresses * sizeof(*r->own));
	}
	r->cfg.own_addresses = r->own;
	if (cfg->root_hints == NULL) {
		snprintf(err, err_size, "no root hints file configured");
		goto err_free;
	}
	if (hf_hints_load(cfg->root_hints, &r->hints, err, err_size) != 0)
		goto err_free;
	size_t infra_bytes = r->cfg.cache_bytes / HF_RESOLVER_INFRA_SHARE;
	r->infra = hf_infra_create(infra_bytes / sizeof(struct hf_infra_entry), r->cfg.query_timeout_ms);
	r->cache = hf_cache_create(r->cfg.cache_bytes - infra_bytes);
	if (r->infra == NULL || r->cache == NULL) {
		snprintf(err, err_size, "out of memory for the caches");
		goto err_free;
	}
	if (cfg->dnssec) {
		if (hf_anchors_load(cfg->trust_anchors, &r->anchors, err, err_size) != 0)
			goto err_free;
		struct hf_verifier_config vcfg = { .threads = cfg->verifier_threads };
		r->verifier = hf_verifier_create(loop, &vcfg, err, err_size);
		if (r->verifier == NULL)
			goto err_free;
		if (hf_zkeys_init(r) != 0) {
			snprintf(err, err_size, "out of memory for the zone keys");
			goto err_free;
		}
	}
	r->cfg.trust_anchors = NULL;
	if (cfg->n_no_stale_on_bogus > 0) {
		r->no_stale = calloc(cfg->n_no_stale_on_bogus, sizeof(*r->no_stale));
		if (r->no_stale == NULL) {
			snprintf(err, err_size, "out of memory");
			goto err_free;
		}
		memcpy(r->no_stale, cfg->no_stale_on_bogus, cfg->n_no_stale_on_bogus * sizeof(*r->no_stale));
		r->n_no_stale = cfg->n_no_stale_on_bogus;
	}
	r->cfg.no_stale_on_bogus = NULL;
	return r;

err_free:
	hf_zkeys_destroy(r);
	hf_verifier_destroy(r->verifier);
	hf_anchors_free(&r->anchors);
	hf_infra_destroy(r->infra);
	hf_cache_destroy(r->cache);
	free(r->own);
	free(r);
	return NULL;
}

static void on_req_close(uv_handle_t *h)
{
	/* Touches only the request: the resolver may already be gone. */
	struct hf_req *q = h->data;
	if (--q->open_handles == 0)
		free(q);
}

static void req_unlink(struct hf_req *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else if (q->r->reqs == q)
		q->r->reqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
}

/* Stop a top-level request: release its work, unlink it, close its timers. */
static void req_close(struct hf_req *q)
{
	hf_iter_release(q);
	req_unlink(q);
	uv_close((uv_handle_t *)&q->kick, on_req_close);
	uv_close((uv_handle_t *)&q->deadline, on_req_close);
}

void hf_req_complete(struct hf_req *q)
{
	struct hf_resolver *r = q->r;
	q->done = true;
	if (q->rcode == HF_RCODE_SERVFAIL && q->has_ede && !q->cached_error && !q->probe)
		hf_cache_put_fail(r->cache, q->orig_qname, q->orig_qtype, q->qclass, q->ede, q->ede_text,
				  HF_CACHE_FAIL_TTL, hf_resolver_now_s());
	/* Unlinked first: the callback may destroy the resolver. */
	req_unlink(q);
	struct hf_rendered *ans = malloc(sizeof(*ans));
	if (ans != NULL) {
		struct hf_render_in in = {
			.qname = q->orig_qname,
			.qtype = q->orig_qtype,
			.qclass = q->qclass,
			.rcode = q->rcode,
			.answer = (const struct hf_rrset *const *)q->answer,
			.n_answer = q->rcode == HF_RCODE_SERVFAIL ? 0 : q->n_answer,
			.soa = q->rcode == HF_RCODE_SERVFAIL ? NULL : q->soa,
			.fail_ttl = HF_CACHE_FAIL_TTL,
			.has_ede = q->has_ede,
			.ede = q->ede,
			.ede_text = q->ede_text,
			.cached_error = q->cached_error,
			.dnssec = (q->variant & HF_VARIANT_DO) != 0,
			.proof = (const struct hf_rrset *const *)q->proof,
			.n_proof = q->rcode == HF_RCODE_SERVFAIL ? 0 : q->n_proof,
			.ad = q->sec == HF_SEC_SECURE && q->rcode != HF_RCODE_SERVFAIL,
		};
		int rendered = hf_render(ans, &in);
		/* serve-stale.no-stale-on-bogus: the operator wants this zone's bogus answers seen. */
		for (unsigned i = 0; rendered == 0 && q->sec == HF_SEC_BOGUS && i < r->n_no_stale; i++)
			if (hf_name_is_subdomain(q->orig_qname, r->no_stale[i]))
				ans->flags |= HF_FILL_NOSTALE;
		if (rendered != 0) {
			struct hf_render_in bare = { .qname = q->orig_qname, .qtype = q->orig_qtype,
						     .qclass = q->qclass, .rcode = HF_RCODE_SERVFAIL,
						     .fail_ttl = HF_CACHE_FAIL_TTL };
			hf_render(ans, &bare);
		}
		if (!q->cancelled)
			q->cb(q->ctx, ans);
		free(ans);
	}
	hf_iter_release(q);
	uv_close((uv_handle_t *)&q->kick, on_req_close);
	uv_close((uv_handle_t *)&q->deadline, on_req_close);
}

static void on_kick(uv_timer_t *t)
{
	hf_iter_step(t->data);
}

static void on_deadline(uv_timer_t *t)
{
	struct hf_req *q = t->data;
	if (q->done && q->val == NULL)
		return;
	if (q->val) {
		/* Validation waited too long for a zone's keys or a signature check. */
		hf_iter_release(q);
		q->rcode = HF_RCODE_SERVFAIL;
		q->has_ede = true;
		q->ede = HF_EDE_DNSSEC_INDETERMINATE;
		(void)hf_text_fmt(q->ede_text, sizeof(q->ede_text),
				  "validation did not finish within %u ms", q->r->cfg.resolution_timeout_ms);
		uv_timer_stop(&q->kick);
		hf_req_complete(q);
		return;
	}
	char zone[HF_NAME_TEXT_MAXLEN];
	hf_name_to_text(q->dp.zone, zone, sizeof(zone));
	/* Whatever the innermost request was waiting for, the answer did not come in time. */
	const struct hf_req *in = q;
	while (in->child)
		in = in->child;
	hf_name_to_text(in->dp.zone, zone, sizeof(zone));
	hf_iter_release(q);
	q->rcode = HF_RCODE_SERVFAIL;
	q->has_ede = true;
	q->ede = HF_EDE_NO_REACHABLE_AUTHORITY;
	(void)hf_text_fmt(q->ede_text, sizeof(q->ede_text), "resolution timed out after %u ms at %s%s%s",
		 q->r->cfg.resolution_timeout_ms, zone, in->dp.tried[0] ? ": " : "", in->dp.tried);
	hf_req_complete(q);
}

static int resolve(struct hf_resolver *r, const uint8_t *qname, uint16_t qtype, uint16_t qclass,
		   uint8_t variant, bool probe, hf_resolve_cb cb, void *ctx);

/* A request for a question, at the top of its own tree (its own query budget). */
static struct hf_req *req_new(struct hf_resolver *r, const uint8_t *qname, uint16_t qtype,
			      uint16_t qclass)
{
	struct hf_req *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->r = r;
	q->top = q;
	q->qtype = q->orig_qtype = qtype;
	q->qclass = qclass;
	memcpy(q->orig_qname, qname, hf_name_len(qname));
	hf_name_lower(q->orig_qname);
	memcpy(q->qname, q->orig_qname, hf_name_len(q->orig_qname));
	return q;
}

int hf_resolver_resolve(struct hf_resolver *r, const uint8_t *qname, uint16_t qtype,
			uint16_t qclass, uint8_t variant, hf_resolve_cb cb, void *ctx)
{
	return resolve(r, qname, qtype, qclass, variant, false, cb, ctx);
}

int hf_resolver_probe(struct hf_resolver *r, const uint8_t *zone, hf_resolve_cb cb, void *ctx)
{
	return resolve(r, zone, HF_TYPE_SOA, HF_CLASS_IN, 0, true, cb, ctx);
}

static int resolve(struct hf_resolver *r, const uint8_t *qname, uint16_t qtype, uint16_t qclass,
		   uint8_t variant, bool probe, hf_resolve_cb cb, void *ctx)
{
	if (r == NULL || qname == NULL || cb == NULL || hf_name_check(qname, HF_NAME_MAXLEN) < 0)
		return -EINVAL;
	struct hf_req *q = req_new(r, qname, qtype, qclass);
	if (q == NULL)
		return -ENOMEM;
	q->cb = cb;
	q->ctx = ctx;
	q->variant = variant;
	q->probe = probe;
	int ret = uv_timer_init(r->loop, &q->kick);
	if (ret < 0) {
		free(q);
		return ret;
	}
	q->kick.data = q;
	q->open_handles = 1;
	ret = uv_timer_init(r->loop, &q->deadline);
	if (ret < 0) {
		/* One handle open: its close callback frees q. */
		uv_close((uv_handle_t *)&q->kick, on_req_close);
		return ret;
	}
	q->deadline.data = q;
	q->open_handles = 2;
	q->next = r->reqs;
	if (r->reqs)
		r->reqs->prev = q;
	r->reqs = q;
	/* Start on the next loop turn so the callback never runs inside this call. */
	uv_timer_start(&q->kick, on_kick, 0, 0);
	uv_timer_start(&q->deadline, on_deadline, r->cfg.resolution_timeout_ms, 0);
	return 0;
}

void hf_resolver_destroy(struct hf_resolver *r)
{
	if (r == NULL)
		return;
	while (r->reqs) {
		struct hf_req *q = r->reqs;
		q->cancelled = true;
		q->done = true;
		req_close(q);
	}
	/* Zone-key fetches hold internal requests and verifier callbacks: first. */
	hf_zkeys_destroy(r);
	hf_verifier_destroy(r->verifier);
	hf_anchors_free(&r->anchors);
	hf_cache_destroy(r->cache);
	hf_infra_destroy(r->infra);
	free(r->no_stale);
	free(r->own);
	free(r);
}

void hf_resolver_flush(struct hf_resolver *r, const uint8_t *name)
{
	hf_cache_flush(r->cache, name);
	hf_zkeys_flush(r, name);
}

void hf_resolver_set_nta_lookup(struct hf_resolver *r, hf_nta_lookup_fn fn, void *ctx)
{
	r->nta_lookup = fn;
	r->nta_ctx = ctx;
}

struct hf_req *hf_req_internal(struct hf_resolver *r, const uint8_t *name, uint16_t type,
			       uint16_t qclass, hf_req_done_cb done, void *ctx)
{
	struct hf_req *q = req_new(r, name, type, qclass);
	if (q == NULL)
		return NULL;
	q->internal = true;
	q->on_done = done;
	q->done_ctx = ctx;
	hf_iter_step(q);
	return q;
}

void hf_req_internal_free(struct hf_req *q)
{
	q->done = true;
	hf_iter_release(q);
	free(q);
}
