/*
 * RR type mnemonics (RFC 3597 "TYPEnnn" for the rest), for operators'
 * input and for texts people read (EDEs, logs, holdfastctl).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*! \brief Mnemonic of a type ("AAAA"), or "TYPEnnn" written into buf. */
const char *hf_type_to_text(uint16_t type, char *buf, size_t size);

/*!
 * \brief Parse a type mnemonic (case-insensitive) or "TYPEnnn".
 * \return The type (1..65535), or -EINVAL.
 */
int hf_type_from_text(const char *text);
