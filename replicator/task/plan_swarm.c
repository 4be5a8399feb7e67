/* SPDX-License-Identifier: MPL-2.0 */
/*
 * plan_swarm: the swarm copies of pass 2 (issue 13; docs/REPLICATION.md
 * "Swarming copies", docs/PLANNER.md): which pending sleds copy an
 * artifact with a piece manifest at once, and the nominal source each
 * one names (a holder in wave 0, else a PUT target of this plan in
 * wave 1). Called by plan_copy.c before the epidemic waves. Pure: no I/O,
 * no globals; any thread.
 */
#include "replicator/task/plan_internal.h"

#include "common/rng.h"

/* Source a is preferred to b: not avoided when b is, else less loaded. */
static bool src_before(const struct ctx *c, uint32_t a, uint32_t b)
{
    bool va = c->in->sleds[a].avoid_source, vb = c->in->sleds[b].avoid_source;

    if (va != vb)
        return vb;
    return c->load[a] < c->load[b];
}

int plan_swarm(size_t *npend, size_t *dropped, struct ctx *c, uint32_t art,
               size_t nsrc)
{
    const struct plan_input *in = c->in;
    bool holder = false;
    size_t keep = 0;
    int rc = 0;

    for (size_t i = 0; i < nsrc; i++)
        holder |= c->src[i].dep == -1;
    for (size_t j = 0; j < *npend; j++) {
        uint32_t t = c->pend[j], ties = 0;
        int64_t best = -1;
        int32_t idx;

        if (!in->sleds[t].pieces || c->full) {
            c->pend[keep++] = t;
            continue;
        }
        if (c->tload[t] >= c->lim->max_per_target) {
            (*dropped)++;
            continue;
        }
        for (size_t i = 0; i < nsrc; i++) {
            uint32_t s = c->src[i].sled;

            if ((c->src[i].dep == -1) != holder || s == t ||
                c->load[s] >= c->lim->max_per_source)
                continue;
            if (best < 0 || src_before(c, s, c->src[best].sled)) {
                best = (int64_t)i;
                ties = 1;
            } else if (!src_before(c, c->src[best].sled, s) &&
                       rng_below(&c->rng, ++ties) == 0) {
                best = (int64_t)i;
            }
        }
        if (best < 0) {
            c->pend[keep++] = t;
            continue;
        }
        rc = plan_emit(&idx, c, PLAN_COPY, art, t,
                       (int32_t)c->src[best].sled, c->src[best].dep,
                       holder ? 0 : 1);
        if (rc < 0)
            break;
        /* from a PUT target that serves verified pieces of the PUT while
         * it flows: sent as soon as the PUT has started */
        if (!holder && c->src[best].dep >= 0 &&
            c->p->reqs[c->src[best].dep].kind == PLAN_PUT &&
            in->sleds[c->src[best].sled].pieces)
            c->p->reqs[idx].started = true;
    }
    *npend = keep;
    return rc;
}
