/*
 * Keeping the dataplane's override rule set equal to the operator's store:
 * convert the store's rules (control/ctl/override_rules.h) to compiler input,
 * compile (control/override/compile.h), publish into the shm region, and
 * retry on a timer while the dataplane has not loaded the previous
 * generation yet (-EAGAIN). Only the newest image is kept: a change made
 * while another waits replaces it. A new region (the dataplane restarted)
 * gets the current set again.
 *
 * Runs on the control plane's loop. The region is asked for at each use
 * (get_shm): a dataplane restart detaches and frees the old one, so no
 * handle is kept across loop turns.
 */
#pragma once

#include <stdint.h>

#include <uv.h>

#include "control/ctl/override_rules.h"
#include "control/override/compile.h"

#define HF_OVR_SYNC_RETRY_MS 1  /*!< publication retry period while the dataplane catches up */

struct hf_ovr_sync;
struct hf_shm;

/*! The attached region right now, or NULL. */
typedef struct hf_shm *(*hf_ovr_sync_shm_fn)(void *ctx);

/*! \return NULL on allocation or timer failure. */
struct hf_ovr_sync *hf_ovr_sync_create(uv_loop_t *loop, hf_ovr_sync_shm_fn get_shm, void *ctx);

/*!
 * \brief Compile the store's rules and publish them (now, or as soon as the
 *        dataplane is ready; with no region attached the image waits for
 *        hf_ovr_sync_attach()).
 * \return 0, or <0 with err set (the running set stays).
 */
int hf_ovr_sync_update(struct hf_ovr_sync *s, const struct hf_override_store *rules, char *err,
		       size_t err_size);

/*! \brief A region was attached (or re-attached): publish the current set into it. */
void hf_ovr_sync_attach(struct hf_ovr_sync *s);

/*! \brief One rule converted and compiled alone (the CLI's check: Hyperscan's own message). */
int hf_ovr_sync_validate(const struct hf_override_rule *rule, char *err, size_t err_size);

/*!
 * \brief Credit the rules in the store with the hits the dataplane counted
 *        since the last call (its hit block, for the generation published).
 */
void hf_ovr_sync_collect(struct hf_ovr_sync *s, struct hf_override_store *rules);

/*! \brief The generation last published (0: none). */
uint64_t hf_ovr_sync_generation(const struct hf_ovr_sync *s);

/*! \brief Stop the timer; frees itself once it has closed. NULL is ignored. */
void hf_ovr_sync_close(struct hf_ovr_sync *s);
