/* SPDX-License-Identifier: MPL-2.0 */
/*
 * status_grid: the sleds x repos grid of the status JSON (see
 * status_grid.h). One pass over each sled's inventory, adding each held
 * artifact to the repos that want it: O(inventory x repos per artifact).
 * Loop thread.
 */
#include "replicator/task/status_grid.h"
#include "replicator/task/task_internal.h"

#include <string.h>

#include "common/mem.h"

bool status_sled_full(const struct task_run *r, const struct collect_sled *s)
{
    size_t na = r->ci.in.n_artifacts;
    uint8_t *have;
    bool full = false;

    if (!s->space_known || !r->ci_built)
        return false;
    have = mem_calloc(na + 1, 1);
    if (!have)
        return false;
    for (size_t k = 0; k < s->n_inventory; k++)
        if (s->inventory[k].count && s->inventory[k].artifact < na)
            have[s->inventory[k].artifact] = 1;
    for (size_t k = 0; k < s->n_in_progress; k++)
        if (s->in_progress[k] < na)
            have[s->in_progress[k]] = 1;
    for (size_t a = 0; a < na && !full; a++)
        full = !have[a] && r->ci.arts[a].length > s->writable_bytes;
    mem_free(have);
    return full;
}

/* Append n integers to a new array; NULL on ERR_NOMEM. */
static json_t *int_array(const uint64_t *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_integer((json_int_t)v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *sled_row(const struct task_run *r, const struct collect_sled *s,
                        uint64_t *held, uint64_t *complete, uint64_t *bytes)
{
    size_t nr = r->ci.in.n_repos;

    memset(held, 0, nr * sizeof(*held));
    memset(complete, 0, nr * sizeof(*complete));
    memset(bytes, 0, nr * sizeof(*bytes));
    for (size_t k = 0; k < s->n_inventory; k++) {
        const struct plan_holding *h = &s->inventory[k];
        const struct plan_artifact *a;

        if (h->count == 0 || h->artifact >= r->ci.in.n_artifacts)
            continue;
        a = &r->ci.arts[h->artifact];
        for (size_t i = 0; i < a->n_repos; i++) {
            held[a->repos[i]]++;
            complete[a->repos[i]] += h->count >= s->datasets;
            bytes[a->repos[i]] += a->length;
        }
    }
    return json_pack("{s:s, s:o*, s:o*, s:o*}", "id", s->id, "held",
                     int_array(held, nr), "complete", int_array(complete, nr),
                     "bytes", int_array(bytes, nr));
}

json_t *status_grid_json(const struct task_run *r)
{
    size_t nr = r->ci.in.n_repos;
    uint64_t *v = mem_calloc(4 * nr + 1, sizeof(*v));
    json_t *names = json_array(), *sleds = json_array(), *o = NULL;

    if (!v || !names || !sleds)
        goto out;
    for (size_t i = 0; i < nr; i++)
        if (json_array_append_new(names, json_string(r->ci.repo_names[i])) <
            0)
            goto out;
    for (size_t k = 0; k < r->ci.in.n_artifacts; k++) {
        const struct plan_artifact *a = &r->ci.arts[k];

        for (size_t i = 0; i < a->n_repos; i++) {
            v[a->repos[i]]++;
            v[nr + a->repos[i]] += a->length;
        }
    }
    o = json_pack("{s:O, s:o*, s:o*, s:O}", "repos", names, "repo_artifacts",
                  int_array(v, nr), "repo_bytes", int_array(v + nr, nr),
                  "sleds", sleds);
    for (size_t s = 0; o && s < r->n_sleds; s++) {
        json_t *row = sled_row(r, &r->sleds[s], v, v + nr, v + 2 * nr);

        if (!row || json_array_append_new(sleds, row) < 0) {
            json_decref(o);
            o = NULL;
        }
    }
out:
    json_decref(names);
    json_decref(sleds);
    mem_free(v);
    return o;
}
