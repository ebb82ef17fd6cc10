/*
 * kresd-style logging to stderr; see control/log.h for the levels.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "control/log.h"

static enum hf_log_level hf_log_max = HF_LOG_NOTICE;
static FILE *hf_log_stream;

static const char *const hf_log_group_names[HF_LOGG_COUNT] = {
	[HF_LOGG_SYSTEM] = "system",
	[HF_LOGG_SHM] = "shm",
	[HF_LOGG_TCP] = "tcp",
	[HF_LOGG_RESOLVE] = "resolve",
	[HF_LOGG_LOCAL] = "local",
};

static const char *hf_log_level_name(enum hf_log_level level)
{
	switch (level) {
	case HF_LOG_ERROR: return "error";
	case HF_LOG_WARNING: return "warning";
	case HF_LOG_NOTICE: return "notice";
	case HF_LOG_INFO: return "info";
	case HF_LOG_DEBUG: return "debug";
	}
	return "?";
}

void hf_log_set_level(enum hf_log_level level)
{
	hf_log_max = level;
}

void hf_log_set_stream(FILE *stream)
{
	hf_log_stream = stream;
}

bool hf_log_enabled(enum hf_log_level level)
{
	return level <= hf_log_max;
}

int hf_log_level_parse(const char *name)
{
	for (int l = HF_LOG_ERROR; l <= HF_LOG_DEBUG; l++)
		if (name && strcmp(name, hf_log_level_name((enum hf_log_level)l)) == 0)
			return l;
	return -EINVAL;
}

void hf_log(enum hf_log_level level, enum hf_log_group group, const char *fmt, ...)
{
	FILE *out = hf_log_stream ? hf_log_stream : stderr;
	char line[1024];
	va_list ap;

	if (!hf_log_enabled(level))
		return;
	/* Format the whole line first so that it reaches the stream in one
	 * write and lines from a restarted peer never interleave with ours. */
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(out, "holdfast-control: [%s] [%s] %s\n", hf_log_level_name(level),
		(unsigned)group < HF_LOGG_COUNT ? hf_log_group_names[group] : "?", line);
	fflush(out);
}
