/* SPDX-License-Identifier: MPL-2.0 */
/*
 * depot: the route table of the sledagent's repo depot (DESIGN.md
 * section 2: GET/HEAD /artifact/sha256/{sha256}, peers copy from it, and
 * GET /artifact/sha256/{sha256}/pieces, its piece manifest),
 * served by agent.c's depot listener. Loop thread only.
 */
#ifndef SLEDAGENT_DEPOT_H
#define SLEDAGENT_DEPOT_H

#include <stddef.h>

struct agent;
struct httpd_req;
struct httpd_route;

/* Ranged reads the depot sends at once (issue 13); 429 beyond. */
#define DEPOT_PIECE_STREAMS 4

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

/* The depot's sent hook saw reply r done: a ranged read ends. Loop. */
void depot_piece_stream_done(struct agent *a, const struct httpd_req *r);

#endif
