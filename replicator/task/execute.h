/* SPDX-License-Identifier: MPL-2.0 */
/*
 * execute: the Execute phase of the reconciliation task (DESIGN.md 4.2
 * point 3). Sends a plan's requests to the sleds over common/httpc: PUTs first
 * (the body streamed from the staged file, read on a worker so the loop
 * never waits for the disk, Content-Length = length,
 * ?generation=G), then copies (POST .../copy-from-depot?generation=G with
 * the source's depot URL). A request starts only once its depends_on
 * request succeeded and is skipped if that failed. A copy (or re-copy)
 * that no later request of the plan depends on is done once the target
 * accepted it (2xx: copy_ok counts accepted copies); the next
 * activation's list finds its result, so a slow or frozen source never
 * holds the run. A copy that a later request depends on (an epidemic
 * wave) is waited for: it is done when the target lists the hash at G in
 * GET /artifacts (count > 0; a re-copy: on every healthy dataset) or
 * reports it done in GET /copies (which keeps only recent copies),
 * failed when /copies reports it failed (with its reason) or it makes no
 * progress for copy_stall_secs (its dependents are then skipped; every
 * other request proceeds meanwhile). One poller per target. A sled that does not answer at all (refused, reset, timed out)
 * is down for the rest of the run: every request to it, or reading from
 * it, that has not ended fails at once (dependents are skipped), so one
 * bad sled never holds up the others. PUTs together never exceed
 * rate_limit_bps: it is divided evenly among the PUTs running, recomputed
 * whenever one starts or ends; with a cap, only one PUT runs at a time,
 * so each artifact reaches its first holder at the full rate and the
 * sleds start copying it from there while the next one is PUT.
 * Concurrency is capped globally, per target and per source; a 429 waits
 * for Retry-After (capped, with jitter) and is retried at most
 * max_busy_retries times; nothing else is retried: what did not finish is
 * found again by the next activation's list. Every request sent is logged
 * at info and recorded in the status ring and counters. Loop thread only.
 */
#ifndef REPLICATOR_TASK_EXECUTE_H
#define REPLICATOR_TASK_EXECUTE_H

#include <stddef.h>
#include <stdint.h>

struct collect_input;
struct collect_sled;
struct httpc_loop;
struct event_base;
struct execute;
struct plan;
struct status_counters;
struct status_ring;
struct workq;

struct execute_opts {
    struct event_base *base;
    struct httpc_loop *cv;     /* common/httpc loop driver */
    struct workq *wq;          /* reads staged files for PUTs (not the loop) */
    const struct plan *plan;               /* borrowed until done */
    const struct collect_input *ci;        /* artifacts, staged paths */
    const struct collect_sled *sleds;      /* URLs, ids (plan indices) */
    unsigned max_inflight;     /* all requests at once; 0:
                                  execute_auto_inflight() of the plan's
                                  planned sleds */
    unsigned max_per_target;   /* writes to one sled at once; >= 1 */
    unsigned max_per_source;   /* copies read from one sled at once; >= 1 */
    unsigned max_busy_retries; /* 429 retries per request */
    long connect_secs, stall_secs;
    long request_secs;         /* total bound of small requests (copy
                                  POSTs, polls); 0: none */
    uint64_t rate_limit_bps;   /* all PUTs together; 0: no cap */
    long copy_poll_ms;         /* GET /copies interval; 0: 200 */
    long copy_stall_secs;      /* copy without progress: failed; 0: 60 */
    struct status_ring *ring;
    struct status_counters *counters;
    const struct httpc_tls *tls;  /* NULL: plaintext (sledreq_opts) */
    /* Optional: a copy failed because of its source (its error starts
     * with "source ", srcavoid.h): called with the source sled's id. */
    void (*source_failed)(const char *sled_id, void *arg);
    void *source_failed_arg;
};

struct execute_result {
    size_t ok, failed, skipped; /* skipped: a dependency failed */
    size_t busy_retries;        /* 429 answers retried */
    /* artifact bytes of the requests that ended ok: PUTs, and copies and
     * recopies (accepted with 202, or completed when waited for) */
    uint64_t put_bytes, copy_bytes;
};

struct execute;
typedef void (*execute_done_fn)(struct execute *e, void *arg);

/*
 * Start executing. done(e, arg) runs once on the loop when every request
 * ended (also when there is none: then before execute_start returns; *out
 * is set first). Returns 0 or ERR_NOMEM.
 */
int execute_start(struct execute **out, const struct execute_opts *o,
                  execute_done_fn done, void *arg);

/*
 * The automatic limit on requests in flight at once for a run planned for
 * n_planned_sleds sleds: max(EXECUTE_MIN_INFLIGHT, 2 x n_planned_sleds),
 * at most EXECUTE_MAX_INFLIGHT. The per-target and per-source limits
 * bound each sled's load; this one only bounds the controller's open
 * handles, so it grows with the rack. Pure, any thread.
 */
#define EXECUTE_MIN_INFLIGHT 8
#define EXECUTE_MAX_INFLIGHT 1024
unsigned execute_auto_inflight(size_t n_planned_sleds);

/* Outcome so far. */
void execute_result(const struct execute *e, struct execute_result *out);

/* Cancel what runs (no done call) and free. NULL is a no-op. */
void execute_free(struct execute *e);

#endif
