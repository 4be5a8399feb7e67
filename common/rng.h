/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rng: the small seeded pseudo-random generator (xoshiro256** seeded
 * through splitmix64). It makes every random choice of the planner
 * reproducible from one 64-bit seed, so tests and incident reports can
 * replay a plan exactly, and tuf-mkrepo's random artifacts reproducible
 * from theirs. Not for anything security related. Plain value, no
 * allocation, one owner.
 */
#ifndef COMMON_RNG_H
#define COMMON_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
    uint64_t s[4];
};

/* Seed rng from seed (any value, 0 included). */
void rng_init(struct rng *rng, uint64_t seed);

/* Next 64 uniformly distributed bits. */
uint64_t rng_next(struct rng *rng);

/* Uniform integer in [0, n); n must be > 0 (returns 0 when n == 0). */
uint32_t rng_below(struct rng *rng, uint32_t n);

/* Fisher-Yates shuffle of n uint32_t values in place. */
void rng_shuffle(struct rng *rng, uint32_t *v, size_t n);

#endif
