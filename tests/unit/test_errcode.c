#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "include/holdfast/errcode.h"

static void test_every_code_has_text(void **state)
{
	(void)state;
	for (int c = HF_ETRUNC; c < HF_ERROR_LAST; c++) {
		const char *t = hf_strerror(c);
		assert_non_null(t);
		assert_string_not_equal(t, "unknown error");
		assert_true(strlen(t) > 5);
	}
}

static void test_errno_and_unknown(void **state)
{
	(void)state;
	assert_string_equal(hf_strerror(0), "success");
	assert_string_equal(hf_strerror(-ENOMEM), strerror(ENOMEM));
	assert_string_equal(hf_strerror(HF_ERROR_LAST), "unknown error");
	assert_string_equal(hf_strerror(-5000), "unknown error");
	assert_string_equal(hf_strerror(HF_EPTRLOOP),
			    "compression pointer loop (pointer does not point backwards)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_has_text),
		cmocka_unit_test(test_errno_and_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
