/*
 * The audit log; see control/ctl/audit.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "control/ctl/audit.h"
#include "control/ctl/ctl_util.h"

struct hf_audit {
	int fd;
};

struct hf_audit *hf_audit_open(const char *path, char *err, size_t err_size)
{
	struct hf_audit *a = malloc(sizeof(*a));

	if (!a) {
		snprintf(err, err_size, "%s: out of memory", path);
		return NULL;
	}
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd < 0) {
		snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
		free(a);
		return NULL;
	}
	return a;
}

void hf_audit_close(struct hf_audit *a)
{
	if (!a)
		return;
	close(a->fd);
	free(a);
}

int hf_audit_write(struct hf_audit *a, int64_t time, const struct hf_audit_peer *peer,
		   const char *cmd, json_object *args, const char *reason, const char *result)
{
	json_object *o = json_object_new_object();
	char when[40];
	const char *text;
	char *line;
	size_t len;
	ssize_t n;
	int rc = 0;

	if (!o)
		return -ENOMEM;
	hf_ctl_time_format(time, when, sizeof(when));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "uid", peer && peer->uid >= 0 ? json_object_new_int64(peer->uid) : NULL);
	json_object_object_add(o, "pid", peer && peer->uid >= 0 ? json_object_new_int64(peer->pid) : NULL);
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	json_object_object_add(o, "args", args ? json_object_get(args) : NULL);
	json_object_object_add(o, "reason", reason && reason[0] ? json_object_new_string(reason) : NULL);
	json_object_object_add(o, "result", json_object_new_string(result ? result : "ok"));
	text = hf_ctl_json_text(o, 0, &len);
	if (text && len + 1 > HF_AUDIT_LINE_MAX) {
		json_object_object_add(o, "args", json_object_new_string("(elided: too long)"));
		text = hf_ctl_json_text(o, 0, &len);
	}
	line = text ? malloc(len + 1) : NULL;
	if (!line) {
		json_object_put(o);
		return -ENOMEM;
	}
	memcpy(line, text, len);
	line[len] = '\n';
	/* One write() per line: O_APPEND keeps concurrent appenders' lines whole. */
	do
		n = write(a->fd, line, len + 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		rc = -errno;
	else if ((size_t)n != len + 1)
		rc = -EIO;
	else if (fdatasync(a->fd) < 0)
		rc = -errno;
	free(line);
	json_object_put(o);
	return rc;
}
