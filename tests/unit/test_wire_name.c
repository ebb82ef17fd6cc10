#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"

static void assert_text_roundtrip(const char *in, const char *expect_text, int expect_len)
{
	uint8_t wire[HF_NAME_MAXLEN];
	char text[HF_NAME_TEXT_MAXLEN];

	assert_int_equal(hf_name_from_text(in, wire), expect_len);
	assert_int_equal(hf_name_len(wire), (size_t)expect_len);
	assert_int_equal(hf_name_to_text(wire, text, sizeof(text)), (int)strlen(expect_text));
	assert_string_equal(text, expect_text);
}

static void test_from_text(void **state)
{
	(void)state;
	uint8_t wire[HF_NAME_MAXLEN];

	assert_text_roundtrip(".", ".", 1);
	assert_text_roundtrip("", ".", 1);
	assert_text_roundtrip("com", "com.", 5);
	assert_text_roundtrip("www.Example.COM.", "www.Example.COM.", 17);
	assert_int_equal(hf_name_from_text("www.example.com", wire), 17);
	assert_memory_equal(wire, "\3www\7example\3com", 17);
	/* Escapes: \DDD and \X; special characters come back escaped. */
	assert_text_roundtrip("a\\.b.c", "a\\.b.c.", 7);
	assert_text_roundtrip("\\065\\066c", "ABc.", 5);
	assert_text_roundtrip("x\\000y", "x\\000y.", 5);
	assert_text_roundtrip("sp\\ ace", "sp\\032ace.", 8);
	assert_text_roundtrip("semi\\;colon", "semi\\;colon.", 12);
	assert_text_roundtrip("\\255", "\\255.", 3);
}

static void test_from_text_errors(void **state)
{
	(void)state;
	uint8_t wire[HF_NAME_MAXLEN];
	char label63[64], label64[65], text[400];

	memset(label63, 'a', 63);
	label63[63] = '\0';
	memset(label64, 'a', 64);
	label64[64] = '\0';
	assert_int_equal(hf_name_from_text(label63, wire), 65);
	assert_int_equal(hf_name_from_text(label64, wire), HF_ELABELLEN);
	assert_int_equal(hf_name_from_text("a..b", wire), HF_EEMPTYLABEL);
	assert_int_equal(hf_name_from_text(".a", wire), HF_EEMPTYLABEL);
	assert_int_equal(hf_name_from_text("a.b..", wire), HF_EEMPTYLABEL);
	assert_int_equal(hf_name_from_text("a\\", wire), HF_EBADESC);
	assert_int_equal(hf_name_from_text("a\\25", wire), HF_EBADESC);
	assert_int_equal(hf_name_from_text("a\\256", wire), HF_EBADESC);

	/* 127 labels of one octet = 254 octets + root = 255: the longest name. */
	text[0] = '\0';
	for (int i = 0; i < 127; i++)
		strcat(text, "a.");
	assert_int_equal(hf_name_from_text(text, wire), 255);
	assert_int_equal(hf_name_labels(wire), 127);
	strcat(text, "a");
	assert_int_equal(hf_name_from_text(text, wire), HF_ENAMELEN);

	/* 4 labels of 63 = 256 octets with root: one too many. */
	snprintf(text, sizeof(text), "%s.%s.%s.%s", label63, label63, label63, label63);
	assert_int_equal(hf_name_from_text(text, wire), HF_ENAMELEN);
	/* 3 x 63 + 61 = 255. */
	snprintf(text, sizeof(text), "%s.%s.%s.%.61s", label63, label63, label63, label63);
	assert_int_equal(hf_name_from_text(text, wire), 255);
}

static void test_to_text_space(void **state)
{
	(void)state;
	uint8_t wire[HF_NAME_MAXLEN];
	char text[16];

	assert_int_equal(hf_name_from_text("abcdefgh.", wire), 10);
	assert_int_equal(hf_name_to_text(wire, text, 8), HF_ESPACE);
	assert_int_equal(hf_name_to_text(wire, text, 9), HF_ESPACE);
	assert_int_equal(hf_name_to_text(wire, text, 10), 9);
	assert_int_equal(hf_name_to_text((const uint8_t *)"", text, 1), HF_ESPACE);
}

static void test_labels_lower_equal(void **state)
{
	(void)state;
	uint8_t a[HF_NAME_MAXLEN], b[HF_NAME_MAXLEN];

	hf_name_from_text("WwW.ExAmPlE.CoM", a);
	hf_name_from_text("www.example.com", b);
	assert_int_equal(hf_name_labels(a), 3);
	assert_int_equal(hf_name_labels((const uint8_t *)""), 0);
	assert_true(hf_name_equal(a, b));
	assert_memory_not_equal(a, b, 17);
	hf_name_lower(a);
	assert_memory_equal(a, b, 17);
	/* Only ASCII letters fold: 0xC4 and 0xE4 stay distinct. */
	hf_name_from_text("\\196", a);
	hf_name_from_text("\\228", b);
	assert_false(hf_name_equal(a, b));
	hf_name_from_text("example.com", a);
	hf_name_from_text("example.co", b);
	assert_false(hf_name_equal(a, b));
}

static void test_subdomain(void **state)
{
	(void)state;
	uint8_t n[HF_NAME_MAXLEN], z[HF_NAME_MAXLEN];
	static const struct { const char *name, *zone; bool below; } cases[] = {
		{ "www.example.com", "example.com", true },
		{ "example.com", "example.com", true },
		{ "EXAMPLE.com", "example.COM", true },
		{ "anything", ".", true },
		{ "example.com", "www.example.com", false },
		{ "badexample.com", "example.com", false },
		{ "example.com.de", "example.com", false },
		{ "a.b.c.d", "c.d", true },
		{ ".", "com", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hf_name_from_text(cases[i].name, n);
		hf_name_from_text(cases[i].zone, z);
		assert_int_equal(hf_name_is_subdomain(n, z), cases[i].below);
	}
}

/* RFC 4034 §6.1: the example names, in canonical order. */
static void test_canonical_order_rfc4034(void **state)
{
	(void)state;
	static const char *const sorted[] = {
		"example", "a.example", "yljkjljk.a.example", "Z.a.example",
		"zABC.a.EXAMPLE", "z.example", "\\001.z.example", "*.z.example",
		"\\200.z.example",
	};
	const size_t n = sizeof(sorted) / sizeof(sorted[0]);
	uint8_t a[HF_NAME_MAXLEN], b[HF_NAME_MAXLEN];

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			hf_name_from_text(sorted[i], a);
			hf_name_from_text(sorted[j], b);
			int c = hf_name_cmp_canonical(a, b);
			if (i < j)
				assert_true(c < 0);
			else if (i > j)
				assert_true(c > 0);
			else
				assert_int_equal(c, 0);
		}
	}
	hf_name_from_text("Example", a);
	hf_name_from_text("eXAMPLE", b);
	assert_int_equal(hf_name_cmp_canonical(a, b), 0);
	assert_true(hf_name_cmp_canonical((const uint8_t *)"", a) < 0);
}

static void test_unpack(void **state)
{
	(void)state;
	/* header, then "example.com" at 12, then "www" + pointer to 12 at 25 */
	uint8_t msg[64] = { 0 };
	uint8_t out[HF_NAME_MAXLEN];
	memcpy(msg + 12, "\7example\3com\0", 13);
	memcpy(msg + 25, "\3www\xc0\x0c", 6);
	size_t pos = 25;

	assert_int_equal(hf_name_unpack(msg, 31, &pos, out), 17);
	assert_int_equal(pos, 31);
	assert_memory_equal(out, "\3www\7example\3com", 17);

	pos = 25;  /* a pointer into its own name, to itself or forward is refused */
	msg[29] = 0xc0; msg[30] = 25;
	assert_int_equal(hf_name_unpack(msg, 31, &pos, out), HF_EPTRLOOP);
	msg[30] = 29;
	assert_int_equal(hf_name_unpack(msg, 31, &pos, out), HF_EPTRLOOP);
	msg[30] = 0x1e;
	assert_int_equal(hf_name_unpack(msg, 31, &pos, out), HF_EPTRLOOP);
	msg[30] = 40;
	assert_int_equal(hf_name_unpack(msg, 31, &pos, out), HF_EPTRRANGE);
	msg[30] = 3;  /* into the header */
	assert_int_equal(hf_name_unpack(msg, 31, &pos, out), HF_EPTRRANGE);
	msg[29] = 0x40;
	assert_int_equal(hf_name_unpack(msg, 31, &pos, out), HF_ELABELTYPE);
	msg[29] = 0x80;
	assert_int_equal(hf_name_unpack(msg, 31, &pos, out), HF_ELABELTYPE);
	msg[29] = 0xc0;
	assert_int_equal(hf_name_unpack(msg, 30, &pos, out), HF_ETRUNC);
	assert_int_equal(pos, 25);  /* unchanged on error */
}

static void test_check(void **state)
{
	(void)state;
	assert_int_equal(hf_name_check((const uint8_t *)"\3abc\0", 5), 5);
	assert_int_equal(hf_name_check((const uint8_t *)"\3abc\0", 4), HF_ETRUNC);
	assert_int_equal(hf_name_check((const uint8_t *)"\3ab", 3), HF_ETRUNC);
	assert_int_equal(hf_name_check((const uint8_t *)"\xc0\x0c", 2), HF_ELABELTYPE);
	assert_int_equal(hf_name_check((const uint8_t *)"", 0), HF_ETRUNC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_text),
		cmocka_unit_test(test_from_text_errors),
		cmocka_unit_test(test_to_text_space),
		cmocka_unit_test(test_labels_lower_equal),
		cmocka_unit_test(test_subdomain),
		cmocka_unit_test(test_canonical_order_rfc4034),
		cmocka_unit_test(test_unpack),
		cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
