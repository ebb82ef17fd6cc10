/*
 * The metrics endpoint (control/metrics.h): libmicrohttpd on its own
 * thread, serving the text the loop thread last published.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "control/metrics.h"

#define HF_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define HF_METRICS_MAX_CONNECTIONS 16
#define HF_METRICS_CONNECTION_TIMEOUT_S 10
#define HF_METRICS_NAME_MAX 256

struct hf_metrics {
	struct MHD_Daemon *daemon;
	uint16_t port;
	pthread_mutex_t lock;  /* guards text and len */
	char *text;            /* NULL until the first publication */
	size_t len;
};

static enum MHD_Result hf_metrics_reply(struct MHD_Connection *conn, unsigned status,
					const char *body, size_t len, const char *type)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result hf_metrics_on_request(void *cls, struct MHD_Connection *conn,
					     const char *url, const char *method,
					     const char *version, const char *upload_data,
					     size_t *upload_data_size, void **req_cls)
{
	struct hf_metrics *m = cls;
	(void)version;
	(void)upload_data;
	(void)req_cls;

	static const char not_found[] = "not found: the metrics are at /metrics\n";
	static const char bad_method[] = "only GET and HEAD\n";
	static const char not_yet[] = "no metrics rendered yet\n";
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		*upload_data_size = 0;  /* a body is not wanted: discard it */
		return hf_metrics_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, bad_method,
					sizeof(bad_method) - 1, "text/plain");
	}
	if (strcmp(url, "/metrics") != 0)
		return hf_metrics_reply(conn, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1,
					"text/plain");
	pthread_mutex_lock(&m->lock);
	enum MHD_Result ret = m->text ? hf_metrics_reply(conn, MHD_HTTP_OK, m->text, m->len,
							 HF_METRICS_CONTENT_TYPE)
				      : hf_metrics_reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, not_yet,
							 sizeof(not_yet) - 1, "text/plain");
	pthread_mutex_unlock(&m->lock);
	return ret;
}

struct hf_metrics *hf_metrics_start(const struct sockaddr_storage *addr, char *err,
				    size_t err_size)
{
	uint16_t port;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;

	if (addr->ss_family == AF_INET) {
		port = ntohs(((const struct sockaddr_in *)(const void *)addr)->sin_port);
	} else if (addr->ss_family == AF_INET6) {
		port = ntohs(((const struct sockaddr_in6 *)(const void *)addr)->sin6_port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, err_size, "metrics: no address to listen on");
		return NULL;
	}
	struct hf_metrics *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, err_size, "metrics: out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	errno = 0;
	m->daemon = MHD_start_daemon(flags, port, NULL, NULL, hf_metrics_on_request, m,
				     MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)HF_METRICS_MAX_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HF_METRICS_CONNECTION_TIMEOUT_S,
				     MHD_OPTION_END);
	if (!m->daemon) {
		/* libmicrohttpd leaves the bind/listen errno behind. */
		snprintf(err, err_size, "metrics: cannot listen on port %u: %s", port,
			 errno ? strerror(errno) : "libmicrohttpd refused to start");
		pthread_mutex_destroy(&m->lock);
		free(m);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
	m->port = info ? info->port : port;
	return m;
}

uint16_t hf_metrics_port(const struct hf_metrics *m)
{
	return m->port;
}

int hf_metrics_publish(struct hf_metrics *m, const char *text, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	pthread_mutex_lock(&m->lock);
	char *old = m->text;
	m->text = copy;
	m->len = len;
	pthread_mutex_unlock(&m->lock);
	free(old);
	return 0;
}

void hf_metrics_stop(struct hf_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->daemon);
	pthread_mutex_destroy(&m->lock);
	free(m->text);
	free(m);
}

/* Appends key to the name in buf (at len), '_'-joined, as a metric name may
 * spell it ([a-zA-Z0-9_]; anything else becomes '_'). Returns the new length. */
static size_t hf_metrics_name_append(char *buf, size_t len, const char *key)
{
	if (len > 0 && len < HF_METRICS_NAME_MAX - 1)
		buf[len++] = '_';
	for (const char *c = key; *c && len < HF_METRICS_NAME_MAX - 1; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || *c == '_';
		buf[len++] = ok ? *c : '_';
	}
	buf[len] = '\0';
	return len;
}

static void hf_metrics_render_tree(FILE *out, char *name, size_t len, const char *labels,
				   json_object *obj)
{
	json_object_object_foreach(obj, key, val) {
		size_t n = hf_metrics_name_append(name, len, key);
		switch (json_object_get_type(val)) {
		case json_type_object:
			hf_metrics_render_tree(out, name, n, labels, val);
			break;
		case json_type_int:
			/* json-c keeps counters above INT64_MAX as unsigned. */
			if (json_object_get_int64(val) == INT64_MAX)
				fprintf(out, "%s%s %llu\n", name, labels,
					(unsigned long long)json_object_get_uint64(val));
			else
				fprintf(out, "%s%s %lld\n", name, labels,
					(long long)json_object_get_int64(val));
			break;
		case json_type_double:
			fprintf(out, "%s%s %.17g\n", name, labels, json_object_get_double(val));
			break;
		case json_type_boolean:
			fprintf(out, "%s%s %d\n", name, labels, json_object_get_boolean(val) ? 1 : 0);
			break;
		default:
			break;  /* strings, arrays, null: not samples */
		}
		name[len] = '\0';
	}
}

void hf_metrics_render_json(FILE *out, const char *prefix, const char *labels,
			    json_object *obj)
{
	char name[HF_METRICS_NAME_MAX];

	name[0] = '\0';
	size_t len = hf_metrics_name_append(name, 0, prefix);
	if (json_object_is_type(obj, json_type_object))
		hf_metrics_render_tree(out, name, len, labels ? labels : "", obj);
}
