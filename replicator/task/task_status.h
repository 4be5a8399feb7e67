/* SPDX-License-Identifier: MPL-2.0 */
/*
 * task_status: the reported state of the reconciliation task (DESIGN.md
 * 4.3): the last finished run's results (counters, per-sled, per-repo,
 * lost artifacts, isolated sleds, held generation, stuck repos, summary),
 * the lifetime
 * totals and the request ring. It is written in one place, at the end of
 * every run (task_status_record_run, task_status_set_summary; the ring by
 * the requests themselves, through status_record), and read in one place
 * (task_status_json, task_metrics, task_status_summary). Loop thread only.
 */
#ifndef REPLICATOR_TASK_TASK_STATUS_H
#define REPLICATOR_TASK_TASK_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"
#include "replicator/task/guard.h"
#include "replicator/task/status.h"
#include "replicator/task/stuck.h"

struct task_run;

struct task_status {
    struct status_counters last_counters;
    struct status_counters lifetime;
    struct status_ring ring;
    json_t *last_summary;      /* summary of the last run, or NULL */
    json_t *last_sleds;        /* per-sled state */
    json_t *last_repos;        /* per-repo completeness */
    json_t *last_lost;         /* lost artifacts */
    json_t *last_isolated;     /* isolated sleds with remedy */
    json_t *last_stuck;        /* stuck repos with their likely cause */
    json_t *last_prune;        /* the pruner's last pass (prune_db.h) */
    json_t *last_grid;         /* sleds x repos (status_grid.h) */
    /* bytes of the artifacts of successful requests since start: PUTs
     * (the controller's link) and copies accepted or completed (the
     * sleds' links; a copy accepted with 202 may still fail later) */
    uint64_t bytes_put, bytes_copy;
    struct stuck_tracker stuck; /* per incomplete repo: convergence clock */
    uint64_t clocks_run;       /* the run whose update stuck holds */
    uint64_t generation;       /* G of the last run */
    size_t local_repos;
    size_t requests_deferred;
    bool last_held;
    char last_held_reason[GUARD_REASON_MAX];
    uint64_t held_generation;
    uint64_t repos_replicated_total;  /* staged repos dropped */
    uint64_t repos_failed_total;      /* repos marked failed */
    uint64_t bogus_total;
    /* The database as the last run found it (issue 11): unreachable
     * (no primary answered), since when, why, and how many runs so far. */
    bool db_unavailable;
    int64_t db_unavailable_since_ms;
    char db_error[ERR_MSG_MAX];
    uint64_t db_unavailable_runs_total;
};

/* Empty status with a ring of STATUS_RING_CAP. Returns 0 or ERR_NOMEM. */
int task_status_init(struct task_status *s);

/* Free what s holds. */
void task_status_release(struct task_status *s);

/*
 * Record the results of the finished run r (everything but its summary):
 * counters and totals always (bogus: the run's bogus list entries), the
 * per-sled, per-repo and guard state when it loaded, and the stuck repos
 * (an incomplete repo whose held copies have not grown for
 * stuck_after_secs, stuck.h) with their likely cause. A rendering that
 * runs out of memory leaves that part empty.
 */
void task_status_record_run(struct task_status *s, const struct task_run *r,
                            uint64_t bogus, uint64_t stuck_after_secs);

/*
 * Move the convergence clocks (s->stuck) with what run r saw, once per
 * run (task_status_record_run does it when this was not called first).
 * Returns 0, or ERR_INVAL (r has no plan: nothing seen) or ERR_NOMEM.
 */
int task_status_clocks(struct task_status *s, const struct task_run *r);

/* The clocks stored in the database replace s's (t is emptied). */
void task_status_adopt_clocks(struct task_status *s, struct stuck_tracker *t);

/*
 * The pruner's report of the last run (prune_db_report_json) becomes
 * prune, a new reference that s takes; NULL (out of memory) keeps the
 * previous one.
 */
void task_status_set_prune(struct task_status *s, json_t *prune);

/* The last run's summary becomes sum (a reference is taken). */
void task_status_set_summary(struct task_status *s, json_t *sum);

/* The last run's summary (borrowed), or NULL before the first run. */
const json_t *task_status_summary(const struct task_status *s);

#endif
