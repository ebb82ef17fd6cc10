#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "include/holdfast/build.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/msg.h"
#include "include/holdfast/name.h"
#include "include/holdfast/wire_ctx.h"

struct fixture {
	uint8_t msg[512];
	int msg_len;
	uint16_t ttl_off[2];
	uint8_t ede[128];
	int ede_len;
	struct hf_msg_fill hdr;
	uint8_t payload[1024];
	int payload_len;
};

static int setup(void **state)
{
	static struct fixture f;
	uint8_t name[HF_NAME_MAXLEN];
	struct hf_build b;

	memset(&f, 0, sizeof(f));
	hf_name_from_text("www.example.com", name);
	hf_build_init(&b, f.msg, sizeof(f.msg), 0, HF_FLAG_QR | HF_FLAG_RA);
	hf_build_question(&b, name, HF_TYPE_A, HF_CLASS_IN);
	f.ttl_off[0] = (uint16_t)hf_build_rr(&b, HF_SECTION_ANSWER, name, HF_TYPE_A, HF_CLASS_IN,
					     300, (const uint8_t *)"\xc0\x00\x02\x01", 4);
	f.ttl_off[1] = (uint16_t)hf_build_rr(&b, HF_SECTION_ANSWER, name, HF_TYPE_A, HF_CLASS_IN,
					     300, (const uint8_t *)"\xc0\x00\x02\x02", 4);
	f.msg_len = hf_build_finish(&b);
	f.ede_len = hf_ede_render(f.ede, sizeof(f.ede), HF_EDE_STALE_ANSWER, NULL);
	f.ede_len += hf_ede_render(f.ede + f.ede_len, sizeof(f.ede) - (size_t)f.ede_len,
				   HF_EDE_DNSSEC_BOGUS, "RRSIG with malformed signature");
	f.hdr = (struct hf_msg_fill){
		.req_id = 42, .ttl = 300, .rcode = HF_RCODE_NOERROR, .msg_len = (uint16_t)f.msg_len,
		.ede_len = (uint16_t)f.ede_len, .variant = HF_VARIANT_DO, .flags = HF_FILL_AD,
		.n_ttl = 2,
	};
	f.payload_len = hf_msg_fill_encode(f.payload, sizeof(f.payload), &f.hdr, f.ttl_off,
					   f.ede, f.msg);
	*state = &f;
	return f.payload_len > 0 ? 0 : -1;
}

static void test_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct hf_fill_view v;
	const char *why = NULL;

	assert_int_equal(f->payload_len, 24 + 4 + f->ede_len + f->msg_len);
	assert_int_equal(hf_msg_fill_decode(f->payload, (size_t)f->payload_len, &v, &why), 0);
	assert_int_equal(v.hdr->req_id, 42);
	assert_int_equal(v.hdr->flags, HF_FILL_AD);
	assert_int_equal(v.qtype, HF_TYPE_A);
	assert_int_equal(v.qclass, HF_CLASS_IN);
	assert_int_equal(v.question_end, 12 + 17 + 4);
	assert_memory_equal(v.qname, "\3www\7example\3com", 17);
	assert_int_equal(hf_wire_get_u32(v.msg + v.ttl_off[1]), 300);
	assert_memory_equal(v.ede, f->ede, (size_t)f->ede_len);
	assert_int_equal(hf_wire_get_u16(v.ede), HF_EDNS_OPT_EDE);
}

static void expect_bad(struct fixture *f, size_t len, const char *phrase)
{
	struct hf_fill_view v;
	const char *why = "";
	assert_int_equal(hf_msg_fill_decode(f->payload, len, &v, &why), -EBADMSG);
	if (!strstr(why, phrase))
		fail_msg("why \"%s\" does not say \"%s\"", why, phrase);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	struct hf_msg_fill *hdr = (struct hf_msg_fill *)f->payload;
	uint16_t *ttl_off = (uint16_t *)(f->payload + 24);
	size_t len = (size_t)f->payload_len;

	expect_bad(f, 10, "shorter");
	expect_bad(f, len - 1, "add up");
	ttl_off[1] = 12;  /* inside the question */
	expect_bad(f, len, "TTL offset");
	ttl_off[1] = (uint16_t)(f->msg_len - 3);
	expect_bad(f, len, "TTL offset");
	ttl_off[1] = f->ttl_off[1];

	uint8_t *ede = f->payload + 28;
	ede[3] = 200;  /* option longer than the options */
	expect_bad(f, len, "EDNS options");
	ede[3] = 2;

	uint8_t *msg = f->payload + 28 + f->ede_len;
	msg[5] = 2;  /* QDCOUNT 2 */
	expect_bad(f, len, "does not parse");
	msg[5] = 1;
	hdr->ede_len = 0;  /* now the lengths disagree */
	expect_bad(f, len, "add up");
}

static void test_encode_checks(void **state)
{
	struct fixture *f = *state;
	uint8_t small[32];
	uint16_t bad_off[2] = { 3, 3 };

	assert_int_equal(hf_msg_fill_encode(small, sizeof(small), &f->hdr, f->ttl_off, f->ede, f->msg),
			 HF_ESPACE);
	assert_int_equal(hf_msg_fill_encode(f->payload, sizeof(f->payload), &f->hdr, bad_off, f->ede,
					    f->msg), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_roundtrip, setup),
		cmocka_unit_test_setup(test_refusals, setup),
		cmocka_unit_test_setup(test_encode_checks, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
