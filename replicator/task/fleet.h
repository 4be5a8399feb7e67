/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fleet: the fleet-wide generation remedy of the reconciliation task
 * (`replicator generation bump --past-fleet`, docs/REPLICATION.md
 * "Remedies"): read the in-service sleds, ask every one for its ledger
 * generation (GET /artifacts-config, concurrently, on the task's curl
 * multi), raise the database generation to max(database, fleet) + 1 in
 * one transaction, and activate the task. Database work runs on the
 * task's jobs; everything else on the loop thread. Loop thread only.
 */
#ifndef REPLICATOR_TASK_FLEET_H
#define REPLICATOR_TASK_FLEET_H

#include <stdint.h>

#include <jansson.h>

struct err;
struct task;

/*
 * The end of a bump: rc 0 with the new generation, the highest ledger
 * generation reported and sleds, one {id, generation} ({id, generation:
 * null} for a sled with no ledger, {id, error} for one that did not
 * answer) per sled (borrowed for the call); or an ERR_* code with err.
 */
typedef void (*fleet_done_fn)(int rc, const struct err *err,
                              uint64_t generation, uint64_t fleet_max,
                              json_t *sleds, void *arg);

/*
 * Start a bump past the fleet; done is called once, later, on the loop
 * (as before this moved here from api_sled.c: not at all when the task
 * is freed while sleds are being asked, httpc_loop_free cancelling without
 * callbacks). Returns 0 or ERR_NOMEM (nothing started, done not called).
 */
int fleet_bump_start(struct task *t, fleet_done_fn done, void *arg);

#endif
