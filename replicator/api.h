/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api: the replicator's HTTP API (DESIGN.md 4.1): repository upload
 * (api_repo.c), list and prune, trust roots. Requests are parsed on the
 * loop thread; database work, hashing, disk writes and verification run on
 * the worker pool (common/workq.h), never on the loop. Loop thread only.
 */
#ifndef REPLICATOR_API_H
#define REPLICATOR_API_H

#include <stdbool.h>
#include <stdint.h>

struct api;
struct task;
struct config;
struct err;
struct event_base;
struct staging;

/*
 * Bind the API on cfg's listen address and start the worker pool; with
 * cfg's --tls-* the listener serves mutual TLS (api_tls.h: revocations
 * from the database) and checks the route roles. cfg and st are borrowed
 * and must outlive the api. Returns 0, ERR_IO (bind, TLS files),
 * ERR_INVAL (address, not a controller certificate), ERR_VERIFY, ERR_DB,
 * ERR_NOMEM, ERR_INTERNAL (threads).
 */
int api_new(struct api **out, struct event_base *base, const struct config *cfg,
            struct staging *st, struct err *err);

/* The bound port. */
/*
 * SIGHUP: reload the TLS certificate, key and CA for new connections
 * (open ones keep theirs) and the revocations from the database. A no-op
 * on --insecure-plaintext. 0 or the reload's error (old state kept).
 */
int api_reload(struct api *a, struct err *err);

uint16_t api_port(const struct api *a);

/* Begin shutdown: stop accepting; new uploads are refused with 503. */
void api_shutdown(struct api *a);

/* Whether no worker task is queued or running. */
bool api_idle(const struct api *a);

/*
 * Attach the reconciliation task (borrowed; it outlives the API): its
 * endpoints (background task, sled registry, generation) and metrics are
 * served, and every committed upload activates it. Loop thread.
 */
void api_set_task(struct api *a, struct task *t);

/* Finish pending work, close connections, free. NULL is a no-op. */
void api_free(struct api *a);

#endif
