/*
 * The public API (control/resolver.h) without a network: configuration
 * errors, the callback never running inside hf_resolver_resolve(), the
 * upstream address policy turning into SERVFAIL + EDE 22, and destroying the
 * resolver with resolutions in flight (run under ASan for the leak check).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <uv.h>

#include "control/resolver.h"
#include "include/holdfast/pkt.h"
#include "include/holdfast/wire_ctx.h"
#include "tests/unit/resolver_pkt.h"

static char hints_path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(hints_path, sizeof(hints_path), "/tmp/hf-test-hints-XXXXXX");
	int fd = mkstemp(hints_path);
	if (fd < 0)
		return -1;
	/* Loopback only: with allow_loopback_upstreams false nothing may be sent. */
	const char *text = ". 3600000 NS a.root.\na.root. 3600000 A 127.0.0.1\n";
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(hints_path);
	return 0;
}

static void test_bad_config(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	char err[128] = "";
	struct hf_resolver_config cfg = { .root_hints = "/nonexistent/root.hints" };
	assert_null(hf_resolver_create(&loop, &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/root.hints"));
	cfg.root_hints = NULL;
	assert_null(hf_resolver_create(&loop, &cfg, err, sizeof(err)));
	uv_loop_close(&loop);
}

struct answers {
	int calls;
	uint16_t rcode;
	uint16_t ede;
	char text[256];
};

static void on_answer(void *ctx, const struct hf_rendered *ans)
{
	struct answers *a = ctx;
	a->calls++;
	a->rcode = ans->rcode;
	if (ans->ede_len >= 6) {
		uint16_t len = hf_wire_get_u16(ans->ede + 2);
		a->ede = hf_wire_get_u16(ans->ede + 4);
		snprintf(a->text, sizeof(a->text), "%.*s", len - 2, (const char *)ans->ede + 6);
	}
}

static void test_policy_refuses_loopback(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	char err[128] = "";
	struct hf_resolver_config cfg = { .root_hints = hints_path };
	struct hf_resolver *r = hf_resolver_create(&loop, &cfg, err, sizeof(err));
	assert_non_null(r);
	struct answers a = { 0 };
	assert_int_equal(hf_resolver_resolve(r, N("host.a.test."), HF_TYPE_A, HF_CLASS_IN, 0, on_answer, &a), 0);
	assert_int_equal(a.calls, 0);  /* never inside the call */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.rcode, HF_RCODE_SERVFAIL);
	assert_int_equal(a.ede, HF_EDE_NO_REACHABLE_AUTHORITY);
	assert_non_null(strstr(a.text, "127.0.0.1 not allowed"));
	assert_int_equal(hf_resolver_resolve(r, (const uint8_t *)"\100", HF_TYPE_A, HF_CLASS_IN, 0,
					     on_answer, &a), -EINVAL);
	hf_resolver_destroy(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_destroy_in_flight(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	char err[128] = "";
	struct hf_resolver_config cfg = { .root_hints = hints_path, .allow_loopback_upstreams = true,
					  .query_timeout_ms = 50, .resolution_timeout_ms = 200 };
	struct hf_resolver *r = hf_resolver_create(&loop, &cfg, err, sizeof(err));
	assert_non_null(r);
	struct answers a = { 0 };
	for (int i = 0; i < 10; i++)
		assert_int_equal(hf_resolver_resolve(r, N("host.a.test."), HF_TYPE_A, HF_CLASS_IN, 0,
						     on_answer, &a), 0);
	/* Stop everything before any has started: no callback, nothing left behind. */
	hf_resolver_destroy(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(a.calls, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_policy_refuses_loopback),
		cmocka_unit_test(test_destroy_in_flight),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
