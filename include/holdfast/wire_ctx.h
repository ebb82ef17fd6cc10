/*
 * A bounds-checked cursor over wire data whose first error sticks.
 *
 * Every read checks the remaining length. The first read that would overrun
 * sets ctx->error to HF_ETRUNC; from then on reads return zero and copy
 * zeroes, so a parser can read a whole structure and check ctx->error once at
 * the end instead of after each field (the idea of Knot's wire_ctx.h). Other
 * errors found by the caller are recorded with hf_wire_ctx_fail(), which keeps
 * the first error as well.
 */
#pragma once

#include <stdint.h>
#include <string.h>

#include "include/holdfast/errcode.h"

struct hf_wire_ctx {
	const uint8_t *wire;
	size_t size;
	size_t pos;
	int error;  /*!< 0 or the first HF_E* code met */
};

static inline void hf_wire_ctx_init(struct hf_wire_ctx *ctx, const uint8_t *wire, size_t size)
{
	ctx->wire = wire;
	ctx->size = size;
	ctx->pos = 0;
	ctx->error = 0;
}

static inline void hf_wire_ctx_fail(struct hf_wire_ctx *ctx, int error)
{
	if (ctx->error == 0)
		ctx->error = error;
}

static inline size_t hf_wire_ctx_available(const struct hf_wire_ctx *ctx)
{
	return ctx->error ? 0 : ctx->size - ctx->pos;
}

/* Claims n octets and returns where they start, or NULL after an error. */
static inline const uint8_t *hf_wire_ctx_take(struct hf_wire_ctx *ctx, size_t n)
{
	if (ctx->error)
		return NULL;
	if (ctx->size - ctx->pos < n) {
		ctx->error = HF_ETRUNC;
		return NULL;
	}
	const uint8_t *p = ctx->wire + ctx->pos;
	ctx->pos += n;
	return p;
}

static inline void hf_wire_ctx_skip(struct hf_wire_ctx *ctx, size_t n)
{
	(void)hf_wire_ctx_take(ctx, n);
}

static inline uint8_t hf_wire_ctx_read_u8(struct hf_wire_ctx *ctx)
{
	const uint8_t *p = hf_wire_ctx_take(ctx, 1);
	return p ? p[0] : 0;
}

static inline uint16_t hf_wire_ctx_read_u16(struct hf_wire_ctx *ctx)
{
	const uint8_t *p = hf_wire_ctx_take(ctx, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline uint32_t hf_wire_ctx_read_u32(struct hf_wire_ctx *ctx)
{
	const uint8_t *p = hf_wire_ctx_take(ctx, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static inline void hf_wire_ctx_read(struct hf_wire_ctx *ctx, void *dst, size_t n)
{
	const uint8_t *p = hf_wire_ctx_take(ctx, n);
	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

/* Unaligned big-endian helpers for code that patches wire data in place. */
static inline uint16_t hf_wire_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t hf_wire_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void hf_wire_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void hf_wire_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
