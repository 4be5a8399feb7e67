/* SPDX-License-Identifier: MPL-2.0 */
/*
 * task_report: the end-of-run decisions and reports of the reconciliation
 * task: which staged repos may be dropped (every wanted artifact of the
 * repo listed at G on >= min_sled_replication sleds), which repos are
 * marked failed (lost artifacts for longer than the grace period), the
 * run summary, the status JSON (DESIGN.md 4.3) and the Prometheus lines.
 * Loop thread only.
 */
#include "replicator/task/task_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
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
        t->repos_failed_total++;
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

/* ---- status snapshot ---- */

static const char *sled_state_name(enum collect_sled_state s)
{
    switch (s) {
    case COLLECT_OK:
        return "ok";
    case COLLECT_UNREACHABLE:
        return "unreachable";
    case COLLECT_ISOLATED:
        return "isolated";
    default:
        return "pending";
    }
}

static json_t *sleds_json(const struct task_run *r)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr && i < r->n_sleds; i++) {
        const struct collect_sled *s = &r->sleds[i];
        size_t complete = 0;
        json_t *o;

        for (size_t k = 0; k < s->n_inventory; k++)
            if (s->inventory[k].count >= s->datasets)
                complete++;
        o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}",
                      "id", s->id, "api_url", s->api_url, "depot_url",
                      s->depot_url, "state", sled_state_name(s->state),
                      "generation", (json_int_t)s->generation, "datasets",
                      (json_int_t)s->datasets, "artifacts",
                      (json_int_t)s->n_inventory, "artifacts_complete",
                      (json_int_t)complete, "in_progress",
                      (json_int_t)s->n_in_progress, "bogus_entries",
                      (json_int_t)s->bogus);
        if (o && s->error[0])
            json_object_set_new(o, "error", json_string(s->error));
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *isolated_json(const struct task_run *r)
{
    json_t *arr = json_array();
    char remedy[256];

    for (size_t i = 0; arr && i < r->n_sleds; i++) {
        const struct collect_sled *s = &r->sleds[i];
        json_t *o;

        if (s->state != COLLECT_ISOLATED)
            continue;
        snprintf(remedy, sizeof(remedy),
                 "the sled's ledger (generation %" PRIu64 ") is ahead of the "
                 "database (generation %" PRIu64 "): run `replicator "
                 "generation bump --past-fleet`",
                 s->generation, r->wanted.generation);
        o = json_pack("{s:s, s:I, s:s, s:s}", "id", s->id, "generation",
                      (json_int_t)s->generation, "error", s->error, "remedy",
                      remedy);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *repos_json(const struct task_run *r)
{
    const struct plan_summary *sum = &r->plan->summary;
    json_t *arr = json_array();

    for (size_t i = 0; arr && i < sum->n_repos; i++) {
        const struct plan_repo_status *p = &sum->repos[i];
        bool staged = false;
        json_t *o;

        for (size_t s = 0; s < r->n_staged && !staged; s++)
            staged = r->staged[s].system_version &&
                     !strcmp(r->staged[s].system_version,
                             r->ci.repo_names[i]);
        o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:b}",
                      "system_version", r->ci.repo_names[i], "artifacts",
                      (json_int_t)p->artifacts, "on_all_sleds",
                      (json_int_t)p->on_all_sleds, "on_min_sleds",
                      (json_int_t)p->on_min_sleds, "lost",
                      (json_int_t)p->lost, "at_risk", (json_int_t)p->at_risk,
                      "sufficient", p->sufficient, "staged_here", staged);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *lost_json(const struct task_run *r)
{
    const struct plan_summary *sum = &r->plan->summary;
    json_t *arr = json_array();
    char hex[SHA256_HEX_LEN + 1];

    for (size_t i = 0; arr && i < sum->n_lost; i++) {
        const struct plan_artifact *a = &r->ci.arts[sum->lost[i]];
        json_t *repos = json_array(), *o;

        for (size_t k = 0; repos && k < a->n_repos; k++)
            json_array_append_new(repos,
                                  json_string(r->ci.repo_names[a->repos[k]]));
        sha256_to_hex(hex, &a->hash);
        o = json_pack("{s:s, s:I, s:o}", "sha256", hex, "length",
                      (json_int_t)a->length, "repos",
                      repos ? repos : json_array());
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static void set_json(json_t **slot, json_t *v)
{
    json_decref(*slot);
    *slot = v;
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

int task_report_run(struct task *t, struct task_run *r)
{
    struct execute_result er;
    size_t ok = 0, unreachable = 0, isolated = 0, bogus = 0;
    bool converged;
    json_t *sum, *ctr;

    memset(&er, 0, sizeof(er));
    if (r->exec)
        execute_result(r->exec, &er);
    for (size_t i = 0; i < r->n_sleds; i++) {
        ok += r->sleds[i].state == COLLECT_OK;
        unreachable += r->sleds[i].state == COLLECT_UNREACHABLE ||
                       r->sleds[i].state == COLLECT_PENDING;
        isolated += r->sleds[i].state == COLLECT_ISOLATED;
        bogus += r->sleds[i].bogus;
    }
    t->bogus_total += bogus;
    t->last_counters = r->counters;
    status_counters_sum(&t->lifetime, &r->counters);
    if (r->load_rc == 0) {
        t->generation = r->wanted.generation;
        t->local_repos = r->n_staged >= r->dropped ? r->n_staged - r->dropped
                                                   : 0;
        t->last_held = r->held;
        snprintf(t->last_held_reason, sizeof(t->last_held_reason), "%s",
                 r->held ? r->held_reason : "");
        t->held_generation = r->held ? r->wanted.generation : 0;
        t->repos_replicated_total += r->dropped;
        set_json(&t->last_sleds, sleds_json(r));
        set_json(&t->last_isolated, isolated_json(r));
        if (r->plan) {
            t->requests_deferred = r->plan->summary.requests_deferred;
            set_json(&t->last_repos, repos_json(r));
            set_json(&t->last_lost, lost_json(r));
        }
        if (r->record_push && remember_pushed(t, r) < 0)
            return ERR_NOMEM;
    }
    converged = r->load_rc == 0 && !r->held && r->plan &&
                r->plan->n_reqs == 0 &&
                r->plan->summary.requests_deferred == 0 && unreachable == 0 &&
                isolated == 0 && r->plan->summary.n_lost == 0;
    ctr = status_counters_json(&r->counters);
    sum = json_pack("{s:I, s:s, s:I, s:I, s:I, s:b, s:b, s:o*, s:I, s:I, "
                    "s:I, s:I, s:I, s:I}",
                    "run", (json_int_t)r->id, "reason",
                    task_reason_name(r->reason), "started_ms",
                    (json_int_t)r->started_ms, "duration_ms",
                    (json_int_t)(status_now_ms() - r->started_ms),
                    "generation", (json_int_t)r->wanted.generation, "held",
                    r->held, "converged", converged, "counters", ctr,
                    "sleds_ok", (json_int_t)ok, "sleds_unreachable",
                    (json_int_t)unreachable, "sleds_isolated",
                    (json_int_t)isolated, "staged_dropped",
                    (json_int_t)r->dropped, "repos_marked_failed",
                    (json_int_t)r->n_fail, "bogus_entries",
                    (json_int_t)bogus);
    if (!sum)
        return ERR_NOMEM;
    if (r->load_rc < 0)
        json_object_set_new(sum, "error", json_string(r->load_err.msg));
    if (r->held)
        json_object_set_new(sum, "held_reason", json_string(r->held_reason));
    if (r->plan)
        json_object_set_new(
            sum, "plan",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "puts",
                      (json_int_t)r->plan->summary.puts, "copies",
                      (json_int_t)r->plan->summary.copies, "recopies",
                      (json_int_t)r->plan->summary.recopies,
                      "requests_deferred",
                      (json_int_t)r->plan->summary.requests_deferred, "waves",
                      (json_int_t)r->plan->summary.waves, "lost",
                      (json_int_t)r->plan->summary.n_lost));
    json_object_set_new(sum, "executed",
                        json_pack("{s:I, s:I, s:I, s:I}", "ok",
                                  (json_int_t)er.ok, "failed",
                                  (json_int_t)er.failed, "skipped",
                                  (json_int_t)er.skipped, "busy_retries",
                                  (json_int_t)er.busy_retries));
    r->summary = sum;
    set_json(&t->last_summary, json_incref(sum));
    log_info("task_run_done", "{s:O}", "summary", sum);
    return 0;
}

json_t *task_status_json(struct task *t, size_t ring_offset,
                         size_t ring_limit)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:I, s:I, s:I, s:I, s:o*, s:o*, s:o*, s:I, s:I, s:I}",
        "name", "tuf_artifact_replication", "state",
        task_state_name(t->state), "runs", (json_int_t)t->runs, "generation",
        (json_int_t)t->generation, "local_repos", (json_int_t)t->local_repos,
        "requests_deferred", (json_int_t)t->requests_deferred,
        "last_run_counters", status_counters_json(&t->last_counters),
        "lifetime_counters", status_counters_json(&t->lifetime),
        "request_ring", status_ring_json(&t->ring, ring_offset, ring_limit),
        "request_ring_size", (json_int_t)t->ring.count, "request_ring_total",
        (json_int_t)t->ring.total, "repos_replicated_total",
        (json_int_t)t->repos_replicated_total);

    if (!o)
        return NULL;
    json_object_set_new(o, "repos_failed_total",
                        json_integer((json_int_t)t->repos_failed_total));
    json_object_set_new(o, "bogus_entries_total",
                        json_integer((json_int_t)t->bogus_total));
    json_object_set(o, "last_run", t->last_summary ? t->last_summary
                                                   : json_null());
    json_object_set_new(o, "last_run_ok",
                        json_boolean(t->last_summary &&
                                     status_counters_ok(&t->last_counters)));
    json_object_set(o, "sleds", t->last_sleds ? t->last_sleds : json_array());
    json_object_set(o, "repos", t->last_repos ? t->last_repos : json_array());
    json_object_set(o, "lost_artifacts",
                    t->last_lost ? t->last_lost : json_array());
    json_object_set(o, "isolated_sleds",
                    t->last_isolated ? t->last_isolated : json_array());
    json_object_set_new(
        o, "held_generations",
        t->last_held ? json_pack("[{s:I, s:s}]", "generation",
                                 (json_int_t)t->held_generation, "reason",
                                 t->last_held_reason)
                     : json_array());
    json_object_set_new(
        o, "last_activation",
        t->activated ? json_pack("{s:s, s:I}", "reason",
                                 task_reason_name(t->last_reason), "time_ms",
                                 (json_int_t)t->last_activation_ms)
                     : json_null());
    json_object_set_new(o, "config",
                        json_pack("{s:I, s:b, s:I, s:I, s:I, s:I}",
                                  "period_secs",
                                  (json_int_t)t->cfg.period_secs, "periodic",
                                  t->cfg.periodic, "min_sled_replication",
                                  (json_int_t)t->cfg.min_sled_replication,
                                  "max_inflight",
                                  (json_int_t)t->cfg.max_inflight,
                                  "max_per_target",
                                  (json_int_t)t->cfg.max_per_target,
                                  "max_per_source",
                                  (json_int_t)t->cfg.max_per_source));
    return o;
}

int task_metrics(struct task *t, struct buf *out)
{
    static const char *const ops[] = {"put_config", "list", "put", "copy"};
    const uint64_t *ok[] = {&t->lifetime.put_config_ok, &t->lifetime.list_ok,
                            &t->lifetime.put_ok, &t->lifetime.copy_ok};
    const uint64_t *er[] = {&t->lifetime.put_config_err,
                            &t->lifetime.list_err, &t->lifetime.put_err,
                            &t->lifetime.copy_err};
    size_t isolated = t->last_isolated ? json_array_size(t->last_isolated) : 0;
    size_t lost = t->last_lost ? json_array_size(t->last_lost) : 0;
    int rc = buf_puts(out, "# TYPE replicator_task_requests_total counter\n");

    for (size_t i = 0; rc == 0 && i < 4; i++)
        rc = buf_printf(out,
                        "replicator_task_requests_total{operation=\"%s\","
                        "result=\"ok\"} %" PRIu64 "\n"
                        "replicator_task_requests_total{operation=\"%s\","
                        "result=\"err\"} %" PRIu64 "\n",
                        ops[i], *ok[i], ops[i], *er[i]);
    if (rc == 0)
        rc = buf_printf(
            out,
            "# TYPE replicator_task_runs_total counter\n"
            "replicator_task_runs_total %" PRIu64 "\n"
            "# TYPE replicator_task_generation gauge\n"
            "replicator_task_generation %" PRIu64 "\n"
            "# TYPE replicator_task_local_repos gauge\n"
            "replicator_task_local_repos %zu\n"
            "# TYPE replicator_task_requests_deferred gauge\n"
            "replicator_task_requests_deferred %zu\n"
            "# TYPE replicator_task_isolated_sleds gauge\n"
            "replicator_task_isolated_sleds %zu\n"
            "# TYPE replicator_task_lost_artifacts gauge\n"
            "replicator_task_lost_artifacts %zu\n"
            "# TYPE replicator_task_generation_held gauge\n"
            "replicator_task_generation_held %d\n"
            "# TYPE replicator_task_last_run_ok gauge\n"
            "replicator_task_last_run_ok %d\n"
            "# TYPE replicator_task_repos_replicated_total counter\n"
            "replicator_task_repos_replicated_total %" PRIu64 "\n"
            "# TYPE replicator_task_repos_failed_total counter\n"
            "replicator_task_repos_failed_total %" PRIu64 "\n",
            t->runs, t->generation, t->local_repos, t->requests_deferred,
            isolated, lost, t->last_held ? 1 : 0,
            t->last_summary && status_counters_ok(&t->last_counters) ? 1 : 0,
            t->repos_replicated_total, t->repos_failed_total);
    return rc < 0 ? ERR_NOMEM : 0;
}
