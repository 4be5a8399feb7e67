/* SPDX-License-Identifier: MPL-2.0 */
/*
 * guard: the mass-deletion guard (DESIGN.md 4.2). Before the task pushes
 * a new generation G it asks guard_decide() whether G would remove more
 * than a configured fraction of the artifacts of the last pushed config
 * (default: more than half) AND more than one repository's worth (the
 * largest repository known); if so G is held (nothing new is pushed,
 * sleds stay on the last pushed config) until an operator confirms G.
 * Pure functions, any thread.
 */
#ifndef REPLICATOR_TASK_GUARD_H
#define REPLICATOR_TASK_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"

#define GUARD_REASON_MAX 256
/* Default fraction, in per mille: hold when more than 500/1000 go. */
#define GUARD_DEFAULT_PERMILLE 500

struct guard_input {
    uint64_t generation;           /* G about to be pushed */
    uint64_t pushed_generation;    /* last pushed, 0 if none */
    uint64_t pushed_count;         /* artifacts in the last pushed config */
    uint64_t confirmed_generation; /* last generation an operator confirmed */
    uint64_t removed;              /* artifacts of the pushed config not in
                                      G (exact, or a lower bound) */
    uint64_t repo_worth;           /* artifacts of the largest repository */
    uint32_t max_permille;         /* hold above this fraction (0..1000) */
};

enum guard_verdict {
    GUARD_PUSH = 0,  /* push G */
    GUARD_HOLD,      /* hold G; reason says why */
};

/*
 * Decide for G. reason (cap bytes, may be NULL) gets a one-line reason for
 * GUARD_HOLD ("" otherwise). Nothing pushed yet, an older or equal G, or
 * G <= confirmed_generation always push.
 */
enum guard_verdict guard_decide(const struct guard_input *in, char *reason,
                                size_t cap);

/*
 * Number of hashes of old (sorted by sha256_cmp, unique) that are not in
 * new_ (sorted, unique).
 */
uint64_t guard_removed(const struct sha256 *old, size_t n_old,
                       const struct sha256 *new_, size_t n_new);

#endif
