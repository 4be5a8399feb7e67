/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_meta: TUF metadata envelopes (notes/tuf.md 1.1, 1.2): strict parsing
 * (duplicate keys and floats rejected), `_type`, spec_version (major 1),
 * version and expires, the canonical bytes of `signed`, root documents
 * (keys, the four roles, thresholds >= 1, consistent_snapshot) and the
 * signature threshold check, counting each keyid once and ignoring empty,
 * undecodable, invalid or foreign signatures. Used by tuf_verify; also by
 * tools that need to inspect a root. Immutable once parsed; any thread.
 */
#ifndef COMMON_TUF_META_H
#define COMMON_TUF_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"

struct err;
struct tuf_key;

enum tuf_role {
    TUF_ROLE_ROOT = 0,
    TUF_ROLE_TIMESTAMP,
    TUF_ROLE_SNAPSHOT,
    TUF_ROLE_TARGETS,
    TUF_ROLE_COUNT
};

#define TUF_META_FILE_MAX 96

/* A parsed envelope; signatures not yet checked. */
struct tuf_meta {
    json_t *doc;                  /* the whole document (owned) */
    const json_t *signed_obj;     /* doc["signed"] */
    const json_t *sigs;           /* doc["signatures"] (an array) */
    struct buf canon;             /* canonical JSON of signed */
    enum tuf_role type;
    uint64_t version;
    int64_t expires;
    char file[TUF_META_FILE_MAX]; /* name used in messages */
};

struct tuf_meta_key {
    const char *keyid;            /* borrowed from the root document */
    struct tuf_key *key;
};

struct tuf_meta_role {
    const char **keyids;          /* borrowed; distinct */
    size_t nkeyids;
    uint64_t threshold;           /* >= 1 */
};

/* A parsed root: owns its envelope. */
struct tuf_meta_root {
    struct tuf_meta *meta;
    struct tuf_meta_key *keys;
    size_t nkeys;
    struct tuf_meta_role roles[TUF_ROLE_COUNT];
    bool consistent_snapshot;
};

/* "root", "timestamp", "snapshot", "targets". */
const char *tuf_meta_role_name(enum tuf_role role);

/*
 * Parse data (len bytes) named file (for messages) as an envelope whose
 * `_type` must be expect. *out is owned by the caller (tuf_meta_free).
 * Returns 0; ERR_INVAL (bad JSON, duplicate keys, floats, missing or
 * mistyped members, spec_version not 1.x, bad expires); ERR_VERIFY
 * (`_type` is not expect); ERR_NOMEM.
 */
int tuf_meta_parse(struct tuf_meta **out, const char *file, const char *data,
                   size_t len, enum tuf_role expect, bool lenient_dates,
                   struct err *err);

void tuf_meta_free(struct tuf_meta *m);

/*
 * Turn a parsed root envelope into a root; takes ownership of m in every
 * case. Returns 0; ERR_INVAL (bad keys/roles, threshold 0, a role keyid
 * listed twice); ERR_VERIFY (keyid check with check_keyid); ERR_NOMEM.
 */
int tuf_meta_root_new(struct tuf_meta_root **out, struct tuf_meta *m,
                      bool check_keyid, struct err *err);

void tuf_meta_root_free(struct tuf_meta_root *r);

/*
 * Count the valid signatures of m by distinct keyids of role in keys (a
 * root's keys, or any key list). Returns the count (>= 0) or ERR_NOMEM.
 */
int tuf_meta_count_sigs(const struct tuf_meta *m,
                        const struct tuf_meta_key *keys, size_t nkeys,
                        const struct tuf_meta_role *role);

/*
 * Check that m is signed by a threshold of root's keys for role.
 * Returns 0; ERR_VERIFY ("FILE: signature threshold not met (K of T valid
 * signatures)"; for a root checked against the previous root's keys,
 * "FILE: signature threshold not met by the root keys of root vN (...)");
 * ERR_NOMEM.
 */
int tuf_meta_check_sigs(const struct tuf_meta *m,
                        const struct tuf_meta_root *root, enum tuf_role role,
                        struct err *err);

#endif
