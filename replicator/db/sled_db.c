/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sled_db: registered sleds (table sled). Agents re-register every 30 s,
 * so upsert is one statement; an expunged sled stays expunged; a new id
 * is refused once the in-service sleds reach the registry cap (a
 * refresh of a registered id never is), so a flood of registrations
 * cannot grow the table past what list, the task and expunge handle.
 * Worker thread; see db.h.
 */
#include "replicator/db/sled_db.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/limits.h"
#include "common/mem.h"
#include "replicator/db/db_internal.h"

/* A new id only while fewer than $4 sleds are in service. */
static const char SQL_UPSERT[] =
    "INSERT INTO sled (id, api_address, repo_depot_port)"
    " SELECT $1::UUID, $2, $3::INT4"
    " WHERE EXISTS (SELECT 1 FROM sled WHERE id = $1::UUID)"
    " OR (SELECT count(*) FROM sled WHERE time_expunged IS NULL) < $4::INT8"
    " ON CONFLICT (id) DO UPDATE SET api_address = excluded.api_address,"
    " repo_depot_port = excluded.repo_depot_port, time_seen = now()"
    " WHERE sled.time_expunged IS NULL";

static const char SQL_LIST[] =
    "SELECT id, api_address, repo_depot_port,"
    " floor(extract(epoch FROM time_registered))::INT8,"
    " floor(extract(epoch FROM time_seen))::INT8"
    " FROM sled WHERE time_expunged IS NULL ORDER BY id LIMIT $1::INT8";

static const char SQL_GET[] =
    "SELECT api_address, repo_depot_port, time_expunged IS NOT NULL"
    " FROM sled WHERE id = $1::UUID";

static const char SQL_COUNT[] =
    "SELECT count(*) FROM sled WHERE time_expunged IS NULL";

/* The registry cap; 0: LIMIT_SLEDS_PER_RACK (tests lower it). */
static atomic_uint registry_cap;

void sled_db__set_cap(unsigned cap)
{
    atomic_store(&registry_cap, cap);
}

unsigned sled_db_cap(void)
{
    unsigned cap = atomic_load(&registry_cap);

    return cap && cap < LIMIT_SLEDS_PER_RACK ? cap : LIMIT_SLEDS_PER_RACK;
}

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

int sled_db_get(struct sled_db_sled *out, bool *expunged, struct db *db,
                const char *id, struct err *err)
{
    const char *params[1] = {id};
    PGresult *res = NULL;
    int64_t port = 0;
    int rc = 0;

    out->api_address = NULL;
    if (!db_uuid_valid(id))
        return err_set(err, ERR_INVAL, "sled id %s is not a UUID", id);
    snprintf(out->id, sizeof(out->id), "%s", id);
    rc = db_exec(&res, db, "get sled", SQL_GET, 1, params, err);
    if (rc == 0 && PQntuples(res) == 0)
        rc = err_set(err, ERR_NOTFOUND, "no sled %s", id);
    if (rc == 0)
        rc = db_col_strdup(&out->api_address, res, 0, 0, err);
    if (rc == 0)
        rc = db_col_i64(&port, res, 0, 1, err);
    out->repo_depot_port = port > 0 && port <= 65535 ? (uint16_t)port : 0;
    if (rc == 0)
        *expunged = PQgetvalue(res, 0, 2)[0] == 't';
    PQclear(res);
    if (rc < 0) {
        mem_free(out->api_address);
        out->api_address = NULL;
    }
    return rc;
}

/* Why an upsert changed no row: the id is expunged, or the registry is
 * full. Always returns a negative code. */
static int upsert_refused(struct db *db, const struct sled_db_sled *s,
                          struct err *err)
{
    PGresult *res = NULL;
    struct sled_db_sled cur;
    bool expunged = false;
    int rc = sled_db_get(&cur, &expunged, db, s->id, err);

    mem_free(cur.api_address);
    if (rc == 0 && expunged)
        return err_set(err, ERR_CONFLICT, "sled %s is expunged", s->id);
    if (rc == 0)
        return err_set(err, ERR_INTERNAL, "sled %s: upsert changed nothing",
                       s->id);
    if (rc != ERR_NOTFOUND)
        return rc;
    rc = db_exec(&res, db, "count sleds", SQL_COUNT, 0, NULL, err);
    if (rc == 0)
        rc = err_set_coded(err, ERR_NOSPACE, "SLED_REGISTRY_FULL",
                           "sled registry is full (%s sleds in service, "
                           "limit %u): expunge one first",
                           PQgetvalue(res, 0, 0), sled_db_cap());
    PQclear(res);
    return rc;
}

int sled_db_upsert(struct db *db, const struct sled_db_sled *s,
                   struct err *err)
{
    char port[DB_INT_STR], cap[DB_INT_STR];
    const char *params[4] = {s->id, s->api_address, port, cap};
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
    db_i64_str(cap, sled_db_cap());
    rc = db_exec(&res, db, "register sled", SQL_UPSERT, 4, params, err);
    if (rc == 0 && strcmp(PQcmdTuples(res), "0") == 0)
        rc = upsert_refused(db, s, err);
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
    char limit[DB_INT_STR];
    const char *params[1] = {limit};
    PGresult *res = NULL;
    void *rows = NULL;
    int rc;

    out->count = 0;
    out->sleds = NULL;
    out->truncated = false;
    /* One row past the hard limit tells "more" from "exactly full". */
    db_i64_str(limit, LIMIT_SLEDS_PER_RACK + 1);
    rc = db_exec(&res, db, "list sleds", SQL_LIST, 1, params, err);
    if (rc < 0 || PQntuples(res) == 0)
        goto out;
    rc = db_rows_decode(&rows, &out->count, res, sizeof(*out->sleds),
                        decode_sled, err);
    out->sleds = rows;
    if (rc == 0 && out->count > LIMIT_SLEDS_PER_RACK) {
        /* Only rows written around the cap (SQL, a race of two
         * replicators) get here: list the first ones, never fail. */
        mem_free(out->sleds[LIMIT_SLEDS_PER_RACK].api_address);
        out->count = LIMIT_SLEDS_PER_RACK;
        out->truncated = true;
    }
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
