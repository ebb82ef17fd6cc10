/*
 * control/local: special-use names (RFC 6761, RFC 7686) answered locally.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "control/link.h"
#include "control/local.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/name.h"
#include "include/holdfast/pkt.h"
#include "include/holdfast/shm.h"

struct fixture {
	struct hf_local local;
	struct hf_rendered ans;
	struct hf_pkt pkt;
	struct hf_rr rr[8];
};

static int setup(void **state)
{
	static struct fixture f;
	static struct hf_conf conf;
	const char *names[] = { "localhost.", "invalid.", "onion.", "home.arpa." };

	memset(&f, 0, sizeof(f));
	hf_conf_defaults(&conf);
	conf.control.special_use_names_count = 4;
	for (unsigned i = 0; i < 4; i++)
		hf_name_from_text(names[i], conf.control.special_use_names[i]);
	hf_local_init(&f.local, &conf.control);
	*state = &f;
	return 0;
}

/* Render a question locally; returns hf_local_answer()'s code and parses the message. */
static int ask(struct fixture *f, const char *name, uint16_t qtype)
{
	uint8_t qname[HF_NAME_MAXLEN];
	int rc;

	hf_name_from_text(name, qname);
	hf_name_lower(qname);
	rc = hf_local_answer(&f->local, qname, qtype, HF_CLASS_IN, &f->ans);
	if (rc == 1)
		assert_int_equal(hf_pkt_parse(&f->pkt, f->ans.msg, f->ans.msg_len, f->rr, 8), 0);
	return rc;
}

static void test_match(void **state)
{
	struct fixture *f = *state;
	uint8_t n[HF_NAME_MAXLEN];

	hf_name_from_text("a.b.ONION", n);
	assert_non_null(hf_local_match(&f->local, n));
	hf_name_from_text("home.arpa", n);
	assert_non_null(hf_local_match(&f->local, n));
	hf_name_from_text("arpa", n);
	assert_null(hf_local_match(&f->local, n));
	hf_name_from_text("notlocalhost", n);
	assert_null(hf_local_match(&f->local, n));
	hf_name_from_text("www.example.com", n);
	assert_int_equal(hf_local_answer(&f->local, n, HF_TYPE_A, HF_CLASS_IN, &f->ans), 0);
}

static void test_localhost(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ask(f, "localhost", HF_TYPE_A), 1);
	assert_int_equal(f->pkt.ancount, 1);
	assert_int_equal(f->rr[0].type, HF_TYPE_A);
	assert_memory_equal(f->ans.msg + f->rr[0].rdata_off, "\x7f\0\0\1", 4);
	assert_int_equal(f->ans.rcode, HF_RCODE_NOERROR);
	assert_int_equal(f->ans.n_ttl, 1);
	assert_int_equal(f->ans.ede_len, 0);
	assert_false(f->ans.flags & HF_FILL_AD);

	assert_int_equal(ask(f, "foo.localhost", HF_TYPE_AAAA), 1);
	assert_int_equal(f->rr[0].type, HF_TYPE_AAAA);
	assert_int_equal(f->ans.msg[f->rr[0].rdata_off + 15], 1);

	/* Other types: NODATA with the SOA, so it can be cached negatively. */
	assert_int_equal(ask(f, "localhost", HF_TYPE_MX), 1);
	assert_int_equal(f->pkt.ancount, 0);
	assert_int_equal(f->pkt.nscount, 1);
	assert_int_equal(f->rr[0].type, HF_TYPE_SOA);
	assert_int_equal(f->ans.ttl, HF_LOCAL_TTL);
	assert_int_equal(ask(f, "localhost", HF_TYPE_SOA), 1);
	assert_int_equal(f->pkt.ancount, 1);
}

static void test_nxdomain(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "foo.invalid", "x.y.onion", "router.home.arpa", "invalid" };

	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(ask(f, names[i], HF_TYPE_A), 1);
		assert_int_equal(f->ans.rcode, HF_RCODE_NXDOMAIN);
		assert_int_equal(HF_FLAGS_RCODE(f->pkt.flags), HF_RCODE_NXDOMAIN);
		assert_int_equal(f->pkt.nscount, 1);
		assert_int_equal(f->rr[0].type, HF_TYPE_SOA);
		assert_true(f->ans.ede_len > 6);
		assert_int_equal(f->ans.ede[5], HF_EDE_OTHER);
	}
}

static void test_fill_roundtrip(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[HF_SHM_FILL_SLOT_SIZE];
	struct hf_fill_view v;
	const char *why = NULL;
	int len;

	assert_int_equal(ask(f, "a.onion", HF_TYPE_AAAA), 1);
	len = hf_link_fill_encode(&f->ans, 77, HF_VARIANT_DO, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(hf_msg_fill_decode(buf, (size_t)len, &v, &why), 0);
	assert_int_equal(v.hdr->req_id, 77);
	assert_int_equal(v.hdr->variant, HF_VARIANT_DO);
	assert_int_equal(v.hdr->rcode, HF_RCODE_NXDOMAIN);
	assert_int_equal(v.qtype, HF_TYPE_AAAA);

	assert_int_equal(hf_local_render_error(v.qname, HF_TYPE_A, HF_CLASS_IN, HF_RCODE_SERVFAIL,
					       HF_EDE_OTHER, "x", &f->ans), 0);
	assert_true(f->ans.flags & HF_FILL_NOCACHE);
	len = hf_link_fill_encode(&f->ans, 1, 0, buf, sizeof(buf));
	assert_int_equal(hf_msg_fill_decode(buf, (size_t)len, &v, &why), 0);
	assert_int_equal(v.hdr->rcode, HF_RCODE_SERVFAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_localhost),
		cmocka_unit_test(test_nxdomain),
		cmocka_unit_test(test_fill_roundtrip),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
