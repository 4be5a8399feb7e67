/* SPDX-License-Identifier: MPL-2.0 */
/*
 * plan_summary: pass 0 of the planner (see plan.c and docs/PLANNER.md):
 * from the collected state, the status summary of one activation (sleds
 * by state, lost and at-risk artifacts, staged artifacts present on
 * min_sled_replication OK sleds, per-repository completeness), the work
 * bound that sizes the request array, and the order in which the later
 * passes take the artifacts. Pure: no I/O, no globals; any thread.
 */
#include "replicator/task/plan_internal.h"

#include "common/err.h"

/* Counts the sleds by state; returns how many are usable. */
static size_t summarise_sleds(struct ctx *c)
{
    const struct plan_input *in = c->in;
    struct plan_summary *sm = &c->p->summary;
    size_t nusable = 0;

    for (uint32_t s = 0; s < in->n_sleds; s++) {
        switch (in->sleds[s].state) {
        case PLAN_SLED_OK:
            sm->n_planned_sleds++;
            nusable += sled_usable(c, s);
            break;
        case PLAN_SLED_UNREACHABLE:
            sm->n_unreachable++;
            break;
        case PLAN_SLED_ISOLATED:
            sm->isolated[sm->n_isolated++] = s;
            break;
        case PLAN_SLED_EXPUNGED:
            sm->n_expunged++;
            break;
        }
    }
    return nusable;
}

/*
 * Counts where loaded artifact a stands: *present on OK sleds (of which
 * *usable_with usable, *trusted with a trusted inventory), *offline on
 * the others, *prog_ok in progress on sleds without a copy; and adds a's
 * share to the work bound.
 */
static void count_holders(uint32_t *present, uint32_t *trusted,
                          uint32_t *offline, uint32_t *prog_ok,
                          uint32_t *usable_with, struct ctx *c, uint32_t a)
{
    const struct plan_input *in = c->in;

    for (uint32_t i = c->inv_off[a]; i < c->inv_off[a + 1]; i++) {
        uint32_t s = c->inv_sled[i];

        if (sled_ok(c, s)) {
            (*present)++;
            *trusted += !in->sleds[s].untrusted;
            *usable_with += sled_usable(c, s);
        } else {
            (*offline)++;
        }
    }
    for (uint32_t i = c->prog_off[a]; i < c->prog_off[a + 1]; i++)
        *prog_ok += c->cnt[c->prog_sled[i]] == 0;
    for (uint32_t s = 0; s < in->n_sleds; s++)
        c->work += sled_usable(c, s) && !c->flags[s] &&
                   c->cnt[s] < in->sleds[s].healthy_datasets;
}

/* Artifact a in the summary and in its repositories' status. */
static int summarise_artifact(struct ctx *c, uint32_t a, size_t nusable,
                              struct err *err)
{
    const struct plan_artifact *art = &c->in->artifacts[a];
    struct plan_summary *sm = &c->p->summary;
    uint32_t present = 0, trusted = 0, offline = 0, prog_ok = 0;
    uint32_t usable_with = 0;
    bool lost, at_risk, on_all, on_min;
    int rc = plan_load_artifact(c, a, err);

    if (rc < 0)
        return rc;
    count_holders(&present, &trusted, &offline, &prog_ok, &usable_with, c, a);
    plan_unload_artifact(c, a);
    /* Replication counts (PUTs, staged copies dropped) believe only
     * trusted inventories; lost/at-risk believe any holder. */
    c->present[a] = trusted;
    c->prog_ok[a] = prog_ok;
    lost = !art->staged && present == 0 && offline == 0 && prog_ok == 0;
    at_risk = !art->staged && present == 0 && !lost;
    on_all = nusable > 0 && usable_with == nusable;
    on_min = trusted >= c->lim->min_sled_replication;
    if (lost)
        sm->lost[sm->n_lost++] = a;
    if (at_risk)
        sm->at_risk[sm->n_at_risk++] = a;
    if (art->staged && on_min)
        sm->staged_sufficient[sm->n_staged_sufficient++] = a;
    for (size_t i = 0; i < art->n_repos; i++) {
        struct plan_repo_status *rs = &sm->repos[art->repos[i]];

        rs->artifacts++;
        rs->on_all_sleds += on_all;
        rs->on_min_sleds += on_min;
        rs->lost += lost;
        rs->at_risk += at_risk;
        rs->copies_held += usable_with;
        rs->copies_wanted += nusable;
        rs->bytes_held += (uint64_t)usable_with * art->length;
        rs->bytes_wanted += (uint64_t)nusable * art->length;
    }
    return 0;
}

/*
 * The artifact order: fewest holders first, random among equals (a
 * shuffle, then a stable counting sort by present count).
 */
static int order_artifacts(struct ctx *c)
{
    const struct plan_input *in = c->in;
    uint32_t *bucket = calloc_n(in->n_sleds + 2, sizeof(*bucket));

    if (!bucket)
        return ERR_NOMEM;
    for (uint32_t a = 0; a < in->n_artifacts; a++)
        c->pend[a] = a; /* pend is large enough: see plan_new */
    rng_shuffle(&c->rng, c->pend, in->n_artifacts);
    for (uint32_t a = 0; a < in->n_artifacts; a++)
        bucket[c->present[a] + 1]++;
    for (size_t i = 1; i < in->n_sleds + 2; i++)
        bucket[i] += bucket[i - 1];
    for (uint32_t i = 0; i < in->n_artifacts; i++) {
        uint32_t a = c->pend[i];

        c->order[bucket[c->present[a]]++] = a;
    }
    mem_free(bucket);
    return 0;
}

/* Pass 0: summary, and the artifact order (fewest holders first, random
 * among equals) so scarce artifacts get the budget first. */
int plan_pass_summary(struct ctx *c, struct err *err)
{
    struct plan_summary *sm = &c->p->summary;
    size_t nusable = summarise_sleds(c);

    for (uint32_t a = 0; a < c->in->n_artifacts; a++) {
        int rc = summarise_artifact(c, a, nusable, err);

        if (rc < 0)
            return rc;
    }
    for (uint32_t r = 0; r < sm->n_repos; r++) {
        struct plan_repo_status *rs = &sm->repos[r];

        rs->sufficient = rs->on_min_sleds == rs->artifacts;
        if (rs->lost)
            sm->lost_repos[sm->n_lost_repos++] = r;
    }
    return order_artifacts(c);
}
