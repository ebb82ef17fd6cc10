/*
 * Internet checksum sums for the dataplane's hot path, word-wide.
 *
 * include/holdfast/csum.h sums a byte pair at a time in network order, which
 * is what the control plane and the tests want (clear, any offset). The
 * workers sum a few dozen octets per answer (the client's question, an OPT
 * record, the IPv4 header), so here the loads are 32 bits wide and the
 * sum is kept in host order: RFC 1071 §2(B) ("byte order independence")
 * lets a little-endian machine add words as it loads them and swap the
 * folded result once. hf_csum_fast_at() returns exactly what hf_csum_at()
 * returns, so the two mix freely.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

/*! \brief Add len bytes at p to a host-order 64-bit accumulator (unfolded). */
static inline uint64_t hf_csum_fast_add(uint64_t acc, const uint8_t *p, size_t len)
{
	size_t i = 0;

	/* 2^32 additions of 32-bit words before the accumulator could carry
	 * out: far beyond any packet. */
	for (; i + 4 <= len; i += 4) {
		uint32_t w;
		memcpy(&w, p + i, 4);
		acc += w;
	}
	if (i + 2 <= len) {
		uint16_t w;
		memcpy(&w, p + i, 2);
		acc += w;
		i += 2;
	}
	if (i < len) {
		/* The odd last byte is the high byte of a network-order word. */
		acc += rte_cpu_to_be_16((uint16_t)(p[i] << 8));
	}
	return acc;
}

/*! \brief Fold a host-order accumulator to 16 bits, end-around carry. */
static inline uint16_t hf_csum_fast_fold(uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/*! \brief hf_csum_at(), word-wide: len bytes as they sit at offset pos (folded,
 *         network-order value). */
static inline uint16_t hf_csum_fast_at(const uint8_t *p, size_t len, size_t pos)
{
	uint16_t s = rte_be_to_cpu_16(hf_csum_fast_fold(hf_csum_fast_add(0, p, len)));
	return (pos & 1) ? (uint16_t)(s << 8 | s >> 8) : s;
}

/*! \brief hf_csum_at() of a big-endian 32-bit value stored at offset pos. */
static inline uint16_t hf_csum_fast_u32_at(uint32_t v, size_t pos)
{
	uint32_t s = (v >> 16) + (v & 0xffff);
	s = (s & 0xffff) + (s >> 16);
	return (pos & 1) ? (uint16_t)(s << 8 | s >> 8) : (uint16_t)s;
}
