/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_repo: a verified TUF repository, the result of tuf_verify_repo():
 * the final root version, consistent_snapshot, valid_until, the role
 * versions and the signed targets list, with a lookup by name and the path
 * of a target's file inside the repository (HEX.NAME or NAME). Immutable
 * once built; reading it from several threads is safe.
 */
#ifndef COMMON_TUF_REPO_H
#define COMMON_TUF_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct err;
struct tuf_repo;
struct tuf_target;

/* Free the repository and every target it owns. NULL is a no-op. */
void tuf_repo_free(struct tuf_repo *r);

uint64_t tuf_repo_root_version(const struct tuf_repo *r);
bool tuf_repo_consistent_snapshot(const struct tuf_repo *r);
/* Earliest expiry of root, timestamp, snapshot and targets (Unix seconds). */
int64_t tuf_repo_valid_until(const struct tuf_repo *r);
uint64_t tuf_repo_timestamp_version(const struct tuf_repo *r);
uint64_t tuf_repo_snapshot_version(const struct tuf_repo *r);
uint64_t tuf_repo_targets_version(const struct tuf_repo *r);

/* Number of targets, and the i-th (borrowed, valid while r lives). */
size_t tuf_repo_ntargets(const struct tuf_repo *r);
const struct tuf_target *tuf_repo_target(const struct tuf_repo *r, size_t i);

/* The target named name (borrowed), or NULL. */
const struct tuf_target *tuf_repo_find(const struct tuf_repo *r,
                                       const char *name);

/*
 * Append to out the repository path of t's file: "targets/HEX.NAME" (the
 * sha256, else the first listed hash) when consistent_snapshot, else
 * "targets/NAME". Returns 0; ERR_INVAL when the name is unsafe as a path
 * (tuf_repo_name_ok) or, with consistent_snapshot, t lists no known hash;
 * ERR_NOMEM.
 */
int tuf_repo_path(struct buf *out, const struct tuf_repo *r,
                  const struct tuf_target *t, struct err *err);

/*
 * Whether name is safe as a relative path: non-empty, no leading '/', no
 * backslash, no empty, "." or ".." segment, no control bytes.
 */
bool tuf_repo_name_ok(const char *name);

#endif
