/* SPDX-License-Identifier: MPL-2.0 */
/*
 * plan_internal: what the planner's files share (plan.c: validation, the
 * index, request emission, the PUT pass and the request order;
 * plan_summary.c: pass 0, the summary and the artifact order;
 * plan_copy.c: the COPY and RECOPY passes in waves; plan_swarm.c: the
 * swarm copies). The planner's scratch context, its per-artifact scratch
 * view and the passes' entry points. Not for use outside
 * replicator/task/plan*.c. Pure: any thread, one context per plan_new.
 */
#ifndef REPLICATOR_TASK_PLAN_INTERNAL_H
#define REPLICATOR_TASK_PLAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/mem.h"
#include "common/rng.h"
#include "replicator/task/plan.h"

struct err;

#define F_PROGRESS 1u /* a write of the current artifact is under way */
#define F_PUT 2u      /* PUT target of the current artifact in this plan */

/* A sled that can serve the current artifact from wave from_wave on. */
struct src {
    uint32_t sled;
    int32_t dep;        /* request making it a holder, -1 if it is one */
    uint32_t from_wave;
    uint32_t incomplete; /* holds fewer copies than healthy datasets */
    uint32_t load;      /* copies it serves in the plan (sort key) */
    uint32_t rnd;       /* random tie-break */
};

struct ctx {
    const struct plan_input *in;
    const struct plan_limits *lim;
    struct rng rng;
    struct plan *p;
    size_t cap;
    bool full;   /* max_requests reached */
    size_t work; /* sled-artifact pairs short of copies: request bound */
    /* inventories and writes under way, indexed by artifact (CSR) */
    uint32_t *inv_off, *inv_sled;
    uint8_t *inv_cnt;
    uint32_t *prog_off, *prog_sled;
    /* per sled: scratch for the current artifact, and plan-wide loads */
    uint8_t *cnt, *flags;
    uint32_t *load, *tload;
    /* per sled: bytes it can still take (UINT64_MAX: it did not say) */
    uint64_t *space;
    /* per artifact */
    uint32_t *order, *present, *prog_ok;
    uint32_t *put_first, *put_n, *copy_first, *copy_n;
    int32_t *maxwave;
    /* per artifact work lists, at most one entry per sled */
    uint32_t *pend;
    struct src *src, *src_tmp;
    uint64_t *keys, *keys_tmp;
};

static inline void *calloc_n(size_t n, size_t size)
{
    /* Never ask for 0 bytes: a NULL would read as ERR_NOMEM. */
    return mem_calloc(n ? n : 1, size);
}

static inline bool sled_ok(const struct ctx *c, uint32_t s)
{
    return c->in->sleds[s].state == PLAN_SLED_OK;
}

/* An OK sled with somewhere to write: can be a target and a source. */
static inline bool sled_usable(const struct ctx *c, uint32_t s)
{
    return sled_ok(c, s) && c->in->sleds[s].healthy_datasets > 0;
}

/* Whether sled s has room for artifact a after what this plan already
 * sends it (plan_sled.writable_bytes). */
static inline bool sled_fits(const struct ctx *c, uint32_t s, uint32_t a)
{
    return c->space[s] >= c->in->artifacts[a].length;
}

/* Fill the per-sled scratch (cnt, flags) for artifact a from the index.
 * Returns 0 or ERR_INVAL (err set) when a sled lists the artifact twice. */
int plan_load_artifact(struct ctx *c, uint32_t a, struct err *err);

/* Clear what plan_load_artifact(c, a) set. */
void plan_unload_artifact(struct ctx *c, uint32_t a);

/*
 * plan.c: append a request to the plan and account for it (the target's
 * and source's loads, the target's space, the artifact's last wave, the
 * summary's counts; c->full at max_requests). *out is its index.
 * Returns 0 or ERR_NOMEM.
 */
int plan_emit(int32_t *out, struct ctx *c, enum plan_kind kind,
              uint32_t art, uint32_t target, int32_t source, int32_t dep,
              uint32_t wave);

/*
 * Pass 0 (plan_summary.c): fill c->p->summary (sled states, lost, at risk,
 * staged artifacts replicated enough, per-repo state), c->present,
 * c->prog_ok and c->work, and choose c->order (fewest holders first,
 * random among equals). Returns 0, ERR_INVAL (an artifact listed twice by
 * a sled; err set) or ERR_NOMEM.
 */
int plan_pass_summary(struct ctx *c, struct err *err);

/*
 * Pass 2 (plan_copy.c): COPY each artifact to every other missing usable
 * sled with room, from its holders and this plan's PUT targets: the swarm
 * copies first (plan_swarm), then epidemic waves. Counts the pairs left
 * unplanned in the summary (requests_deferred, requests_no_space).
 * Returns 0 or ERR_NOMEM.
 */
int plan_pass_copy(struct ctx *c);

/*
 * Pass 3 (plan_copy.c): RECOPY to sleds with 0 < count < healthy
 * datasets, from any other holder, after the artifact's last wave.
 * Returns 0 or ERR_NOMEM.
 */
int plan_pass_recopy(struct ctx *c);

/*
 * plan_swarm.c, in pass 2 before the epidemic waves of artifact art with
 * sources src[0..nsrc). Swarm copies (issue 13; docs/REPLICATION.md
 * "Swarming copies"): when the artifact has a piece manifest, every pending sled that advertises
 * "pieces" copies it at once, its nominal source the least loaded holder
 * (random among equals) in wave 0, or, with no holder yet, the least
 * loaded PUT target of this plan in wave 1 (depends_on the PUT; `started`
 * when that target advertises "pieces" too, so the copy is sent once the
 * PUT has started, not once it succeeded): the sleds
 * trade pieces among themselves (Execute names the candidates), so they
 * need not wait for whole-artifact waves, and max_copies_per_source does
 * not apply (a source's depot bounds its own load with 429).
 * max_per_source and max_per_target still count them. The other pending
 * sleds stay in pend[0..*npend) for the epidemic waves. Returns 0 or
 * ERR_NOMEM.
 */
int plan_swarm(size_t *npend, size_t *dropped, struct ctx *c, uint32_t art,
               size_t nsrc);

#endif
