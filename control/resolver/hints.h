/*
 * Root hints: the named.root file that seeds iteration.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "include/holdfast/dns.h"
#include "control/resolver/addr.h"

/*! Root servers kept from a hints file (the real root has 13). */
#define HF_HINTS_MAX_NS 16
/*! Addresses kept per root server name (one A, one AAAA in practice). */
#define HF_HINTS_MAX_ADDR 4

struct hf_hints_ns {
	uint8_t name[HF_NAME_MAXLEN];
	unsigned n_addr;
	union hf_addr addr[HF_HINTS_MAX_ADDR];
};

struct hf_hints {
	unsigned n_ns;
	struct hf_hints_ns ns[HF_HINTS_MAX_NS];
};

/*!
 * \brief Parse a named.root-style file: "owner [ttl] [class] type rdata"
 *        lines, ';' comments. Only ". NS name" and "name A|AAAA address"
 *        records are accepted.
 * \param err  receives "file:line: what" on failure.
 * \return 0, -ENOENT (etc.) if the file cannot be read, or -EINVAL.
 */
int hf_hints_load(const char *path, struct hf_hints *out, char *err, size_t err_size);

/*! \brief Same as hf_hints_load() on text in memory; name is used in messages. */
int hf_hints_parse(const char *text, const char *name, struct hf_hints *out,
		   char *err, size_t err_size);
