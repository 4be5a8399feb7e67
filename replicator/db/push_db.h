/* SPDX-License-Identifier: MPL-2.0 */
/*
 * push_db: bookkeeping of the artifact configs pushed to the fleet (table
 * artifact_config_pushed, one row) for the mass-deletion guard: the last
 * pushed generation and its set size, the generation currently held back
 * (with the reason) and the last generation an operator confirmed.
 * Worker thread; see db.h.
 */
#ifndef REPLICATOR_DB_PUSH_DB_H
#define REPLICATOR_DB_PUSH_DB_H

#include <stdbool.h>
#include <stdint.h>

struct db;
struct err;

#define PUSH_DB_REASON_MAX 256

struct push_db_state {
    uint64_t pushed_generation;   /* 0: nothing pushed yet */
    uint64_t pushed_count;        /* artifacts in that config */
    bool held;                    /* a generation is held */
    uint64_t held_generation;
    char held_reason[PUSH_DB_REASON_MAX];
    uint64_t confirmed_generation; /* 0: none */
};

/* Read the row. Errors: ERR_DB, ERR_INTERNAL (row missing). */
int push_db_get(struct push_db_state *out, struct db *db, struct err *err);

/*
 * Record that config `generation` with `count` artifacts was pushed. Never
 * moves backwards: a lower generation than the recorded one is ignored
 * (returns 0). Errors: ERR_INVAL (generation 0 or above INT64_MAX), ERR_DB.
 */
int push_db_record(struct db *db, uint64_t generation, uint64_t count,
                   struct err *err);

/*
 * Hold `generation` (replacing an earlier hold) with a one-line reason.
 * Errors: ERR_INVAL, ERR_DB.
 */
int push_db_hold(struct db *db, uint64_t generation, const char *reason,
                 struct err *err);

/*
 * Operator confirmation of a held generation: clears the hold and records
 * confirmed_generation. Errors: ERR_NOTFOUND (that generation is not
 * held; the message names what is held), ERR_DB.
 */
int push_db_confirm(struct db *db, uint64_t generation, struct err *err);

#endif
