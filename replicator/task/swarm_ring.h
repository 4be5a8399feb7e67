/* SPDX-License-Identifier: MPL-2.0 */
/*
 * swarm_ring: which other copy targets a swarm copy names as candidates
 * (execute.c, docs/REPLICATION.md "Swarming copies"). The nsib swarm
 * copies of an artifact stand on a ring; each names the targets at the
 * same offsets ahead of it, so each sled is named by as many as it
 * names. The offsets are SWARM_RING_SHORT short steps (1, 2, 3) and
 * SWARM_RING_LONG long ones cutting the ring in equal arcs (n/5, 2n/5,
 * ...), then the smallest unused: with 7 candidates a piece goes from
 * any target to any other in at most 3 hops up to 32 targets (5 up to
 * 64), where the next 7 neighbours took nsib / 7 hops (5 at 32, 9 at
 * 64). Pure.
 */
#ifndef REPLICATOR_TASK_SWARM_RING_H
#define REPLICATOR_TASK_SWARM_RING_H

#include <stddef.h>

#define SWARM_RING_SHORT 3
#define SWARM_RING_LONG 4

/* Up to max distinct offsets in 1..nsib-1 into out (the order above);
 * returns how many (min(max, nsib - 1)). */
size_t swarm_ring_offsets(size_t nsib, size_t *out, size_t max);

#endif
