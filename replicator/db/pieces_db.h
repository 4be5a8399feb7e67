/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pieces_db: the piece manifests recorded with the artifacts (schema 4,
 * columns piece_size, pieces_sha256 and pieces_manifest of tuf_artifact;
 * written by repo_db_insert). Worker thread; see db.h.
 */
#ifndef REPLICATOR_DB_PIECES_DB_H
#define REPLICATOR_DB_PIECES_DB_H

#include <stddef.h>

#include "common/sha256.h"

struct db;
struct err;

/*
 * The piece manifest recorded for artifact h: *out (mem_free it) gets the
 * canonical document, NUL-terminated after *len bytes, exactly as stored,
 * and *id (may be NULL) its manifest hash. The document is checked
 * against the recorded hash. Errors: ERR_NOTFOUND (no artifact h, or one
 * recorded before schema 4 without a manifest: err says which),
 * ERR_INTERNAL (the document does not hash to the recorded hash), ERR_DB,
 * ERR_NOMEM.
 */
int pieces_db_get(char **out, size_t *len, struct sha256 *id, struct db *db,
                  const struct sha256 *h, struct err *err);

#endif
