/* SPDX-License-Identifier: MPL-2.0 */
/*
 * stuck_db: the convergence clocks of the stuck report (replicator/task/
 * stuck.h) in the database (table tuf_repo_progress, schema 0006), so a
 * restarted replicator keeps them and every replicator of the rack
 * reports the same clock. The task loads them with each run's inputs and
 * saves them (the tracker after the run's update) with the run's other
 * writes. Worker thread; see db.h.
 */
#ifndef REPLICATOR_DB_STUCK_DB_H
#define REPLICATOR_DB_STUCK_DB_H

#include "replicator/task/stuck.h"

struct db;
struct err;

/* Every stored clock into *out (empty first; stuck_release it, whose
 * mem_free of each name and of v this matches). Returns 0, ERR_DB or
 * ERR_NOMEM (out empty). */
int stuck_db_load(struct stuck_tracker *out, struct db *db, struct err *err);

/*
 * Make the stored clocks those of t, in one transaction: rows of names
 * not in t are deleted; each entry of t is stored, but a row another
 * replicator wrote that saw more copies (or the same copies earlier) is
 * kept, so concurrent replicators converge on the oldest clock of the
 * best count. Returns 0, ERR_DB or ERR_NOMEM.
 */
int stuck_db_save(struct db *db, const struct stuck_tracker *t,
                  struct err *err);

#endif
