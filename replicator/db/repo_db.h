/* SPDX-License-Identifier: MPL-2.0 */
/*
 * repo_db: TUF repositories and their artifacts in the database (tables
 * tuf_repo, tuf_artifact, tuf_repo_artifact): insert (one SERIALIZABLE
 * transaction with artifact dedup by sha256 and a compare-and-swap
 * generation bump whenever the wanted set changes), list, get, prune,
 * mark failed. The wanted set is the union of the artifacts of unpruned
 * repos (failed repos are still wanted). Worker thread; see db.h.
 */
#ifndef REPLICATOR_DB_REPO_DB_H
#define REPLICATOR_DB_REPO_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"
#include "replicator/db/db.h"

struct err;

/* One artifact of a repository (plain value; strings borrowed from the
 * caller on insert, owned by the enclosing repo_db_repo on get). */
struct repo_db_artifact {
    char id[DB_UUID_STR];      /* set by get; ignored by insert */
    struct sha256 sha256;
    uint64_t length;           /* > 0, at most INT64_MAX */
    const char *name;
    const char *version;
    const char *kind;
    const char *tags_json;     /* a JSON object as text; NULL means "{}" */
    /* Its piece manifest (common/pieces.h), insert only: the canonical
     * document, NULL when none, with its hash and piece size. An artifact
     * row recorded without one gets it from the next insert that has it;
     * one recorded with one keeps it (the manifest hash of an artifact
     * never changes). */
    const char *pieces_manifest;
    struct sha256 pieces_sha256;
    uint32_t piece_size;
};

/* What to insert (all borrowed). */
struct repo_db_new {
    const char *system_version;
    struct sha256 archive_sha256; /* sha256 of the uploaded zip */
    const char *file_name;
    int64_t valid_until;          /* unix seconds (UTC) */
    uint64_t targets_role_version;
    size_t nartifacts;            /* at most LIMIT_ARTIFACTS_PER_REPO */
    const struct repo_db_artifact *artifacts;
};

/* Outcome of repo_db_insert (plain value). */
struct repo_db_insert_result {
    char repo_id[DB_UUID_STR];
    uint64_t generation; /* generation after the transaction */
    bool bumped;         /* the transaction bumped the generation */
    bool existed;        /* identical repo was already recorded */
    bool unpruned;       /* it existed pruned and was unpruned */
    size_t new_artifacts; /* artifact rows inserted */
};

/*
 * Record a repository in one transaction (see the file comment). If the
 * system version exists with the same archive sha256 the call is
 * idempotent (existed = true; a pruned repo is unpruned). Errors:
 * ERR_CONFLICT (system version exists with another archive; the archive is
 * recorded under another version; an artifact sha256 is known with another
 * length: each message names the versions or the hash), ERR_INVAL (empty
 * strings, zero or oversized length, tags not a JSON object), ERR_LIMIT
 * (too many artifacts), ERR_DB, ERR_NOMEM.
 */
int repo_db_insert(struct repo_db_insert_result *out, struct db *db,
                   const struct repo_db_new *repo, struct err *err);

/* A repository row (strings owned; free with repo_db_repo_release). */
struct repo_db_repo {
    char id[DB_UUID_STR];
    char *system_version;
    struct sha256 archive_sha256;
    char *file_name;
    int64_t valid_until;      /* unix seconds */
    int64_t time_created;     /* unix seconds */
    uint64_t targets_role_version;
    bool pruned;
    bool pinned;              /* kept by the automatic pruner (prune_db.h) */
    bool failed;
    char *failed_reason;      /* NULL unless failed */
    size_t artifact_count;
    /* repo_db_get only (NULL/0 from repo_db_list); strings owned. */
    size_t nartifacts;
    struct repo_db_artifact *artifacts;
};

/* Free what a repo_db_repo owns (not r itself). */
void repo_db_repo_release(struct repo_db_repo *r);

struct repo_db_list {
    size_t count;
    struct repo_db_repo *repos; /* ordered by system_version */
};

#define REPO_DB_LIST_INIT {0, NULL}

void repo_db_list_release(struct repo_db_list *l);

/*
 * Every repository (pruned ones too), with flags and artifact counts.
 * *out is overwritten; release it with repo_db_list_release. Errors:
 * ERR_DB, ERR_NOMEM.
 */
int repo_db_list(struct repo_db_list *out, struct db *db, struct err *err);

/*
 * The repository with this system version and its artifacts (ordered by
 * sha256). Release *out with repo_db_repo_release. Errors: ERR_NOTFOUND,
 * ERR_DB, ERR_NOMEM.
 */
int repo_db_get(struct repo_db_repo *out, struct db *db,
                const char *system_version, struct err *err);

/*
 * Mark a repository pruned (idempotent) and, in the same transaction, bump
 * the generation iff that removes artifacts from the wanted set. *out
 * (may be NULL) gets the outcome (repo_id, generation, bumped). Errors:
 * ERR_NOTFOUND, ERR_DB, ERR_NOMEM.
 */
int repo_db_prune(struct repo_db_insert_result *out, struct db *db,
                  const char *system_version, struct err *err);

/*
 * The body of repo_db_prune inside a caller's transaction (a db_txn body):
 * the one prune path, shared by an operator's prune and the automatic
 * pruner (prune_db.h). *out is overwritten. Errors as repo_db_prune.
 */
int repo_db_prune_locked(struct repo_db_insert_result *out, struct db *db,
                         const char *system_version, struct err *err);

/*
 * Mark a repository failed with a one-line reason (replaces an earlier
 * reason). Does not change the wanted set. Errors: ERR_NOTFOUND,
 * ERR_INVAL (empty reason), ERR_DB.
 */
int repo_db_mark_failed(struct db *db, const char *system_version,
                        const char *reason, struct err *err);

#endif
