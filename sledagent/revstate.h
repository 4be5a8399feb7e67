/* SPDX-License-Identifier: MPL-2.0 */
/*
 * revstate: the revocation list the controller pushes to a sled (PUT
 * /tls-revocations, issue 9): a version (the database's revision of its
 * revocation list, strictly growing) and the revoked serials and
 * identities, in the --tls-revoked file's entry form. Owns the strict
 * parser of the request body and the sled's copy on disk: one file per
 * dataset, <dataset>/tls-revocations.json, checksummed like the ledger
 * and written atomically (temp file in the dataset's tmp/, fsync, rename,
 * fsync of the directory: fsutil_write_atomic). Pure: any thread (the
 * agent writes from a worker and reads before serving).
 */
#ifndef SLEDAGENT_REVSTATE_H
#define SLEDAGENT_REVSTATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct err;
struct tls_revoked;

#define REVSTATE_FILE "tls-revocations.json"

/* A held list: version 0 and an empty (or NULL) set when none was
 * pushed. Plain value owning set (revstate_release). */
struct revstate {
    uint64_t version;
    struct tls_revoked *set;
};

#define REVSTATE_INIT {0, NULL}

void revstate_release(struct revstate *s);

/*
 * Parse a PUT body strictly into *out: a JSON object with exactly
 * "version" (an integer >= 1) and "revoked" (an array of distinct hex
 * serials and "<role>:<id>" strings, at most LIMIT_TLS_REVOKED). Returns
 * 0, ERR_INVAL (err says what is wrong: every refusal, the entry cap
 * included, is a bad body) or ERR_NOMEM.
 */
int revstate_parse(struct revstate *out, const char *body, size_t len,
                   struct err *err);

/* {"version": N, "revoked": [...]} as a new object; NULL on ERR_NOMEM. */
json_t *revstate_to_json(const struct revstate *s);

/*
 * Write s to REVSTATE_FILE in each of dirs[0..n) that is not NULL (its
 * temp file in dir/tmp/). Succeeds when at least one copy is durable;
 * the failures are logged. Returns 0, ERR_IO (no copy written; err names
 * the last failure) or ERR_NOMEM. Blocking.
 */
int revstate_write(const char *const *dirs, size_t n,
                   const struct revstate *s, struct err *err);

/*
 * Read the copies in dirs[0..n) (NULL entries skipped): the valid copy
 * with the highest version wins; a missing file is no list; a corrupt
 * one (not JSON, wrong shape, checksum mismatch) is logged at error and
 * ignored, so the sled holds an older version (or 0) and the controller
 * pushes again. *out (release it) has version 0 and an empty set when
 * nothing valid was found. Returns 0 or ERR_NOMEM. Blocking.
 */
int revstate_read(struct revstate *out, const char *const *dirs, size_t n,
                  struct err *err);

#endif
