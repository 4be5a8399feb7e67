/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ingest: the repository ingest pipeline for one uploaded zip already on
 * disk: verify it as a TUF repository against the trust roots in the
 * database (tried in order), parse the artifacts document, stream every
 * artifact's target out of the zip into staging/incoming while checking
 * its signed length and hashes, record everything in ONE database
 * transaction (repo_db_insert), and only then hand the staged files to
 * replication (staging_commit writes the manifest). Also the trust-root
 * check used by POST /trust-roots. Worker thread (blocks on disk and
 * database).
 */
#ifndef REPLICATOR_INGEST_H
#define REPLICATOR_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/sha256.h"

struct err;
struct staging;

struct ingest_opts {
    const char *conninfo;        /* database */
    struct staging *staging;     /* borrowed */
    bool blindly_trust_repo_root; /* tests and demo only */
    uint64_t piece_size;         /* piece manifests (common/pieces.h):
                                    0 = PIECES_SIZE_DEFAULT */
};

/*
 * Ingest the zip at zip_path (not removed) whose sha256 is archive and
 * whose client-given name is file_name. On success *out is a new JSON
 * object {system_version, sha256, file_name, valid_until, generation,
 * already_existed, repo_id, artifacts: [{name, version, kind, sha256,
 * length}], repo, status}: repo and status are the reference's
 * TufRepoUpload (ingest_repo_view; status "inserted" or
 * "already_exists"). Nothing is left in staging/incoming on failure. Returns 0;
 * ERR_INVAL or ERR_VERIFY (bad repository contents: err names the failed
 * check; also "no trust roots"); ERR_CONFLICT (database conflict);
 * ERR_DB; ERR_IO; ERR_NOMEM.
 */
/*
 * The reference's view of a repository (omicron's TufRepo): {hash (the
 * archive's sha256), system_version, file_name, time_created (RFC 3339,
 * UTC)}. New object, NULL on ERR_NOMEM. Pure.
 */
json_t *ingest_repo_view(const struct sha256 *archive,
                         const char *system_version, const char *file_name,
                         int64_t time_created);

int ingest_zip(json_t **out, const struct ingest_opts *o, const char *zip_path,
               const struct sha256 *archive, const char *file_name,
               struct err *err);

/*
 * Check that root_json is a TUF root that verifies against its own keys.
 * Returns 0, ERR_INVAL or ERR_VERIFY (err says why), ERR_NOMEM.
 */
int ingest_check_root(const char *root_json, size_t len, struct err *err);

#endif
