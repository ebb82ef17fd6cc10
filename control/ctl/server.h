/*
 * The control socket: how holdfastctl (and any script) talks to
 * holdfast-control.
 *
 * Transport: a unix stream socket at a path (control.control-socket). The
 * server creates the missing parent directories (mode 0750), refuses to
 * start if another process is listening there, removes a stale socket, and
 * creates the socket mode 0600 (only the owner may connect), or 0660 with
 * the configured group. Each peer's uid and pid (SO_PEERCRED) go into the
 * audit log.
 *
 * Protocol: one JSON object per line in, one JSON object per line out, in
 * order. A request is {"cmd": "...", ...arguments}; a response is
 * {"ok": true, ...results} or {"ok": false, "error": "message naming the
 * problem"}. Unknown commands and unknown or mistyped arguments are refused
 * with a message naming them. Commands (arguments, result members):
 *
 *   nta.add        zone, [lifetime] (seconds), [reason]  -> nta, updated
 *   nta.remove     zone                                  -> nta
 *   nta.list                                             -> now, ntas[]
 *   override.add   pattern, action, [data] (array of "TYPE RDATA"), [type],
 *                  [ede] (15/17), [lifetime], [ttl], [reason] -> rule, updated
 *   override.remove id                                   -> rule
 *   override.list                                        -> now, rules[]
 *   cache.flush    [name], [subtree] (bool)              -> flushed (count)
 *   stats                                                -> stats {}
 *   status                                               -> status {}
 *
 * Bounds: a request line is at most HF_CTL_REQUEST_MAX bytes (longer ones
 * get an error and the connection is closed); at most HF_CTL_CONN_MAX
 * connections (later ones get an error line and are closed); one request
 * per connection is handled at a time, and the next line is read only once
 * the previous response is written, so a client that does not read cannot
 * make the server queue without bound; a connection idle for HF_CTL_IDLE_MS
 * is closed.
 *
 * State: the server owns the NTA and override stores. It loads them from
 * the state directory when created (a corrupt file fails creation with a
 * message naming file and problem), saves them atomically after every
 * change (a change that cannot be saved is reverted to the file's content
 * and refused), expires entries once a second (CLOCK_REALTIME), and writes
 * every change, refused or not, and every expiry to the audit log.
 *
 * Threading: everything runs on the loop given to hf_ctl_server_create();
 * the hooks are called from it, never re-entered.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <uv.h>

#include "control/ctl/nta.h"
#include "control/ctl/override_rules.h"

#define HF_CTL_REQUEST_MAX  (64 * 1024)  /*!< bytes of one request line, newline included */
#define HF_CTL_CONN_MAX     64           /*!< open client connections */
#define HF_CTL_IDLE_MS      30000        /*!< idle connection timeout, ms */
#define HF_CTL_LINGER_MS    1000         /*!< input drained after a final error, ms at most */
#define HF_CTL_EXPIRE_MS    1000         /*!< how often expiry runs, ms */
#define HF_CTL_SOCKET_DEFAULT "/run/holdfast/control.sock"

/*!
 * What the server asks of the rest of the control plane. Every member may
 * be NULL; a NULL query hook makes its command answer
 * {"ok":false,"error":"... is not available"}. All are called on the loop,
 * after the store has changed and been saved (so a hook may read the store
 * through hf_ctl_server_ntas()/_overrides()).
 */
struct hf_ctl_hooks {
	void *ctx;  /*!< passed to every hook */

	/*!
	 * An NTA was added or updated (added = true), or removed or expired
	 * (added = false). zone is wire form, lower-case. The control plane
	 * must purge cached answers and cached failures at and below zone, in
	 * its own cache and the dataplane's, and tell the dataplane.
	 */
	void (*nta_changed)(void *ctx, const uint8_t *zone, bool added);

	/*!
	 * The rule set changed (add, update, remove, expiry). The control
	 * plane recompiles the Hyperscan database from the store and pushes
	 * it. Purging is up to it (an "insecure" rule changes validation).
	 */
	void (*overrides_changed)(void *ctx, const struct hf_override_store *rules);

	/*!
	 * Check a rule before it enters the store (compile a regex with
	 * Hyperscan). Return 0 to accept, <0 to refuse with err set: the
	 * operator sees err as is.
	 */
	int (*validate_rule)(void *ctx, const struct hf_override_rule *rule, char *err,
			     size_t err_size);

	/*!
	 * Flush cached answers: everything (name NULL), one name, or a name and
	 * everything below it (subtree). Return the number of entries flushed
	 * (or 0 if unknown), or <0 with err set.
	 */
	int (*cache_flush)(void *ctx, const uint8_t *name, bool subtree, char *err,
			   size_t err_size);

	/*!
	 * Add counters to out (a JSON object; the server adds "ntas" and
	 * "overrides" counts itself). Return 0, or <0 with err set.
	 */
	int (*stats_json)(void *ctx, json_object *out, char *err, size_t err_size);

	/*! Add state to out ("dataplane": attached or not, version, ...). Same rules. */
	int (*status_json)(void *ctx, json_object *out, char *err, size_t err_size);
};

struct hf_ctl_server_config {
	const char *socket_path;   /*!< NULL = HF_CTL_SOCKET_DEFAULT */
	const char *socket_group;  /*!< NULL or "" = mode 0600; else 0660 and this group */
	const char *state_dir;     /*!< ntas.json, overrides.json, audit.log; created if missing */
	struct hf_ctl_hooks hooks;
};

/*! Counters since start. */
struct hf_ctl_server_stats {
	uint64_t accepted;
	uint64_t refused;    /*!< connections over HF_CTL_CONN_MAX */
	uint64_t requests;
	uint64_t errors;     /*!< responses with ok = false */
	uint64_t expired;    /*!< NTAs and rules expired */
};

struct hf_ctl_server;

/*!
 * \brief Load the state, open the audit log, bind and listen.
 *
 * Call before dropping privileges if the socket's directory needs them;
 * the state directory must stay writable by the user the process runs as.
 *
 * \param err  receives the reason on failure, naming the file or socket.
 * \return NULL on failure.
 */
struct hf_ctl_server *hf_ctl_server_create(uv_loop_t *loop, const struct hf_ctl_server_config *cfg,
					   char *err, size_t err_size);

/*! \brief The NTA store (read it; change it only through the socket). */
struct hf_nta_store *hf_ctl_server_ntas(struct hf_ctl_server *srv);

/*! \brief The override store (hf_override_hit() is fine; other changes through the socket). */
struct hf_override_store *hf_ctl_server_overrides(struct hf_ctl_server *srv);

/*! \brief The counters. */
const struct hf_ctl_server_stats *hf_ctl_server_stats(const struct hf_ctl_server *srv);

/*!
 * \brief Expire NTAs and rules now (the server's timer calls this every
 *        HF_CTL_EXPIRE_MS; tests call it with their own time).
 * \return How many expired.
 */
unsigned hf_ctl_server_expire(struct hf_ctl_server *srv, int64_t now);

/*!
 * \brief End an NTA before its time because its zone validates again (the
 *        control plane's recheck, RFC 7646 §4): removed, saved, written to
 *        the audit log with why, and nta_changed(zone, false) called.
 * \return 0, -ENOENT (no NTA at zone), or <0 if it could not be saved (kept).
 */
int hf_ctl_server_nta_end(struct hf_ctl_server *srv, const uint8_t *zone, const char *why);

/*!
 * \brief Save the override store (e.g. after hf_override_hit(), to persist
 *        counters). \return 0 or -errno (logged).
 */
int hf_ctl_server_save_overrides(struct hf_ctl_server *srv);

/*!
 * \brief Stop listening, close connections, remove the socket file; the
 *        server frees itself once the loop has run the close callbacks.
 *        No hook is called after this. NULL is ignored.
 */
void hf_ctl_server_close(struct hf_ctl_server *srv);
