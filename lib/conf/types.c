/*
 * Typed value parsers for the configuration (in the spirit of DPDK's
 * examples/ip_pipeline/parser.h): one strict function per type, no
 * whitespace, no signs, overflow reported rather than wrapped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "lib/conf/conf_impl.h"

struct hf_conf_unit {
	const char *suffix;
	uint64_t factor;
};

/* Longest suffix first where one is a prefix of another ("ms" before "m"). */
static const struct hf_conf_unit hf_conf_duration_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
	{ "d", 24 * 60 * 60 * 1000 },
	{ "w", 7 * 24 * 60 * 60 * 1000ULL },
};

static const struct hf_conf_unit hf_conf_size_units[] = {
	{ "", 1 },
	{ "K", 1ULL << 10 },
	{ "M", 1ULL << 20 },
	{ "G", 1ULL << 30 },
	{ "T", 1ULL << 40 },
};

/* Leading decimal digits of text into *out; *end points past them. */
static int hf_conf_parse_digits(const char *text, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return -ERANGE;
	}
	*out = v;
	*end = p;
	return 0;
}

int hf_conf_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(text, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int hf_conf_parse_uint(const char *text, uint64_t *out)
{
	const char *end;
	int rc = hf_conf_parse_digits(text, out, &end);

	if (rc < 0)
		return rc;
	return *end == '\0' ? 0 : -EINVAL;
}

static int hf_conf_parse_unit(const char *text, const struct hf_conf_unit *units, size_t n_units,
			      bool icase, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int rc = hf_conf_parse_digits(text, &v, &end);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n_units; i++) {
		if ((icase ? strcasecmp(end, units[i].suffix) : strcmp(end, units[i].suffix)) != 0)
			continue;
		if (__builtin_mul_overflow(v, units[i].factor, out))
			return -ERANGE;
		return 0;
	}
	return -EINVAL;
}

int hf_conf_parse_duration(const char *text, uint64_t *out_ms)
{
	/* A bare number would be ambiguous (seconds? ms?); only 0 is clear. */
	if (strcmp(text, "0") == 0) {
		*out_ms = 0;
		return 0;
	}
	return hf_conf_parse_unit(text, hf_conf_duration_units,
				  sizeof(hf_conf_duration_units) / sizeof(hf_conf_duration_units[0]),
				  false, out_ms);
}

int hf_conf_parse_size(const char *text, uint64_t *out_bytes)
{
	return hf_conf_parse_unit(text, hf_conf_size_units,
				  sizeof(hf_conf_size_units) / sizeof(hf_conf_size_units[0]),
				  true, out_bytes);
}

int hf_conf_parse_addr(const char *text, uint16_t port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

int hf_conf_parse_addrport(const char *text, struct sockaddr_storage *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *host_start = text;
	size_t host_len;
	uint64_t port;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		host_start = text + 1;
		host_len = (size_t)(close - host_start);
		colon = close + 1;
	} else {
		colon = strchr(text, ':');
		/* An IPv6 address needs brackets to be told from its port. */
		if (colon == NULL || strchr(colon + 1, ':') != NULL)
			return -EINVAL;
		host_len = (size_t)(colon - text);
	}
	if (host_len == 0 || host_len >= sizeof(host))
		return -EINVAL;
	memcpy(host, host_start, host_len);
	host[host_len] = '\0';
	if (hf_conf_parse_uint(colon + 1, &port) < 0 || port == 0 || port > 65535)
		return -EINVAL;
	if (hf_conf_parse_addr(host, (uint16_t)port, out) < 0)
		return -EINVAL;
	/* "[192.0.2.1]:53" is not a form anyone means; keep brackets for IPv6. */
	if ((text[0] == '[') != (out->ss_family == AF_INET6)) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}

bool hf_conf_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return a->ss_family == AF_UNSPEC;
}

static void hf_conf_fmt_unit(uint64_t v, const struct hf_conf_unit *units, size_t n_units,
			     char *buf, size_t size)
{
	size_t best = 0;

	for (size_t i = 0; i < n_units; i++) {
		if (v % units[i].factor == 0)
			best = i;
	}
	if (v == 0)
		snprintf(buf, size, "0");
	else
		snprintf(buf, size, "%" PRIu64 "%s", v / units[best].factor, units[best].suffix);
}

void hf_conf_fmt_duration(uint64_t ms, char *buf, size_t size)
{
	hf_conf_fmt_unit(ms, hf_conf_duration_units,
			 sizeof(hf_conf_duration_units) / sizeof(hf_conf_duration_units[0]), buf, size);
}

void hf_conf_fmt_size(uint64_t bytes, char *buf, size_t size)
{
	hf_conf_fmt_unit(bytes, hf_conf_size_units,
			 sizeof(hf_conf_size_units) / sizeof(hf_conf_size_units[0]), buf, size);
}

void hf_conf_fmt_addr(const struct sockaddr_storage *ss, bool with_port, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	uint16_t port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
	}
	if (!with_port)
		snprintf(buf, size, "%s", host);
	else if (ss->ss_family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", host, port);
	else
		snprintf(buf, size, "%s:%u", host, port);
}
