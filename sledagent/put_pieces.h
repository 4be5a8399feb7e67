/* SPDX-License-Identifier: MPL-2.0 */
/*
 * put_pieces: the piece manifest of a PUT that names one (issue 13,
 * docs/REPLICATION.md "Swarming copies": PUT /artifacts/{sha256}
 * ?generation=N&manifest_sha256=HEX&piece_size=P, a rackdepot extension).
 * The query is parsed here; the manifest is fetched from the replicator
 * this agent registers with (GET /artifact/sha256/{h}/pieces?piece_size=P)
 * and accepted only when its bytes hash to manifest_sha256 and it names
 * the artifact and the PUT's length. The PUT's write then checks each
 * piece as the body passes and serves the verified ones
 * (store_write_stream_pieces). Agent loop thread only.
 */
#ifndef SLEDAGENT_PUT_PIECES_H
#define SLEDAGENT_PUT_PIECES_H

#include <stdbool.h>
#include <stdint.h>

#include "common/sha256.h"

struct agent;
struct err;
struct pieces;
struct put_pieces;

/* bound on the manifest fetch; the body waits for it (reads paused) */
#define PUT_PIECES_FETCH_MS 2000L

/* What a PUT's query asks for. */
struct put_query {
    uint64_t generation;
    bool has_manifest;
    struct sha256 manifest_sha256;
    uint32_t piece_size;
};

/*
 * Parse a PUT query: "generation=N" exactly as httpd_query_generation, or
 * "generation=N&manifest_sha256=<64 hex>&piece_size=P" in that order (P a
 * valid piece size). Returns 0 or ERR_INVAL with err set.
 */
int put_pieces_query(struct put_query *out, const char *query,
                     struct err *err);

/* m: the verified manifest (borrowed for the call), NULL when none. */
typedef void (*put_pieces_fn)(const struct pieces *m, void *arg);

/*
 * Fetch the manifest q names for artifact h of length len from the
 * replicator; cb runs once, later, on the loop (never from inside this
 * call). Returns 0 with *out (put_pieces_free it after cb, or to cancel
 * before), ERR_NOTFOUND (no replicator configured) or ERR_NOMEM/
 * ERR_INTERNAL, with err set and no callback.
 */
int put_pieces_fetch(struct put_pieces **out, struct agent *a,
                     const struct sha256 *h, uint64_t len,
                     const struct put_query *q, put_pieces_fn cb, void *arg,
                     struct err *err);

/* Cancel (no callback) and free; NULL is a no-op. */
void put_pieces_free(struct put_pieces *pp);

#endif
