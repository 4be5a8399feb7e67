/* SPDX-License-Identifier: MPL-2.0 */
/*
 * stuck: the per-repository convergence clock (see stuck.h). Loop thread
 * only.
 */
#include "replicator/task/stuck.h"

#include <string.h>

#include "common/err.h"
#include "common/mem.h"

const struct stuck_entry *stuck_find(const struct stuck_tracker *t,
                                     const char *name)
{
    for (size_t i = 0; name && i < t->n; i++)
        if (!strcmp(t->v[i].name, name))
            return &t->v[i];
    return NULL;
}

int stuck_update(struct stuck_tracker *t, const struct stuck_repo *repos,
                 size_t n, int64_t now_ms)
{
    struct stuck_entry *v = mem_calloc(n + 1, sizeof(*v));
    size_t k = 0;

    if (!v)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct stuck_entry *old;

        if (!repos[i].name || repos[i].held >= repos[i].wanted)
            continue;
        v[k].name = mem_strdup(repos[i].name);
        if (!v[k].name) {
            for (size_t j = 0; j < k; j++)
                mem_free(v[j].name);
            mem_free(v);
            return ERR_NOMEM;
        }
        old = stuck_find(t, repos[i].name);
        if (old && repos[i].held <= old->best) {
            v[k].best = old->best;
            v[k].since_ms = old->since_ms;
        } else {
            v[k].best = repos[i].held;
            v[k].since_ms = now_ms;
        }
        k++;
    }
    stuck_release(t);
    t->v = v;
    t->n = k;
    return 0;
}

bool stuck_is(const struct stuck_entry *e, int64_t now_ms,
              uint64_t stuck_after_secs)
{
    uint64_t after_ms = stuck_after_secs > UINT64_MAX / 1000
                            ? UINT64_MAX
                            : stuck_after_secs * 1000;

    return e && now_ms >= e->since_ms &&
           (uint64_t)(now_ms - e->since_ms) >= after_ms;
}

int stuck_copy(struct stuck_tracker *dst, const struct stuck_tracker *src)
{
    stuck_release(dst);
    dst->v = mem_calloc(src->n + 1, sizeof(*dst->v));
    if (!dst->v)
        return ERR_NOMEM;
    for (size_t i = 0; i < src->n; i++) {
        dst->v[i] = src->v[i];
        dst->v[i].name = mem_strdup(src->v[i].name);
        if (!dst->v[i].name) {
            dst->n = i;
            stuck_release(dst);
            return ERR_NOMEM;
        }
    }
    dst->n = src->n;
    return 0;
}

void stuck_release(struct stuck_tracker *t)
{
    for (size_t i = 0; i < t->n; i++)
        mem_free(t->v[i].name);
    mem_free(t->v);
    t->v = NULL;
    t->n = 0;
}
