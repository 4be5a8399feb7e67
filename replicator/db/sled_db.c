/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sled_db: registered sleds (table sled). Agents re-register every 30 s,
 * so upsert is one statement; an expunged sled stays expunged.
 * Worker thread; see db.h.
 */
#include "replicator/db/sled_db.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/limits.h"
#include "common/mem.h"
#include "replicator/db/db_internal.h"

static const char SQL_UPSERT[] =
    "INSERT INTO sled (id, api_address, repo_depot_port) VALUES ($1, $2, $3)"
    " ON CONFLICT (id) DO UPDATE SET api_address = excluded.api_address,"
    " repo_depot_port = excluded.repo_depot_port, time_seen = now()"
    " WHERE sled.time_expunged IS NULL";

static const char SQL_LIST[] =
    "SELECT id, api_address, repo_depot_port,"
    " floor(extract(epoch FROM time_registered))::INT8,"
    " floor(extract(epoch FROM time_seen))::INT8"
    " FROM sled WHERE time_expunged IS NULL ORDER BY id";

static const char SQL_EXPUNGE[] =
    "UPDATE sled SET time_expunged = coalesce(time_expunged, now())"
    " WHERE id = $1";

void sled_db_list_release(struct sled_db_list *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->count; i++)
        mem_free(l->sleds[i].api_address);
    mem_free(l->sleds);
    l->sleds = NULL;
    l->count = 0;
}

int sled_db_upsert(struct db *db, const struct sled_db_sled *s,
                   struct err *err)
{
    char port[DB_INT_STR];
    const char *params[3] = {s->id, s->api_address, port};
    PGresult *res = NULL;
    int rc = 0;

    if (!db_uuid_valid(s->id)) {
        rc = err_set(err, ERR_INVAL, "sled id %s is not a UUID", s->id);
        goto out;
    }
    if (!s->api_address || !*s->api_address || s->repo_depot_port == 0) {
        rc = err_set(err, ERR_INVAL, "sled %s needs an API address and a "
                     "depot port in 1..65535", s->id);
        goto out;
    }
    db_i64_str(port, s->repo_depot_port);
    rc = db_exec(&res, db, "register sled", SQL_UPSERT, 3, params, err);
    if (rc == 0 && strcmp(PQcmdTuples(res), "0") == 0)
        rc = err_set(err, ERR_CONFLICT, "sled %s is expunged", s->id);
out:
    PQclear(res);
    return rc;
}

/* A db_row_fn: one row of SQL_LIST into a sled_db_sled. */
static int decode_sled(void *elem, const PGresult *res, int row,
                       struct err *err)
{
    struct sled_db_sled *s = elem;
    int64_t port = 0;
    int rc = db_col_uuid(s->id, res, row, 0, err);

    if (rc == 0)
        rc = db_col_strdup(&s->api_address, res, row, 1, err);
    if (rc == 0)
        rc = db_col_i64(&port, res, row, 2, err);
    if (rc == 0 && (port < 1 || port > 65535))
        rc = err_set(err, ERR_DB, "sled %s has depot port %lld", s->id,
                     (long long)port);
    s->repo_depot_port = (uint16_t)port;
    if (rc == 0)
        rc = db_col_i64(&s->time_registered, res, row, 3, err);
    if (rc == 0)
        rc = db_col_i64(&s->time_seen, res, row, 4, err);
    return rc;
}

int sled_db_list(struct sled_db_list *out, struct db *db, struct err *err)
{
    PGresult *res = NULL;
    void *rows = NULL;
    int rc;

    out->count = 0;
    out->sleds = NULL;
    rc = db_exec(&res, db, "list sleds", SQL_LIST, 0, NULL, err);
    if (rc < 0 || PQntuples(res) == 0)
        goto out;
    if (PQntuples(res) > LIMIT_SLEDS_PER_RACK) {
        rc = err_set(err, ERR_LIMIT, "%d sleds in service (limit %d)",
                     PQntuples(res), LIMIT_SLEDS_PER_RACK);
        goto out;
    }
    rc = db_rows_decode(&rows, &out->count, res, sizeof(*out->sleds),
                        decode_sled, err);
    out->sleds = rows;
out:
    PQclear(res);
    if (rc < 0)
        sled_db_list_release(out);
    return rc;
}

int sled_db_expunge(struct db *db, const char *id, struct err *err)
{
    return db_exec_on_id(db, "sled", "expunge sled", SQL_EXPUNGE, id, err);
}
