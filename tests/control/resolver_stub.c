/*
 * A stand-in for the recursion engine (control/resolver.h) so that the
 * process around it can be built and tested before, and independently of,
 * the real one. Linked before libhf_control, its definitions win over the
 * real resolver's archive members.
 *
 * Every question is answered after HF_STUB_DELAY_MS milliseconds (from the
 * environment; default 0, i.e. on the next loop turn, never inside
 * hf_resolver_resolve()), by its first label, like tests/peer/test_peer.c:
 *   nx.*      NXDOMAIN with an SOA
 *   sf.*      SERVFAIL, EDE 22, not cached
 *   secure.*  flagged validated (AD)
 *   else      A 192.0.2.1 / AAAA 2001:db8::1, NODATA for other types; TTL 300
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "control/resolver.h"
#include "include/holdfast/build.h"
#include "include/holdfast/name.h"

struct hf_stub_query {
	uv_timer_t timer;
	struct hf_resolver *r;
	struct hf_stub_query *next, *prev;
	hf_resolve_cb cb;
	void *ctx;
	uint16_t qtype, qclass;
	uint8_t variant;
	uint8_t qname[HF_NAME_MAXLEN];
};

struct hf_resolver {
	uv_loop_t *loop;
	uint64_t delay_ms;
	struct hf_stub_query head;    /* circular list of queries in flight */
};

/* Test hooks: resolutions started so far (coalescing tests count them). */
unsigned hf_resolver_stub_started(void);
static unsigned hf_stub_started;

unsigned hf_resolver_stub_started(void)
{
	return hf_stub_started;
}

static bool hf_stub_label_is(const uint8_t *qname, const char *label)
{
	size_t n = strlen(label);

	return qname[0] == n && memcmp(qname + 1, label, n) == 0;
}

static void hf_stub_render(const struct hf_stub_query *q, struct hf_rendered *a)
{
	struct hf_build b;
	const uint8_t *zone = q->qname[0] ? q->qname + 1 + q->qname[0] : q->qname;
	uint16_t rcode = HF_RCODE_NOERROR;
	int off = -1;

	memset(a, 0, offsetof(struct hf_rendered, ede));
	a->ttl = 300;
	if (hf_stub_label_is(q->qname, "nx"))
		rcode = HF_RCODE_NXDOMAIN;
	if (hf_stub_label_is(q->qname, "sf")) {
		rcode = HF_RCODE_SERVFAIL;
		a->flags |= HF_FILL_NOCACHE;
		a->ttl = 0;
		a->ede_len = (uint16_t)hf_ede_render(a->ede, sizeof(a->ede),
						     HF_EDE_NO_REACHABLE_AUTHORITY,
						     "stub: no server answered");
	}
	if (hf_stub_label_is(q->qname, "secure"))
		a->flags |= HF_FILL_AD;
	hf_build_init(&b, a->msg, sizeof(a->msg), 0, (uint16_t)(HF_FLAG_QR | HF_FLAG_RA | rcode));
	hf_build_question(&b, q->qname, q->qtype, q->qclass);
	if (rcode == HF_RCODE_NOERROR && q->qtype == HF_TYPE_A)
		off = hf_build_rr(&b, 0, q->qname, HF_TYPE_A, HF_CLASS_IN, 300,
				  (const uint8_t *)"\xc0\x00\x02\x01", 4);
	else if (rcode == HF_RCODE_NOERROR && q->qtype == HF_TYPE_AAAA)
		off = hf_build_rr(&b, 0, q->qname, HF_TYPE_AAAA, HF_CLASS_IN, 300,
				  (const uint8_t *)"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16);
	else if (rcode != HF_RCODE_SERVFAIL && zone[0] != 0) {
		uint8_t soa[2 * HF_NAME_MAXLEN + 20];
		int l1 = hf_name_from_text("ns.test", soa);
		int l2 = hf_name_from_text("hostmaster.test", soa + l1);

		memcpy(soa + l1 + l2, "\0\0\0\1\0\0\x0e\x10\0\0\x03\x84\0\x09\x3a\x80\0\0\0\x3c", 20);
		off = hf_build_rr(&b, HF_SECTION_AUTHORITY, zone, HF_TYPE_SOA, HF_CLASS_IN, 60, soa,
				  (uint16_t)(l1 + l2 + 20));
		a->ttl = 60;
	}
	if (off > 0)
		a->ttl_off[a->n_ttl++] = (uint16_t)off;
	a->msg_len = (uint16_t)hf_build_finish(&b);
	a->rcode = rcode;
}

static void hf_stub_unlink(struct hf_stub_query *q)
{
	q->prev->next = q->next;
	q->next->prev = q->prev;
}

static void hf_stub_free(uv_handle_t *h)
{
	free(h->data);
}

static void hf_stub_fire(uv_timer_t *t)
{
	struct hf_stub_query *q = t->data;
	static struct hf_rendered ans;

	hf_stub_unlink(q);
	hf_stub_render(q, &ans);
	q->cb(q->ctx, &ans);
	uv_close((uv_handle_t *)&q->timer, hf_stub_free);
}

struct hf_resolver *hf_resolver_create(uv_loop_t *loop, const struct hf_resolver_config *cfg,
				       char *err, size_t err_size)
{
	struct hf_resolver *r = calloc(1, sizeof(*r));
	const char *delay = getenv("HF_STUB_DELAY_MS");

	(void)cfg;
	if (!r) {
		if (err_size)
			strncpy(err, "out of memory", err_size - 1);
		return NULL;
	}
	r->loop = loop;
	r->delay_ms = delay ? strtoull(delay, NULL, 10) : 0;
	r->head.next = r->head.prev = &r->head;
	return r;
}

void hf_resolver_destroy(struct hf_resolver *r)
{
	if (!r)
		return;
	while (r->head.next != &r->head) {
		struct hf_stub_query *q = r->head.next;

		hf_stub_unlink(q);
		uv_timer_stop(&q->timer);
		uv_close((uv_handle_t *)&q->timer, hf_stub_free);
	}
	free(r);
}

int hf_resolver_resolve(struct hf_resolver *r, const uint8_t *qname, uint16_t qtype,
			uint16_t qclass, uint8_t variant, hf_resolve_cb cb, void *ctx)
{
	struct hf_stub_query *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->r = r;
	q->cb = cb;
	q->ctx = ctx;
	q->qtype = qtype;
	q->qclass = qclass;
	q->variant = variant;
	memcpy(q->qname, qname, hf_name_len(qname));
	uv_timer_init(r->loop, &q->timer);
	q->timer.data = q;
	uv_timer_start(&q->timer, hf_stub_fire, r->delay_ms, 0);
	q->next = &r->head;
	q->prev = r->head.prev;
	r->head.prev->next = q;
	r->head.prev = q;
	hf_stub_started++;
	return 0;
}

void hf_resolver_flush(struct hf_resolver *r, const uint8_t *name)
{
	(void)r;
	(void)name;
}

void hf_resolver_set_nta_lookup(struct hf_resolver *r, hf_nta_lookup_fn fn, void *ctx)
{
	(void)r;
	(void)fn;
	(void)ctx;
}

int hf_resolver_probe(struct hf_resolver *r, const uint8_t *zone, hf_resolve_cb cb, void *ctx)
{
	(void)r;
	(void)zone;
	(void)cb;
	(void)ctx;
	return -ENOTSUP;  /* the stub does not validate */
}
