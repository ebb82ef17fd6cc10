/* Trust anchors (control/dnssec/anchor.c): DS and DNSKEY files, errors with file and line, built-ins. */
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

#include <openssl/evp.h>

#include "include/holdfast/wire_ctx.h"
#include "control/dnssec/anchor.h"
#include "tests/unit/hex.h"
#include "tests/unit/resolver_pkt.h"

static char tmp_path[64];

/* Writes text to a fresh temporary file; its name is in tmp_path. */
static const char *write_tmp(const char *text)
{
	snprintf(tmp_path, sizeof(tmp_path), "/tmp/hf-anchor-XXXXXX");
	int fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return tmp_path;
}

static int load_text(const char *text, struct hf_anchors *as, char *err, size_t err_size)
{
	const char *path = write_tmp(text);
	int ret = hf_anchors_load(path, as, err, err_size);
	unlink(path);
	return ret;
}

static const uint8_t *rd(const struct hf_rrset *s, unsigned i, uint16_t *len)
{
	assert_non_null(s);
	const uint8_t *p = hf_rrset_rdata(s, i, len);
	assert_non_null(p);
	return p;
}

#define DS_2017 "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
#define DS_2024 "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16"

static void expect_ds(const struct hf_rrset *s, unsigned i, uint16_t tag, uint8_t alg, uint8_t dt,
		      const char *digest_hex)
{
	uint16_t len;
	const uint8_t *p = rd(s, i, &len);
	uint8_t digest[64];
	int dl = hex_decode(digest_hex, digest, sizeof(digest));
	assert_true(dl > 0);
	assert_int_equal(len, 4 + dl);
	assert_int_equal(hf_wire_get_u16(p), tag);
	assert_int_equal(p[2], alg);
	assert_int_equal(p[3], dt);
	assert_memory_equal(p + 4, digest, (size_t)dl);
}

static void test_builtin_root(void **state)
{
	(void)state;
	static struct hf_anchors as;
	char err[256] = "";
	for (int k = 0; k < 2; k++) {
		assert_int_equal(hf_anchors_load(k ? "" : NULL, &as, err, sizeof(err)), 0);
		assert_int_equal(as.n, 1);
		assert_int_equal(as.a[0].zone[0], 0);
		assert_null(as.a[0].dnskey);
		assert_int_equal(as.a[0].ds->n_rr, 2);
		assert_int_equal(as.a[0].ds->n_sig, 0);
		assert_int_equal(as.a[0].ds->type, HF_TYPE_DS);
		assert_int_equal(as.a[0].ds->rclass, HF_CLASS_IN);
		expect_ds(as.a[0].ds, 0, 20326, 8, 2, DS_2017);
		expect_ds(as.a[0].ds, 1, 38696, 8, 2, DS_2024);
		assert_ptr_equal(hf_anchors_find(&as, N("www.example.com.")), &as.a[0]);
		assert_ptr_equal(hf_anchors_find(&as, N(".")), &as.a[0]);
		hf_anchors_free(&as);
		assert_int_equal(as.n, 0);
	}
}

static void test_good_ds(void **state)
{
	(void)state;
	static struct hf_anchors as;
	char err[256] = "";
	/* As ldns-key2ds -n -2 prints it (after the lab's TTL rewrite), and variants. */
	const char *text =
		"; holdfast lab root trust anchor\n"
		".\t3600\tIN\tDS\t20326 8 2 " DS_2017 "\n"
		"\n"
		"Example.COM. IN 300 DS 12345 13 2 " DS_2024 " ; class before TTL, comment\n"
		"example.com. DS 54321 13 1 ( 0123456789abcdef0123\n"
		"                             456789ABCDEF01234567 )\n";
	assert_int_equal(load_text(text, &as, err, sizeof(err)), 0);
	assert_int_equal(as.n, 2);
	assert_int_equal(as.a[0].zone[0], 0);
	expect_ds(as.a[0].ds, 0, 20326, 8, 2, DS_2017);
	assert_true(hf_name_equal(as.a[1].zone, N("example.com.")));
	assert_memory_equal(as.a[1].zone, N("example.com."), hf_name_len(N("example.com.")));  /* lower case */
	assert_int_equal(as.a[1].ds->n_rr, 2);
	assert_int_equal(as.a[1].ds->ttl, 300);
	expect_ds(as.a[1].ds, 0, 12345, 13, 2, DS_2024);
	expect_ds(as.a[1].ds, 1, 54321, 13, 1, "0123456789abcdef0123456789ABCDEF01234567");
	assert_null(as.a[1].dnskey);
	hf_anchors_free(&as);
}

/* A DNSKEY with a key of key_len octets, its base64 split as the caller asks. */
static void check_dnskey(size_t key_len, bool multiline)
{
	static struct hf_anchors as;
	char err[256] = "";
	uint8_t key[300];
	for (size_t i = 0; i < key_len; i++)
		key[i] = (uint8_t)(i * 37 + key_len);
	char b64[420];
	int bl = EVP_EncodeBlock((unsigned char *)b64, key, (int)key_len);
	assert_true(bl > 8);
	char text[1200];
	if (multiline)
		snprintf(text, sizeof(text),
			 "; a comment line\n"
			 "example. 3600 IN DNSKEY 257 3 13 (\n"
			 "\t\t%.*s ; first part\n"
			 "\t\t%.*s\n"
			 "\t\t%s\n"
			 "\t\t) ; KSK; alg = ECDSAP256SHA256 ; key id = 1\n",
			 8, b64, 12, b64 + 8, b64 + 20);
	else
		snprintf(text, sizeof(text), "example. 3600 IN DNSKEY 256 3 8 %s\n", b64);
	assert_int_equal(load_text(text, &as, err, sizeof(err)), 0);
	assert_int_equal(as.n, 1);
	assert_null(as.a[0].ds);
	assert_int_equal(as.a[0].dnskey->type, HF_TYPE_DNSKEY);
	uint16_t len;
	const uint8_t *p = rd(as.a[0].dnskey, 0, &len);
	assert_int_equal(len, 4 + key_len);
	assert_int_equal(hf_wire_get_u16(p), multiline ? 257 : 256);
	assert_int_equal(p[2], 3);
	assert_int_equal(p[3], multiline ? 13 : 8);
	assert_memory_equal(p + 4, key, key_len);
	hf_anchors_free(&as);
}

static void test_good_dnskey(void **state)
{
	(void)state;
	/* 64, 65, 66 octets: base64 with two, one and no '=' of padding. */
	for (size_t len = 64; len <= 66; len++) {
		check_dnskey(len, false);
		check_dnskey(len, true);
	}
	check_dnskey(260, true);  /* an RSA-2048 key and exponent */
}

/* The lab's root.key: DS and DNSKEY of the same key, one zone. */
static void test_ds_and_dnskey(void **state)
{
	(void)state;
	static struct hf_anchors as;
	char err[256] = "";
	const char *text =
		"; holdfast lab root trust anchor (KSK, key tag 20326), generated 2026-01-01T00:00:00Z.\n"
		"; New keys are made at every 'scripts/lab start': reload this file after a start.\n"
		".\t3600\tIN\tDS\t20326 8 2 " DS_2017 "\n"
		". 3600 IN DNSKEY 257 3 8 AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjF\n";
	assert_int_equal(load_text(text, &as, err, sizeof(err)), 0);
	assert_int_equal(as.n, 1);
	assert_int_equal(as.a[0].ds->n_rr, 1);
	assert_int_equal(as.a[0].dnskey->n_rr, 1);
	hf_anchors_free(&as);
}

static void expect_error(const char *text, int line, const char *want)
{
	static struct hf_anchors as;
	char err[256] = "", prefix[96], full[400];
	const char *path = write_tmp(text);
	int ret = hf_anchors_load(path, &as, err, sizeof(err));
	unlink(path);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(as.n, 0);
	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	else
		prefix[0] = '\0';
	snprintf(full, sizeof(full), "%s%s", prefix, want);
	if (strncmp(err, full, strlen(full)) != 0)
		fail_msg("error '%s' does not start with '%s'", err, full);
}

static void test_errors(void **state)
{
	(void)state;
	const char *ds = ". IN DS 20326 8 2 " DS_2017 "\n";
	char text[4096];

	snprintf(text, sizeof(text), "%s. IN NS a.root-servers.net.\n", ds);
	expect_error(text, 2, "unexpected type 'NS' (only DS and DNSKEY)");
	expect_error("; c\n\n. 3600 IN FOO 1 2 3\n", 3, "unexpected type 'FOO'");
	expect_error(". 3600 CH DS 20326 8 2 " DS_2017 "\n", 1, "wrong class 'CH' (only IN)");
	expect_error(". CLASS3 DS 20326 8 2 " DS_2017 "\n", 1, "wrong class 'CLASS3'");
	expect_error(". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8ECXX\n",
		     1, "bad DS digest (hex expected)");
	expect_error(". IN DS 20326 8 2 E06D4\n", 1, "bad DS digest (hex expected)");
	expect_error(". IN DS 20326 8 2 E06D44\n", 1, "DS digest of 3 octets, digest type 2 needs 32");
	expect_error(". IN DS 70000 8 2 " DS_2017 "\n", 1, "bad DS key tag '70000'");
	expect_error(". IN DS 20326 8 2\n", 1, "DS needs key tag");
	expect_error(". IN DNSKEY 257 3 8 AwEAAa!z\n", 1, "bad DNSKEY key (base64 expected)");
	expect_error(". IN DNSKEY 257 3 8 AwEAAaz\n", 1, "bad DNSKEY key (base64 expected)");
	expect_error(". IN DNSKEY 257 3 8 Aw=AAaz=\n", 1, "bad DNSKEY key (base64 expected)");
	expect_error("\n. IN DNSKEY 257 2 8 AwEAAazA\n", 2, "DNSKEY protocol '2', must be 3");
	expect_error("\n\n. IN DNSKEY 257 3 8 (\n AwEAAazA\n", 3, "'(' without ')'");
	expect_error(". IN DNSKEY 257 3 8 AwEAAazA )\n", 1, "')' without '('");
	/* A record over several lines is reported at the line it starts on. */
	expect_error(";\n. IN DNSKEY 257 3 8 (\n AwEAAazA\n Aw!! )\n", 2, "bad DNSKEY key");
	expect_error("..bad IN DS 20326 8 2 " DS_2017 "\n", 1, "bad owner name '..bad'");
	expect_error("$ORIGIN example.\n", 1, "directive '$ORIGIN' is not supported");
	expect_error(".\n", 1, "expected 'owner [TTL] [IN] DS|DNSKEY rdata'");

	/* Too many zones: the 17th distinct owner. */
	size_t n = 0;
	for (unsigned i = 0; i <= HF_ANCHOR_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "z%u. IN DS 1 8 2 %s\n", i, DS_2017);
	char want[64];
	snprintf(want, sizeof(want), "more than %u zones with trust anchors", HF_ANCHOR_MAX);
	expect_error(text, HF_ANCHOR_MAX + 1, want);
	/* Many records for the same zones are fine. */
	n = 0;
	for (unsigned i = 0; i < 3 * HF_ANCHOR_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "z%u. DS %u 8 2 %s\n", i % HF_ANCHOR_MAX, i, DS_2017);
	static struct hf_anchors as;
	char err[256];
	assert_int_equal(load_text(text, &as, err, sizeof(err)), 0);
	assert_int_equal(as.n, HF_ANCHOR_MAX);
	assert_int_equal(as.a[HF_ANCHOR_MAX - 1].ds->n_rr, 3);
	hf_anchors_free(&as);
}

static void test_empty_and_missing(void **state)
{
	(void)state;
	static struct hf_anchors as;
	char err[256] = "", want[128];
	const char *path = write_tmp("; only a comment\n\n   \n");
	assert_int_equal(hf_anchors_load(path, &as, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "no trust anchors in %s", path);
	assert_string_equal(err, want);
	unlink(path);

	path = write_tmp("");
	assert_int_equal(hf_anchors_load(path, &as, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "no trust anchors in %s", path);
	assert_string_equal(err, want);
	unlink(path);

	assert_int_equal(hf_anchors_load("/nonexistent/root.key", &as, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/root.key: No such file or directory");
}

static void test_find_closest(void **state)
{
	(void)state;
	static struct hf_anchors as;
	char err[256] = "";
	const char *text =
		". DS 1 8 2 " DS_2017 "\n"
		"sub.example. DS 3 8 2 " DS_2017 "\n"
		"example. DS 2 8 2 " DS_2017 "\n";
	assert_int_equal(load_text(text, &as, err, sizeof(err)), 0);
	assert_int_equal(as.n, 3);
	/* The closest anchor wins, whatever the order in the file. */
	assert_ptr_equal(hf_anchors_find(&as, N("www.sub.example.")), &as.a[1]);
	assert_ptr_equal(hf_anchors_find(&as, N("SUB.example.")), &as.a[1]);
	assert_ptr_equal(hf_anchors_find(&as, N("example.")), &as.a[2]);
	assert_ptr_equal(hf_anchors_find(&as, N("bus.example.")), &as.a[2]);
	assert_ptr_equal(hf_anchors_find(&as, N("org.")), &as.a[0]);
	assert_ptr_equal(hf_anchors_find(&as, N(".")), &as.a[0]);
	hf_anchors_free(&as);

	assert_int_equal(load_text("example. DS 2 8 2 " DS_2017 "\n", &as, err, sizeof(err)), 0);
	assert_null(hf_anchors_find(&as, N("org.")));
	assert_null(hf_anchors_find(&as, N("xexample.")));
	assert_null(hf_anchors_find(&as, N(".")));
	assert_non_null(hf_anchors_find(&as, N("a.example.")));
	hf_anchors_free(&as);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_root),
		cmocka_unit_test(test_good_ds),
		cmocka_unit_test(test_good_dnskey),
		cmocka_unit_test(test_ds_and_dnskey),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_empty_and_missing),
		cmocka_unit_test(test_find_closest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
