/* SPDX-License-Identifier: MPL-2.0 */
/*
 * task_flow: the phases of one run of the reconciliation task, from its
 * load to its execution (see task_internal.h and docs/REPLICATION.md):
 * the load job (the pruner's pass, staging, the wanted set, sleds, push
 * state, revocations, stuck clocks) on a worker, the mass-deletion guard,
 * the collect (config and revocation pushes, lists), then the glue from
 * collect to execute (trust and source memory, plan_new, the execute
 * options). Every phase ends in task_run_finish (task_run.c) when it
 * fails or Execute is done. Loop thread, except load_work (worker).
 */
#include "replicator/task/task_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "replicator/db/db.h"
#include "replicator/db/push_db.h"
#include "replicator/db/stuck_db.h"
#include "replicator/db/tlsrev_db.h"
#include "replicator/jobs.h"
#include "replicator/staging.h"
#include "replicator/task/execute.h"
#include "replicator/task/inv_trust.h"
#include "replicator/task/plan.h"

static void exec_done(struct execute *e, void *arg)
{
    struct task *t = arg;

    (void)e;
    task_run_finish(t);
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
        task_run_finish(t);
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
        task_run_finish(t);
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
    task_set_state(t, TASK_EXECUTING);
    if (execute_start(&r->exec, &eo, exec_done, t) < 0) {
        r->load_rc = ERR_NOMEM;
        snprintf(r->load_err.msg, sizeof(r->load_err.msg), "out of memory");
        task_run_finish(t);
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
        task_run_finish(t);
        return;
    }
    r->n_sleds = r->sled_list.count;
    /* The wanted set in plan form, sorted, for the guard and the lists. */
    rc = collect_build(&r->ci, &r->wanted, NULL, 0, NULL, 0, &t->cfg.limits,
                       0, &r->load_err);
    if (rc < 0) {
        r->load_rc = rc;
        task_run_finish(t);
        return;
    }
    r->ci_built = true;
    guard_check(t, r);
    if (!r->held && !(r->config_body = config_body(&r->wanted))) {
        r->load_rc = ERR_NOMEM;
        task_run_finish(t);
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
        task_run_finish(t);
        return;
    }
    co.revocations_body = r->rev_body;
    co.revocations_version = r->rev_version;
    revpush_memo_get(&t->rev_memo, r->sleds, r->n_sleds);
    co.arts = r->ci.arts;
    co.n_arts = r->wanted.count;
    task_set_state(t, TASK_COLLECTING);
    if (collect_start(&r->collect, &co, r->sleds, r->n_sleds, collect_done,
                      t) < 0) {
        r->load_rc = ERR_NOMEM;
        task_run_finish(t);
    }
}

int task_flow_load(struct task *t)
{
    return jobs_submit(t->runner, JOBS_DB_NEEDED, load_work, load_done, t);
}
