/*
 * holdfastctl: the operator's command line for holdfast-control.
 *
 *   holdfastctl [-s SOCKET] [--json] COMMAND [ARGS]
 *
 * Each command is one JSON request over the control socket
 * (control/ctl/server.h) and one JSON response. Output is a human table or
 * sentence by default, the server's JSON line with --json. Exit status:
 * 0 success, 1 the server refused the command (its message on stderr),
 * 2 usage error, 3 the socket cannot be reached or the conversation failed.
 * docs/holdfastctl.md is the manual.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "control/ctl/ctl_util.h"

#define HF_CTL_EXIT_OK       0
#define HF_CTL_EXIT_REFUSED  1
#define HF_CTL_EXIT_USAGE    2
#define HF_CTL_EXIT_CONNECT  3
#define HF_CTL_RESPONSE_MAX  (64u << 20)  /* bytes of one response line */
#define HF_CTL_TIMEOUT_S     30           /* for the server to answer */
#define HF_CTL_DEFAULT_SOCKET "/run/holdfast/control.sock"

static const char *hf_socket_path;
static bool hf_json_out;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: holdfastctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  nta add ZONE [--lifetime D] [--reason TEXT]   treat ZONE as unsigned (default 1h, max 1w)\n"
		"  nta remove ZONE [--reason TEXT]\n"
		"  nta list\n"
		"  override add PATTERN ACTION [DATA...] [--type T] [--lifetime D] [--reason TEXT]\n"
		"               [--ede 15|17] [--ttl D]\n"
		"      PATTERN: name. (exact), *.name. (name and below), /regex/\n"
		"      ACTION:  insecure nxdomain nodata refuse drop servfail answer\n"
		"      DATA:    records for answer, e.g. \"A 192.0.2.1\" \"AAAA 2001:db8::1\"\n"
		"  override remove ID [--reason TEXT]\n"
		"  override list\n"
		"  cache flush [NAME [--subtree]] [--reason TEXT]\n"
		"  stats\n"
		"  status\n"
		"\n"
		"options:\n"
		"  -s, --socket PATH  control socket (default: $HOLDFAST_CTL_SOCKET, else %s)\n"
		"  -j, --json         print the server's JSON response\n"
		"  -h, --help         this text\n"
		"durations: 30s, 5m, 6h, 1d, 1w, or combined (1h30m)\n"
		"exit status: 0 success, 1 refused by the server, 2 usage, 3 cannot reach the server\n",
		HF_CTL_DEFAULT_SOCKET);
}

/* ---- talking to the server ----------------------------------------------- */

/* Send req, receive the response line into *resp_text (malloc'ed). */
static int hf_ctl_exchange(json_object *req, char **resp_text)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = HF_CTL_TIMEOUT_S };
	size_t len, cap = 4096, got = 0;
	const char *text = hf_ctl_json_text(req, 0, &len);
	char *buf;
	int fd;

	if (strlen(hf_socket_path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "holdfastctl: cannot connect to %s: socket path too long\n",
			hf_socket_path);
		return HF_CTL_EXIT_CONNECT;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", hf_socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "holdfastctl: cannot connect to %s: %s\n", hf_socket_path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return HF_CTL_EXIT_CONNECT;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (size_t off = 0; off <= len; ) {
		/* The request, then its newline. */
		const char *p = off < len ? text + off : "\n";
		size_t n = off < len ? len - off : 1;
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "holdfastctl: cannot send to %s: %s\n", hf_socket_path,
				strerror(errno));
			close(fd);
			return HF_CTL_EXIT_CONNECT;
		}
		off += (size_t)w;
	}
	buf = malloc(cap);
	for (;;) {
		ssize_t n;

		if (!buf) {
			fprintf(stderr, "holdfastctl: out of memory\n");
			close(fd);
			return HF_CTL_EXIT_CONNECT;
		}
		if (got + 1 >= cap) {
			char *nb;

			if (cap >= HF_CTL_RESPONSE_MAX) {
				fprintf(stderr, "holdfastctl: response from %s longer than %u bytes\n",
					hf_socket_path, HF_CTL_RESPONSE_MAX);
				free(buf);
				close(fd);
				return HF_CTL_EXIT_CONNECT;
			}
			nb = realloc(buf, cap * 2);
			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
			continue;
		}
		n = recv(fd, buf + got, cap - got - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "holdfastctl: %s: %s\n", hf_socket_path,
				n == 0 ? "connection closed before a response"
				: errno == EAGAIN ? "no response in time" : strerror(errno));
			free(buf);
			close(fd);
			return HF_CTL_EXIT_CONNECT;
		}
		got += (size_t)n;
		buf[got] = '\0';
		if (memchr(buf, '\n', got))
			break;
	}
	close(fd);
	*strchr(buf, '\n') = '\0';
	*resp_text = buf;
	return HF_CTL_EXIT_OK;
}

/* Send a request; on success *resp is the response object ("ok": true). */
static int hf_ctl_call(const char *what, json_object *req, json_object **resp)
{
	char *text = NULL;
	json_object *r, *ok, *error;
	int rc = hf_ctl_exchange(req, &text);

	json_object_put(req);
	if (rc != HF_CTL_EXIT_OK)
		return rc;
	r = json_tokener_parse(text);
	if (!r || !json_object_is_type(r, json_type_object) ||
	    !json_object_object_get_ex(r, "ok", &ok) || !json_object_is_type(ok, json_type_boolean)) {
		fprintf(stderr, "holdfastctl: %s: the server's response is not a protocol message\n",
			hf_socket_path);
		json_object_put(r);
		free(text);
		return HF_CTL_EXIT_CONNECT;
	}
	if (hf_json_out)
		printf("%s\n", text);
	free(text);
	if (!json_object_get_boolean(ok)) {
		const char *msg = json_object_object_get_ex(r, "error", &error)
					  ? json_object_get_string(error) : "refused";
		size_t wl = strlen(what);

		/* The server names the command already ("nta add: ..."): do not repeat it. */
		if (strncmp(msg, what, wl) == 0 && msg[wl] == ':')
			fprintf(stderr, "holdfastctl: %s\n", msg);
		else
			fprintf(stderr, "holdfastctl: %s: %s\n", what, msg);
		json_object_put(r);
		return HF_CTL_EXIT_REFUSED;
	}
	*resp = r;
	return HF_CTL_EXIT_OK;
}

/* ---- output helpers ------------------------------------------------------ */

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "";
	return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static bool jnull(json_object *o, const char *key)
{
	json_object *v;

	return !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null);
}

static void fmt_time(int64_t t, char *out, size_t size)
{
	hf_ctl_time_format(t, out, size);
}

static void fmt_remaining(int64_t secs, char *out, size_t size)
{
	hf_ctl_duration_format(secs > 0 ? (uint64_t)secs : 0, out, size);
}

/* Print an object's scalars as "key: value", nested objects with dotted keys. */
static void print_flat(json_object *o, const char *prefix)
{
	json_object_object_foreach(o, key, val) {
		char name[256];

		snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", key);
		if (json_object_is_type(val, json_type_object))
			print_flat(val, name);
		else
			printf("%-32s %s\n", name,
			       val ? (json_object_is_type(val, json_type_string)
					      ? json_object_get_string(val)
					      : json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN))
				   : "null");
	}
}

/* ---- commands ------------------------------------------------------------ */

struct hf_cmd_opts {
	const char *reason;
	const char *type;
	uint64_t lifetime;
	bool has_lifetime;
	uint64_t ttl;
	bool has_ttl;
	int ede;
	bool subtree;
};

enum { OPT_LIFETIME = 256, OPT_REASON, OPT_TYPE, OPT_EDE, OPT_TTL, OPT_SUBTREE };

/* Parse the options of a command (argv[0] is the command's last word);
 * positional arguments are left in argv[optind..]. allowed: OPT_* mask. */
static int parse_cmd_opts(const char *what, int argc, char **argv, unsigned allowed,
			  struct hf_cmd_opts *o)
{
	static const struct option opts[] = {
		{ "lifetime", required_argument, NULL, OPT_LIFETIME },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "ede", required_argument, NULL, OPT_EDE },
		{ "ttl", required_argument, NULL, OPT_TTL },
		{ "subtree", no_argument, NULL, OPT_SUBTREE },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	memset(o, 0, sizeof(*o));
	optind = 0;  /* 0, not 1: glibc then forgets the "+" mode of the first parse */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":j", opts, NULL)) != -1) {
		if (c == 'j') {
			hf_json_out = true;
			continue;
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, "holdfastctl: %s: %s '%s'\n", what,
				c == ':' ? "missing value for option" : "unknown option",
				argv[optind - 1]);
			return -1;
		}
		if (!(allowed & (1u << (c - OPT_LIFETIME)))) {
			fprintf(stderr, "holdfastctl: %s: option '%s' does not apply\n", what,
				argv[optind - 1]);
			return -1;
		}
		switch (c) {
		case OPT_LIFETIME:
		case OPT_TTL: {
			uint64_t v;

			rc = hf_ctl_duration_parse(optarg, &v);
			if (rc < 0) {
				fprintf(stderr, "holdfastctl: %s: bad duration '%s' (use e.g. 30s, 5m, "
					"6h, 1d, 1w)\n", what, optarg);
				return -1;
			}
			if (c == OPT_LIFETIME) {
				o->lifetime = v;
				o->has_lifetime = true;
			} else {
				o->ttl = v;
				o->has_ttl = true;
			}
			break;
		}
		case OPT_REASON:
			o->reason = optarg;
			break;
		case OPT_TYPE:
			o->type = optarg;
			break;
		case OPT_EDE:
			if (strcmp(optarg, "15") == 0 || strcasecmp(optarg, "blocked") == 0) {
				o->ede = 15;
			} else if (strcmp(optarg, "17") == 0 || strcasecmp(optarg, "filtered") == 0) {
				o->ede = 17;
			} else {
				fprintf(stderr, "holdfastctl: %s: --ede takes 15 (Blocked) or 17 "
					"(Filtered), not '%s'\n", what, optarg);
				return -1;
			}
			break;
		case OPT_SUBTREE:
			o->subtree = true;
			break;
		}
	}
	return 0;
}

#define ALLOW(x) (1u << ((x) - OPT_LIFETIME))

static json_object *new_req(const char *cmd, const struct hf_cmd_opts *o)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (o && o->reason)
		json_object_object_add(req, "reason", json_object_new_string(o->reason));
	return req;
}

/* argv after getopt permutation: positional arguments gathered in order. */
static int positionals(int argc, char **argv, char **out, int max)
{
	int n = 0;

	for (int i = optind; i < argc; i++) {
		if (n == max)
			return -1;
		out[n++] = argv[i];
	}
	return n;
}

static int cmd_nta(int argc, char **argv)
{
	struct hf_cmd_opts o;
	json_object *req, *resp, *n;
	char *pos[2], a[40], b[40];
	const char *sub = argc > 1 ? argv[1] : "";
	int np, rc;

	if (strcmp(sub, "add") == 0) {
		if (parse_cmd_opts("nta add", argc - 1, argv + 1, ALLOW(OPT_LIFETIME) | ALLOW(OPT_REASON), &o) < 0)
			return HF_CTL_EXIT_USAGE;
		np = positionals(argc - 1, argv + 1, pos, 2);
		if (np != 1) {
			fprintf(stderr, "holdfastctl: nta add: expected one ZONE\n");
			return HF_CTL_EXIT_USAGE;
		}
		req = new_req("nta.add", &o);
		json_object_object_add(req, "zone", json_object_new_string(pos[0]));
		if (o.has_lifetime)
			json_object_object_add(req, "lifetime", json_object_new_int64((int64_t)o.lifetime));
		rc = hf_ctl_call("nta add", req, &resp);
		if (rc != HF_CTL_EXIT_OK)
			return rc;
		if (!hf_json_out && json_object_object_get_ex(resp, "nta", &n)) {
			fmt_time(jint(n, "expires"), a, sizeof(a));
			fmt_remaining(jint(n, "remaining"), b, sizeof(b));
			printf("negative trust anchor %s %s, expires %s (in %s)%s%s\n", jstr(n, "zone"),
			       json_object_get_boolean(json_object_object_get(resp, "updated"))
				       ? "updated" : "added", a, b,
			       jstr(n, "reason")[0] ? "; reason: " : "", jstr(n, "reason"));
		}
		json_object_put(resp);
		return HF_CTL_EXIT_OK;
	}
	if (strcmp(sub, "remove") == 0) {
		if (parse_cmd_opts("nta remove", argc - 1, argv + 1, ALLOW(OPT_REASON), &o) < 0)
			return HF_CTL_EXIT_USAGE;
		np = positionals(argc - 1, argv + 1, pos, 2);
		if (np != 1) {
			fprintf(stderr, "holdfastctl: nta remove: expected one ZONE\n");
			return HF_CTL_EXIT_USAGE;
		}
		req = new_req("nta.remove", &o);
		json_object_object_add(req, "zone", json_object_new_string(pos[0]));
		rc = hf_ctl_call("nta remove", req, &resp);
		if (rc != HF_CTL_EXIT_OK)
			return rc;
		if (!hf_json_out && json_object_object_get_ex(resp, "nta", &n))
			printf("negative trust anchor %s removed\n", jstr(n, "zone"));
		json_object_put(resp);
		return HF_CTL_EXIT_OK;
	}
	if (strcmp(sub, "list") == 0) {
		json_object *list;

		if (parse_cmd_opts("nta list", argc - 1, argv + 1, 0, &o) < 0 ||
		    positionals(argc - 1, argv + 1, pos, 0) != 0) {
			fprintf(stderr, "holdfastctl: nta list: takes no arguments\n");
			return HF_CTL_EXIT_USAGE;
		}
		rc = hf_ctl_call("nta list", new_req("nta.list", NULL), &resp);
		if (rc != HF_CTL_EXIT_OK)
			return rc;
		if (!hf_json_out && json_object_object_get_ex(resp, "ntas", &list)) {
			size_t cnt = json_object_array_length(list);

			if (cnt == 0)
				printf("no negative trust anchors\n");
			else
				printf("%-32s %-20s %-10s %-20s %-22s %s\n", "ZONE", "EXPIRES (UTC)",
				       "REMAINING", "ADDED (UTC)", "LAST RECHECK", "REASON");
			for (size_t i = 0; i < cnt; i++) {
				char c[40], d[48], ago[32];

				n = json_object_array_get_idx(list, i);
				fmt_time(jint(n, "expires"), a, sizeof(a));
				fmt_remaining(jint(n, "remaining"), b, sizeof(b));
				fmt_time(jint(n, "added"), c, sizeof(c));
				/* "fails 4s ago": what the zone's latest recheck found. */
				int64_t at = jint(n, "rechecked"), now = jint(resp, "now");
				if (at > 0) {
					fmt_remaining(now > at ? now - at : 0, ago, sizeof(ago));
					snprintf(d, sizeof(d), "%s %s ago", jstr(n, "recheck"), ago);
				} else {
					snprintf(d, sizeof(d), "-");
				}
				printf("%-32s %-20s %-10s %-20s %-22s %s\n", jstr(n, "zone"), a, b, c, d,
				       jstr(n, "reason"));
			}
		}
		json_object_put(resp);
		return HF_CTL_EXIT_OK;
	}
	fprintf(stderr, "holdfastctl: nta: expected add, remove or list%s%s\n",
		sub[0] ? ", not " : "", sub);
	return HF_CTL_EXIT_USAGE;
}

static void print_rule_line(json_object *r)
{
	char exp[40], hits[24], act[256];
	json_object *data;
	size_t used;

	if (jnull(r, "expires"))
		snprintf(exp, sizeof(exp), "never");
	else
		fmt_remaining(jint(r, "remaining"), exp, sizeof(exp));
	snprintf(hits, sizeof(hits), "%" PRId64, jint(r, "hits"));
	used = (size_t)snprintf(act, sizeof(act), "%s", jstr(r, "action"));
	if (!jnull(r, "ede"))
		used += (size_t)snprintf(act + used, sizeof(act) - used, " (EDE %" PRId64 ")",
					 jint(r, "ede"));
	if (json_object_object_get_ex(r, "data", &data))
		for (size_t i = 0; i < json_object_array_length(data) && used < sizeof(act); i++)
			used += (size_t)snprintf(act + used, sizeof(act) - used, "%s%s",
						 i ? ", " : " ",
						 json_object_get_string(json_object_array_get_idx(data, i)));
	printf("%-6" PRId64 " %-32s %-6s %-30s %-10s %-8s %s\n", jint(r, "id"), jstr(r, "pattern"),
	       jnull(r, "type") ? "*" : jstr(r, "type"), act, exp, hits, jstr(r, "reason"));
}

static int cmd_override(int argc, char **argv)
{
	struct hf_cmd_opts o;
	json_object *req, *resp, *r;
	char *pos[2 + 64];
	const char *sub = argc > 1 ? argv[1] : "";
	int np, rc;

	if (strcmp(sub, "add") == 0) {
		json_object *data;

		if (parse_cmd_opts("override add", argc - 1, argv + 1,
				   ALLOW(OPT_LIFETIME) | ALLOW(OPT_REASON) | ALLOW(OPT_TYPE) |
				   ALLOW(OPT_EDE) | ALLOW(OPT_TTL), &o) < 0)
			return HF_CTL_EXIT_USAGE;
		np = positionals(argc - 1, argv + 1, pos, (int)(sizeof(pos) / sizeof(pos[0])));
		if (np < 2) {
			fprintf(stderr, "holdfastctl: override add: expected PATTERN ACTION [DATA...]\n");
			return HF_CTL_EXIT_USAGE;
		}
		req = new_req("override.add", &o);
		json_object_object_add(req, "pattern", json_object_new_string(pos[0]));
		json_object_object_add(req, "action", json_object_new_string(pos[1]));
		data = json_object_new_array();
		/* Each DATA argument is a record; "A 192.0.2.1; A 192.0.2.2" holds two. */
		for (int i = 2; i < np; i++) {
			char *copy = strdup(pos[i]), *save = NULL;

			for (char *t = copy ? strtok_r(copy, ";\n", &save) : NULL; t;
			     t = strtok_r(NULL, ";\n", &save)) {
				while (*t == ' ' || *t == '\t')
					t++;
				if (*t)
					json_object_array_add(data, json_object_new_string(t));
			}
			free(copy);
		}
		if (json_object_array_length(data))
			json_object_object_add(req, "data", data);
		else
			json_object_put(data);
		if (o.type)
			json_object_object_add(req, "type", json_object_new_string(o.type));
		if (o.ede)
			json_object_object_add(req, "ede", json_object_new_int(o.ede));
		if (o.has_lifetime)
			json_object_object_add(req, "lifetime", json_object_new_int64((int64_t)o.lifetime));
		if (o.has_ttl)
			json_object_object_add(req, "ttl", json_object_new_int64((int64_t)o.ttl));
		rc = hf_ctl_call("override add", req, &resp);
		if (rc != HF_CTL_EXIT_OK)
			return rc;
		if (!hf_json_out && json_object_object_get_ex(resp, "rule", &r))
			printf("rule %" PRId64 " %s: %s%s%s %s\n", jint(r, "id"),
			       json_object_get_boolean(json_object_object_get(resp, "updated"))
				       ? "updated" : "added",
			       jstr(r, "pattern"), jnull(r, "type") ? "" : " type ",
			       jstr(r, "type"), jstr(r, "action"));
		json_object_put(resp);
		return HF_CTL_EXIT_OK;
	}
	if (strcmp(sub, "remove") == 0) {
		char *end;
		unsigned long long id;

		if (parse_cmd_opts("override remove", argc - 1, argv + 1, ALLOW(OPT_REASON), &o) < 0)
			return HF_CTL_EXIT_USAGE;
		np = positionals(argc - 1, argv + 1, pos, 2);
		if (np != 1) {
			fprintf(stderr, "holdfastctl: override remove: expected one rule ID\n");
			return HF_CTL_EXIT_USAGE;
		}
		errno = 0;
		id = strtoull(pos[0], &end, 10);
		if (!pos[0][0] || *end || errno || id == 0 || id > UINT32_MAX || pos[0][0] == '-') {
			fprintf(stderr, "holdfastctl: override remove: '%s' is not a rule id "
				"(see override list)\n", pos[0]);
			return HF_CTL_EXIT_USAGE;
		}
		req = new_req("override.remove", &o);
		json_object_object_add(req, "id", json_object_new_int64((int64_t)id));
		rc = hf_ctl_call("override remove", req, &resp);
		if (rc != HF_CTL_EXIT_OK)
			return rc;
		if (!hf_json_out && json_object_object_get_ex(resp, "rule", &r))
			printf("rule %" PRId64 " (%s) removed\n", jint(r, "id"), jstr(r, "pattern"));
		json_object_put(resp);
		return HF_CTL_EXIT_OK;
	}
	if (strcmp(sub, "list") == 0) {
		json_object *list;

		if (parse_cmd_opts("override list", argc - 1, argv + 1, 0, &o) < 0 ||
		    positionals(argc - 1, argv + 1, pos, 0) != 0) {
			fprintf(stderr, "holdfastctl: override list: takes no arguments\n");
			return HF_CTL_EXIT_USAGE;
		}
		rc = hf_ctl_call("override list", new_req("override.list", NULL), &resp);
		if (rc != HF_CTL_EXIT_OK)
			return rc;
		if (!hf_json_out && json_object_object_get_ex(resp, "rules", &list)) {
			size_t cnt = json_object_array_length(list);

			if (cnt == 0)
				printf("no override rules\n");
			else
				printf("%-6s %-32s %-6s %-30s %-10s %-8s %s\n", "ID", "PATTERN", "TYPE",
				       "ACTION", "EXPIRES", "HITS", "REASON");
			for (size_t i = 0; i < cnt; i++)
				print_rule_line(json_object_array_get_idx(list, i));
		}
		json_object_put(resp);
		return HF_CTL_EXIT_OK;
	}
	fprintf(stderr, "holdfastctl: override: expected add, remove or list%s%s\n",
		sub[0] ? ", not " : "", sub);
	return HF_CTL_EXIT_USAGE;
}

static int cmd_cache(int argc, char **argv)
{
	struct hf_cmd_opts o;
	json_object *req, *resp;
	char *pos[2];
	const char *sub = argc > 1 ? argv[1] : "";
	int np, rc;

	if (strcmp(sub, "flush") != 0) {
		fprintf(stderr, "holdfastctl: cache: expected flush%s%s\n", sub[0] ? ", not " : "", sub);
		return HF_CTL_EXIT_USAGE;
	}
	if (parse_cmd_opts("cache flush", argc - 1, argv + 1, ALLOW(OPT_SUBTREE) | ALLOW(OPT_REASON),
			   &o) < 0)
		return HF_CTL_EXIT_USAGE;
	np = positionals(argc - 1, argv + 1, pos, 2);
	if (np > 1 || (o.subtree && np == 0)) {
		fprintf(stderr, "holdfastctl: cache flush: expected [NAME [--subtree]]\n");
		return HF_CTL_EXIT_USAGE;
	}
	req = new_req("cache.flush", &o);
	if (np == 1)
		json_object_object_add(req, "name", json_object_new_string(pos[0]));
	if (o.subtree)
		json_object_object_add(req, "subtree", json_object_new_boolean(1));
	rc = hf_ctl_call("cache flush", req, &resp);
	if (rc != HF_CTL_EXIT_OK)
		return rc;
	if (!hf_json_out)
		printf("flushed %" PRId64 " cache entries%s%s%s\n", jint(resp, "flushed"),
		       np ? " for " : "", np ? pos[0] : "", o.subtree ? " and below" : "");
	json_object_put(resp);
	return HF_CTL_EXIT_OK;
}

static int cmd_query(int argc, char **argv, const char *cmd)
{
	struct hf_cmd_opts o;
	json_object *resp, *obj;
	char *pos[1];
	int rc;

	if (parse_cmd_opts(cmd, argc, argv, 0, &o) < 0 || positionals(argc, argv, pos, 0) != 0) {
		fprintf(stderr, "holdfastctl: %s: takes no arguments\n", cmd);
		return HF_CTL_EXIT_USAGE;
	}
	rc = hf_ctl_call(cmd, new_req(cmd, NULL), &resp);
	if (rc != HF_CTL_EXIT_OK)
		return rc;
	if (!hf_json_out && json_object_object_get_ex(resp, cmd, &obj))
		print_flat(obj, "");
	json_object_put(resp);
	return HF_CTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	int c;

	hf_socket_path = getenv("HOLDFAST_CTL_SOCKET");
	if (!hf_socket_path || !hf_socket_path[0])
		hf_socket_path = HF_CTL_DEFAULT_SOCKET;
	opterr = 0;
	/* "+": stop at the command, whose own options come after it. */
	while ((c = getopt_long(argc, argv, "+:s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			hf_socket_path = optarg;
			break;
		case 'j':
			hf_json_out = true;
			break;
		case 'h':
			usage(stdout);
			return HF_CTL_EXIT_OK;
		default:
			fprintf(stderr, "holdfastctl: %s '%s'\n",
				c == ':' ? "missing value for option" : "unknown option",
				argv[optind - 1]);
			usage(stderr);
			return HF_CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return HF_CTL_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	cmd = argv[0];
	if (strcmp(cmd, "nta") == 0)
		return cmd_nta(argc, argv);
	if (strcmp(cmd, "override") == 0)
		return cmd_override(argc, argv);
	if (strcmp(cmd, "cache") == 0)
		return cmd_cache(argc, argv);
	if (strcmp(cmd, "stats") == 0 || strcmp(cmd, "status") == 0)
		return cmd_query(argc, argv, cmd);
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return HF_CTL_EXIT_OK;
	}
	fprintf(stderr, "holdfastctl: unknown command '%s' (try holdfastctl --help)\n", cmd);
	return HF_CTL_EXIT_USAGE;
}
