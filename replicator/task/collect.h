/* SPDX-License-Identifier: MPL-2.0 */
/*
 * collect: the Collect phase of the reconciliation task (DESIGN.md 4.2
 * point 1), after the database snapshot (read by the task on a worker):
 *  - collect_sleds_from_db(): in-service sleds -> API and depot URLs;
 *  - collect_run(): on the loop, concurrently for every sled, PUT
 *    /tls-revocations when the sled is behind the database's revocation
 *    list (collect_opts), PUT
 *    /artifacts-config {G, wanted} then GET /artifacts (or only the list
 *    when the generation is held), with connect, no-progress and (small
 *    bodies) total timeouts, so a sled that accepts the connection and
 *    never answers costs the run request_secs, not the no-progress bound.
 *    A 409 on config, or a list at a generation ahead of G, isolates the
 *    sled (its ledger generation is then read for the report), except a
 *    409 OVERRIDE_ACTIVE or a list naming an override: the sled is held
 *    (its list read for the override); any other failure makes it
 *    unreachable; every other sled keeps going;
 *  - collect_parse_list(): one list -> inventory indices into the wanted
 *    set; every malformed or unwanted hash is logged (info), never
 *    swallowed, and never counted;
 *  - collect_build(): wanted set + staged repos + sleds -> plan_input.
 * The parse and build functions are pure (unit-tested); collect_run is
 * loop thread only.
 */
#ifndef REPLICATOR_TASK_COLLECT_H
#define REPLICATOR_TASK_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "replicator/task/plan.h"
#include "replicator/task/revpush.h"

struct httpc_loop;
struct err;
struct sled_db_list;
struct sledreq;
struct staging_repo;
struct status_counters;
struct status_ring;
struct wanted_db;

#define COLLECT_ID_MAX 40
#define COLLECT_URL_MAX 160
#define COLLECT_FAILED_SRC_MAX 8
#define COLLECT_ERROR_MAX 200

enum collect_sled_state {
    COLLECT_PENDING = 0,   /* not asked yet / in flight */
    COLLECT_OK,            /* accepted config G (or held) and listed */
    COLLECT_UNREACHABLE,   /* config or list failed */
    COLLECT_ISOLATED,      /* 409 on config or generation ahead of G */
    /* The registered api_address (or depot port) does not parse as
     * IP:PORT (a row written before registrations were validated, or by
     * SQL): never contacted, reported with the remedy; the other sleds
     * are collected as usual. */
    COLLECT_INVALID_ADDRESS,
    /* Held by an operator for an out-of-band install (issue 12 item 6):
     * it refused the config with 409 OVERRIDE_ACTIVE, or its list names
     * an override. Reported with the override and the remedy, never
     * planned for (no PUT, no copy, not a source) until resumed. */
    COLLECT_HELD,
};

#define COLLECT_REASON_MAX 256

struct collect_sled {
    char id[COLLECT_ID_MAX];
    char api_url[COLLECT_URL_MAX];   /* "http://host:port" */
    char depot_url[COLLECT_URL_MAX]; /* "http://host:depot_port" */
    enum collect_sled_state state;
    uint64_t generation;   /* listed generation; ledger gen when isolated
                              (0 unknown) */
    uint32_t datasets;     /* healthy datasets reported by the list */
    struct plan_holding *inventory; /* owned */
    size_t n_inventory;
    uint32_t *in_progress;           /* owned */
    size_t n_in_progress;
    size_t bogus;          /* malformed or unwanted entries in the list */
    bool pieces;           /* the list's "features" has "pieces" */
    /* the list's "writable_bytes" (ext): the largest write it can take */
    bool space_known;
    uint64_t writable_bytes;
    bool avoid_source;     /* the task's srcavoid mark (plan_sled's) */
    /* (ext, issue 10) the list's "copy_sources_failed": depot URLs whose
     * copies to this sled failed because of them lately (first few) */
    char failed_src[COLLECT_FAILED_SRC_MAX][COLLECT_URL_MAX];
    unsigned n_failed_src;
    /* The identity the sled's responses came with (set by the request
     * code once TLS exists: a verified peer certificate and its id), and
     * the task's verdict (inv_trust.h): an untrusted inventory never
     * counts toward min_sled_replication (plan_sled.untrusted). */
    bool peer_verified;
    char peer_id[COLLECT_ID_MAX];
    bool inventory_untrusted;
    /* The revocation list version the sled holds (revpush.h): the task's
     * memory in; out, what the sled's list or an accepted push said.
     * rev_tried: pushed (or tried) in this run; rev_late: the push came
     * after the list (the list showed the sled behind). */
    struct revpush_held rev;
    bool rev_tried, rev_late;
    char error[COLLECT_ERROR_MAX];
    /* COLLECT_HELD: the override the sled's list reported ("" unknown) */
    char override_id[COLLECT_ID_MAX];
    char override_reason[COLLECT_REASON_MAX];
    char override_set_at[32];
    /* in flight (collect_run only) */
    struct sledreq *req;
    int step;
    struct collect *owner;
};

/* Free what s owns (not s). */
void collect_sled_release(struct collect_sled *s);

/*
 * Fill sleds[0..l->count) from the sled table (ids, URLs: https:// when
 * https, else http://; state PENDING). A sled whose api_address is not
 * IP:PORT (common/ipaddr.h) or whose depot port is 0 gets state
 * COLLECT_INVALID_ADDRESS and an error naming the address (logged at
 * warn); it never fails the others. *out is a new array
 * (collect_sleds_free). Returns 0 or ERR_NOMEM.
 */
int collect_sleds_from_db(struct collect_sled **out,
                          const struct sled_db_list *l, bool https,
                          struct err *err);

void collect_sleds_free(struct collect_sled *sleds, size_t n);

/*
 * Read one GET /artifacts answer of sled s at generation G against the
 * wanted set arts[0..n) (sorted by sha256). On success s->inventory,
 * in_progress, datasets, generation are set and 0 is returned. Bogus
 * entries (bad hash, unwanted hash, count not 1..PLAN_MAX_DATASETS) are
 * logged at info and counted in s->bogus. Errors: ERR_CONFLICT (listed
 * generation ahead of G: isolate), ERR_INVAL (not a list, generation
 * behind G), ERR_NOMEM.
 */
int collect_parse_list(struct collect_sled *s, const json_t *list,
                       uint64_t G, const struct plan_artifact *arts, size_t n,
                       struct err *err);

/* What collect_build produces (all owned; collect_input_release). */
struct collect_input {
    struct plan_input in;
    struct plan_artifact *arts;
    uint32_t *art_repos;       /* flattened repo indices */
    struct plan_repo *repos;
    char **repo_names;         /* sorted system versions */
    struct plan_sled *sleds;
    const char **staged_path;  /* per artifact: staged file or NULL */
};

void collect_input_release(struct collect_input *ci);

/*
 * Build the planner input: wanted set w (artifacts and their repos), the
 * staged repos (an artifact is staged when some staged repo holds a file
 * of that sha256 and length), the collected sleds (OK/UNREACHABLE/
 * ISOLATED map to the plan states), limits and seed. Borrows w, staged
 * and sleds for the life of *out. Returns 0, ERR_NOMEM.
 */
int collect_build(struct collect_input *out, const struct wanted_db *w,
                  const struct staging_repo *staged, size_t n_staged,
                  const struct collect_sled *sleds, size_t n_sleds,
                  const struct plan_limits *limits, uint64_t seed,
                  struct err *err);

/* ---- the concurrent config push and list (loop thread) ---- */

struct collect;
typedef void (*collect_done_fn)(struct collect *c, void *arg);

struct collect_opts {
    struct httpc_loop *cv;     /* common/httpc loop driver */
    uint64_t generation;        /* G */
    const char *config_body;    /* {"generation": G, "artifacts": [...]};
                                   NULL: do not push (held), list only */
    const struct plan_artifact *arts; /* wanted set, sorted */
    size_t n_arts;
    long connect_secs, stall_secs;
    long request_secs;          /* total bound of each request (small
                                   bodies); 0: none */
    struct status_ring *ring;       /* requests recorded here */
    struct status_counters *counters;
    const struct httpc_tls *tls;    /* NULL: plaintext (sledreq_opts) */
    /* The database's revocation list (revpush_body) and its version:
     * pushed (PUT /tls-revocations) to each sled behind it, before its
     * config, or after its list when only the list shows it behind; a
     * failed push is recorded and the sled carries on (no answer at all
     * makes it unreachable). NULL: push nothing. */
    const char *revocations_body;
    uint64_t revocations_version;
};

/*
 * Start collecting from sleds[0..n) (borrowed until done; their state and
 * inventories are filled). done(c, arg) runs once on the loop when every
 * sled is finished (at once if n is 0... from a zero timer-free call: it
 * runs before collect_start returns). Returns 0 or ERR_NOMEM.
 */
int collect_start(struct collect **out, const struct collect_opts *o,
                  struct collect_sled *sleds, size_t n, collect_done_fn done,
                  void *arg);

/* Cancel requests still running (no done call) and free. NULL no-op.
 * Sleds in state COLLECT_INVALID_ADDRESS are never started: they are
 * finished from the start. */
void collect_free(struct collect *c);

#endif
