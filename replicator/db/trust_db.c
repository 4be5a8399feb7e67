/* SPDX-License-Identifier: MPL-2.0 */
/*
 * trust_db: TUF trust roots (tuf_trust_root). Removal is a soft delete
 * (time_deleted) so what an upload was verified against stays on record.
 * Worker thread; see db.h.
 */
#include "replicator/db/trust_db.h"

#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "replicator/db/db_internal.h"

static const char SQL_ADD[] =
    "INSERT INTO tuf_trust_root (id, root_json) VALUES (gen_random_uuid(), $1)"
    " RETURNING id";

static const char SQL_LIST[] =
    "SELECT id, root_json, floor(extract(epoch FROM time_created))::INT8"
    " FROM tuf_trust_root WHERE time_deleted IS NULL"
    " ORDER BY time_created, id";

static const char SQL_REMOVE[] =
    "UPDATE tuf_trust_root SET time_deleted = now()"
    " WHERE id = $1 AND time_deleted IS NULL";

void trust_db_list_release(struct trust_db_list *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->count; i++)
        mem_free(l->roots[i].root_json);
    mem_free(l->roots);
    l->roots = NULL;
    l->count = 0;
}

int trust_db_add(char out[DB_UUID_STR], struct db *db, const char *root_json,
                 struct err *err)
{
    PGresult *res = NULL;
    int rc = 0;

    out[0] = '\0';
    if (!root_json || !*root_json) {
        rc = err_set(err, ERR_INVAL, "empty trust root");
        goto out;
    }
    rc = db_exec(&res, db, "add trust root", SQL_ADD, 1, &root_json, err);
    if (rc == 0)
        rc = db_col_uuid(out, res, 0, 0, err);
out:
    PQclear(res);
    return rc;
}

/* A db_row_fn: one row of SQL_LIST into a trust_db_root. */
static int decode_root(void *elem, const PGresult *res, int row,
                       struct err *err)
{
    struct trust_db_root *r = elem;
    int rc = db_col_uuid(r->id, res, row, 0, err);

    if (rc == 0)
        rc = db_col_strdup(&r->root_json, res, row, 1, err);
    if (rc == 0)
        rc = db_col_i64(&r->time_created, res, row, 2, err);
    return rc;
}

int trust_db_list(struct trust_db_list *out, struct db *db, struct err *err)
{
    PGresult *res = NULL;
    void *rows = NULL;
    int rc;

    out->count = 0;
    out->roots = NULL;
    rc = db_exec(&res, db, "list trust roots", SQL_LIST, 0, NULL, err);
    if (rc == 0) {
        rc = db_rows_decode(&rows, &out->count, res, sizeof(*out->roots),
                            decode_root, err);
        out->roots = rows;
    }
    PQclear(res);
    if (rc < 0)
        trust_db_list_release(out);
    return rc;
}

int trust_db_remove(struct db *db, const char *id, struct err *err)
{
    return db_exec_on_id(db, "trust root", "remove trust root", SQL_REMOVE,
                         id, err);
}
