/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_internal: what tuf_verify.c and tuf_repo.c share: the layout of the
 * verified-repository object and the function that fills its targets.
 * Not for use outside common/tuf_*.c.
 */
#ifndef COMMON_TUF_INTERNAL_H
#define COMMON_TUF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/tuf_repo.h"
#include "common/tuf_target.h"

struct err;

struct tuf_repo {
    uint64_t root_version;
    uint64_t timestamp_version;
    uint64_t snapshot_version;
    uint64_t targets_version;
    bool consistent_snapshot;
    int64_t valid_until;
    json_t *targets_doc;         /* owns every name and custom below */
    struct tuf_target *targets;  /* sorted by name */
    size_t ntargets;
};

/*
 * Parse signed["targets"] of the targets document doc (a new reference is
 * taken) into r, sorted by name; file names the document in messages.
 * Returns 0, ERR_INVAL (malformed entry) or ERR_NOMEM.
 */
int tuf_repo_set_targets(struct tuf_repo *r, json_t *doc, const char *file,
                         struct err *err);

#endif
