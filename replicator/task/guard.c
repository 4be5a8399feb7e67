/* SPDX-License-Identifier: MPL-2.0 */
/*
 * guard: the mass-deletion guard decision (see guard.h). Pure; any thread.
 */
#include "replicator/task/guard.h"

#include <inttypes.h>
#include <stdio.h>

enum guard_verdict guard_decide(const struct guard_input *in, char *reason,
                                size_t cap)
{
    uint32_t pm = in->max_permille > 1000 ? 1000 : in->max_permille;

    if (reason && cap)
        reason[0] = '\0';
    if (in->pushed_generation == 0 || in->pushed_count == 0 ||
        in->generation <= in->pushed_generation ||
        in->generation <= in->confirmed_generation)
        return GUARD_PUSH;
    /* removed / pushed > pm / 1000, without floating point */
    if (in->removed * 1000 <= (uint64_t)pm * in->pushed_count)
        return GUARD_PUSH;
    if (in->removed <= in->repo_worth)
        return GUARD_PUSH;
    if (reason && cap)
        snprintf(reason, cap,
                 "generation %" PRIu64 " would remove %" PRIu64 " of the %"
                 PRIu64 " artifacts of pushed generation %" PRIu64
                 " (more than %u.%u%% and more than one repository's worth, "
                 "%" PRIu64 "); confirm with `replicator generation confirm %"
                 PRIu64 "`",
                 in->generation, in->removed, in->pushed_count,
                 in->pushed_generation, pm / 10, pm % 10, in->repo_worth,
                 in->generation);
    return GUARD_HOLD;
}

uint64_t guard_removed(const struct sha256 *old, size_t n_old,
                       const struct sha256 *new_, size_t n_new)
{
    uint64_t removed = 0;
    size_t i = 0, j = 0;

    while (i < n_old) {
        int c = j < n_new ? sha256_cmp(&old[i], &new_[j]) : -1;

        if (c < 0) {
            removed++;
            i++;
        } else if (c > 0) {
            j++;
        } else {
            i++;
            j++;
        }
    }
    return removed;
}
