/* SPDX-License-Identifier: MPL-2.0 */
/*
 * task: the replicator's reconciliation background task
 * `tuf_artifact_replication` (DESIGN.md 4.2, 4.3). Owns its activation
 * (periodic with a configurable period that can be turned off, after
 * every upload, by hand; activations during a run coalesce into one more
 * run; the reason is passed to the run and reported), the run state
 * machine (idle -> loading -> collecting -> executing -> finishing ->
 * idle, one transition function logging old->new), the mass-deletion
 * guard, staged-repo drops, lost-artifact marking, the pushed-config
 * record and the status (counters, ring buffer, per-sled and per-repo
 * state). Database work runs on the task's own job runner
 * (replicator/jobs.h: a connection kept per worker); everything
 * else on the loop thread of the event_base given to task_new. The API
 * handlers (api_task.c, api_sled.c) use task_job() for their database
 * work. Loop thread only, unless a function says otherwise.
 */
#ifndef REPLICATOR_TASK_TASK_H
#define REPLICATOR_TASK_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/httpc.h"
#include "replicator/task/plan.h"

struct buf;
struct httpc_loop;
struct db;
struct err;
struct event_base;
struct staging;
struct task;

enum task_reason {
    TASK_REASON_PERIODIC = 0,
    TASK_REASON_UPLOAD,       /* a repository was uploaded */
    TASK_REASON_MANUAL,       /* POST .../activate, `replicator activate` */
    TASK_REASON_STARTUP,
    TASK_REASON_GENERATION,   /* bump-past-fleet or confirm */
    TASK_REASON_SLED,         /* a new sled registered */
    TASK_REASON_COUNT
};

struct task_config {
    const char *db;                /* libpq conninfo (borrowed) */
    uint64_t period_secs;          /* periodic activation period */
    bool periodic;                 /* false: manual/upload activations only */
    uint32_t min_sled_replication; /* default 3; never from the sled count */
    struct plan_limits limits;     /* per-plan totals (plan.h) */
    /* Requests in flight at once; 0 (the default): automatic,
     * execute_auto_inflight() of the sleds planned for, in each run. */
    unsigned max_inflight;
    unsigned max_per_target;       /* writes to one sled at once (2) */
    unsigned max_per_source;       /* copies read from one sled at once (2) */
    unsigned max_busy_retries;     /* 429 retries per request (3) */
    long connect_secs;             /* 2 */
    long stall_secs;               /* no-progress bound of a request (30) */
    long request_secs;             /* total bound of a small request:
                                      config, list, copy POST, polls (5) */
    uint64_t rate_limit_bps;       /* all PUTs together, bytes/s; 0: none.
                                      When set, one PUT at a time. */
    long copy_stall_secs;          /* no-progress bound of a copy (60) */
    long copy_poll_ms;             /* GET /copies interval (200) */
    uint32_t guard_permille;       /* hold above this fraction (500) */
    uint64_t lost_grace_secs;      /* lost that long -> repo failed (300) */
    /* An incomplete repo whose held copies have not grown for that long
     * is reported stuck (STUCK_AFTER_DEFAULT_SECS, 20 min; stuck.h). */
    uint64_t stuck_after_secs;
    /* The automatic pruner (replicator/db/prune_db.h): each periodic run
     * and the start-up run first make one pass keeping the newest
     * prune_keep uploads (PRUNE_KEEP_DEFAULT, 3); other runs only report
     * what it would do. */
    uint32_t prune_keep;
    unsigned workers;              /* database worker threads (2) */
    uint64_t seed;                 /* planner seed; 0: random per run */
    /* Sleds are reached over mutual TLS: an inventory counts toward
     * min_sled_replication only from a sled whose verified identity is
     * its id (inv_trust.h). false (plaintext): every inventory counts. */
    bool peers_authenticated;
    /* Mutual TLS to the sleds: our CA, certificate and key (borrowed;
     * NULL: plaintext http://). Every sled must present the certificate
     * of the id the database has for it. */
    struct httpc_tls tls;
};

/* Fill c with the defaults above (db NULL, periodic, period 300). */
void task_config_default(struct task_config *c);

/* "periodic", "upload", "manual", "startup", "generation", "sled". */
const char *task_reason_name(enum task_reason r);

/*
 * New task bound to base; cfg is copied (cfg->db is borrowed), st
 * borrowed; both must outlive the task. Does not activate. Returns 0,
 * ERR_INVAL (no db, min_sled_replication 0), ERR_NOMEM, ERR_INTERNAL.
 */
int task_new(struct task **out, struct event_base *base,
             const struct task_config *cfg, struct staging *st,
             struct err *err);

/* Arm the periodic timer (if periodic) and activate once (startup).
 * Returns 0 or ERR_NOMEM. */
int task_start(struct task *t);

/* Activate: start a run now, or coalesce into one more run. */
void task_activate(struct task *t, enum task_reason reason);

/*
 * Called once the run that covers an activation made now has finished,
 * with that run's summary (borrowed) or NULL when the task was freed
 * first.
 */
typedef void (*task_wait_fn)(const json_t *summary, void *arg);

/* Activate with reason and call fn(summary, arg) when the run covering
 * it ends. Returns 0 or ERR_NOMEM (not activated). */
int task_activate_wait(struct task *t, enum task_reason reason,
                       task_wait_fn fn, void *arg);

/*
 * Status JSON (DESIGN.md 4.3; docs/REPLICATION.md lists the fields), with
 * the ring buffer newest first from ring_offset, at most ring_limit
 * entries. New reference, NULL on ERR_NOMEM.
 */
json_t *task_status_json(struct task *t, size_t ring_offset,
                         size_t ring_limit);

/* Append the task's Prometheus metrics to out. 0 or ERR_NOMEM. */
int task_metrics(struct task *t, struct buf *out);

/* Database job: fn on a worker with that worker's connection (kept
 * across jobs, outside any transaction), then done on the loop; when no
 * connection could be opened fn is skipped and done gets ERR_DB. */
typedef int (*task_job_fn)(struct db *db, void *arg, struct err *err);
typedef void (*task_job_done_fn)(int rc, const struct err *err, void *arg);

/* Queue a database job. Returns 0 or ERR_NOMEM (nothing queued). */
int task_job(struct task *t, task_job_fn fn, task_job_done_fn done,
             void *arg);

/* The loop's HTTP client driver (for the generation endpoints). */
struct httpc_loop *task_http_loop(struct task *t);

/* The configuration in use. */
const struct task_config *task_config(const struct task *t);

/* Stop activating (shutdown): runs in progress still finish. */
void task_shutdown(struct task *t);

/* Whether no run and no job is in progress. */
bool task_idle(const struct task *t);

/* Cancel what runs, finish queued jobs, free. Waiters get NULL. NULL is a
 * no-op. */
void task_free(struct task *t);

#endif
