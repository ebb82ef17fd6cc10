/*
 * Logging for holdfast-control, in the style of Knot Resolver's lib/log.h:
 * every message has a level and a group, and goes to stderr as one line
 *
 *     holdfast-control: [warning] [shm] region owned by uid 0, ...
 *
 * so that journald (or a test script) can filter by either.
 *
 * Levels, most severe first, and what each one means here:
 *  - error:   something failed and a function of the process is lost until
 *             an operator acts (a region this build cannot use, a socket
 *             that cannot be bound, a privilege drop that failed).
 *  - warning: something failed and the process works around it (a fill
 *             dropped because a worker's backlog is full, a bad miss
 *             message, a TCP client sent garbage).
 *  - notice:  a normal but significant change of state (attached to the
 *             dataplane, dataplane restarted, shutting down). The default.
 *  - info:    routine facts useful when following the process (listeners,
 *             counters at exit).
 *  - debug:   per-question detail; never on by default, since misses arrive
 *             at the dataplane's rate.
 *
 * Not thread-safe to reconfigure; the control plane logs from its one loop.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/*! Levels; the numbers follow syslog so that a later syslog sink maps 1:1. */
enum hf_log_level {
	HF_LOG_ERROR = 3,
	HF_LOG_WARNING = 4,
	HF_LOG_NOTICE = 5,
	HF_LOG_INFO = 6,
	HF_LOG_DEBUG = 7,
};

/*! Groups: which part of the process speaks. */
enum hf_log_group {
	HF_LOGG_SYSTEM,   /*!< start-up, config, signals, privileges */
	HF_LOGG_SHM,      /*!< the shared-memory link to the dataplane */
	HF_LOGG_TCP,      /*!< DNS over TCP */
	HF_LOGG_RESOLVE,  /*!< resolutions started and answered */
	HF_LOGG_LOCAL,    /*!< special-use names answered locally */
	HF_LOGG_COUNT,
};

/*!
 * \brief Set the most verbose level printed (default HF_LOG_NOTICE).
 */
void hf_log_set_level(enum hf_log_level level);

/*!
 * \brief Send log lines to stream instead of stderr (tests); NULL = stderr.
 */
void hf_log_set_stream(FILE *stream);

/*!
 * \brief Would a message of this level be printed? Lets callers skip
 *        formatting work (names to text) for debug lines.
 */
bool hf_log_enabled(enum hf_log_level level);

/*!
 * \brief Parse a level name ("error" .. "debug").
 * \return The level, or -EINVAL.
 */
int hf_log_level_parse(const char *name);

/*!
 * \brief Print one line if level is enabled.
 */
__attribute__((format(printf, 3, 4)))
void hf_log(enum hf_log_level level, enum hf_log_group group, const char *fmt, ...);

#define hf_log_error(grp, ...)   hf_log(HF_LOG_ERROR, HF_LOGG_##grp, __VA_ARGS__)
#define hf_log_warning(grp, ...) hf_log(HF_LOG_WARNING, HF_LOGG_##grp, __VA_ARGS__)
#define hf_log_notice(grp, ...)  hf_log(HF_LOG_NOTICE, HF_LOGG_##grp, __VA_ARGS__)
#define hf_log_info(grp, ...)    hf_log(HF_LOG_INFO, HF_LOGG_##grp, __VA_ARGS__)
#define hf_log_debug(grp, ...) \
	do { if (hf_log_enabled(HF_LOG_DEBUG)) hf_log(HF_LOG_DEBUG, HF_LOGG_##grp, __VA_ARGS__); } while (0)
