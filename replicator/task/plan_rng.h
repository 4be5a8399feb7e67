/* SPDX-License-Identifier: MPL-2.0 */
/*
 * plan_rng: the small seeded pseudo-random generator of the planner
 * (xoshiro256** seeded through splitmix64). It makes every random choice
 * of plan.c reproducible from one 64-bit seed, so tests and incident
 * reports can replay a plan exactly. Plain value, no allocation, one owner.
 */
#ifndef REPLICATOR_TASK_PLAN_RNG_H
#define REPLICATOR_TASK_PLAN_RNG_H

#include <stddef.h>
#include <stdint.h>

struct plan_rng {
    uint64_t s[4];
};

/* Seed rng from seed (any value, 0 included). */
void plan_rng_init(struct plan_rng *rng, uint64_t seed);

/* Next 64 uniformly distributed bits. */
uint64_t plan_rng_next(struct plan_rng *rng);

/* Uniform integer in [0, n); n must be > 0 (returns 0 when n == 0). */
uint32_t plan_rng_below(struct plan_rng *rng, uint32_t n);

/* Fisher-Yates shuffle of n uint32_t values in place. */
void plan_rng_shuffle(struct plan_rng *rng, uint32_t *v, size_t n);

#endif
