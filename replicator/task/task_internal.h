/* SPDX-License-Identifier: MPL-2.0 */
/*
 * task_internal: the task record shared by task.c (the task's life,
 * activation, jobs), task_run.c (a run's state, start, finish and end),
 * task_flow.c (a run's phases: load, guard, collect, plan, execute),
 * task_report.c (the end-of-run decisions and summary) and task_status.c
 * (the reported state: status JSON, metrics). Loop thread only.
 */
#ifndef REPLICATOR_TASK_TASK_INTERNAL_H
#define REPLICATOR_TASK_TASK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"
#include "common/httpc.h"
#include "common/tls.h"
#include "replicator/db/prune_db.h"
#include "replicator/db/push_db.h"
#include "replicator/db/sled_db.h"
#include "replicator/db/wanted_db.h"
#include "replicator/task/collect.h"
#include "replicator/task/guard.h"
#include "replicator/task/revpush.h"
#include "replicator/task/srcavoid.h"
#include "replicator/task/status.h"
#include "replicator/task/stuck.h"
#include "replicator/task/task.h"
#include "replicator/task/task_status.h"

struct httpc_loop;
struct event;
struct execute;
struct jobs;
struct plan;
struct staging_repo;
struct workq;

enum task_state {
    TASK_IDLE = 0,
    TASK_LOADING,     /* worker: wanted set, sleds, push state, staging */
    TASK_COLLECTING,  /* loop: config push and lists */
    TASK_EXECUTING,   /* loop: puts and copies */
    TASK_FINISHING,   /* worker: drops, failed marks, push record */
    TASK_STOPPED,
};

struct task_waiter {
    struct task_waiter *next;
    uint64_t run;          /* called when run `run` ended */
    task_wait_fn fn;
    void *arg;
};

/* A repo seen with lost artifacts, for the grace period before marking. */
struct task_lost {
    char *name;
    int64_t since_ms;
    bool marked;
    bool seen;            /* lost in the current run */
};

/* Everything one run loads, computes and sends; freed at its end. */
struct task_run {
    uint64_t id;
    enum task_reason reason;
    int64_t started_ms;
    /* loaded on the worker */
    struct prune_db_report prune; /* the pruner's pass (prune_db.h) */
    int prune_rc;
    bool prune_ran;               /* the load job ran the pass */
    struct err prune_err;
    int load_rc;
    struct err load_err;
    struct wanted_db wanted;
    struct sled_db_list sled_list;
    struct push_db_state push;
    struct tls_revoked *revoked; /* with TLS: the database's revocations */
    struct httpc_tls tls;        /* cfg.tls plus revoked, for the sleds */
    uint64_t rev_version;        /* the list's revision (tlsrev_db) */
    char *rev_body;              /* PUT /tls-revocations body, or NULL */
    struct staging_repo *staged;
    size_t n_staged;
    /* the stuck report's clocks as stored (stuck_db), when clocks_rc 0 */
    struct stuck_tracker clocks;
    int clocks_rc;
    struct err clocks_err;
    /* loop */
    bool held;
    char held_reason[GUARD_REASON_MAX];
    uint64_t removed;          /* guard: artifacts the run would remove */
    char *config_body;
    struct collect_sled *sleds;
    size_t n_sleds;
    struct collect *collect;
    struct collect_input ci;
    bool ci_built;
    struct plan *plan;
    struct execute *exec;
    struct status_counters counters;
    /* finishing (worker) */
    bool record_push;          /* config G accepted by at least one sled */
    char **drop_ids;           /* staged repo ids to drop */
    size_t n_drop;
    char **fail_names;         /* repos to mark failed */
    char **fail_reasons;
    size_t n_fail;
    bool hold_write;           /* write push_db_hold */
    bool clocks_write;         /* write clocks (the tracker after this run's
                                  update) with stuck_db_save */
    size_t dropped;
    int finish_rc;
    struct err finish_err;
    json_t *summary;           /* built at the end */
};

struct task {
    struct event_base *base;
    struct task_config cfg;
    struct staging *staging;
    struct jobs *runner;       /* database jobs, a connection per worker */
    struct workq *io_wq;       /* staged-file reads of PUT bodies */
    struct httpc_loop *cv;     /* common/httpc loop driver */
    struct event *period_timer;
    enum task_state state;
    bool stopping;
    bool freeing;              /* inside task_free */
    bool pending;              /* activations arrived during a run */
    enum task_reason pending_reason;
    uint64_t runs;             /* runs started */
    unsigned jobs;             /* task_job jobs in flight */
    struct task_run *run;      /* current run or NULL */
    struct task_waiter *waiters;
    /* last activation */
    enum task_reason last_reason;
    int64_t last_activation_ms;
    bool activated;
    struct task_status status; /* the reported state (task_status.h) */
    /* mass-deletion guard memory: the set last pushed by this process */
    uint64_t pushed_generation;
    struct sha256 *pushed_set;
    size_t n_pushed_set;
    uint64_t pushed_repo_worth;
    /* the revocation list version each sled holds (revpush.h) */
    struct revpush_memo rev_memo;
    /* copy sources that failed lately (srcavoid.h) */
    struct srcavoid avoid;
    /* lost-artifact grace tracking */
    struct task_lost *lost;
    size_t n_lost;
};

/* task_run.c: the one place the run state changes (logged). */
void task_set_state(struct task *t, enum task_state s);

/* task_run.c: start run t->runs + 1 for reason: t->run set, state
 * LOADING, the load job submitted (task_flow_load). Out of memory: logged,
 * no run, state IDLE. */
void task_run_start(struct task *t, enum task_reason reason);

/* task_run.c: state FINISHING; decide the run's drops and failed marks
 * and submit its finishing job, whose end ends the run (report, waiters,
 * the next coalesced run). Inside task_free, ends the run at once. */
void task_run_finish(struct task *t);

/* task_run.c: free run r and all it holds; NULL is a no-op. */
void task_run_free(struct task_run *r);

/* task_run.c: call and free the waiters that run `run` covers (all of
 * them when sum is NULL, which is what they are then called with). */
void task_notify_waiters(struct task *t, uint64_t run, const json_t *sum);

/* task_flow.c: submit run t->run's load job; its end starts the collect,
 * and so on to Execute. Returns 0 or ERR_NOMEM (nothing submitted). */
int task_flow_load(struct task *t);

/* task_report.c: fill run->summary and the task's last_* status from a
 * finished run (loop). Returns 0 or ERR_NOMEM. */
int task_report_run(struct task *t, struct task_run *run);

/* task_report.c: decide the drops and failed marks of a run (loop,
 * before the finishing job). Returns 0 or ERR_NOMEM. */
int task_report_decide(struct task *t, struct task_run *run);

/* "idle", "loading", ... */
const char *task_state_name(enum task_state s);

#endif
