/*
 * Durations, times and state files for control/ctl/ and holdfastctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "control/ctl/ctl_util.h"

#define HF_CTL_DURATION_MAX (100ull * 366 * 86400)  /* no lifetime is longer than a century */

int64_t hf_ctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static const struct {
	char unit;
	uint64_t secs;
} hf_ctl_units[] = {
	{ 'w', 604800 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};

int hf_ctl_duration_parse(const char *text, uint64_t *out)
{
	const char *p = text;
	uint64_t total = 0;

	if (!text || !*text)
		return -EINVAL;
	while (*p) {
		uint64_t n = 0, mult = 0;
		const char *start = p;

		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (uint64_t)(*p - '0');
			if (n > HF_CTL_DURATION_MAX)
				return -ERANGE;
			p++;
		}
		if (p == start)
			return -EINVAL;
		if (*p == '\0') {
			if (start != text)  /* "1h30": a unit is missing */
				return -EINVAL;
			mult = 1;
		} else {
			for (size_t i = 0; i < sizeof(hf_ctl_units) / sizeof(hf_ctl_units[0]); i++)
				if (*p == hf_ctl_units[i].unit)
					mult = hf_ctl_units[i].secs;
			if (!mult)
				return -EINVAL;
			p++;
		}
		total += n * mult;
		if (total > HF_CTL_DURATION_MAX)
			return -ERANGE;
	}
	*out = total;
	return 0;
}

void hf_ctl_duration_format(uint64_t secs, char *out, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return;
	out[0] = '\0';
	if (secs == 0) {
		snprintf(out, size, "0s");
		return;
	}
	for (size_t i = 0; i < sizeof(hf_ctl_units) / sizeof(hf_ctl_units[0]); i++) {
		uint64_t n = secs / hf_ctl_units[i].secs;

		if (!n)
			continue;
		secs -= n * hf_ctl_units[i].secs;
		int w = snprintf(out + len, size - len, "%" PRIu64 "%c", n, hf_ctl_units[i].unit);
		if (w < 0 || (size_t)w >= size - len)
			return;
		len += (size_t)w;
	}
}

void hf_ctl_time_format(int64_t epoch, char *out, size_t size)
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "%" PRId64, epoch);
}

int hf_ctl_mkdir_p(const char *path, unsigned mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static int hf_ctl_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int hf_ctl_write_atomic(const char *path, const char *data, size_t len, char *err,
			size_t err_size)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *what;
	int fd, dfd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(err, err_size, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		what = "cannot create a temporary file";
		goto err;
	}
	rc = hf_ctl_write_all(fd, data, len);
	what = "cannot write";
	if (rc == 0 && fsync(fd) < 0) {
		rc = -errno;
		what = "cannot fsync";
	}
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
		what = "cannot close";
	}
	if (rc == 0 && rename(tmp, path) < 0) {
		rc = -errno;
		what = "cannot rename the temporary file over it";
	}
	if (rc < 0) {
		unlink(tmp);
		goto err;
	}
	/* The rename is durable only once the directory is. */
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
err:
	snprintf(err, err_size, "%s: %s: %s", path, what, strerror(-rc));
	return rc;
}

int hf_ctl_json_load(const char *path, json_object **out, char *err, size_t err_size)
{
	struct json_tokener *tok = NULL;
	json_object *obj = NULL;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		snprintf(err, err_size, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > HF_CTL_STATE_FILE_MAX) {
		rc = -EFBIG;
		snprintf(err, err_size, "%s: larger than %u bytes", path, HF_CTL_STATE_FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		snprintf(err, err_size, "%s: out of memory", path);
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, err_size, "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len == 0 || strlen(buf) != len) {
		rc = -EINVAL;
		snprintf(err, err_size, "%s: %s", path, len ? "contains a NUL byte" : "empty file");
		goto out;
	}
	tok = json_tokener_new();
	if (!tok) {
		rc = -ENOMEM;
		snprintf(err, err_size, "%s: out of memory", path);
		goto out;
	}
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		rc = -EINVAL;
		snprintf(err, err_size, "%s: not valid JSON: %s at byte %zu", path,
			 e == json_tokener_continue ? "unexpected end of file"
						    : json_tokener_error_desc(e),
			 json_tokener_get_parse_end(tok));
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
	if (json_tokener_get_parse_end(tok) < len &&
	    strspn(buf + json_tokener_get_parse_end(tok), " \t\r\n") !=
		    len - json_tokener_get_parse_end(tok)) {
		rc = -EINVAL;
		snprintf(err, err_size, "%s: trailing data after the JSON object", path);
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		rc = -EINVAL;
		snprintf(err, err_size, "%s: the top level is not a JSON object", path);
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
	*out = obj;
out:
	if (tok)
		json_tokener_free(tok);
	free(buf);
	close(fd);
	return rc;
}

int hf_ctl_state_version(json_object *root, const char *path, char *err, size_t err_size)
{
	json_object *v;

	if (!json_object_object_get_ex(root, "version", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != 1) {
		snprintf(err, err_size, "%s: \"version\" is missing or not 1", path);
		return -EINVAL;
	}
	return 0;
}

int hf_ctl_state_entries(json_object *root, const char *path, const char *key,
			 hf_ctl_entry_fn fn, void *store, int64_t now, char *err, size_t err_size)
{
	json_object *list;
	char why[800];

	if (!json_object_object_get_ex(root, key, &list) ||
	    !json_object_is_type(list, json_type_array)) {
		snprintf(err, err_size, "%s: \"%s\" is missing or not an array", path, key);
		return -EINVAL;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		if (fn(store, json_object_array_get_idx(list, i), (unsigned)i, now, why, sizeof(why)) < 0) {
			snprintf(err, err_size, "%s: %s", path, why);
			return -EINVAL;
		}
	}
	return 0;
}

const char *hf_ctl_json_text(json_object *obj, int pretty, size_t *len)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);

	return json_object_to_json_string_length(obj, flags, len);
}

int hf_ctl_reason_check(const char *reason, size_t max, char *err, size_t err_size)
{
	const unsigned char *p = (const unsigned char *)reason;
	size_t len = strlen(reason);

	if (len > max) {
		snprintf(err, err_size, "reason is %zu bytes long, more than the maximum of %zu",
			 len, max);
		return -EINVAL;
	}
	while (*p) {
		unsigned n;

		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, err_size, "reason contains a control character");
			return -EINVAL;
		}
		if (*p < 0x80)
			n = 0;
		else if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			n = 1;
		else if ((*p & 0xf0) == 0xe0)
			n = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			n = 3;
		else
			goto bad;
		p++;
		for (unsigned i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				goto bad;
	}
	return 0;
bad:
	snprintf(err, err_size, "reason is not valid UTF-8");
	return -EINVAL;
}
