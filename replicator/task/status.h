/* SPDX-License-Identifier: MPL-2.0 */
/*
 * status: the observability records of the reconciliation task
 * (DESIGN.md 4.3): the request counters {put_config, list, put, copy} x
 * {ok, err} kept per activation and over the process lifetime, and the
 * ring buffer of the last STATUS_RING_CAP requests sent to sleds
 * {time, sled, operation, hash?, source?, generation, error?}, with their
 * JSON renderings (the ring can be paged: newest first, offset and
 * limit). Plain data with no locking: the task uses it on its loop thread
 * only.
 */
#ifndef REPLICATOR_TASK_STATUS_H
#define REPLICATOR_TASK_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/sha256.h"

/* Requests kept in the ring buffer (DESIGN.md 4.3). */
#define STATUS_RING_CAP 4096
#define STATUS_ID_MAX 40
#define STATUS_ERROR_MAX 200

enum status_op {
    STATUS_OP_PUT_CONFIG = 0,
    STATUS_OP_LIST,
    STATUS_OP_PUT,
    STATUS_OP_COPY,
    STATUS_OP_RECOPY, /* counted with copy */
    STATUS_OP_PUT_REVOCATIONS, /* PUT /tls-revocations (issue 9) */
    STATUS_OP_COUNT
};

struct status_counters {
    uint64_t put_config_ok, put_config_err;
    uint64_t list_ok, list_err;
    uint64_t put_ok, put_err;   /* ok: the sled wrote it (2xx) */
    /* copy_ok: the target accepted the copy (202), or completed it when
     * a later request of the run waited for it (an epidemic wave); the
     * next run's list finds an accepted copy that failed later.
     * copy_err: refused, unreachable, or a waited-for copy that failed
     * or stalled. Re-copies count here. */
    uint64_t copy_ok, copy_err;
    /* the database's revocation list pushed to a sled behind it */
    uint64_t put_revocations_ok, put_revocations_err;
};

/* One request sent to a sled (plain value). */
struct status_entry {
    int64_t time_ms;                 /* wall clock, unix milliseconds */
    char sled[STATUS_ID_MAX];
    enum status_op op;
    bool has_hash;
    struct sha256 hash;
    char source[STATUS_ID_MAX];      /* "" unless a copy */
    uint64_t generation;
    char error[STATUS_ERROR_MAX];    /* "" when it succeeded */
};

struct status_ring {
    struct status_entry *entries;   /* cap entries */
    size_t cap;
    size_t head;                    /* next slot to write */
    size_t count;                   /* <= cap */
    uint64_t total;                 /* entries ever pushed */
};

/* "put_config", "list", "put", "copy", "recopy", "put_revocations". */
const char *status_op_name(enum status_op op);

/* Count one outcome of op into c (recopy counts as copy). */
void status_counters_add(struct status_counters *c, enum status_op op,
                         bool ok);

/* dst += src. */
void status_counters_sum(struct status_counters *dst,
                         const struct status_counters *src);

/* Whether any list, put or copy failed (config-put errors included too:
 * an isolated sled is a failure an operator must see). */
bool status_counters_ok(const struct status_counters *c);

/* {"put_config_ok": n, ...}; NULL on ERR_NOMEM. */
json_t *status_counters_json(const struct status_counters *c);

/* Allocate a ring of cap (>= 1) entries. Returns 0 or ERR_NOMEM. */
int status_ring_init(struct status_ring *r, size_t cap);

/* Free the entries. */
void status_ring_release(struct status_ring *r);

/* Append e (copied), dropping the oldest entry when full. */
void status_ring_push(struct status_ring *r, const struct status_entry *e);

/*
 * The i-th newest entry (0 = newest), or NULL when i >= count. Borrowed
 * until the next push.
 */
const struct status_entry *status_ring_get(const struct status_ring *r,
                                           size_t i);

/* One entry as JSON; NULL on ERR_NOMEM. */
json_t *status_entry_json(const struct status_entry *e);

/*
 * Entries newest first, skipping offset, at most limit: a JSON array (new
 * reference) or NULL on ERR_NOMEM.
 */
json_t *status_ring_json(const struct status_ring *r, size_t offset,
                         size_t limit);

/* Fill e from its parts (strings truncated to their fields). hash and
 * source may be NULL, error NULL or "" for success. */
void status_entry_set(struct status_entry *e, int64_t time_ms,
                      const char *sled, enum status_op op,
                      const struct sha256 *hash, const char *source,
                      uint64_t generation, const char *error);

/*
 * Record a finished request: push e into ring (may be NULL) and count it
 * in c (may be NULL) as ok when e->error is empty.
 */
void status_record(struct status_ring *ring, struct status_counters *c,
                   const struct status_entry *e);

/*
 * The reference system's shape of the ring (omicron's
 * TufArtifactReplicationStatus.request_debug_ringbuf, DESIGN.md 4.3):
 * the same window as status_ring_json (newest first, skipping offset, at
 * most limit) but listed oldest first, as the reference keeps it, each
 * entry {time (RFC 3339), target_sled, operation, generation
 * (put_config), hash (put, copy), source_sled (copy), error?}. A recopy
 * is a "copy"; requests the reference has no operation for
 * (put_revocations) are left out. A JSON array (new reference) or NULL on
 * ERR_NOMEM.
 */
json_t *status_ring_omicron_json(const struct status_ring *r, size_t offset,
                                 size_t limit);

/* One entry in that shape; NULL on ERR_NOMEM or when the reference has
 * no operation for e->op. */
json_t *status_entry_omicron_json(const struct status_entry *e);

/* Whether the reference has an operation for op. */
bool status_op_in_omicron(enum status_op op);

/* Bytes of "YYYY-MM-DDTHH:MM:SS.mmmZ" with its NUL. */
#define STATUS_TIME_LEN 25

/*
 * Write unix milliseconds ms as RFC 3339 UTC with milliseconds into out.
 * Times before 1970 or after 9999 are clamped to those years' bounds.
 */
void status_time_rfc3339(char out[STATUS_TIME_LEN], int64_t ms);

/* Wall clock in unix milliseconds. */
int64_t status_now_ms(void);

#endif
