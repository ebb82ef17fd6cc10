/*
 * control/ctl/server: the control socket on a uv loop, with a real client
 * (blocking sockets in a thread) and recording hooks; state in a temporary
 * directory.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <uv.h>

#include "control/ctl/ctl_util.h"
#include "control/ctl/server.h"
#include "control/log.h"
#include "include/holdfast/name.h"

struct fixture {
	uv_loop_t loop;
	uv_timer_t poll;
	struct hf_ctl_server *srv;
	char dir[64], sock[96];
	/* recorded hooks */
	char nta_events[16][300];
	unsigned n_nta, n_rules_changed, n_flush;
	bool flush_subtree;
	/* the client */
	void (*client)(struct fixture *f);
	atomic_bool done;
};

static void on_nta(void *ctx, const uint8_t *zone, bool added)
{
	struct fixture *f = ctx;
	char text[HF_NAME_TEXT_MAXLEN];

	hf_name_to_text(zone, text, sizeof(text));
	if (f->n_nta < 16)
		snprintf(f->nta_events[f->n_nta++], 300, "%s %.200s", added ? "+" : "-", text);
}

static void on_rules(void *ctx, const struct hf_override_store *s)
{
	(void)s;
	((struct fixture *)ctx)->n_rules_changed++;
}

static int on_flush(void *ctx, const uint8_t *name, bool subtree, char *err, size_t size)
{
	struct fixture *f = ctx;

	(void)name, (void)err, (void)size;
	f->n_flush++;
	f->flush_subtree = subtree;
	return 3;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hf_ctl_server_config cfg = { 0 };
	char err[512];

	hf_log_set_level(HF_LOG_ERROR);
	snprintf(f->dir, sizeof(f->dir), "/tmp/hf-test-ctl.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/run/ctl.sock", f->dir);
	uv_loop_init(&f->loop);
	cfg.socket_path = f->sock;
	cfg.state_dir = f->dir;
	cfg.hooks.ctx = f;
	cfg.hooks.nta_changed = on_nta;
	cfg.hooks.overrides_changed = on_rules;
	cfg.hooks.cache_flush = on_flush;
	f->srv = hf_ctl_server_create(&f->loop, &cfg, err, sizeof(err));
	if (!f->srv) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	hf_ctl_server_close(f->srv);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	uv_loop_close(&f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* ---- client side (runs in a thread) --------------------------------------- */

static int client_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 5 };

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Read one line; NULL if the connection closed first. Caller frees. */
static char *client_line(int fd)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);

	while (len + 1 < cap) {
		ssize_t n = recv(fd, buf + len, 1, 0);

		if (n <= 0) {
			free(buf);
			return NULL;
		}
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return buf;
		}
		len++;
	}
	free(buf);
	return NULL;
}

static json_object *client_call(int fd, const char *req)
{
	char *line;
	json_object *o;

	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
		return NULL;
	line = client_line(fd);
	o = line ? json_tokener_parse(line) : NULL;
	free(line);
	return o;
}

static bool resp_ok(json_object *o)
{
	return o && json_object_get_boolean(json_object_object_get(o, "ok"));
}

static const char *resp_error(json_object *o)
{
	return o ? json_object_get_string(json_object_object_get(o, "error")) : "(no response)";
}

static void *client_main(void *arg)
{
	struct fixture *f = arg;

	f->client(f);
	atomic_store(&f->done, true);
	return NULL;
}

static void on_poll(uv_timer_t *t)
{
	struct fixture *f = t->data;

	if (atomic_load(&f->done))
		uv_stop(&f->loop);
}

/* Run the client in a thread while the loop serves it. */
static void run_client(struct fixture *f, void (*client)(struct fixture *f))
{
	pthread_t th;

	f->client = client;
	atomic_store(&f->done, false);
	uv_timer_init(&f->loop, &f->poll);
	f->poll.data = f;
	uv_timer_start(&f->poll, on_poll, 1, 1);
	pthread_create(&th, NULL, client_main, f);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	pthread_join(th, NULL);
	uv_close((uv_handle_t *)&f->poll, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* ---- tests ----------------------------------------------------------------- */

static void client_nta(struct fixture *f)
{
	int fd = client_connect(f->sock);
	json_object *o;

	assert_true(fd >= 0);
	o = client_call(fd, "{\"cmd\":\"nta.add\",\"zone\":\"DE.\",\"lifetime\":3600,\"reason\":\"r1\"}");
	assert_true(resp_ok(o));
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_object_get(o, "nta"), "zone")), "de.");
	json_object_put(o);
	o = client_call(fd, "{\"cmd\":\"nta.add\",\"zone\":\"x.\",\"lifetime\":9999999}");
	assert_false(resp_ok(o));
	assert_string_equal(resp_error(o), "nta add: lifetime 16w3d17h46m39s exceeds the maximum of 1w");
	json_object_put(o);
	o = client_call(fd, "{\"cmd\":\"nta.list\"}");
	assert_int_equal(json_object_array_length(json_object_object_get(o, "ntas")), 1);
	json_object_put(o);
	/* Several requests in one write are answered in order. */
	const char *two = "{\"cmd\":\"nta.remove\",\"zone\":\"de.\"}\n{\"cmd\":\"nta.list\"}\n";
	assert_int_equal(send(fd, two, strlen(two), 0), (ssize_t)strlen(two));
	char *l1 = client_line(fd), *l2 = client_line(fd);
	assert_non_null(strstr(l1, "\"ok\":true"));
	assert_non_null(strstr(l2, "\"ntas\":[]"));
	free(l1);
	free(l2);
	o = client_call(fd, "{\"cmd\":\"cache.flush\",\"name\":\"example.\",\"subtree\":true}");
	assert_true(resp_ok(o));
	assert_int_equal(json_object_get_int(json_object_object_get(o, "flushed")), 3);
	json_object_put(o);
	o = client_call(fd, "{\"cmd\":\"stats\"}");
	assert_true(resp_ok(o));  /* no hook: the server's own counts */
	json_object_put(o);
	o = client_call(fd, "{\"cmd\":\"nope\"}");
	assert_string_equal(resp_error(o), "unknown command \"nope\"");
	json_object_put(o);
	o = client_call(fd, "[1,2]");
	assert_string_equal(resp_error(o), "request is not a JSON object");
	json_object_put(o);
	close(fd);
}

static void test_requests(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char path[128];
	FILE *audit;
	int lines = 0, c;

	assert_int_equal(stat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	run_client(f, client_nta);
	assert_int_equal(f->n_nta, 2);
	assert_string_equal(f->nta_events[0], "+ de.");
	assert_string_equal(f->nta_events[1], "- de.");
	assert_int_equal(f->n_flush, 1);
	assert_true(f->flush_subtree);
	/* Audit: the add, the refused add, the remove, the flush; not the lists. */
	snprintf(path, sizeof(path), "%s/audit.log", f->dir);
	audit = fopen(path, "r");
	assert_non_null(audit);
	while ((c = fgetc(audit)) != EOF)
		lines += c == '\n';
	fclose(audit);
	assert_int_equal(lines, 4);
	snprintf(path, sizeof(path), "%s/ntas.json", f->dir);
	assert_int_equal(stat(path, &st), 0);
}

static void client_limits(struct fixture *f)
{
	int fds[HF_CTL_CONN_MAX + 1];
	json_object *o;
	char *line, *big;

	for (int i = 0; i < HF_CTL_CONN_MAX; i++) {
		fds[i] = client_connect(f->sock);
		assert_true(fds[i] >= 0);
	}
	/* Make sure all are accepted before the one too many. */
	o = client_call(fds[HF_CTL_CONN_MAX - 1], "{\"cmd\":\"status\"}");
	assert_true(resp_ok(o));
	json_object_put(o);
	fds[HF_CTL_CONN_MAX] = client_connect(f->sock);
	line = client_line(fds[HF_CTL_CONN_MAX]);
	assert_non_null(line);
	assert_non_null(strstr(line, "too many connections"));
	free(line);
	assert_null(client_line(fds[HF_CTL_CONN_MAX]));  /* closed */
	for (int i = 0; i <= HF_CTL_CONN_MAX; i++)
		close(fds[i]);

	/* A request longer than the bound: an error, then the connection closes. */
	int fd = client_connect(f->sock);
	big = malloc(HF_CTL_REQUEST_MAX + 10);
	memset(big, ' ', HF_CTL_REQUEST_MAX + 10);
	send(fd, big, HF_CTL_REQUEST_MAX + 10, MSG_NOSIGNAL);
	line = client_line(fd);
	assert_non_null(line);
	assert_non_null(strstr(line, "request longer than 65536 bytes"));
	free(line);
	free(big);
	close(fd);
}

static void test_limits(void **state)
{
	run_client(*state, client_limits);
	assert_int_equal(hf_ctl_server_stats((*(struct fixture **)state)->srv)->refused, 1);
}

static void client_add_short(struct fixture *f)
{
	int fd = client_connect(f->sock);
	json_object *o;

	o = client_call(fd, "{\"cmd\":\"nta.add\",\"zone\":\"short.\",\"lifetime\":60}");
	assert_true(resp_ok(o));
	json_object_put(o);
	o = client_call(fd, "{\"cmd\":\"override.add\",\"pattern\":\"*.t.\",\"action\":\"drop\","
			    "\"lifetime\":60}");
	assert_true(resp_ok(o));
	json_object_put(o);
	close(fd);
}

static void test_expiry(void **state)
{
	struct fixture *f = *state;
	uint8_t zone[HF_NAME_MAXLEN];

	run_client(f, client_add_short);
	assert_int_equal(f->n_rules_changed, 1);
	hf_name_from_text("a.short.", zone);
	assert_non_null(hf_nta_find(hf_ctl_server_ntas(f->srv), zone));
	assert_int_equal(hf_ctl_server_expire(f->srv, hf_ctl_now()), 0);
	assert_int_equal(hf_ctl_server_expire(f->srv, hf_ctl_now() + 61), 2);
	assert_null(hf_nta_find(hf_ctl_server_ntas(f->srv), zone));
	assert_string_equal(f->nta_events[f->n_nta - 1], "- short.");
	assert_int_equal(f->n_rules_changed, 2);
	assert_int_equal(hf_override_count(hf_ctl_server_overrides(f->srv)), 0);
}

static void test_socket_in_use(void **state)
{
	struct fixture *f = *state;
	struct hf_ctl_server_config cfg = { .socket_path = f->sock, .state_dir = f->dir };
	char err[512];
	uv_loop_t loop;

	/* A live server's socket is not taken over. */
	uv_loop_init(&loop);
	assert_null(hf_ctl_server_create(&loop, &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "another process is listening there"));
	/* A path that is not a socket is not removed. */
	char path[128];
	snprintf(path, sizeof(path), "%s/plain", f->dir);
	fclose(fopen(path, "w"));
	cfg.socket_path = path;
	assert_null(hf_ctl_server_create(&loop, &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "exists and is not a socket"));
	/* A corrupt state file stops creation with its name. */
	snprintf(path, sizeof(path), "%s/state2", f->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/state2/overrides.json", f->dir);
	FILE *fp = fopen(path, "w");
	fputs("{\"version\":1,\"next_id\":\"x\",\"rules\":[]}", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/state2", f->dir);
	cfg.state_dir = path;
	snprintf(err, sizeof(err), "%s/s2.sock", f->dir);
	cfg.socket_path = err;
	assert_null(hf_ctl_server_create(&loop, &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "state2/overrides.json: \"next_id\""));
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_in_use, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
