/* SPDX-License-Identifier: MPL-2.0 */
/*
 * stuck: which repositories have stopped converging (issue 12, the
 * reference's "an update is stuck" threshold, 20 min). A repository is
 * incomplete while some in-service sled does not hold one of its
 * artifacts; its completeness is the number of (artifact, sled) copies
 * held on sleds that answered. The tracker remembers, per incomplete
 * repository, the most copies ever seen and when that number last grew;
 * one that has not grown for stuck_after is stuck. A repository that
 * becomes complete, or stops being wanted, is forgotten (so one that
 * regresses later starts a new clock). The task keeps the clocks in the
 * database too (replicator/db/stuck_db.h): each run starts from the
 * stored ones, so a restarted replicator keeps them. Plain data, any
 * thread that owns it.
 */
#ifndef REPLICATOR_TASK_STUCK_H
#define REPLICATOR_TASK_STUCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The reference's STUCK_UPDATE_THRESHOLD (nexus/src/app/update.rs). */
#define STUCK_AFTER_DEFAULT_SECS 1200

struct stuck_entry {
    char *name;          /* system version, owned */
    uint64_t best;       /* most copies held ever seen */
    int64_t since_ms;    /* when best was last raised (or first seen) */
};

struct stuck_tracker {
    struct stuck_entry *v;
    size_t n;
};

#define STUCK_TRACKER_INIT {NULL, 0}

/* One repository as a run saw it (plain value, name borrowed). */
struct stuck_repo {
    const char *name;
    uint64_t held;       /* copies held on sleds that answered */
    uint64_t wanted;     /* artifacts x in-service sleds */
};

/*
 * Replace the tracker's state with what this run saw at now_ms: repos
 * [0..n) (names unique), incomplete ones tracked (held < wanted), the
 * others forgotten, as are names not in repos. Returns 0, or ERR_NOMEM
 * with t unchanged.
 */
int stuck_update(struct stuck_tracker *t, const struct stuck_repo *repos,
                 size_t n, int64_t now_ms);

/*
 * The entry of name, or NULL when it is not tracked (complete, or not
 * wanted). Borrowed until the next stuck_update.
 */
const struct stuck_entry *stuck_find(const struct stuck_tracker *t,
                                     const char *name);

/* Whether e has not grown for stuck_after_secs at now_ms. */
bool stuck_is(const struct stuck_entry *e, int64_t now_ms,
              uint64_t stuck_after_secs);

void stuck_release(struct stuck_tracker *t);

/* *dst (released first) becomes a copy of src. Returns 0, or ERR_NOMEM
 * with dst empty. */
int stuck_copy(struct stuck_tracker *dst, const struct stuck_tracker *src);

#endif
