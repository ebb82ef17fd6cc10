/*
 * Creating, attaching and watching the shared-memory region. The protocol and
 * layout are described in "include/holdfast/shm.h".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "include/holdfast/defines.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/ring.h"
#include "include/holdfast/shm.h"

/* Bytes 0..23 of every region, whatever its ABI version. */
#define HF_SHM_PREFIX_SIZE 24U

/* Where everything is, for a given number of workers, in this build. */
struct hf_shm_layout {
	uint64_t ops_offset;
	uint64_t ops_size;
	uint64_t workers_offset;
	uint64_t workers_size;
	uint64_t override_offset;
	uint64_t override_size;    /* two slots, then the hit block */
	uint32_t worker_size;
	uint32_t miss_offset;      /* within a worker block */
	uint32_t fill_offset;
	uint32_t stats_offset;
	uint64_t region_size;
};

struct hf_shm {
	struct hf_shm_header *hdr;
	unsigned char *base;
	size_t map_size;
	bool dataplane;            /* creator (true) or control plane */
	bool readonly;             /* hf_shm_open_ro(): PROT_READ mapping, no claim */
	uint64_t claim;            /* control: the cp_claim value we wrote */
	dev_t dev;                 /* identity of the object, to unlink only our own */
	ino_t ino;
	unsigned n_workers;
	struct hf_shm_layout layout; /* local copy: never re-read from the region */
	char name[HF_SHM_NAME_SIZE];
};

static const char *const hf_shm_stat_names[] = {
	[HF_STAT_LOOPS]          = "loops",
	[HF_STAT_RX_PACKETS]     = "rx_packets",
	[HF_STAT_TX_PACKETS]     = "tx_packets",
	[HF_STAT_CACHE_HITS]     = "cache_hits",
	[HF_STAT_CACHE_MISSES]   = "cache_misses",
	[HF_STAT_STALE_ANSWERS]  = "stale_answers",
	[HF_STAT_MISS_SENT]      = "miss_sent",
	[HF_STAT_MISS_RING_FULL] = "miss_ring_full",
	[HF_STAT_FILLS_RECEIVED] = "fills_received",
	[HF_STAT_BAD_MESSAGES]   = "bad_messages",
	[HF_STAT_BUSY_CYCLES]    = "busy_cycles",
	[HF_STAT_DNS_QUERIES]    = "dns_queries",
	[HF_STAT_DNS_ANSWERS]    = "dns_answers",
	[HF_STAT_TRUNCATED]      = "truncated",
	[HF_STAT_COALESCED]      = "coalesced",
	[HF_STAT_FILLS_UNCLAIMED] = "fills_unclaimed",
	[HF_STAT_CACHE_INSERT_FAIL] = "cache_insert_fail",
	[HF_STAT_SERVFAIL_TIMEOUT] = "servfail_timeout",
	[HF_STAT_SERVFAIL_BUSY]  = "servfail_busy",
	[HF_STAT_SERVFAIL_NO_CONTROL] = "servfail_no_control",
	[HF_STAT_ARP_REPLIES]    = "arp_replies",
	[HF_STAT_ICMP_REPLIES]   = "icmp_replies",
	[HF_STAT_ND_ADVERTS]     = "nd_adverts",
	[HF_STAT_EXCEPTION_TX]   = "exception_tx",
	[HF_STAT_OTHER_DROPPED]  = "other_dropped",
	[HF_STAT_TX_DROPPED]     = "tx_dropped",
	[HF_STAT_Q_SHORT]        = "query_short",
	[HF_STAT_Q_RESPONSE]     = "query_response",
	[HF_STAT_Q_MALFORMED]    = "query_malformed",
	[HF_STAT_Q_QDCOUNT]      = "query_qdcount",
	[HF_STAT_Q_OPCODE]       = "query_opcode",
	[HF_STAT_Q_BADVERS]      = "query_badvers",
	[HF_STAT_Q_CLASS]        = "query_class",
	[HF_STAT_Q_QTYPE]        = "query_qtype",
	[HF_STAT_NET_SHORT]      = "net_short",
	[HF_STAT_NET_VLAN_DEPTH] = "net_vlan_depth",
	[HF_STAT_NET_IP_VERSION] = "net_ip_version",
	[HF_STAT_NET_IP_HLEN]    = "net_ip_hlen",
	[HF_STAT_NET_IP_LEN]     = "net_ip_len",
	[HF_STAT_NET_IP_CSUM]    = "net_ip_csum",
	[HF_STAT_NET_MULTISEG]   = "net_multiseg",
	[HF_STAT_NET_UDP_LEN]    = "net_udp_len",
	[HF_STAT_NET_ARP_FORMAT] = "net_arp_format",
	[HF_STAT_NET_ND_INVALID] = "net_nd_invalid",
	[HF_STAT_NET_NOT_OUR_MAC] = "net_not_our_mac",
	[HF_STAT_NET_NOT_OURS]   = "net_not_ours",
	[HF_STAT_NET_BAD_SRC]    = "net_bad_src",
	[HF_STAT_NET_FRAGMENT]   = "net_fragment",
	[HF_STAT_NET_SRC_PORT]   = "net_src_port",
	[HF_STAT_NET_ETHERTYPE]  = "net_ethertype",
	[HF_STAT_NET_ARP_OP]     = "net_arp_op",
	[HF_STAT_NET_MCAST]      = "net_mcast",
	[HF_STAT_NET_IP6_EXTHDR] = "net_ip6_exthdr",
	[HF_STAT_NET_L4_PROTO]   = "net_l4_proto",
	[HF_STAT_NET_UDP_PORT]   = "net_udp_port",
	[HF_STAT_NET_ICMP_TYPE]  = "net_icmp_type",
	[HF_STAT_STALE_REFRESHES] = "stale_refreshes",
	[HF_STAT_OVERRIDE_HITS]  = "override_hits",
	[HF_STAT_STALE_FAILED]   = "stale_refresh_failures",
};

_Static_assert(HF_ARRAY_SIZE(hf_shm_stat_names) == HF_STAT_COUNT, "every counter needs a name");

const char *hf_shm_stat_name(unsigned i)
{
	return i < HF_STAT_COUNT ? hf_shm_stat_names[i] : NULL;
}

uint64_t hf_shm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* Writes "shm <name>: <reason>" to err (if any) and returns code. */
HF_COLD __attribute__((format(printf, 5, 6)))
static int hf_shm_fail(char *err, size_t err_size, const char *name, int code,
		       const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || err_size == 0)
		return code;
	n = snprintf(err, err_size, "shm %s: ", name);
	if (n < 0 || (size_t)n >= err_size)
		return code;
	va_start(ap, fmt);
	vsnprintf(err + n, err_size - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}

int hf_shm_name(char *buf, size_t size, const char *instance)
{
	size_t len = instance ? strlen(instance) : 0;

	if (len == 0 || len > HF_SHM_INSTANCE_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = instance[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	if (snprintf(buf, size, "%s%s", HF_SHM_NAME_PREFIX, instance) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

static uint64_t hf_shm_align(uint64_t n)
{
	return (n + HF_SHM_ALIGN - 1) & ~(uint64_t)(HF_SHM_ALIGN - 1);
}

static int hf_shm_layout_get(unsigned n_workers, struct hf_shm_layout *l)
{
	uint64_t miss = hf_ring_memsize(HF_SHM_MISS_SLOT_SIZE, HF_SHM_MISS_SLOTS);
	uint64_t fill = hf_ring_memsize(HF_SHM_FILL_SLOT_SIZE, HF_SHM_FILL_SLOTS);
	uint64_t ops = hf_ring_memsize(HF_SHM_OPS_SLOT_SIZE, HF_SHM_OPS_SLOTS);
	uint64_t worker;

	if (n_workers == 0 || n_workers > HF_SHM_MAX_WORKERS)
		return -EINVAL;
	hf_require(miss && fill && ops);

	l->miss_offset = 0;
	l->fill_offset = (uint32_t)hf_shm_align(miss);
	l->stats_offset = (uint32_t)(l->fill_offset + hf_shm_align(fill));
	worker = hf_shm_align(l->stats_offset + sizeof(struct hf_shm_stats));
	hf_require(worker <= UINT32_MAX);
	l->worker_size = (uint32_t)worker;

	l->ops_offset = HF_SHM_HEADER_SIZE;
	l->ops_size = hf_shm_align(ops);
	l->workers_offset = l->ops_offset + l->ops_size;
	l->workers_size = (uint64_t)n_workers * l->worker_size;
	l->override_offset = l->workers_offset + l->workers_size;
	l->override_size = (uint64_t)HF_SHM_OVERRIDE_SLOTS * HF_SHM_OVERRIDE_SLOT_SIZE +
			   hf_shm_align(sizeof(struct hf_shm_override_hits));
	l->region_size = l->override_offset + l->override_size;
	return 0;
}

size_t hf_shm_region_size(unsigned n_workers)
{
	struct hf_shm_layout l;

	return hf_shm_layout_get(n_workers, &l) == 0 ? (size_t)l.region_size : 0;
}

/* Alive: the pid exists (a zombie counts: its parent has not reaped it yet)
 * and the heartbeat is recent. Either test alone is fooled by something. */
static bool hf_shm_side_alive(uint32_t pid, uint64_t heartbeat_ns, uint64_t now_ns)
{
	if (pid == 0 || pid > INT32_MAX)
		return false;
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return false;
	return now_ns <= heartbeat_ns || now_ns - heartbeat_ns <= HF_SHM_PEER_TIMEOUT_NS;
}

static double hf_shm_age_s(uint64_t heartbeat_ns, uint64_t now_ns)
{
	return now_ns > heartbeat_ns ? (double)(now_ns - heartbeat_ns) / 1e9 : 0.0;
}

/*
 * Dataplane, before creating: retire an existing region of that name and
 * learn its generation. Refuses while another live dataplane holds it.
 */
static int hf_shm_retire_old(const char *name, uint64_t *generation, char *err, size_t err_size)
{
	struct hf_shm_header *old;
	struct stat st;
	size_t map_size;
	int fd, rc = 0;

	*generation = 1;
	fd = shm_open(name, O_RDWR, 0);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		return hf_shm_fail(err, err_size, name, rc, "cannot open the old region: %s",
				   strerror(-rc));
	}
	if (fstat(fd, &st) < 0) {
		rc = hf_shm_fail(err, err_size, name, -errno, "fstat: %s", strerror(errno));
		goto err_close;
	}
	/* Too small to be ours: nothing to retire, just replace it. */
	if ((uint64_t)st.st_size < HF_SHM_PREFIX_SIZE)
		goto err_close;
	map_size = (uint64_t)st.st_size >= sizeof(*old) ? sizeof(*old) : HF_SHM_PREFIX_SIZE;
	old = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (old == MAP_FAILED) {
		rc = hf_shm_fail(err, err_size, name, -errno, "mmap of the old region: %s",
				 strerror(errno));
		goto err_close;
	}
	if (atomic_load_explicit(&old->magic, memory_order_acquire) != HF_SHM_MAGIC)
		goto err_unmap;
	if (old->abi_version == HF_SHM_ABI_VERSION && map_size == sizeof(*old) &&
	    atomic_load_explicit(&old->state, memory_order_acquire) == HF_SHM_STATE_READY) {
		/* Our ABI, so the liveness line is where we think it is. */
		uint32_t pid = atomic_load_explicit(&old->dp_pid, memory_order_relaxed);
		uint64_t hb = atomic_load_explicit(&old->dp_heartbeat_ns, memory_order_acquire);
		uint64_t now = hf_shm_now_ns();

		if (pid != (uint32_t)getpid() && hf_shm_side_alive(pid, hb, now)) {
			rc = hf_shm_fail(err, err_size, name, HF_ESHMBUSY,
					 "dataplane pid %" PRIu32 " is alive (heartbeat %.2f s ago)",
					 pid, hf_shm_age_s(hb, now));
			goto err_unmap;
		}
	}
	/* Bytes 0..23 mean the same in every ABI version. */
	*generation = old->dp_generation + 1;
	/* A control plane still mapping it sees this in hf_shm_check(). */
	atomic_store_explicit(&old->state, HF_SHM_STATE_RETIRED, memory_order_release);
err_unmap:
	munmap(old, map_size);
err_close:
	close(fd);
	return rc;
}

static void hf_shm_init_header(struct hf_shm *shm, uint64_t generation)
{
	struct hf_shm_header *h = shm->hdr;
	const struct hf_shm_layout *l = &shm->layout;

	/* The region is fresh from ftruncate, so everything else is zero. */
	h->abi_version = HF_SHM_ABI_VERSION;
	atomic_store_explicit(&h->state, HF_SHM_STATE_INIT, memory_order_relaxed);
	h->dp_generation = generation;
	h->region_size = l->region_size;
	h->header_size = HF_SHM_HEADER_SIZE;
	h->n_workers = shm->n_workers;
	h->worker_size = l->worker_size;
	h->stats_size = sizeof(struct hf_shm_stats);
	h->worker_miss_offset = l->miss_offset;
	h->worker_fill_offset = l->fill_offset;
	h->worker_stats_offset = l->stats_offset;
	h->miss_slot_size = HF_SHM_MISS_SLOT_SIZE;
	h->miss_slot_count = HF_SHM_MISS_SLOTS;
	h->fill_slot_size = HF_SHM_FILL_SLOT_SIZE;
	h->fill_slot_count = HF_SHM_FILL_SLOTS;
	h->ops_slot_size = HF_SHM_OPS_SLOT_SIZE;
	h->ops_slot_count = HF_SHM_OPS_SLOTS;
	h->override_slot_size = HF_SHM_OVERRIDE_SLOT_SIZE;
	h->override_slot_count = HF_SHM_OVERRIDE_SLOTS;
	h->parts[HF_SHM_PART_OVERRIDE] = (struct hf_shm_part){ l->override_offset, l->override_size };
	h->parts[HF_SHM_PART_OPS] = (struct hf_shm_part){ l->ops_offset, l->ops_size };
	h->parts[HF_SHM_PART_WORKERS] = (struct hf_shm_part){ l->workers_offset, l->workers_size };
	atomic_store_explicit(&h->dp_pid, (uint32_t)getpid(), memory_order_relaxed);
	atomic_store_explicit(&h->dp_heartbeat_ns, hf_shm_now_ns(), memory_order_relaxed);
	atomic_store_explicit(&h->cp_claim, 0, memory_order_relaxed);
	atomic_store_explicit(&h->cp_heartbeat_ns, 0, memory_order_relaxed);
	/* Release: whoever sees the magic sees the ABI version and sizes. */
	atomic_store_explicit(&h->magic, HF_SHM_MAGIC, memory_order_release);
}

int hf_shm_create(const char *instance, unsigned n_workers, struct hf_shm **out,
		  char *err, size_t err_size)
{
	struct hf_shm *shm;
	struct stat st;
	uint64_t generation;
	void *base;
	int fd = -1, rc;

	shm = calloc(1, sizeof(*shm));
	if (!shm)
		return -ENOMEM;
	shm->dataplane = true;
	shm->n_workers = n_workers;
	rc = hf_shm_name(shm->name, sizeof(shm->name), instance);
	if (rc < 0) {
		hf_shm_fail(err, err_size, HF_SHM_NAME_PREFIX "?", rc, "bad instance name '%s'",
			    instance ? instance : "(null)");
		goto err_free_handle;
	}
	if (hf_shm_layout_get(n_workers, &shm->layout) < 0) {
		rc = hf_shm_fail(err, err_size, shm->name, -EINVAL,
				 "%u workers, this build supports 1 to %u", n_workers,
				 HF_SHM_MAX_WORKERS);
		goto err_free_handle;
	}

	rc = hf_shm_retire_old(shm->name, &generation, err, err_size);
	if (rc < 0)
		goto err_free_handle;
	if (shm_unlink(shm->name) < 0 && errno != ENOENT) {
		rc = hf_shm_fail(err, err_size, shm->name, -errno, "cannot unlink the old region: %s",
				 strerror(errno));
		goto err_free_handle;
	}
	fd = shm_open(shm->name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		rc = hf_shm_fail(err, err_size, shm->name, -errno, "shm_open: %s", strerror(errno));
		goto err_free_handle;
	}
	/* The umask may have taken bits from 0600; the owner needs both. */
	if (fchmod(fd, 0600) < 0 || ftruncate(fd, (off_t)shm->layout.region_size) < 0 ||
	    fstat(fd, &st) < 0) {
		rc = hf_shm_fail(err, err_size, shm->name, -errno, "sizing to %" PRIu64 " bytes: %s",
				 shm->layout.region_size, strerror(errno));
		goto err_unlink;
	}
	shm->dev = st.st_dev;
	shm->ino = st.st_ino;
	/* Populate now so that no worker takes a page fault on the hot path. */
	base = mmap(NULL, shm->layout.region_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, fd, 0);
	if (base == MAP_FAILED) {
		rc = hf_shm_fail(err, err_size, shm->name, -errno, "mmap of %" PRIu64 " bytes: %s",
				 shm->layout.region_size, strerror(errno));
		goto err_unlink;
	}
	close(fd);
	fd = -1;
	shm->base = base;
	shm->hdr = base;
	shm->map_size = shm->layout.region_size;

	hf_shm_init_header(shm, generation);
	hf_require(hf_ring_init(hf_shm_ops_ring(shm), HF_SHM_OPS_SLOT_SIZE, HF_SHM_OPS_SLOTS) == 0);
	for (unsigned i = 0; i < n_workers; i++) {
		hf_require(hf_ring_init(hf_shm_miss_ring(shm, i), HF_SHM_MISS_SLOT_SIZE,
					HF_SHM_MISS_SLOTS) == 0);
		hf_require(hf_ring_init(hf_shm_fill_ring(shm, i), HF_SHM_FILL_SLOT_SIZE,
					HF_SHM_FILL_SLOTS) == 0);
	}
	/* Release: an attacher that sees READY sees the rings initialised. */
	atomic_store_explicit(&shm->hdr->state, HF_SHM_STATE_READY, memory_order_release);
	*out = shm;
	return 0;

err_unlink:
	close(fd);
	shm_unlink(shm->name);
err_free_handle:
	free(shm);
	return rc;
}

/* Attach: every recorded size and offset must be what this build computes. */
static int hf_shm_check_layout(const struct hf_shm *shm, char *err, size_t err_size)
{
	const struct hf_shm_header *h = shm->hdr;
	const struct hf_shm_layout *l = &shm->layout;
	const struct {
		const char *what;
		uint64_t have;
		uint64_t want;
	} fields[] = {
		{ "header size", h->header_size, HF_SHM_HEADER_SIZE },
		{ "region size", h->region_size, l->region_size },
		{ "worker block size", h->worker_size, l->worker_size },
		{ "statistics block size", h->stats_size, sizeof(struct hf_shm_stats) },
		{ "miss ring offset in a worker block", h->worker_miss_offset, l->miss_offset },
		{ "fill ring offset in a worker block", h->worker_fill_offset, l->fill_offset },
		{ "statistics offset in a worker block", h->worker_stats_offset, l->stats_offset },
		{ "miss ring slot size", h->miss_slot_size, HF_SHM_MISS_SLOT_SIZE },
		{ "miss ring slot count", h->miss_slot_count, HF_SHM_MISS_SLOTS },
		{ "fill ring slot size", h->fill_slot_size, HF_SHM_FILL_SLOT_SIZE },
		{ "fill ring slot count", h->fill_slot_count, HF_SHM_FILL_SLOTS },
		{ "ops ring slot size", h->ops_slot_size, HF_SHM_OPS_SLOT_SIZE },
		{ "ops ring slot count", h->ops_slot_count, HF_SHM_OPS_SLOTS },
		{ "ops ring offset", h->parts[HF_SHM_PART_OPS].offset, l->ops_offset },
		{ "ops ring part size", h->parts[HF_SHM_PART_OPS].size, l->ops_size },
		{ "worker blocks offset", h->parts[HF_SHM_PART_WORKERS].offset, l->workers_offset },
		{ "worker blocks size", h->parts[HF_SHM_PART_WORKERS].size, l->workers_size },
		{ "override slot size", h->override_slot_size, HF_SHM_OVERRIDE_SLOT_SIZE },
		{ "override slot count", h->override_slot_count, HF_SHM_OVERRIDE_SLOTS },
		{ "override part offset", h->parts[HF_SHM_PART_OVERRIDE].offset, l->override_offset },
		{ "override part size", h->parts[HF_SHM_PART_OVERRIDE].size, l->override_size },
	};

	for (size_t i = 0; i < HF_ARRAY_SIZE(fields); i++) {
		if (fields[i].have != fields[i].want)
			return hf_shm_fail(err, err_size, shm->name, HF_ESHMLAYOUT,
					   "%s %" PRIu64 ", this build uses %" PRIu64,
					   fields[i].what, fields[i].have, fields[i].want);
	}
	for (unsigned i = HF_SHM_PART_COUNT; i < HF_SHM_PART_MAX; i++) {
		if (h->parts[i].offset || h->parts[i].size)
			return hf_shm_fail(err, err_size, shm->name, HF_ESHMLAYOUT,
					   "part %u is unknown to this build", i);
	}
	return 0;
}

static int hf_shm_check_ring(const struct hf_shm *shm, const struct hf_ring *r, const char *what,
			     unsigned worker, uint32_t slot_size, uint32_t slot_count,
			     char *err, size_t err_size)
{
	int rc = hf_ring_check(r, slot_size, slot_count);

	if (rc == HF_ESHMLAYOUT)
		return hf_shm_fail(err, err_size, shm->name, rc,
				   "%s ring of worker %u: slots %" PRIu32 " x %" PRIu32
				   " B (magic %#" PRIx32 "), this build uses %" PRIu32 " x %" PRIu32 " B",
				   what, worker, r->slot_count, r->slot_size, r->magic,
				   slot_count, slot_size);
	if (rc < 0)
		return hf_shm_fail(err, err_size, shm->name, rc,
				   "%s ring of worker %u: head %" PRIu64 " - tail %" PRIu64
				   " exceeds its %" PRIu32 " slots",
				   what, worker, atomic_load(&r->head), atomic_load(&r->tail),
				   slot_count);
	return 0;
}

/* Control: take the claim from nobody or from a dead control plane. */
static int hf_shm_claim(struct hf_shm *shm, char *err, size_t err_size)
{
	struct hf_shm_header *h = shm->hdr;
	uint32_t me = (uint32_t)getpid();

	for (;;) {
		uint64_t old = atomic_load_explicit(&h->cp_claim, memory_order_acquire);
		uint32_t pid = (uint32_t)old;
		uint64_t now = hf_shm_now_ns();
		uint64_t hb = atomic_load_explicit(&h->cp_heartbeat_ns, memory_order_acquire);
		uint64_t claim = ((old >> 32) + 1) << 32 | me;

		if (pid != 0 && hf_shm_side_alive(pid, hb, now))
			return hf_shm_fail(err, err_size, shm->name, HF_ESHMBUSY,
					   "control plane pid %" PRIu32
					   " is alive (heartbeat %.2f s ago)",
					   pid, hf_shm_age_s(hb, now));
		/* Heartbeat before claim: nobody may see our claim next to the
		 * dead holder's stale heartbeat and take it from us. */
		atomic_store_explicit(&h->cp_heartbeat_ns, now, memory_order_release);
		if (atomic_compare_exchange_strong(&h->cp_claim, &old, claim)) {
			shm->claim = claim;
			return 0;
		}
	}
}

/* Attach (claim = true, read-write) or open read-only (claim = false). */
static int hf_shm_open_(const char *instance, bool claim, struct hf_shm **out,
			char *err, size_t err_size)
{
	struct hf_shm *shm;
	struct hf_shm_header *h;
	struct stat st;
	uint64_t magic;
	uint32_t state;
	void *base;
	int fd = -1, rc;

	shm = calloc(1, sizeof(*shm));
	if (!shm)
		return -ENOMEM;
	rc = hf_shm_name(shm->name, sizeof(shm->name), instance);
	if (rc < 0) {
		hf_shm_fail(err, err_size, HF_SHM_NAME_PREFIX "?", rc, "bad instance name '%s'",
			    instance ? instance : "(null)");
		goto err_free_handle;
	}
	shm->readonly = !claim;
	fd = shm_open(shm->name, claim ? O_RDWR : O_RDONLY, 0);
	if (fd < 0) {
		rc = -errno;
		hf_shm_fail(err, err_size, shm->name, rc, "%s%s", strerror(-rc),
			    rc == -ENOENT ? " (is holdfast-dataplane running?)" : "");
		goto err_free_handle;
	}
	if (fstat(fd, &st) < 0) {
		rc = hf_shm_fail(err, err_size, shm->name, -errno, "fstat: %s", strerror(errno));
		goto err_close;
	}
	if (st.st_uid != geteuid()) {
		rc = hf_shm_fail(err, err_size, shm->name, -EPERM,
				 "owned by uid %u, this process runs as uid %u",
				 (unsigned)st.st_uid, (unsigned)geteuid());
		goto err_close;
	}
	if (st.st_size == 0) {
		rc = hf_shm_fail(err, err_size, shm->name, -EAGAIN, "region is being created");
		goto err_close;
	}
	if ((uint64_t)st.st_size < HF_SHM_PREFIX_SIZE) {
		rc = hf_shm_fail(err, err_size, shm->name, HF_ESHMSIZE,
				 "region is %lld bytes, too small for any header",
				 (long long)st.st_size);
		goto err_close;
	}
	shm->dev = st.st_dev;
	shm->ino = st.st_ino;
	base = mmap(NULL, (size_t)st.st_size, claim ? PROT_READ | PROT_WRITE : PROT_READ,
		    MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		rc = hf_shm_fail(err, err_size, shm->name, -errno, "mmap: %s", strerror(errno));
		goto err_close;
	}
	close(fd);
	fd = -1;
	shm->base = base;
	shm->hdr = h = base;
	shm->map_size = (size_t)st.st_size;

	magic = atomic_load_explicit(&h->magic, memory_order_acquire);
	if (magic == 0) {
		rc = hf_shm_fail(err, err_size, shm->name, -EAGAIN, "region is being created");
		goto err_unmap;
	}
	if (magic != HF_SHM_MAGIC) {
		rc = hf_shm_fail(err, err_size, shm->name, HF_ESHMMAGIC,
				 "magic %#" PRIx64 ", expected %#" PRIx64 ": not a holdfast region",
				 magic, HF_SHM_MAGIC);
		goto err_unmap;
	}
	if (h->abi_version != HF_SHM_ABI_VERSION) {
		rc = hf_shm_fail(err, err_size, shm->name, HF_ESHMABI,
				 "ABI version %" PRIu32 ", this build speaks %u",
				 h->abi_version, HF_SHM_ABI_VERSION);
		goto err_unmap;
	}
	state = atomic_load_explicit(&h->state, memory_order_acquire);
	if (state == HF_SHM_STATE_INIT) {
		rc = hf_shm_fail(err, err_size, shm->name, -EAGAIN, "region is being created");
		goto err_unmap;
	}
	if (state != HF_SHM_STATE_READY) {
		rc = hf_shm_fail(err, err_size, shm->name, HF_ESHMRETIRED,
				 "region (generation %" PRIu64 ") was retired (state %" PRIu32 ")",
				 h->dp_generation, state);
		goto err_unmap;
	}
	if ((uint64_t)st.st_size < sizeof(*h)) {
		rc = hf_shm_fail(err, err_size, shm->name, HF_ESHMSIZE,
				 "region is %lld bytes, smaller than its header (%zu)",
				 (long long)st.st_size, sizeof(*h));
		goto err_unmap;
	}
	if ((uint64_t)st.st_size < h->header_size || (uint64_t)st.st_size < h->region_size) {
		rc = hf_shm_fail(err, err_size, shm->name, HF_ESHMSIZE,
				 "region is %lld bytes, its header says %" PRIu64,
				 (long long)st.st_size,
				 h->region_size > h->header_size ? h->region_size : h->header_size);
		goto err_unmap;
	}
	shm->n_workers = h->n_workers;
	if (hf_shm_layout_get(shm->n_workers, &shm->layout) < 0) {
		rc = hf_shm_fail(err, err_size, shm->name, HF_ESHMLAYOUT,
				 "%u workers, this build supports 1 to %u", shm->n_workers,
				 HF_SHM_MAX_WORKERS);
		goto err_unmap;
	}
	rc = hf_shm_check_layout(shm, err, err_size);
	if (rc < 0)
		goto err_unmap;
	rc = hf_shm_check_ring(shm, hf_shm_ops_ring(shm), "ops", 0, HF_SHM_OPS_SLOT_SIZE,
			       HF_SHM_OPS_SLOTS, err, err_size);
	for (unsigned i = 0; rc == 0 && i < shm->n_workers; i++) {
		rc = hf_shm_check_ring(shm, hf_shm_miss_ring(shm, i), "miss", i,
				       HF_SHM_MISS_SLOT_SIZE, HF_SHM_MISS_SLOTS, err, err_size);
		if (rc == 0)
			rc = hf_shm_check_ring(shm, hf_shm_fill_ring(shm, i), "fill", i,
					       HF_SHM_FILL_SLOT_SIZE, HF_SHM_FILL_SLOTS,
					       err, err_size);
	}
	if (rc < 0)
		goto err_unmap;
	if (claim) {
		rc = hf_shm_claim(shm, err, err_size);
		if (rc < 0)
			goto err_unmap;
	}
	*out = shm;
	return 0;

err_unmap:
	munmap(shm->base, shm->map_size);
err_close:
	if (fd >= 0)
		close(fd);
err_free_handle:
	free(shm);
	return rc;
}

int hf_shm_attach(const char *instance, struct hf_shm **out, char *err, size_t err_size)
{
	return hf_shm_open_(instance, true, out, err, err_size);
}

int hf_shm_open_ro(const char *instance, struct hf_shm **out, char *err, size_t err_size)
{
	return hf_shm_open_(instance, false, out, err, err_size);
}

void hf_shm_detach(struct hf_shm *shm)
{
	if (!shm)
		return;
	if (!shm->dataplane && !shm->readonly) {
		/* Keep the generation, free the pid: only if it is still ours. */
		uint64_t mine = shm->claim;

		atomic_compare_exchange_strong(&shm->hdr->cp_claim, &mine,
					       shm->claim & ~(uint64_t)UINT32_MAX);
	}
	munmap(shm->base, shm->map_size);
	free(shm);
}

void hf_shm_destroy(struct hf_shm *shm)
{
	struct stat st;
	int fd;

	if (!shm)
		return;
	if (shm->dataplane) {
		atomic_store_explicit(&shm->hdr->state, HF_SHM_STATE_RETIRED, memory_order_release);
		fd = shm_open(shm->name, O_RDONLY, 0);
		if (fd >= 0) {
			if (fstat(fd, &st) == 0 && st.st_dev == shm->dev && st.st_ino == shm->ino)
				shm_unlink(shm->name);
			close(fd);
		}
	}
	hf_shm_detach(shm);
}

int hf_shm_heartbeat(struct hf_shm *shm, uint64_t now_ns)
{
	struct hf_shm_header *h = shm->hdr;

	if (shm->readonly)
		return -EPERM;
	if (shm->dataplane) {
		atomic_store_explicit(&h->dp_heartbeat_ns, now_ns, memory_order_release);
		return 0;
	}
	if (atomic_load_explicit(&h->cp_claim, memory_order_acquire) != shm->claim)
		return HF_ESHMTAKEN;
	atomic_store_explicit(&h->cp_heartbeat_ns, now_ns, memory_order_release);
	return 0;
}

int hf_shm_check(const struct hf_shm *shm)
{
	const struct hf_shm_header *h = shm->hdr;

	if (atomic_load_explicit(&h->state, memory_order_acquire) != HF_SHM_STATE_READY)
		return HF_ESHMRETIRED;
	if (!shm->dataplane && !shm->readonly &&
	    atomic_load_explicit(&h->cp_claim, memory_order_acquire) != shm->claim)
		return HF_ESHMTAKEN;
	return 0;
}

void hf_shm_doorbell_ring(struct hf_shm *shm)
{
	if (shm->readonly)
		return;
	/* Release: whoever sees the new value sees the operation behind it. */
	atomic_fetch_add_explicit(&shm->hdr->doorbell, 1, memory_order_release);
	/* Process-shared (no FUTEX_PRIVATE_FLAG): the waiter is another process. */
	(void)syscall(SYS_futex, &shm->hdr->doorbell, FUTEX_WAKE, 1, NULL, NULL, 0);
}

uint32_t hf_shm_doorbell_peek(const struct hf_shm *shm)
{
	return atomic_load_explicit(&shm->hdr->doorbell, memory_order_acquire);
}

int hf_shm_doorbell_wait(struct hf_shm *shm, uint32_t seen, uint64_t timeout_ns)
{
	const struct timespec ts = {
		.tv_sec = (time_t)(timeout_ns / UINT64_C(1000000000)),
		.tv_nsec = (long)(timeout_ns % UINT64_C(1000000000)),
	};
	/* The kernel compares the word with `seen` before it sleeps: a ring
	 * after the caller's peek makes this return at once (EAGAIN). */
	if (syscall(SYS_futex, &shm->hdr->doorbell, FUTEX_WAIT, seen, &ts, NULL, 0) == 0 ||
	    errno == EAGAIN)
		return 0;
	return errno == ETIMEDOUT ? -ETIMEDOUT : -EINTR;
}

uint64_t hf_shm_peer_age_ns(const struct hf_shm *shm, uint64_t now_ns)
{
	const struct hf_shm_header *h = shm->hdr;
	uint64_t hb;

	if (shm->dataplane) {
		if ((uint32_t)atomic_load_explicit(&h->cp_claim, memory_order_acquire) == 0)
			return UINT64_MAX;
		hb = atomic_load_explicit(&h->cp_heartbeat_ns, memory_order_acquire);
	} else {
		if (atomic_load_explicit(&h->state, memory_order_acquire) != HF_SHM_STATE_READY)
			return UINT64_MAX;
		hb = atomic_load_explicit(&h->dp_heartbeat_ns, memory_order_acquire);
	}
	return now_ns > hb ? now_ns - hb : 0;
}

bool hf_shm_peer_alive(const struct hf_shm *shm, uint64_t now_ns)
{
	return hf_shm_peer_age_ns(shm, now_ns) <= HF_SHM_PEER_TIMEOUT_NS;
}

const struct hf_shm_header *hf_shm_header(const struct hf_shm *shm)
{
	return shm->hdr;
}

const char *hf_shm_region_name(const struct hf_shm *shm)
{
	return shm->name;
}

unsigned hf_shm_n_workers(const struct hf_shm *shm)
{
	return shm->n_workers;
}

uint64_t hf_shm_dp_generation(const struct hf_shm *shm)
{
	return shm->hdr->dp_generation;
}

uint32_t hf_shm_cp_generation(const struct hf_shm *shm)
{
	return (uint32_t)(atomic_load_explicit(&shm->hdr->cp_claim, memory_order_acquire) >> 32);
}

static unsigned char *hf_shm_worker_(struct hf_shm *shm, unsigned worker)
{
	return shm->base + shm->layout.workers_offset + (size_t)worker * shm->layout.worker_size;
}

struct hf_ring *hf_shm_miss_ring(struct hf_shm *shm, unsigned worker)
{
	if (worker >= shm->n_workers)
		return NULL;
	return (struct hf_ring *)(void *)(hf_shm_worker_(shm, worker) + shm->layout.miss_offset);
}

struct hf_ring *hf_shm_fill_ring(struct hf_shm *shm, unsigned worker)
{
	if (worker >= shm->n_workers)
		return NULL;
	return (struct hf_ring *)(void *)(hf_shm_worker_(shm, worker) + shm->layout.fill_offset);
}

struct hf_ring *hf_shm_ops_ring(struct hf_shm *shm)
{
	return (struct hf_ring *)(void *)(shm->base + shm->layout.ops_offset);
}

struct hf_shm_stats *hf_shm_stats(struct hf_shm *shm, unsigned worker)
{
	if (worker >= shm->n_workers)
		return NULL;
	return (struct hf_shm_stats *)(void *)(hf_shm_worker_(shm, worker) +
					       shm->layout.stats_offset);
}

void *hf_shm_override_slot(struct hf_shm *shm, unsigned slot)
{
	if (slot >= HF_SHM_OVERRIDE_SLOTS)
		return NULL;
	return shm->base + shm->layout.override_offset + (size_t)slot * HF_SHM_OVERRIDE_SLOT_SIZE;
}

struct hf_shm_override_state *hf_shm_override_state(struct hf_shm *shm)
{
	return &shm->hdr->override;
}

struct hf_shm_override_hits *hf_shm_override_hits(struct hf_shm *shm)
{
	return (struct hf_shm_override_hits *)(void *)(shm->base + shm->layout.override_offset +
						       (size_t)HF_SHM_OVERRIDE_SLOTS *
						       HF_SHM_OVERRIDE_SLOT_SIZE);
}

int hf_shm_give(struct hf_shm *shm, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd, rc = 0;

	if (!shm->dataplane)
		return -EPERM;
	fd = shm_open(shm->name, O_RDWR, 0);
	if (fd < 0)
		return -errno;
	/* The name could have been taken over since we created it: give away
	 * only the object we mapped. */
	if (fstat(fd, &st) != 0)
		rc = -errno;
	else if (st.st_dev != shm->dev || st.st_ino != shm->ino)
		rc = HF_ESHMRETIRED;
	else if (fchown(fd, uid, gid) != 0)
		rc = -errno;
	close(fd);
	return rc;
}
