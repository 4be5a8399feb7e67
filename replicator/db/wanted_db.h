/* SPDX-License-Identifier: MPL-2.0 */
/*
 * wanted_db: the wanted set (artifacts of unpruned repos) together with
 * the generation G it belongs to, read as one consistent snapshot: one
 * SERIALIZABLE READ ONLY transaction reads G and pages through the
 * artifacts by the unique key (sha256, repo version), so G and the set
 * always match (every change of the set bumps G in the same transaction).
 * Worker thread; see db.h.
 */
#ifndef REPLICATOR_DB_WANTED_DB_H
#define REPLICATOR_DB_WANTED_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"

struct db;
struct err;

struct wanted_db_artifact {
    struct sha256 sha256;
    uint64_t length;
    /* its piece manifest (schema 4; none for a row from before it) */
    bool has_pieces;
    uint32_t piece_size;
    struct sha256 pieces_sha256;
    size_t nrepos;
    char **repos; /* system versions of the unpruned repos wanting it */
};

struct wanted_db {
    uint64_t generation;
    size_t count;
    struct wanted_db_artifact *artifacts; /* sorted by sha256, unique */
};

#define WANTED_DB_INIT {0, 0, NULL}

void wanted_db_release(struct wanted_db *w);

/*
 * Read the snapshot into *out (overwritten; release with
 * wanted_db_release). Errors: ERR_LIMIT (more than LIMIT_CONFIG_ARTIFACTS
 * artifacts), ERR_DB, ERR_NOMEM.
 */
int wanted_db_read(struct wanted_db *out, struct db *db, struct err *err);

#endif
