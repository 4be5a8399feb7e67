/* SPDX-License-Identifier: MPL-2.0 */
/* pieces_db: piece manifests of recorded artifacts (see pieces_db.h). */
#include "replicator/db/pieces_db.h"

#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "replicator/db/db.h"
#include "replicator/db/db_internal.h"

static const char SQL_GET[] =
    "SELECT pieces_manifest, pieces_sha256 FROM tuf_artifact"
    " WHERE sha256 = $1";

int pieces_db_get(char **out, size_t *len, struct sha256 *id, struct db *db,
                  const struct sha256 *h, struct err *err)
{
    char hex[SHA256_HEX_LEN + 1];
    const char *param = hex;
    struct sha256 want, got;
    PGresult *res = NULL;
    char *doc = NULL;
    int rc;

    *out = NULL;
    *len = 0;
    sha256_to_hex(hex, h);
    rc = db_exec(&res, db, "read piece manifest", SQL_GET, 1, &param, err);
    if (rc < 0)
        goto out;
    if (PQntuples(res) != 1) {
        rc = err_set(err, ERR_NOTFOUND, "no artifact %s", hex);
        goto out;
    }
    if (PQgetisnull(res, 0, 0)) {
        rc = err_set(err, ERR_NOTFOUND, "artifact %s has no piece manifest "
                     "(recorded before schema 4: upload its repository "
                     "again)", hex);
        goto out;
    }
    rc = db_col_sha256(&want, res, 0, 1, err);
    if (rc == 0)
        rc = db_col_strdup(&doc, res, 0, 0, err);
    if (rc < 0)
        goto out;
    if (sha256_digest(&got, doc, strlen(doc)) < 0 || !sha256_eq(&got, &want)) {
        rc = err_set(err, ERR_INTERNAL, "the piece manifest of %s does not "
                     "match its recorded hash", hex);
        goto out;
    }
    *len = strlen(doc);
    *out = doc;
    doc = NULL;
    if (id)
        *id = want;
out:
    mem_free(doc);
    PQclear(res);
    return rc;
}
