#include <ctype.h>
#include <string.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"

#define HF_LABEL_PTR_MASK 0xC0

static inline uint8_t hf_ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

int hf_name_unpack(const uint8_t *msg, size_t msg_size, size_t *pos, uint8_t *out)
{
	size_t p = *pos;
	size_t len = 0;
	size_t end = 0;      /* where the caller continues; set at the first jump */
	size_t limit = p;    /* a pointer must land before this: see name.h */

	for (;;) {
		if (p >= msg_size)
			return HF_ETRUNC;
		uint8_t lb = msg[p];

		if ((lb & HF_LABEL_PTR_MASK) == HF_LABEL_PTR_MASK) {
			if (p + 1 >= msg_size)
				return HF_ETRUNC;
			size_t target = (size_t)(lb & 0x3f) << 8 | msg[p + 1];
			if (target < HF_DNS_HEADER_SIZE || target >= msg_size)
				return HF_EPTRRANGE;
			if (target >= limit)
				return HF_EPTRLOOP;
			if (end == 0)
				end = p + 2;
			p = limit = target;
			continue;
		}
		if (lb & HF_LABEL_PTR_MASK)
			return HF_ELABELTYPE;  /* 0x40 extended, 0x80 reserved */
		if (len + 1 + lb > HF_NAME_MAXLEN)
			return HF_ENAMELEN;
		if (msg_size - p < 1 + (size_t)lb)
			return HF_ETRUNC;
		if (out)
			memcpy(out + len, msg + p, 1 + (size_t)lb);
		len += 1 + (size_t)lb;
		p += 1 + (size_t)lb;
		if (lb == 0)
			break;
	}
	*pos = end ? end : p;
	return (int)len;
}

int hf_name_check(const uint8_t *name, size_t max)
{
	size_t len = 0;

	for (;;) {
		if (len >= max)
			return HF_ETRUNC;
		uint8_t lb = name[len];
		if (lb & HF_LABEL_PTR_MASK)
			return HF_ELABELTYPE;
		if (len + 1 + lb > HF_NAME_MAXLEN)
			return HF_ENAMELEN;
		if (max - len < 1 + (size_t)lb)
			return HF_ETRUNC;
		len += 1 + (size_t)lb;
		if (lb == 0)
			return (int)len;
	}
}

/* Reads one escape after the backslash; returns the octet or a negative error. */
static int hf_text_unescape(const char **text)
{
	const char *t = *text;
	if (*t == '\0')
		return HF_EBADESC;
	if (!isdigit((unsigned char)t[0])) {
		*text = t + 1;
		return (uint8_t)t[0];
	}
	if (!isdigit((unsigned char)t[1]) || !isdigit((unsigned char)t[2]))
		return HF_EBADESC;
	int v = (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
	if (v > 255)
		return HF_EBADESC;
	*text = t + 3;
	return v;
}

int hf_name_from_text(const char *text, uint8_t *out)
{
	if (text[0] == '\0' || (text[0] == '.' && text[1] == '\0')) {
		out[0] = 0;
		return 1;
	}

	size_t len = 0;       /* octets written, label-length octets included */
	size_t label_at = 0;  /* where the current label's length octet sits */
	size_t label_len = 0;
	out[0] = 0;
	len = 1;

	const char *t = text;
	while (*t != '\0') {
		int c = (unsigned char)*t++;
		if (c == '.') {
			if (label_len == 0)
				return HF_EEMPTYLABEL;
			out[label_at] = (uint8_t)label_len;
			label_at = len;
			label_len = 0;
			if (*t == '\0')
				break;
			if (len + 1 > HF_NAME_MAXLEN)
				return HF_ENAMELEN;
			out[len++] = 0;
			continue;
		}
		if (c == '\\') {
			c = hf_text_unescape(&t);
			if (c < 0)
				return c;
		}
		if (label_len == HF_LABEL_MAXLEN)
			return HF_ELABELLEN;
		/* One octet for the label plus the root label that must follow. */
		if (len + 2 > HF_NAME_MAXLEN)
			return HF_ENAMELEN;
		out[len++] = (uint8_t)c;
		label_len++;
	}
	if (label_len > 0) {
		out[label_at] = (uint8_t)label_len;
		label_at = len;
	}
	out[label_at] = 0;
	return (int)(label_at + 1);
}

static bool hf_text_needs_escape(uint8_t c)
{
	return strchr(".\\\"()@;$", c) != NULL && c != '\0';
}

int hf_name_to_text(const uint8_t *name, char *out, size_t out_size)
{
	size_t n = 0;

	if (name[0] == 0) {
		if (out_size < 2)
			return HF_ESPACE;
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	for (const uint8_t *l = name; *l != 0; l += 1 + *l) {
		for (size_t i = 1; i <= *l; i++) {
			uint8_t c = l[i];
			if (c <= 0x20 || c >= 0x7f) {
				if (n + 4 >= out_size)
					return HF_ESPACE;
				out[n++] = '\\';
				out[n++] = (char)('0' + c / 100);
				out[n++] = (char)('0' + c / 10 % 10);
				out[n++] = (char)('0' + c % 10);
			} else {
				if (hf_text_needs_escape(c)) {
					if (n + 1 >= out_size)
						return HF_ESPACE;
					out[n++] = '\\';
				}
				if (n + 1 >= out_size)
					return HF_ESPACE;
				out[n++] = (char)c;
			}
		}
		if (n + 1 >= out_size)
			return HF_ESPACE;
		out[n++] = '.';
	}
	out[n] = '\0';
	return (int)n;
}

size_t hf_name_len(const uint8_t *name)
{
	const uint8_t *l = name;
	while (*l != 0)
		l += 1 + *l;
	return (size_t)(l - name) + 1;
}

int hf_name_labels(const uint8_t *name)
{
	int n = 0;
	for (const uint8_t *l = name; *l != 0; l += 1 + *l)
		n++;
	return n;
}

void hf_name_lower(uint8_t *name)
{
	for (uint8_t *l = name; *l != 0; l += 1 + *l)
		for (size_t i = 1; i <= *l; i++)
			l[i] = hf_ascii_lower(l[i]);
}

bool hf_name_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		if (*a == 0)
			return true;
		for (size_t i = 1; i <= *a; i++)
			if (hf_ascii_lower(a[i]) != hf_ascii_lower(b[i]))
				return false;
		a += 1 + *a;
		b += 1 + *b;
	}
}

/* Offsets of each label of a name, leftmost first; returns the count (root excluded). */
static int hf_name_label_offsets(const uint8_t *name, uint8_t offs[HF_NAME_MAXLABELS])
{
	int n = 0;
	for (const uint8_t *l = name; *l != 0; l += 1 + *l)
		offs[n++] = (uint8_t)(l - name);
	return n;
}

bool hf_name_is_subdomain(const uint8_t *name, const uint8_t *zone)
{
	int nl = hf_name_labels(name);
	int zl = hf_name_labels(zone);
	if (nl < zl)
		return false;
	const uint8_t *l = name;
	for (int i = 0; i < nl - zl; i++)
		l += 1 + *l;
	return hf_name_equal(l, zone);
}

static int hf_label_cmp_canonical(const uint8_t *a, const uint8_t *b)
{
	size_t n = a[0] < b[0] ? a[0] : b[0];
	for (size_t i = 1; i <= n; i++) {
		int d = hf_ascii_lower(a[i]) - hf_ascii_lower(b[i]);
		if (d != 0)
			return d;
	}
	return (int)a[0] - (int)b[0];
}

int hf_name_cmp_canonical(const uint8_t *a, const uint8_t *b)
{
	uint8_t ao[HF_NAME_MAXLABELS], bo[HF_NAME_MAXLABELS];
	int an = hf_name_label_offsets(a, ao);
	int bn = hf_name_label_offsets(b, bo);

	while (an > 0 && bn > 0) {
		int d = hf_label_cmp_canonical(a + ao[--an], b + bo[--bn]);
		if (d != 0)
			return d;
	}
	return an - bn;  /* the name with labels left over sorts after */
}
