/* SPDX-License-Identifier: MPL-2.0 */
/*
 * prune_db: the automatic pruner (issue 12 item 5, the reference's
 * tuf_repo_pruner) in the database: the rack-wide switch (table
 * tuf_prune_policy, one row, with an optional reason), operator pins on
 * repositories, and one pass: keep the newest `keep` unpruned repositories
 * by upload time and every pinned one, and prune the oldest of the rest
 * through repo_db_prune_locked, the path of an operator's prune (so the
 * generation bump, and the mass-deletion guard that judges the bumped
 * generation before it is pushed, are the same).
 *
 * A pass is one SERIALIZABLE transaction that reads the switch, the pins,
 * the repositories and the push state and prunes: a concurrent pin,
 * disable, upload or pass by another replicator either commits first and
 * is seen, or makes this one retry (db_txn). It prunes nothing while the
 * guard holds a generation, and nothing while the generation of the last
 * automatic prune (recorded in tuf_prune_policy, compare-and-swap) has not
 * been pushed yet: every automatic prune reaches the guard on its own, and
 * two replicators cannot stack prunes between two pushes. Worker thread;
 * see db.h.
 */
#ifndef REPLICATOR_DB_PRUNE_DB_H
#define REPLICATOR_DB_PRUNE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct db;
struct err;

/* The reference keeps the 3 newest uploads. */
#define PRUNE_KEEP_DEFAULT 3
#define PRUNE_KEEP_MAX 1000
#define PRUNE_DB_REASON_MAX 256

/* What a pass saw and did (strings owned; prune_db_report_release). */
struct prune_db_report {
    bool enabled;
    char reason[PRUNE_DB_REASON_MAX]; /* "" when none */
    uint32_t keep_newest;        /* K */
    char **keep;                 /* kept versions, newest first */
    size_t n_keep;
    char **eligible;             /* prunable versions, oldest first */
    size_t n_eligible;
    char *next_prune;            /* what the next pass prunes, or NULL */
    char **warnings;             /* one line each */
    size_t n_warnings;
    char *pruned;                /* pruned by this pass, or NULL */
    uint64_t generation;         /* after the pass */
    bool bumped;                 /* this pass bumped the generation */
};

#define PRUNE_DB_REPORT_INIT {0}

void prune_db_report_release(struct prune_db_report *r);

/*
 * One pass (see the file comment) keeping the newest `keep` (1 ..
 * PRUNE_KEEP_MAX); with apply false nothing changes (`prune-policy show`).
 * *out is overwritten; release it. Errors: ERR_INVAL (keep out of range),
 * ERR_DB, ERR_NOMEM.
 */
int prune_db_pass(struct prune_db_report *out, struct db *db, uint32_t keep,
                  bool apply, struct err *err);

/*
 * Pin (pin true) or unpin repository system_version; idempotent. A pinned
 * repository is never pruned automatically (an operator's prune still
 * prunes it). Errors: ERR_NOTFOUND (no such version), ERR_DB.
 */
int prune_db_pin(struct db *db, const char *system_version, bool pin,
                 struct err *err);

/*
 * Switch the automatic pruner on or off for every replicator, with an
 * optional one-line reason (NULL or "": none; replaces the earlier one).
 * Errors: ERR_INVAL (reason longer than PRUNE_DB_REASON_MAX - 1 bytes or
 * holding a control character), ERR_DB.
 */
int prune_db_policy_set(struct db *db, bool enabled, const char *reason,
                        struct err *err);

/*
 * The report as the status shows it: {status: "enabled"|"disabled",
 * reason?, keep_newest, keep[], next_prune?, eligible[], warnings[],
 * pruned?}. New reference; NULL on ERR_NOMEM.
 */
json_t *prune_db_report_json(const struct prune_db_report *r);

#endif
