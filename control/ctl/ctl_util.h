/*
 * Helpers shared by the operator interface (control/ctl/) and holdfastctl:
 * durations ("30s", "6h", "1w"), wall-clock times, and the state files
 * (JSON, written atomically).
 *
 * Atomic write: the data goes to "<path>.tmp.<pid>" in the same directory,
 * which is fsync()ed and rename()d over path, and then the directory is
 * fsync()ed, so that after a crash the file is either the old or the new
 * version, never a mix or empty.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define HF_CTL_STATE_FILE_MAX (16u << 20)  /*!< largest state file read, bytes */

/*! \brief Wall-clock seconds since the epoch (CLOCK_REALTIME: libfaketime moves it). */
int64_t hf_ctl_now(void);

/*!
 * \brief Parse a duration: a bare number of seconds, or numbers with units
 *        s, m, h, d, w, also combined ("1h30m").
 * \param out  receives seconds.
 * \return 0, or -EINVAL (not a duration), -ERANGE (more than 100 years).
 */
int hf_ctl_duration_parse(const char *text, uint64_t *out);

/*!
 * \brief Format seconds the way hf_ctl_duration_parse() reads them, largest
 *        units first ("1w", "1d6h", "90s" -> "1m30s", 0 -> "0s").
 */
void hf_ctl_duration_format(uint64_t secs, char *out, size_t size);

/*! \brief Format epoch seconds as ISO 8601 UTC ("2026-05-05T12:00:00Z"). */
void hf_ctl_time_format(int64_t epoch, char *out, size_t size);

/*!
 * \brief Create a directory and its missing parents (mode for new ones).
 * \return 0 or -errno.
 */
int hf_ctl_mkdir_p(const char *path, unsigned mode);

/*!
 * \brief Replace path with data atomically (see the top of the file).
 * \param err  receives "PATH: what failed: reason" on failure.
 * \return 0 or -errno.
 */
int hf_ctl_write_atomic(const char *path, const char *data, size_t len, char *err,
			size_t err_size);

/*!
 * \brief Read a JSON state file.
 * \param out  receives the parsed object (a JSON object, caller puts it), or
 *             NULL when the file does not exist (not an error: no state yet).
 * \param err  receives "PATH: reason" (unreadable, too big, not JSON with
 *             the parser's message, not an object).
 * \return 0 or -errno (-EINVAL for bad content).
 */
int hf_ctl_json_load(const char *path, json_object **out, char *err, size_t err_size);

/*!
 * \brief A state file's "version" (an integer) must be 1.
 * \return 0, or -EINVAL with err = "PATH: \"version\" is missing or not 1".
 */
int hf_ctl_state_version(json_object *root, const char *path, char *err, size_t err_size);

/*! Loads entry idx of a state file's list into store as of now (epoch
 *  seconds); why says what is wrong with it. */
typedef int (*hf_ctl_entry_fn)(void *store, json_object *entry, unsigned idx, int64_t now,
			       char *why, size_t why_size);

/*!
 * \brief Hand every entry of a state file's list (root's key, an array) to fn,
 *        in order, stopping at the first it refuses.
 * \return 0, or -EINVAL with err = "PATH: \"KEY\" is missing or not an array"
 *         or "PATH: " followed by what fn said.
 */
int hf_ctl_state_entries(json_object *root, const char *path, const char *key,
			 hf_ctl_entry_fn fn, void *store, int64_t now, char *err, size_t err_size);

/*! \brief Serialise for a state file or a response line (plain, no slash escapes). */
const char *hf_ctl_json_text(json_object *obj, int pretty, size_t *len);

/*!
 * \brief Check an operator's reason text: at most max bytes, valid UTF-8,
 *        no control characters (it goes into logs and tables).
 * \return 0 or -EINVAL with err saying why.
 */
int hf_ctl_reason_check(const char *reason, size_t max, char *err, size_t err_size);
