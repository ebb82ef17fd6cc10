/*
 * Unpredictable numbers for query IDs, 0x20 bits and server exploration
 * (RFC 5452: an off-path attacker must guess ID, port and case).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*! \brief A random 32-bit number from getrandom(), buffered. */
uint32_t hf_rand_u32(void);

/*! \brief Fill buf with random octets. */
void hf_rand_bytes(void *buf, size_t len);
