/* Test helpers: hex literals for wire data, and where the shared test data is. */
#pragma once

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "include/holdfast/defines.h"

#define HF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Decodes hex digits, ignoring white space; returns the octet count or -1. */
static inline int hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		if (isspace((unsigned char)*hex))
			continue;
		if (!isxdigit((unsigned char)*hex))
			return -1;
		int v = isdigit((unsigned char)*hex) ? *hex - '0' : (tolower(*hex) - 'a' + 10);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (int)n : -1;
}

/* ../shared/data relative to the source tree, or HF_SHARED_DATA. */
static inline const char *shared_data_dir(void)
{
	const char *d = getenv("HF_SHARED_DATA");
	return d ? d : HF_SOURCE_ROOT "/../shared/data";
}
