/* SPDX-License-Identifier: MPL-2.0 */
/*
 * depot_have: the depot's GET /artifact/sha256/{sha256}/have and its
 * long-poll `?after=N` (depot_have.c; docs/API.md). Loop thread only.
 */
#ifndef SLEDAGENT_DEPOT_HAVE_H
#define SLEDAGENT_DEPOT_HAVE_H

struct agent;
struct httpd_req;

/* a held /have?after=N is answered at the latest after this */
#define DEPOT_HAVE_WAIT_MS 2000
/* how often a held /have checks the count of verified pieces */
#define DEPOT_HAVE_CHECK_MS 50
/* requests held at once; beyond, answered at once */
#define DEPOT_HAVE_WAITS 512

/* The route handler (depot.c's table); arg is the struct agent. */
void depot_have(struct httpd_req *r, void *arg);

/* Answer every held request now (the agent stops). */
void depot_have_end_all(struct agent *a);

#endif
