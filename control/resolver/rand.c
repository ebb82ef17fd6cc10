/*
 * getrandom() with a small pool, so that a query does not cost a syscall per
 * number. Used on the resolver's loop thread only.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "include/holdfast/defines.h"
#include "control/resolver/rand.h"

static uint8_t pool[256];
static size_t pool_left;

void hf_rand_bytes(void *buf, size_t len)
{
	uint8_t *out = buf;
	while (len > 0) {
		if (pool_left == 0) {
			size_t got = 0;
			while (got < sizeof(pool)) {
				ssize_t n = getrandom(pool + got, sizeof(pool) - got, 0);
				/* getrandom only fails on EINTR once the pool is seeded. */
				hf_require(n > 0 || errno == EINTR);
				if (n > 0)
					got += (size_t)n;
			}
			pool_left = sizeof(pool);
		}
		size_t take = len < pool_left ? len : pool_left;
		memcpy(out, pool + sizeof(pool) - pool_left, take);
		/* Never hand the same octets out twice. */
		memset(pool + sizeof(pool) - pool_left, 0, take);
		pool_left -= take;
		out += take;
		len -= take;
	}
}

uint32_t hf_rand_u32(void)
{
	uint32_t v;
	hf_rand_bytes(&v, sizeof(v));
	return v;
}
