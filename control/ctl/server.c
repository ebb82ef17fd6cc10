/*
 * The control socket server; see control/ctl/server.h.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>
#include <uv.h>

#include "control/ctl/audit.h"
#include "control/ctl/ctl_util.h"
#include "control/ctl/server.h"
#include "control/log.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/rrtype.h"

#define HF_CTL_ERR_MAX 1024

struct hf_ctl_conn {
	uv_pipe_t h;
	uv_timer_t idle;
	struct hf_ctl_server *srv;
	struct hf_ctl_conn *next, *prev;
	struct hf_audit_peer peer;
	char *buf;                 /* HF_CTL_REQUEST_MAX bytes */
	size_t len;
	unsigned open_handles;
	bool writing;              /* a response is being written: read nothing more */
	bool close_after_write;
	bool draining;      /* error sent: discard input until EOF (see hf_ctl_linger) */
	bool closing;
};

struct hf_ctl_server {
	uv_loop_t *loop;
	uv_pipe_t listener;
	uv_timer_t expiry;
	struct hf_ctl_hooks hooks;
	char socket_path[PATH_MAX];
	char nta_path[PATH_MAX];
	char override_path[PATH_MAX];
	struct hf_nta_store *ntas;
	struct hf_override_store *overrides;
	struct hf_audit *audit;
	struct hf_ctl_conn conns;  /* list head */
	unsigned n_conns;
	unsigned refs;             /* self, listener, timer, connections */
	bool closing;
	struct hf_ctl_server_stats stats;
};

struct hf_ctl_write {
	uv_write_t req;
	size_t len;
	char data[];
};

static void hf_ctl_conn_close(struct hf_ctl_conn *c);
static void hf_ctl_conn_process(struct hf_ctl_conn *c);

static void hf_ctl_unref(struct hf_ctl_server *srv)
{
	if (--srv->refs == 0) {
		hf_nta_store_destroy(srv->ntas);
		hf_override_store_destroy(srv->overrides);
		hf_audit_close(srv->audit);
		free(srv);
	}
}

/* ---- JSON views of the stores ------------------------------------------- */

static json_object *hf_ctl_nta_json(const struct hf_nta *n, int64_t now)
{
	json_object *o = json_object_new_object();
	char zone[HF_NAME_TEXT_MAXLEN];

	hf_name_to_text(n->zone, zone, sizeof(zone));
	json_object_object_add(o, "zone", json_object_new_string(zone));
	json_object_object_add(o, "added", json_object_new_int64(n->added));
	json_object_object_add(o, "expires", json_object_new_int64(n->expires));
	json_object_object_add(o, "remaining",
			       json_object_new_int64(n->expires > now ? n->expires - now : 0));
	json_object_object_add(o, "reason", json_object_new_string(n->reason));
	json_object_object_add(o, "recheck", json_object_new_string(hf_nta_check_name(n->check)));
	json_object_object_add(o, "rechecked", json_object_new_int64(n->checked));
	return o;
}

static json_object *hf_ctl_rule_json(const struct hf_override_rule *r, int64_t now)
{
	json_object *o = json_object_new_object(), *data = json_object_new_array();
	char buf[16];

	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "pattern", json_object_new_string(r->pattern));
	json_object_object_add(o, "kind", json_object_new_string(hf_override_kind_name(r->kind)));
	json_object_object_add(o, "type", r->qtype ? json_object_new_string(
		hf_type_to_text(r->qtype, buf, sizeof(buf))) : NULL);
	json_object_object_add(o, "action", json_object_new_string(hf_override_action_name(r->action)));
	json_object_object_add(o, "ede", r->ede >= 0 ? json_object_new_int(r->ede) : NULL);
	for (unsigned i = 0; i < r->n_records; i++)
		json_object_array_add(data, json_object_new_string(r->records[i].text));
	json_object_object_add(o, "data", data);
	if (r->action == HF_OVERRIDE_ANSWER)
		json_object_object_add(o, "ttl", json_object_new_int64(r->ttl));
	json_object_object_add(o, "reason", json_object_new_string(r->reason));
	json_object_object_add(o, "added", json_object_new_int64(r->added));
	json_object_object_add(o, "expires", r->expires ? json_object_new_int64(r->expires) : NULL);
	if (r->expires)
		json_object_object_add(o, "remaining", json_object_new_int64(
			r->expires > now ? r->expires - now : 0));
	json_object_object_add(o, "hits", json_object_new_int64((int64_t)r->hits));
	return o;
}

/* ---- saving -------------------------------------------------------------- */

/* Save the NTAs; if that fails, go back to the file's content so that what
 * the resolver uses is what survives a restart. */
static int hf_ctl_save_ntas(struct hf_ctl_server *srv, char *err, size_t err_size)
{
	char why[HF_CTL_ERR_MAX];
	int rc = hf_nta_save(srv->ntas, srv->nta_path, why, sizeof(why));

	if (rc < 0) {
		snprintf(err, err_size, "cannot save the change, not made: %.*s", (int)(err_size > 64 ? err_size - 64 : 0), why);
		hf_log_error(SYSTEM, "%s", why);
		if (hf_nta_load(srv->ntas, srv->nta_path, hf_ctl_now(), why, sizeof(why)) < 0)
			hf_log_error(SYSTEM, "cannot revert to the saved NTAs: %s", why);
	}
	return rc;
}

static int hf_ctl_save_rules(struct hf_ctl_server *srv, char *err, size_t err_size)
{
	char why[HF_CTL_ERR_MAX];
	int rc = hf_override_save(srv->overrides, srv->override_path, why, sizeof(why));

	if (rc < 0) {
		snprintf(err, err_size, "cannot save the change, not made: %.*s", (int)(err_size > 64 ? err_size - 64 : 0), why);
		hf_log_error(SYSTEM, "%s", why);
		if (hf_override_load(srv->overrides, srv->override_path, hf_ctl_now(), why,
				     sizeof(why)) < 0)
			hf_log_error(SYSTEM, "cannot revert to the saved override rules: %s", why);
	}
	return rc;
}

int hf_ctl_server_nta_end(struct hf_ctl_server *srv, const uint8_t *zone, const char *why)
{
	char err[HF_CTL_ERR_MAX], text[HF_NAME_TEXT_MAXLEN];
	const struct hf_nta *nta = hf_nta_get(srv->ntas, zone);
	if (nta == NULL)
		return -ENOENT;
	char reason[HF_NTA_REASON_MAX + 1];
	snprintf(reason, sizeof(reason), "%s", nta->reason);
	if (hf_nta_remove(srv->ntas, zone) < 0)
		return -ENOENT;
	int rc = hf_ctl_save_ntas(srv, err, sizeof(err));
	if (rc < 0)
		return rc;
	json_object *args = json_object_new_object();
	hf_name_to_text(zone, text, sizeof(text));
	json_object_object_add(args, "zone", json_object_new_string(text));
	json_object_object_add(args, "why", json_object_new_string(why));
	hf_audit_write(srv->audit, hf_ctl_now(), NULL, "nta.recheck-end", args, reason, "ok");
	json_object_put(args);
	hf_log_notice(SYSTEM, "negative trust anchor %s ended early: %s", text, why);
	if (srv->hooks.nta_changed)
		srv->hooks.nta_changed(srv->hooks.ctx, zone, false);
	return 0;
}

int hf_ctl_server_save_overrides(struct hf_ctl_server *srv)
{
	char why[HF_CTL_ERR_MAX];
	int rc = hf_override_save(srv->overrides, srv->override_path, why, sizeof(why));

	if (rc < 0)
		hf_log_error(SYSTEM, "%s", why);
	return rc;
}

/* ---- expiry -------------------------------------------------------------- */

struct hf_ctl_expired {
	unsigned n;
	uint8_t (*zones)[HF_NAME_MAXLEN];
	struct hf_ctl_server *srv;
	int64_t now;
};

static void hf_ctl_on_nta_expired(void *ctx, const struct hf_nta *nta)
{
	struct hf_ctl_expired *x = ctx;
	json_object *args = json_object_new_object();
	char zone[HF_NAME_TEXT_MAXLEN];

	hf_name_to_text(nta->zone, zone, sizeof(zone));
	json_object_object_add(args, "zone", json_object_new_string(zone));
	hf_audit_write(x->srv->audit, x->now, NULL, "nta.expire", args, nta->reason, "ok");
	json_object_put(args);
	hf_log_notice(SYSTEM, "negative trust anchor %s expired", zone);
	memcpy(x->zones[x->n++], nta->zone, hf_name_len(nta->zone));
}

static void hf_ctl_on_rule_expired(void *ctx, const struct hf_override_rule *r)
{
	struct hf_ctl_expired *x = ctx;
	json_object *args = json_object_new_object();

	json_object_object_add(args, "id", json_object_new_int64(r->id));
	json_object_object_add(args, "pattern", json_object_new_string(r->pattern));
	hf_audit_write(x->srv->audit, x->now, NULL, "override.expire", args, r->reason, "ok");
	json_object_put(args);
	hf_log_notice(SYSTEM, "override rule %u (%s) expired", r->id, r->pattern);
	x->n++;
}

unsigned hf_ctl_server_expire(struct hf_ctl_server *srv, int64_t now)
{
	struct hf_ctl_expired x = { .srv = srv, .now = now };
	char err[HF_CTL_ERR_MAX];
	unsigned total = 0;

	if (hf_nta_next_expiry(srv->ntas) <= now) {
		x.zones = malloc(sizeof(*x.zones) * HF_NTA_MAX);
		if (x.zones) {
			hf_nta_expire(srv->ntas, now, hf_ctl_on_nta_expired, &x);
			if (hf_nta_save(srv->ntas, srv->nta_path, err, sizeof(err)) < 0)
				hf_log_error(SYSTEM, "%s", err);  /* expiry stands: the file's entries expire on load too */
			for (unsigned i = 0; i < x.n; i++)
				if (srv->hooks.nta_changed)
					srv->hooks.nta_changed(srv->hooks.ctx, x.zones[i], false);
			total += x.n;
			free(x.zones);
		}
	}
	if (hf_override_next_expiry(srv->overrides) <= now) {
		x.n = 0;
		hf_override_expire(srv->overrides, now, hf_ctl_on_rule_expired, &x);
		hf_ctl_server_save_overrides(srv);
		if (srv->hooks.overrides_changed)
			srv->hooks.overrides_changed(srv->hooks.ctx, srv->overrides);
		total += x.n;
	}
	srv->stats.expired += total;
	return total;
}

static void hf_ctl_on_expiry_timer(uv_timer_t *t)
{
	hf_ctl_server_expire(t->data, hf_ctl_now());
}

/* ---- requests ------------------------------------------------------------ */

struct hf_ctl_req {
	struct hf_ctl_server *srv;
	json_object *in;
	json_object *out;      /* response members on success */
	char err[HF_CTL_ERR_MAX];
	int64_t now;
	bool audit;            /* a change: write the audit line */
	const char *reason;
};

static __attribute__((format(printf, 2, 3))) int hf_ctl_fail(struct hf_ctl_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Check the request's members against the command's: names and types. */
struct hf_ctl_arg {
	const char *name;
	enum json_type type;
	bool required;
};

static int hf_ctl_args_check(struct hf_ctl_req *r, const char *cmd, const struct hf_ctl_arg *args)
{
	json_object_object_foreach(r->in, key, val) {
		const struct hf_ctl_arg *a = NULL;

		if (strcmp(key, "cmd") == 0)
			continue;
		for (const struct hf_ctl_arg *p = args; p && p->name; p++)
			if (strcmp(p->name, key) == 0)
				a = p;
		if (!a)
			return hf_ctl_fail(r, "%s: unknown argument \"%s\"", cmd, key);
		if (!json_object_is_type(val, a->type) && !json_object_is_type(val, json_type_null))
			return hf_ctl_fail(r, "%s: \"%s\" must be %s", cmd, key,
					   a->type == json_type_int ? "an integer"
					   : a->type == json_type_string ? "a string"
					   : a->type == json_type_boolean ? "true or false"
					   : a->type == json_type_array ? "an array" : "an object");
	}
	for (const struct hf_ctl_arg *p = args; p && p->name; p++) {
		json_object *v;

		if (p->required && (!json_object_object_get_ex(r->in, p->name, &v) ||
				    json_object_is_type(v, json_type_null)))
			return hf_ctl_fail(r, "%s: missing argument \"%s\"", cmd, p->name);
	}
	return 0;
}

static const char *hf_ctl_str(json_object *in, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(in, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* An integer argument; -1 when absent. */
static int hf_ctl_int(struct hf_ctl_req *r, const char *cmd, const char *key, int64_t max,
		      int64_t *out)
{
	json_object *v;

	*out = -1;
	if (!json_object_object_get_ex(r->in, key, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	errno = 0;
	*out = json_object_get_int64(v);
	if (errno == ERANGE || *out < 0 || *out > max)
		return hf_ctl_fail(r, "%s: \"%s\" out of range (0..%lld)", cmd, key, (long long)max);
	return 0;
}

static int hf_ctl_zone(struct hf_ctl_req *r, const char *cmd, const char *key, uint8_t *wire)
{
	const char *text = hf_ctl_str(r->in, key);
	int rc = strlen(text) < HF_NAME_TEXT_MAXLEN ? hf_name_from_text(text, wire) : HF_ENAMELEN;

	if (rc < 0)
		return hf_ctl_fail(r, "%s: '%s' is not a domain name: %s", cmd, text, hf_strerror(rc));
	hf_name_lower(wire);
	return 0;
}

static int hf_ctl_nta_add(struct hf_ctl_req *r)
{
	static const struct hf_ctl_arg args[] = {
		{ "zone", json_type_string, true }, { "lifetime", json_type_int, false },
		{ "reason", json_type_string, false }, { NULL, 0, false },
	};
	struct hf_ctl_server *srv = r->srv;
	uint8_t zone[HF_NAME_MAXLEN];
	int64_t lifetime;
	char why[512];
	int rc;

	r->audit = true;
	r->reason = hf_ctl_str(r->in, "reason");
	if (hf_ctl_args_check(r, "nta add", args) < 0 || hf_ctl_zone(r, "nta add", "zone", zone) < 0 ||
	    hf_ctl_int(r, "nta add", "lifetime", INT32_MAX, &lifetime) < 0)
		return -EINVAL;
	if (lifetime == 0)
		return hf_ctl_fail(r, "nta add: lifetime must be at least 1s");
	rc = hf_nta_add(srv->ntas, zone, lifetime < 0 ? 0 : (uint64_t)lifetime, r->reason, r->now,
			why, sizeof(why));
	if (rc < 0)
		return hf_ctl_fail(r, "nta add: %s", why);
	if (hf_ctl_save_ntas(srv, why, sizeof(why)) < 0)
		return hf_ctl_fail(r, "nta add: %s", why);
	if (srv->hooks.nta_changed)
		srv->hooks.nta_changed(srv->hooks.ctx, zone, true);
	json_object_object_add(r->out, "nta", hf_ctl_nta_json(hf_nta_get(srv->ntas, zone), r->now));
	json_object_object_add(r->out, "updated", json_object_new_boolean(rc == 1));
	return 0;
}

static int hf_ctl_nta_remove(struct hf_ctl_req *r)
{
	static const struct hf_ctl_arg args[] = {
		{ "zone", json_type_string, true }, { "reason", json_type_string, false },
		{ NULL, 0, false },
	};
	struct hf_ctl_server *srv = r->srv;
	uint8_t zone[HF_NAME_MAXLEN];
	const struct hf_nta *n;
	char why[512], text[HF_NAME_TEXT_MAXLEN];
	json_object *o;

	r->audit = true;
	r->reason = hf_ctl_str(r->in, "reason");
	if (hf_ctl_args_check(r, "nta remove", args) < 0 ||
	    hf_ctl_zone(r, "nta remove", "zone", zone) < 0)
		return -EINVAL;
	n = hf_nta_get(srv->ntas, zone);
	if (!n) {
		hf_name_to_text(zone, text, sizeof(text));
		return hf_ctl_fail(r, "nta remove: no negative trust anchor for %s", text);
	}
	o = hf_ctl_nta_json(n, r->now);
	hf_nta_remove(srv->ntas, zone);
	if (hf_ctl_save_ntas(srv, why, sizeof(why)) < 0) {
		json_object_put(o);
		return hf_ctl_fail(r, "nta remove: %s", why);
	}
	if (srv->hooks.nta_changed)
		srv->hooks.nta_changed(srv->hooks.ctx, zone, false);
	json_object_object_add(r->out, "nta", o);
	return 0;
}

static int hf_ctl_nta_list(struct hf_ctl_req *r)
{
	json_object *list = json_object_new_array();

	if (hf_ctl_args_check(r, "nta list", NULL) < 0) {
		json_object_put(list);
		return -EINVAL;
	}
	for (unsigned i = 0; i < hf_nta_count(r->srv->ntas); i++)
		json_object_array_add(list, hf_ctl_nta_json(hf_nta_at(r->srv->ntas, i), r->now));
	json_object_object_add(r->out, "now", json_object_new_int64(r->now));
	json_object_object_add(r->out, "ntas", list);
	return 0;
}

static int hf_ctl_override_add(struct hf_ctl_req *r)
{
	static const struct hf_ctl_arg args[] = {
		{ "pattern", json_type_string, true }, { "action", json_type_string, true },
		{ "data", json_type_array, false }, { "type", json_type_string, false },
		{ "ede", json_type_int, false }, { "lifetime", json_type_int, false },
		{ "ttl", json_type_int, false }, { "reason", json_type_string, false },
		{ NULL, 0, false },
	};
	struct hf_ctl_server *srv = r->srv;
	struct hf_override_spec spec = { 0 };
	const char *data[HF_OVERRIDE_RECORDS_MAX];
	json_object *arr;
	int64_t ede, lifetime, ttl;
	uint32_t id;
	char why[768];
	int rc;

	r->audit = true;
	r->reason = hf_ctl_str(r->in, "reason");
	if (hf_ctl_args_check(r, "override add", args) < 0 ||
	    hf_ctl_int(r, "override add", "ede", 65535, &ede) < 0 ||
	    hf_ctl_int(r, "override add", "lifetime", INT32_MAX, &lifetime) < 0 ||
	    hf_ctl_int(r, "override add", "ttl", INT32_MAX, &ttl) < 0)
		return -EINVAL;
	if (json_object_object_get_ex(r->in, "data", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		size_t n = json_object_array_length(arr);

		if (n > HF_OVERRIDE_RECORDS_MAX)
			return hf_ctl_fail(r, "override add: more than %d records",
					   HF_OVERRIDE_RECORDS_MAX);
		for (size_t i = 0; i < n; i++) {
			json_object *v = json_object_array_get_idx(arr, i);

			if (!json_object_is_type(v, json_type_string))
				return hf_ctl_fail(r, "override add: \"data\" must be an array of "
						   "strings");
			data[i] = json_object_get_string(v);
		}
		spec.data = data;
		spec.n_data = (unsigned)n;
	}
	if (lifetime == 0)
		return hf_ctl_fail(r, "override add: lifetime must be at least 1s (leave it out "
				   "for a permanent rule)");
	spec.pattern = hf_ctl_str(r->in, "pattern");
	spec.action = hf_ctl_str(r->in, "action");
	spec.qtype = hf_ctl_str(r->in, "type");
	spec.ede = ede < 0 ? 0 : (int)ede;
	spec.lifetime = lifetime < 0 ? 0 : (uint64_t)lifetime;
	spec.ttl = ttl < 0 ? 0 : (uint32_t)ttl;
	spec.reason = r->reason;
	rc = hf_override_add(srv->overrides, &spec, r->now, &id, why, sizeof(why));
	if (rc < 0)
		return hf_ctl_fail(r, "override add: %s", why);
	if (hf_ctl_save_rules(srv, why, sizeof(why)) < 0)
		return hf_ctl_fail(r, "override add: %s", why);
	if (srv->hooks.overrides_changed)
		srv->hooks.overrides_changed(srv->hooks.ctx, srv->overrides);
	json_object_object_add(r->out, "rule",
			       hf_ctl_rule_json(hf_override_get(srv->overrides, id), r->now));
	json_object_object_add(r->out, "updated", json_object_new_boolean(rc == 1));
	return 0;
}

static int hf_ctl_override_remove(struct hf_ctl_req *r)
{
	static const struct hf_ctl_arg args[] = {
		{ "id", json_type_int, true }, { "reason", json_type_string, false },
		{ NULL, 0, false },
	};
	struct hf_ctl_server *srv = r->srv;
	const struct hf_override_rule *rule;
	char why[768];
	json_object *o;
	int64_t id;

	r->audit = true;
	r->reason = hf_ctl_str(r->in, "reason");
	if (hf_ctl_args_check(r, "override remove", args) < 0 ||
	    hf_ctl_int(r, "override remove", "id", UINT32_MAX, &id) < 0)
		return -EINVAL;
	rule = hf_override_get(srv->overrides, (uint32_t)id);
	if (!rule)
		return hf_ctl_fail(r, "override remove: no rule with id %lld", (long long)id);
	o = hf_ctl_rule_json(rule, r->now);
	hf_override_remove(srv->overrides, (uint32_t)id);
	if (hf_ctl_save_rules(srv, why, sizeof(why)) < 0) {
		json_object_put(o);
		return hf_ctl_fail(r, "override remove: %s", why);
	}
	if (srv->hooks.overrides_changed)
		srv->hooks.overrides_changed(srv->hooks.ctx, srv->overrides);
	json_object_object_add(r->out, "rule", o);
	return 0;
}

static int hf_ctl_override_list(struct hf_ctl_req *r)
{
	json_object *list = json_object_new_array();

	if (hf_ctl_args_check(r, "override list", NULL) < 0) {
		json_object_put(list);
		return -EINVAL;
	}
	for (unsigned i = 0; i < hf_override_count(r->srv->overrides); i++)
		json_object_array_add(list, hf_ctl_rule_json(hf_override_at(r->srv->overrides, i),
							     r->now));
	json_object_object_add(r->out, "now", json_object_new_int64(r->now));
	json_object_object_add(r->out, "rules", list);
	return 0;
}

static int hf_ctl_cache_flush(struct hf_ctl_req *r)
{
	static const struct hf_ctl_arg args[] = {
		{ "name", json_type_string, false }, { "subtree", json_type_boolean, false },
		{ "reason", json_type_string, false }, { NULL, 0, false },
	};
	struct hf_ctl_server *srv = r->srv;
	uint8_t name[HF_NAME_MAXLEN];
	bool has_name, subtree = false;
	json_object *v;
	char why[512] = "";
	int rc;

	r->audit = true;
	r->reason = hf_ctl_str(r->in, "reason");
	if (hf_ctl_args_check(r, "cache flush", args) < 0)
		return -EINVAL;
	has_name = hf_ctl_str(r->in, "name") != NULL;
	if (has_name && hf_ctl_zone(r, "cache flush", "name", name) < 0)
		return -EINVAL;
	if (json_object_object_get_ex(r->in, "subtree", &v) &&
	    json_object_is_type(v, json_type_boolean))
		subtree = json_object_get_boolean(v);
	if (subtree && !has_name)
		return hf_ctl_fail(r, "cache flush: subtree needs a name");
	if (!srv->hooks.cache_flush)
		return hf_ctl_fail(r, "cache flush: not available in this process");
	rc = srv->hooks.cache_flush(srv->hooks.ctx, has_name ? name : NULL, subtree, why, sizeof(why));
	if (rc < 0)
		return hf_ctl_fail(r, "cache flush: %s", why[0] ? why : hf_strerror(rc));
	json_object_object_add(r->out, "flushed", json_object_new_int64(rc));
	return 0;
}

static int hf_ctl_query(struct hf_ctl_req *r, const char *cmd, const char *member,
			int (*hook)(void *, json_object *, char *, size_t))
{
	json_object *o;
	char why[512] = "";
	int rc;

	if (hf_ctl_args_check(r, cmd, NULL) < 0)
		return -EINVAL;
	o = json_object_new_object();
	if (hook) {
		rc = hook(r->srv->hooks.ctx, o, why, sizeof(why));
		if (rc < 0) {
			json_object_put(o);
			return hf_ctl_fail(r, "%s: %s", cmd, why[0] ? why : hf_strerror(rc));
		}
	}
	json_object_object_add(o, "ntas", json_object_new_int64(hf_nta_count(r->srv->ntas)));
	json_object_object_add(o, "overrides",
			       json_object_new_int64(hf_override_count(r->srv->overrides)));
	json_object_object_add(r->out, member, o);
	return 0;
}

static int hf_ctl_stats(struct hf_ctl_req *r)
{
	return hf_ctl_query(r, "stats", "stats", r->srv->hooks.stats_json);
}

static int hf_ctl_status(struct hf_ctl_req *r)
{
	return hf_ctl_query(r, "status", "status", r->srv->hooks.status_json);
}

static const struct {
	const char *cmd;
	int (*fn)(struct hf_ctl_req *r);
} hf_ctl_cmds[] = {
	{ "nta.add", hf_ctl_nta_add },
	{ "nta.remove", hf_ctl_nta_remove },
	{ "nta.list", hf_ctl_nta_list },
	{ "override.add", hf_ctl_override_add },
	{ "override.remove", hf_ctl_override_remove },
	{ "override.list", hf_ctl_override_list },
	{ "cache.flush", hf_ctl_cache_flush },
	{ "stats", hf_ctl_stats },
	{ "status", hf_ctl_status },
};

/* The audit log's "args": the request without cmd and reason. */
static json_object *hf_ctl_audit_args(json_object *in)
{
	json_object *args = json_object_new_object();

	json_object_object_foreach(in, key, val) {
		if (strcmp(key, "cmd") != 0 && strcmp(key, "reason") != 0)
			json_object_object_add(args, key, json_object_get(val));
	}
	return args;
}

/* Handle one request line; returns the response object. */
static json_object *hf_ctl_handle(struct hf_ctl_server *srv, const struct hf_audit_peer *peer,
				  const char *line, size_t len)
{
	struct hf_ctl_req r = { .srv = srv, .now = hf_ctl_now() };
	struct json_tokener *tok = json_tokener_new();
	const char *cmd = NULL;
	json_object *resp;
	int rc = -EINVAL;

	srv->stats.requests++;
	r.out = json_object_new_object();
	if (!tok || !r.out) {
		snprintf(r.err, sizeof(r.err), "out of memory");
		goto done;
	}
	r.in = json_tokener_parse_ex(tok, line, (int)len);
	if (!r.in || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		snprintf(r.err, sizeof(r.err), "request is not valid JSON: %s",
			 r.in && e == json_tokener_success ? "trailing data after the object"
			 : e == json_tokener_continue ? "incomplete" : json_tokener_error_desc(e));
		goto done;
	}
	if (!json_object_is_type(r.in, json_type_object)) {
		snprintf(r.err, sizeof(r.err), "request is not a JSON object");
		goto done;
	}
	cmd = hf_ctl_str(r.in, "cmd");
	if (!cmd) {
		snprintf(r.err, sizeof(r.err), "request has no \"cmd\" string");
		goto done;
	}
	for (size_t i = 0; i < sizeof(hf_ctl_cmds) / sizeof(hf_ctl_cmds[0]); i++)
		if (strcmp(cmd, hf_ctl_cmds[i].cmd) == 0)
			rc = hf_ctl_cmds[i].fn(&r);
	if (rc == -EINVAL && !r.err[0])
		snprintf(r.err, sizeof(r.err), "unknown command \"%.64s\"", cmd);
done:
	if (r.audit) {
		json_object *args = hf_ctl_audit_args(r.in);

		if (hf_audit_write(srv->audit, r.now, peer, cmd, args, r.reason,
				   rc == 0 ? "ok" : r.err) < 0)
			hf_log_warning(SYSTEM, "cannot write the audit log");
		json_object_put(args);
		if (rc == 0)
			hf_log_notice(SYSTEM, "%s by uid %lld", cmd, (long long)peer->uid);
	}
	if (rc == 0) {
		resp = json_object_new_object();
		json_object_object_add(resp, "ok", json_object_new_boolean(1));
		json_object_object_foreach(r.out, key, val)
			json_object_object_add(resp, key, json_object_get(val));
	} else {
		srv->stats.errors++;
		resp = json_object_new_object();
		json_object_object_add(resp, "ok", json_object_new_boolean(0));
		json_object_object_add(resp, "error", json_object_new_string(r.err));
	}
	json_object_put(r.out);
	json_object_put(r.in);
	if (tok)
		json_tokener_free(tok);
	return resp;
}

/* ---- connections --------------------------------------------------------- */

static void hf_ctl_conn_free(uv_handle_t *h)
{
	struct hf_ctl_conn *c = h->data;
	struct hf_ctl_server *srv = c->srv;

	if (--c->open_handles > 0)
		return;
	free(c->buf);
	free(c);
	hf_ctl_unref(srv);
}

static void hf_ctl_conn_close(struct hf_ctl_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->srv->n_conns--;
	uv_close((uv_handle_t *)&c->h, hf_ctl_conn_free);
	uv_close((uv_handle_t *)&c->idle, hf_ctl_conn_free);
}

static void hf_ctl_on_idle(uv_timer_t *t)
{
	hf_ctl_conn_close(t->data);
}

static void hf_ctl_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct hf_ctl_conn *c = h->data;

	(void)suggested;
	buf->base = c->buf + c->len;
	buf->len = HF_CTL_REQUEST_MAX - c->len;
}

static void hf_ctl_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/*
 * After a final error line: closing a unix socket with unread input makes
 * the peer's read fail with ECONNRESET, and it may never see our message.
 * So shut our side down and read (and drop) what the client still sends
 * until it closes, for HF_CTL_LINGER_MS at most.
 */
static void hf_ctl_linger(struct hf_ctl_conn *c)
{
	c->draining = true;
	c->len = 0;
	uv_timer_start(&c->idle, hf_ctl_on_idle, HF_CTL_LINGER_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->h, hf_ctl_on_alloc, hf_ctl_on_read) < 0)
		hf_ctl_conn_close(c);
}

static void hf_ctl_on_written(uv_write_t *req, int status)
{
	struct hf_ctl_conn *c = req->handle->data;

	free(req);
	if (status == UV_ECANCELED)
		return;
	c->writing = false;
	if (status < 0) {
		hf_ctl_conn_close(c);
		return;
	}
	if (c->close_after_write) {
		hf_ctl_linger(c);
		return;
	}
	hf_ctl_conn_process(c);
}

static void hf_ctl_send(struct hf_ctl_conn *c, json_object *resp)
{
	size_t len;
	const char *text = hf_ctl_json_text(resp, 0, &len);
	struct hf_ctl_write *w = text ? malloc(sizeof(*w) + len + 1) : NULL;
	uv_buf_t b;

	if (!w) {
		json_object_put(resp);
		hf_ctl_conn_close(c);
		return;
	}
	memcpy(w->data, text, len);
	w->data[len] = '\n';
	w->len = len + 1;
	json_object_put(resp);
	b = uv_buf_init(w->data, (unsigned)w->len);
	if (uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, hf_ctl_on_written) < 0) {
		free(w);
		hf_ctl_conn_close(c);
		return;
	}
	c->writing = true;
	uv_read_stop((uv_stream_t *)&c->h);
}

static void hf_ctl_send_error(struct hf_ctl_conn *c, const char *msg)
{
	json_object *resp = json_object_new_object();

	json_object_object_add(resp, "ok", json_object_new_boolean(0));
	json_object_object_add(resp, "error", json_object_new_string(msg));
	hf_ctl_send(c, resp);
}

/* Handle the first complete line in the buffer, if any; otherwise read on. */
static void hf_ctl_conn_process(struct hf_ctl_conn *c)
{
	char *nl;
	size_t line_len;

	if (c->closing || c->writing)
		return;
	nl = memchr(c->buf, '\n', c->len);
	if (!nl) {
		if (c->len >= HF_CTL_REQUEST_MAX) {
			char msg[96];

			snprintf(msg, sizeof(msg), "request longer than %d bytes", HF_CTL_REQUEST_MAX);
			c->close_after_write = true;
			c->srv->stats.errors++;
			hf_ctl_send_error(c, msg);
			return;
		}
		uv_read_start((uv_stream_t *)&c->h, hf_ctl_on_alloc, hf_ctl_on_read);
		return;
	}
	line_len = (size_t)(nl - c->buf);
	if (line_len > 0 && c->buf[line_len - 1] == '\r')
		line_len--;
	if (line_len == 0) {
		/* An empty line is no request: skip it. */
		memmove(c->buf, nl + 1, c->len - (size_t)(nl + 1 - c->buf));
		c->len -= (size_t)(nl + 1 - c->buf);
		hf_ctl_conn_process(c);
		return;
	}
	json_object *resp = hf_ctl_handle(c->srv, &c->peer, c->buf, line_len);
	size_t used = (size_t)(nl + 1 - c->buf);

	memmove(c->buf, nl + 1, c->len - used);
	c->len -= used;
	hf_ctl_send(c, resp);
}

static void hf_ctl_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct hf_ctl_conn *c = s->data;

	(void)buf;
	if (n < 0) {
		hf_ctl_conn_close(c);
		return;
	}
	if (n == 0)
		return;
	if (c->draining) {
		c->len = 0;  /* dropped; the linger timer bounds how long */
		return;
	}
	c->len += (size_t)n;
	uv_timer_again(&c->idle);
	uv_read_stop(s);
	hf_ctl_conn_process(c);
}

static void hf_ctl_on_connection(uv_stream_t *l, int status)
{
	struct hf_ctl_server *srv = l->data;
	struct hf_ctl_conn *c;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	uv_os_fd_t fd;

	if (status < 0 || srv->closing)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->buf = malloc(HF_CTL_REQUEST_MAX);
	uv_pipe_init(srv->loop, &c->h, 0);
	uv_timer_init(srv->loop, &c->idle);
	c->h.data = c->idle.data = c;
	c->srv = srv;
	c->open_handles = 2;
	srv->refs++;
	c->next = srv->conns.next;
	c->prev = &srv->conns;
	srv->conns.next->prev = c;
	srv->conns.next = c;
	srv->n_conns++;
	if (uv_accept(l, (uv_stream_t *)&c->h) < 0 || !c->buf) {
		hf_ctl_conn_close(c);
		return;
	}
	c->peer.uid = c->peer.pid = -1;
	if (uv_fileno((uv_handle_t *)&c->h, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
		c->peer.uid = cred.uid;
		c->peer.pid = cred.pid;
	}
	if (c->peer.uid < 0) {
		/* The audit log would not say who: refuse. */
		hf_ctl_conn_close(c);
		return;
	}
	uv_timer_start(&c->idle, hf_ctl_on_idle, HF_CTL_IDLE_MS, HF_CTL_IDLE_MS);
	if (srv->n_conns > HF_CTL_CONN_MAX) {
		char msg[96];

		srv->stats.refused++;
		snprintf(msg, sizeof(msg), "too many connections (the maximum is %d)", HF_CTL_CONN_MAX);
		c->close_after_write = true;
		hf_ctl_send_error(c, msg);
		return;
	}
	srv->stats.accepted++;
	uv_read_start((uv_stream_t *)&c->h, hf_ctl_on_alloc, hf_ctl_on_read);
}

/* ---- the listener -------------------------------------------------------- */

/* Is something listening at path? (Then it is not stale.) */
static bool hf_ctl_socket_live(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return live;
}

static int hf_ctl_listen(struct hf_ctl_server *srv, const struct hf_ctl_server_config *cfg,
			 char *err, size_t err_size)
{
	const char *path = srv->socket_path;
	char dir[PATH_MAX], *slash;
	struct group *gr = NULL;
	struct stat st;
	mode_t old_mask;
	int rc;

	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, err_size, "%s: socket path longer than %zu bytes", path,
			 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -ENAMETOOLONG;
	}
	if (cfg->socket_group && cfg->socket_group[0]) {
		gr = getgrnam(cfg->socket_group);
		if (!gr) {
			snprintf(err, err_size, "%s: unknown group '%s'", path, cfg->socket_group);
			return -EINVAL;
		}
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		rc = hf_ctl_mkdir_p(dir, 0750);
		if (rc < 0) {
			snprintf(err, err_size, "%s: cannot create the directory: %s", dir, strerror(-rc));
			return rc;
		}
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, err_size, "%s: exists and is not a socket", path);
			return -EEXIST;
		}
		if (hf_ctl_socket_live(path)) {
			snprintf(err, err_size, "%s: another process is listening there", path);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	uv_pipe_init(srv->loop, &srv->listener, 0);
	srv->listener.data = srv;
	srv->refs++;
	/* Create the socket with its final mode: no window where others may connect. */
	old_mask = umask(gr ? 0117 : 0177);
	rc = uv_pipe_bind(&srv->listener, path);
	umask(old_mask);
	if (rc < 0) {
		snprintf(err, err_size, "%s: cannot bind: %s", path, uv_strerror(rc));
		return rc;
	}
	if (gr && chown(path, (uid_t)-1, gr->gr_gid) < 0) {
		rc = -errno;
		snprintf(err, err_size, "%s: cannot give the socket to group %s: %s", path,
			 cfg->socket_group, strerror(errno));
		unlink(path);
		return rc;
	}
	chmod(path, gr ? 0660 : 0600);
	rc = uv_listen((uv_stream_t *)&srv->listener, 16, hf_ctl_on_connection);
	if (rc < 0) {
		snprintf(err, err_size, "%s: cannot listen: %s", path, uv_strerror(rc));
		unlink(path);
		return rc;
	}
	return 0;
}

static void hf_ctl_on_handle_closed(uv_handle_t *h)
{
	hf_ctl_unref(h->data);
}

struct hf_ctl_server *hf_ctl_server_create(uv_loop_t *loop, const struct hf_ctl_server_config *cfg,
					   char *err, size_t err_size)
{
	struct hf_ctl_server *srv = calloc(1, sizeof(*srv));
	char audit_path[PATH_MAX];
	int64_t now = hf_ctl_now();
	int rc;

	if (!srv) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	srv->loop = loop;
	srv->refs = 1;
	srv->hooks = cfg->hooks;
	srv->conns.next = srv->conns.prev = &srv->conns;
	snprintf(srv->socket_path, sizeof(srv->socket_path), "%s",
		 cfg->socket_path && cfg->socket_path[0] ? cfg->socket_path : HF_CTL_SOCKET_DEFAULT);
	if (!cfg->state_dir || !cfg->state_dir[0]) {
		snprintf(err, err_size, "no state directory");
		goto err;
	}
	if (snprintf(srv->nta_path, sizeof(srv->nta_path), "%s/%s", cfg->state_dir,
		     HF_NTA_FILE) >= (int)sizeof(srv->nta_path) ||
	    snprintf(srv->override_path, sizeof(srv->override_path), "%s/%s", cfg->state_dir,
		     HF_OVERRIDE_FILE) >= (int)sizeof(srv->override_path) ||
	    snprintf(audit_path, sizeof(audit_path), "%s/%s", cfg->state_dir,
		     HF_AUDIT_FILE) >= (int)sizeof(audit_path)) {
		snprintf(err, err_size, "%s: path too long", cfg->state_dir);
		goto err;
	}
	rc = hf_ctl_mkdir_p(cfg->state_dir, 0750);
	if (rc < 0) {
		snprintf(err, err_size, "%s: cannot create the state directory: %s", cfg->state_dir,
			 strerror(-rc));
		goto err;
	}
	srv->ntas = hf_nta_store_create();
	srv->overrides = hf_override_store_create(cfg->hooks.validate_rule, cfg->hooks.ctx);
	if (!srv->ntas || !srv->overrides) {
		snprintf(err, err_size, "out of memory");
		goto err;
	}
	rc = hf_nta_load(srv->ntas, srv->nta_path, now, err, err_size);
	if (rc < 0)
		goto err;
	if (rc > 0)
		hf_log_notice(SYSTEM, "%d negative trust anchors loaded from %s", rc, srv->nta_path);
	rc = hf_override_load(srv->overrides, srv->override_path, now, err, err_size);
	if (rc < 0)
		goto err;
	if (rc > 0)
		hf_log_notice(SYSTEM, "%d override rules loaded from %s", rc, srv->override_path);
	srv->audit = hf_audit_open(audit_path, err, err_size);
	if (!srv->audit)
		goto err;
	if (hf_ctl_listen(srv, cfg, err, err_size) < 0) {
		hf_ctl_server_close(srv);
		return NULL;
	}
	uv_timer_init(loop, &srv->expiry);
	srv->expiry.data = srv;
	srv->refs++;
	uv_timer_start(&srv->expiry, hf_ctl_on_expiry_timer, HF_CTL_EXPIRE_MS, HF_CTL_EXPIRE_MS);
	hf_log_info(SYSTEM, "control socket %s", srv->socket_path);
	return srv;
err:
	hf_nta_store_destroy(srv->ntas);
	hf_override_store_destroy(srv->overrides);
	hf_audit_close(srv->audit);
	free(srv);
	return NULL;
}

struct hf_nta_store *hf_ctl_server_ntas(struct hf_ctl_server *srv)
{
	return srv->ntas;
}

struct hf_override_store *hf_ctl_server_overrides(struct hf_ctl_server *srv)
{
	return srv->overrides;
}

const struct hf_ctl_server_stats *hf_ctl_server_stats(const struct hf_ctl_server *srv)
{
	return &srv->stats;
}

void hf_ctl_server_close(struct hf_ctl_server *srv)
{
	if (!srv || srv->closing)
		return;
	srv->closing = true;
	memset(&srv->hooks, 0, sizeof(srv->hooks));
	while (srv->conns.next != &srv->conns)
		hf_ctl_conn_close(srv->conns.next);
	if (srv->listener.loop) {
		uv_close((uv_handle_t *)&srv->listener, hf_ctl_on_handle_closed);
		unlink(srv->socket_path);
	}
	if (srv->expiry.loop) {
		uv_timer_stop(&srv->expiry);
		uv_close((uv_handle_t *)&srv->expiry, hf_ctl_on_handle_closed);
	}
	hf_ctl_unref(srv);
}
