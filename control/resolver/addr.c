/*
 * Upstream addresses and the upstream address policy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "include/holdfast/dns.h"
#include "control/resolver/addr.h"

bool hf_addr_equal(const union hf_addr *a, const union hf_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port &&
		       a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->in6.sin6_port == b->in6.sin6_port &&
		       memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
	return false;
}

void hf_addr_to_text(const union hf_addr *a, char *out, size_t size)
{
	const void *src = a->sa.sa_family == AF_INET6 ? (const void *)&a->in6.sin6_addr
						      : (const void *)&a->in.sin_addr;
	if (inet_ntop(a->sa.sa_family, src, out, (socklen_t)size) == NULL)
		snprintf(out, size, "?");
}

int hf_addr_from_rdata(union hf_addr *out, uint16_t type, const uint8_t *rdata, uint16_t len)
{
	memset(out, 0, sizeof(*out));
	if (type == HF_TYPE_A && len == 4) {
		out->in.sin_family = AF_INET;
		out->in.sin_port = htons(53);
		memcpy(&out->in.sin_addr, rdata, 4);
		return 0;
	}
	if (type == HF_TYPE_AAAA && len == 16) {
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons(53);
		memcpy(&out->in6.sin6_addr, rdata, 16);
		return 0;
	}
	return -EINVAL;
}

static bool same_host(const union hf_addr *a, const struct sockaddr_storage *ss)
{
	if (a->sa.sa_family != ss->ss_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == ((const struct sockaddr_in *)ss)->sin_addr.s_addr;
	return memcmp(&a->in6.sin6_addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16) == 0;
}

bool hf_addr_allowed(const union hf_addr *a, bool allow_loopback,
		     const struct sockaddr_storage *own, unsigned n_own)
{
	if (a->sa.sa_family == AF_INET) {
		uint32_t v4 = ntohl(a->in.sin_addr.s_addr);
		if ((v4 >> 24) == 0 || (v4 >> 28) == 0xe || v4 == 0xffffffffu)
			return false;  /* 0/8 "this network", 224/4 multicast, broadcast */
		if ((v4 >> 24) == 127 && !allow_loopback)
			return false;
	} else if (a->sa.sa_family == AF_INET6) {
		const struct in6_addr *v6 = &a->in6.sin6_addr;
		if (IN6_IS_ADDR_UNSPECIFIED(v6) || IN6_IS_ADDR_MULTICAST(v6))
			return false;
		if (IN6_IS_ADDR_LOOPBACK(v6) && !allow_loopback)
			return false;
		if (IN6_IS_ADDR_V4MAPPED(v6)) {
			/* Judge the embedded IPv4 address, not the wrapper. */
			union hf_addr v4 = { .in = { .sin_family = AF_INET, .sin_port = a->in6.sin6_port } };
			memcpy(&v4.in.sin_addr, &v6->s6_addr[12], 4);
			return hf_addr_allowed(&v4, allow_loopback, own, n_own);
		}
	} else {
		return false;
	}
	for (unsigned i = 0; i < n_own; i++)
		if (same_host(a, &own[i]))
			return false;
	return true;
}
