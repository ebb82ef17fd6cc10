/*
 * Unit tests of the metrics endpoint (control/metrics.h): the JSON to
 * Prometheus text rendering, and the HTTP server spoken to over a real
 * loopback socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "control/metrics.h"

static char *render(json_object *obj, const char *labels)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	hf_metrics_render_json(out, "holdfast", labels, obj);
	assert_int_equal(fclose(out), 0);
	return text;
}

static void test_render(void **state)
{
	(void)state;
	json_object *root = json_object_new_object();
	json_object *link = json_object_new_object();
	json_object_object_add(link, "misses", json_object_new_uint64(3));
	json_object_object_add(link, "bad-misses", json_object_new_uint64(UINT64_MAX));
	json_object_object_add(root, "link", link);
	json_object *deep = json_object_new_object();
	json_object *inner = json_object_new_object();
	json_object_object_add(inner, "ratio", json_object_new_double(0.5));
	json_object_object_add(inner, "on", json_object_new_boolean(1));
	json_object_object_add(inner, "negative", json_object_new_int64(-7));
	json_object_object_add(deep, "inner", inner);
	json_object_object_add(root, "deep", deep);
	/* Not samples: skipped. */
	json_object_object_add(root, "name", json_object_new_string("edge-1"));
	json_object_object_add(root, "list", json_object_new_array());
	json_object_object_add(root, "nothing", NULL);

	char *text = render(root, NULL);
	assert_string_equal(text,
			    "holdfast_link_misses 3\n"
			    "holdfast_link_bad_misses 18446744073709551615\n"
			    "holdfast_deep_inner_ratio 0.5\n"
			    "holdfast_deep_inner_on 1\n"
			    "holdfast_deep_inner_negative -7\n");
	free(text);

	text = render(link, "{worker=\"1\"}");
	assert_string_equal(text,
			    "holdfast_misses{worker=\"1\"} 3\n"
			    "holdfast_bad_misses{worker=\"1\"} 18446744073709551615\n");
	free(text);

	/* Not an object: nothing. */
	json_object *n = json_object_new_int(1);
	text = render(n, NULL);
	assert_string_equal(text, "");
	free(text);
	json_object_put(n);
	json_object_put(root);
}

/* One HTTP/1.0 exchange; returns the whole response (status line, headers, body). */
/* The loopback address of a family, with a port; returns its length. */
static socklen_t loopback(struct sockaddr_storage *ss, int family, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*a);
}

static char *http(uint16_t port, int family, const char *request)
{
	struct sockaddr_storage ss;
	socklen_t sl = loopback(&ss, family, port);
	int fd = socket(family, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	ssize_t n;
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return buf;
}

static const char *body_of(const char *response)
{
	const char *b = strstr(response, "\r\n\r\n");
	assert_non_null(b);
	return b + 4;
}

static struct hf_metrics *start(int family, char *err, size_t err_size, uint16_t port)
{
	struct sockaddr_storage ss;
	(void)loopback(&ss, family, port);
	return hf_metrics_start(&ss, err, err_size);
}

static void test_http(void **state)
{
	(void)state;
	char err[256];
	struct hf_metrics *m = start(AF_INET, err, sizeof(err), 0);
	assert_non_null(m);
	uint16_t port = hf_metrics_port(m);
	assert_true(port != 0);

	/* Nothing rendered yet. */
	char *r = http(port, AF_INET, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_true(strncmp(r, "HTTP/1.0 503", 12) == 0 || strncmp(r, "HTTP/1.1 503", 12) == 0);
	free(r);

	static const char text[] = "holdfast_link_misses 3\nholdfast_dataplane_attached 1\n";
	assert_int_equal(hf_metrics_publish(m, text, sizeof(text) - 1), 0);
	r = http(port, AF_INET, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, " 200 "));
	assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4"));
	assert_string_equal(body_of(r), text);
	free(r);

	/* A newer text replaces the old one whole. */
	assert_int_equal(hf_metrics_publish(m, "a 1\n", 4), 0);
	r = http(port, AF_INET, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_string_equal(body_of(r), "a 1\n");
	free(r);

	r = http(port, AF_INET, "GET /other HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, " 404 "));
	free(r);
	r = http(port, AF_INET, "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
	assert_non_null(strstr(r, " 405 "));
	free(r);
	/* HEAD: headers, no body. */
	r = http(port, AF_INET, "HEAD /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, " 200 "));
	assert_string_equal(body_of(r), "");
	free(r);

	/* The port is taken: a clear error, not a crash. */
	struct hf_metrics *again = start(AF_INET, err, sizeof(err), port);
	assert_null(again);
	assert_non_null(strstr(err, "cannot listen on port"));
	hf_metrics_stop(m);
	hf_metrics_stop(NULL);
}

static void test_http_ipv6(void **state)
{
	(void)state;
	char err[256];
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	if (probe < 0) {
		skip();
		return;
	}
	close(probe);
	struct hf_metrics *m = start(AF_INET6, err, sizeof(err), 0);
	if (!m && strstr(err, "Cannot assign")) {
		skip();  /* no ::1 in this namespace */
		return;
	}
	assert_non_null(m);
	assert_int_equal(hf_metrics_publish(m, "b 2\n", 4), 0);
	char *r = http(hf_metrics_port(m), AF_INET6, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_string_equal(body_of(r), "b 2\n");
	free(r);
	hf_metrics_stop(m);
}

static void test_no_address(void **state)
{
	(void)state;
	char err[256];
	struct sockaddr_storage ss = { .ss_family = AF_UNSPEC };
	assert_null(hf_metrics_start(&ss, err, sizeof(err)));
	assert_non_null(strstr(err, "no address"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_http_ipv6),
		cmocka_unit_test(test_no_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
