/*
 * What operator commands do (holdfastctl → control/ctl/server.c → here):
 * the glue between the control socket's stores and the running resolver
 * and dataplane.
 *
 *  - NTAs: the resolver asks the NTA store on every validated RRset
 *    (hf_resolver_set_nta_lookup()); adding, removing or expiring an NTA
 *    flushes the resolver's caches below the zone and purges the
 *    dataplane's (an ops-ring message), so no client keeps a cached
 *    SERVFAIL or a cached AD. A timer probes each NTA'd zone
 *    (hf_resolver_probe()) and reports when it validates again; with
 *    control.nta-recheck-ends it ends the NTA.
 *  - cache flush: the same two purges, for a name or a subtree.
 *  - stats and status: the link's counters, the dataplane's presence; the
 *    same counters as Prometheus text for the metrics endpoint
 *    (hf_operator_metrics(), control/metrics.h).
 *
 * Purges that cannot be queued (the ops ring is full) are retried on a
 * timer until they are; while no dataplane is attached there is nothing to
 * purge (a dataplane that attaches later starts with an empty cache).
 *
 * Everything runs on the control plane's loop.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "control/ctl/server.h"
#include "control/link.h"
#include "control/resolver.h"

#define HF_OPERATOR_PURGE_BACKLOG 1024  /*!< purges waiting for room on the ops ring */
#define HF_OPERATOR_RETRY_MS      10    /*!< how soon a waiting purge is retried */
#define HF_OPERATOR_HITS_MS       1000  /*!< how often override hit counts are collected */

struct hf_operator;

struct hf_operator_config {
	struct hf_resolver *resolver;
	uint64_t nta_recheck_ms;   /*!< 0: never */
	bool nta_recheck_ends;
};

/*! \return NULL on allocation or timer failure. */
struct hf_operator *hf_operator_create(uv_loop_t *loop, const struct hf_operator_config *cfg);

/*! \brief The hooks to give hf_ctl_server_create(). */
void hf_operator_hooks(struct hf_operator *op, struct hf_ctl_hooks *hooks);

/*!
 * \brief The server is up (its stores loaded) and the link exists: start
 *        answering NTA lookups, and recheck on the timer. link may be
 *        attached later; purges before that are not needed.
 */
void hf_operator_start(struct hf_operator *op, struct hf_ctl_server *ctl, struct hf_link *link);

/*! \brief A region was attached (struct hf_link_config.on_attach, ctx = op): send it the rules. */
void hf_operator_attached(void *ctx, struct hf_shm *shm);

/*!
 * \brief Write the counters `holdfastctl stats` shows as Prometheus samples
 *        (holdfast_<group>_<counter>), the dataplane's per worker too
 *        (holdfast_dataplane_worker_<counter>{worker="N"}), and
 *        holdfast_dataplane_attached (0 or 1).
 */
void hf_operator_metrics(struct hf_operator *op, FILE *out);

/*! \brief Stop the timers (before the resolver, server and link go); frees itself later. */
void hf_operator_close(struct hf_operator *op);
