/* SPDX-License-Identifier: MPL-2.0 */
/*
 * depot_queue: ranged reads (swarm pieces) that found every one of the
 * depot's DEPOT_PIECE_STREAMS busy wait here for the next one to end,
 * instead of a 429 that costs the asker a back-off while this link may
 * go idle (docs/PERFORMANCE.md 8.2). Bounded: DEPOT_PIECE_QUEUE reads in
 * all, DEPOT_PIECE_QUEUE_PER_PEER from one client address (a greedy
 * client cannot take the queue: issue 10), each at most
 * DEPOT_PIECE_QUEUE_MS; then 429 as before. Served oldest first. Loop
 * thread only.
 */
#ifndef SLEDAGENT_DEPOT_QUEUE_H
#define SLEDAGENT_DEPOT_QUEUE_H

#include <stdbool.h>

struct agent;
struct depot_range;
struct httpd_req;

#define DEPOT_PIECE_QUEUE 8
#define DEPOT_PIECE_QUEUE_PER_PEER 2
#define DEPOT_PIECE_QUEUE_MS 1000

/* Hold r and rg (its fd then belongs to the queue) until a stream ends:
 * true. False: the queue or the peer's share of it is full (nothing
 * taken; the caller answers 429). */
bool depot_queue_hold(struct agent *a, struct httpd_req *r,
                      const struct depot_range *rg);

/* A stream ended: the oldest held read not yet woken is served from the
 * loop (its stream is kept for it meanwhile). */
void depot_queue_wake(struct agent *a);

/* Answer every held read 503 (the agent stops). */
void depot_queue_end_all(struct agent *a);

#endif
