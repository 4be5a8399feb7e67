/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rng: xoshiro256** (Blackman and Vigna) with its state filled by
 * splitmix64, plus an unbiased bounded draw and a shuffle (see rng.h).
 * Written for reproducibility, not for anything security related.
 */
#include "common/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void rng_init(struct rng *rng, uint64_t seed)
{
    uint64_t x = seed;

    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

uint64_t rng_next(struct rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t rng_below(struct rng *rng, uint32_t n)
{
    /* Lemire's multiply-shift with rejection: no modulo bias. */
    uint64_t m;
    uint32_t lo;

    if (n == 0)
        return 0;
    m = (uint64_t)(uint32_t)(rng_next(rng) >> 32) * n;
    lo = (uint32_t)m;
    if (lo < n) {
        uint32_t floor = (uint32_t)(-n) % n;

        while (lo < floor) {
            m = (uint64_t)(uint32_t)(rng_next(rng) >> 32) * n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

void rng_shuffle(struct rng *rng, uint32_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        uint32_t j = rng_below(rng, (uint32_t)i);
        uint32_t t = v[i - 1];

        v[i - 1] = v[j];
        v[j] = t;
    }
}
