/* SPDX-License-Identifier: MPL-2.0 */
/*
 * plan: turns one activation's collected state into requests and a status
 * summary (see plan.h and docs/PLANNER.md). Four passes over the artifacts,
 * each rebuilding a per-sled scratch view of one artifact from an index of
 * the inventories by artifact:
 *   0. validate, summarise (lost, at risk, per-repo completeness, staged
 *      artifacts replicated enough), choose the artifact order
 *      (plan_summary.c);
 *   1. PUT staged artifacts to (min(put_fanout, min_sled_replication) -
 *      present) sleds (here);
 *   2. COPY to every other missing sled: a swarm copy when the artifact
 *      has a piece manifest and the sled takes swarm copies (wave 0 from a
 *      holder, or wave 1 from a PUT target; plan_swarm.c), else in
 *      epidemic waves (plan_copy.c);
 *   3. RECOPY to sleds holding fewer copies than healthy datasets
 *      (plan_copy.c).
 * This file owns the entry point and what the passes share: input
 * validation, the index, the scratch context, request emission, pass 1,
 * and the final order: requests grouped by wave (copies, then recopies)
 * and their dependencies renumbered. Everything random comes from rng
 * seeded by the input seed. Pure: no I/O, no globals; any thread.
 */
#include "replicator/task/plan.h"

#include <string.h>

#include "common/err.h"
#include "common/limits.h"
#include "common/mem.h"
#include "common/rng.h"
#include "replicator/task/plan_internal.h"

static int check_input(const struct plan_input *in, struct err *err)
{
    const struct plan_limits *l = &in->limits;

    if (in->n_sleds > LIMIT_SLEDS_PER_RACK)
        return err_set(err, ERR_LIMIT, "plan: %zu sleds (limit %d)",
                       in->n_sleds, LIMIT_SLEDS_PER_RACK);
    if (in->n_artifacts > LIMIT_CONFIG_ARTIFACTS)
        return err_set(err, ERR_LIMIT, "plan: %zu artifacts (limit %d)",
                       in->n_artifacts, LIMIT_CONFIG_ARTIFACTS);
    if (l->min_sled_replication == 0 || l->max_copies_per_source == 0 ||
        l->put_fanout == 0)
        return err_set(err, ERR_INVAL, "plan: min_sled_replication, "
                       "max_copies_per_source and put_fanout must be >= 1");
    if ((in->n_sleds && !in->sleds) || (in->n_artifacts && !in->artifacts) ||
        (in->n_repos && !in->repos))
        return err_set(err, ERR_INVAL, "plan: NULL array with a count");
    for (size_t a = 0; a < in->n_artifacts; a++) {
        const struct plan_artifact *art = &in->artifacts[a];

        for (size_t i = 0; i < art->n_repos; i++)
            if (art->repos[i] >= in->n_repos)
                return err_set(err, ERR_INVAL, "plan: artifact %zu names "
                               "repo %u of %zu", a, art->repos[i],
                               in->n_repos);
    }
    for (size_t s = 0; s < in->n_sleds; s++) {
        const struct plan_sled *sl = &in->sleds[s];

        if ((unsigned)sl->state > PLAN_SLED_EXPUNGED ||
            sl->healthy_datasets > PLAN_MAX_DATASETS)
            return err_set(err, ERR_INVAL, "plan: sled %zu: bad state or "
                           "dataset count", s);
        for (size_t i = 0; i < sl->n_inventory; i++)
            if (sl->inventory[i].artifact >= in->n_artifacts ||
                sl->inventory[i].count > PLAN_MAX_DATASETS)
                return err_set(err, ERR_INVAL, "plan: sled %zu: bad "
                               "inventory entry %zu", s, i);
        for (size_t i = 0; i < sl->n_in_progress; i++)
            if (sl->in_progress[i] >= in->n_artifacts)
                return err_set(err, ERR_INVAL, "plan: sled %zu: bad "
                               "in-progress entry %zu", s, i);
    }
    return 0;
}

/* Build the by-artifact index of inventories (all but expunged sleds) and
 * of writes under way (OK sleds). */
static int build_index(struct ctx *c)
{
    const struct plan_input *in = c->in;
    size_t na = in->n_artifacts, ninv = 0, nprog = 0;
    uint32_t *cur = NULL;
    int rc = ERR_NOMEM;

    c->inv_off = calloc_n(na + 1, sizeof(*c->inv_off));
    c->prog_off = calloc_n(na + 1, sizeof(*c->prog_off));
    cur = calloc_n(na, sizeof(*cur));
    if (!c->inv_off || !c->prog_off || !cur)
        goto out;
    for (size_t s = 0; s < in->n_sleds; s++) {
        const struct plan_sled *sl = &in->sleds[s];

        if (sl->state == PLAN_SLED_EXPUNGED)
            continue;
        for (size_t i = 0; i < sl->n_inventory; i++)
            if (sl->inventory[i].count > 0) {
                c->inv_off[sl->inventory[i].artifact + 1]++;
                ninv++;
            }
        if (sl->state == PLAN_SLED_OK)
            for (size_t i = 0; i < sl->n_in_progress; i++) {
                c->prog_off[sl->in_progress[i] + 1]++;
                nprog++;
            }
    }
    for (size_t a = 0; a < na; a++) {
        c->inv_off[a + 1] += c->inv_off[a];
        c->prog_off[a + 1] += c->prog_off[a];
    }
    c->inv_sled = calloc_n(ninv, sizeof(*c->inv_sled));
    c->inv_cnt = calloc_n(ninv, sizeof(*c->inv_cnt));
    c->prog_sled = calloc_n(nprog, sizeof(*c->prog_sled));
    if (!c->inv_sled || !c->inv_cnt || !c->prog_sled)
        goto out;
    memcpy(cur, c->inv_off, na * sizeof(*cur));
    for (size_t s = 0; s < in->n_sleds; s++) {
        const struct plan_sled *sl = &in->sleds[s];

        if (sl->state == PLAN_SLED_EXPUNGED)
            continue;
        for (size_t i = 0; i < sl->n_inventory; i++) {
            const struct plan_holding *h = &sl->inventory[i];

            if (h->count == 0)
                continue;
            c->inv_sled[cur[h->artifact]] = (uint32_t)s;
            c->inv_cnt[cur[h->artifact]++] = (uint8_t)h->count;
        }
    }
    memcpy(cur, c->prog_off, na * sizeof(*cur));
    for (size_t s = 0; s < in->n_sleds; s++) {
        const struct plan_sled *sl = &in->sleds[s];

        if (sl->state != PLAN_SLED_OK)
            continue;
        for (size_t i = 0; i < sl->n_in_progress; i++)
            c->prog_sled[cur[sl->in_progress[i]]++] = (uint32_t)s;
    }
    rc = 0;
out:
    mem_free(cur);
    return rc;
}

/* Fill the per-sled scratch for artifact a. Returns 0 or ERR_INVAL when a
 * sled lists the artifact twice. */
int plan_load_artifact(struct ctx *c, uint32_t a, struct err *err)
{
    for (uint32_t i = c->inv_off[a]; i < c->inv_off[a + 1]; i++) {
        uint32_t s = c->inv_sled[i];

        if (c->cnt[s])
            return err_set(err, ERR_INVAL, "plan: sled %u lists artifact "
                           "%u twice", s, a);
        c->cnt[s] = c->inv_cnt[i];
    }
    for (uint32_t i = c->prog_off[a]; i < c->prog_off[a + 1]; i++)
        c->flags[c->prog_sled[i]] |= F_PROGRESS;
    return 0;
}

void plan_unload_artifact(struct ctx *c, uint32_t a)
{
    for (uint32_t i = c->inv_off[a]; i < c->inv_off[a + 1]; i++)
        c->cnt[c->inv_sled[i]] = 0;
    for (uint32_t i = c->prog_off[a]; i < c->prog_off[a + 1]; i++)
        c->flags[c->prog_sled[i]] = 0;
}

int plan_emit(int32_t *out, struct ctx *c, enum plan_kind kind,
              uint32_t art, uint32_t target, int32_t source, int32_t dep,
              uint32_t wave)
{
    struct plan *p = c->p;
    struct plan_request *r = mem_grow(p->reqs, &c->cap, p->n_reqs,
                                      sizeof(*r), 256);

    if (!r)
        return ERR_NOMEM;
    p->reqs = r;
    r = &p->reqs[p->n_reqs];
    r->kind = kind;
    r->artifact = art;
    r->target = target;
    r->source = source;
    r->depends_on = dep;
    r->started = false;
    r->wave = wave;
    *out = (int32_t)p->n_reqs++;
    c->tload[target]++;
    if (c->space[target] != UINT64_MAX)
        c->space[target] -= c->in->artifacts[art].length < c->space[target]
                                ? c->in->artifacts[art].length
                                : c->space[target];
    if (source >= 0)
        c->load[source]++;
    if (kind != PLAN_RECOPY && (int32_t)wave > c->maxwave[art])
        c->maxwave[art] = (int32_t)wave;
    if (kind == PLAN_PUT)
        p->summary.puts++;
    else if (kind == PLAN_COPY)
        p->summary.copies++;
    else
        p->summary.recopies++;
    if (p->n_reqs >= c->lim->max_requests)
        c->full = true;
    return 0;
}

/* Size the request array once: at most one request per pair short of
 * copies, and at most max_requests. */
static int reserve(struct ctx *c)
{
    size_t n = c->work < c->lim->max_requests ? c->work : c->lim->max_requests;

    if (n == 0)
        return 0;
    c->p->reqs = mem_calloc(n, sizeof(*c->p->reqs));
    if (!c->p->reqs)
        return ERR_NOMEM;
    c->cap = n;
    return 0;
}

/* Pass 1: PUT each staged artifact to min(put_fanout, min) - present -
 * writes-under-way random missing sleds (at least one when no sled holds
 * it). The controller's link is the scarce one: with put_fanout 1 it sends
 * each artifact once and pass 2 has every other sled copy from a holder. */
static int pass_put(struct ctx *c)
{
    const struct plan_input *in = c->in;
    uint32_t fanout = c->lim->put_fanout < c->lim->min_sled_replication
                          ? c->lim->put_fanout
                          : c->lim->min_sled_replication;
    int rc = 0;

    for (size_t k = 0; k < in->n_artifacts; k++) {
        uint32_t a = c->order[k], have = c->present[a] + c->prog_ok[a];
        uint32_t need = have < fanout ? fanout - have : 0;
        size_t n = 0;

        /* With no holder yet, PUT at least once even if writes are under
         * way, so the other sleds can copy in this activation. */
        if (need == 0 && c->present[a] == 0)
            need = 1;

        c->put_first[a] = (uint32_t)c->p->n_reqs;
        if (!in->artifacts[a].staged || need == 0)
            continue;
        (void)plan_load_artifact(c, a, NULL); /* validated by pass 0 */
        for (uint32_t s = 0; s < in->n_sleds; s++) {
            if (!sled_usable(c, s) || c->cnt[s] || c->flags[s])
                continue;
            if (sled_fits(c, s, a)) /* else counted by pass 2 */
                c->pend[n++] = s;
        }
        plan_unload_artifact(c, a);
        rng_shuffle(&c->rng, c->pend, n);
        for (size_t i = 0; i < n && need > 0; i++) {
            int32_t idx;

            if (c->full || c->p->summary.puts >= c->lim->max_puts)
                break;
            if (c->tload[c->pend[i]] >= c->lim->max_per_target)
                continue;
            rc = plan_emit(&idx, c, PLAN_PUT, a, c->pend[i], -1, -1, 0);
            if (rc < 0)
                goto out;
            need--;
            c->put_n[a]++;
        }
    }
out:
    return rc;
}

/* Stable sort of reqs[lo, hi) by wave into out, recording old->new in map. */
static int sort_section(struct ctx *c, struct plan_request *out,
                        uint32_t *map, size_t lo, size_t hi)
{
    const struct plan_request *r = c->p->reqs;
    uint32_t maxw = 0;
    size_t *pos = NULL;

    for (size_t i = lo; i < hi; i++)
        if (r[i].wave > maxw)
            maxw = r[i].wave;
    pos = calloc_n((size_t)maxw + 2, sizeof(*pos));
    if (!pos)
        return ERR_NOMEM;
    for (size_t i = lo; i < hi; i++)
        pos[r[i].wave + 1]++;
    pos[0] = lo;
    for (size_t w = 1; w < (size_t)maxw + 2; w++)
        pos[w] += pos[w - 1];
    for (size_t i = lo; i < hi; i++) {
        size_t j = pos[r[i].wave]++;

        out[j] = r[i];
        map[i] = (uint32_t)j;
    }
    mem_free(pos);
    return 0;
}

/* PUTs first (as planned), then copies by wave, then recopies by wave. */
static int order_requests(struct ctx *c)
{
    struct plan *p = c->p;
    size_t nput = p->summary.puts, ncopy = p->summary.copies;
    struct plan_request *out = NULL;
    uint32_t *map = NULL;
    int rc = ERR_NOMEM;

    if (p->n_reqs == 0)
        return 0;
    out = calloc_n(p->n_reqs, sizeof(*out));
    map = calloc_n(p->n_reqs, sizeof(*map));
    if (!out || !map)
        goto out;
    for (size_t i = 0; i < nput; i++) {
        out[i] = p->reqs[i];
        map[i] = (uint32_t)i;
    }
    rc = sort_section(c, out, map, nput, nput + ncopy);
    if (rc == 0)
        rc = sort_section(c, out, map, nput + ncopy, p->n_reqs);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < p->n_reqs; i++) {
        if (out[i].depends_on >= 0)
            out[i].depends_on = (int32_t)map[out[i].depends_on];
        if (out[i].wave + 1 > p->summary.waves)
            p->summary.waves = out[i].wave + 1;
    }
    mem_free(p->reqs);
    p->reqs = out;
    out = NULL;
    c->cap = p->n_reqs;
out:
    mem_free(out);
    mem_free(map);
    return rc;
}

static void ctx_release(struct ctx *c)
{
    void *v[] = {c->inv_off, c->inv_sled, c->inv_cnt, c->prog_off,
                 c->prog_sled, c->cnt, c->flags, c->load, c->tload, c->space,
                 c->order, c->present, c->prog_ok, c->put_first, c->put_n,
                 c->copy_first, c->copy_n, c->maxwave, c->pend, c->src,
                 c->src_tmp, c->keys, c->keys_tmp};

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        mem_free(v[i]);
}

static int ctx_alloc(struct ctx *c)
{
    size_t ns = c->in->n_sleds, na = c->in->n_artifacts;
    struct plan_summary *sm = &c->p->summary;

    c->cnt = calloc_n(ns, sizeof(*c->cnt));
    c->flags = calloc_n(ns, sizeof(*c->flags));
    c->load = calloc_n(ns, sizeof(*c->load));
    c->tload = calloc_n(ns, sizeof(*c->tload));
    c->space = calloc_n(ns, sizeof(*c->space));
    c->order = calloc_n(na, sizeof(*c->order));
    c->present = calloc_n(na, sizeof(*c->present));
    c->prog_ok = calloc_n(na, sizeof(*c->prog_ok));
    c->put_first = calloc_n(na, sizeof(*c->put_first));
    c->put_n = calloc_n(na, sizeof(*c->put_n));
    c->copy_first = calloc_n(na, sizeof(*c->copy_first));
    c->copy_n = calloc_n(na, sizeof(*c->copy_n));
    c->maxwave = calloc_n(na, sizeof(*c->maxwave));
    /* pend holds sleds, and artifacts once in pass 0 */
    c->pend = calloc_n(ns > na ? ns : na, sizeof(*c->pend));
    c->src = calloc_n(ns, sizeof(*c->src));
    c->src_tmp = calloc_n(ns, sizeof(*c->src_tmp));
    c->keys = calloc_n(ns, sizeof(*c->keys));
    c->keys_tmp = calloc_n(ns, sizeof(*c->keys_tmp));
    sm->lost = calloc_n(na, sizeof(*sm->lost));
    sm->at_risk = calloc_n(na, sizeof(*sm->at_risk));
    sm->staged_sufficient = calloc_n(na, sizeof(*sm->staged_sufficient));
    sm->lost_repos = calloc_n(c->in->n_repos, sizeof(*sm->lost_repos));
    sm->isolated = calloc_n(ns, sizeof(*sm->isolated));
    sm->repos = calloc_n(c->in->n_repos, sizeof(*sm->repos));
    sm->n_repos = c->in->n_repos;
    if (!c->cnt || !c->flags || !c->load || !c->tload || !c->space ||
        !c->order ||
        !c->present || !c->prog_ok || !c->put_first || !c->put_n ||
        !c->copy_first || !c->copy_n || !c->maxwave || !c->pend || !c->src ||
        !c->src_tmp || !c->keys || !c->keys_tmp ||
        !sm->lost || !sm->at_risk || !sm->staged_sufficient ||
        !sm->lost_repos || !sm->isolated || !sm->repos)
        return ERR_NOMEM;
    for (size_t a = 0; a < na; a++)
        c->maxwave[a] = -1;
    for (size_t s = 0; s < ns; s++)
        c->space[s] = c->in->sleds[s].space_known
                          ? c->in->sleds[s].writable_bytes
                          : UINT64_MAX;
    return 0;
}

int plan_new(struct plan **out, const struct plan_input *in, struct err *err)
{
    struct ctx c;
    struct plan *p = NULL;
    int rc;

    memset(&c, 0, sizeof(c));
    *out = NULL;
    rc = check_input(in, err);
    if (rc < 0)
        return rc;
    p = mem_calloc(1, sizeof(*p));
    if (!p) {
        rc = err_set(err, ERR_NOMEM, "plan: out of memory");
        goto out;
    }
    p->generation = in->generation;
    c.in = in;
    c.lim = &in->limits;
    c.p = p;
    c.full = in->limits.max_requests == 0;
    rng_init(&c.rng, in->seed);
    rc = ctx_alloc(&c);
    if (rc == 0)
        rc = build_index(&c);
    if (rc < 0) {
        rc = err_set(err, rc, "plan: out of memory");
        goto out;
    }
    rc = plan_pass_summary(&c, err);
    if (rc == 0)
        rc = reserve(&c);
    if (rc == 0)
        rc = pass_put(&c);
    if (rc == 0)
        rc = plan_pass_copy(&c);
    if (rc == 0)
        rc = plan_pass_recopy(&c);
    if (rc == 0)
        rc = order_requests(&c);
    if (rc == ERR_NOMEM)
        err_set(err, rc, "plan: out of memory");
    if (rc < 0)
        goto out;
    *out = p;
    p = NULL;
out:
    ctx_release(&c);
    plan_free(p);
    return rc;
}

void plan_free(struct plan *p)
{
    if (!p)
        return;
    mem_free(p->reqs);
    mem_free(p->summary.lost);
    mem_free(p->summary.lost_repos);
    mem_free(p->summary.at_risk);
    mem_free(p->summary.staged_sufficient);
    mem_free(p->summary.isolated);
    mem_free(p->summary.repos);
    mem_free(p);
}

int plan_artifact_find(size_t *out, const struct plan_artifact *artifacts,
                       size_t n, const struct sha256 *hash)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = sha256_cmp(&artifacts[mid].hash, hash);

        if (c == 0) {
            *out = mid;
            return 0;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ERR_NOTFOUND;
}

const char *plan_kind_name(enum plan_kind kind)
{
    switch (kind) {
    case PLAN_PUT:
        return "put";
    case PLAN_COPY:
        return "copy";
    case PLAN_RECOPY:
        return "recopy";
    }
    return "?";
}
