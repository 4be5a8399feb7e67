/* SPDX-License-Identifier: MPL-2.0 */
/*
 * task_status: the task's reported state (see task_status.h): recorded
 * from a finished run, rendered as the status JSON (DESIGN.md 4.3) and
 * the Prometheus lines. Loop thread only.
 */
#include "replicator/task/task_status.h"
#include "replicator/task/task_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "replicator/db/db.h"
#include "common/mem.h"
#include "common/prom.h"
#include "replicator/staging.h"
#include "replicator/task/execute.h"
#include "replicator/task/plan.h"
#include "replicator/task/status_grid.h"

int task_status_init(struct task_status *s)
{
    memset(s, 0, sizeof(*s));
    return status_ring_init(&s->ring, STATUS_RING_CAP);
}

void task_status_release(struct task_status *s)
{
    status_ring_release(&s->ring);
    json_decref(s->last_summary);
    json_decref(s->last_sleds);
    json_decref(s->last_repos);
    json_decref(s->last_lost);
    json_decref(s->last_isolated);
    json_decref(s->last_stuck);
    json_decref(s->last_prune);
    json_decref(s->last_grid);
    stuck_release(&s->stuck);
    memset(s, 0, sizeof(*s));
}

static const char *sled_state_name(enum collect_sled_state s)
{
    switch (s) {
    case COLLECT_OK:
        return "ok";
    case COLLECT_UNREACHABLE:
        return "unreachable";
    case COLLECT_ISOLATED:
        return "isolated";
    case COLLECT_INVALID_ADDRESS:
        return "invalid_address";
    case COLLECT_HELD:
        return "held";
    default:
        return "pending";
    }
}

/* A held sled's override and remedy into its entry o. */
static int held_add(json_t *o, const struct collect_sled *s)
{
    char remedy[320];
    json_t *ov = NULL;

    if (s->override_id[0])
        ov = json_pack("{s:s, s:s, s:s}", "id", s->override_id, "reason",
                       s->override_reason, "set_at", s->override_set_at);
    snprintf(remedy, sizeof(remedy),
             "held by an operator for an out-of-band install: the task "
             "changes nothing on it; once the install is done run "
             "`replicator sled resume %s --override %s`", s->id,
             s->override_id[0] ? s->override_id : "UUID");
    if (json_object_set_new(o, "override", ov ? ov : json_null()) < 0 ||
        json_object_set_new(o, "remedy", json_string(remedy)) < 0)
        return ERR_NOMEM;
    return 0;
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
        if (o) /* a copy from it failed lately (srcavoid.h) */
            json_object_set_new(o, "avoided_source",
                                json_boolean(s->avoid_source));
        if (o && s->space_known) {
            json_object_set_new(o, "writable_bytes",
                                json_integer((json_int_t)s->writable_bytes));
            json_object_set_new(o, "full",
                                json_boolean(status_sled_full(r, s)));
        }
        if (o && s->state == COLLECT_HELD && held_add(o, s) < 0) {
            json_decref(o);
            o = NULL;
        }
        if (o && s->state == COLLECT_INVALID_ADDRESS)
            json_object_set_new(o, "remedy", json_string(
                "the registered address is not IP:PORT: the sled's next "
                "registration (every 30 s) replaces it; if the sled is "
                "gone, run `replicator sled expunge ID`"));
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* The held sleds of the last run, from its sleds: {id, override,
 * remedy} each (an empty array on ERR_NOMEM too: the sleds say it). */
static json_t *held_sleds_json(const json_t *sleds)
{
    json_t *arr = json_array(), *e;
    size_t i;

    json_array_foreach((json_t *)sleds, i, e) {
        const char *st = jsonu_str(e, "state");

        if (arr && st && !strcmp(st, "held"))
            json_array_append_new(
                arr, json_pack("{s:O, s:O, s:O}", "id",
                               json_object_get(e, "id"), "override",
                               json_object_get(e, "override"), "remedy",
                               json_object_get(e, "remedy")));
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

/* Whether sled s holds artifact a completely. */
static bool holds(const struct collect_sled *s, const struct plan_holding *h)
{
    return s->state == COLLECT_OK && h->count > 0 &&
           h->count >= (s->datasets ? s->datasets : 1);
}

/* Whether artifact a is wanted by repo k. */
static bool in_repo(const struct plan_artifact *a, size_t k)
{
    for (size_t i = 0; i < a->n_repos; i++)
        if (a->repos[i] == k)
            return true;
    return false;
}

/* Copies of repo k's artifacts sled s holds (0 unless it answered). */
static uint64_t sled_repo_held(const struct task_run *r,
                               const struct collect_sled *s, size_t k)
{
    uint64_t n = 0;

    for (size_t i = 0; i < s->n_inventory; i++)
        if (holds(s, &s->inventory[i]) &&
            s->inventory[i].artifact < r->ci.in.n_artifacts &&
            in_repo(&r->ci.arts[s->inventory[i].artifact], k))
            n++;
    return n;
}

/* The sleds of r that were full in this run: a request to them failed
 * with 507 (the ring's entries since the run started). */
static bool sled_full(const struct task_status *st, const struct task_run *r,
                      const char *id)
{
    for (size_t i = 0; i < st->ring.count; i++) {
        const struct status_entry *e = status_ring_get(&st->ring, i);

        if (e->time_ms < r->started_ms)
            break;
        if (!strcmp(e->sled, id) && !strncmp(e->error, "HTTP 507", 8))
            return true;
    }
    return false;
}

/* Append id to the array under key in o. */
static int add_id(json_t *o, const char *key, const char *id)
{
    return json_array_append_new(json_object_get(o, key), json_string(id));
}

/*
 * The likely cause of stuck repo k: its lacking sleds by state, the full
 * ones, the held generation, and a one-line summary.
 */
static json_t *stuck_cause_json(const struct task_status *st,
                                const struct task_run *r, size_t k,
                                const struct stuck_entry *e, int64_t now_ms,
                                uint64_t wanted)
{
    const struct plan_repo_status *p = &r->plan->summary.repos[k];
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:[], s:[], s:[], s:[],"
                          " s:[], s:[]}",
                          "system_version", r->ci.repo_names[k], "since_ms",
                          (json_int_t)e->since_ms, "stuck_for_secs",
                          (json_int_t)((now_ms - e->since_ms) / 1000),
                          "copies_held", (json_int_t)e->best,
                          "copies_wanted", (json_int_t)wanted, "isolated",
                          "unreachable", "invalid_address", "full", "held",
                          "lagging");
    struct buf why = BUF_INIT;
    size_t n_bad = 0;
    int rc = o ? 0 : ERR_NOMEM;

    for (size_t i = 0; rc == 0 && i < r->n_sleds; i++) {
        const struct collect_sled *s = &r->sleds[i];

        if (s->state == COLLECT_OK &&
            sled_repo_held(r, s, k) >= p->artifacts)
            continue;
        if (s->state == COLLECT_HELD)
            rc = add_id(o, "held", s->id);
        else if (sled_full(st, r, s->id))
            rc = add_id(o, "full", s->id);
        else if (s->state == COLLECT_ISOLATED)
            rc = add_id(o, "isolated", s->id);
        else if (s->state == COLLECT_INVALID_ADDRESS)
            rc = add_id(o, "invalid_address", s->id);
        else if (s->state != COLLECT_OK)
            rc = add_id(o, "unreachable", s->id);
        else
            rc = add_id(o, "lagging", s->id);
        n_bad += s->state != COLLECT_OK || sled_full(st, r, s->id);
    }
    if (rc == 0 && r->held)
        rc = json_object_set_new(
            o, "generation_held",
            json_pack("{s:I, s:s}", "generation",
                      (json_int_t)r->wanted.generation, "reason",
                      r->held_reason));
    /* one line an operator can act on */
    if (rc == 0) {
        static const struct {
            const char *key, *what;
        } kinds[] = {
            {"isolated", "isolated (run `replicator generation bump "
                         "--past-fleet`)"},
            {"unreachable", "unreachable"},
            {"invalid_address", "registered with an invalid address"},
            {"full", "full (507: free space or raise the quota)"},
            {"held", "held for an out-of-band install (resume: "
                     "`replicator sled resume ID --override UUID`, see "
                     "held_sleds)"}};

        rc = buf_printf(&why, "no new copy for %" PRId64 " s (%" PRIu64
                        " of %" PRIu64 " held)",
                        (now_ms - e->since_ms) / 1000, e->best, wanted);
        for (size_t i = 0; rc == 0 && i < sizeof(kinds) / sizeof(kinds[0]);
             i++) {
            const json_t *ids = json_object_get(o, kinds[i].key);
            const json_t *v;
            size_t j;

            if (!json_array_size(ids))
                continue;
            rc = buf_printf(&why, "; %zu sled(s) %s:", json_array_size(ids),
                            kinds[i].what);
            json_array_foreach(ids, j, v)
                if (rc == 0)
                    rc = buf_printf(&why, " %s", json_string_value(v));
        }
        if (rc == 0 && r->held)
            rc = buf_printf(&why, "; generation %" PRIu64 " held by the "
                            "mass-deletion guard (confirm it: `replicator "
                            "generation confirm %" PRIu64 "`)",
                            r->wanted.generation, r->wanted.generation);
        if (rc == 0 && n_bad == 0 && !r->held)
            rc = buf_printf(&why, "; no sled is isolated, unreachable, full "
                            "or held: requests to the lagging sleds fail or "
                            "are deferred (see request_ring, "
                            "requests_deferred)");
        if (rc == 0)
            rc = json_object_set_new(o, "cause", json_string(why.data));
    }
    buf_release(&why);
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/*
 * Update the convergence clocks from run r and render the stuck repos
 * (NULL on ERR_NOMEM). marks[k] tells repos_json which repos are stuck.
 */
/* What run r saw of each repository into v[0..n_repos). */
static void stuck_seen(struct stuck_repo *v, const struct task_run *r)
{
    for (size_t k = 0; k < r->plan->summary.n_repos; k++) {
        v[k].name = r->ci.repo_names[k];
        v[k].wanted = (uint64_t)r->plan->summary.repos[k].artifacts *
                      r->n_sleds;
        v[k].held = 0;
        for (size_t i = 0; i < r->n_sleds; i++)
            v[k].held += sled_repo_held(r, &r->sleds[i], k);
    }
}

int task_status_clocks(struct task_status *s, const struct task_run *r)
{
    struct stuck_repo *v;
    int rc;

    if (r->load_rc < 0 || !r->plan)
        return ERR_INVAL;
    if (s->clocks_run == r->id)
        return 0;
    v = mem_calloc(r->plan->summary.n_repos + 1, sizeof(*v));
    if (!v)
        return ERR_NOMEM;
    stuck_seen(v, r);
    rc = stuck_update(&s->stuck, v, r->plan->summary.n_repos,
                      status_now_ms());
    if (rc == 0)
        s->clocks_run = r->id;
    mem_free(v);
    return rc;
}

void task_status_adopt_clocks(struct task_status *s, struct stuck_tracker *t)
{
    stuck_release(&s->stuck);
    s->stuck = *t;
    *t = (struct stuck_tracker)STUCK_TRACKER_INIT;
    s->clocks_run = 0;
}

static json_t *stuck_json(struct task_status *st, const struct task_run *r,
                          bool *marks, uint64_t stuck_after_secs)
{
    size_t n = r->plan->summary.n_repos;
    struct stuck_repo *v = mem_calloc(n + 1, sizeof(*v));
    int64_t now = status_now_ms();
    json_t *arr = json_array();

    if (!v || !arr)
        goto fail;
    stuck_seen(v, r);
    if (task_status_clocks(st, r) < 0)
        goto fail;
    for (size_t k = 0; k < n; k++) {
        const struct stuck_entry *e = stuck_find(&st->stuck, v[k].name);
        json_t *o;

        if (!stuck_is(e, now, stuck_after_secs))
            continue;
        marks[k] = true;
        o = stuck_cause_json(st, r, k, e, now, v[k].wanted);
        if (!o || json_array_append_new(arr, o) < 0)
            goto fail;
    }
    mem_free(v);
    return arr;
fail:
    mem_free(v);
    json_decref(arr);
    return NULL;
}

static json_t *repos_json(const struct task_run *r, const bool *stuck)
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
        o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:b, s:b, s:I,"
                      " s:I, s:I, s:I}",
                      "system_version", r->ci.repo_names[i], "artifacts",
                      (json_int_t)p->artifacts, "on_all_sleds",
                      (json_int_t)p->on_all_sleds, "on_min_sleds",
                      (json_int_t)p->on_min_sleds, "lost",
                      (json_int_t)p->lost, "at_risk", (json_int_t)p->at_risk,
                      "sufficient", p->sufficient, "staged_here", staged,
                      "stuck", stuck && stuck[i], "copies_held",
                      (json_int_t)p->copies_held, "copies_wanted",
                      (json_int_t)p->copies_wanted, "bytes_held",
                      (json_int_t)p->bytes_held, "bytes_wanted",
                      (json_int_t)p->bytes_wanted);
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

void task_status_record_run(struct task_status *s, const struct task_run *r,
                            uint64_t bogus, uint64_t stuck_after_secs)
{
    s->bogus_total += bogus;
    s->last_counters = r->counters;
    status_counters_sum(&s->lifetime, &r->counters);
    if (r->exec) {
        struct execute_result er;

        execute_result(r->exec, &er);
        s->bytes_put += er.put_bytes;
        s->bytes_copy += er.copy_bytes;
    }
    /* decided at the end of this run (task_report_decide) */
    s->repos_failed_total += r->n_fail;
    if (r->load_rc < 0 && db_err_unavailable(&r->load_err)) {
        if (!s->db_unavailable)
            s->db_unavailable_since_ms = r->started_ms;
        s->db_unavailable = true;
        s->db_unavailable_runs_total++;
        snprintf(s->db_error, sizeof(s->db_error), "%s", r->load_err.msg);
    } else if (r->load_rc == 0) {
        s->db_unavailable = false;
    }
    if (r->load_rc < 0)
        return;
    s->generation = r->wanted.generation;
    s->local_repos = r->n_staged >= r->dropped ? r->n_staged - r->dropped : 0;
    s->last_held = r->held;
    snprintf(s->last_held_reason, sizeof(s->last_held_reason), "%s",
             r->held ? r->held_reason : "");
    s->held_generation = r->held ? r->wanted.generation : 0;
    s->repos_replicated_total += r->dropped;
    set_json(&s->last_sleds, sleds_json(r));
    set_json(&s->last_isolated, isolated_json(r));
    if (r->plan) {
        bool *marks = mem_calloc(r->plan->summary.n_repos + 1,
                                 sizeof(*marks));

        s->requests_deferred = r->plan->summary.requests_deferred;
        set_json(&s->last_stuck,
                 marks ? stuck_json(s, r, marks, stuck_after_secs) : NULL);
        set_json(&s->last_repos, repos_json(r, marks));
        set_json(&s->last_lost, lost_json(r));
        set_json(&s->last_grid, status_grid_json(r));
        mem_free(marks);
    }
}

void task_status_set_prune(struct task_status *s, json_t *prune)
{
    if (!prune)
        return;
    json_decref(s->last_prune);
    s->last_prune = prune;
}

void task_status_set_summary(struct task_status *s, json_t *sum)
{
    set_json(&s->last_summary, json_incref(sum));
}

const json_t *task_status_summary(const struct task_status *s)
{
    return s->last_summary;
}

/* A new reference to v, or a new empty array before the first run. */
static json_t *or_empty(json_t *v)
{
    return v ? json_incref(v) : json_array();
}

json_t *task_status_json(struct task *t, size_t ring_offset,
                         size_t ring_limit)
{
    const struct task_status *s = &t->status;
    json_t *o = json_pack(
        "{s:s, s:s, s:I, s:I, s:I, s:I, s:o*, s:o*, s:o*, s:o*, s:I, s:I, "
        "s:I}",
        "name", "tuf_artifact_replication", "state",
        task_state_name(t->state), "runs", (json_int_t)t->runs, "generation",
        (json_int_t)s->generation, "local_repos", (json_int_t)s->local_repos,
        "requests_deferred", (json_int_t)s->requests_deferred,
        "last_run_counters", status_counters_json(&s->last_counters),
        "lifetime_counters", status_counters_json(&s->lifetime),
        "request_ring", status_ring_json(&s->ring, ring_offset, ring_limit),
        "request_debug_ringbuf",
        status_ring_omicron_json(&s->ring, ring_offset, ring_limit),
        "request_ring_size", (json_int_t)s->ring.count, "request_ring_total",
        (json_int_t)s->ring.total, "repos_replicated_total",
        (json_int_t)s->repos_replicated_total);

    if (!o)
        return NULL;
    json_object_set_new(o, "repos_failed_total",
                        json_integer((json_int_t)s->repos_failed_total));
    json_object_set_new(o, "bogus_entries_total",
                        json_integer((json_int_t)s->bogus_total));
    json_object_set(o, "last_run", s->last_summary ? s->last_summary
                                                   : json_null());
    json_object_set_new(o, "last_run_ok",
                        json_boolean(s->last_summary &&
                                     status_counters_ok(&s->last_counters)));
    json_object_set_new(o, "sleds", or_empty(s->last_sleds));
    json_object_set_new(o, "repos", or_empty(s->last_repos));
    json_object_set_new(o, "lost_artifacts", or_empty(s->last_lost));
    json_object_set(o, "grid", s->last_grid ? s->last_grid : json_null());
    json_object_set_new(o, "bytes",
                        json_pack("{s:I, s:I}", "put",
                                  (json_int_t)s->bytes_put, "copy",
                                  (json_int_t)s->bytes_copy));
    json_object_set_new(o, "isolated_sleds", or_empty(s->last_isolated));
    json_object_set_new(o, "held_sleds", held_sleds_json(s->last_sleds));
    json_object_set_new(o, "stuck_repos", or_empty(s->last_stuck));
    json_object_set(o, "prune", s->last_prune ? s->last_prune : json_null());
    json_object_set_new(
        o, "database",
        s->db_unavailable
            ? json_pack("{s:b, s:I, s:s, s:I}", "available", 0,
                        "unavailable_since_ms",
                        (json_int_t)s->db_unavailable_since_ms, "error",
                        s->db_error, "unavailable_runs_total",
                        (json_int_t)s->db_unavailable_runs_total)
            : json_pack("{s:b, s:I}", "available", 1,
                        "unavailable_runs_total",
                        (json_int_t)s->db_unavailable_runs_total));
    json_object_set_new(
        o, "held_generations",
        s->last_held ? json_pack("[{s:I, s:s}]", "generation",
                                 (json_int_t)s->held_generation, "reason",
                                 s->last_held_reason)
                     : json_array());
    json_object_set_new(
        o, "last_activation",
        t->activated ? json_pack("{s:s, s:I}", "reason",
                                 task_reason_name(t->last_reason), "time_ms",
                                 (json_int_t)t->last_activation_ms)
                     : json_null());
    json_object_set_new(o, "config",
                        json_pack("{s:I, s:b, s:I, s:I, s:I, s:I, s:I}",
                                  "period_secs",
                                  (json_int_t)t->cfg.period_secs, "periodic",
                                  t->cfg.periodic, "min_sled_replication",
                                  (json_int_t)t->cfg.min_sled_replication,
                                  "max_inflight",
                                  (json_int_t)t->cfg.max_inflight,
                                  "max_per_target",
                                  (json_int_t)t->cfg.max_per_target,
                                  "max_per_source",
                                  (json_int_t)t->cfg.max_per_source,
                                  "stuck_after_secs",
                                  (json_int_t)t->cfg.stuck_after_secs));
    return o;
}

int task_metrics(struct task *t, struct buf *out)
{
    const struct task_status *s = &t->status;
    static const char *const ops[] = {"put_config", "list", "put", "copy",
                                      "put_revocations"};
    static const char req[] = "replicator_task_requests_total";
    const uint64_t *ok[] = {&s->lifetime.put_config_ok, &s->lifetime.list_ok,
                            &s->lifetime.put_ok, &s->lifetime.copy_ok,
                            &s->lifetime.put_revocations_ok};
    const uint64_t *er[] = {&s->lifetime.put_config_err,
                            &s->lifetime.list_err, &s->lifetime.put_err,
                            &s->lifetime.copy_err,
                            &s->lifetime.put_revocations_err};
    struct prom p;

    prom_init(&p, out);
    prom_family(&p, req, PROM_COUNTER, NULL);
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        prom_u64(&p, req, (const char *const[]){"operation", ops[i], "result",
                                                "ok", NULL}, *ok[i]);
        prom_u64(&p, req, (const char *const[]){"operation", ops[i], "result",
                                                "err", NULL}, *er[i]);
    }
    prom_counter(&p, "replicator_task_runs_total", NULL, t->runs);
    prom_gauge(&p, "replicator_task_generation", NULL, s->generation);
    prom_gauge(&p, "replicator_task_local_repos", NULL, s->local_repos);
    prom_gauge(&p, "replicator_task_requests_deferred", NULL,
               s->requests_deferred);
    prom_gauge(&p, "replicator_task_isolated_sleds", NULL,
               s->last_isolated ? json_array_size(s->last_isolated) : 0);
    prom_gauge(&p, "replicator_task_lost_artifacts", NULL,
               s->last_lost ? json_array_size(s->last_lost) : 0);
    prom_gauge(&p, "replicator_task_stuck_repos", NULL,
               s->last_stuck ? json_array_size(s->last_stuck) : 0);
    prom_gauge(&p, "replicator_task_generation_held", NULL,
               s->last_held ? 1 : 0);
    prom_gauge(&p, "replicator_task_last_run_ok", NULL,
               s->last_summary && status_counters_ok(&s->last_counters));
    prom_counter(&p, "replicator_task_repos_replicated_total", NULL,
                 s->repos_replicated_total);
    prom_counter(&p, "replicator_task_repos_failed_total", NULL,
                 s->repos_failed_total);
    return prom_rc(&p);
}
