/* SPDX-License-Identifier: MPL-2.0 */
/* swarm_ring: the candidate offsets of the swarm copies (swarm_ring.h). */
#include "replicator/task/swarm_ring.h"

#include <stdbool.h>

static bool used(const size_t *out, size_t n, size_t d)
{
    for (size_t i = 0; i < n; i++)
        if (out[i] == d)
            return true;
    return false;
}

static void add(size_t *out, size_t *n, size_t max, size_t nsib, size_t d)
{
    if (*n < max && d >= 1 && d < nsib && !used(out, *n, d))
        out[(*n)++] = d;
}

size_t swarm_ring_offsets(size_t nsib, size_t *out, size_t max)
{
    size_t n = 0;

    /* short steps: the neighbours */
    for (size_t d = 1; d <= SWARM_RING_SHORT; d++)
        add(out, &n, max, nsib, d);
    /* long steps: the ring cut in SWARM_RING_LONG + 1 equal arcs */
    for (size_t j = 1; j <= SWARM_RING_LONG; j++)
        add(out, &n, max, nsib,
            (j * nsib + (SWARM_RING_LONG + 1) / 2) / (SWARM_RING_LONG + 1));
    /* what is left: the smallest unused */
    for (size_t d = 1; d < nsib && n < max; d++)
        add(out, &n, max, nsib, d);
    return n;
}
