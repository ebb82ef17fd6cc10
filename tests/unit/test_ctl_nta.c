/*
 * control/ctl/nta: the Negative Trust Anchor store — limits, lookup of the
 * covering NTA, expiry, persistence and its errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "control/ctl/ctl_util.h"
#include "control/ctl/nta.h"
#include "include/holdfast/name.h"

#define NOW 1778000000

static const uint8_t *wire(const char *text)
{
	static uint8_t buf[8][HF_NAME_MAXLEN];
	static unsigned i;
	uint8_t *b = buf[i++ % 8];

	assert_true(hf_name_from_text(text, b) > 0);
	return b;
}

static void add(struct hf_nta_store *s, const char *zone, uint64_t lifetime, int want)
{
	char err[256] = "";

	assert_int_equal(hf_nta_add(s, wire(zone), lifetime, "test", NOW, err, sizeof(err)), want);
}

static void test_add_limits(void **state)
{
	struct hf_nta_store *s = hf_nta_store_create();
	char err[256], reason[HF_NTA_REASON_MAX + 2];
	const struct hf_nta *n;

	(void)state;
	add(s, "Example.COM.", 0, 0);
	n = hf_nta_get(s, wire("example.com."));
	assert_non_null(n);
	assert_int_equal(n->expires - n->added, HF_NTA_LIFETIME_DEFAULT);
	assert_memory_equal(n->zone, "\7example\3com", 13);  /* lower-cased */
	add(s, "example.com.", 7200, 1);                      /* re-adding updates */
	assert_int_equal(hf_nta_count(s), 1);
	assert_int_equal(hf_nta_get(s, wire("example.com."))->expires, NOW + 7200);
	add(s, "week.", HF_NTA_LIFETIME_MAX, 0);
	assert_int_equal(hf_nta_add(s, wire("de."), HF_NTA_LIFETIME_MAX + 1, NULL, NOW, err,
				    sizeof(err)), -ERANGE);
	assert_string_equal(err, "lifetime 1w1s exceeds the maximum of 1w");
	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	assert_int_equal(hf_nta_add(s, wire("de."), 60, reason, NOW, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "reason is 257 bytes long"));
	assert_int_equal(hf_nta_add(s, wire("de."), 60, "a\nb", NOW, err, sizeof(err)), -EINVAL);
	assert_int_equal(hf_nta_add(s, wire("de."), 60, "\xff", NOW, err, sizeof(err)), -EINVAL);
	assert_int_equal(hf_nta_add(s, wire("de."), 60, "Bogus DS für .de", NOW, err, sizeof(err)), 0);
	hf_nta_store_destroy(s);
}

static void test_max_count(void **state)
{
	struct hf_nta_store *s = hf_nta_store_create();
	char name[64], err[256];

	(void)state;
	for (unsigned i = 0; i < HF_NTA_MAX; i++) {
		snprintf(name, sizeof(name), "z%u.example.", i);
		add(s, name, 60, 0);
	}
	assert_int_equal(hf_nta_add(s, wire("one-more."), 60, "", NOW, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "1024"));
	add(s, "z7.example.", 120, 1);  /* updating still works when full */
	snprintf(name, sizeof(name), "z%u.example.", HF_NTA_MAX - 1);
	assert_non_null(hf_nta_find(s, wire(name)));
	hf_nta_store_destroy(s);
}

static void test_find_covering(void **state)
{
	struct hf_nta_store *s = hf_nta_store_create();

	(void)state;
	assert_null(hf_nta_find(s, wire("www.example.com.")));
	add(s, "example.com.", 60, 0);
	add(s, "sub.example.com.", 60, 0);
	add(s, "de.", 60, 0);
	assert_memory_equal(hf_nta_find(s, wire("WWW.Example.Com."))->zone, "\7example", 8);
	assert_memory_equal(hf_nta_find(s, wire("a.b.sub.example.com."))->zone, "\3sub", 4);
	assert_memory_equal(hf_nta_find(s, wire("example.com."))->zone, "\7example", 8);
	assert_memory_equal(hf_nta_find(s, wire("x.de."))->zone, "\2de", 3);
	assert_null(hf_nta_find(s, wire("com.")));
	assert_null(hf_nta_find(s, wire("notexample.com.")));
	assert_null(hf_nta_find(s, wire(".")));
	assert_int_equal(hf_nta_remove(s, wire("sub.example.com.")), 0);
	assert_int_equal(hf_nta_remove(s, wire("sub.example.com.")), -ENOENT);
	assert_memory_equal(hf_nta_find(s, wire("a.sub.example.com."))->zone, "\7example", 8);
	/* Canonical order for listing. */
	assert_memory_equal(hf_nta_at(s, 0)->zone, "\7example", 8);
	assert_memory_equal(hf_nta_at(s, 1)->zone, "\2de", 3);
	assert_null(hf_nta_at(s, 2));
	/* The root as an NTA covers everything. */
	add(s, ".", 60, 0);
	assert_int_equal(hf_nta_find(s, wire("any.thing."))->zone[0], 0);
	hf_nta_store_destroy(s);
}

static unsigned expired_count;

static void on_expired(void *ctx, const struct hf_nta *n)
{
	(void)ctx, (void)n;
	expired_count++;
}

static void test_expire(void **state)
{
	struct hf_nta_store *s = hf_nta_store_create();

	(void)state;
	assert_int_equal(hf_nta_next_expiry(s), INT64_MAX);
	add(s, "a.", 10, 0);
	add(s, "b.", 20, 0);
	add(s, "c.", 30, 0);
	assert_int_equal(hf_nta_next_expiry(s), NOW + 10);
	expired_count = 0;
	assert_int_equal(hf_nta_expire(s, NOW + 9, on_expired, NULL), 0);
	assert_int_equal(hf_nta_expire(s, NOW + 20, on_expired, NULL), 2);
	assert_int_equal(expired_count, 2);
	assert_null(hf_nta_find(s, wire("x.a.")));
	assert_non_null(hf_nta_find(s, wire("x.c.")));
	assert_int_equal(hf_nta_next_expiry(s), NOW + 30);
	hf_nta_store_destroy(s);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The latest recheck's result: recorded per zone, kept by a renewal, not saved. */
static void test_recheck_status(void **state)
{
	struct hf_nta_store *s = hf_nta_store_create();
	char err[256];

	(void)state;
	add(s, "de.", 3600, 0);
	const struct hf_nta *n = hf_nta_get(s, wire("de."));
	assert_int_equal(n->check, HF_NTA_CHECK_NONE);
	assert_int_equal(n->checked, 0);
	assert_string_equal(hf_nta_check_name(n->check), "none");
	assert_int_equal(hf_nta_set_check(s, wire("DE."), NOW + 5, false), 0);
	assert_int_equal(n->check, HF_NTA_CHECK_FAILS);
	assert_int_equal(n->checked, NOW + 5);
	assert_string_equal(hf_nta_check_name(n->check), "fails");
	/* Only the NTA of exactly that zone: a probe of a zone whose NTA ended meanwhile. */
	assert_int_equal(hf_nta_set_check(s, wire("nic.de."), NOW + 6, true), -ENOENT);
	assert_int_equal(hf_nta_set_check(s, wire("com."), NOW + 6, true), -ENOENT);
	/* Renewed: the lifetime restarts, what the recheck found stands. */
	assert_int_equal(hf_nta_add(s, wire("de."), 7200, "renewed", NOW + 10, err, sizeof(err)), 1);
	n = hf_nta_get(s, wire("de."));
	assert_int_equal(n->expires, NOW + 10 + 7200);
	assert_int_equal(n->check, HF_NTA_CHECK_FAILS);
	assert_int_equal(hf_nta_set_check(s, wire("de."), NOW + 20, true), 0);
	assert_string_equal(hf_nta_check_name(n->check), "validates");
	assert_int_equal(n->checked, NOW + 20);
	hf_nta_store_destroy(s);
}

static void test_persistence(void **state)
{
	struct hf_nta_store *s = hf_nta_store_create(), *t = hf_nta_store_create();
	char dir[] = "/tmp/hf-test-nta.XXXXXX", path[128], err[512];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ntas.json", dir);
	assert_int_equal(hf_nta_load(t, path, NOW, err, sizeof(err)), 0);  /* no file: empty */
	add(s, "example.com.", 60, 0);
	add(s, "de.", 3600, 0);
	assert_int_equal(hf_nta_add(s, wire("q\\\"x."), 60, "quote \" and \\", NOW, err, sizeof(err)), 0);
	assert_int_equal(hf_nta_save(s, path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(hf_nta_load(t, path, NOW, err, sizeof(err)), 3);
	assert_string_equal(hf_nta_get(t, wire("q\\\"x."))->reason, "quote \" and \\");
	assert_int_equal(hf_nta_get(t, wire("de."))->expires, NOW + 3600);
	/* Entries that expired while down are dropped. */
	assert_int_equal(hf_nta_load(t, path, NOW + 60, err, sizeof(err)), 1);

	/* Corrupt files: an error naming file and problem; the store is kept. */
	write_file(path, "{\"version\":1,\"ntas\":[{\"zone\":\"a..b\",\"added\":1,\"expires\":2}]}");
	assert_int_equal(hf_nta_load(s, path, NOW, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ntas.json: ntas[0].zone: "));
	assert_int_equal(hf_nta_count(s), 3);
	write_file(path, "{\"version\":1,\"ntas\":[");
	assert_int_equal(hf_nta_load(s, path, NOW, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not valid JSON"));
	write_file(path, "[]");
	assert_int_equal(hf_nta_load(s, path, NOW, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a JSON object"));
	write_file(path, "{\"version\":2,\"ntas\":[]}");
	assert_int_equal(hf_nta_load(s, path, NOW, err, sizeof(err)), -EINVAL);
	write_file(path, "{\"version\":1,\"ntas\":[{\"zone\":\"a.\",\"added\":1,\"expires\":999999999}]}");
	assert_int_equal(hf_nta_load(s, path, NOW, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expires must be after added"));
	write_file(path, "{\"version\":1,\"ntas\":[{\"zone\":\"a.\",\"added\":1778000000,\"expires\":1778000100},"
			 "{\"zone\":\"A.\",\"added\":1778000000,\"expires\":1778000100}]}");
	assert_int_equal(hf_nta_load(s, path, NOW, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "listed twice"));
	write_file(path, "");
	assert_int_equal(hf_nta_load(s, path, NOW, err, sizeof(err)), -EINVAL);
	assert_int_equal(hf_nta_count(s), 3);
	/* A save into a directory that does not exist names the file. */
	snprintf(path, sizeof(path), "%s/nope/ntas.json", dir);
	assert_true(hf_nta_save(s, path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "nope/ntas.json"));

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
	hf_nta_store_destroy(s);
	hf_nta_store_destroy(t);
}

static void test_durations(void **state)
{
	uint64_t v;
	char buf[32];

	(void)state;
	assert_int_equal(hf_ctl_duration_parse("30s", &v), 0);
	assert_int_equal(v, 30);
	assert_int_equal(hf_ctl_duration_parse("6h", &v), 0);
	assert_int_equal(v, 21600);
	assert_int_equal(hf_ctl_duration_parse("1w", &v), 0);
	assert_int_equal(v, 604800);
	assert_int_equal(hf_ctl_duration_parse("1h30m", &v), 0);
	assert_int_equal(v, 5400);
	assert_int_equal(hf_ctl_duration_parse("90", &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(hf_ctl_duration_parse("", &v), -EINVAL);
	assert_int_equal(hf_ctl_duration_parse("6x", &v), -EINVAL);
	assert_int_equal(hf_ctl_duration_parse("h", &v), -EINVAL);
	assert_int_equal(hf_ctl_duration_parse("1h30", &v), -EINVAL);
	assert_int_equal(hf_ctl_duration_parse("-1s", &v), -EINVAL);
	assert_int_equal(hf_ctl_duration_parse("99999999999999999999s", &v), -ERANGE);
	hf_ctl_duration_format(1209600, buf, sizeof(buf));
	assert_string_equal(buf, "2w");
	hf_ctl_duration_format(90061, buf, sizeof(buf));
	assert_string_equal(buf, "1d1h1m1s");
	hf_ctl_duration_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	hf_ctl_time_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_limits),
		cmocka_unit_test(test_max_count),
		cmocka_unit_test(test_find_covering),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_recheck_status),
		cmocka_unit_test(test_persistence),
		cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
