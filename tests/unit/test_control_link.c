/*
 * control/link: attach, misses, coalescing, local answers, bad messages, the
 * backlog and re-attaching, against a real region that the test creates as
 * the dataplane would (one process plays both sides; the stub resolver of
 * tests/control answers A 192.0.2.1).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <uv.h>

#include "control/link.h"
#include "control/local.h"
#include "control/log.h"
#include "control/resolver.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/name.h"
#include "include/holdfast/ring.h"
#include "include/holdfast/shm.h"

unsigned hf_resolver_stub_started(void);

struct fixture {
	char instance[32];
	struct hf_shm *dp;
	uv_loop_t loop;
	struct hf_resolver *resolver;
	struct hf_local local;
	struct hf_link *link;
	int fatal;
};

static void on_fatal(void *ctx, int code)
{
	((struct fixture *)ctx)->fatal = code;
}

static int fixture_up(void **state, const char *delay_ms)
{
	static struct hf_conf conf;
	struct fixture *f = calloc(1, sizeof(*f));
	struct hf_resolver_config rcfg = { 0 };
	struct hf_link_config lcfg = { 0 };
	char err[256];

	hf_log_set_level(HF_LOG_ERROR);
	snprintf(f->instance, sizeof(f->instance), "tcl%d", (int)getpid());
	if (hf_shm_create(f->instance, 2, &f->dp, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	hf_conf_defaults(&conf);
	hf_local_init(&f->local, &conf.control);
	uv_loop_init(&f->loop);
	setenv("HF_STUB_DELAY_MS", delay_ms, 1);
	f->resolver = hf_resolver_create(&f->loop, &rcfg, err, sizeof(err));
	lcfg.instance = f->instance;
	lcfg.resolver = f->resolver;
	lcfg.local = &f->local;
	lcfg.on_fatal = on_fatal;
	lcfg.ctx = f;
	f->link = hf_link_create(&f->loop, &lcfg);
	if (!f->resolver || !f->link || hf_link_start(f->link) != 0)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return fixture_up(state, "0");
}

static int setup_slow(void **state)
{
	return fixture_up(state, "300");
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hf_resolver_destroy(f->resolver);
	hf_link_close(f->link);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	hf_shm_destroy(f->dp);
	free(f);
	return 0;
}

/* Run the loop until cond holds or ms pass. */
static bool run_until(struct fixture *f, bool (*cond)(struct fixture *, void *), void *arg,
		      unsigned ms)
{
	uint64_t end = hf_shm_now_ns() + (uint64_t)ms * 1000000;

	while (!cond(f, arg)) {
		if (hf_shm_now_ns() > end)
			return false;
		uv_run(&f->loop, UV_RUN_ONCE);
	}
	return true;
}

static void send_miss(struct fixture *f, unsigned worker, uint32_t req_id, const char *name,
		      uint16_t qtype, uint8_t variant)
{
	struct hf_msg_miss m = { .req_id = req_id, .qtype = qtype, .qclass = HF_CLASS_IN,
				 .variant = variant };
	int len = hf_name_from_text(name, m.qname);

	m.qname_len = (uint8_t)len;
	assert_int_equal(hf_ring_enqueue(hf_shm_miss_ring(f->dp, worker), HF_MSG_MISS, &m,
					 (uint32_t)HF_MSG_MISS_LEN(m.qname_len)), 0);
}

static bool fills_at_least(struct fixture *f, void *arg)
{
	unsigned want = *(unsigned *)arg, have = 0;

	for (unsigned w = 0; w < 2; w++)
		have += hf_ring_count(hf_shm_fill_ring(f->dp, w));
	return have >= want;
}

/* Take one fill from a worker's ring; returns its req_id, checks it decodes. */
static uint32_t take_fill(struct fixture *f, unsigned worker, struct hf_fill_view *v,
			  uint8_t *copy)
{
	struct hf_ring *r = hf_shm_fill_ring(f->dp, worker);
	const struct hf_ring_msg *m = hf_ring_peek(r);
	const char *why = NULL;

	assert_non_null(m);
	assert_int_equal(m->type, HF_MSG_FILL);
	memcpy(copy, m->data, m->len);
	hf_ring_release(r, 1);
	assert_int_equal(hf_msg_fill_decode(copy, m->len, v, &why), 0);
	return v->hdr->req_id;
}

static bool attached(struct fixture *f, void *arg)
{
	(void)arg;
	return hf_link_attached(f->link);
}

static void test_attach_and_heartbeat(void **state)
{
	struct fixture *f = *state;

	assert_true(run_until(f, attached, NULL, 1000));
	assert_int_equal(hf_shm_cp_generation(f->dp), 1);
	assert_true(hf_shm_peer_alive(f->dp, hf_shm_now_ns()));
}

static void test_coalescing(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[HF_SHM_FILL_SLOT_SIZE];
	struct hf_fill_view v;
	unsigned before, want = 3;
	uint32_t ids[2];

	assert_true(run_until(f, attached, NULL, 1000));
	before = hf_resolver_stub_started();
	send_miss(f, 0, 10, "www.example.com", HF_TYPE_A, 0);
	send_miss(f, 1, 20, "WWW.example.com", HF_TYPE_A, 0);  /* lower-cased by the link */
	send_miss(f, 0, 11, "www.example.com", HF_TYPE_A, HF_VARIANT_DO);  /* another variant */
	assert_true(run_until(f, fills_at_least, &want, 2000));
	assert_int_equal(hf_resolver_stub_started() - before, 2);
	assert_int_equal(hf_link_stats(f->link)->coalesced, 1);

	ids[0] = take_fill(f, 0, &v, buf);
	ids[1] = take_fill(f, 0, &v, buf);
	assert_true((ids[0] == 10 && ids[1] == 11) || (ids[0] == 11 && ids[1] == 10));
	assert_int_equal(take_fill(f, 1, &v, buf), 20);
	assert_int_equal(v.hdr->variant, 0);
	assert_int_equal(v.qtype, HF_TYPE_A);
	assert_int_equal(v.hdr->n_ttl, 1);
	assert_memory_equal(v.msg + v.hdr->msg_len - 4, "\xc0\x00\x02\x01", 4);
}

static void test_local_and_bad(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[HF_SHM_FILL_SLOT_SIZE];
	struct hf_ring *miss = hf_shm_miss_ring(f->dp, 1);
	struct hf_msg_miss m = { .req_id = 5, .qtype = HF_TYPE_A, .qclass = HF_CLASS_IN };
	struct hf_fill_view v;
	unsigned before, want = 1;

	assert_true(run_until(f, attached, NULL, 1000));
	before = hf_resolver_stub_started();
	/* Three bad messages: wrong type, too short, a name that overruns. */
	assert_int_equal(hf_ring_enqueue(miss, 99, &m, sizeof(m)), 0);
	assert_int_equal(hf_ring_enqueue(miss, HF_MSG_MISS, &m, 4), 0);
	m.qname_len = 5;
	memcpy(m.qname, "\x07" "abcd", 5);
	assert_int_equal(hf_ring_enqueue(miss, HF_MSG_MISS, &m, (uint32_t)HF_MSG_MISS_LEN(5)), 0);
	send_miss(f, 1, 6, "printer.localhost", HF_TYPE_A, 0);
	assert_true(run_until(f, fills_at_least, &want, 2000));
	assert_int_equal(take_fill(f, 1, &v, buf), 6);
	assert_memory_equal(v.msg + v.hdr->msg_len - 4, "\x7f\0\0\1", 4);
	assert_int_equal(hf_resolver_stub_started(), before);
	assert_int_equal(hf_link_stats(f->link)->bad_misses, 3);
	assert_int_equal(hf_link_stats(f->link)->local, 1);
	assert_int_equal(hf_ring_count(hf_shm_fill_ring(f->dp, 0)), 0);
}

static bool backlog_is(struct fixture *f, void *arg)
{
	return hf_link_backlog(f->link, 1) == *(unsigned *)arg;
}

static void test_backlog(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[HF_SHM_FILL_SLOT_SIZE];
	struct hf_ring *fill = hf_shm_fill_ring(f->dp, 1);
	struct hf_fill_view v;
	unsigned one = 1, zero = 0, n = 0;

	assert_true(run_until(f, attached, NULL, 1000));
	while (hf_ring_enqueue(fill, 0x77, "x", 1) == 0)
		n++;
	assert_int_equal(n, HF_SHM_FILL_SLOTS);
	send_miss(f, 1, 42, "stalled.example.net", HF_TYPE_AAAA, 0);
	assert_true(run_until(f, backlog_is, &one, 2000));
	assert_int_equal(hf_link_stats(f->link)->backlogged, 1);
	/* The worker wakes up and drains its ring; the next poll delivers. */
	while (hf_ring_peek(fill) && hf_ring_peek(fill)->type == 0x77)
		hf_ring_release(fill, 1);
	assert_true(run_until(f, backlog_is, &zero, 2000));
	assert_int_equal(take_fill(f, 1, &v, buf), 42);
	assert_int_equal(v.qtype, HF_TYPE_AAAA);
}

static bool attaches_are(struct fixture *f, void *arg)
{
	return hf_link_attached(f->link) && hf_link_stats(f->link)->attaches == *(uint64_t *)arg;
}

static bool resolving(struct fixture *f, void *arg)
{
	(void)arg;
	return hf_link_stats(f->link)->resolutions == 1;
}

static void test_reattach(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[HF_SHM_FILL_SLOT_SIZE];
	struct hf_fill_view v;
	uint64_t two = 2;
	unsigned want = 1;
	char err[256];

	assert_true(run_until(f, attached, NULL, 1000));
	/* A miss in flight (the stub takes 300 ms) when the dataplane restarts. */
	send_miss(f, 0, 7, "slow.example.net", HF_TYPE_A, 0);
	assert_true(run_until(f, resolving, NULL, 1000));
	hf_shm_destroy(f->dp);
	assert_int_equal(hf_shm_create(f->instance, 2, &f->dp, err, sizeof(err)), 0);
	assert_true(run_until(f, attaches_are, &two, 2000));
	assert_int_equal(hf_link_stats(f->link)->orphaned, 1);
	/* The new region works, and the old answer does not land in it. */
	send_miss(f, 1, 8, "after.example.net", HF_TYPE_A, 0);
	assert_true(run_until(f, fills_at_least, &want, 2000));
	assert_int_equal(take_fill(f, 1, &v, buf), 8);
	uv_sleep(400);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(hf_ring_count(hf_shm_fill_ring(f->dp, 0)), 0);
	assert_int_equal(f->fatal, 0);
}

static bool fatal_seen(struct fixture *f, void *arg)
{
	(void)arg;
	return f->fatal != 0;
}

static void test_taken(void **state)
{
	struct fixture *f = *state;
	struct hf_shm_header *h;

	assert_true(run_until(f, attached, NULL, 1000));
	/* Another control plane's claim appears (as after a takeover while this
	 * one was stopped): the link lets go of the rings and reports it. The
	 * header is read-only in the API; the test writes it as a peer would. */
	h = (struct hf_shm_header *)(uintptr_t)hf_shm_header(f->dp);
	atomic_store(&h->cp_claim, (uint64_t)99 << 32 | 1);
	assert_true(run_until(f, fatal_seen, NULL, 1000));
	assert_int_equal(f->fatal, HF_ESHMTAKEN);
	assert_false(hf_link_attached(f->link));
	/* Nothing more is answered. */
	send_miss(f, 0, 1, "late.example.net", HF_TYPE_A, 0);
	uv_sleep(20);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(hf_ring_count(hf_shm_miss_ring(f->dp, 0)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attach_and_heartbeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalescing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_and_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backlog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reattach, setup_slow, teardown),
		cmocka_unit_test_setup_teardown(test_taken, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
