/*
 * Overrides: compiling rule sets (control/override/compile.h), publishing
 * them through a real shm region, applying them in the dataplane
 * (dataplane/override.h) and matching, all in one process. The test thread
 * is a registered QSBR thread, as the dataplane's main lcore is.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include "control/override/compile.h"
#include "dataplane/override.h"
#include "include/holdfast/name.h"
#include "include/holdfast/override.h"
#include "include/holdfast/shm.h"

#define N_WORKERS 2

struct fixture {
	char instance[HF_SHM_INSTANCE_MAX + 1];
	char err[512];
	struct hf_shm *dp;
	struct hf_shm *cp;
	struct hf_ovr_dp *ov;
};

static int setup(void **state)
{
	static unsigned counter;
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->instance, sizeof(f->instance), "test-ovr-%d-%u", (int)getpid(), counter++);
	if (hf_shm_create(f->instance, N_WORKERS, &f->dp, f->err, sizeof(f->err)) != 0 ||
	    hf_shm_attach(f->instance, &f->cp, f->err, sizeof(f->err)) != 0) {
		fprintf(stderr, "%s\n", f->err);
		return -1;
	}
	f->ov = hf_ovr_create(N_WORKERS);
	if (!f->ov)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hf_ovr_destroy(f->ov);
	hf_shm_detach(f->cp);
	hf_shm_destroy(f->dp);
	free(f);
	return 0;
}

/* Compile, publish, apply; returns the set now in use. */
static const struct hf_ovr_set *apply(struct fixture *f, const struct hf_ovr_rule_in *r,
					   unsigned n)
{
	struct hf_ovr_image *img;
	uint64_t gen;
	int rc;

	rc = hf_ovr_compile(r, n, &img, f->err, sizeof(f->err));
	if (rc != 0)
		fprintf(stderr, "compile: %s\n", f->err);
	assert_int_equal(rc, 0);
	assert_int_equal(hf_ovr_publish(f->cp, img, &gen), 0);
	hf_ovr_image_free(img);
	urcu_qsbr_quiescent_state();
	assert_int_equal(hf_ovr_poll(f->ov, f->dp), 1);
	assert_int_equal(hf_ovr_current(f->ov)->generation, gen);
	return hf_ovr_current(f->ov);
}

static const struct hf_ovr_rule *match(const struct hf_ovr_set *set, const char *name,
				       uint16_t qtype)
{
	uint8_t wire[HF_NAME_MAXLEN];
	char text[HF_OVR_TEXT_MAX];
	size_t len;

	assert_true(hf_name_from_text(name, wire) > 0);
	len = hf_ovr_name_text(wire, text);
	return hf_ovr_match(set, hf_ovr_scratch(set, 1), text, len, qtype);
}

static int match_id(const struct hf_ovr_set *set, const char *name, uint16_t qtype)
{
	const struct hf_ovr_rule *r = match(set, name, qtype);

	return r ? (int)r->id : -1;
}

#define RULE(i, k, p) { .id = (i), .kind = (k), .pattern = (p), \
			.action = HF_OVR_NXDOMAIN, .ede = HF_OVR_EDE_BLOCKED }

static void test_name_text(void **state)
{
	static const char *const names[] = {
		".", "www.Example.COM.", "a\\.b.example.", "\\000\\255x.y.", "a\\\\.b.",
		"q\\\"(x)@;$.", "under_score-dash.",
	};
	uint8_t wire[HF_NAME_MAXLEN];
	char mine[HF_OVR_TEXT_MAX], lib[HF_OVR_TEXT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_true(hf_name_from_text(names[i], wire) > 0);
		hf_name_lower(wire);
		assert_int_equal(hf_name_to_text(wire, lib, sizeof(lib)),
				 (int)hf_ovr_name_text(wire, mine));
		assert_string_equal(mine, lib);
	}
	/* Upper case in, lower case out, without hf_name_lower(). */
	assert_true(hf_name_from_text("WWW.Example.COM", wire) > 0);
	assert_int_equal(hf_ovr_name_text(wire, mine), 16);
	assert_string_equal(mine, "www.example.com.");
	/* The longest name: 127 labels of one octet 0xff, all escaped. */
	memset(wire, 0, sizeof(wire));
	for (unsigned i = 0; i < 127; i++) {
		wire[2 * i] = 1;
		wire[2 * i + 1] = 0xff;
	}
	assert_int_equal(hf_ovr_name_text(wire, mine), 127 * 5);
}

static void test_empty(void **state)
{
	struct fixture *f = *state;
	const struct hf_ovr_set *set;

	/* Before anything is published: the empty set, no scan. */
	set = hf_ovr_current(f->ov);
	assert_null(set->db);
	assert_null(match(set, "example.com.", 1));
	assert_int_equal(hf_ovr_poll(f->ov, f->dp), 0);

	set = apply(f, NULL, 0);
	assert_int_equal(set->n_rules, 0);
	assert_null(set->db);
	assert_null(match(set, "example.com.", 1));
}

static void test_one(void **state)
{
	struct fixture *f = *state;
	struct hf_ovr_rule_in r = RULE(7, HF_OVR_EXACT, "Example.COM");
	const struct hf_ovr_set *set;
	const struct hf_ovr_rule *m;

	r.reason = "policy 12";
	set = apply(f, &r, 1);
	assert_int_equal(set->n_rules, 1);
	m = match(set, "example.com.", 1);
	assert_non_null(m);
	assert_int_equal(m->id, 7);
	assert_int_equal(m->action, HF_OVR_NXDOMAIN);
	assert_int_equal(m->ede, HF_OVR_EDE_BLOCKED);
	assert_int_equal(m->reason_len, 9);
	assert_memory_equal(m->reason, "policy 12", 9);
	assert_non_null(match(set, "EXAMPLE.com", 28));
	assert_null(match(set, "www.example.com.", 1));
	assert_null(match(set, "example.com.au.", 1));
	assert_null(match(set, "myexample.com.", 1));

	/* Hit counters, per worker, summed. */
	hf_ovr_count_hit(set, 0, m);
	hf_ovr_count_hit(set, 1, m);
	hf_ovr_count_hit(set, 1, m);
	assert_int_equal(hf_ovr_hits(set, 0), 3);
	hf_ovr_publish_hits(f->ov, f->dp);
	assert_int_equal(hf_shm_override_hits(f->cp)->generation, set->generation);
	assert_int_equal(hf_shm_override_hits(f->cp)->n_rules, 1);
	assert_int_equal(hf_shm_override_hits(f->cp)->hits[0], 3);
}

static void test_invalid(void **state)
{
	struct hf_ovr_rule_in r[4] = {
		RULE(0, HF_OVR_EXACT, "a.example."),
		RULE(1, HF_OVR_SUBTREE, "b.example."),
		RULE(2, HF_OVR_REGEX, "^ads?\\."),
		RULE(3, HF_OVR_REGEX, "foo("),
	};
	struct hf_ovr_image *img = (void *)1;
	char err[256];
	struct hf_ovr_rule_in bad;

	(void)state;
	assert_int_equal(hf_ovr_compile(r, 4, &img, err, sizeof(err)), -EINVAL);
	assert_null(img);
	assert_string_equal(err, "pattern 3 (/foo(/): Missing close parenthesis for group "
				 "started at index 3.");
	assert_int_equal(hf_ovr_validate(&r[3], err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "pattern 3 (/foo(/): Missing close parenthesis for group "
				 "started at index 3.");
	assert_int_equal(hf_ovr_validate(&r[2], err, sizeof(err)), 0);
	assert_int_equal(hf_ovr_validate(&r[1], err, sizeof(err)), 0);

	bad = (struct hf_ovr_rule_in)RULE(4, HF_OVR_SUBTREE, "a..example.");
	assert_int_equal(hf_ovr_validate(&bad, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "pattern 4 (a..example.): "));
	/* A pattern that matches the empty text is refused by Hyperscan. */
	bad = (struct hf_ovr_rule_in)RULE(5, HF_OVR_REGEX, "x*");
	assert_int_equal(hf_ovr_validate(&bad, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "pattern 5 (/x*/): "));
	bad = (struct hf_ovr_rule_in)RULE(6, HF_OVR_EXACT, "x.");
	bad.action = 0;
	assert_int_equal(hf_ovr_validate(&bad, err, sizeof(err)), -EINVAL);
}

static void test_specificity(void **state)
{
	struct fixture *f = *state;
	struct hf_ovr_rule_in r[] = {
		RULE(1, HF_OVR_REGEX, "example"),
		RULE(2, HF_OVR_REGEX, "^www\\."),
		RULE(5, HF_OVR_SUBTREE, "example.com."),
		RULE(9, HF_OVR_SUBTREE, "www.example.com."),
		RULE(12, HF_OVR_EXACT, "www.example.com."),
		RULE(11, HF_OVR_EXACT, "www.example.com."),
		RULE(20, HF_OVR_SUBTREE, "."),
		RULE(30, HF_OVR_SUBTREE, "b.example."),
		RULE(40, HF_OVR_EXACT, "a\\.b.example."),
		RULE(3, HF_OVR_REGEX, "^[0-9]+\\.x\\.$"),
	};
	const struct hf_ovr_set *set = apply(f, r, sizeof(r) / sizeof(r[0]));

	assert_int_equal(match_id(set, "www.example.com.", 1), 11);  /* exact, lowest id */
	assert_int_equal(match_id(set, "a.www.example.com.", 1), 9); /* longer subtree */
	assert_int_equal(match_id(set, "x.example.com.", 1), 5);
	assert_int_equal(match_id(set, "example.com.", 1), 5);       /* the subtree's own name */
	assert_int_equal(match_id(set, "myexample.com.", 1), 20);    /* regex 1 < root subtree */
	assert_int_equal(match_id(set, "www.other.", 1), 20);        /* root subtree beats regex */
	assert_int_equal(match_id(set, "other.", 1), 20);
	assert_int_equal(match_id(set, ".", 1), 20);
	/* An escaped dot is not a label boundary. */
	assert_int_equal(match_id(set, "a\\.b.example.", 1), 40);
	assert_int_equal(match_id(set, "c.b.example.", 1), 30);
	assert_int_equal(match_id(set, "a\\.b\\.example.", 1), 20);

	/* Without the root subtree, regexes decide. */
	set = apply(f, r, 6);
	assert_int_equal(match_id(set, "myexample.com.", 1), 1);
	assert_int_equal(match_id(set, "www.other.", 1), 2);
	assert_int_equal(match_id(set, "WWW.Example.org.", 1), 1);   /* both regexes: lowest id */
	assert_int_equal(match_id(set, "other.", 1), -1);
}

static void test_qtype(void **state)
{
	struct fixture *f = *state;
	struct hf_ovr_rule_in r[] = {
		RULE(1, HF_OVR_SUBTREE, "example."),
		RULE(2, HF_OVR_EXACT, "www.example."),
		RULE(3, HF_OVR_SUBTREE, "ads.test."),
	};
	const struct hf_ovr_set *set;

	r[1].qtype = 28;
	r[2].qtype = 1;
	set = apply(f, r, 3);
	assert_int_equal(match_id(set, "www.example.", 28), 2);
	assert_int_equal(match_id(set, "www.example.", 1), 1);  /* the exact rule is AAAA only */
	assert_int_equal(match_id(set, "x.ads.test.", 1), 3);
	assert_int_equal(match_id(set, "x.ads.test.", 28), -1);
}

static void test_answer(void **state)
{
	struct fixture *f = *state;
	static const uint8_t a4[] = { 192, 0, 2, 1 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	const struct hf_ovr_answer_in recs[] = {
		{ .type = 1, .ttl = 300, .rdlen = 4, .rdata = a4 },
		{ .type = 28, .ttl = 600, .rdlen = 16, .rdata = a6 },
	};
	struct hf_ovr_rule_in r = RULE(1, HF_OVR_EXACT, "local.test.");
	const struct hf_ovr_set *set;
	const struct hf_ovr_rule *m;
	uint8_t out[128];
	uint16_t an;

	r.action = HF_OVR_ANSWER;
	r.ede = HF_OVR_NO_EDE;
	r.answers = recs;
	r.n_answers = 2;
	set = apply(f, &r, 1);
	m = match(set, "local.test.", 1);
	assert_non_null(m);
	assert_int_equal(m->n_answers, 2);
	assert_int_equal(hf_ovr_render_answers(hf_ovr_answers(set), m, 1, out, sizeof(out),
					       &an), 16);
	assert_int_equal(an, 1);
	assert_memory_equal(out, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\x00\x02\x01",
			    16);
	assert_int_equal(hf_ovr_render_answers(hf_ovr_answers(set), m, 255, out, sizeof(out),
					       &an), 16 + 28);
	assert_int_equal(an, 2);
	assert_int_equal(hf_ovr_render_answers(hf_ovr_answers(set), m, 16, out, sizeof(out),
					       &an), 0);
	assert_int_equal(an, 0);
	assert_int_equal(hf_ovr_render_answers(hf_ovr_answers(set), m, 28, out, 10, &an), -1);
}

static void test_many(void **state)
{
	struct fixture *f = *state;
	enum { N = 10000 };
	struct hf_ovr_rule_in *r = calloc(N, sizeof(*r));
	char (*names)[64] = calloc(N, sizeof(*names));
	struct hf_ovr_image *img;
	const struct hf_ovr_set *set;

	assert_non_null(r);
	assert_non_null(names);
	for (unsigned i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "host%u.zone%u.example.", i, i % 97);
		r[i] = (struct hf_ovr_rule_in)RULE(i + 1, i % 2 ? HF_OVR_SUBTREE : HF_OVR_EXACT,
						   names[i]);
	}
	assert_int_equal(hf_ovr_compile(r, N, &img, f->err, sizeof(f->err)), 0);
	assert_true(img->len < HF_SHM_OVERRIDE_SLOT_SIZE);
	hf_ovr_image_free(img);
	set = apply(f, r, N);
	assert_int_equal(set->n_rules, N);
	assert_int_equal(match_id(set, "host4242.zone71.example.", 1), 4243);
	assert_int_equal(match_id(set, "a.host4242.zone71.example.", 1), -1);  /* exact */
	assert_int_equal(match_id(set, "a.host4243.zone72.example.", 1), 4244); /* subtree */
	assert_int_equal(match_id(set, "host4243.zone71.example.", 1), -1);
	assert_int_equal(match_id(set, "www.example.com.", 1), -1);
	free(r);
	free(names);
}

/* Double buffer: the control plane may run one generation ahead, no more. */
static void test_publish_protocol(void **state)
{
	struct fixture *f = *state;
	struct hf_ovr_rule_in r = RULE(1, HF_OVR_SUBTREE, "one.");
	struct hf_ovr_image *img[4];
	struct hf_ovr_status st;
	struct hf_ovr_dp_stats os;
	uint64_t gen;

	for (unsigned i = 0; i < 4; i++) {
		static const char *const p[] = { "one.", "two.", "three.", "four." };

		r.pattern = p[i];
		r.id = i + 1;
		assert_int_equal(hf_ovr_compile(&r, 1, &img[i], f->err, sizeof(f->err)), 0);
	}
	assert_int_equal(hf_ovr_publish(f->cp, img[0], &gen), 0);
	assert_int_equal(gen, 1);
	assert_int_equal(hf_ovr_publish(f->cp, img[1], &gen), 0);   /* slot 0: never used */
	assert_int_equal(gen, 2);
	assert_int_equal(hf_ovr_publish(f->cp, img[2], &gen), -EAGAIN); /* slot 1 holds gen 1 */
	hf_ovr_status_get(f->cp, &st);
	assert_int_equal(st.published, 2);
	assert_int_equal(st.loaded, 0);

	/* The dataplane skips to the newest. */
	assert_int_equal(hf_ovr_poll(f->ov, f->dp), 1);
	assert_int_equal(hf_ovr_current(f->ov)->generation, 2);
	assert_int_equal(match_id(hf_ovr_current(f->ov), "x.two.", 1), 2);
	assert_int_equal(hf_ovr_poll(f->ov, f->dp), 0);
	hf_ovr_status_get(f->cp, &st);
	assert_int_equal(st.loaded, 2);

	/* The old set (the empty one) waits for our quiescent state. */
	usleep(20000);
	hf_ovr_status_get(f->cp, &st);
	assert_int_equal(st.applied, 0);
	hf_ovr_stats(f->ov, &os);
	assert_int_equal(os.freed, 0);
	urcu_qsbr_thread_offline();
	urcu_qsbr_barrier();
	urcu_qsbr_thread_online();
	hf_ovr_status_get(f->cp, &st);
	assert_int_equal(st.applied, 2);
	hf_ovr_stats(f->ov, &os);
	assert_int_equal(os.freed, 1);
	assert_int_equal(os.applied, 1);

	assert_int_equal(hf_ovr_publish(f->cp, img[2], &gen), 0);
	assert_int_equal(gen, 3);
	assert_int_equal(hf_ovr_publish(f->cp, img[3], &gen), 0);
	assert_int_equal(gen, 4);
	assert_int_equal(hf_ovr_poll(f->ov, f->dp), 1);
	assert_int_equal(match_id(hf_ovr_current(f->ov), "four.", 1), 4);
	assert_int_equal(match_id(hf_ovr_current(f->ov), "two.", 1), -1);

	/* A torn or foreign slot is refused and reported; the set stays. */
	assert_int_equal(hf_ovr_publish(f->cp, img[0], &gen), 0);
	assert_int_equal(gen, 5);
	((struct hf_ovr_header *)hf_shm_override_slot(f->cp, 1))->magic ^= 1;
	assert_int_equal(hf_ovr_poll(f->ov, f->dp), -EBADMSG);
	hf_ovr_status_get(f->cp, &st);
	assert_int_equal(st.loaded, 5);
	assert_int_equal(st.error, -EBADMSG);
	assert_int_equal(st.error_generation, 5);
	assert_int_equal(hf_ovr_current(f->ov)->generation, 4);
	hf_ovr_stats(f->ov, &os);
	assert_int_equal(os.refused, 1);
	/* A database Hyperscan refuses. */
	hf_ovr_image_free(img[1]);
	r = (struct hf_ovr_rule_in)RULE(1, HF_OVR_REGEX, "^two\\.");
	assert_int_equal(hf_ovr_compile(&r, 1, &img[1], f->err, sizeof(f->err)), 0);
	assert_true(img[1]->db_len > 0);
	assert_int_equal(hf_ovr_publish(f->cp, img[1], &gen), 0);
	memset((uint8_t *)hf_shm_override_slot(f->cp, 0) + 64, 0x5a, 32);
	assert_int_equal(hf_ovr_poll(f->ov, f->dp), -EPROTO);
	assert_int_equal(hf_ovr_current(f->ov)->generation, 4);

	urcu_qsbr_thread_offline();
	urcu_qsbr_barrier();
	urcu_qsbr_thread_online();
	hf_ovr_status_get(f->cp, &st);
	assert_int_equal(st.applied, 4);
	for (unsigned i = 0; i < 4; i++)
		hf_ovr_image_free(img[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_text),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_specificity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qtype, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_protocol, setup, teardown),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
