/* Root hints parser (control/resolver/hints.c): the named.root layout, and errors that name file and line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "control/resolver/hints.h"
#include "tests/unit/resolver_pkt.h"

static void test_named_root_layout(void **state)
{
	(void)state;
	static struct hf_hints h;
	char err[128] = "";
	const char *text =
		";       comment\n"
		"\n"
		".                        3600000      NS    A.ROOT-SERVERS.NET.\n"
		"A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4\n"
		"A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30\n"
		"; a second server, address first, with a class\n"
		"b.root-servers.net.      3600000  IN  A     170.247.170.2\n"
		".                        3600000  IN  NS    b.root-servers.net. ; trailing comment\n";
	assert_int_equal(hf_hints_parse(text, "named.root", &h, err, sizeof(err)), 0);
	assert_int_equal(h.n_ns, 2);
	assert_true(hf_name_equal(h.ns[0].name, N("a.root-servers.net.")));
	assert_int_equal(h.ns[0].n_addr, 2);
	assert_int_equal(h.ns[0].addr[1].sa.sa_family, AF_INET6);
	assert_int_equal(h.ns[1].n_addr, 1);
}

static void expect_error(const char *text, const char *want)
{
	static struct hf_hints h;
	char err[160] = "";
	assert_int_equal(hf_hints_parse(text, "root.hints", &h, err, sizeof(err)), -EINVAL);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_errors_name_file_and_line(void **state)
{
	(void)state;
	expect_error(". NS a.root.\na.root. A 1.2.3\n", "root.hints:2: bad A address '1.2.3'");
	expect_error("; c\n\n. NS a.root.\na.root. AAAA 1.2.3.4\n", "root.hints:4: bad AAAA address");
	expect_error(". NS a.root.\na.root. MX 10 x.\n", "root.hints:2: unexpected type 'MX'");
	expect_error("com. NS a.root.\n", "root.hints:1: NS record for 'com.', not the root");
	expect_error(". NS a.root.\nb.root. A 192.0.2.1\n", "root.hints:2: address for a name that is no root server");
	expect_error(". NS a.root.\n", "no address for any root server");
	expect_error("; nothing\n", "root.hints: no '. NS' record");
	expect_error(". NS\n", "root.hints:1: expected 'owner [ttl] [IN] type rdata'");
	expect_error(". NS a..root.\n", "root.hints:1: bad NS name");
}

static void test_missing_file(void **state)
{
	(void)state;
	static struct hf_hints h;
	char err[160] = "";
	assert_int_equal(hf_hints_load("/nonexistent/root.hints", &h, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/root.hints"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_root_layout),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
