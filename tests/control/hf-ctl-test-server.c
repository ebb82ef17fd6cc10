/*
 * hf-ctl-test-server: the control socket server (control/ctl/server.h) on
 * its own loop with recording hooks, for tests/control/test_holdfastctl.sh.
 *
 *   hf-ctl-test-server SOCKET STATE-DIR EVENTS-FILE
 *
 * Each hook call appends one line to EVENTS-FILE ("nta_changed de. added",
 * "overrides_changed 2", "cache_flush example.com. subtree"). cache_flush
 * refuses the name "fail.example." and reports 42 entries flushed otherwise;
 * validate_rule refuses a regex containing "((" as Hyperscan would. Stops
 * on SIGTERM/SIGINT; exit 78 if the server cannot start (message on stderr).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <uv.h>

#include "control/ctl/server.h"
#include "control/log.h"
#include "include/holdfast/name.h"

static FILE *events;
static struct hf_ctl_server *srv;

__attribute__((format(printf, 1, 2)))
static void ev(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(events, fmt, ap);
	va_end(ap);
	fputc('\n', events);
	fflush(events);
}

static void on_nta_changed(void *ctx, const uint8_t *zone, bool added)
{
	char text[HF_NAME_TEXT_MAXLEN];

	(void)ctx;
	hf_name_to_text(zone, text, sizeof(text));
	ev("nta_changed %s %s", text, added ? "added" : "removed");
}

static void on_overrides_changed(void *ctx, const struct hf_override_store *rules)
{
	char n[16];

	(void)ctx;
	snprintf(n, sizeof(n), "%u", hf_override_count(rules));
	ev("overrides_changed %s", n);
}

static int validate_rule(void *ctx, const struct hf_override_rule *rule, char *err, size_t size)
{
	(void)ctx;
	if (rule->kind == HF_OVERRIDE_REGEX && strstr(rule->regex, "((")) {
		snprintf(err, size, "regex /%s/: Missing close parenthesis for group started at "
			 "index 0.", rule->regex);
		return -1;
	}
	return 0;
}

static int cache_flush(void *ctx, const uint8_t *name, bool subtree, char *err, size_t size)
{
	char text[HF_NAME_TEXT_MAXLEN] = "(all)";

	(void)ctx;
	if (name)
		hf_name_to_text(name, text, sizeof(text));
	if (strcmp(text, "fail.example.") == 0) {
		snprintf(err, size, "the dataplane is not attached");
		return -1;
	}
	ev("cache_flush %s%s", text, subtree ? " subtree" : "");
	return 42;
}

static int stats_json(void *ctx, json_object *out, char *err, size_t size)
{
	(void)ctx, (void)err, (void)size;
	json_object_object_add(out, "queries", json_object_new_int64(1234));
	return 0;
}

static int status_json(void *ctx, json_object *out, char *err, size_t size)
{
	json_object *dp = json_object_new_object();

	(void)ctx, (void)err, (void)size;
	json_object_object_add(dp, "attached", json_object_new_boolean(1));
	json_object_object_add(out, "dataplane", dp);
	return 0;
}

static void on_signal(uv_signal_t *h, int signum)
{
	(void)signum;
	hf_ctl_server_close(srv);
	uv_close((uv_handle_t *)h, NULL);
}

int main(int argc, char **argv)
{
	struct hf_ctl_server_config cfg = { 0 };
	uv_signal_t sigterm;
	uv_loop_t loop;
	char err[1024];

	if (argc != 4) {
		fprintf(stderr, "usage: hf-ctl-test-server SOCKET STATE-DIR EVENTS-FILE\n");
		return 2;
	}
	events = fopen(argv[3], "a");
	if (!events) {
		perror(argv[3]);
		return 1;
	}
	hf_log_set_level(HF_LOG_WARNING);
	uv_loop_init(&loop);
	cfg.socket_path = argv[1];
	cfg.state_dir = argv[2];
	cfg.hooks.nta_changed = on_nta_changed;
	cfg.hooks.overrides_changed = on_overrides_changed;
	cfg.hooks.validate_rule = validate_rule;
	cfg.hooks.cache_flush = cache_flush;
	cfg.hooks.stats_json = stats_json;
	cfg.hooks.status_json = status_json;
	srv = hf_ctl_server_create(&loop, &cfg, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "hf-ctl-test-server: %s\n", err);
		uv_run(&loop, UV_RUN_DEFAULT);  /* handles the failed create closed */
		uv_loop_close(&loop);
		return 78;
	}
	uv_signal_init(&loop, &sigterm);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	fclose(events);
	return 0;
}
