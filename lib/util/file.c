/*
 * Bounded reading of operator-supplied text files (include/holdfast/file.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/holdfast/file.h"

char *hf_text_next_line(char **next)
{
	char *line = *next;
	if (line == NULL)
		return NULL;
	char *nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	*next = nl ? nl + 1 : NULL;
	char *semi = strchr(line, ';');
	if (semi)
		*semi = '\0';
	return line;
}

int hf_file_read_text(const char *path, size_t max, char **out, char *err, size_t err_size)
{
	*out = NULL;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		int e = errno;
		snprintf(err, err_size, "%s: %s", path, strerror(e));
		return -e;
	}
	int ret = -ENOMEM;
	char *buf = malloc(max + 1);
	if (buf == NULL) {
		snprintf(err, err_size, "%s: out of memory", path);
		goto out_close;
	}
	/* One octet more than allowed tells "exactly max" from "larger". */
	size_t n = fread(buf, 1, max + 1, f);
	ret = -EINVAL;
	if (ferror(f)) {
		snprintf(err, err_size, "%s: read error", path);
		goto out_free;
	}
	if (n > max) {
		snprintf(err, err_size, "%s: larger than %zu bytes", path, max);
		goto out_free;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		snprintf(err, err_size, "%s: contains a NUL octet (not a text file)", path);
		goto out_free;
	}
	*out = buf;
	buf = NULL;
	ret = 0;
out_free:
	free(buf);
out_close:
	fclose(f);
	return ret;
}
