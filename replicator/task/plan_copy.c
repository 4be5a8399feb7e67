/* SPDX-License-Identifier: MPL-2.0 */
/*
 * plan_copy: passes 2 and 3 of the planner (see plan.c and
 * docs/PLANNER.md): the COPY pass (every missing sled; the swarm copies
 * first when the artifact has a piece manifest, plan_swarm.c, then
 * epidemic waves) and the RECOPY pass (sleds holding fewer copies than
 * healthy datasets, after the artifact's last wave), and the wave-by-wave
 * assignment of targets to sources they share (spread, sort_sources).
 * Pure: no I/O, no globals; any thread.
 */
#include "replicator/task/plan_internal.h"

#include <string.h>

#include "common/limits.h"
#include "common/rng.h"

_Static_assert(LIMIT_SLEDS_PER_RACK <= 0x800, "sort_sources packs 11 bits");

/*
 * Sort src[0..n) by (avoided, load, incomplete, rnd) ascending: the key is
 * packed in 64 bits with the position in the low bits (unique keys, so the
 * result is deterministic) and sorted by LSD radix, 8 bits a pass. qsort with a
 * comparator was 60% of the planner's time on a 1000-sled rack.
 */
static void sort_sources(struct ctx *c, size_t n)
{
    uint64_t *k = c->keys, *t = c->keys_tmp, *sw;
    size_t cnt[256];

    for (size_t i = 0; i < n; i++) {
        uint64_t load = c->src[i].load < 0x7fffff ? c->src[i].load : 0x7fffff;
        uint64_t avoid = c->in->sleds[c->src[i].sled].avoid_source;

        k[i] = avoid << 63 | load << 40 |
               (uint64_t)(c->src[i].incomplete != 0) << 39 |
               (uint64_t)(c->src[i].rnd >> 4) << 11 | i;
    }
    for (int shift = 0; shift < 64; shift += 8) {
        size_t sum = 0;

        memset(cnt, 0, sizeof(cnt));
        for (size_t i = 0; i < n; i++)
            cnt[(k[i] >> shift) & 0xff]++;
        if (cnt[(k[0] >> shift) & 0xff] == n)
            continue; /* all equal in this byte */
        for (size_t b = 0; b < 256; b++) {
            size_t x = cnt[b];

            cnt[b] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++)
            t[cnt[(k[i] >> shift) & 0xff]++] = k[i];
        sw = k;
        k = t;
        t = sw;
    }
    for (size_t i = 0; i < n; i++)
        c->src_tmp[i] = c->src[k[i] & 0x7ff];
    memcpy(c->src, c->src_tmp, n * sizeof(*c->src));
}

/*
 * Assign the pending sleds pend[0..*npend) of artifact art to the sources
 * src[0..nsrc), wave by wave from `wave` on. In each wave the sources that
 * hold the artifact by then are taken least loaded first (a source to
 * avoid only when no other one is active) and each serves at
 * most max_copies_per_source targets, round-robin. With grow, a target
 * becomes a source for the next wave (epidemic). Leaves the unserved
 * sleds in pend[0..*npend) and counts in *dropped those that hit
 * max_per_target. Returns 0 or ERR_NOMEM.
 */
static int spread(size_t *npend, size_t *dropped, struct ctx *c,
                  enum plan_kind kind, uint32_t art, size_t nsrc,
                  uint32_t wave, bool grow)
{
    const struct plan_limits *l = c->lim;
    uint32_t *pend = c->pend;
    struct src *src = c->src;
    bool all = false, shrunk;
    int rc = 0;

    while (*npend > 0 && !c->full) {
        size_t nact = 0;
        uint32_t next_wave = UINT32_MAX;
        bool progress = false;

        for (size_t i = 0; i < nsrc; i++) {
            if (src[i].from_wave > wave) {
                if (src[i].from_wave < next_wave)
                    next_wave = src[i].from_wave;
            } else if (c->load[src[i].sled] < l->max_per_source) {
                struct src t = src[nact];

                src[nact] = src[i];
                src[i] = t;
                nact++;
            }
        }
        if (nact == 0) {
            if (next_wave == UINT32_MAX)
                break;
            wave = next_wave;
            continue;
        }
        for (size_t i = 0; i < nact; i++) {
            src[i].load = c->load[src[i].sled];
            src[i].rnd = (uint32_t)rng_next(&c->rng);
        }
        sort_sources(c, nact);
        /* avoided sources: only when the others could serve nobody */
        shrunk = false;
        if (!all && !c->in->sleds[src[0].sled].avoid_source)
            while (c->in->sleds[src[nact - 1].sled].avoid_source) {
                nact--;
                shrunk = true;
            }
        for (uint32_t round = 0; round < l->max_copies_per_source; round++) {
            bool any = false;

            for (size_t i = 0; i < nact && *npend > 0 && !c->full; i++) {
                uint32_t sled = src[i].sled, t;
                size_t j = 0;
                int32_t idx;

                if (c->load[sled] >= l->max_per_source)
                    continue;
                while (j < *npend) {
                    t = pend[j];
                    if (c->tload[t] >= l->max_per_target) {
                        pend[j] = pend[--*npend];
                        (*dropped)++;
                    } else if (t == sled) {
                        j++; /* a recopy never reads from its target */
                    } else {
                        break;
                    }
                }
                if (j >= *npend)
                    continue;
                t = pend[j];
                pend[j] = pend[--*npend];
                rc = plan_emit(&idx, c, kind, art, t, (int32_t)sled,
                               src[i].dep, wave);
                if (rc < 0)
                    goto out;
                any = progress = true;
                if (grow)
                    src[nsrc++] = (struct src){t, idx, wave + 1, 0, 0, 0};
            }
            if (!any)
                break;
        }
        if (progress) {
            wave++;
            all = false;
        } else if (shrunk) {
            all = true; /* the same wave with the avoided sources */
        } else if (next_wave != UINT32_MAX)
            wave = next_wave;
        else
            break;
    }
out:
    return rc;
}

/* Pass 2: COPY to every other missing sled, epidemic. */
int plan_pass_copy(struct ctx *c)
{
    const struct plan_input *in = c->in;
    const struct plan_request *reqs;
    int rc = 0;

    for (size_t k = 0; k < in->n_artifacts; k++) {
        uint32_t a = c->order[k];
        size_t npend = 0, nsrc = 0, dropped = 0;

        c->copy_first[a] = (uint32_t)c->p->n_reqs;
        reqs = c->p->reqs;
        (void)plan_load_artifact(c, a, NULL);
        for (uint32_t i = 0; i < c->put_n[a]; i++) {
            uint32_t r = c->put_first[a] + i;

            c->flags[reqs[r].target] |= F_PUT;
            c->src[nsrc++] = (struct src){reqs[r].target, (int32_t)r, 1,
                                          0, 0, 0};
        }
        for (uint32_t s = 0; s < in->n_sleds; s++) {
            if (!sled_usable(c, s))
                continue;
            if (c->cnt[s])
                c->src[nsrc++] = (struct src){
                    s, -1, 0, c->cnt[s] < in->sleds[s].healthy_datasets,
                    0, 0};
            else if (!c->flags[s] && sled_fits(c, s, a))
                c->pend[npend++] = s;
            else if (!c->flags[s])
                c->p->summary.requests_no_space++;
        }
        for (uint32_t i = 0; i < c->put_n[a]; i++)
            c->flags[reqs[c->put_first[a] + i].target] = 0;
        plan_unload_artifact(c, a);
        if (npend == 0)
            continue;
        if (nsrc == 0) {
            /* Staged but every PUT was cut by a limit: deferred. Not
             * staged: lost or at risk, reported by pass 0. */
            if (in->artifacts[a].staged)
                c->p->summary.requests_deferred += npend;
            continue;
        }
        rng_shuffle(&c->rng, c->pend, npend);
        if (in->artifacts[a].has_pieces) {
            rc = plan_swarm(&npend, &dropped, c, a, nsrc);
            if (rc < 0)
                goto out;
        }
        rc = spread(&npend, &dropped, c, PLAN_COPY, a, nsrc, 0, true);
        if (rc < 0)
            goto out;
        c->copy_n[a] = (uint32_t)(c->p->n_reqs - c->copy_first[a]);
        c->p->summary.requests_deferred += npend + dropped;
    }
out:
    return rc;
}

/* Pass 3: RECOPY to sleds with 0 < count < healthy datasets, from any other
 * holder, after this artifact's last wave. */
int plan_pass_recopy(struct ctx *c)
{
    const struct plan_input *in = c->in;
    int rc = 0;

    for (size_t k = 0; k < in->n_artifacts; k++) {
        uint32_t a = c->order[k];
        const struct plan_request *reqs = c->p->reqs;
        size_t npend = 0, nsrc = 0, dropped = 0, missing = 0;
        uint32_t firsts[2] = {c->put_first[a], c->copy_first[a]};
        uint32_t ns[2] = {c->put_n[a], c->copy_n[a]};

        (void)plan_load_artifact(c, a, NULL);
        for (uint32_t s = 0; s < in->n_sleds; s++) {
            if (!sled_usable(c, s))
                continue;
            if (!c->cnt[s]) {
                missing += !c->flags[s];
                continue;
            }
            c->src[nsrc++] = (struct src){
                s, -1, 0, c->cnt[s] < in->sleds[s].healthy_datasets, 0, 0};
            if (c->cnt[s] >= in->sleds[s].healthy_datasets || c->flags[s])
                continue;
            if (sled_fits(c, s, a))
                c->pend[npend++] = s;
            else
                c->p->summary.requests_no_space++;
        }
        plan_unload_artifact(c, a);
        if (npend == 0)
            continue;
        for (int g = 0; g < 2; g++)
            for (uint32_t i = 0; i < ns[g]; i++) {
                uint32_t r = firsts[g] + i;

                c->src[nsrc++] = (struct src){reqs[r].target, (int32_t)r,
                                              reqs[r].wave + 1, 0, 0, 0};
            }
        /* The only holder, with no sled to copy to that could become a
         * source, cannot be repaired: not a limit, so not deferred. */
        if (nsrc == 1 && missing == 0)
            continue;
        rng_shuffle(&c->rng, c->pend, npend);
        rc = spread(&npend, &dropped, c, PLAN_RECOPY, a, nsrc,
                    (uint32_t)(c->maxwave[a] + 1), false);
        if (rc < 0)
            goto out;
        c->p->summary.requests_deferred += npend + dropped;
    }
out:
    return rc;
}
