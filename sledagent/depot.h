/* SPDX-License-Identifier: MPL-2.0 */
/*
 * depot: the route table of the sledagent's repo depot (DESIGN.md
 * section 2: GET/HEAD /artifact/sha256/{sha256}, peers copy from it, and
 * GET /artifact/sha256/{sha256}/pieces, its piece manifest),
 * served by agent.c's depot listener. Loop thread only.
 */
#ifndef SLEDAGENT_DEPOT_H
#define SLEDAGENT_DEPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"

struct agent;
struct httpd_req;
struct httpd_route;

/* Ranged reads the depot sends at once (issue 13); beyond, they wait in
 * depot_queue.c's queue, 429 when it is full. */
#define DEPOT_PIECE_STREAMS 4

/* One ranged read to send: the artifact, its open file (a temp file of a
 * write in progress when partial), the range and the artifact's size. */
struct depot_range {
    struct sha256 h;
    int fd;
    uint64_t start, len, size;
    bool partial;
};

/*
 * The depot's static route table (n routes); the handlers' arg is the
 * struct agent. Any thread (a constant).
 */
const struct httpd_route *depot_routes(size_t *n);

/*
 * The API versions the depot serves (api-version header, httpd_route.h;
 * docs/API.md), oldest first, the last the latest (n of them). Any
 * thread (a constant).
 */
const char *const *depot_versions(size_t *n);

/* The depot's sent hook saw reply r done: a ranged read ends (the oldest
 * held one is woken). Loop. */
void depot_piece_stream_done(struct agent *a, const struct httpd_req *r);

/*
 * Send rg (206; takes rg->fd) on a free stream, or hold it in the queue
 * (not when queued: it comes from there), or answer 429. Loop.
 */
void depot_serve_range(struct httpd_req *r, struct agent *a,
                       const struct depot_range *rg, bool queued);

#endif
