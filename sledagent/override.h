/* SPDX-License-Identifier: MPL-2.0 */
/*
 * override: the out-of-band install hold of a sled (issue 12 item 6, the
 * reference's "MUPdate override"). An operator who re-images the sled or
 * places artifacts by hand sets one with `sledagent override set`; while
 * it is recorded the agent refuses every change the controller asks for
 * (409 OVERRIDE_ACTIVE) and the replicator leaves the sled alone until it
 * is cleared by id (DELETE /artifacts-override/{id}). Owns the record and
 * its file, one per dataset, <dataset>/override.json:
 *   {"id": UUID, "reason": TEXT, "set_at": RFC 3339, "checksum": HEX}
 * checksum the sha256 of the canonical JSON of the other three, written
 * atomically (temp file beside it, fsync, rename, fsync of the dataset
 * directory). Pure and blocking: any thread (the agent reads and clears
 * on a worker, the CLI from main).
 */
#ifndef SLEDAGENT_OVERRIDE_H
#define SLEDAGENT_OVERRIDE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct err;

#define OVERRIDE_FILE "override.json"
#define OVERRIDE_REASON_MAX 255 /* bytes of reason, at least 1 */

/* A recorded override (plain value); id "" when none. */
struct override {
    char id[37];                         /* lowercase UUID */
    char reason[OVERRIDE_REASON_MAX + 1];
    char set_at[32];                     /* YYYY-MM-DDTHH:MM:SSZ */
};

/* Whether o holds an override. */
static inline bool override_active(const struct override *o)
{
    return o->id[0] != '\0';
}

/* Whether s is a UUID (8-4-4-4-12 hex digits, any case). */
bool override_uuid_ok(const char *s);

/* Whether reason is acceptable: 1..OVERRIDE_REASON_MAX bytes, no control
 * character; err says why not (ERR_INVAL). */
int override_reason_check(const char *reason, struct err *err);

/* A new override: a random v4 id, reason (checked), set now. */
int override_new(struct override *out, const char *reason, struct err *err);

/* {"id", "reason", "set_at"} as a new object; NULL on ERR_NOMEM. */
json_t *override_to_json(const struct override *o);

/*
 * Read the copies in dirs[0..n) (NULL entries skipped) into *out: none
 * (id "") when no dataset has a valid one; of two different ones, the
 * later set_at (then the greater id) wins. A missing file is none; an
 * unreadable or corrupt one (not JSON, wrong shape, checksum mismatch) is
 * logged at error and ignored. Returns 0 or ERR_NOMEM.
 */
int override_read(struct override *out, const char *const *dirs, size_t n,
                  struct err *err);

/*
 * Record o in each of dirs[0..n) (NULL entries and directories that do
 * not exist skipped, logged). Returns the number of copies written (> 0),
 * or ERR_IO (none written: err names the last failure) or ERR_NOMEM.
 */
int override_write(const char *const *dirs, size_t n,
                   const struct override *o, struct err *err);

/*
 * Remove the copies of id from dirs[0..n) (a copy of another id stays),
 * each removal made durable (fsync of the directory). Returns the number
 * of copies removed (0: none had it) or ERR_IO (err: the first failure;
 * the others were still tried).
 */
int override_clear(const char *const *dirs, size_t n, const char *id,
                   struct err *err);

#endif
