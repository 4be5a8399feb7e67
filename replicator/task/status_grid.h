/* SPDX-License-Identifier: MPL-2.0 */
/*
 * status_grid: the rack as a sleds x repos grid for the status JSON
 * ("grid") and the status page (issue 15): per repo its artifact count
 * and bytes, per sled and repo the artifacts it holds (at least one copy),
 * holds complete (a copy on every healthy dataset) and their bytes. From
 * the inventories the last run collected. Loop thread.
 */
#ifndef REPLICATOR_TASK_STATUS_GRID_H
#define REPLICATOR_TASK_STATUS_GRID_H

#include <stdbool.h>

#include <jansson.h>

struct collect_sled;
struct task_run;

/*
 * Whether sled s (listed by run r) lacks room for a wanted artifact it
 * neither holds nor is writing: its writable_bytes is under that
 * artifact's length (the planner sends it nothing then; plan.h). False
 * when the sled did not say. Loop thread.
 */
bool status_sled_full(const struct task_run *r, const struct collect_sled *s);

/*
 * {"repos": [system_version...], "repo_artifacts": [n...],
 *  "repo_bytes": [b...], "sleds": [{"id", "held": [n per repo],
 *  "complete": [n per repo], "bytes": [b per repo]}...]}: repos in the
 * status "repos" order, sleds in "sleds" order. An artifact two repos
 * share counts in both. A sled that could not be listed has zeros. New
 * reference, NULL on ERR_NOMEM.
 */
json_t *status_grid_json(const struct task_run *r);

#endif
