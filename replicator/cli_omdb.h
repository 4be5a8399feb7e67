/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli_omdb: `replicator status --format omdb`, the task status rendered
 * as the lines the reference system's debugger prints for its
 * tuf_artifact_replication task (`omdb nexus background-tasks show`), so
 * an operator or a script used to omicron reads the same thing. Written
 * from the status JSON alone (task_status.c, request_debug_ringbuf and
 * the counters); pure, no I/O. Any thread.
 */
#ifndef REPLICATOR_CLI_OMDB_H
#define REPLICATOR_CLI_OMDB_H

#include <stdint.h>

#include <jansson.h>

struct buf;

/*
 * Append the omdb rendering of the status document st to out; now_ms
 * (unix milliseconds) dates the "(Ns ago)". A document that is not a
 * task status (not an object, no counters) renders the warning omdb
 * prints for details it cannot interpret. Returns 0 or ERR_NOMEM.
 */
int cli_omdb_render(struct buf *out, const json_t *st, int64_t now_ms);

#endif
