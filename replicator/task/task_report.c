/* SPDX-License-Identifier: MPL-2.0 */
/*
 * task_report: the end-of-run decisions and reports of the reconciliation
 * task: which staged repos may be dropped (every wanted artifact of the
 * repo listed at G on >= min_sled_replication sleds), which repos are
 * marked failed (lost artifacts for longer than the grace period), the
 * guard's memory of the pushed set, and the run summary, recorded into
 * the task's status (task_status.c). Loop thread only.
 */
#include "replicator/task/task_internal.h"
#include "replicator/task/task_status.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "replicator/db/db.h"
#include "common/log.h"
#include "common/mem.h"
#include "replicator/staging.h"
#include "replicator/task/execute.h"
#include "replicator/task/plan.h"

static bool in_list(const uint32_t *l, size_t n, uint32_t v)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] == v)
            return true;
    return false;
}

static int push_str(char ***arr, size_t *n, const char *s)
{
    char **na = mem_realloc(*arr, (*n + 1) * sizeof(char *));
    char *c = mem_strdup(s);

    if (!na || !c) {
        if (na)
            *arr = na;
        mem_free(c);
        return ERR_NOMEM;
    }
    *arr = na;
    na[(*n)++] = c;
    return 0;
}

static int decide_drops(struct task *t, struct task_run *r)
{
    const struct plan_summary *sum = &r->plan->summary;

    (void)t;
    for (size_t s = 0; s < r->n_staged; s++) {
        const struct staging_repo *sr = &r->staged[s];
        size_t wanted = 0, sufficient = 0, idx;

        for (size_t j = 0; j < sr->nartifacts; j++) {
            if (plan_artifact_find(&idx, r->ci.arts, r->ci.in.n_artifacts,
                                   &sr->artifacts[j].sha256) < 0)
                continue;
            wanted++;
            if (in_list(sum->staged_sufficient, sum->n_staged_sufficient,
                        (uint32_t)idx))
                sufficient++;
        }
        if (wanted == 0)
            log_info("staged_repo_unwanted", "{s:s, s:s, s:I}", "repo_id",
                     sr->repo_id, "system_version", sr->system_version,
                     "generation", (json_int_t)r->wanted.generation);
        if (wanted == sufficient &&
            push_str(&r->drop_ids, &r->n_drop, sr->repo_id) < 0)
            return ERR_NOMEM;
    }
    return 0;
}

static int decide_failed(struct task *t, struct task_run *r)
{
    const struct plan_summary *sum = &r->plan->summary;
    int64_t now = status_now_ms();
    char hex[SHA256_HEX_LEN + 1], reason[200];

    for (size_t i = 0; i < t->n_lost; i++)
        t->lost[i].seen = false;
    for (size_t k = 0; k < sum->n_lost_repos; k++) {
        const char *name = r->ci.repo_names[sum->lost_repos[k]];
        struct task_lost *l = NULL;

        for (size_t i = 0; i < t->n_lost && !l; i++)
            if (!strcmp(t->lost[i].name, name))
                l = &t->lost[i];
        if (!l) {
            struct task_lost *nl = mem_realloc(t->lost,
                                               (t->n_lost + 1) * sizeof(*nl));

            if (!nl)
                return ERR_NOMEM;
            t->lost = nl;
            l = &nl[t->n_lost];
            memset(l, 0, sizeof(*l));
            if (!(l->name = mem_strdup(name)))
                return ERR_NOMEM;
            l->since_ms = now;
            t->n_lost++;
        }
        l->seen = true;
        if (l->marked ||
            now - l->since_ms < (int64_t)t->cfg.lost_grace_secs * 1000)
            continue;
        hex[0] = '\0';
        for (size_t a = 0; a < sum->n_lost && !hex[0]; a++)
            if (in_list(r->ci.arts[sum->lost[a]].repos,
                        r->ci.arts[sum->lost[a]].n_repos, sum->lost_repos[k]))
                sha256_to_hex(hex, &r->ci.arts[sum->lost[a]].hash);
        snprintf(reason, sizeof(reason),
                 "artifact %s is held by no sled and staged by no "
                 "replicator: upload the repository again", hex);
        size_t n_reasons = r->n_fail;

        if (push_str(&r->fail_reasons, &n_reasons, reason) < 0 ||
            push_str(&r->fail_names, &r->n_fail, name) < 0)
            return ERR_NOMEM;
        l->marked = true;
    }
    /* forget repos that are no longer lost */
    for (size_t i = 0; i < t->n_lost;) {
        if (t->lost[i].seen) {
            i++;
            continue;
        }
        mem_free(t->lost[i].name);
        t->lost[i] = t->lost[--t->n_lost];
    }
    return 0;
}

int task_report_decide(struct task *t, struct task_run *r)
{
    int rc;

    if (r->load_rc < 0 || r->held || !r->plan)
        return 0;
    rc = decide_drops(t, r);
    if (rc == 0)
        rc = decide_failed(t, r);
    return rc;
}

static int remember_pushed(struct task *t, const struct task_run *r)
{
    struct sha256 *set = mem_calloc(r->wanted.count + 1, sizeof(*set));
    uint64_t worth = 0;

    if (!set)
        return ERR_NOMEM;
    for (size_t i = 0; i < r->wanted.count; i++)
        set[i] = r->wanted.artifacts[i].sha256;
    if (r->plan)
        for (size_t i = 0; i < r->plan->summary.n_repos; i++)
            if (r->plan->summary.repos[i].artifacts > worth)
                worth = r->plan->summary.repos[i].artifacts;
    mem_free(t->pushed_set);
    t->pushed_set = set;
    t->n_pushed_set = r->wanted.count;
    t->pushed_generation = r->wanted.generation;
    t->pushed_repo_worth = worth;
    return 0;
}

/* How the sleds of a run ended. */
struct run_tally {
    size_t ok, unreachable, isolated, held, bogus;
};

static void tally(struct run_tally *n, const struct task_run *r)
{
    memset(n, 0, sizeof(*n));
    for (size_t i = 0; i < r->n_sleds; i++) {
        n->ok += r->sleds[i].state == COLLECT_OK;
        n->unreachable += r->sleds[i].state == COLLECT_UNREACHABLE ||
                          r->sleds[i].state == COLLECT_PENDING ||
                          r->sleds[i].state == COLLECT_INVALID_ADDRESS;
        n->isolated += r->sleds[i].state == COLLECT_ISOLATED;
        n->held += r->sleds[i].state == COLLECT_HELD;
        n->bogus += r->sleds[i].bogus;
    }
}

/* The run summary (docs/REPLICATION.md, `last_run`); NULL on ERR_NOMEM. */
static json_t *summary_json(const struct task_run *r,
                            const struct run_tally *n)
{
    const struct plan_summary *ps = r->plan ? &r->plan->summary : NULL;
    struct execute_result er;
    bool converged;
    json_t *sum;

    memset(&er, 0, sizeof(er));
    if (r->exec)
        execute_result(r->exec, &er);
    converged = r->load_rc == 0 && !r->held && ps && r->plan->n_reqs == 0 &&
                ps->requests_deferred == 0 && ps->requests_no_space == 0 &&
                n->unreachable == 0 && n->isolated == 0 && n->held == 0 &&
                ps->n_lost == 0;
    sum = json_pack("{s:I, s:s, s:I, s:I, s:I, s:b, s:b, s:o*, s:I, s:I, "
                    "s:I, s:I, s:I, s:I}",
                    "run", (json_int_t)r->id, "reason",
                    task_reason_name(r->reason), "started_ms",
                    (json_int_t)r->started_ms, "duration_ms",
                    (json_int_t)(status_now_ms() - r->started_ms),
                    "generation", (json_int_t)r->wanted.generation, "held",
                    r->held, "converged", converged, "counters",
                    status_counters_json(&r->counters), "sleds_ok",
                    (json_int_t)n->ok, "sleds_unreachable",
                    (json_int_t)n->unreachable, "sleds_isolated",
                    (json_int_t)n->isolated, "staged_dropped",
                    (json_int_t)r->dropped, "repos_marked_failed",
                    (json_int_t)r->n_fail, "bogus_entries",
                    (json_int_t)n->bogus);
    if (!sum)
        return NULL;
    if (r->load_rc < 0)
        json_object_set_new(sum, "error", json_string(r->load_err.msg));
    if (r->load_rc < 0 && db_err_unavailable(&r->load_err))
        json_object_set_new(sum, "database_unavailable", json_true());
    if (r->held)
        json_object_set_new(sum, "held_reason", json_string(r->held_reason));
    json_object_set_new(sum, "sleds_held", json_integer((json_int_t)n->held));
    if (ps)
        json_object_set_new(
            sum, "plan",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "puts",
                      (json_int_t)ps->puts, "copies", (json_int_t)ps->copies,
                      "recopies", (json_int_t)ps->recopies,
                      "requests_deferred", (json_int_t)ps->requests_deferred,
                      "requests_no_space", (json_int_t)ps->requests_no_space,
                      "waves", (json_int_t)ps->waves, "lost",
                      (json_int_t)ps->n_lost));
    json_object_set_new(sum, "executed",
                        json_pack("{s:I, s:I, s:I, s:I}", "ok",
                                  (json_int_t)er.ok, "failed",
                                  (json_int_t)er.failed, "skipped",
                                  (json_int_t)er.skipped, "busy_retries",
                                  (json_int_t)er.busy_retries));
    return sum;
}

int task_report_run(struct task *t, struct task_run *r)
{
    struct run_tally n;
    json_t *sum;

    tally(&n, r);
    task_status_record_run(&t->status, r, n.bogus, t->cfg.stuck_after_secs);
    if (r->load_rc == 0 && r->record_push && remember_pushed(t, r) < 0)
        return ERR_NOMEM;
    sum = summary_json(r, &n);
    if (!sum)
        return ERR_NOMEM;
    r->summary = sum;
    task_status_set_summary(&t->status, sum);
    log_info("task_run_done", "{s:O}", "summary", sum);
    return 0;
}
