/* SPDX-License-Identifier: MPL-2.0 */
/*
 * gen_db: the single-row artifact generation (table tuf_generation):
 * read it, bump it with compare-and-swap inside a caller's transaction,
 * and raise it past the fleet (`replicator generation bump --past-fleet`).
 * Worker thread; see db.h.
 */
#ifndef REPLICATOR_DB_GEN_DB_H
#define REPLICATOR_DB_GEN_DB_H

#include <stdint.h>

struct db;
struct err;

/* Current generation (>= 1). Errors: ERR_DB, ERR_INTERNAL (row missing). */
int gen_db_get(uint64_t *out, struct db *db, struct err *err);

/* As gen_db_get, inside a caller's transaction (db_txn body). */
int gen_db_get_locked(uint64_t *out, struct db *db, struct err *err);

/*
 * Inside a transaction (db_txn body): set generation = old + 1 where it is
 * still old (compare-and-swap); *out gets old + 1. Errors: ERR_CONFLICT
 * (the generation moved), ERR_DB.
 */
int gen_db_bump_locked(uint64_t *out, struct db *db, uint64_t old,
                       struct err *err);

/*
 * In one transaction, set generation = max(current, fleet_max) + 1 and
 * return it in *out. Errors: ERR_INVAL (fleet_max >= INT64_MAX), ERR_DB.
 */
int gen_db_bump_past(uint64_t *out, struct db *db, uint64_t fleet_max,
                     struct err *err);

#endif
