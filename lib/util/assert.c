#include <stdio.h>
#include <stdlib.h>

#include "include/holdfast/defines.h"

void hf_require_failed(const char *expr, const char *file, int line, const char *func)
{
	fprintf(stderr, "holdfast: invariant '%s' failed at %s:%d (%s)\n", expr, file, line, func);
	abort();
}

bool hf_assert_failed(const char *expr, const char *file, int line, const char *func)
{
#ifndef NDEBUG
	hf_require_failed(expr, file, line, func);
#else
	fprintf(stderr, "holdfast: check '%s' failed at %s:%d (%s); continuing\n",
		expr, file, line, func);
	return true;
#endif
}
