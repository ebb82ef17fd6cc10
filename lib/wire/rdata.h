/*
 * Private to the wire codec: where the domain names sit inside the RDATA of
 * the types that embed them, in one table shared by the parser (which checks
 * them), the builder (which compresses some) and canonical form (which
 * lower-cases some), so the three never disagree on a layout.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum hf_rdata_flag {
	HF_RDATA_COMPRESS = 1 << 0,  /*!< names may be compressed on output (RFC 3597 §4) */
	HF_RDATA_LOWER    = 1 << 1,  /*!< names lower-cased in canonical form (RFC 4034 §6.2, RFC 6840 §5.1) */
	HF_RDATA_TAIL     = 1 << 2,  /*!< free-form octets follow the names */
	HF_RDATA_EXACT    = 1 << 3,  /*!< no names: RDATA is exactly `before` octets long */
};

struct hf_rdata_layout {
	uint8_t before;  /*!< fixed octets before the first name */
	uint8_t names;   /*!< consecutive names */
	uint8_t after;   /*!< fixed octets after the names (unless TAIL) */
	uint8_t flags;   /*!< enum hf_rdata_flag */
};

/*! \brief Layout of a type's RDATA, or NULL for types treated as opaque. */
const struct hf_rdata_layout *hf_rdata_layout(uint16_t type);
