/* SPDX-License-Identifier: MPL-2.0 */
/*
 * task_run: the bookkeeping of one run of the reconciliation task (see
 * task_internal.h): the run state, starting a run, its finishing job
 * (the stuck clocks, the guard's hold, the push record, failed marks and
 * staged drops, written on a worker), its end (the report, the waiters,
 * the next coalesced run) and freeing it. The phases between start and
 * finish are in task_flow.c. Loop thread, except finish_work (worker).
 */
#include "replicator/task/task_internal.h"

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "replicator/db/push_db.h"
#include "replicator/db/repo_db.h"
#include "replicator/db/stuck_db.h"
#include "replicator/jobs.h"
#include "replicator/staging.h"
#include "replicator/task/execute.h"
#include "replicator/task/plan.h"

/* The one place the run state changes. */
void task_set_state(struct task *t, enum task_state s)
{
    if (t->state == s)
        return;
    log_info("task_state", "{s:s, s:s, s:I}", "from",
             task_state_name(t->state), "to", task_state_name(s), "run",
             (json_int_t)t->runs);
    t->state = s;
}

void task_run_free(struct task_run *r)
{
    if (!r)
        return;
    execute_free(r->exec);
    collect_free(r->collect);
    plan_free(r->plan);
    if (r->ci_built)
        collect_input_release(&r->ci);
    collect_sleds_free(r->sleds, r->n_sleds);
    wanted_db_release(&r->wanted);
    prune_db_report_release(&r->prune);
    sled_db_list_release(&r->sled_list);
    tls_revoked_free(r->revoked);
    staging_list_free(r->staged, r->n_staged);
    stuck_release(&r->clocks);
    mem_free(r->config_body);
    mem_free(r->rev_body);
    for (size_t i = 0; i < r->n_drop; i++)
        mem_free(r->drop_ids[i]);
    mem_free(r->drop_ids);
    for (size_t i = 0; i < r->n_fail; i++) {
        mem_free(r->fail_names[i]);
        mem_free(r->fail_reasons[i]);
    }
    mem_free(r->fail_names);
    mem_free(r->fail_reasons);
    json_decref(r->summary);
    mem_free(r);
}

void task_notify_waiters(struct task *t, uint64_t run, const json_t *sum)
{
    struct task_waiter **pp = &t->waiters;

    while (*pp) {
        struct task_waiter *w = *pp;

        if (sum && w->run > run) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        w->fn(sum, w->arg);
        mem_free(w);
    }
}

static void run_end(struct task *t)
{
    struct task_run *r = t->run;

    if (task_report_run(t, r) < 0)
        log_warn("task_report", "{s:s}", "error", "out of memory");
    t->run = NULL;
    task_set_state(t, t->stopping ? TASK_STOPPED : TASK_IDLE);
    task_notify_waiters(t, r->id,
                   r->summary ? r->summary : task_status_summary(&t->status));
    task_run_free(r);
    if (t->pending && !t->stopping) {
        t->pending = false;
        task_run_start(t, t->pending_reason);
    }
}

/* Worker; db is NULL when no connection could be opened (err says why). */
static int finish_work(struct db *db, void *p, struct err *err)
{
    struct task *t = p;
    struct task_run *r = t->run;
    struct err e = ERR_INIT;
    int rc = db ? 0 : err->code;

    if (!db)
        goto drop;
    if (r->clocks_write && stuck_db_save(db, &r->clocks, &e) < 0)
        log_warn("stuck_clocks_save", "{s:s}", "error", e.msg);
    if (r->hold_write &&
        push_db_hold(db, r->wanted.generation, r->held_reason, &e) < 0)
        log_warn("guard_hold_record", "{s:s}", "error", e.msg);
    if (r->record_push &&
        push_db_record(db, r->wanted.generation, r->wanted.count, &e) < 0)
        log_warn("push_record", "{s:s}", "error", e.msg);
    for (size_t i = 0; i < r->n_fail; i++) {
        if (repo_db_mark_failed(db, r->fail_names[i], r->fail_reasons[i],
                                &e) < 0)
            log_warn("repo_mark_failed", "{s:s, s:s}", "system_version",
                     r->fail_names[i], "error", e.msg);
        else
            log_warn("repo_marked_failed", "{s:s, s:s}", "system_version",
                     r->fail_names[i], "reason", r->fail_reasons[i]);
    }
drop:
    /* Drops need no database: the decision used lists at G. */
    for (size_t i = 0; i < r->n_drop; i++) {
        if (staging_drop(t->staging, r->drop_ids[i], &e) < 0) {
            log_warn("staged_repo_drop", "{s:s, s:s}", "repo_id",
                     r->drop_ids[i], "error", e.msg);
            continue;
        }
        r->dropped++;
        log_info("staged_repo_dropped", "{s:s, s:I, s:I}", "repo_id",
                 r->drop_ids[i], "generation",
                 (json_int_t)r->wanted.generation, "min_sled_replication",
                 (json_int_t)t->cfg.min_sled_replication);
    }
    return rc;
}

static void finish_done(int rc, const struct err *err, void *p)
{
    struct task *t = p;

    t->run->finish_rc = rc;
    if (rc < 0)
        t->run->finish_err = *err;
    run_end(t);
}

void task_run_finish(struct task *t)
{
    task_set_state(t, TASK_FINISHING);
    if (t->freeing) {
        run_end(t);
        return;
    }
    /* the stuck report's clocks move now, so they are saved with the
     * run's other writes (finish_work) */
    if (task_status_clocks(&t->status, t->run) == 0 &&
        stuck_copy(&t->run->clocks, &t->status.stuck) == 0)
        t->run->clocks_write = true;
    if (task_report_decide(t, t->run) < 0 ||
        jobs_submit(t->runner, JOBS_DB_WANTED, finish_work, finish_done,
                    t) < 0) {
        log_warn("task_finish", "{s:s}", "error", "out of memory");
        run_end(t);
    }
}

void task_run_start(struct task *t, enum task_reason reason)
{
    struct task_run *r = mem_calloc(1, sizeof(*r));

    if (!r) {
        log_warn("task_run", "{s:s}", "error", "out of memory");
        return;
    }
    r->id = ++t->runs;
    r->reason = reason;
    r->started_ms = status_now_ms();
    t->run = r;
    log_info("task_run_start", "{s:I, s:s}", "run", (json_int_t)r->id,
             "reason", task_reason_name(reason));
    task_set_state(t, TASK_LOADING);
    if (task_flow_load(t) < 0) {
        t->run = NULL;
        task_set_state(t, TASK_IDLE);
        task_run_free(r);
    }
}
