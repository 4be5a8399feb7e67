/* SPDX-License-Identifier: MPL-2.0 */
/*
 * plan: the Plan phase of the replicator's reconciliation task (DESIGN.md
 * 4.2 point 2). A pure, deterministic function from what Collect found
 * (wanted set at generation G, staged artifacts, sled states and
 * inventories, limits, a seed) to the requests Execute sends and the status
 * summary the task reports. No I/O, no logging, no clock; the same input
 * and seed always give the same plan. docs/PLANNER.md describes the
 * algorithm and its invariants.
 *
 * Collect fills a struct plan_input made of plain arrays that it owns (the
 * planner only borrows them for the duration of plan_new); Execute walks
 * plan->reqs in order, starting a request once its depends_on request has
 * succeeded and skipping it if that request failed. Any thread; a plan is
 * used by one thread at a time.
 */
#ifndef REPLICATOR_TASK_PLAN_H
#define REPLICATOR_TASK_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"

struct err;

/* Copies a sled keeps of each artifact: one per healthy M.2 dataset. */
#define PLAN_MAX_DATASETS 2
/* A limit with this value does not limit anything. */
#define PLAN_UNLIMITED UINT32_MAX

/* What Collect learnt about a sled in this activation. */
enum plan_sled_state {
    /* Accepted config G and listed its artifacts at G: planned for. */
    PLAN_SLED_OK = 0,
    /* Config or list failed (timeout, 5xx): not planned for this time. */
    PLAN_SLED_UNREACHABLE,
    /* Answered 409 on config or reported a generation ahead of G:
     * reported, not planned for; every other sled keeps converging. */
    PLAN_SLED_ISOLATED,
    /* Expunged: excluded from everything, even the lost-artifact check. */
    PLAN_SLED_EXPUNGED,
};

/* One inventory entry: the sled holds `count` verified copies of artifact. */
struct plan_holding {
    uint32_t artifact; /* index into plan_input.artifacts */
    uint32_t count;    /* 1..PLAN_MAX_DATASETS; 0 entries may be omitted */
};

struct plan_sled {
    const char *id;               /* UUID string, borrowed, may be NULL */
    enum plan_sled_state state;
    uint32_t healthy_datasets;    /* 0..PLAN_MAX_DATASETS */
    /* Verified copies by artifact (each artifact at most once). For an
     * unreachable or isolated sled, the last known inventory (or none):
     * it is only used to tell "at risk" from "lost". */
    const struct plan_holding *inventory;
    size_t n_inventory;
    /* Artifacts being written on this sled now (copy or put under way):
     * never planned again for this sled in this activation. */
    const uint32_t *in_progress;
    size_t n_in_progress;
    /* The inventory is not known to come from this sled (no verified TLS
     * identity equal to its id: collect.h, sled_inventory_trusted). Its
     * holdings still make it a copy source (every copy is verified by
     * hash on arrival), but they never count toward
     * min_sled_replication: not for dropping staged copies
     * (staged_sufficient, repo sufficiency), not for the number of PUTs. */
    bool untrusted;
    /* It advertises "features": ["pieces"] (issue 13): it may be sent a
     * swarm copy. */
    bool pieces;
    /* The largest artifact it can write now (its list's "writable_bytes";
     * space_known false: a sled that does not say). No PUT, COPY or
     * RECOPY of a longer artifact is planned to it, and each planned one
     * takes its length off (summary.requests_no_space counts the rest). */
    bool space_known;
    uint64_t writable_bytes;
    /* A copy read from it failed lately (too slow, unreachable, a bad
     * answer: issue 10): it is chosen as a source only when no other
     * source of the artifact can serve. */
    bool avoid_source;
};

struct plan_artifact {
    struct sha256 hash;
    uint64_t length;
    bool staged;            /* this controller holds it locally (can PUT) */
    /* Its piece manifest is known (schema 4): copies of it to sleds with
     * `pieces` are swarm copies (docs/REPLICATION.md "Swarming copies"). */
    bool has_pieces;
    uint32_t piece_size;
    struct sha256 pieces_sha256;
    const uint32_t *repos;  /* indices into plan_input.repos that want it */
    size_t n_repos;
};

struct plan_repo {
    const char *name; /* system version or id, borrowed, may be NULL */
};

/*
 * Per-activation limits. All counts are totals over one plan (Execute also
 * bounds the requests in flight at once, with its own settings).
 */
struct plan_limits {
    /* Sleds each artifact must be on before staged copies may be dropped;
     * from configuration, never derived from the sled count. >= 1. */
    uint32_t min_sled_replication;
    uint32_t max_requests;          /* all requests of the plan */
    uint32_t max_puts;              /* PUT requests of the plan */
    uint32_t max_per_target;        /* requests writing to one sled */
    uint32_t max_per_source;        /* copies read from one sled */
    /* Epidemic fan-out: copies one source serves for one artifact in one
     * wave. >= 1. */
    uint32_t max_copies_per_source;
    /* Sleds a staged artifact is PUT to by the controller, at most: a
     * staged artifact is PUT to min(put_fanout, min_sled_replication) -
     * (sleds holding or writing it) sleds (at least one when no sled
     * holds it), every other missing sled copies it from a holder. 1
     * sends each artifact's bytes once from the controller. >= 1. */
    uint32_t put_fanout;
};

#define PLAN_LIMITS_DEFAULT {3, 4096, 256, 256, 256, 2, 1}

struct plan_input {
    uint64_t generation; /* G, echoed in the plan */
    const struct plan_artifact *artifacts;
    size_t n_artifacts;  /* <= LIMIT_CONFIG_ARTIFACTS */
    const struct plan_repo *repos;
    size_t n_repos;
    const struct plan_sled *sleds;
    size_t n_sleds;      /* <= LIMIT_SLEDS_PER_RACK */
    struct plan_limits limits;
    uint64_t seed;
};

enum plan_kind {
    PLAN_PUT = 0,  /* PUT the staged artifact to target */
    PLAN_COPY,     /* target copies from source's depot (target lacks it) */
    PLAN_RECOPY,   /* target holds fewer copies than healthy datasets */
};

struct plan_request {
    enum plan_kind kind;
    uint32_t artifact;  /* index into plan_input.artifacts */
    uint32_t target;    /* index into plan_input.sleds */
    int32_t source;     /* sled index for COPY/RECOPY, -1 for PUT */
    /* Index (into plan.reqs, always smaller than this request's) of the
     * request whose success makes source hold the artifact; -1 when the
     * source holds it already. */
    int32_t depends_on;
    /* depends_on is met once that request has *started*, not only once it
     * succeeded: a swarm copy whose first source is a PUT target that
     * advertises "pieces" (the PUT names its manifest, so the target
     * serves each verified piece as the body passes; docs/REPLICATION.md
     * "Swarming copies"). The copy asks the sources again until they have
     * pieces; if the PUT fails, it takes pieces elsewhere or fails. */
    bool started;
    /* Transfer round: 0 for PUTs and copies from current holders,
     * wave(depends_on) < wave otherwise. */
    uint32_t wave;
};

/* Replication state of one repository (index as in plan_input.repos). */
struct plan_repo_status {
    uint32_t artifacts;     /* wanted artifacts linked to the repo */
    uint32_t on_all_sleds;  /* present on every planned (OK) sled */
    uint32_t on_min_sleds;  /* present on >= min_sled_replication OK sleds */
    uint32_t lost;          /* lost artifacts: mark the repo failed */
    uint32_t at_risk;       /* held only by sleds we cannot reach now */
    /* Progress (issue 15, `activate --watch`): copies on usable OK
     * sleds, and the copies wanted (artifacts x usable sleds); the same
     * in bytes (an artifact's length per copy). */
    uint64_t copies_held, copies_wanted;
    uint64_t bytes_held, bytes_wanted;
    /* Every artifact on >= min_sled_replication sleds: staged files of
     * the repo may be dropped once a list at the same G shows this. */
    bool sufficient;
};

struct plan_summary {
    size_t puts, copies, recopies;
    /* Work left for a later activation because a limit was reached. */
    size_t requests_deferred;
    /* Writes not planned because the target said it has no room
     * (plan_sled.writable_bytes): left until it has. */
    size_t requests_no_space;
    uint32_t waves;                   /* 1 + highest wave, 0 if no request */
    /* Wanted, not staged, held by no sled at all: artifact indices. */
    uint32_t *lost;
    size_t n_lost;
    /* Repos with at least one lost artifact (repo indices). */
    uint32_t *lost_repos;
    size_t n_lost_repos;
    /* Wanted, not staged, held by no OK sled but by an unreachable or
     * isolated sled, or being written somewhere: artifact indices. */
    uint32_t *at_risk;
    size_t n_at_risk;
    /* Staged artifacts present on >= min_sled_replication OK sleds. */
    uint32_t *staged_sufficient;
    size_t n_staged_sufficient;
    /* Sled indices in state PLAN_SLED_ISOLATED. */
    uint32_t *isolated;
    size_t n_isolated;
    size_t n_unreachable, n_expunged, n_planned_sleds;
    /* One entry per plan_input.repos. */
    struct plan_repo_status *repos;
    size_t n_repos;
};

/* A plan; every field is read-only for its users. */
struct plan {
    uint64_t generation;
    struct plan_request *reqs; /* PUTs, then copies by wave, then recopies */
    size_t n_reqs;
    struct plan_summary summary;
};

/*
 * Plan one activation from `in` (borrowed, not kept). On success *out is a
 * new plan (plan_free) with an empty request array when there is nothing
 * to do. Returns 0; ERR_INVAL for malformed input (an index out of range,
 * an artifact listed twice for one sled, a count or dataset count above
 * PLAN_MAX_DATASETS, a zero min_sled_replication, max_copies_per_source or
 * put_fanout);
 * ERR_LIMIT when n_sleds or n_artifacts exceeds common/limits.h; ERR_NOMEM.
 * err (may be NULL) gets the detail. *out is NULL on failure.
 */
int plan_new(struct plan **out, const struct plan_input *in, struct err *err);

/* Free a plan and everything it owns. plan_free(NULL) is a no-op. */
void plan_free(struct plan *p);

/*
 * Helper for Collect: find hash in artifacts, which must be sorted by
 * sha256_cmp (e.g. read from the database ORDER BY sha256). Sets *out to
 * its index. Returns 0 or ERR_NOTFOUND (a hash outside the wanted set).
 */
int plan_artifact_find(size_t *out, const struct plan_artifact *artifacts,
                       size_t n, const struct sha256 *hash);

/* "put", "copy" or "recopy". */
const char *plan_kind_name(enum plan_kind kind);

#endif
