/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_fault: fault injection on a running rack. Sled process faults
 * (stop = SIGTERM, kill = SIGKILL, restart on the same datasets and ports,
 * partition = SIGSTOP so the sled neither answers nor sends, heal =
 * SIGCONT; on a netns rack rack-sim cuts the link instead, rack_link), dataset faults (remove = rm -rf, restore = re-create it empty
 * and lift any fill, fill = restart the sled with --quota-bytes 1 so every
 * write gets 507, corrupt = flip one byte in the middle of a stored
 * artifact file), a ledger from a previous life (both ledgers rewritten to
 * a chosen generation with a valid checksum) and replicator kill/restart.
 * Every function updates r; the caller saves the state file. Main thread.
 */
#ifndef SIM_RACK_FAULT_H
#define SIM_RACK_FAULT_H

#include <stddef.h>
#include <stdint.h>

struct err;
struct rack;

/*
 * op: "stop", "kill", "restart", "partition" or "heal" on sled k.
 * Errors: ERR_INVAL (unknown op), ERR_NOTFOUND (the sled is not running,
 * for partition/heal), start errors for restart.
 */
int rack_fault_sled(struct rack *r, size_t k, const char *op,
                    struct err *err);

/*
 * op: "remove", "restore", "fill" or "corrupt" on dataset which ('A' or
 * 'B') of sled k. For corrupt, the victim is hash if given, else the first
 * artifact file by name; its hash goes to victim (65 bytes) when not NULL.
 * Errors: ERR_INVAL, ERR_NOTFOUND (no artifact to corrupt), ERR_IO.
 */
int rack_fault_dataset(struct rack *r, size_t k, const char *op, char which,
                       const char *hash, char *victim, struct err *err);

/*
 * Stop sled k, rewrite its ledger on each dataset that exists to
 * generation gen (same artifacts, or none if it had no ledger) with a
 * valid checksum, and start it again. Errors: ERR_IO, ERR_INVAL.
 */
int rack_fault_ledger(struct rack *r, size_t k, uint64_t gen,
                      struct err *err);

/* op: "kill" (SIGKILL) or "restart" replicator i. */
int rack_fault_repl(struct rack *r, size_t i, const char *op,
                    struct err *err);

#endif
