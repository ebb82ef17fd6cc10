/*
 * Stress test of the shared-memory channel with two real processes.
 *
 * The parent plays holdfast-dataplane: it creates the region, produces
 * messages on worker 0's miss ring and consumes worker 0's fill ring. A forked
 * child plays holdfast-control: it attaches like the control plane does,
 * consumes the miss ring and produces on the fill ring. Every message carries
 * its sequence number, its length and a checksum of its payload; lengths vary
 * (mostly small, now and then the largest the slot takes), so each side
 * checks that the other's sequence arrives complete, once, in order and
 * intact.
 *
 * Phase 1 passes --messages messages each way with one child.
 * Phase 2 passes --kill-messages more each way while the parent kills the
 * child with SIGKILL --kills times at random points and forks a new one,
 * which attaches again (taking over the dead one's claim) and resumes where
 * the shared indices say:
 *   - as the miss consumer at the ring's tail. The child records, in a
 *     shared page that outlives it, how far it had verified (before it
 *     acknowledges) and acknowledged (after); the tail must lie between the
 *     two: nothing lost, nothing acknowledged delivered again. Messages
 *     verified but not yet acknowledged when it died are delivered again;
 *     they are counted.
 *   - as the fill producer at the ring's head; whatever it had built but not
 *     published is gone, and the parent must see no gap.
 *
 * Waits are bounded: each side fails with a readable reason if the other
 * makes no progress for --stall seconds, if the child exits unexpectedly or
 * the parent dies (the child also has PR_SET_PDEATHSIG), or if the whole run
 * exceeds --deadline seconds. Exit status 0 means every check passed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/ring.h"
#include "include/holdfast/shm.h"

#define BURST            32U
#define MSG_HDR          16U     /* seq (8), len (4), checksum (4) */
#define TICK_NS          UINT64_C(50000000)    /* heartbeat and watchdog period */
#define NS               1e9

struct options {
	uint64_t messages;       /* phase 1, each way */
	uint64_t kill_messages;  /* phase 2, each way */
	unsigned kills;
	double stall_s;
	double deadline_s;
	uint64_t seed;
	char instance[HF_SHM_INSTANCE_MAX + 1];
};

/* One page shared by the parent and every child; survives a child's death. */
struct progress {
	_Atomic uint64_t miss_target;    /* parent: messages to pass in total */
	_Atomic uint64_t fill_target;
	_Atomic uint64_t miss_verified;  /* child: seqs below were verified (before release) */
	_Atomic uint64_t miss_acked;     /* child: seqs below were acknowledged (after release) */
	_Atomic uint64_t fill_committed; /* child: seqs below were published (after commit) */
	_Atomic uint64_t redelivered;    /* child: unacknowledged messages seen again */
	_Atomic unsigned attaches;       /* child: incarnations that attached */
	struct {
		uint64_t miss_seq;       /* first miss seq it was delivered */
		uint64_t redelivered;    /* of which verified by its predecessor */
		uint64_t fill_seq;       /* first fill seq it published */
	} resumed[32];
	char failure[512];               /* child: why it exited non-zero */
};

static struct options opt = {
	.messages = 10000000,
	.kill_messages = 4000000,
	.kills = 5,
	.stall_s = 10,
	.deadline_s = 55,
	.seed = 0,
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

/* Mostly 16..256 bytes, the largest the slot takes once in ~1000. */
static uint32_t msg_len(uint64_t seq, uint32_t payload_max)
{
	uint64_t h = mix64(seq);

	if (h % 997 == 0)
		return payload_max;
	return MSG_HDR + (uint32_t)((h >> 20) % 241);
}

static uint32_t checksum(const unsigned char *p, uint32_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325) ^ n;
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, sizeof(w));
		h = (h ^ w) * UINT64_C(0x100000001b3);
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return (uint32_t)(h ^ (h >> 32));
}

/* Writes the payload of message seq (len bytes) and returns its type. */
static void msg_build(struct hf_ring_msg *m, uint64_t seq, uint32_t len, uint64_t salt)
{
	uint64_t x = mix64(seq ^ salt) | 1;
	uint32_t i, sum;

	for (i = MSG_HDR; i + 8 <= len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(m->data + i, &x, sizeof(x));
	}
	for (; i < len; i++)
		m->data[i] = (unsigned char)(x >> (8 * (i & 7)));
	sum = checksum(m->data + MSG_HDR, len - MSG_HDR);
	memcpy(m->data, &seq, 8);
	memcpy(m->data + 8, &len, 4);
	memcpy(m->data + 12, &sum, 4);
	m->len = len;
	m->type = (uint16_t)seq;
	m->flags = (uint16_t)(seq >> 16);
}

/* NULL if m is message seq, intact; else the reason. */
static const char *msg_verify(const struct hf_ring_msg *m, uint64_t seq, uint32_t payload_max)
{
	static char why[200];
	uint64_t got_seq;
	uint32_t got_len, got_sum, want_len = msg_len(seq, payload_max);

	if (m->len < MSG_HDR || m->len > payload_max) {
		snprintf(why, sizeof(why), "expected seq %" PRIu64 ", got a message of length %" PRIu32
			 " (type %u)", seq, m->len, m->type);
		return why;
	}
	memcpy(&got_seq, m->data, 8);
	memcpy(&got_len, m->data + 8, 4);
	memcpy(&got_sum, m->data + 12, 4);
	if (got_seq != seq) {
		snprintf(why, sizeof(why), "expected seq %" PRIu64 ", got seq %" PRIu64 " (%s)", seq,
			 got_seq, got_seq < seq ? "duplicate or reordered" : "lost messages");
		return why;
	}
	if (m->len != want_len || got_len != want_len || m->type != (uint16_t)seq ||
	    m->flags != (uint16_t)(seq >> 16)) {
		snprintf(why, sizeof(why), "seq %" PRIu64 ": length %" PRIu32 "/%" PRIu32
			 " type %u flags %u, expected %" PRIu32 " %u %u", seq, m->len, got_len,
			 m->type, m->flags, want_len, (uint16_t)seq, (uint16_t)(seq >> 16));
		return why;
	}
	if (checksum(m->data + MSG_HDR, m->len - MSG_HDR) != got_sum) {
		snprintf(why, sizeof(why), "seq %" PRIu64 ": payload checksum mismatch", seq);
		return why;
	}
	return NULL;
}

static double elapsed_s(uint64_t since_ns)
{
	return (double)(hf_shm_now_ns() - since_ns) / NS;
}

static void ring_state(char *buf, size_t size, const char *what, const struct hf_ring *r)
{
	snprintf(buf, size, "%s ring head %" PRIu64 " tail %" PRIu64, what,
		 atomic_load(&r->head), atomic_load(&r->tail));
}

/* ---- the control side (child) ------------------------------------------ */

__attribute__((format(printf, 2, 3), noreturn))
static void child_fail(struct progress *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->failure, sizeof(p->failure), fmt, ap);
	va_end(ap);
	fprintf(stderr, "stress_shm: control (pid %d): %s\n", (int)getpid(), p->failure);
	_exit(1);
}

static int control_main(struct progress *p, pid_t parent)
{
	char err[256], st1[96], st2[96];
	struct hf_shm *cp = NULL;
	struct hf_ring *miss, *fill;
	uint64_t start = hf_shm_now_ns(), last_progress = start, next_tick = start + TICK_NS;
	uint64_t expect, next_fill, verified, acked, committed;
	uint64_t miss_target = atomic_load(&p->miss_target);
	uint64_t fill_target = atomic_load(&p->fill_target);
	int rc;

	/* Die with the parent rather than spin on a region nobody feeds. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		child_fail(p, "parent died before the child started");

	while ((rc = hf_shm_attach(opt.instance, &cp, err, sizeof(err))) != 0) {
		if ((rc != -EAGAIN && rc != HF_ESHMBUSY) || elapsed_s(start) > opt.stall_s)
			child_fail(p, "attach: %s", err);
		usleep(1000);
	}
	miss = hf_shm_miss_ring(cp, 0);
	fill = hf_shm_fill_ring(cp, 0);

	/* Resume as the miss consumer at tail. Seq n sits at index n. */
	expect = atomic_load(&miss->tail);
	verified = atomic_load(&p->miss_verified);
	acked = atomic_load(&p->miss_acked);
	if (expect > verified)
		child_fail(p, "miss ring tail %" PRIu64 " is past the last verified message %" PRIu64
			   ": messages were acknowledged without being consumed", expect, verified);
	if (expect < acked)
		child_fail(p, "miss ring tail %" PRIu64 " is behind the acknowledged %" PRIu64
			   ": acknowledged messages would be delivered again", expect, acked);
	atomic_fetch_add(&p->redelivered, verified - expect);

	/* Resume as the fill producer at head; the record may lag one burst. */
	next_fill = atomic_load(&fill->head);
	committed = atomic_load(&p->fill_committed);
	if (next_fill < committed || next_fill > committed + BURST)
		child_fail(p, "fill ring head %" PRIu64 " disagrees with the %" PRIu64
			   " messages recorded as published", next_fill, committed);
	atomic_store(&p->fill_committed, next_fill);
	{
		unsigned i = atomic_fetch_add(&p->attaches, 1);

		if (i < HF_ARRAY_SIZE(p->resumed)) {
			p->resumed[i].miss_seq = expect;
			p->resumed[i].redelivered = verified - expect;
			p->resumed[i].fill_seq = next_fill;
		}
	}

	while (expect < miss_target || next_fill < fill_target) {
		const struct hf_ring_msg *in[BURST];
		struct hf_ring_msg *out[BURST];
		unsigned n, want;
		bool moved = false;

		/* Like a real consumer: process the burst message by message,
		 * acknowledge it as a whole. A kill in between leaves messages
		 * verified but not acknowledged. */
		n = hf_ring_peek_burst(miss, in, BURST);
		for (unsigned i = 0; i < n; i++) {
			const char *why = msg_verify(in[i], expect + i, hf_ring_payload_max(miss));

			if (why)
				child_fail(p, "miss ring: %s", why);
			if (expect + i + 1 > verified) {
				verified = expect + i + 1;
				atomic_store_explicit(&p->miss_verified, verified,
						      memory_order_relaxed);
			}
		}
		if (n) {
			hf_ring_release(miss, n);
			expect += n;
			atomic_store(&p->miss_acked, expect);
			moved = true;
		}

		want = fill_target - next_fill < BURST ? (unsigned)(fill_target - next_fill) : BURST;
		n = hf_ring_reserve_burst(fill, out, want);
		for (unsigned i = 0; i < n; i++)
			msg_build(out[i], next_fill + i,
				  msg_len(next_fill + i, hf_ring_payload_max(fill)), 0xf111);
		if (n) {
			hf_ring_commit(fill, n);
			next_fill += n;
			atomic_store(&p->fill_committed, next_fill);
			moved = true;
		}

		if (moved) {
			last_progress = hf_shm_now_ns();
			if (last_progress < next_tick)
				continue;
		} else {
			sched_yield();
		}
		uint64_t now = hf_shm_now_ns();

		if (now < next_tick)
			continue;
		next_tick = now + TICK_NS;
		hf_shm_heartbeat(cp, now);
		if ((rc = hf_shm_check(cp)) != 0)
			child_fail(p, "region check: %s", hf_strerror(rc));
		if (getppid() != parent)
			child_fail(p, "the dataplane (parent) died");
		if ((double)(now - last_progress) / NS > opt.stall_s) {
			ring_state(st1, sizeof(st1), "miss", miss);
			ring_state(st2, sizeof(st2), "fill", fill);
			child_fail(p, "no progress for %.1f s (%s, %s; dataplane heartbeat %.1f s old)",
				   opt.stall_s, st1, st2,
				   (double)hf_shm_peer_age_ns(cp, now) / NS);
		}
	}
	hf_shm_detach(cp);
	return 0;
}

/* ---- the dataplane side (parent) --------------------------------------- */

struct dataplane {
	struct hf_shm *shm;
	struct hf_ring *miss, *fill;
	struct progress *p;
	pid_t child;
	unsigned children;       /* forked so far */
	uint64_t miss_next;      /* next seq to produce */
	uint64_t fill_expect;    /* next seq expected */
	uint64_t run_start;
	unsigned char *stage;    /* BURST miss slots, staged before enqueue */
	struct hf_ring_msg **bufs; /* BURST fill slots, dequeued into */
};

__attribute__((format(printf, 2, 3)))
static int dp_fail(struct dataplane *d, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "stress_shm: FAIL: dataplane: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (d->child > 0) {
		kill(d->child, SIGKILL);
		waitpid(d->child, NULL, 0);
		d->child = 0;
	}
	return 1;
}

static int dp_fork(struct dataplane *d)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return dp_fail(d, "fork: %s", strerror(errno));
	if (pid == 0)
		exit(control_main(d->p, parent));
	d->child = pid;
	d->children++;
	return 0;
}

static const char *describe_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "status %#x", status);
	return buf;
}

/*
 * Runs until `count` more messages have passed each way, killing the child
 * when the miss messages it verified reach each of kill_at[0..kills).
 */
static int dp_phase(struct dataplane *d, uint64_t count, const uint64_t *kill_at, unsigned kills)
{
	uint64_t target = d->miss_next + count;
	uint64_t now, last_progress, next_tick, kill_when = 0;
	unsigned killed = 0;
	char st1[96], st2[96], why[64];
	int status;

	atomic_store(&d->p->miss_target, target);
	atomic_store(&d->p->fill_target, target);
	if (dp_fork(d))
		return 1;
	now = last_progress = hf_shm_now_ns();
	next_tick = now + TICK_NS;

	while (d->child || d->fill_expect < target ||
	       atomic_load(&d->miss->tail) < target) {
		struct hf_ring_iov iov[BURST];
		unsigned n, room;
		bool moved = false;

		/* Produce misses: build only what fits, so nothing is built twice. */
		room = hf_ring_free_count(d->miss);
		if (room > BURST)
			room = BURST;
		if (room > target - d->miss_next)
			room = (unsigned)(target - d->miss_next);
		for (unsigned i = 0; i < room; i++) {
			struct hf_ring_msg *m = (struct hf_ring_msg *)(void *)
				(d->stage + (size_t)i * HF_SHM_MISS_SLOT_SIZE);
			uint64_t seq = d->miss_next + i;

			msg_build(m, seq, msg_len(seq, hf_ring_payload_max(d->miss)), 0x3155);
			iov[i] = (struct hf_ring_iov){ .data = m->data, .len = m->len,
						       .type = m->type, .flags = m->flags };
		}
		n = hf_ring_enqueue_burst(d->miss, iov, room);
		if (n != room)
			return dp_fail(d, "miss ring: enqueued %u of %u messages although %u slots "
				       "were free", n, room, room);
		d->miss_next += n;
		moved |= n > 0;

		/* Consume fills by copy. */
		n = hf_ring_dequeue_burst(d->fill, d->bufs, BURST);
		for (unsigned i = 0; i < n; i++) {
			const char *bad = msg_verify(d->bufs[i], d->fill_expect,
						     hf_ring_payload_max(d->fill));

			if (bad)
				return dp_fail(d, "fill ring: %s", bad);
			d->fill_expect++;
		}
		moved |= n > 0;

		/* Kill the control plane mid-stream, then start a new one: a
		 * random 0..200 us after it passes the kill point, so that the
		 * signal lands anywhere in its loop. */
		if (killed < kills && d->child && !kill_when &&
		    atomic_load_explicit(&d->p->miss_verified, memory_order_relaxed) >= kill_at[killed])
			kill_when = hf_shm_now_ns() + mix64(kill_at[killed]) % 200000;
		if (kill_when && hf_shm_now_ns() >= kill_when) {
			kill_when = 0;
			kill(d->child, SIGKILL);
			if (waitpid(d->child, &status, 0) != d->child)
				return dp_fail(d, "waitpid: %s", strerror(errno));
			d->child = 0;
			if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
				return dp_fail(d, "control exited with %s before it could be killed: %s",
					       describe_status(status, why, sizeof(why)),
					       d->p->failure);
			killed++;
			if (dp_fork(d))
				return 1;
			moved = true;
		}

		now = moved ? hf_shm_now_ns() : 0;
		if (moved) {
			last_progress = now;
			if (now < next_tick)
				continue;
		} else {
			sched_yield();
			now = hf_shm_now_ns();
			if (now < next_tick)
				continue;
		}
		next_tick = now + TICK_NS;
		hf_shm_heartbeat(d->shm, now);
		if (d->child && waitpid(d->child, &status, WNOHANG) == d->child) {
			d->child = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				return dp_fail(d, "control exited with %s: %s",
					       describe_status(status, why, sizeof(why)),
					       d->p->failure[0] ? d->p->failure : "(no reason given)");
		}
		if (!d->child && killed < kills)
			return dp_fail(d, "control finished before it was killed %u times "
				       "(killed %u)", kills, killed);
		if ((double)(now - last_progress) / NS > opt.stall_s) {
			ring_state(st1, sizeof(st1), "miss", d->miss);
			ring_state(st2, sizeof(st2), "fill", d->fill);
			return dp_fail(d, "no progress for %.1f s (%s, %s; control heartbeat %.1f s "
				       "old; produced %" PRIu64 ", received %" PRIu64 ")",
				       opt.stall_s, st1, st2,
				       (double)hf_shm_peer_age_ns(d->shm, now) / NS,
				       d->miss_next, d->fill_expect);
		}
		if (elapsed_s(d->run_start) > opt.deadline_s)
			return dp_fail(d, "run exceeded its deadline of %.0f s", opt.deadline_s);
	}
	if (killed != kills)
		return dp_fail(d, "killed the control %u times, wanted %u", killed, kills);
	/* Everything each way, exactly. */
	if (atomic_load(&d->p->miss_acked) != target || atomic_load(&d->p->miss_verified) != target ||
	    d->fill_expect != target || atomic_load(&d->fill->head) != target)
		return dp_fail(d, "totals differ: miss verified %" PRIu64 " acked %" PRIu64
			       ", fill received %" PRIu64 " published %" PRIu64 ", wanted %" PRIu64,
			       atomic_load(&d->p->miss_verified), atomic_load(&d->p->miss_acked),
			       d->fill_expect, atomic_load(&d->fill->head), target);
	return 0;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--messages N] [--kill-messages N] [--kills K] [--stall S]\n"
		"          [--deadline S] [--seed N] [--instance NAME]\n"
		"  --messages N       phase 1: messages each way (default 10000000)\n"
		"  --kill-messages N  phase 2: messages each way while killing (default 4000000)\n"
		"  --kills K          SIGKILLs of the control process in phase 2 (default 5)\n"
		"  --stall S          fail after S seconds without progress (default 10)\n"
		"  --deadline S       fail if the run takes longer than S seconds (default 55)\n",
		argv0);
}

static int parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "messages", required_argument, NULL, 'm' },
		{ "kill-messages", required_argument, NULL, 'k' },
		{ "kills", required_argument, NULL, 'K' },
		{ "stall", required_argument, NULL, 's' },
		{ "deadline", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 'S' },
		{ "instance", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': opt.messages = strtoull(optarg, NULL, 0); break;
		case 'k': opt.kill_messages = strtoull(optarg, NULL, 0); break;
		case 'K': opt.kills = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's': opt.stall_s = strtod(optarg, NULL); break;
		case 'd': opt.deadline_s = strtod(optarg, NULL); break;
		case 'S': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'i': snprintf(opt.instance, sizeof(opt.instance), "%s", optarg); break;
		default: usage(argv[0]); return -1;
		}
	}
	if (opt.messages == 0 || (opt.kills && opt.kill_messages < 1000U * (opt.kills + 1))) {
		usage(argv[0]);
		return -1;
	}
	if (!opt.instance[0])
		snprintf(opt.instance, sizeof(opt.instance), "stress-%d", (int)getpid());
	if (!opt.seed)
		opt.seed = hf_shm_now_ns();
	return 0;
}

int main(int argc, char **argv)
{
	static alignas(8) unsigned char stage[BURST * HF_SHM_MISS_SLOT_SIZE];
	static alignas(8) unsigned char fills[BURST][HF_SHM_FILL_SLOT_SIZE];
	struct hf_ring_msg *bufs[BURST];
	struct dataplane d = { .stage = stage, .bufs = bufs };
	uint64_t kill_at[16], t0, redelivered;
	double t1, t2;
	char err[256];
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_options(argc, argv) < 0)
		return 2;
	if (opt.kills > HF_ARRAY_SIZE(kill_at))
		opt.kills = HF_ARRAY_SIZE(kill_at);
	for (unsigned i = 0; i < BURST; i++)
		bufs[i] = (struct hf_ring_msg *)(void *)fills[i];

	d.p = mmap(NULL, sizeof(*d.p), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (d.p == MAP_FAILED) {
		perror("stress_shm: mmap");
		return 1;
	}
	rc = hf_shm_create(opt.instance, 1, &d.shm, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "stress_shm: FAIL: %s\n", err);
		return 1;
	}
	d.miss = hf_shm_miss_ring(d.shm, 0);
	d.fill = hf_shm_fill_ring(d.shm, 0);
	printf("stress_shm: region %s (%zu bytes), worker 0: miss ring %u x %u B "
	       "(dataplane -> control), fill ring %u x %u B (control -> dataplane), seed %" PRIu64 "\n",
	       hf_shm_region_name(d.shm), hf_shm_region_size(1), HF_SHM_MISS_SLOTS,
	       HF_SHM_MISS_SLOT_SIZE, HF_SHM_FILL_SLOTS, HF_SHM_FILL_SLOT_SIZE, opt.seed);

	d.run_start = t0 = hf_shm_now_ns();
	rc = dp_phase(&d, opt.messages, NULL, 0);
	t1 = elapsed_s(t0);
	if (rc)
		goto out_destroy;
	printf("phase 1: %" PRIu64 " messages each way in %.2f s (%.2f M msg/s each way), "
	       "complete and in order: OK\n", opt.messages, t1, (double)opt.messages / t1 / 1e6);

	if (opt.kill_messages) {
		/* Kill points spread over the phase, each at a random offset
		 * within its share. */
		uint64_t share = opt.kill_messages / (opt.kills + 1), x = opt.seed;

		for (unsigned i = 0; i < opt.kills; i++) {
			x = mix64(x + i);
			kill_at[i] = d.miss_next + share * (i + 1) - share / 2 + x % (share / 2);
		}
		t0 = hf_shm_now_ns();
		rc = dp_phase(&d, opt.kill_messages, kill_at, opt.kills);
		t2 = elapsed_s(t0);
		if (rc)
			goto out_destroy;
		redelivered = atomic_load(&d.p->redelivered);
		for (unsigned i = 1; i < d.children && i < HF_ARRAY_SIZE(d.p->resumed); i++)
			printf("  control #%u resumed: miss ring at seq %" PRIu64 " (%" PRIu64
			       " verified but unacknowledged by #%u, delivered again), "
			       "fill ring at seq %" PRIu64 "\n", i + 1, d.p->resumed[i].miss_seq,
			       d.p->resumed[i].redelivered, i, d.p->resumed[i].fill_seq);
		printf("phase 2: %" PRIu64 " more each way in %.2f s with %u SIGKILLs of the control "
		       "process (%u attaches in all); %" PRIu64 " unacknowledged messages delivered "
		       "again, none acknowledged; complete and in order: OK\n",
		       opt.kill_messages, t2, opt.kills, d.children, redelivered);
	}
	printf("stress_shm: PASS: %" PRIu64 " messages each way, control generation %" PRIu32
	       ", %.2f s in all\n", d.miss_next, hf_shm_cp_generation(d.shm), elapsed_s(d.run_start));

out_destroy:
	hf_shm_destroy(d.shm);
	munmap(d.p, sizeof(*d.p));
	return rc;
}
