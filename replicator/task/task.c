/* SPDX-License-Identifier: MPL-2.0 */
/*
 * task: activation, coalescing, the run state machine and database jobs
 * of the reconciliation task (see task.h); the jobs run on the task's
 * runner (replicator/jobs.h), whose workers keep their connections. The
 * end-of-run report is in task_report.c, the reported state in
 * task_status.c. Loop thread, except the *_work functions (worker).
 */
#include "replicator/task/task.h"
#include "replicator/task/task_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/httpc.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/workq.h"
#include "replicator/db/db.h"
#include "replicator/db/push_db.h"
#include "replicator/db/stuck_db.h"
#include "replicator/db/repo_db.h"
#include "replicator/db/tlsrev_db.h"
#include "replicator/jobs.h"
#include "replicator/staging.h"
#include "replicator/task/inv_trust.h"
#include "replicator/task/execute.h"
#include "replicator/task/plan.h"
#include "replicator/task/stuck.h"

static const char *const reason_names[TASK_REASON_COUNT] = {
    "periodic", "upload", "manual", "startup", "generation", "sled"};
static const char *const state_names[] = {
    "idle", "loading", "collecting", "executing", "finishing", "stopped"};

const char *task_reason_name(enum task_reason r)
{
    return (unsigned)r < TASK_REASON_COUNT ? reason_names[r] : "unknown";
}

const char *task_state_name(enum task_state s)
{
    return (unsigned)s <= TASK_STOPPED ? state_names[s] : "unknown";
}

void task_config_default(struct task_config *c)
{
    static const struct plan_limits lim = PLAN_LIMITS_DEFAULT;

    memset(c, 0, sizeof(*c));
    c->period_secs = 300;
    c->periodic = true;
    c->min_sled_replication = 3;
    c->limits = lim;
    c->max_inflight = 0; /* automatic */
    c->max_per_target = 2;
    c->max_per_source = 2;
    c->max_busy_retries = 3;
    c->connect_secs = 2;
    c->stall_secs = 30;
    c->request_secs = 5;
    c->copy_stall_secs = 60;
    c->copy_poll_ms = 200;
    c->guard_permille = GUARD_DEFAULT_PERMILLE;
    c->lost_grace_secs = 300;
    c->stuck_after_secs = STUCK_AFTER_DEFAULT_SECS;
    c->prune_keep = PRUNE_KEEP_DEFAULT;
    c->workers = 2;
}

/* The one place the run state changes. */
static void set_state(struct task *t, enum task_state s)
{
    if (t->state == s)
        return;
    log_info("task_state", "{s:s, s:s, s:I}", "from",
             task_state_name(t->state), "to", task_state_name(s), "run",
             (json_int_t)t->runs);
    t->state = s;
}

/* ---- database jobs ---- */

struct job {
    struct task *t;
    task_job_fn fn;
    task_job_done_fn done;
    void *arg;
};

static int job_work(struct db *db, void *p, struct err *err)
{
    struct job *j = p;

    return j->fn(db, j->arg, err);
}

static void job_done(int rc, const struct err *err, void *p)
{
    struct job *j = p;

    j->t->jobs--;
    j->done(rc, err, j->arg);
    mem_free(j);
}

int task_job(struct task *t, task_job_fn fn, task_job_done_fn done,
             void *arg)
{
    struct job *j = mem_calloc(1, sizeof(*j));

    if (!j)
        return ERR_NOMEM;
    j->t = t;
    j->fn = fn;
    j->done = done;
    j->arg = arg;
    if (jobs_submit(t->runner, JOBS_DB_NEEDED, job_work, job_done, j) < 0) {
        mem_free(j);
        return ERR_NOMEM;
    }
    t->jobs++;
    return 0;
}

/* ---- runs ---- */

static void run_start(struct task *t, enum task_reason reason);

static void run_free(struct task_run *r)
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

static void notify_waiters(struct task *t, uint64_t run, const json_t *sum)
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
    set_state(t, t->stopping ? TASK_STOPPED : TASK_IDLE);
    notify_waiters(t, r->id,
                   r->summary ? r->summary : task_status_summary(&t->status));
    run_free(r);
    if (t->pending && !t->stopping) {
        t->pending = false;
        run_start(t, t->pending_reason);
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

static void run_finish(struct task *t)
{
    set_state(t, TASK_FINISHING);
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

static void exec_done(struct execute *e, void *arg)
{
    struct task *t = arg;

    (void)e;
    run_finish(t);
}

static uint64_t run_seed(const struct task *t)
{
    uint64_t s = 0;

    if (t->cfg.seed)
        return t->cfg.seed + t->runs;
    if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s))
        s = (uint64_t)status_now_ms() ^ t->runs;
    return s;
}

/* Execute: a copy failed because of its source (issue 10). */
static void source_failed(const char *sled_id, void *arg)
{
    struct task *t = arg;

    srcavoid_note(&t->avoid, sled_id, status_now_ms());
    log_info("task_source_avoided", "{s:s, s:i}", "sled", sled_id, "secs",
             SRCAVOID_SECS);
}

/* The sleds' lists named sources whose copies failed lately (copies
 * accepted in an earlier run, not followed by Execute): mark them. */
static void note_failed_sources(struct task *t, const struct task_run *r)
{
    for (size_t i = 0; i < r->n_sleds; i++)
        for (unsigned k = 0; k < r->sleds[i].n_failed_src; k++)
            for (size_t j = 0; j < r->n_sleds; j++)
                if (!strcmp(r->sleds[j].depot_url, r->sleds[i].failed_src[k]))
                    source_failed(r->sleds[j].id, t);
}

static void collect_done(struct collect *c, void *arg)
{
    struct task *t = arg;
    struct task_run *r = t->run;
    struct execute_opts eo;
    struct plan_limits lim = t->cfg.limits;
    struct err err = ERR_INIT;
    int rc;

    (void)c;
    if (revpush_memo_put(&t->rev_memo, r->sleds, r->n_sleds) < 0)
        log_warn("task_revocations_memo", "{s:s}", "error",
                 "out of memory: every sled is pushed again next run");
    note_failed_sources(t, r);
    for (size_t i = 0; i < r->n_sleds; i++) {
        if (r->sleds[i].state == COLLECT_OK && !r->held)
            r->record_push = true;
        r->sleds[i].inventory_untrusted = !sled_inventory_trusted(
            &r->sleds[i], t->cfg.peers_authenticated);
        r->sleds[i].avoid_source = srcavoid_active(&t->avoid, r->sleds[i].id,
                                                   status_now_ms());
    }
    if (r->held) {
        run_finish(t);
        return;
    }
    lim.min_sled_replication = t->cfg.min_sled_replication;
    if (r->ci_built)
        collect_input_release(&r->ci);
    r->ci_built = false;
    rc = collect_build(&r->ci, &r->wanted, r->staged, r->n_staged, r->sleds,
                       r->n_sleds, &lim, run_seed(t), &err);
    if (rc == 0) {
        r->ci_built = true;
        rc = plan_new(&r->plan, &r->ci.in, &err);
    }
    if (rc < 0) {
        snprintf(r->load_err.msg, sizeof(r->load_err.msg), "plan: %s",
                 err.msg);
        r->load_rc = rc;
        run_finish(t);
        return;
    }
    log_info("task_plan", "{s:I, s:I, s:I, s:I, s:I, s:I}", "generation",
             (json_int_t)r->wanted.generation, "puts",
             (json_int_t)r->plan->summary.puts, "copies",
             (json_int_t)r->plan->summary.copies, "recopies",
             (json_int_t)r->plan->summary.recopies, "deferred",
             (json_int_t)r->plan->summary.requests_deferred, "waves",
             (json_int_t)r->plan->summary.waves);
    memset(&eo, 0, sizeof(eo));
    eo.base = t->base;
    eo.cv = t->cv;
    eo.wq = t->io_wq;
    eo.plan = r->plan;
    eo.ci = &r->ci;
    eo.sleds = r->sleds;
    eo.max_inflight = t->cfg.max_inflight
                          ? t->cfg.max_inflight
                          : execute_auto_inflight(
                                r->plan->summary.n_planned_sleds);
    eo.max_per_target = t->cfg.max_per_target;
    eo.max_per_source = t->cfg.max_per_source;
    eo.max_busy_retries = t->cfg.max_busy_retries;
    eo.connect_secs = t->cfg.connect_secs;
    eo.stall_secs = t->cfg.stall_secs;
    eo.request_secs = t->cfg.request_secs;
    eo.rate_limit_bps = t->cfg.rate_limit_bps;
    eo.copy_poll_ms = t->cfg.copy_poll_ms;
    eo.copy_stall_secs = t->cfg.copy_stall_secs;
    eo.ring = &t->status.ring;
    eo.counters = &r->counters;
    eo.tls = &r->tls;
    eo.source_failed = source_failed;
    eo.source_failed_arg = t;
    set_state(t, TASK_EXECUTING);
    if (execute_start(&r->exec, &eo, exec_done, t) < 0) {
        r->load_rc = ERR_NOMEM;
        snprintf(r->load_err.msg, sizeof(r->load_err.msg), "out of memory");
        run_finish(t);
    }
}

static char *config_body(const struct wanted_db *w)
{
    struct buf b = BUF_INIT;
    char hex[SHA256_HEX_LEN + 1];
    int rc = buf_printf(&b, "{\"generation\": %" PRIu64 ", \"artifacts\": [",
                        w->generation);

    for (size_t i = 0; rc == 0 && i < w->count; i++) {
        sha256_to_hex(hex, &w->artifacts[i].sha256);
        rc = buf_printf(&b, "%s\"%s\"", i ? ", " : "", hex);
    }
    if (rc == 0)
        rc = buf_puts(&b, "]}");
    if (rc < 0) {
        buf_release(&b);
        return NULL;
    }
    return buf_take(&b);
}

/* The mass-deletion guard for the loaded run (loop). */
static void guard_check(struct task *t, struct task_run *r)
{
    struct guard_input g;
    struct sha256 *cur = NULL;
    uint64_t worth = t->pushed_repo_worth;

    memset(&g, 0, sizeof(g));
    g.generation = r->wanted.generation;
    g.pushed_generation = r->push.pushed_generation;
    g.pushed_count = r->push.pushed_count;
    g.confirmed_generation = r->push.confirmed_generation;
    g.max_permille = t->cfg.guard_permille;
    /* Lower bound without the old set: what shrank. */
    g.removed = g.pushed_count > r->wanted.count
                    ? g.pushed_count - r->wanted.count : 0;
    if (t->pushed_set && t->pushed_generation == g.pushed_generation &&
        (cur = mem_calloc(r->wanted.count + 1, sizeof(*cur)))) {
        uint64_t exact;

        for (size_t i = 0; i < r->wanted.count; i++)
            cur[i] = r->wanted.artifacts[i].sha256;
        exact = guard_removed(t->pushed_set, t->n_pushed_set, cur,
                              r->wanted.count);
        if (exact > g.removed)
            g.removed = exact;
    }
    mem_free(cur);
    /* One repository's worth: the largest repo now or last pushed. */
    if (r->ci_built && r->ci.in.n_repos) {
        size_t *per = mem_calloc(r->ci.in.n_repos, sizeof(*per));

        for (size_t i = 0; per && i < r->ci.in.n_artifacts; i++)
            for (size_t j = 0; j < r->ci.arts[i].n_repos; j++)
                if (++per[r->ci.arts[i].repos[j]] > worth)
                    worth = per[r->ci.arts[i].repos[j]];
        mem_free(per);
    }
    g.repo_worth = worth;
    r->removed = g.removed;
    if (guard_decide(&g, r->held_reason, sizeof(r->held_reason)) ==
        GUARD_HOLD) {
        r->held = true;
        r->hold_write = !(r->push.held &&
                          r->push.held_generation == g.generation);
        log_warn("generation_held", "{s:I, s:I, s:s}", "generation",
                 (json_int_t)g.generation, "removed", (json_int_t)g.removed,
                 "reason", r->held_reason);
    }
}

static int load_work(struct db *db, void *p, struct err *err) /* worker */
{
    struct task *t = p;
    struct task_run *r = t->run;
    int rc;

    /* The pruner first, so what it prunes is this run's generation and
     * the guard judges it before anything is pushed. It prunes on the
     * periodic runs and the start-up run (as the reference's background
     * tasks activate at start-up and then periodically); other runs only
     * report. Its failure is reported in the status; the run goes on. */
    r->prune_rc = prune_db_pass(&r->prune, db, t->cfg.prune_keep,
                                r->reason == TASK_REASON_PERIODIC ||
                                    r->reason == TASK_REASON_STARTUP,
                                &r->prune_err);
    r->prune_ran = true;
    /* Staging next: every repo staged now was recorded in the database
     * before (ingest commits, then stages), so one missing from the
     * wanted set read next was pruned, not just uploaded. */
    rc = staging_list(&r->staged, &r->n_staged, t->staging, err);

    if (rc == 0)
        rc = wanted_db_read(&r->wanted, db, err);
    if (rc == 0)
        rc = sled_db_list(&r->sled_list, db, err);
    if (rc == 0)
        rc = push_db_get(&r->push, db, err);
    /* A revoked sled certificate is refused by this run's requests. */
    if (rc == 0 && t->cfg.tls.cert_file)
        rc = tlsrev_db_load_version(&r->revoked, &r->rev_version, db, err);
    /* The stuck report's clocks: without them this run keeps its own. */
    if (rc == 0)
        r->clocks_rc = stuck_db_load(&r->clocks, db, &r->clocks_err);
    return rc;
}

/* The pruner's pass of run r into the status and the log (loop). A pass
 * that failed keeps the last switch state and reports why. */
static void prune_reported(struct task *t, const struct task_run *r)
{
    const json_t *prev = t->status.last_prune;
    json_t *j;

    if (!r->prune_ran)
        return; /* no connection: the load's error says why */
    if (r->prune_rc == 0) {
        j = prune_db_report_json(&r->prune);
        if (r->prune.pruned)
            log_info("repo_pruned", "{s:s, s:s, s:I, s:b, s:I}",
                     "system_version", r->prune.pruned, "by", "pruner",
                     "generation", (json_int_t)r->prune.generation, "bumped",
                     r->prune.bumped, "keep_newest",
                     (json_int_t)r->prune.keep_newest);
    } else {
        const char *st = prev ? jsonu_str(prev, "status") : NULL;

        log_warn("prune_pass", "{s:s}", "error", r->prune_err.msg);
        j = json_pack("{s:s, s:I, s:[], s:[], s:[s+]}", "status",
                      st ? st : "enabled", "keep_newest",
                      (json_int_t)t->cfg.prune_keep, "keep", "eligible",
                      "warnings", "the pruner's pass failed: ",
                      r->prune_err.msg);
    }
    task_status_set_prune(&t->status, j);
}

static void load_done(int rc, const struct err *err, void *p)
{
    struct task *t = p;
    struct task_run *r = t->run;
    struct collect_opts co;

    r->load_rc = rc;
    if (rc < 0)
        r->load_err = *err;
    if (t->freeing)
        return; /* task_free frees the run */
    if (rc < 0 && db_err_unavailable(&r->load_err))
        log_warn("database_unavailable", "{s:I, s:s, s:s}", "run",
                 (json_int_t)r->id, "error", r->load_err.msg, "action",
                 "run recorded as failed; no sled was asked to change");
    prune_reported(t, r);
    /* The stored clocks are the rack's: they replace this process's. */
    if (rc == 0 && r->clocks_rc == 0)
        task_status_adopt_clocks(&t->status, &r->clocks);
    else if (rc == 0)
        log_warn("stuck_clocks_load", "{s:s}", "error", r->clocks_err.msg);

    if (rc == 0)
        rc = collect_sleds_from_db(&r->sleds, &r->sled_list,
                                   t->cfg.tls.cert_file != NULL,
                                   &r->load_err);
    if (rc < 0) {
        r->load_rc = rc;
        log_warn("task_load", "{s:s}", "error", r->load_err.msg);
        run_finish(t);
        return;
    }
    r->n_sleds = r->sled_list.count;
    /* The wanted set in plan form, sorted, for the guard and the lists. */
    rc = collect_build(&r->ci, &r->wanted, NULL, 0, NULL, 0, &t->cfg.limits,
                       0, &r->load_err);
    if (rc < 0) {
        r->load_rc = rc;
        run_finish(t);
        return;
    }
    r->ci_built = true;
    guard_check(t, r);
    if (!r->held && !(r->config_body = config_body(&r->wanted))) {
        r->load_rc = ERR_NOMEM;
        run_finish(t);
        return;
    }
    memset(&co, 0, sizeof(co));
    co.cv = t->cv;
    /* Held: only look (lists at the last pushed generation). */
    co.generation = r->held ? r->push.pushed_generation : r->wanted.generation;
    co.config_body = r->config_body;
    co.connect_secs = t->cfg.connect_secs;
    co.stall_secs = t->cfg.stall_secs;
    co.request_secs = t->cfg.request_secs;
    co.ring = &t->status.ring;
    co.counters = &r->counters;
    r->tls = t->cfg.tls;
    r->tls.revoked = r->revoked;
    co.tls = &r->tls;
    /* The database's revocations go to every sled behind them, before
     * the config (TLS only: the list is loaded only then). */
    if (r->revoked && r->rev_version &&
        !(r->rev_body = revpush_body(r->rev_version, r->revoked))) {
        r->load_rc = ERR_NOMEM;
        run_finish(t);
        return;
    }
    co.revocations_body = r->rev_body;
    co.revocations_version = r->rev_version;
    revpush_memo_get(&t->rev_memo, r->sleds, r->n_sleds);
    co.arts = r->ci.arts;
    co.n_arts = r->wanted.count;
    set_state(t, TASK_COLLECTING);
    if (collect_start(&r->collect, &co, r->sleds, r->n_sleds, collect_done,
                      t) < 0) {
        r->load_rc = ERR_NOMEM;
        run_finish(t);
    }
}

static void run_start(struct task *t, enum task_reason reason)
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
    set_state(t, TASK_LOADING);
    if (jobs_submit(t->runner, JOBS_DB_NEEDED, load_work, load_done, t) < 0) {
        t->run = NULL;
        set_state(t, TASK_IDLE);
        run_free(r);
    }
}

/* ---- activation ---- */

void task_activate(struct task *t, enum task_reason reason)
{
    if (t->stopping)
        return;
    t->activated = true;
    t->last_reason = reason;
    t->last_activation_ms = status_now_ms();
    log_info("task_activated", "{s:s, s:s}", "reason",
             task_reason_name(reason), "state", task_state_name(t->state));
    if (t->state == TASK_IDLE) {
        run_start(t, reason);
        return;
    }
    /* Coalesce: one more run after this one, whatever arrives meanwhile. */
    if (!t->pending || reason != TASK_REASON_PERIODIC)
        t->pending_reason = reason;
    t->pending = true;
}

int task_activate_wait(struct task *t, enum task_reason reason,
                       task_wait_fn fn, void *arg)
{
    struct task_waiter *w;

    if (t->stopping)
        return ERR_UNAVAIL;
    w = mem_calloc(1, sizeof(*w));
    if (!w)
        return ERR_NOMEM;
    /* The run that covers this activation: the next one to start. */
    w->run = t->runs + 1;
    w->fn = fn;
    w->arg = arg;
    w->next = t->waiters;
    t->waiters = w;
    task_activate(t, reason);
    return 0;
}

static void period_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    task_activate(arg, TASK_REASON_PERIODIC);
}

int task_new(struct task **out, struct event_base *base,
             const struct task_config *cfg, struct staging *st,
             struct err *err)
{
    struct task *t;
    int rc;

    *out = NULL;
    if (!cfg->db || !cfg->min_sled_replication)
        return err_set(err, ERR_INVAL, "task: %s",
                       !cfg->db ? "no database" : "min_sled_replication 0");
    t = mem_calloc(1, sizeof(*t));
    if (!t)
        return err_set(err, ERR_NOMEM, "out of memory");
    t->base = base;
    t->cfg = *cfg;
    t->staging = st;
    rc = task_status_init(&t->status);
    if (rc == 0)
        rc = httpc_loop_new(&t->cv, base);
    if (rc < 0) {
        err_set(err, rc, "out of memory");
        goto out;
    }
    rc = jobs_new(&t->runner, base, t->cfg.db,
                  cfg->workers ? cfg->workers : 2, NULL);
    /* Disk reads apart from database jobs: a slow query never starves an
     * upload, a slow disk never delays a run's load. */
    if (rc == 0)
        rc = workq_new(&t->io_wq, base, 2);
    if (rc < 0) {
        err_set(err, rc, "task: cannot start worker threads");
        goto out;
    }
    *out = t;
    t = NULL;
out:
    task_free(t);
    return rc;
}

int task_start(struct task *t)
{
    struct timeval tv;

    if (t->cfg.periodic && t->cfg.period_secs) {
        tv.tv_sec = (time_t)t->cfg.period_secs;
        tv.tv_usec = 0;
        t->period_timer = event_new(t->base, -1, EV_PERSIST, period_fire, t);
        if (!t->period_timer || event_add(t->period_timer, &tv) < 0)
            return ERR_NOMEM;
    }
    task_activate(t, TASK_REASON_STARTUP);
    return 0;
}

struct httpc_loop *task_http_loop(struct task *t)
{
    return t->cv;
}

const struct task_config *task_config(const struct task *t)
{
    return &t->cfg;
}

void task_shutdown(struct task *t)
{
    t->stopping = true;
    t->pending = false;
    if (t->period_timer)
        event_del(t->period_timer);
    if (t->state == TASK_IDLE)
        set_state(t, TASK_STOPPED);
}

bool task_idle(const struct task *t)
{
    return !t->run && t->jobs == 0;
}

void task_free(struct task *t)
{
    if (!t)
        return;
    t->stopping = true;
    t->freeing = true;
    t->pending = false;
    if (t->run) {
        /* Stop the network side first; queued worker jobs then finish. */
        execute_free(t->run->exec);
        t->run->exec = NULL;
        collect_free(t->run->collect);
        t->run->collect = NULL;
    }
    jobs_free(t->runner); /* may run finish_done -> run_end */
    if (t->run) {
        run_free(t->run);
        t->run = NULL;
    }
    workq_free(t->io_wq); /* frees uploads orphaned by execute_free */
    notify_waiters(t, UINT64_MAX, NULL);
    if (t->period_timer)
        event_free(t->period_timer);
    httpc_loop_free(t->cv);
    task_status_release(&t->status);
    mem_free(t->pushed_set);
    revpush_memo_release(&t->rev_memo);
    for (size_t i = 0; i < t->n_lost; i++)
        mem_free(t->lost[i].name);
    mem_free(t->lost);
    mem_free(t);
}
