/*
 * The Prometheus metrics endpoint of holdfast-control
 * (control.metrics-listen): GET /metrics answers the text exposition format
 * (version 0.0.4) with the counters `holdfastctl stats` shows, plus the
 * dataplane's counters per worker.
 *
 * HTTP is libmicrohttpd's (Debian's libmicrohttpd12), on a thread of its own,
 * so a slow or hostile scraper never stalls the event loop that resolves.
 *
 * Threads: the loop thread renders the text (it alone may read the
 * resolver's and the link's counters) and hands it over with
 * hf_metrics_publish() about once a second; the HTTP thread serves the last
 * text handed over. The text is the only shared state, swapped under a
 * mutex: a scrape sees one whole snapshot, at most one period old.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <json-c/json.h>

/*! How often the loop thread renders the text, milliseconds. */
#define HF_METRICS_PERIOD_MS 1000

struct hf_metrics;

/*!
 * \brief Start serving on addr (IPv4 or IPv6, port 0 picks a free one).
 * \return The server, or NULL with err set (e.g. the address is in use).
 *         Until the first hf_metrics_publish() a scrape gets 503.
 */
struct hf_metrics *hf_metrics_start(const struct sockaddr_storage *addr, char *err,
				    size_t err_size);

/*! \brief The port the server listens on. */
uint16_t hf_metrics_port(const struct hf_metrics *m);

/*!
 * \brief Replace the text served (copied). Loop thread.
 * \return 0, or -ENOMEM (the previous text stays).
 */
int hf_metrics_publish(struct hf_metrics *m, const char *text, size_t len);

/*! \brief Stop the server and wait for its thread. NULL is ignored. */
void hf_metrics_stop(struct hf_metrics *m);

/*!
 * \brief Write one sample per number in a JSON object tree: nested keys are
 *        joined with '_' behind prefix, characters a metric name may not
 *        hold become '_', booleans count as 0 and 1, other types are
 *        skipped. {"dataplane": {"cache_hits": 7}} with prefix "holdfast"
 *        gives "holdfast_dataplane_cache_hits 7".
 * \param labels  A label set for every sample ("{worker=\"0\"}"), or NULL.
 */
void hf_metrics_render_json(FILE *out, const char *prefix, const char *labels,
			    json_object *obj);
