/*
 * The audit log: every change made through the control socket (and every
 * expiry), appended to "<state-dir>/audit.log", one JSON object per line:
 *
 *   {"time":"2026-05-05T12:00:00Z","uid":0,"pid":4242,"cmd":"nta.add",
 *    "args":{"zone":"de.","lifetime":21600},"reason":"broken KSK rollover",
 *    "result":"ok"}
 *
 * "uid" and "pid" are the peer's credentials (SO_PEERCRED), null for
 * changes the control plane makes by itself (expiry); "result" is "ok" or
 * the error message the operator got. Refused changes are logged too.
 *
 * The file is opened with O_APPEND and each line is written with one
 * write() and then fdatasync()ed: changes are rare, and an audit line that
 * a crash can lose is not much of an audit line. The file is never
 * truncated or rotated by holdfast (logrotate with copytruncate works).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#define HF_AUDIT_FILE      "audit.log"
#define HF_AUDIT_LINE_MAX  (64 * 1024)  /*!< longest line written; longer args are elided */

struct hf_audit;

/*! Who asked for a change; uid < 0 for the control plane itself. */
struct hf_audit_peer {
	int64_t uid;
	int64_t pid;
};

/*!
 * \brief Open (create, mode 0600) the log for appending.
 * \return NULL with err "PATH: reason".
 */
struct hf_audit *hf_audit_open(const char *path, char *err, size_t err_size);

/*! \brief Close; NULL is ignored. */
void hf_audit_close(struct hf_audit *a);

/*!
 * \brief Append one line.
 * \param time    epoch seconds.
 * \param args    NULL or a JSON object of the command's arguments (not consumed).
 * \param reason  NULL or the operator's reason.
 * \param result  "ok" or the error message.
 * \return 0 or -errno.
 */
int hf_audit_write(struct hf_audit *a, int64_t time, const struct hf_audit_peer *peer,
		   const char *cmd, json_object *args, const char *reason, const char *result);
