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

#include "include/holdfast/conf.h"
#include "include/holdfast/defines.h"
#include "include/holdfast/name.h"
#include "lib/conf/conf_impl.h"

#define DOCS_EXAMPLE HF_SOURCE_ROOT "/docs/holdfast.yaml"

#define MS_S   1000ULL
#define MS_MIN (60 * MS_S)
#define MS_H   (60 * MS_MIN)
#define MS_D   (24 * MS_H)

struct fixture {
	struct hf_conf conf;       /* ~30 KiB: kept off the test's stack */
	struct hf_conf defaults;
	char path[64];
	char err[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	hf_conf_defaults(&f->defaults);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* Write text to a fresh temporary file, load it, remove it. */
static int load_text(struct fixture *f, const char *text)
{
	int fd, rc;
	size_t len = strlen(text);

	snprintf(f->path, sizeof(f->path), "/tmp/hf-conf-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	memset(&f->conf, 0xa5, sizeof(f->conf));
	rc = hf_conf_load(&f->conf, f->path, f->err, sizeof(f->err));
	unlink(f->path);
	return rc;
}

static void assert_addr(const struct sockaddr_storage *ss, const char *expect)
{
	char buf[80];

	hf_conf_fmt_addr(ss, true, buf, sizeof(buf));
	assert_string_equal(buf, expect);
}

static void assert_name(const uint8_t *wire, const char *expect)
{
	char text[HF_NAME_TEXT_MAXLEN];

	assert_true(hf_name_to_text(wire, text, sizeof(text)) > 0);
	assert_string_equal(text, expect);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	const struct hf_conf *c = &f->defaults;
	static const char *const special[] = {
		"localhost.", "invalid.", "onion.", "local.", "home.arpa.", "test.",
	};

	assert_string_equal(c->instance.name, "default");
	assert_string_equal(c->instance.state_dir, "/var/lib/holdfast");
	assert_string_equal(c->instance.user, "");
	assert_int_equal(c->dataplane.eal_args_count, 0);
	assert_int_equal(c->dataplane.workers_count, 0);
	assert_int_equal(c->dataplane.addresses_count, 0);
	assert_int_equal(c->dataplane.ports_count, 0);
	assert_string_equal(c->dataplane.exception_path, "");
	assert_int_equal(c->cache.size, 256ULL << 20);
	assert_int_equal(c->cache.ttl_min_ms, 0);
	assert_int_equal(c->cache.ttl_max_ms, MS_D);
	assert_int_equal(c->cache.max_stale_ms, MS_D);
	assert_int_equal(c->cache.resolution_timeout_ms, 3 * MS_S);
	assert_int_equal(c->cache.max_waiters, 64);
	assert_string_equal(c->control.root_hints, "");
	assert_string_equal(c->control.trust_anchors, "");
	assert_true(c->control.dnssec_validation);
	assert_int_equal(c->control.nta_recheck_ms, 60 * MS_S);
	assert_false(c->control.nta_recheck_ends);
	assert_int_equal(c->control.listen_tcp_count, 0);
	assert_string_equal(c->control.control_socket, "/run/holdfast/control.sock");
	assert_false(c->control.allow_loopback_upstreams);
	assert_int_equal(c->control.special_use_names_count, HF_ARRAY_SIZE(special));
	for (size_t i = 0; i < HF_ARRAY_SIZE(special); i++)
		assert_name(c->control.special_use_names[i], special[i]);
	assert_int_equal(c->control.metrics_listen.ss_family, AF_UNSPEC);
	assert_true(c->serve_stale.enabled);
	assert_int_equal(c->serve_stale.client_timeout_ms, 1800);
	assert_int_equal(c->serve_stale.failure_recheck_ms, 30 * MS_S);
	assert_int_equal(c->serve_stale.stale_ttl_ms, 30 * MS_S);
	assert_int_equal(c->serve_stale.no_stale_on_bogus_count, 0);
}

/* Absent sections, empty sections, empty files: all defaults. */
static void test_defaults_when_absent(void **state)
{
	struct fixture *f = *state;
	static const char *const texts[] = {
		"",
		"# nothing but a comment\n",
		"---\n",
		"~\n",
		"cache:\ncontrol: ~\nserve-stale: {}\ndataplane:\n  # workers: [1]\n",
		"instance: {}\n...\n",
	};

	for (size_t i = 0; i < HF_ARRAY_SIZE(texts); i++) {
		int rc = load_text(f, texts[i]);

		if (rc != 0)
			fail_msg("text %zu: %s", i, f->err);
		assert_memory_equal(&f->conf, &f->defaults, sizeof(f->conf));
		assert_string_equal(f->err, "");
	}

	/* One key set: everything else keeps its default. */
	assert_int_equal(load_text(f, "cache:\n  size: 1G\n"), 0);
	assert_int_equal(f->conf.cache.size, 1ULL << 30);
	f->conf.cache.size = f->defaults.cache.size;
	assert_memory_equal(&f->conf, &f->defaults, sizeof(f->conf));
}

/* The documented example loads, with every value it sets. */
static void test_docs_example(void **state)
{
	struct fixture *f = *state;
	const struct hf_conf *c = &f->conf;
	static const char *const eal[] = {
		"-l", "0,1", "--no-pci", "--in-memory", "--vdev=net_af_xdp0,iface=hf0",
	};
	static const char *const special[] = {
		"localhost.", "invalid.", "onion.", "local.", "home.arpa.", "test.",
	};
	int rc = hf_conf_load(&f->conf, DOCS_EXAMPLE, f->err, sizeof(f->err));

	if (rc != 0)
		fail_msg("%s", f->err);
	assert_string_equal(c->instance.name, "default");
	assert_string_equal(c->instance.state_dir, "/var/lib/holdfast");
	assert_string_equal(c->instance.user, "holdfast");

	assert_int_equal(c->dataplane.eal_args_count, HF_ARRAY_SIZE(eal));
	for (size_t i = 0; i < HF_ARRAY_SIZE(eal); i++)
		assert_string_equal(c->dataplane.eal_args[i], eal[i]);
	assert_int_equal(c->dataplane.workers_count, 1);
	assert_int_equal(c->dataplane.workers[0], 1);
	assert_int_equal(c->dataplane.addresses_count, 2);
	assert_addr(&c->dataplane.addresses[0], "192.0.2.53:53");
	assert_addr(&c->dataplane.addresses[1], "[2001:db8::53]:53");
	assert_int_equal(c->dataplane.ports_count, 1);
	assert_string_equal(c->dataplane.ports[0].name, "hf0");
	assert_string_equal(c->dataplane.ports[0].device, "net_af_xdp0");
	assert_int_equal(c->dataplane.ports[0].queues, 1);
	assert_string_equal(c->dataplane.exception_path, "net_tap0,iface=hf-exc");

	assert_int_equal(c->cache.size, 256ULL << 20);
	assert_int_equal(c->cache.ttl_min_ms, 0);
	assert_int_equal(c->cache.ttl_max_ms, MS_D);
	assert_int_equal(c->cache.max_stale_ms, MS_D);
	assert_int_equal(c->cache.resolution_timeout_ms, 3 * MS_S);
	assert_int_equal(c->cache.max_waiters, 64);

	assert_string_equal(c->control.root_hints, "/etc/holdfast/root.hints");
	assert_string_equal(c->control.trust_anchors, "/etc/holdfast/root.key");
	assert_true(c->control.dnssec_validation);
	assert_int_equal(c->control.nta_recheck_ms, 60 * MS_S);
	assert_false(c->control.nta_recheck_ends);
	assert_int_equal(c->control.listen_tcp_count, 2);
	assert_addr(&c->control.listen_tcp[0], "192.0.2.53:53");
	assert_addr(&c->control.listen_tcp[1], "[2001:db8::53]:53");
	assert_string_equal(c->control.control_socket, "/run/holdfast/control.sock");
	assert_false(c->control.allow_loopback_upstreams);
	assert_int_equal(c->control.special_use_names_count, HF_ARRAY_SIZE(special));
	for (size_t i = 0; i < HF_ARRAY_SIZE(special); i++)
		assert_name(c->control.special_use_names[i], special[i]);
	assert_addr(&c->control.metrics_listen, "127.0.0.1:9153");

	assert_true(c->serve_stale.enabled);
	assert_int_equal(c->serve_stale.client_timeout_ms, 1800);
	assert_int_equal(c->serve_stale.failure_recheck_ms, 30 * MS_S);
	assert_int_equal(c->serve_stale.stale_ttl_ms, 30 * MS_S);
	assert_int_equal(c->serve_stale.no_stale_on_bogus_count, 1);
	assert_name(c->serve_stale.no_stale_on_bogus[0], "bank.example.");
}

/* Every key of the schema is documented in the example (as "  key:"). */
static void test_docs_cover_schema(void **state)
{
	(void)state;
	FILE *fp = fopen(DOCS_EXAMPLE, "r");
	static char text[64 * 1024];
	size_t len;
	char needle[64];

	assert_non_null(fp);
	len = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[len] = '\0';
	for (const struct hf_conf_section *s = hf_conf_schema; s->name != NULL; s++) {
		snprintf(needle, sizeof(needle), "\n%s:\n", s->name);
		if (strstr(text, needle) == NULL)
			fail_msg("section %s is not in %s", s->name, DOCS_EXAMPLE);
		for (const struct hf_conf_item *it = s->items; it->name != NULL; it++) {
			snprintf(needle, sizeof(needle), " %s:", it->name);
			if (strstr(text, needle) == NULL)
				fail_msg("key %s.%s is not in %s", s->name, it->name, DOCS_EXAMPLE);
			assert_non_null(it->help);
			assert_non_null(it->def);
			if (it->sub == NULL)
				continue;
			for (const struct hf_conf_item *sub = it->sub->items; sub->name != NULL; sub++) {
				snprintf(needle, sizeof(needle), " %s:", sub->name);
				if (strstr(text, needle) == NULL)
					fail_msg("key %s.%s[].%s is not in %s", s->name, it->name,
						 sub->name, DOCS_EXAMPLE);
			}
		}
	}
}

/* Values other than the defaults, in every form each type accepts. */
static void test_overrides(void **state)
{
	struct fixture *f = *state;
	const struct hf_conf *c = &f->conf;
	char expect[HF_CONF_PATH_MAX];
	int rc = load_text(f,
		"instance:\n"
		"  name: lab-1.a_b\n"
		"  state-dir: state\n"          /* relative: against the file's dir (/tmp) */
		"  user: ''\n"
		"dataplane:\n"
		"  eal-args:\n"                  /* null list: empty */
		"  workers: [0, 1023, 7]\n"
		"  addresses: ['::1', 10.0.0.1]\n"
		"  ports:\n"
		"    - name: a\n"
		"      device: 0000:3b:00.0\n"
		"      queues: 128\n"
		"    - {name: b, device: 'net_null0'}\n"
		"cache:\n"
		"  size: 1048576\n"
		"  ttl-min: 500ms\n"
		"  ttl-max: 1w\n"
		"  max-stale: 6h\n"
		"  resolution-timeout: 10ms\n"
		"  max-waiters: 65535\n"
		"control:\n"
		"  root-hints: \"\"\n"
		"  trust-anchors: /x/../ta.key\n"
		"  listen-tcp: []\n"
		"  allow-loopback-upstreams: yes\n"
		"  special-use-names: [LocalHost, 'home.ARPA.', \"in\\\\118alid\"]\n"
		"  metrics-listen: '[::1]:9153'\n"
		"serve-stale:\n"
		"  enabled: off\n"
		"  client-timeout: 0\n"
		"  failure-recheck: 1h\n"
		"  stale-ttl: 1s\n");

	if (rc != 0)
		fail_msg("%s", f->err);
	assert_string_equal(c->instance.name, "lab-1.a_b");
	assert_non_null(realpath("/tmp", expect));
	strcat(expect, "/state");
	assert_string_equal(c->instance.state_dir, expect);
	assert_string_equal(c->instance.user, "");
	assert_int_equal(c->dataplane.eal_args_count, 0);
	assert_int_equal(c->dataplane.workers_count, 3);
	assert_int_equal(c->dataplane.workers[0], 0);
	assert_int_equal(c->dataplane.workers[1], 1023);
	assert_int_equal(c->dataplane.workers[2], 7);
	assert_int_equal(c->dataplane.addresses_count, 2);
	assert_addr(&c->dataplane.addresses[0], "[::1]:53");
	assert_addr(&c->dataplane.addresses[1], "10.0.0.1:53");
	assert_int_equal(c->dataplane.ports_count, 2);
	assert_string_equal(c->dataplane.ports[0].name, "a");
	assert_string_equal(c->dataplane.ports[0].device, "0000:3b:00.0");
	assert_int_equal(c->dataplane.ports[0].queues, 128);
	assert_string_equal(c->dataplane.ports[1].name, "b");
	assert_string_equal(c->dataplane.ports[1].device, "net_null0");
	assert_int_equal(c->dataplane.ports[1].queues, 1);   /* default per element */
	assert_int_equal(c->cache.size, 1ULL << 20);
	assert_int_equal(c->cache.ttl_min_ms, 500);
	assert_int_equal(c->cache.ttl_max_ms, 7 * MS_D);
	assert_int_equal(c->cache.max_stale_ms, 6 * MS_H);
	assert_int_equal(c->cache.resolution_timeout_ms, 10);
	assert_int_equal(c->cache.max_waiters, 65535);
	assert_string_equal(c->control.root_hints, "");
	assert_string_equal(c->control.trust_anchors, "/x/../ta.key");
	assert_int_equal(c->control.listen_tcp_count, 0);
	assert_true(c->control.allow_loopback_upstreams);
	/* The list replaces the default; names are stored lower-cased. */
	assert_int_equal(c->control.special_use_names_count, 3);
	assert_name(c->control.special_use_names[0], "localhost.");
	assert_name(c->control.special_use_names[1], "home.arpa.");
	assert_name(c->control.special_use_names[2], "invalid.");
	assert_addr(&c->control.metrics_listen, "[::1]:9153");
	assert_false(c->serve_stale.enabled);
	assert_int_equal(c->serve_stale.client_timeout_ms, 0);
	assert_int_equal(c->serve_stale.failure_recheck_ms, MS_H);
	assert_int_equal(c->serve_stale.stale_ttl_ms, MS_S);
}

/* A file named without a directory: relative paths are against the working one. */
static void test_relative_file(void **state)
{
	struct fixture *f = *state;
	char cwd[HF_CONF_PATH_MAX], expect[HF_CONF_PATH_MAX], path[] = "/tmp/hf-conf-XXXXXX";
	const char *text = "control:\n  root-hints: hints/root.zone\n";
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir("/tmp"), 0);
	rc = hf_conf_load(&f->conf, path + strlen("/tmp/"), f->err, sizeof(f->err));
	assert_int_equal(chdir(cwd), 0);
	unlink(path);
	if (rc != 0)
		fail_msg("%s", f->err);
	assert_non_null(realpath("/tmp", expect));
	strcat(expect, "/hints/root.zone");
	assert_string_equal(f->conf.control.root_hints, expect);
}

/* "dataplane:" with n workers on one line each, from line 3. */
static void workers_text(char *text, size_t size, unsigned n)
{
	size_t len = (size_t)snprintf(text, size, "dataplane:\n  workers:\n");

	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, size - len, "    - %u\n", i);
	assert_true(len < size);
}

/* Lists at exactly their capacity load; one more is an error at its line. */
static void test_list_capacity(void **state)
{
	struct fixture *f = *state;
	char text[4096];
	char prefix[96];

	workers_text(text, sizeof(text), HF_CONF_WORKERS_MAX);
	if (load_text(f, text) != 0)
		fail_msg("%s", f->err);
	assert_int_equal(f->conf.dataplane.workers_count, HF_CONF_WORKERS_MAX);
	assert_int_equal(f->conf.dataplane.workers[HF_CONF_WORKERS_MAX - 1], HF_CONF_WORKERS_MAX - 1);

	workers_text(text, sizeof(text), HF_CONF_WORKERS_MAX + 1);
	assert_int_equal(load_text(f, text), -EINVAL);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", f->path, HF_CONF_WORKERS_MAX + 3);
	assert_true(strncmp(f->err, prefix, strlen(prefix)) == 0);
	assert_non_null(strstr(f->err, "dataplane.workers: too many entries (at most 128)"));

	assert_int_equal(load_text(f, "dataplane:\n  addresses: [10.0.0.1, 10.0.0.2, 10.0.0.3, "
				   "10.0.0.4, 10.0.0.5, 10.0.0.6, 10.0.0.7, 10.0.0.8, 10.0.0.9, "
				   "10.0.0.10, 10.0.0.11, 10.0.0.12, 10.0.0.13, 10.0.0.14, "
				   "10.0.0.15, 10.0.0.16]\n"), 0);
	assert_int_equal(f->conf.dataplane.addresses_count, HF_CONF_ADDRS_MAX);
}

/* Strings longer than their buffer are refused, and the echo is cut short. */
static void test_too_long(void **state)
{
	struct fixture *f = *state;
	char text[HF_CONF_STR_MAX + 64], prefix[160];

	snprintf(text, sizeof(text), "dataplane:\n  exception-path: %0*d\n", HF_CONF_STR_MAX - 1, 0);
	assert_int_equal(load_text(f, text), 0);
	assert_int_equal(strlen(f->conf.dataplane.exception_path), HF_CONF_STR_MAX - 1);

	snprintf(text, sizeof(text), "dataplane:\n  exception-path: %0*d\n", HF_CONF_STR_MAX, 0);
	assert_int_equal(load_text(f, text), -EINVAL);
	snprintf(prefix, sizeof(prefix), "%s:2: dataplane.exception-path: \"0000", f->path);
	assert_true(strncmp(f->err, prefix, strlen(prefix)) == 0);
	assert_non_null(strstr(f->err, "...\" is too long (at most 255 characters)"));
}

struct bad_case {
	const char *text;
	unsigned line;        /* 0: message has no line */
	const char *phrase;   /* must appear after the "FILE:LINE: " prefix */
};

static const struct bad_case bad_cases[] = {
	/* Schema: unknown and duplicate keys and sections. */
	{ "dataplane:\n  workers: [1]\n  workres: [1]\n", 3,
	  "unknown key \"workres\" in section \"dataplane\"" },
	{ "cahce:\n  size: 1G\n", 1, "unknown section \"cahce\"" },
	{ "cache:\n  size: 1G\n  size: 2G\n", 3,
	  "duplicate key \"size\" in section \"cache\" (first at line 2)" },
	{ "cache:\n  size: 1G\nserve-stale: {}\ncache:\n  ttl-min: 0\n", 4,
	  "duplicate section \"cache\" (first at line 1)" },
	/* Sizes. */
	{ "cache:\n  size: 12Q\n", 2, "cache.size: \"12Q\" is not a size (use e.g. 512M, 2G)" },
	{ "cache:\n  size: 1.5G\n", 2, "cache.size: \"1.5G\" is not a size" },
	{ "cache:\n  size: 512K\n", 2, "cache.size: \"512K\" is out of range 1M..1T" },
	{ "cache:\n  size: 99999999999T\n", 2, "cache.size: \"99999999999T\" is out of range" },
	/* Durations. */
	{ "cache:\n  ttl-max: 5x\n", 2, "cache.ttl-max: \"5x\" is not a duration (use e.g. 500ms" },
	{ "serve-stale:\n  stale-ttl: 30\n", 2, "serve-stale.stale-ttl: \"30\" is not a duration" },
	{ "cache:\n  resolution-timeout: 2m\n", 2,
	  "cache.resolution-timeout: \"2m\" is out of range 10ms..1m" },
	{ "cache:\n  ttl-max: 1s\n  max-stale: 8d\n", 3, "cache.max-stale: \"8d\" is out of range 0..1w" },
	/* Unsigned integers. */
	{ "dataplane:\n  workers: [1, 2048]\n", 2,
	  "dataplane.workers[1]: \"2048\" is out of range 0..1023" },
	{ "cache:\n  max-waiters: -1\n", 2, "cache.max-waiters: \"-1\" is not an unsigned integer" },
	{ "cache:\n  max-waiters: 0x10\n", 2, "cache.max-waiters: \"0x10\" is not an unsigned integer" },
	{ "cache:\n  max-waiters: 99999999999999999999999\n", 2,
	  "cache.max-waiters: \"99999999999999999999999\" is out of range 1..65535" },
	{ "dataplane:\n  workers: [3, 1, 3]\n", 2,
	  "dataplane.workers[2]: duplicate value \"3\" (same as entry 0)" },
	/* Booleans, strings, instance names. */
	{ "serve-stale:\n  enabled: maybe\n", 2,
	  "serve-stale.enabled: \"maybe\" is not a boolean (use true or false)" },
	{ "instance:\n  name: \"a/b\"\n", 2, "instance.name: \"a/b\" is not an instance name" },
	{ "instance:\n  name:\n", 2, "instance.name: missing value" },
	{ "instance:\n  user: \"a\\0b\"\n", 2, "instance.user: value contains a NUL character" },
	{ "cache:\n  size:\n", 2, "cache.size: missing value" },
	/* Addresses. */
	{ "dataplane:\n  addresses:\n    - 192.0.2.1\n    - 192.0.2.256\n", 4,
	  "dataplane.addresses[1]: \"192.0.2.256\" is not an IPv4 or IPv6 address" },
	{ "dataplane:\n  addresses: [\"192.0.2.1:53\"]\n", 2,
	  "dataplane.addresses[0]: \"192.0.2.1:53\" is not an IPv4 or IPv6 address" },
	{ "control:\n  listen-tcp: [\"2001:db8::1\", \"2001:DB8:0::1\"]\n", 2,
	  "control.listen-tcp[1]: duplicate value \"2001:db8::1\" (same as entry 0)" },
	{ "control:\n  metrics-listen: \"::1:9153\"\n", 2,
	  "control.metrics-listen: \"::1:9153\" is not ADDRESS:PORT" },
	{ "control:\n  metrics-listen: \"127.0.0.1:0\"\n", 2,
	  "control.metrics-listen: \"127.0.0.1:0\" is not ADDRESS:PORT" },
	{ "control:\n  metrics-listen: \"[127.0.0.1]:53\"\n", 2,
	  "control.metrics-listen: \"[127.0.0.1]:53\" is not ADDRESS:PORT" },
	/* Lists too long. */
	{ "dataplane:\n  addresses: [10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6,\n"
	  "    10.0.0.7, 10.0.0.8, 10.0.0.9, 10.0.0.10, 10.0.0.11, 10.0.0.12, 10.0.0.13,\n"
	  "    10.0.0.14, 10.0.0.15, 10.0.0.16, 10.0.0.17]\n", 4,
	  "dataplane.addresses: too many entries (at most 16)" },
	/* Wrong node kinds. */
	{ "dataplane:\n  workers: 1\n", 2, "dataplane.workers: expected a list, got a scalar" },
	{ "dataplane:\n  workers: {a: 1}\n", 2, "dataplane.workers: expected a list, got a mapping" },
	{ "cache:\n  size: [1G]\n", 2, "cache.size: expected a single value, got a list" },
	{ "dataplane:\n  eal-args: [[\"-l\"]]\n", 2,
	  "dataplane.eal-args[0]: expected a single value, got a list" },
	{ "cache: [1, 2]\n", 1, "section \"cache\": expected a mapping of keys, got a list" },
	{ "- cache\n", 1, "expected a mapping of sections at the top level, got a list" },
	{ "cache:\n  ? [a]\n  : 1\n", 2, "in \"cache\": expected a key name, got a list" },
	/* YAML syntax. */
	{ "cache:\n\tsize: 1G\n", 2,
	  "YAML syntax error: found character that cannot start any token" },
	{ "cache:\n  size: \"1G\n", 3, "YAML syntax error: found unexpected end of stream" },
	{ "cache:\n  size: 1G\n ttl-max: 1d\n", 3, "YAML syntax error: " },
	{ "cache: {}\n---\nserve-stale: {}\n", 2, "more than one YAML document" },
	{ "cache: *nothing\n", 1, "YAML syntax error: found undefined alias" },
	{ "cache:\n  size: \xff" "1G\n", 2, "invalid input: invalid leading UTF-8 octet (at byte 15)" },
	/* Domain names. */
	{ "control:\n  special-use-names: [localhost., a..b]\n", 2,
	  "control.special-use-names[1]: \"a..b\" is not a domain name (empty label in name)" },
	{ "control:\n  special-use-names:\n    - "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b\n", 3,
	  "is not a domain name (label longer than 63 octets)" },
	{ "control:\n  special-use-names: [test, TEST.]\n", 2,
	  "control.special-use-names[1]: duplicate value \"test.\" (same as entry 0)" },
	{ "control:\n  special-use-names: [\"\"]\n", 2,
	  "control.special-use-names[0]: \"\" is not a domain name" },
	/* Nested list of sections. */
	{ "dataplane:\n  workers: [1]\n  ports: [eth0]\n", 3,
	  "dataplane.ports[0]: expected a mapping, got a scalar" },
	{ "dataplane:\n  workers: [1]\n  ports:\n    - name: p0\n", 4,
	  "dataplane.ports[0]: missing required key \"device\"" },
	{ "dataplane:\n  workers: [1]\n  ports:\n    - name: p0\n      device: x\n      queue: 2\n", 6,
	  "unknown key \"queue\" in section \"dataplane.ports[0]\"" },
	{ "dataplane:\n  workers: [1]\n  ports:\n    - {name: p0, device: x, queues: 0}\n", 4,
	  "dataplane.ports[0].queues: \"0\" is out of range 1..128" },
	{ "dataplane:\n  workers: [1]\n  ports:\n    - {name: p0, device: x}\n"
	  "    - {device: y,\n       name: p0}\n", 6,
	  "dataplane.ports[1].name: duplicate value \"p0\" (same as entry 0)" },
	{ "dataplane:\n  workers: [1]\n  ports: [{name: a, device: a}, {name: b, device: b},\n"
	  "    {name: c, device: c}, {name: d, device: d}, {name: e, device: e},\n"
	  "    {name: f, device: f}, {name: g, device: g}, {name: h, device: h},\n"
	  "    {name: i, device: i}]\n", 6, "dataplane.ports: too many entries (at most 8)" },
	/* Cross-field checks. */
	{ "dataplane:\n  ports:\n    - {name: p0, device: net_null0}\n", 2,
	  "dataplane.ports: ports are defined but dataplane.workers is empty" },
	{ "cache:\n  ttl-max: 1h\n  ttl-min: 2h\n", 3,
	  "cache.ttl-min (2h) is greater than cache.ttl-max (1h)" },
	{ "cache:\n  ttl-min: 2d\n", 2, "cache.ttl-min (2d) is greater than cache.ttl-max (1d)" },
};

static void test_bad_inputs(void **state)
{
	struct fixture *f = *state;
	char prefix[96];

	assert_true(HF_ARRAY_SIZE(bad_cases) >= 20);
	for (size_t i = 0; i < HF_ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *b = &bad_cases[i];
		int rc = load_text(f, b->text);

		if (rc != -EINVAL)
			fail_msg("case %zu: rc %d (%s), expected -EINVAL", i, rc, f->err);
		snprintf(prefix, sizeof(prefix), "%s:%u: ", f->path, b->line);
		if (strncmp(f->err, prefix, strlen(prefix)) != 0)
			fail_msg("case %zu: \"%s\" does not start with \"%s\"", i, f->err, prefix);
		if (strstr(f->err + strlen(prefix), b->phrase) == NULL)
			fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, f->err, b->phrase);
	}
}

static void test_file_errors(void **state)
{
	struct fixture *f = *state;
	char small[24];

	assert_int_equal(hf_conf_load(&f->conf, "/nonexistent/holdfast.yaml", f->err, sizeof(f->err)),
			 -ENOENT);
	assert_string_equal(f->err, "/nonexistent/holdfast.yaml: cannot open: No such file or directory");
	assert_int_equal(hf_conf_load(&f->conf, "/tmp", f->err, sizeof(f->err)), -EISDIR);
	assert_string_equal(f->err, "/tmp: cannot read: Is a directory");

	/* Messages are truncated to fit; no buffer at all is fine too. */
	assert_int_equal(hf_conf_load(&f->conf, "/nonexistent/holdfast.yaml", small, sizeof(small)),
			 -ENOENT);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(hf_conf_load(&f->conf, "/nonexistent/holdfast.yaml", NULL, 0), -ENOENT);
	assert_int_equal(load_text(f, "cache:\n  size: 12Q\n"), -EINVAL);
	assert_int_equal(hf_conf_load(&f->conf, DOCS_EXAMPLE, NULL, 0), 0);
}

/*
 * Mutations of the example (a byte changed, a tail cut off) either load or
 * fail with a "PATH:" message; under ASan this also checks for overruns and
 * leaks on every error path libyaml and the walker can take.
 */
static void test_mutations(void **state)
{
	struct fixture *f = *state;
	static char orig[64 * 1024], text[64 * 1024];
	static const char noise[] = " :-[]{},#&*!|>'\"%@`\t\n0aZ.~\\";
	FILE *fp = fopen(DOCS_EXAMPLE, "r");
	unsigned seed = 12345;
	size_t len, n_ok = 0;

	assert_non_null(fp);
	len = fread(orig, 1, sizeof(orig) - 1, fp);
	fclose(fp);
	for (unsigned iter = 0; iter < 600; iter++) {
		size_t cut;

		memcpy(text, orig, len);
		text[len] = '\0';
		for (unsigned k = 0; k < 1 + iter % 3; k++)
			text[rand_r(&seed) % len] = noise[rand_r(&seed) % (sizeof(noise) - 1)];
		if (iter % 5 == 0) {
			cut = (size_t)rand_r(&seed) % len;
			text[cut] = '\0';
		}
		int rc = load_text(f, text);

		if (rc == 0) {
			n_ok++;
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		if (strncmp(f->err, f->path, strlen(f->path)) != 0 || f->err[strlen(f->path)] != ':')
			fail_msg("iteration %u: message \"%s\" does not start with the path", iter, f->err);
	}
	/* Many mutations land in comments: some must load, most must not. */
	assert_true(n_ok > 0 && n_ok < 600);
}

static void test_parsers(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	uint64_t v;
	bool b;
	char buf[64];

	assert_int_equal(hf_conf_parse_duration("500ms", &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(hf_conf_parse_duration("30s", &v), 0);
	assert_int_equal(v, 30 * MS_S);
	assert_int_equal(hf_conf_parse_duration("5m", &v), 0);
	assert_int_equal(v, 5 * MS_MIN);
	assert_int_equal(hf_conf_parse_duration("6h", &v), 0);
	assert_int_equal(v, 6 * MS_H);
	assert_int_equal(hf_conf_parse_duration("1d", &v), 0);
	assert_int_equal(v, MS_D);
	assert_int_equal(hf_conf_parse_duration("2w", &v), 0);
	assert_int_equal(v, 14 * MS_D);
	assert_int_equal(hf_conf_parse_duration("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(hf_conf_parse_duration("0s", &v), 0);
	assert_int_equal(hf_conf_parse_duration("", &v), -EINVAL);
	assert_int_equal(hf_conf_parse_duration("s", &v), -EINVAL);
	assert_int_equal(hf_conf_parse_duration("1S", &v), -EINVAL);
	assert_int_equal(hf_conf_parse_duration(" 1s", &v), -EINVAL);
	assert_int_equal(hf_conf_parse_duration("1s ", &v), -EINVAL);
	assert_int_equal(hf_conf_parse_duration("1h30m", &v), -EINVAL);
	assert_int_equal(hf_conf_parse_duration("+1s", &v), -EINVAL);
	assert_int_equal(hf_conf_parse_duration("18446744073709551615w", &v), -ERANGE);
	assert_int_equal(hf_conf_parse_duration("18446744073709551616ms", &v), -ERANGE);

	assert_int_equal(hf_conf_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(hf_conf_parse_size("512K", &v), 0);
	assert_int_equal(v, 512ULL << 10);
	assert_int_equal(hf_conf_parse_size("256m", &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(hf_conf_parse_size("2G", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(hf_conf_parse_size("1T", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(hf_conf_parse_size("2GB", &v), -EINVAL);
	assert_int_equal(hf_conf_parse_size("16777216T", &v), -ERANGE);

	assert_int_equal(hf_conf_parse_uint("18446744073709551615", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(hf_conf_parse_uint("18446744073709551616", &v), -ERANGE);
	assert_int_equal(hf_conf_parse_uint("1 ", &v), -EINVAL);

	assert_int_equal(hf_conf_parse_bool("on", &b), 0);
	assert_true(b);
	assert_int_equal(hf_conf_parse_bool("no", &b), 0);
	assert_false(b);
	assert_int_equal(hf_conf_parse_bool("True", &b), -EINVAL);
	assert_int_equal(hf_conf_parse_bool("1", &b), -EINVAL);

	assert_int_equal(hf_conf_parse_addrport("192.0.2.1:65535", &ss), 0);
	assert_addr(&ss, "192.0.2.1:65535");
	assert_int_equal(hf_conf_parse_addrport("[2001:db8::1]:53", &ss), 0);
	assert_addr(&ss, "[2001:db8::1]:53");
	assert_int_equal(hf_conf_parse_addrport("192.0.2.1:65536", &ss), -EINVAL);
	assert_int_equal(hf_conf_parse_addrport("192.0.2.1", &ss), -EINVAL);
	assert_int_equal(hf_conf_parse_addrport(":53", &ss), -EINVAL);
	assert_int_equal(hf_conf_parse_addrport("[::1]", &ss), -EINVAL);
	assert_int_equal(hf_conf_parse_addrport("[::1]:", &ss), -EINVAL);
	assert_int_equal(hf_conf_parse_addrport("localhost:53", &ss), -EINVAL);
	assert_int_equal(hf_conf_parse_addr("fe80::1%eth0", 53, &ss), -EINVAL);

	hf_conf_fmt_duration(1800, buf, sizeof(buf));
	assert_string_equal(buf, "1800ms");
	hf_conf_fmt_duration(7 * MS_D, buf, sizeof(buf));
	assert_string_equal(buf, "1w");
	hf_conf_fmt_duration(90 * MS_MIN, buf, sizeof(buf));
	assert_string_equal(buf, "90m");
	hf_conf_fmt_duration(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	hf_conf_fmt_size(1ULL << 20, buf, sizeof(buf));
	assert_string_equal(buf, "1M");
	hf_conf_fmt_size(1536, buf, sizeof(buf));
	assert_string_equal(buf, "1536");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_when_absent),
		cmocka_unit_test(test_docs_example),
		cmocka_unit_test(test_docs_cover_schema),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_relative_file),
		cmocka_unit_test(test_list_capacity),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_parsers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
