/* SPDX-License-Identifier: MPL-2.0 */
/*
 * staging: the replicator's on-disk staging directory. Layout:
 *   uploads/   zips being received (purged at start)
 *   incoming/  targets extracted from a zip before its database commit
 *              (purged at start)
 *   repos/<repo-id>/  one staged repository handed to replication: its
 *              artifact files, named by sha256 hex, and manifest.json
 *              {repo_id, system_version, archive_sha256, artifacts:
 *              [{name, version, kind, sha256, length, path}]}, written
 *              atomically (temp, fsync, rename, directory fsync) only after
 *              the database recorded the repository. A repos/ directory
 *              without a manifest is incomplete and purged at start.
 * The replication task reads staged repos with staging_list() and drops
 * them with staging_drop() once replicated. Thread-safe (one mutex).
 */
#ifndef REPLICATOR_STAGING_H
#define REPLICATOR_STAGING_H

#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"

struct err;
struct staging;

struct staging_artifact {
    char *name;
    char *version;
    char *kind;
    struct sha256 sha256;
    uint64_t length;
    char *path;   /* absolute path of the staged file */
};

/* A staged repository (strings owned; staging_repo_release). */
struct staging_repo {
    char repo_id[40];
    char *system_version;
    struct sha256 archive_sha256;
    size_t nartifacts;
    struct staging_artifact *artifacts;
};

void staging_repo_release(struct staging_repo *r);

/*
 * Open dir and its subdirectories, creating them (dir and its missing
 * parents mode 0700), and purge uploads/, incoming/ and incomplete repos.
 * *out owns it (staging_free). Returns 0, ERR_IO ("mkdir PATH: reason"),
 * ERR_INVAL (path too long), ERR_NOMEM. Main thread, before serving.
 */
int staging_open(struct staging **out, const char *dir, struct err *err);

void staging_free(struct staging *st);

/*
 * A new unique path "<dir>/<sub>/<random><suffix>" (sub is "uploads" or
 * "incoming"); nothing is created. *out is mem_free'd by the caller.
 * Returns 0, ERR_IO (no randomness) or ERR_NOMEM. Any thread.
 */
int staging_tmp_path(char **out, struct staging *st, const char *sub,
                     const char *suffix, struct err *err);

/*
 * Hand a recorded repository to replication: move incoming_dir (holding
 * one file per artifact named by sha256 hex) to repos/<repo_id> (an older
 * staged copy of the same repo is replaced), then write its manifest
 * atomically. The paths in m are ignored and set from the new location.
 * Returns 0, ERR_IO, ERR_NOMEM. Worker thread (blocks on fsync).
 */
int staging_commit(struct staging *st, const struct staging_repo *m,
                   const char *incoming_dir, struct err *err);

/*
 * Every staged repository with a valid manifest, ordered by repo id.
 * *out is an array of *count entries (staging_list_free). Returns 0,
 * ERR_IO, ERR_NOMEM. Any thread.
 */
int staging_list(struct staging_repo **out, size_t *count, struct staging *st,
                 struct err *err);

void staging_list_free(struct staging_repo *repos, size_t count);

/*
 * Remove a staged repository (manifest first, so a crash half-way leaves
 * an incomplete directory that the next start purges). Returns 0,
 * ERR_NOTFOUND, ERR_INVAL (bad id), ERR_IO. Any thread.
 */
int staging_drop(struct staging *st, const char *repo_id, struct err *err);

/* Remove path and everything below it (best effort). Any thread. */
void staging_rmrf(const char *path);

#endif
