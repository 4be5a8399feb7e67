/* SPDX-License-Identifier: MPL-2.0 */
/*
 * srcavoid: the task's memory of copy sources to avoid (issue 10). A
 * copy that failed because of its source (the target's error names the
 * source: too slow, unreachable, a bad answer, refused) marks that sled
 * for SRCAVOID_SECS; while marked, Collect sets plan_sled.avoid_source
 * and the planner reads from it only when no other source can serve.
 * Bounded: at most SRCAVOID_MAX sleds, the oldest mark dropped first.
 * Pure (the caller passes the clock); the task's loop thread.
 */
#ifndef REPLICATOR_TASK_SRCAVOID_H
#define REPLICATOR_TASK_SRCAVOID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRCAVOID_SECS 600
#define SRCAVOID_MAX 256
#define SRCAVOID_ID_MAX 64

struct srcavoid {
    struct {
        char id[SRCAVOID_ID_MAX];
        int64_t until_ms;
    } e[SRCAVOID_MAX];
    size_t n;
};

/* Whether a copy failure's error is the source's fault: the target's
 * GET /copies error, or its 502 answer ("HTTP 502: " then the message),
 * starts with "source ". */
bool srcavoid_is_source_error(const char *error);

/* Mark sled id as a source to avoid until now_ms + SRCAVOID_SECS. */
void srcavoid_note(struct srcavoid *m, const char *id, int64_t now_ms);

/* Whether sled id is marked at now_ms (expired marks are dropped). */
bool srcavoid_active(struct srcavoid *m, const char *id, int64_t now_ms);

#endif
