/* Batch signature verifier (control/dnssec/verifier.c): callbacks, caches, coalescing, cancel, destroy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <uv.h>

#include "include/holdfast/errcode.h"
#include "control/dnssec/verifier.h"

/*! A signing key and its DNSKEY. */
struct tkey {
	EVP_PKEY *priv;
	uint8_t rdata[4 + 128];
	struct hf_dnskey dnskey;
};

/*! One signed message. */
struct tmsg {
	uint8_t data[100];
	uint8_t sig[128];
	size_t sig_len;
};

struct fixture {
	uv_loop_t loop;
	struct hf_verifier *v;
	struct tkey ed, ec;
};

static int calls, last_status, bad_calls;

static void count_cb(void *ctx, int status)
{
	(void)ctx;
	calls++;
	last_status = status;
	if (status != 0)
		bad_calls++;
}

static void never_cb(void *ctx, int status)
{
	(void)ctx;
	(void)status;
	fail_msg("callback called for a cancelled or destroyed check");
}

static void key_make(struct tkey *k, uint8_t alg)
{
	size_t n = 0;
	uint8_t pub[133];

	memset(k, 0, sizeof(*k));
	if (alg == 15) {
		k->priv = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		assert_non_null(k->priv);
		n = 32;
		assert_int_equal(EVP_PKEY_get_raw_public_key(k->priv, k->rdata + 4, &n), 1);
	} else {
		k->priv = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		assert_non_null(k->priv);
		assert_int_equal(EVP_PKEY_get_octet_string_param(k->priv, OSSL_PKEY_PARAM_PUB_KEY,
								 pub, sizeof(pub), &n), 1);
		assert_int_equal(n, 65);  /* 04 | x | y; DNSKEY keeps x | y (RFC 6605) */
		memcpy(k->rdata + 4, pub + 1, 64);
		n = 64;
	}
	k->rdata[0] = 1;     /* flags 257 */
	k->rdata[1] = 1;
	k->rdata[2] = 3;
	k->rdata[3] = alg;
	k->dnskey.flags = 257;
	k->dnskey.protocol = 3;
	k->dnskey.alg = alg;
	k->dnskey.key = k->rdata + 4;
	k->dnskey.key_len = (uint16_t)n;
	k->dnskey.rdata = k->rdata;
	k->dnskey.rdlen = (uint16_t)(4 + n);
}

static void msg_sign(const struct tkey *k, struct tmsg *m, unsigned seed)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[80];
	size_t len;

	for (size_t i = 0; i < sizeof(m->data); i++)
		m->data[i] = (uint8_t)(seed * 31 + i * 7 + (seed >> 8));
	assert_non_null(md);
	if (k->dnskey.alg == 15) {
		assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, k->priv), 1);
		len = sizeof(m->sig);
		assert_int_equal(EVP_DigestSign(md, m->sig, &len, m->data, sizeof(m->data)), 1);
		m->sig_len = len;
	} else {
		assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->priv), 1);
		len = sizeof(der);
		assert_int_equal(EVP_DigestSign(md, der, &len, m->data, sizeof(m->data)), 1);
		const uint8_t *p = der;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
		assert_non_null(es);
		const BIGNUM *r, *s;
		ECDSA_SIG_get0(es, &r, &s);
		assert_int_equal(BN_bn2binpad(r, m->sig, 32), 32);
		assert_int_equal(BN_bn2binpad(s, m->sig + 32, 32), 32);
		m->sig_len = 64;
		ECDSA_SIG_free(es);
	}
	EVP_MD_CTX_free(md);
}

static struct hf_verify_req req_of(const struct tkey *k, const struct tmsg *m)
{
	return (struct hf_verify_req){
		.key = &k->dnskey, .data = m->data, .len = sizeof(m->data),
		.sig = m->sig, .sig_len = m->sig_len,
		.valid_until = (uint64_t)time(NULL) + 3600,
	};
}

static struct hf_verifier *make(struct fixture *f, unsigned threads, size_t sig_cache)
{
	struct hf_verifier_config cfg = { .threads = threads, .sig_cache = sig_cache };
	char err[128] = "";
	struct hf_verifier *v = hf_verifier_create(&f->loop, &cfg, err, sizeof(err));
	if (v == NULL)
		fail_msg("hf_verifier_create: %s", err);
	return v;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	key_make(&f->ed, 15);
	key_make(&f->ec, 13);
	f->v = make(f, 2, 0);
	calls = last_status = bad_calls = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hf_verifier_destroy(f->v);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	/* Every handle closed and freed: the loop closes cleanly. */
	assert_int_equal(uv_loop_close(&f->loop), 0);
	EVP_PKEY_free(f->ed.priv);
	EVP_PKEY_free(f->ec.priv);
	free(f);
	return 0;
}

static void test_valid_then_cached(void **state)
{
	struct fixture *f = *state;
	struct hf_verifier_stats st;
	const struct tkey *keys[] = { &f->ed, &f->ec };

	for (unsigned k = 0; k < 2; k++) {
		struct tmsg m;
		msg_sign(keys[k], &m, k);
		struct hf_verify_req r = req_of(keys[k], &m);
		int status = 12345;

		calls = 0;
		assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, NULL), 0);
		uv_run(&f->loop, UV_RUN_DEFAULT);
		assert_int_equal(calls, 1);
		assert_int_equal(last_status, 0);

		hf_verifier_stats(f->v, &st);
		uint64_t hits = st.cache_hits;
		assert_int_equal(hf_verifier_check(f->v, &r, &status, never_cb, NULL), 1);
		assert_int_equal(status, 0);
		hf_verifier_stats(f->v, &st);
		assert_int_equal(st.cache_hits, hits + 1);
	}
	hf_verifier_stats(f->v, &st);
	assert_int_equal(st.verified, 2);
	assert_int_equal(st.submitted, 4);
	assert_true(st.batches >= 2);
}

static void test_bad_signature_not_cached(void **state)
{
	struct fixture *f = *state;
	struct hf_verifier_stats st;
	const struct tkey *keys[] = { &f->ed, &f->ec };

	for (unsigned k = 0; k < 2; k++) {
		struct tmsg m;
		msg_sign(keys[k], &m, 100 + k);
		struct hf_verify_req r = req_of(keys[k], &m);
		int status;

		m.data[17] ^= 0x04;
		for (int round = 0; round < 2; round++) {
			calls = 0;
			assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, NULL), 0);
			uv_run(&f->loop, UV_RUN_DEFAULT);
			assert_int_equal(calls, 1);
			assert_int_equal(last_status, HF_EBADSIG);
		}
		/* A flipped signature bit too. */
		m.data[17] ^= 0x04;
		m.sig[3] ^= 0x80;
		calls = 0;
		assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, NULL), 0);
		uv_run(&f->loop, UV_RUN_DEFAULT);
		assert_int_equal(last_status, HF_EBADSIG);
		m.sig[3] ^= 0x80;
		assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, NULL), 0);
		uv_run(&f->loop, UV_RUN_DEFAULT);
		assert_int_equal(last_status, 0);
	}
	hf_verifier_stats(f->v, &st);
	assert_int_equal(st.failures, 6);
	assert_int_equal(st.cache_hits, 0);
}

/* Data and signature contiguous: (data, sig) and (data minus its last byte,
 * that byte | sig) are the same bytes; only the second is forged. */
static void test_split_does_not_hit(void **state)
{
	struct fixture *f = *state;
	struct {
		uint8_t data[100];
		uint8_t sig[128];
	} buf;
	struct tmsg m;
	int status;

	msg_sign(&f->ed, &m, 7);
	memcpy(buf.data, m.data, sizeof(buf.data));
	memcpy(buf.sig, m.sig, m.sig_len);
	assert_int_equal(offsetof(__typeof__(buf), sig), 100);
	struct hf_verify_req r = req_of(&f->ed, &m);
	r.data = buf.data;
	r.sig = buf.sig;
	calls = 0;
	assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, NULL), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(last_status, 0);

	r.len -= 1;
	r.sig = buf.data + 99;
	r.sig_len += 1;
	assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, NULL), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(calls, 2);
	assert_int_not_equal(last_status, 0);
}

static void test_expired_not_cached(void **state)
{
	struct fixture *f = *state;
	struct tmsg m;
	int status;

	msg_sign(&f->ed, &m, 9);
	struct hf_verify_req r = req_of(&f->ed, &m);
	r.valid_until = (uint64_t)time(NULL) - 1;
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, NULL), 0);
		uv_run(&f->loop, UV_RUN_DEFAULT);
		assert_int_equal(calls, i);
		assert_int_equal(last_status, 0);
	}
}

static void test_bad_key_known_at_once(void **state)
{
	struct fixture *f = *state;
	struct tmsg m;
	int status = 0;

	msg_sign(&f->ed, &m, 11);
	struct tkey k = f->ed;
	k.dnskey.rdata = k.rdata;
	k.dnskey.key = k.rdata + 4;
	k.dnskey.key_len = 31;   /* an Ed25519 key is 32 octets */
	k.dnskey.rdlen = 35;
	struct hf_verify_req r = req_of(&k, &m);
	assert_int_equal(hf_verifier_check(f->v, &r, &status, never_cb, NULL), 1);
	assert_true(status == HF_EKEY || status == HF_ECRYPTO);

	k.dnskey.alg = 200;
	k.rdata[3] = 200;
	k.dnskey.key_len = 32;
	k.dnskey.rdlen = 36;
	r = req_of(&k, &m);
	assert_int_equal(hf_verifier_check(f->v, &r, &status, never_cb, NULL), 1);
	assert_int_equal(status, HF_EALGORITHM);
}

#define MANY 1000
#define DISTINCT 250

static void test_many_concurrent_coalesced(void **state)
{
	struct fixture *f = *state;
	struct hf_verifier_stats st;
	static struct tmsg m[DISTINCT];
	int status;

	for (unsigned i = 0; i < DISTINCT; i++)
		msg_sign(i % 2 ? &f->ec : &f->ed, &m[i], 1000 + i);
	calls = 0;
	for (unsigned i = 0; i < MANY; i++) {
		unsigned d = i % DISTINCT;
		struct hf_verify_req r = req_of(d % 2 ? &f->ec : &f->ed, &m[d]);
		assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, (void *)(uintptr_t)i), 0);
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(calls, MANY);
	assert_int_equal(bad_calls, 0);
	hf_verifier_stats(f->v, &st);
	assert_int_equal(st.submitted, MANY);
	assert_int_equal(st.verified, DISTINCT);
	assert_int_equal(st.coalesced, MANY - DISTINCT);
	assert_int_equal(st.cache_hits, 0);
	/* Submitted in one loop turn: one batch. */
	assert_int_equal(st.batches, 1);

	for (unsigned d = 0; d < DISTINCT; d++) {
		struct hf_verify_req r = req_of(d % 2 ? &f->ec : &f->ed, &m[d]);
		assert_int_equal(hf_verifier_check(f->v, &r, &status, never_cb, NULL), 1);
	}
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct tmsg m1, m2;
	int status, a, b, c;

	msg_sign(&f->ed, &m1, 21);
	msg_sign(&f->ec, &m2, 22);
	struct hf_verify_req r1 = req_of(&f->ed, &m1), r2 = req_of(&f->ec, &m2);
	assert_int_equal(hf_verifier_check(f->v, &r1, &status, never_cb, &a), 0);
	assert_int_equal(hf_verifier_check(f->v, &r1, &status, count_cb, &b), 0);
	assert_int_equal(hf_verifier_check(f->v, &r2, &status, never_cb, &a), 0);
	assert_int_equal(hf_verifier_check(f->v, &r2, &status, never_cb, &c), 0);
	hf_verifier_cancel(f->v, &a);
	/* Once the batch is out too. */
	uv_run(&f->loop, UV_RUN_NOWAIT);
	hf_verifier_cancel(f->v, &c);
	hf_verifier_cancel(f->v, &c);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(calls, 1);
	assert_int_equal(last_status, 0);
	/* The cancelled checks still ran, and their results were cached. */
	assert_int_equal(hf_verifier_check(f->v, &r2, &status, never_cb, NULL), 1);
	assert_int_equal(status, 0);
}

static void test_destroy_in_flight(void **state)
{
	struct fixture *f = *state;
	static struct tmsg m[200];
	int status;

	for (unsigned i = 0; i < 200; i++)
		msg_sign(i % 2 ? &f->ec : &f->ed, &m[i], 5000 + i);
	/* Half handed to the pool, half still in the batch. */
	for (unsigned i = 0; i < 200; i++) {
		struct hf_verify_req r = req_of(i % 2 ? &f->ec : &f->ed, &m[i]);
		assert_int_equal(hf_verifier_check(f->v, &r, &status, never_cb, NULL), 0);
		if (i == 99)
			uv_run(&f->loop, UV_RUN_NOWAIT);
	}
	hf_verifier_destroy(f->v);
	f->v = NULL;
	/* Let results that were already posted reach the (closed) async: nothing runs. */
	uv_run(&f->loop, UV_RUN_DEFAULT);
}

static struct hf_verifier *destroy_me;

static void destroy_cb(void *ctx, int status)
{
	(void)ctx;
	assert_int_equal(status, 0);
	calls++;
	hf_verifier_destroy(destroy_me);
}

static void test_destroy_from_callback(void **state)
{
	struct fixture *f = *state;
	static struct tmsg m[50];
	int status;

	for (unsigned i = 0; i < 50; i++)
		msg_sign(&f->ed, &m[i], 7000 + i);
	destroy_me = f->v;
	calls = 0;
	for (unsigned i = 0; i < 50; i++) {
		struct hf_verify_req r = req_of(&f->ed, &m[i]);
		assert_int_equal(hf_verifier_check(f->v, &r, &status, destroy_cb, NULL), 0);
		assert_int_equal(hf_verifier_check(f->v, &r, &status, destroy_cb, NULL), 0);
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(calls, 1);
	f->v = NULL;
}

static void test_sig_cache_bounded(void **state)
{
	struct fixture *f = *state;
	struct hf_verifier_stats st;
	static struct tmsg m[20];
	int status;

	hf_verifier_destroy(f->v);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	f->v = make(f, 1, 4);
	for (unsigned i = 0; i < 20; i++) {
		msg_sign(&f->ed, &m[i], 9000 + i);
		struct hf_verify_req r = req_of(&f->ed, &m[i]);
		assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, NULL), 0);
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	unsigned hits = 0;
	for (unsigned i = 0; i < 20; i++) {
		struct hf_verify_req r = req_of(&f->ed, &m[i]);
		int rc = hf_verifier_check(f->v, &r, &status, count_cb, NULL);
		assert_true(rc == 0 || rc == 1);
		hits += rc == 1;
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_true(hits >= 1 && hits <= 4);
	hf_verifier_stats(f->v, &st);
	assert_int_equal(st.cache_hits, hits);
	assert_int_equal(bad_calls, 0);
}

/* The check hash covers the key (by its hash): a valid (data, signature)
 * pair checked with another key of the same algorithm is no hit. */
static void test_other_key_does_not_hit(void **state)
{
	struct fixture *f = *state;
	struct tkey other;
	struct tmsg m;
	int status;

	key_make(&other, 15);
	msg_sign(&f->ed, &m, 21);
	struct hf_verify_req r = req_of(&f->ed, &m);
	calls = 0;
	assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, NULL), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(calls, 1);
	assert_int_equal(last_status, 0);
	assert_int_equal(hf_verifier_check(f->v, &r, &status, never_cb, NULL), 1);

	r = req_of(&other, &m);
	assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, NULL), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(calls, 2);
	assert_int_equal(last_status, HF_EBADSIG);
	/* And the failure was not cached either. */
	assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, NULL), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(calls, 3);
	assert_int_equal(last_status, HF_EBADSIG);
	EVP_PKEY_free(other.priv);
}

#define TURNS 30
#define PER_TURN 7

/* Many small batches, one per loop turn, onto four threads: every result
 * comes back although wake-ups (condition variable, eventfd) are only sent
 * to threads that wait and to a loop whose done list was empty. */
static void test_many_turns_many_threads(void **state)
{
	struct fixture *f = *state;
	struct hf_verifier_stats st;
	static struct tmsg m[TURNS * PER_TURN];
	int status;

	hf_verifier_destroy(f->v);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	f->v = make(f, 4, 0);
	for (unsigned i = 0; i < TURNS * PER_TURN; i++)
		msg_sign(i % 3 ? &f->ed : &f->ec, &m[i], (20 + i) * 256);  /* distinct data */
	calls = 0;
	for (unsigned t = 0; t < TURNS; t++) {
		for (unsigned k = 0; k < PER_TURN; k++) {
			unsigned i = t * PER_TURN + k;
			struct hf_verify_req r = req_of(i % 3 ? &f->ed : &f->ec, &m[i]);
			assert_int_equal(hf_verifier_check(f->v, &r, &status, count_cb, NULL), 0);
		}
		uv_run(&f->loop, UV_RUN_NOWAIT);
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(calls, TURNS * PER_TURN);
	assert_int_equal(bad_calls, 0);
	hf_verifier_stats(f->v, &st);
	assert_int_equal(st.verified, TURNS * PER_TURN);
	assert_int_equal(st.coalesced + st.cache_hits, 0);
	assert_int_equal(st.batches, TURNS);
	/* An idle verifier does not keep the loop alive (the eventfd's poll
	 * handle is unreferenced again). */
	assert_int_equal(uv_run(&f->loop, UV_RUN_NOWAIT), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_then_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_signature_not_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_does_not_hit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_not_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_key_known_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_concurrent_coalesced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sig_cache_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_key_does_not_hit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_turns_many_threads, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
