/*
 * control/ctl/override_rules: patterns, actions, answer records (text and
 * wire), EDE defaults, the validator callback, ids, matching, expiry and
 * persistence.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/ctl/override_rules.h"
#include "include/holdfast/name.h"

#define NOW 1778000000

static char err[1024];

static int add(struct hf_override_store *s, const char *pattern, const char *action,
	       const char *const *data, unsigned n, const char *qtype, uint32_t *id)
{
	struct hf_override_spec spec = {
		.pattern = pattern, .action = action, .data = data, .n_data = n, .qtype = qtype,
		.reason = "test",
	};
	uint32_t dummy;

	err[0] = '\0';
	return hf_override_add(s, &spec, NOW, id ? id : &dummy, err, sizeof(err));
}

static const uint8_t *wire(const char *text)
{
	static uint8_t buf[4][HF_NAME_MAXLEN];
	static unsigned i;
	uint8_t *b = buf[i++ % 4];

	assert_true(hf_name_from_text(text, b) > 0);
	return b;
}

static void test_patterns(void **state)
{
	struct hf_override_store *s = hf_override_store_create(NULL, NULL);
	const struct hf_override_rule *r;
	uint32_t id;

	(void)state;
	assert_int_equal(add(s, "WWW.Example.com", "nxdomain", NULL, 0, NULL, &id), 0);
	r = hf_override_get(s, id);
	assert_int_equal(r->kind, HF_OVERRIDE_EXACT);
	assert_string_equal(r->pattern, "www.example.com.");
	assert_int_equal(r->ede, 15);
	assert_int_equal(r->expires, 0);
	assert_int_equal(add(s, "*.Ads.Example.", "refuse", NULL, 0, "aaaa", &id), 0);
	r = hf_override_get(s, id);
	assert_int_equal(r->kind, HF_OVERRIDE_SUBTREE);
	assert_string_equal(r->pattern, "*.ads.example.");
	assert_int_equal(r->qtype, 28);
	assert_int_equal(add(s, "/^track[0-9]+\\./", "drop", NULL, 0, NULL, &id), 0);
	r = hf_override_get(s, id);
	assert_int_equal(r->kind, HF_OVERRIDE_REGEX);
	assert_string_equal(r->regex, "^track[0-9]+\\.");
	assert_int_equal(id, 3);

	assert_int_equal(add(s, "", "drop", NULL, 0, NULL, NULL), -EINVAL);
	assert_int_equal(add(s, "//", "drop", NULL, 0, NULL, NULL), -EINVAL);
	assert_int_equal(add(s, "/abc", "drop", NULL, 0, NULL, NULL), -EINVAL);
	assert_int_equal(add(s, "a..b.", "drop", NULL, 0, NULL, NULL), -EINVAL);
	assert_non_null(strstr(err, "not a domain name"));
	assert_int_equal(add(s, "a.*.b.", "drop", NULL, 0, NULL, NULL), -EINVAL);
	assert_int_equal(add(s, "a.", "block", NULL, 0, NULL, NULL), -EINVAL);
	assert_non_null(strstr(err, "unknown action 'block'"));
	assert_int_equal(add(s, "a.", "drop", NULL, 0, "BOGUS", NULL), -EINVAL);
	assert_int_equal(add(s, "a.", "drop", NULL, 0, "TYPE65534", NULL), 0);
	assert_int_equal(add(s, "a.", "drop", NULL, 0, "TYPE65536", NULL), -EINVAL);
	/* Same kind, pattern and type: updated in place, same id. */
	assert_int_equal(add(s, "www.example.com.", "servfail", NULL, 0, NULL, &id), 1);
	assert_int_equal(id, 1);
	assert_int_equal(hf_override_get(s, 1)->action, HF_OVERRIDE_SERVFAIL);
	hf_override_store_destroy(s);
}

static void test_records(void **state)
{
	struct hf_override_store *s = hf_override_store_create(NULL, NULL);
	const struct hf_override_rule *r;
	static const char *const ok[] = {
		"A 192.0.2.1", "aaaa 2001:DB8:0::1", "TXT \"hello world\" x \"q\\\"\\065\"",
		"MX 10 Mail.Example.", "PTR host.example",
	};
	uint32_t id;

	(void)state;
	assert_int_equal(add(s, "x.example.", "answer", ok, 5, NULL, &id), 0);
	r = hf_override_get(s, id);
	assert_int_equal(r->n_records, 5);
	assert_int_equal(r->ede, HF_OVERRIDE_EDE_NONE);
	assert_int_equal(r->ttl, HF_OVERRIDE_TTL_DEFAULT);
	assert_string_equal(r->records[0].text, "A 192.0.2.1");
	assert_int_equal(r->records[0].rdlen, 4);
	assert_memory_equal(r->records[0].rdata, "\xc0\x00\x02\x01", 4);
	assert_string_equal(r->records[1].text, "AAAA 2001:db8::1");
	assert_int_equal(r->records[1].rdlen, 16);
	assert_string_equal(r->records[2].text, "TXT \"hello world\" \"x\" \"q\\\"A\"");
	assert_int_equal(r->records[2].rdlen, 1 + 11 + 1 + 1 + 1 + 3);
	assert_memory_equal(r->records[2].rdata, "\x0bhello world\x01x\x03q\"A", 18);
	assert_string_equal(r->records[3].text, "MX 10 mail.example.");
	assert_memory_equal(r->records[3].rdata, "\x00\x0a\x04mail\x07" "example\x00", 16);
	assert_string_equal(r->records[4].text, "PTR host.example.");

	static const char *const bad[][2] = {
		{ "A 300.1.2.3", "bad IPv4 address '300.1.2.3'" },
		{ "A 192.0.2.1 extra", "bad IPv4 address" },
		{ "AAAA 192.0.2.1", "bad IPv6 address" },
		{ "CNAME", "expected one domain name" },
		{ "MX mail.example.", "bad preference" },
		{ "MX 70000 mail.example.", "bad preference" },
		{ "TXT \"open", "missing closing quote" },
		{ "TXT", "needs at least one string" },
		{ "TXT \\999", "bad escape" },
		{ "SRV 0 0 53 x.", "not supported" },
		{ "", "empty record" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *d = bad[i][0];

		assert_int_equal(add(s, "y.example.", "answer", &d, 1, NULL, NULL), -EINVAL);
		if (!strstr(err, bad[i][1]))
			fail_msg("'%s': '%s' lacks '%s'", d, err, bad[i][1]);
	}
	static const char *const cname2[] = { "CNAME a.example.", "A 192.0.2.1" };
	assert_int_equal(add(s, "y.example.", "answer", cname2, 2, NULL, NULL), -EINVAL);
	assert_non_null(strstr(err, "CNAME must be the only record"));
	assert_int_equal(add(s, "y.example.", "answer", cname2 + 1, 1, "AAAA", NULL), -EINVAL);
	assert_non_null(strstr(err, "no record of type AAAA"));
	assert_int_equal(add(s, "y.example.", "answer", cname2, 1, "AAAA", NULL), 0);
	assert_int_equal(add(s, "y.example.", "answer", NULL, 0, NULL, NULL), -EINVAL);
	assert_int_equal(add(s, "y.example.", "nodata", ok, 1, NULL, NULL), -EINVAL);
	/* A 255-byte TXT string is fine, 256 is not. */
	char txt[300] = "TXT ";
	memset(txt + 4, 'a', 255);
	const char *d = txt;
	assert_int_equal(add(s, "z.example.", "answer", &d, 1, NULL, NULL), 0);
	txt[4 + 255] = 'a';
	assert_int_equal(add(s, "z2.example.", "answer", &d, 1, NULL, NULL), -EINVAL);
	hf_override_store_destroy(s);
}

static void test_ede(void **state)
{
	struct hf_override_store *s = hf_override_store_create(NULL, NULL);
	struct hf_override_spec spec = { .pattern = "a.", .action = "nxdomain", .ede = 17 };
	uint32_t id;

	(void)state;
	assert_int_equal(hf_override_add(s, &spec, NOW, &id, err, sizeof(err)), 0);
	assert_int_equal(hf_override_get(s, id)->ede, 17);
	spec.ede = 16;
	assert_int_equal(hf_override_add(s, &spec, NOW, &id, err, sizeof(err)), -EINVAL);
	spec.ede = 17;
	spec.action = "insecure";
	assert_int_equal(hf_override_add(s, &spec, NOW, &id, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "carries no Extended DNS Error"));
	spec.ede = 0;
	spec.lifetime = HF_OVERRIDE_LIFETIME_MAX + 1;
	assert_int_equal(hf_override_add(s, &spec, NOW, &id, err, sizeof(err)), -ERANGE);
	hf_override_store_destroy(s);
}

static int validate(void *ctx, const struct hf_override_rule *r, char *e, size_t size)
{
	(*(int *)ctx)++;
	if (r->kind == HF_OVERRIDE_REGEX && strchr(r->regex, '(')) {
		snprintf(e, size, "hyperscan says no");
		return -1;
	}
	return 0;
}

static void test_validator_and_ids(void **state)
{
	int calls = 0;
	struct hf_override_store *s = hf_override_store_create(validate, &calls);
	uint32_t id;

	(void)state;
	assert_int_equal(add(s, "/(/", "drop", NULL, 0, NULL, NULL), -EINVAL);
	assert_string_equal(err, "hyperscan says no");
	assert_int_equal(add(s, "/ok/", "drop", NULL, 0, NULL, &id), 0);
	assert_int_equal(id, 1);  /* the refused rule used no id */
	assert_int_equal(add(s, "b.", "drop", NULL, 0, NULL, &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(hf_override_remove(s, 2), 0);
	assert_int_equal(hf_override_remove(s, 2), -ENOENT);
	assert_int_equal(add(s, "c.", "drop", NULL, 0, NULL, &id), 0);
	assert_int_equal(id, 3);  /* never reused */
	assert_int_equal(calls, 4);
	assert_int_equal(hf_override_hit(s, 3, 5), 0);
	assert_int_equal(hf_override_hit(s, 99, 5), -ENOENT);
	assert_int_equal(add(s, "c.", "nodata", NULL, 0, NULL, &id), 1);
	assert_int_equal(hf_override_get(s, 3)->hits, 5);  /* kept on update */
	hf_override_store_destroy(s);
}

static void test_match(void **state)
{
	struct hf_override_store *s = hf_override_store_create(NULL, NULL);

	(void)state;
	add(s, "*.example.", "nxdomain", NULL, 0, NULL, NULL);         /* 1 */
	add(s, "*.sub.example.", "refuse", NULL, 0, NULL, NULL);       /* 2 */
	add(s, "www.sub.example.", "servfail", NULL, 0, NULL, NULL);   /* 3 */
	add(s, "*.sub.example.", "drop", NULL, 0, "A", NULL);          /* 4 */
	add(s, "/./", "drop", NULL, 0, NULL, NULL);                    /* 5: never here */
	assert_int_equal(hf_override_match(s, wire("example."), 1)->id, 1);
	assert_int_equal(hf_override_match(s, wire("x.example."), 1)->id, 1);
	assert_int_equal(hf_override_match(s, wire("x.sub.example."), 28)->id, 2);
	assert_int_equal(hf_override_match(s, wire("x.sub.example."), 1)->id, 4);
	assert_int_equal(hf_override_match(s, wire("WWW.sub.example."), 1)->id, 3);
	assert_null(hf_override_match(s, wire("other."), 1));
	hf_override_store_destroy(s);
}

static unsigned expired;

static void on_expired(void *ctx, const struct hf_override_rule *r)
{
	(void)ctx, (void)r;
	expired++;
}

static void test_expire_and_persist(void **state)
{
	struct hf_override_store *s = hf_override_store_create(NULL, NULL);
	struct hf_override_store *t = hf_override_store_create(NULL, NULL);
	struct hf_override_spec spec = { .pattern = "tmp.", .action = "drop", .lifetime = 60 };
	static const char *const data[] = { "A 192.0.2.7", "TXT \"a b\"" };
	char dir[] = "/tmp/hf-test-ovr.XXXXXX", path[128];
	uint32_t id;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/overrides.json", dir);
	assert_int_equal(hf_override_add(s, &spec, NOW, &id, err, sizeof(err)), 0);
	add(s, "keep.", "answer", data, 2, NULL, NULL);
	add(s, "/re/", "insecure", NULL, 0, NULL, NULL);
	hf_override_hit(s, 2, 7);
	assert_int_equal(hf_override_next_expiry(s), NOW + 60);
	assert_int_equal(hf_override_save(s, path, err, sizeof(err)), 0);
	assert_int_equal(hf_override_load(t, path, NOW, err, sizeof(err)), 3);
	assert_string_equal(hf_override_get(t, 2)->records[1].text, "TXT \"a b\"");
	assert_int_equal(hf_override_get(t, 2)->hits, 7);
	assert_string_equal(hf_override_get(t, 2)->reason, "test");
	/* The next id survives a reload, even once the newest rule is gone. */
	hf_override_remove(t, 3);
	assert_int_equal(hf_override_save(t, path, err, sizeof(err)), 0);
	assert_int_equal(hf_override_load(t, path, NOW, err, sizeof(err)), 2);
	assert_int_equal(add(t, "new.", "drop", NULL, 0, NULL, &id), 0);
	assert_int_equal(id, 4);
	/* Expired at load: dropped. */
	assert_int_equal(hf_override_load(t, path, NOW + 60, err, sizeof(err)), 1);
	expired = 0;
	assert_int_equal(hf_override_expire(s, NOW + 59, on_expired, NULL), 0);
	assert_int_equal(hf_override_expire(s, NOW + 60, on_expired, NULL), 1);
	assert_int_equal(expired, 1);
	assert_int_equal(hf_override_count(s), 2);

	f = fopen(path, "w");
	fputs("{\"version\":1,\"next_id\":5,\"rules\":[{\"id\":1,\"pattern\":\"x.\",\"action\":"
	      "\"answer\",\"data\":[\"A 1.2.3\"],\"added\":1,\"expires\":0,\"hits\":0}]}", f);
	fclose(f);
	assert_int_equal(hf_override_load(t, path, NOW, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "overrides.json: rules[0]: data: 'A 1.2.3'"));
	assert_int_equal(hf_override_count(t), 1);  /* unchanged */
	f = fopen(path, "w");
	fputs("{\"version\":1,\"next_id\":1,\"rules\":[{\"id\":1,\"pattern\":\"x.\",\"action\":"
	      "\"drop\",\"added\":1,\"expires\":0,\"hits\":0}]}", f);
	fclose(f);
	assert_int_equal(hf_override_load(t, path, NOW, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "next_id"));

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
	hf_override_store_destroy(s);
	hf_override_store_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_ede),
		cmocka_unit_test(test_validator_and_ids),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_expire_and_persist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
