/*
 * Small compiler helpers and the three kinds of assertion.
 *
 * - hf_require(x):      an invariant whose failure means memory is already
 *                       wrong; logs and aborts, in every build.
 * - hf_fails_assert(x): a recoverable check on a data path. In debug builds it
 *                       aborts so that the bug is found; in release builds it
 *                       logs once per call site and evaluates to true so the
 *                       caller can drop the packet and go on. A bad packet must
 *                       never kill a worker.
 * - hf_assert(x):       debug-only; compiled out with NDEBUG.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define hf_likely(x)   __builtin_expect(!!(x), 1)
#define hf_unlikely(x) __builtin_expect(!!(x), 0)
#define HF_COLD        __attribute__((cold))
#define HF_UNUSED      __attribute__((unused))
#define HF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

HF_COLD __attribute__((noreturn))
void hf_require_failed(const char *expr, const char *file, int line, const char *func);
HF_COLD
bool hf_assert_failed(const char *expr, const char *file, int line, const char *func);

#define hf_require(x) \
	((void)(hf_likely(x) || (hf_require_failed(#x, __FILE__, __LINE__, __func__), 0)))

#define hf_fails_assert(x) \
	(hf_unlikely(!(x)) && hf_assert_failed(#x, __FILE__, __LINE__, __func__))

#ifdef NDEBUG
#define hf_assert(x) ((void)0)
#else
#define hf_assert(x) hf_require(x)
#endif
