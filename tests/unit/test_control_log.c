/*
 * control/log: level filtering and the line format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/log.h"

static char *captured(FILE *f, char **buf)
{
	fflush(f);
	return *buf;
}

static void test_format_and_levels(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	(void)state;
	assert_non_null(f);
	hf_log_set_stream(f);
	hf_log_set_level(HF_LOG_NOTICE);
	hf_log_error(SHM, "bad %d", 1);
	hf_log_info(TCP, "hidden");
	hf_log_debug(RESOLVE, "hidden too");
	hf_log_notice(RESOLVE, "shown");
	assert_string_equal(captured(f, &buf),
			    "holdfast-control: [error] [shm] bad 1\n"
			    "holdfast-control: [notice] [resolve] shown\n");
	hf_log_set_level(HF_LOG_DEBUG);
	assert_true(hf_log_enabled(HF_LOG_DEBUG));
	hf_log_debug(LOCAL, "now %s", "visible");
	assert_non_null(strstr(captured(f, &buf), "[debug] [local] now visible\n"));
	hf_log_set_stream(NULL);
	hf_log_set_level(HF_LOG_NOTICE);
	fclose(f);
	free(buf);
}

static void test_level_parse(void **state)
{
	(void)state;
	assert_int_equal(hf_log_level_parse("error"), HF_LOG_ERROR);
	assert_int_equal(hf_log_level_parse("warning"), HF_LOG_WARNING);
	assert_int_equal(hf_log_level_parse("debug"), HF_LOG_DEBUG);
	assert_true(hf_log_level_parse("loud") < 0);
	assert_true(hf_log_level_parse(NULL) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_and_levels),
		cmocka_unit_test(test_level_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
