/*
 * The Internet checksum (RFC 1071) in pieces, for code that builds a packet
 * from parts whose sums are known in advance.
 *
 * A part's sum depends on where it sits: the checksum adds 16-bit words, so
 * a byte at an even offset of the summed area is a word's high byte and one
 * at an odd offset its low byte. hf_csum_at() sums bytes placed at a given
 * offset; sums of parts then simply add (RFC 1071's "deferred carries"), and
 * replacing bytes whose sum is known is an addition of the new sum and the
 * complement of the old one (RFC 1624). Only the final value is folded and
 * complemented.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*! \brief Fold a 32-bit sum of 16-bit words into 16 bits, end-around carry. */
static inline uint16_t hf_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*! \brief Sum of len bytes as they would sit at offset pos of the summed area (folded). */
static inline uint16_t hf_csum_at(const uint8_t *p, size_t len, size_t pos)
{
	uint32_t sum = 0;
	size_t i = 0;

	for (; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		sum += (uint32_t)p[i] << 8;
	uint16_t s = hf_csum_fold(sum);
	/* At an odd offset every byte swaps halves of its word. */
	return (pos & 1) ? (uint16_t)(s << 8 | s >> 8) : s;
}

/*! \brief Sum after replacing bytes whose sum was old with bytes whose sum is new (RFC 1624). */
static inline uint32_t hf_csum_replace(uint32_t sum, uint16_t old_sum, uint16_t new_sum)
{
	return sum + (uint16_t)~old_sum + new_sum;
}
