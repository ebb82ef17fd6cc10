/*
 * The shared-memory channel between holdfast-dataplane and holdfast-control.
 *
 * This header is the whole contract between the two processes: the name of
 * the region, its binary layout, who writes what, and the API both link from
 * libholdfast. It uses only C11 atomics and POSIX shm, no DPDK, so that the
 * control plane (an ordinary process) can include it.
 *
 * Objects
 * -------
 * One POSIX shm object per instance, named HF_SHM_NAME_PREFIX + instance
 * ("/holdfast.default" -> /dev/shm/holdfast.default on Linux), mode 0600,
 * owned by the user both processes run as. The dataplane creates it; the
 * control plane attaches to it. There is no other shared object: the rings,
 * the statistics and the override rule sets all live in the region.
 *
 * Region layout (ABI version 3; offsets in bytes; every part starts on a
 * 4 KiB boundary; sizes are those of this build and are recorded in the
 * header so that a peer of another build is refused, not misread):
 *
 *          0  struct hf_shm_header                     4 KiB
 *       4096  ops ring (control -> dataplane)          256 slots x 5120 B
 *    1318912  worker 0 block                           7 MiB (7352320 B):
 *               +0        miss ring (worker -> control) 4096 slots x  512 B
 *               +2101248  fill ring (control -> worker) 1024 slots x 5120 B
 *               +7348224  struct hf_shm_stats           1 KiB
 *               then padding to 4 KiB
 *               worker 1 block, ... up to n_workers (<= HF_SHM_MAX_WORKERS)
 *          W  override part (W = 1318912 + n_workers x 7352320):
 *               +0         slot 0                      32 MiB (HF_SHM_OVERRIDE_SLOT_SIZE)
 *               +33554432  slot 1                      32 MiB
 *               +67108864  struct hf_shm_override_hits  1052672 B (1 MiB + 64, to 4 KiB)
 *
 * hf_shm_region_size() gives the total: 1318912 + n_workers x 7352320 +
 * 68161536 bytes, 80.3 MiB for two workers (tmpfs pages, so RAM, not
 * swap-backed). The region
 * is mapped with MAP_POPULATE by the dataplane so that no worker takes a page
 * fault on its first miss.
 *
 * Slot sizes (each ring's message header takes 8 bytes of the slot):
 *  - miss, 512 B: a question in wire form is at most 255 (name) + 4 (type,
 *    class) bytes; the rest holds the worker's request id, flags (RD, CD,
 *    DO), the client's EDNS buffer size and room for later fields (ECS, a
 *    timestamp) without an ABI bump of the slot. 8 cache lines.
 *  - fill, 5120 B: a pre-rendered answer of up to 4096 bytes (the largest
 *    EDNS buffer we fill to), plus the question it answers (<= 259 bytes) and
 *    the metadata the cache needs (TTL offsets, stale window, rcode/EDE).
 *  - ops, 5120 B: like a fill, because an override operation carries a
 *    rendered answer; NTA and purge operations carry a name and a few fields.
 *  - override slots, 32 MiB each: a whole compiled rule set (see
 *    "include/holdfast/override.h" for its layout and the publication
 *    protocol). Sized for 100 000 subtree rules: 100 000 x 160 B of rule
 *    table (16 MB) plus the serialised Hyperscan database (5.7 MB for
 *    100 000 names of 24 characters, measured with Hyperscan 5.4) plus the
 *    answers, with room to spare. Two slots: the control plane writes the
 *    one the dataplane is not reading while the published one stays whole.
 *    Untouched tmpfs pages cost nothing, but the dataplane maps the region
 *    with MAP_POPULATE, so the whole 65 MiB is resident.
 * Counts are powers of two chosen for memory, not speed: 4096 misses can be
 * outstanding per worker (identical questions are coalesced before they get
 * here), 1024 fills per worker is far more than the control plane resolves
 * between two polls of the worker, and ops are rare.
 *
 * Header layout (struct hf_shm_header; "L" is a 64-byte cache line):
 *
 *   L0    0  u64 magic            HF_SHM_MAGIC            \  frozen in every ABI
 *         8  u32 abi_version      HF_SHM_ABI_VERSION       | version, so that any
 *        12  u32 state            enum hf_shm_state        | build can identify and
 *        16  u64 dp_generation    1, 2, ... per creation   /  retire any region
 *        24  u64 region_size      bytes
 *        32  u32 header_size      sizeof(struct hf_shm_header)
 *        36  u32 n_workers        worker blocks
 *        40  u32 worker_size      bytes per worker block
 *        44  u32 stats_size       sizeof(struct hf_shm_stats)
 *        48  u32 worker_miss_offset, worker_fill_offset, worker_stats_offset
 *   L1   64  u32 miss_slot_size, miss_slot_count, fill_slot_size,
 *            fill_slot_count, ops_slot_size, ops_slot_count
 *   L2-3 128 struct hf_shm_part parts[8]  {u64 offset, u64 size} per part:
 *            [HF_SHM_PART_OPS], [HF_SHM_PART_WORKERS], the rest zero
 *   L4  256  dataplane liveness: u32 dp_pid, u64 dp_heartbeat_ns
 *   L6  384  control liveness:   u64 cp_claim, u64 cp_heartbeat_ns
 *   L8  512  override, control:  u64 published (generation; slot = generation % 2)
 *   L10 640  override, dataplane: u64 loaded, u64 applied, i64 error,
 *            u64 error_generation
 *   L12 768  doorbell:           u32 (a futex word; see "Doorbell" below)
 *       ...  zero up to header_size (4096)
 * (L1 also records override_slot_size and override_slot_count.)
 *
 * Who writes what
 * ---------------
 *  - L0-L3 (identity and layout): the dataplane, once, while creating the
 *    region; after that only `state` changes (READY -> RETIRED). Read-only
 *    for the control plane.
 *  - L4: the dataplane's main thread (pid once, heartbeat periodically).
 *  - L6: the control plane that holds the claim (see below), and a control
 *    plane taking over a dead one's claim.
 *  - ops ring: producer = control, consumer = the dataplane's main lcore.
 *  - miss ring i: producer = worker i, consumer = control.
 *  - fill ring i: producer = control, consumer = worker i.
 *  - L8: the control plane that holds the claim; L10: the dataplane's main
 *    lcore (`applied`: its call_rcu thread). L12: the claiming control plane
 *    (increments); the dataplane's main lcore only reads and waits on it. Override slots: the control
 *    plane, under the rule of "include/holdfast/override.h"; the hit block:
 *    the dataplane's main lcore.
 *  - stats i: worker i only; anyone may read (a monitor such as hf-stats
 *    or holdfastctl uses hf_shm_open_ro(): a PROT_READ mapping that never
 *    touches the claim, so it works next to a running control plane).
 * The per-writer groups sit on separate pairs of cache lines (see
 * "include/holdfast/ring.h" for the rings' own layout).
 *
 * Lifecycle
 * ---------
 *  1. hf_shm_create() (dataplane): if a region of that name exists and its
 *     first 24 bytes carry our magic, mark it RETIRED and continue its
 *     generation; unlink it; create a new object exclusively (O_EXCL; then
 *     fchmod 0600, whatever the umask),
 *     size it, map it, write header and rings with state INIT, then store
 *     state READY with release. A creator refuses (HF_ESHMBUSY) while the
 *     old region's dataplane is alive (see "alive" below) unless that
 *     dataplane is the calling process itself.
 *  2. hf_shm_attach() (control): open, fstat (owner must be us), map, then
 *     validate: magic (HF_ESHMMAGIC; all-zero means "being created":
 *     -EAGAIN), ABI version (HF_ESHMABI), state (INIT: -EAGAIN, RETIRED:
 *     HF_ESHMRETIRED), file size against the header (HF_ESHMSIZE), every
 *     recorded size and offset against this build (HF_ESHMLAYOUT), each
 *     ring's geometry and indices (HF_ESHMLAYOUT, HF_ESHMRING). Then claim.
 *  3. Claim: cp_claim is (cp_generation << 32 | pid). A control plane takes
 *     it with compare-and-swap from a free claim (pid 0) or from a dead
 *     holder, writing its heartbeat first so that no third party ever sees
 *     the new claim with the old, stale heartbeat; cp_generation goes up by
 *     one on every attach. A live holder makes the attach fail with
 *     HF_ESHMBUSY. The dataplane watches cp_generation: when it changes, a
 *     new control plane is there, and questions the old one had taken from a
 *     miss ring but not answered must be sent again.
 *  4. Running: each side calls hf_shm_heartbeat() about every
 *     HF_SHM_HEARTBEAT_NS and hf_shm_check() about as often. The control
 *     plane also calls hf_shm_check() before it drives the rings again after
 *     any pause: it returns HF_ESHMRETIRED once a restarted dataplane has
 *     retired this region (detach, then attach the new one and push NTAs,
 *     overrides and the rest again: the new dataplane starts empty) and
 *     HF_ESHMTAKEN once another control plane has taken the claim (stop
 *     touching the rings at once: they are single-consumer).
 *  5. hf_shm_detach() (control): release the claim (pid 0, generation kept)
 *     and unmap. hf_shm_destroy() (dataplane): mark RETIRED, unlink the name
 *     if it still names this region, unmap.
 *
 * Doorbell
 * --------
 * The dataplane's main lcore sleeps between its periodic jobs (heartbeat,
 * sweeps, statistics), up to HF_SHM_DOORBELL_MAX_SLEEP_NS at a time; it
 * shares a CPU with a worker on small hosts, so it must not wake thousands
 * of times a second just to look at the ops ring. Instead the control plane
 * rings the doorbell after it enqueues an operation or publishes an
 * override rule set (hf_shm_doorbell_ring(): an increment with release,
 * then FUTEX_WAKE), and the main lcore waits on the word
 * (hf_shm_doorbell_wait(): FUTEX_WAIT on the value it read before it last
 * looked at the ring and the override slots). A ring between that read and
 * the wait changes the value, so the wait returns at once: no wake-up is
 * lost. The futex is process-shared (not FUTEX_PRIVATE): both processes map
 * the same tmpfs page. An operator's purge therefore reaches the main lcore
 * in a wake-up's latency (tens of microseconds), not a polling period.
 *
 * "Alive": a side is alive while its pid exists and its heartbeat is younger
 * than HF_SHM_PEER_TIMEOUT_NS. The pid test catches a crash at once; the
 * heartbeat catches a hung process, a reused pid, and a peer in another pid
 * namespace (whose pid means nothing here). hf_shm_peer_alive() on the hot
 * path uses only the heartbeat, which costs no system call.
 *
 * Time: heartbeats are CLOCK_MONOTONIC nanoseconds, which all processes of a
 * host (and time namespace) share. Under libfaketime set
 * DONT_FAKE_MONOTONIC=1, or fake both processes alike.
 *
 * Versioning
 * ----------
 * Any change to the bytes or meaning of anything in this header bumps
 * HF_SHM_ABI_VERSION, and peers of different versions refuse each other;
 * both processes are built from one tree and restarted together on upgrade.
 * New parts take the next entry of parts[] and go after the last part
 * (HF_SHM_PART_OVERRIDE, added in version 2), 4 KiB aligned; the frozen
 * 24-byte prefix lets every build retire every older or newer region.
 */
#pragma once

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "include/holdfast/override.h"
#include "include/holdfast/ring.h"

#define HF_SHM_MAGIC          UINT64_C(0x54534146444c4f48) /*!< "HOLDFAST" in little-endian memory order */
#define HF_SHM_ABI_VERSION    3U
#define HF_SHM_NAME_PREFIX    "/holdfast."   /*!< object name = prefix + instance */
#define HF_SHM_INSTANCE_MAX   64             /*!< longest instance name, bytes */
#define HF_SHM_NAME_SIZE      (sizeof(HF_SHM_NAME_PREFIX) + HF_SHM_INSTANCE_MAX) /*!< buffer for a name, with NUL */
#define HF_SHM_ALIGN          4096U          /*!< every part starts on a page boundary */
#define HF_SHM_HEADER_SIZE    4096U          /*!< bytes reserved for struct hf_shm_header */
#define HF_SHM_MAX_WORKERS    128U           /*!< most worker blocks in one region */

#define HF_SHM_MISS_SLOT_SIZE 512U           /*!< bytes per miss slot (question + request data) */
#define HF_SHM_MISS_SLOTS     4096U          /*!< miss slots per worker */
#define HF_SHM_FILL_SLOT_SIZE 5120U          /*!< bytes per fill slot (answer <= 4096 + metadata) */
#define HF_SHM_FILL_SLOTS     1024U          /*!< fill slots per worker */
#define HF_SHM_OPS_SLOT_SIZE  5120U          /*!< bytes per ops slot (an override carries an answer) */
#define HF_SHM_OPS_SLOTS      256U           /*!< slots of the one ops ring */
#define HF_SHM_OVERRIDE_SLOT_SIZE (32U << 20) /*!< bytes per override slot (a whole rule set) */
#define HF_SHM_OVERRIDE_SLOTS 2U             /*!< override slots (double buffer) */

#define HF_SHM_PART_MAX       8U             /*!< entries in the header's part table */
#define HF_SHM_STATS_MAX      128U           /*!< counters per worker statistics block */

#define HF_SHM_HEARTBEAT_NS   UINT64_C(100000000)  /*!< suggested heartbeat period: 100 ms */
#define HF_SHM_PEER_TIMEOUT_NS UINT64_C(2000000000) /*!< a heartbeat older than 2 s means the side is dead */
#define HF_SHM_DOORBELL_MAX_SLEEP_NS UINT64_C(10000000) /*!< longest doorbell wait of the dataplane: 10 ms */

/*! Region state, header bytes 12..15. */
enum hf_shm_state {
	HF_SHM_STATE_INIT = 0,    /*!< being created; attach answers -EAGAIN */
	HF_SHM_STATE_READY = 1,   /*!< in use */
	HF_SHM_STATE_RETIRED = 2, /*!< replaced or shut down: detach and attach again */
};

/*! Entries of the header's part table. */
enum hf_shm_part_id {
	HF_SHM_PART_OPS = 0,      /*!< the ops ring */
	HF_SHM_PART_WORKERS = 1,  /*!< n_workers worker blocks of worker_size bytes */
	HF_SHM_PART_OVERRIDE = 2, /*!< two override slots, then the hit block */
	HF_SHM_PART_COUNT,        /*!< parts in this ABI version; later entries are zero */
};

/*! Where one part of the region is. */
struct hf_shm_part {
	uint64_t offset;          /*!< from the start of the region, HF_SHM_ALIGN-aligned */
	uint64_t size;            /*!< bytes */
};

/*! The region's header; see the layout at the top of this file. */
struct hf_shm_header {
	/* L0: identity. Bytes 0..23 keep this meaning in every ABI version. */
	_Atomic uint64_t magic;
	uint32_t abi_version;
	_Atomic uint32_t state;              /* enum hf_shm_state */
	uint64_t dp_generation;
	uint64_t region_size;
	uint32_t header_size;
	uint32_t n_workers;
	uint32_t worker_size;
	uint32_t stats_size;
	uint32_t worker_miss_offset;         /* within a worker block */
	uint32_t worker_fill_offset;
	uint32_t worker_stats_offset;
	/* L1: ring geometry of this build. */
	alignas(64) uint32_t miss_slot_size;
	uint32_t miss_slot_count;
	uint32_t fill_slot_size;
	uint32_t fill_slot_count;
	uint32_t ops_slot_size;
	uint32_t ops_slot_count;
	uint32_t override_slot_size;
	uint32_t override_slot_count;
	/* L2-L3: part table. */
	alignas(64) struct hf_shm_part parts[HF_SHM_PART_MAX];
	/* L4-L5: dataplane liveness, written by the dataplane. */
	alignas(128) _Atomic uint32_t dp_pid;
	_Atomic uint64_t dp_heartbeat_ns;
	/* L6-L7: control liveness, written by the claiming control plane. */
	alignas(128) _Atomic uint64_t cp_claim; /* cp_generation << 32 | pid; pid 0 = free */
	_Atomic uint64_t cp_heartbeat_ns;
	/* L8-L11: override publication ("include/holdfast/override.h"). */
	alignas(128) struct hf_shm_override_state {
		/*! Control: the newest generation published (slot = generation % 2). */
		_Atomic uint64_t published;
		/*! Dataplane main lcore: newest generation read out of its slot. */
		alignas(128) _Atomic uint64_t loaded;
		/*! Dataplane call_rcu thread: newest generation every worker uses. */
		_Atomic uint64_t applied;
		/*! Dataplane: why error_generation was refused (negative code), or 0. */
		_Atomic int64_t error;
		_Atomic uint64_t error_generation;
	} override;
	/* L12-L13: the doorbell (a futex word), rung by the control plane. */
	alignas(128) _Atomic uint32_t doorbell;
};

_Static_assert(offsetof(struct hf_shm_header, state) == 12, "frozen prefix");
_Static_assert(offsetof(struct hf_shm_header, dp_generation) == 16, "frozen prefix");
_Static_assert(offsetof(struct hf_shm_header, worker_stats_offset) == 56, "L0 layout");
_Static_assert(offsetof(struct hf_shm_header, miss_slot_size) == 64, "L1 layout");
_Static_assert(offsetof(struct hf_shm_header, parts) == 128, "L2 layout");
_Static_assert(offsetof(struct hf_shm_header, dp_pid) == 256, "L4 layout");
_Static_assert(offsetof(struct hf_shm_header, cp_claim) == 384, "L6 layout");
_Static_assert(offsetof(struct hf_shm_header, override_slot_size) == 88, "L1 layout");
_Static_assert(offsetof(struct hf_shm_header, override.published) == 512, "L8 layout");
_Static_assert(offsetof(struct hf_shm_header, override.loaded) == 640, "L10 layout");
_Static_assert(offsetof(struct hf_shm_header, doorbell) == 768, "L12 layout");
_Static_assert(sizeof(struct hf_shm_header) <= HF_SHM_HEADER_SIZE, "header fits its page");

/*!
 * Per-worker counters, indices into struct hf_shm_stats.counter. Adding one
 * is an ABI change like any other (bump HF_SHM_ABI_VERSION); the block has
 * room for HF_SHM_STATS_MAX without moving anything else.
 */
enum hf_shm_stat {
	HF_STAT_LOOPS,            /*!< worker loop turns */
	HF_STAT_RX_PACKETS,       /*!< packets received */
	HF_STAT_TX_PACKETS,       /*!< packets sent */
	HF_STAT_CACHE_HITS,       /*!< questions answered from the cache */
	HF_STAT_CACHE_MISSES,     /*!< questions not in the cache */
	HF_STAT_STALE_ANSWERS,    /*!< answers served stale (RFC 8767) */
	HF_STAT_MISS_SENT,        /*!< messages put on the miss ring */
	HF_STAT_MISS_RING_FULL,   /*!< misses dropped because the ring was full */
	HF_STAT_FILLS_RECEIVED,   /*!< messages taken from the fill ring */
	HF_STAT_BAD_MESSAGES,     /*!< ring messages that failed validation */
	/* The fast path (dataplane/worker.c). */
	HF_STAT_BUSY_CYCLES,      /*!< TSC cycles spent on non-empty bursts */
	HF_STAT_DNS_QUERIES,      /*!< DNS queries received */
	HF_STAT_DNS_ANSWERS,      /*!< DNS responses sent (all rcodes) */
	HF_STAT_TRUNCATED,        /*!< answers sent with TC=1 */
	HF_STAT_COALESCED,        /*!< misses that joined an outstanding question */
	HF_STAT_FILLS_UNCLAIMED,  /*!< fills whose question had already timed out */
	HF_STAT_CACHE_INSERT_FAIL,/*!< fills not cached (full cache, no memory) */
	HF_STAT_SERVFAIL_TIMEOUT, /*!< SERVFAIL: no fill within the resolution timeout */
	HF_STAT_SERVFAIL_BUSY,    /*!< SERVFAIL: too many outstanding questions or waiters */
	HF_STAT_SERVFAIL_NO_CONTROL, /*!< SERVFAIL: control plane not running */
	HF_STAT_ARP_REPLIES,      /*!< ARP replies sent */
	HF_STAT_ICMP_REPLIES,     /*!< ICMP and ICMPv6 echo replies sent */
	HF_STAT_ND_ADVERTS,       /*!< neighbour advertisements sent */
	HF_STAT_EXCEPTION_TX,     /*!< frames handed to the exception path */
	HF_STAT_OTHER_DROPPED,    /*!< frames for the host dropped: no exception path */
	HF_STAT_TX_DROPPED,       /*!< frames the port would not take */
	/* Why queries did not reach the cache: enum hf_query_reason, in order. */
	HF_STAT_Q_SHORT,
	HF_STAT_Q_RESPONSE,
	HF_STAT_Q_MALFORMED,
	HF_STAT_Q_QDCOUNT,
	HF_STAT_Q_OPCODE,
	HF_STAT_Q_BADVERS,
	HF_STAT_Q_CLASS,
	HF_STAT_Q_QTYPE,
	/* Why frames were dropped or handed on: enum hf_net_reason, in order. */
	HF_STAT_NET_SHORT,
	HF_STAT_NET_VLAN_DEPTH,
	HF_STAT_NET_IP_VERSION,
	HF_STAT_NET_IP_HLEN,
	HF_STAT_NET_IP_LEN,
	HF_STAT_NET_IP_CSUM,
	HF_STAT_NET_MULTISEG,
	HF_STAT_NET_UDP_LEN,
	HF_STAT_NET_ARP_FORMAT,
	HF_STAT_NET_ND_INVALID,
	HF_STAT_NET_NOT_OUR_MAC,
	HF_STAT_NET_NOT_OURS,
	HF_STAT_NET_BAD_SRC,
	HF_STAT_NET_FRAGMENT,
	HF_STAT_NET_SRC_PORT,
	HF_STAT_NET_ETHERTYPE,
	HF_STAT_NET_ARP_OP,
	HF_STAT_NET_MCAST,
	HF_STAT_NET_IP6_EXTHDR,
	HF_STAT_NET_L4_PROTO,
	HF_STAT_NET_UDP_PORT,
	HF_STAT_NET_ICMP_TYPE,
	HF_STAT_STALE_REFRESHES,  /*!< refreshes of an expired entry sent to the control plane */
	HF_STAT_OVERRIDE_HITS,    /*!< queries an override rule answered (or dropped) */
	HF_STAT_STALE_FAILED,     /*!< ... that failed (failure-recheck timer started) */
	HF_STAT_COUNT,            /*!< number of defined counters */
};

_Static_assert(HF_STAT_COUNT <= HF_SHM_STATS_MAX, "counters fit the block");

/*! One worker's statistics: written only by that worker, read by anyone. */
struct hf_shm_stats {
	alignas(HF_RING_PAIR) _Atomic uint64_t counter[HF_SHM_STATS_MAX];
};

_Static_assert(sizeof(struct hf_shm_stats) == 1024, "stats block is 1 KiB");

/*!
 * The override hit block (after the two slots): per-rule hit counts, summed
 * over the workers by the dataplane's main lcore, of the set it applied.
 * Readers: load generation (acquire), the counts, generation again; retry if
 * it changed.
 */
struct hf_shm_override_hits {
	_Atomic uint64_t generation;  /*!< set the counts belong to; 0: none yet */
	_Atomic uint64_t n_rules;     /*!< counts that are valid */
	uint64_t reserved[6];
	_Atomic uint64_t hits[HF_OVR_MAX_RULES]; /*!< by rule index of that set */
};

_Static_assert(sizeof(struct hf_shm_override_hits) == 64 + 8 * HF_OVR_MAX_RULES,
	       "hit block layout");

/*! A process's handle on a mapped region (process-local, opaque). */
struct hf_shm;

/*!
 * \brief Add to a worker's counter.
 *
 * Only the worker that owns the block may call it: the counter has a single
 * writer, so a relaxed load and store replace a locked read-modify-write.
 */
static inline void hf_shm_stat_add(struct hf_shm_stats *s, enum hf_shm_stat i, uint64_t n)
{
	atomic_store_explicit(&s->counter[i],
			      atomic_load_explicit(&s->counter[i], memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/*!
 * \brief Read a worker's counter (any process, any thread).
 */
static inline uint64_t hf_shm_stat_get(const struct hf_shm_stats *s, enum hf_shm_stat i)
{
	return atomic_load_explicit(&s->counter[i], memory_order_relaxed);
}

/*!
 * \brief Name of a counter, for holdfastctl and metrics ("cache_hits").
 *
 * \return A static string, or NULL if i is not a defined counter.
 */
const char *hf_shm_stat_name(unsigned i);

/*!
 * \brief CLOCK_MONOTONIC in nanoseconds, the time base of heartbeats.
 */
uint64_t hf_shm_now_ns(void);

/*!
 * \brief Object name of an instance's region: HF_SHM_NAME_PREFIX + instance.
 *
 * \param buf       receives the name; HF_SHM_NAME_SIZE bytes are enough.
 * \param size      size of buf.
 * \param instance  1..HF_SHM_INSTANCE_MAX characters of [A-Za-z0-9._-].
 * \return 0; -EINVAL for a bad instance name; -ENAMETOOLONG if buf is small.
 */
int hf_shm_name(char *buf, size_t size, const char *instance);

/*!
 * \brief Bytes of a region with n_workers workers in this build.
 *
 * \return The size, or 0 if n_workers is not in [1, HF_SHM_MAX_WORKERS].
 */
size_t hf_shm_region_size(unsigned n_workers);

/*!
 * \brief Create the region (dataplane).
 *
 * Retires and unlinks a previous region of the same name (see "Lifecycle"),
 * then creates, sizes, populates and initialises a new one. Call once, from
 * the dataplane's main thread, before the workers start.
 *
 * Returns an int rather than a pointer (unlike other constructors) because
 * the caller must tell "another dataplane runs" from "no permission" from
 * "out of memory".
 *
 * \param instance   instance name (see hf_shm_name()).
 * \param n_workers  worker blocks, 1..HF_SHM_MAX_WORKERS.
 * \param out        receives the handle on success.
 * \param err        if not NULL, receives a one-line reason on failure,
 *                   starting with "shm /holdfast.<instance>: ".
 * \param err_size   size of err.
 * \return 0; HF_ESHMBUSY if a live dataplane (another process) holds the
 *         region; -EINVAL for bad arguments; another negative errno from
 *         shm_open/ftruncate/mmap.
 */
int hf_shm_create(const char *instance, unsigned n_workers, struct hf_shm **out,
		  char *err, size_t err_size);

/*!
 * \brief Attach to the region and claim the control side (control plane).
 *
 * Validates everything listed under "Lifecycle" before touching any ring.
 * -EAGAIN and -ENOENT mean "retry later" (the dataplane is starting or not
 * running); HF_ESHMRETIRED too (a new region is about to appear).
 *
 * \param instance  instance name (see hf_shm_name()).
 * \param out       receives the handle on success.
 * \param err       if not NULL, receives a one-line reason on failure, e.g.
 *                  "shm /holdfast.x: ABI version 3, this build speaks 1".
 * \param err_size  size of err.
 * \return 0; HF_ESHMMAGIC, HF_ESHMABI, HF_ESHMSIZE, HF_ESHMLAYOUT,
 *         HF_ESHMRING for a region this build must not use; HF_ESHMBUSY if
 *         a live control plane holds the claim; HF_ESHMRETIRED; -EAGAIN;
 *         -EPERM if another user owns the object; another negative errno.
 */
int hf_shm_attach(const char *instance, struct hf_shm **out, char *err, size_t err_size);

/*!
 * \brief Open the region read-only, without claiming anything (monitors).
 *
 * For readers of the statistics and the header (hf-stats, holdfastctl) that
 * must work while a control plane holds the claim. Validates the region
 * exactly as hf_shm_attach() does (same return codes, except that it never
 * answers HF_ESHMBUSY), but opens the object O_RDONLY, maps it PROT_READ and
 * never writes to it: the claim, the heartbeats and the rings are left
 * alone. On the handle it returns:
 *  - hf_shm_stats(), hf_shm_header(), hf_shm_n_workers(), the generations,
 *    hf_shm_peer_age_ns() (age of the dataplane's heartbeat) and
 *    hf_shm_check() (HF_ESHMRETIRED once the region is retired; never
 *    HF_ESHMTAKEN) work as on a control plane's handle;
 *  - hf_shm_heartbeat() returns -EPERM and writes nothing;
 *  - the ring accessors return pointers into read-only memory: producing or
 *    consuming through them faults (SIGSEGV). Do not use them.
 * Release the handle with hf_shm_detach(), which then releases no claim.
 *
 * \param instance  instance name (see hf_shm_name()).
 * \param out       receives the handle on success.
 * \param err       if not NULL, receives a one-line reason on failure.
 * \param err_size  size of err.
 * \return 0; HF_ESHMMAGIC, HF_ESHMABI, HF_ESHMSIZE, HF_ESHMLAYOUT,
 *         HF_ESHMRING; HF_ESHMRETIRED; -EAGAIN; -ENOENT if no dataplane
 *         runs; -EPERM if another user owns the object; another negative
 *         errno.
 */
int hf_shm_open_ro(const char *instance, struct hf_shm **out, char *err, size_t err_size);

/*!
 * \brief Give the region to the user the control plane runs as (dataplane).
 *
 * Deployment rule: the control plane drops to instance.user before it
 * attaches, so the region (mode 0600) must belong to that user; a dataplane
 * running as root calls this right after hf_shm_create().
 *
 * \return 0; -EPERM on a control plane's handle; HF_ESHMRETIRED if the name
 *         no longer names this region; another negative errno.
 */
int hf_shm_give(struct hf_shm *shm, uid_t uid, gid_t gid);

/*!
 * \brief Unmap the region and free the handle.
 *
 * A control plane releases its claim first (if it still holds it), so that
 * the next control plane may attach at once. A dataplane leaves the region
 * in place (use hf_shm_destroy() to take it down). NULL is ignored.
 */
void hf_shm_detach(struct hf_shm *shm);

/*!
 * \brief Retire and unlink the region, then detach (dataplane).
 *
 * The name is unlinked only if it still names this region, so a dataplane
 * that was replaced does not remove its successor's. On a control plane's
 * handle this is hf_shm_detach(). NULL is ignored.
 */
void hf_shm_destroy(struct hf_shm *shm);

/*!
 * \brief Publish this side's heartbeat.
 *
 * Call about every HF_SHM_HEARTBEAT_NS from one thread of the process.
 *
 * \param shm     the handle.
 * \param now_ns  hf_shm_now_ns(), possibly cached by the caller's loop.
 * \return 0; HF_ESHMTAKEN if this control plane has lost its claim (nothing
 *         is written); -EPERM on a read-only handle (hf_shm_open_ro()).
 */
int hf_shm_heartbeat(struct hf_shm *shm, uint64_t now_ns);

/*!
 * \brief Is this handle still the one to use?
 *
 * \return 0; HF_ESHMRETIRED if the region was retired (a new dataplane runs,
 *         or this one shut down); HF_ESHMTAKEN if another control plane took
 *         this one's claim.
 */
int hf_shm_check(const struct hf_shm *shm);

/*!
 * \brief Control plane: wake the dataplane's main lcore (see "Doorbell").
 *
 * Call after enqueuing on the ops ring or publishing an override set. Costs
 * a system call; operations are rare. Does nothing on a read-only handle.
 */
void hf_shm_doorbell_ring(struct hf_shm *shm);

/*!
 * \brief Dataplane: the doorbell's value, to pass to hf_shm_doorbell_wait()
 *        after looking at everything the control plane may have rung for.
 */
uint32_t hf_shm_doorbell_peek(const struct hf_shm *shm);

/*!
 * \brief Dataplane: sleep until the doorbell moves past `seen` or timeout_ns
 *        passes (whichever comes first; a signal also ends the wait).
 *
 * \return 0 (rung, or the value had already moved), -ETIMEDOUT, -EINTR.
 */
int hf_shm_doorbell_wait(struct hf_shm *shm, uint32_t seen, uint64_t timeout_ns);

/*!
 * \brief Age of the other side's heartbeat.
 *
 * \return Nanoseconds since the peer's last heartbeat (0 if it is in the
 *         future), or UINT64_MAX if there is no peer (no control plane holds
 *         the claim, or the dataplane has retired the region).
 */
uint64_t hf_shm_peer_age_ns(const struct hf_shm *shm, uint64_t now_ns);

/*!
 * \brief Is the other side alive, by its heartbeat alone (no system call)?
 *
 * \return true if its heartbeat is younger than HF_SHM_PEER_TIMEOUT_NS.
 */
bool hf_shm_peer_alive(const struct hf_shm *shm, uint64_t now_ns);

/*!
 * \brief The mapped header (read-only view, e.g. for holdfastctl status).
 */
const struct hf_shm_header *hf_shm_header(const struct hf_shm *shm);

/*!
 * \brief The object name of the region ("/holdfast.<instance>").
 */
const char *hf_shm_region_name(const struct hf_shm *shm);

/*!
 * \brief Number of worker blocks.
 */
unsigned hf_shm_n_workers(const struct hf_shm *shm);

/*!
 * \brief This dataplane generation (1 for the first region of a name).
 */
uint64_t hf_shm_dp_generation(const struct hf_shm *shm);

/*!
 * \brief The control plane's generation: 0 before the first attach, then
 *        one more per attach. The dataplane polls it to notice a restart.
 */
uint32_t hf_shm_cp_generation(const struct hf_shm *shm);

/*!
 * \brief Worker's miss ring (producer: that worker; consumer: control).
 *
 * \return The ring, or NULL if worker >= hf_shm_n_workers().
 */
struct hf_ring *hf_shm_miss_ring(struct hf_shm *shm, unsigned worker);

/*!
 * \brief Worker's fill ring (producer: control; consumer: that worker).
 *
 * \return The ring, or NULL if worker >= hf_shm_n_workers().
 */
struct hf_ring *hf_shm_fill_ring(struct hf_shm *shm, unsigned worker);

/*!
 * \brief The ops ring (producer: control; consumer: the dataplane's main lcore).
 */
struct hf_ring *hf_shm_ops_ring(struct hf_shm *shm);

/*!
 * \brief Worker's statistics block (writer: that worker).
 *
 * \return The block, or NULL if worker >= hf_shm_n_workers().
 */
struct hf_shm_stats *hf_shm_stats(struct hf_shm *shm, unsigned worker);

/*!
 * \brief One of the two override slots (HF_SHM_OVERRIDE_SLOT_SIZE bytes).
 *
 * Writer: the control plane, under the rule of "include/holdfast/override.h";
 * reader: the dataplane's main lcore.
 *
 * \return The slot, or NULL if slot >= HF_SHM_OVERRIDE_SLOTS.
 */
void *hf_shm_override_slot(struct hf_shm *shm, unsigned slot);

/*!
 * \brief The override publication state in the header (see struct
 *        hf_shm_override_state for who writes which field).
 */
struct hf_shm_override_state *hf_shm_override_state(struct hf_shm *shm);

/*!
 * \brief The override hit block (writer: the dataplane's main lcore).
 */
struct hf_shm_override_hits *hf_shm_override_hits(struct hf_shm *shm);
