/*
 * named.root parser. Errors name the file and line, and what is wrong there,
 * because an operator with a typo in the hints gets a resolver that never
 * answers otherwise.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "include/holdfast/file.h"
#include "include/holdfast/name.h"
#include "control/resolver/hints.h"

#define HINTS_FILE_MAX (1u << 20)  /*!< octets; named.root is ~3 kB */

static unsigned split(char *line, char **tok, unsigned max)
{
	unsigned n = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " \t\r", &save); t && n < max; t = strtok_r(NULL, " \t\r", &save))
		tok[n++] = t;
	return n;
}

static struct hf_hints_ns *find_ns(struct hf_hints *h, const uint8_t *name)
{
	for (unsigned i = 0; i < h->n_ns; i++)
		if (hf_name_equal(h->ns[i].name, name))
			return &h->ns[i];
	return NULL;
}

/* Addresses may come before or after their NS line; keep them aside until the end. */
struct pending_addr {
	uint8_t name[HF_NAME_MAXLEN];
	union hf_addr addr;
	unsigned line;
};

int hf_hints_parse(const char *text, const char *fname, struct hf_hints *out,
		   char *err, size_t err_size)
{
	enum { MAX_PENDING = HF_HINTS_MAX_NS * HF_HINTS_MAX_ADDR };
	struct pending_addr *pend = calloc(MAX_PENDING, sizeof(*pend));
	char *copy = strdup(text);
	unsigned n_pend = 0, lineno = 0;
	int ret = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (pend == NULL || copy == NULL)
		goto out_free;
	ret = -EINVAL;
	char *next = copy;
	char *line;
	while ((line = hf_text_next_line(&next)) != NULL) {
		lineno++;
		char *tok[8];
		unsigned n = split(line, tok, 8);
		if (n == 0)
			continue;
		/* owner [ttl] [class] type rdata */
		unsigned i = 1;
		if (i < n && isdigit((unsigned char)tok[i][0]))
			i++;
		if (i < n && strcasecmp(tok[i], "IN") == 0)
			i++;
		if (i < n && strcasecmp(tok[i], "NS") != 0 && strcasecmp(tok[i], "A") != 0 &&
		    strcasecmp(tok[i], "AAAA") != 0) {
			snprintf(err, err_size, "%s:%u: unexpected type '%s' (only NS, A, AAAA)", fname, lineno, tok[i]);
			goto out_free;
		}
		if (i + 2 != n) {
			snprintf(err, err_size, "%s:%u: expected 'owner [ttl] [IN] type rdata'", fname, lineno);
			goto out_free;
		}
		uint8_t owner[HF_NAME_MAXLEN], target[HF_NAME_MAXLEN];
		if (hf_name_from_text(tok[0], owner) < 0) {
			snprintf(err, err_size, "%s:%u: bad owner name '%s'", fname, lineno, tok[0]);
			goto out_free;
		}
		hf_name_lower(owner);
		const char *type = tok[i], *rdata = tok[i + 1];
		if (strcasecmp(type, "NS") == 0) {
			if (owner[0] != 0) {
				snprintf(err, err_size, "%s:%u: NS record for '%s', not the root", fname, lineno, tok[0]);
				goto out_free;
			}
			if (hf_name_from_text(rdata, target) < 0) {
				snprintf(err, err_size, "%s:%u: bad NS name '%s'", fname, lineno, rdata);
				goto out_free;
			}
			hf_name_lower(target);
			if (find_ns(out, target))
				continue;
			if (out->n_ns == HF_HINTS_MAX_NS) {
				snprintf(err, err_size, "%s:%u: more than %u root servers", fname, lineno, HF_HINTS_MAX_NS);
				goto out_free;
			}
			memcpy(out->ns[out->n_ns++].name, target, hf_name_len(target));
		} else {
			bool v6 = strcasecmp(type, "AAAA") == 0;
			uint8_t raw[16];
			if (inet_pton(v6 ? AF_INET6 : AF_INET, rdata, raw) != 1) {
				snprintf(err, err_size, "%s:%u: bad %s address '%s'", fname, lineno, type, rdata);
				goto out_free;
			}
			if (n_pend == MAX_PENDING) {
				snprintf(err, err_size, "%s:%u: too many addresses", fname, lineno);
				goto out_free;
			}
			struct pending_addr *pa = &pend[n_pend++];
			memcpy(pa->name, owner, hf_name_len(owner));
			hf_addr_from_rdata(&pa->addr, v6 ? HF_TYPE_AAAA : HF_TYPE_A, raw, v6 ? 16 : 4);
			pa->line = lineno;
		}
	}
	if (out->n_ns == 0) {
		snprintf(err, err_size, "%s: no '. NS' record", fname);
		goto out_free;
	}
	for (unsigned k = 0; k < n_pend; k++) {
		struct hf_hints_ns *ns = find_ns(out, pend[k].name);
		if (ns == NULL) {
			snprintf(err, err_size, "%s:%u: address for a name that is no root server",
				 fname, pend[k].line);
			goto out_free;
		}
		if (ns->n_addr < HF_HINTS_MAX_ADDR)
			ns->addr[ns->n_addr++] = pend[k].addr;
	}
	unsigned with_addr = 0;
	for (unsigned k = 0; k < out->n_ns; k++)
		with_addr += out->ns[k].n_addr > 0;
	if (with_addr == 0) {
		snprintf(err, err_size, "%s: no address for any root server", fname);
		goto out_free;
	}
	ret = 0;
out_free:
	free(copy);
	free(pend);
	return ret;
}

int hf_hints_load(const char *path, struct hf_hints *out, char *err, size_t err_size)
{
	char *buf;
	int ret = hf_file_read_text(path, HINTS_FILE_MAX, &buf, err, err_size);
	if (ret < 0)
		return ret;
	ret = hf_hints_parse(buf, path, out, err, err_size);
	free(buf);
	return ret;
}
